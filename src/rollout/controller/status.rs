//! Status: the one status write of a reconcile — server-side apply of the whole decided status
//! on the `status` subresource under [`FIELD_MANAGER`], only when it differs from the stored one.
//!
//! Applying the whole status means a field the decision drops is removed, and `conditions`
//! merge by `type` (a list-map in the CRD). Times are whole seconds (what the API stores), so a
//! decision repeated over an unchanged world compares equal and writes nothing.

use kube::api::{Patch, PatchParams};
use kube::{Api, Client, ResourceExt};
use serde_json::json;

use crate::api::Deployment as DeploymentRecord;
use crate::api::deployment::DeploymentStatus;
use crate::rollout::traffic_apply::FIELD_MANAGER;

/// Why the status write failed.
#[derive(Debug, thiserror::Error)]
#[error("unable to write the status of deployments.slipway.dev {namespace}/{name}: {source}")]
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
    record: &DeploymentRecord,
    status: &DeploymentStatus,
) -> Result<bool, StatusError> {
    if record.status.as_ref() == Some(status) {
        return Ok(false);
    }
    let namespace = record.namespace().unwrap_or_default();
    let name = record.name_any();
    let api: Api<DeploymentRecord> = Api::namespaced(client.clone(), &namespace);
    let patch = json!({
        "apiVersion": "slipway.dev/v1alpha1",
        "kind": "Deployment",
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
