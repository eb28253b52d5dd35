//! Apply: carry out the decided action — create the Job, or delete it — and prune the
//! namespace's history when a build ends. The decided Events go out through
//! [`crate::runtime::events::EventPublisher`].
//!
//! - **Create** is idempotent through the Job's deterministic name: a 409 means a Job with that
//!   name appeared since observe; it is read back and used only when its controller owner is
//!   this BuildRun (a foreign one is reported by the next reconcile).
//! - **Delete** uses foreground propagation with a UID precondition: the Job stays (with a
//!   `deletionTimestamp`) until its pod is gone, so a Job that is gone means no build pod runs,
//!   and a Job recreated under the same name is never deleted by mistake. 404 counts as done.

use k8s_openapi::api::batch::v1::Job;
use kube::api::{DeleteParams, ListParams, PostParams, Preconditions, PropagationPolicy};
use kube::{Api, Client, ResourceExt};

use super::history::history_to_delete;
use super::observe::history_entry;
use crate::api::BuildRun;
use crate::build::job::{JobOptions, RenderError, RenderFacts, render_job};

/// Why applying failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The Job could not be rendered (the BuildRun lacks metadata).
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The API refused or failed a write.
    #[error("unable to {action} for BuildRun {namespace}/{name}: {source}")]
    Write {
        /// What was attempted.
        action: String,
        /// BuildRun namespace.
        namespace: String,
        /// BuildRun name.
        name: String,
        /// The API error.
        source: kube::Error,
    },
}

impl ApplyError {
    fn write(build_run: &BuildRun, action: String) -> impl FnOnce(kube::Error) -> ApplyError {
        let (namespace, name) = (
            build_run.namespace().unwrap_or_default(),
            build_run.name_any(),
        );
        move |source| ApplyError::Write {
            action,
            namespace,
            name,
            source,
        }
    }
}

/// Creates the build Job; returns it (or the one that already had its name, if ours).
///
/// # Errors
/// [`ApplyError`] when rendering or the create fails.
pub async fn create_job(
    client: &Client,
    build_run: &BuildRun,
    options: &JobOptions,
    facts: &RenderFacts,
    field_manager: &str,
) -> Result<Job, ApplyError> {
    let job = render_job(build_run, options, facts)?;
    let name = job.name_any();
    let namespace = build_run.namespace().unwrap_or_default();
    let api: Api<Job> = Api::namespaced(client.clone(), &namespace);
    let params = PostParams {
        field_manager: Some(field_manager.to_owned()),
        ..PostParams::default()
    };
    match api.create(&params, &job).await {
        Ok(created) => Ok(created),
        Err(kube::Error::Api(status)) if status.code == 409 => api.get(&name).await.map_err(
            ApplyError::write(build_run, format!("read back Job {name}")),
        ),
        Err(error) => Err(ApplyError::write(build_run, format!("create Job {name}"))(
            error,
        )),
    }
}

/// Deletes the build Job (foreground, only the Job with `uid`).
///
/// # Errors
/// [`ApplyError`] when the delete fails for another reason than the Job being gone.
pub async fn delete_job(
    client: &Client,
    build_run: &BuildRun,
    name: &str,
    uid: &str,
) -> Result<(), ApplyError> {
    let api: Api<Job> = Api::namespaced(client.clone(), &build_run.namespace().unwrap_or_default());
    let params = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Foreground),
        preconditions: Some(Preconditions {
            uid: Some(uid.to_owned()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match api.delete(name, &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => Ok(()),
        Err(error) => Err(ApplyError::write(build_run, format!("delete Job {name}"))(
            error,
        )),
    }
}

/// Deletes the finished BuildRuns of the namespace beyond the newest `limit`; returns how many.
///
/// # Errors
/// [`ApplyError`] when the list fails; single deletes that fail are logged and skipped.
pub async fn prune_history(
    client: &Client,
    build_run: &BuildRun,
    limit: usize,
) -> Result<usize, ApplyError> {
    if limit == 0 {
        return Ok(0);
    }
    let api: Api<BuildRun> =
        Api::namespaced(client.clone(), &build_run.namespace().unwrap_or_default());
    let listed = api
        .list(&ListParams::default())
        .await
        .map_err(ApplyError::write(
            build_run,
            "list BuildRuns for the history".into(),
        ))?;
    let entries: Vec<_> = listed.items.iter().map(history_entry).collect();
    let doomed = history_to_delete(&entries, limit);
    for name in &doomed {
        if let Err(error) = api.delete(name, &DeleteParams::background()).await {
            tracing::warn!(%error, build_run = %name, "unable to delete an old BuildRun");
        }
    }
    Ok(doomed.len())
}
