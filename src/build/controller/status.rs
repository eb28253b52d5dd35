//! Status: the one status write of a reconcile — server-side apply of the whole computed status
//! on the `status` subresource under the fixed field manager [`FIELD_MANAGER`], only when it
//! differs from the stored one.
//!
//! Applying the whole status (not a merge patch) means a field the controller stops setting is
//! removed, and `conditions` merge by `type` (the CRD marks them a list-map).

use kube::api::{Patch, PatchParams};
use kube::{Api, Client, ResourceExt};
use serde_json::json;

use crate::api::{BuildRun, BuildRunStatus};

/// The field manager of every write the BuildRun controller makes.
pub const FIELD_MANAGER: &str = "slipway-controller";

/// Why the status write failed.
#[derive(Debug, thiserror::Error)]
#[error("unable to write the status of BuildRun {namespace}/{name}: {source}")]
pub struct StatusError {
    namespace: String,
    name: String,
    source: kube::Error,
}

/// Writes `status` when it differs from the stored one; returns whether it wrote.
///
/// # Errors
/// [`StatusError`] when the API refuses the write.
pub async fn write_status(
    client: &Client,
    build_run: &BuildRun,
    status: &BuildRunStatus,
) -> Result<bool, StatusError> {
    if build_run.status.as_ref() == Some(status) {
        return Ok(false);
    }
    let namespace = build_run.namespace().unwrap_or_default();
    let name = build_run.name_any();
    let api: Api<BuildRun> = Api::namespaced(client.clone(), &namespace);
    let patch = json!({
        "apiVersion": "slipway.dev/v1alpha1",
        "kind": "BuildRun",
        "status": status,
    });
    api.patch_status(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map_err(|source| StatusError {
        namespace,
        name,
        source,
    })?;
    Ok(true)
}
