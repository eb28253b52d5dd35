//! A `deploy` action's `deployments.slipway.dev` record: the action's template, variables
//! substituted (its images usually come from a build's `#{…IMAGE_<NAME>_URI}`).
//!
//! The record is owned by the execution; deleting it never takes production down (the rollout
//! controller's own guarantee), so the execution's garbage collection is safe.

use crate::api::deployment::{Deployment, DeploymentSpec, DeploymentStop, DeploymentTemplate};

use super::{ChildOwner, child_metadata};

/// The record of a deploy action.
pub fn render_deployment(
    owner: &ChildOwner,
    name: &str,
    template: DeploymentTemplate,
) -> Deployment {
    let mut record = Deployment::new(
        name,
        DeploymentSpec {
            template,
            control: Default::default(),
        },
    );
    record.metadata = child_metadata(owner, name);
    record
}

/// The stop an abandoned or timed-out deploy action asks of its rollout: traffic back to the
/// stable revision, because a half-shifted rollout left alone serves two revisions indefinitely.
pub fn abandon_stop(reason: &str) -> DeploymentStop {
    DeploymentStop {
        rollback: true,
        reason: Some(reason.chars().take(200).collect()),
    }
}
