//! The one write path of the plugin's requests (`deploy promote`, `approve`, `retry`, `stop`,
//! `transitions …`): read the object, decide the change from it (pure, in each command's
//! `request` module), patch with field manager `kubectl-slipway` and a precondition on the read
//! `resourceVersion`, and read and decide again when the object changed in between.
//!
//! # Guarantees
//! - A patch never lands on an object other than the one it was decided from: a merge patch
//!   carries the read `metadata.resourceVersion` (a changed object answers 409), a JSON patch
//!   starts with a `test` of it (a changed object fails the test, which the API server answers
//!   with 422).
//! - At most [`CONFLICT_REREADS`] re-reads; an object that keeps changing is reported, not
//!   retried forever.
//! - A 422 that is not a failed `test` (the object did not change) is reported as the server
//!   said it, not retried.

use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
use kube::api::{Patch, PatchParams};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::cluster::{Connection, explain};

/// The field manager of the commands' writes, so `managedFields` shows who asked.
pub const FIELD_MANAGER: &str = "kubectl-slipway";

/// Re-reads of an object that changed between read and write before the command gives up.
pub const CONFLICT_REREADS: usize = 3;

/// What a request writes, decided from the object as read.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Write `patch`, then report `summary`.
    Patch {
        /// The patch, without its precondition (the write path adds it).
        patch: PatchBody,
        /// One line saying what happens next.
        summary: String,
    },
    /// The object already carries the request; nothing to write.
    Unchanged(String),
}

/// A patch body, before the write path guards it with the read `resourceVersion`.
#[derive(Clone, Debug, PartialEq)]
pub enum PatchBody {
    /// A JSON merge patch (RFC 7386): for fields inside maps, such as `spec.control`.
    Merge(Value),
    /// JSON patch operations (RFC 6902): for one item of an atomic list, such as a Pipeline's
    /// `spec.stages`, which a merge patch could only replace whole.
    Json(Value),
}

/// How messages name a kind, and where the user lists its objects.
#[derive(Clone, Copy, Debug)]
pub struct Kind {
    /// The kind as messages name it: `Pipeline`, `deployments.slipway.dev`.
    pub label: &'static str,
    /// The resource as the cluster serves it, for the missing-CRD message.
    pub resource: &'static str,
    /// The command that lists the kind's objects, without `-n NAMESPACE`.
    pub list_command: &'static str,
}

/// `body` guarded by `resource_version`, as the API is sent it.
///
/// # Errors
/// When JSON patch operations are malformed (a bug in the deciding code).
pub fn guarded(body: &PatchBody, resource_version: &str) -> anyhow::Result<Patch<Value>> {
    match body {
        PatchBody::Merge(patch) => {
            let mut patch = patch.clone();
            patch["metadata"]["resourceVersion"] = json!(resource_version);
            Ok(Patch::Merge(patch))
        }
        PatchBody::Json(operations) => {
            let mut guarded = vec![json!({
                "op": "test", "path": "/metadata/resourceVersion", "value": resource_version
            })];
            guarded.extend(operations.as_array().into_iter().flatten().cloned());
            let operations = serde_json::from_value(Value::Array(guarded))
                .map_err(|error| anyhow::anyhow!("failed to build the JSON patch: {error}"))?;
            Ok(Patch::Json(operations))
        }
    }
}

/// Reads object `name`, decides the change and writes it, deciding again (up to
/// [`CONFLICT_REREADS`] times) when the object changed in between; returns the line to print.
///
/// # Errors
/// When the object cannot be read, `decide` refuses, the object keeps changing, or the API
/// refuses the patch.
pub async fn read_decide_write<K>(
    connection: &Connection,
    kind: &Kind,
    name: &str,
    mut decide: impl AsyncFnMut(&K) -> anyhow::Result<Change>,
) -> anyhow::Result<String>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
{
    let api: Api<K> = Api::namespaced(connection.client.clone(), &connection.namespace);
    let parameters = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    };
    let mut rereads = 0;
    // A 422 answer to a JSON patch, and the version it was decided from: unless the object has
    // moved on since, no `test` failed and the server's refusal stands.
    let mut refused: Option<(String, kube::Error)> = None;
    loop {
        let object: K = get(connection, kind, name).await?;
        let version = object.meta().resource_version.clone().unwrap_or_default();
        if let Some((decided_at, error)) = refused.take()
            && decided_at == version
        {
            return Err(api_error(error, connection, kind, name));
        }
        if rereads > CONFLICT_REREADS {
            return Err(kept_changing(kind, name));
        }
        let (body, summary) = match decide(&object).await? {
            Change::Unchanged(message) => return Ok(message),
            Change::Patch { patch, summary } => (patch, summary),
        };
        let error = match api
            .patch(name, &parameters, &guarded(&body, &version)?)
            .await
        {
            Ok(_) => return Ok(summary),
            Err(error) => error,
        };
        let code = match &error {
            kube::Error::Api(status) => status.code,
            _ => 0,
        };
        if code == 422 && matches!(body, PatchBody::Json(_)) {
            // One more read tells a failed `test` from a refused change, even after the last
            // write; only a changed object is decided again.
            refused = Some((version, error));
        } else if code != 409 {
            return Err(api_error(error, connection, kind, name));
        } else if rereads == CONFLICT_REREADS {
            return Err(kept_changing(kind, name));
        }
        rereads += 1;
    }
}

fn kept_changing(kind: &Kind, name: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "unable to write {} {name}: it changed between read and write {} times in a row \
         (another client is writing it); try again",
        kind.label,
        CONFLICT_REREADS + 1
    )
}

/// Reads one object, with errors that name it and its namespace.
///
/// # Errors
/// When the object does not exist (naming where to list them), the CRD is not served, or the
/// cluster cannot be reached.
pub async fn get<K>(connection: &Connection, kind: &Kind, name: &str) -> anyhow::Result<K>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
{
    let api: Api<K> = Api::namespaced(connection.client.clone(), &connection.namespace);
    api.get(name)
        .await
        .map_err(|error| api_error(error, connection, kind, name))
}

/// A kube error on object `name`: a missing object is named with its namespace and where to list
/// them, a missing CRD with the command that installs it.
pub fn api_error(
    error: kube::Error,
    connection: &Connection,
    kind: &Kind,
    name: &str,
) -> anyhow::Error {
    let namespace = &connection.namespace;
    match &error {
        kube::Error::Api(status) if status.code == 404 => {
            let names_the_object = status
                .details
                .as_ref()
                .is_some_and(|details| details.name == name);
            if names_the_object {
                anyhow::anyhow!(
                    "{} {name:?} not found in namespace {namespace:?}: check the name and \
                     namespace (-n) with `{} -n {namespace}`",
                    kind.label,
                    kind.list_command
                )
            } else {
                not_served(connection, kind)
            }
        }
        _ => explain(error, &connection.server),
    }
}

/// The cluster does not serve `kind`.
pub fn not_served(connection: &Connection, kind: &Kind) -> anyhow::Error {
    anyhow::anyhow!(
        "the cluster at {} does not serve {}: install the CRDs with \
         `kubectl apply --server-side -f crds/`",
        connection.server,
        kind.resource
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_patch_carries_the_read_resource_version() {
        let body = PatchBody::Merge(json!({"spec": {"control": {"stop": {"abandon": false}}}}));
        let Patch::Merge(patch) = guarded(&body, "42").unwrap() else {
            panic!("a merge patch")
        };
        assert_eq!(
            patch,
            json!({"metadata": {"resourceVersion": "42"},
                   "spec": {"control": {"stop": {"abandon": false}}}})
        );
    }

    #[test]
    fn a_json_patch_first_tests_the_read_resource_version() {
        let body = PatchBody::Json(json!([
            {"op": "test", "path": "/spec/stages/1/name", "value": "Deploy"},
            {"op": "add", "path": "/spec/stages/1/transition", "value": {"enabled": true}}
        ]));
        let Patch::Json(patch) = guarded(&body, "42").unwrap() else {
            panic!("a JSON patch")
        };
        assert_eq!(
            serde_json::to_value(patch).unwrap(),
            json!([
                {"op": "test", "path": "/metadata/resourceVersion", "value": "42"},
                {"op": "test", "path": "/spec/stages/1/name", "value": "Deploy"},
                {"op": "add", "path": "/spec/stages/1/transition", "value": {"enabled": true}}
            ])
        );
    }
}
