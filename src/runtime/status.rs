//! The one status write of a reconcile, shared by every controller: server-side apply of the
//! whole computed status on the `status` subresource under [`FIELD_MANAGER`], only when it
//! differs from the stored one.
//!
//! Applying the whole status (not a merge patch) means a field the controller stops setting is
//! removed, and `conditions` merge by `type` (the CRDs mark them a list-map). Times are whole
//! seconds (what the API stores), so a decision repeated over an unchanged world compares equal
//! and writes nothing — no self-triggered reconcile loops.

use std::fmt::Debug;

use kube::api::{Patch, PatchParams};
use kube::core::NamespaceResourceScope;
use kube::{Api, Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

/// The field manager of every write Slipway's controllers make.
pub const FIELD_MANAGER: &str = "slipway-controller";

/// Why the status write failed.
#[derive(Debug, thiserror::Error)]
#[error("unable to write the status of {resource} {namespace}/{name}: {source}")]
pub struct StatusError {
    resource: String,
    namespace: String,
    name: String,
    source: kube::Error,
}

impl StatusError {
    /// The API's error.
    pub fn api_error(&self) -> &kube::Error {
        &self.source
    }

    /// Whether the object changed since it was read (409).
    pub fn is_conflict(&self) -> bool {
        matches!(&self.source, kube::Error::Api(status) if status.code == 409)
    }

    /// Whether retrying can help (see [`super::error_policy::classify_kube`]).
    pub fn class(&self) -> super::error_policy::ErrorClass {
        super::error_policy::classify_kube(&self.source)
    }

    /// What a user can do about it when it is permanent.
    pub fn remedy(&self) -> &'static str {
        super::error_policy::remedy_for_kube(&self.source)
    }
}

/// Leaves a status field another writer owns out of this controller's apply: clears it in
/// `status` and returns `stored` with it cleared too, to compare against. A field this field
/// manager never applies stays the other writer's under server-side apply, so neither undoes the
/// other (the receiver's `recentDeliveries`, the notifier's `notifications`).
pub fn leave_out<S: Clone>(
    stored: Option<&S>,
    status: &mut S,
    clear: impl Fn(&mut S),
) -> Option<S> {
    clear(status);
    stored.cloned().map(|mut stored| {
        clear(&mut stored);
        stored
    })
}

/// Writes `status` on `object` when it differs from `stored`; returns whether it wrote.
///
/// # Errors
/// [`StatusError`] when the API refuses the write.
pub async fn write_status<K, S>(
    client: &Client,
    object: &K,
    stored: Option<&S>,
    status: &S,
) -> Result<bool, StatusError>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + Debug
        + DeserializeOwned,
    S: Serialize + PartialEq,
{
    write(client, object, stored, status, false).await
}

/// As [`write_status`], but only over the object's `resourceVersion`: a status computed from a
/// stale copy answers 409 instead of undoing a newer fact (a consumed retry request, a stage
/// entered), and the caller observes again.
///
/// # Errors
/// [`StatusError`] when the API refuses the write; [`StatusError::is_conflict`] for a stale copy.
pub async fn write_status_at<K, S>(
    client: &Client,
    object: &K,
    stored: Option<&S>,
    status: &S,
) -> Result<bool, StatusError>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + Debug
        + DeserializeOwned,
    S: Serialize + PartialEq,
{
    write(client, object, stored, status, true).await
}

async fn write<K, S>(
    client: &Client,
    object: &K,
    stored: Option<&S>,
    status: &S,
    at_version: bool,
) -> Result<bool, StatusError>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + Debug
        + DeserializeOwned,
    S: Serialize + PartialEq,
{
    if stored == Some(status) {
        return Ok(false);
    }
    let namespace = object.namespace().unwrap_or_default();
    let name = object.name_any();
    let api: Api<K> = Api::namespaced(client.clone(), &namespace);
    let mut patch = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    if at_version && let Some(version) = object.resource_version() {
        patch["metadata"] = json!({ "resourceVersion": version });
    }
    api.patch_status(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map_err(|source| StatusError {
        resource: format!("{}.{}", K::plural(&()), K::group(&())),
        namespace,
        name,
        source,
    })?;
    Ok(true)
}

/// `time` rounded down to whole seconds: what the API stores, so a recomputed status compares equal.
pub fn whole_seconds(time: k8s_openapi::jiff::Timestamp) -> k8s_openapi::jiff::Timestamp {
    k8s_openapi::jiff::Timestamp::from_second(time.as_second()).unwrap_or(time)
}
