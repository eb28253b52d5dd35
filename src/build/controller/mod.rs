//! The BuildRun controller: runs each BuildRun as one Job and turns the Job, its pod and the
//! executor's result into the BuildRun's status.
//!
//! # Steps (one reconcile)
//! 1. **observe** ([`observe`]): the Job (deterministic name, matched by owner UID), its pod, the
//!    referenced Secrets/ConfigMaps (before the Job exists), the build number.
//! 2. **decide** ([`decide`], pure): one [`decide::Action`] (create the Job, delete it, nothing),
//!    the new status, the Events of the transition, when to look again.
//! 3. **apply** ([`apply`]): create or delete the Job, prune the history when
//!    the build ended. After a create, decide runs once more over the created Job, so the status
//!    written already names it and its timestamps.
//! 4. **status** ([`crate::runtime::write_status`]): one server-side apply of the status, only
//!    when it changed; then the decided Events ([`crate::runtime::events::EventPublisher`]).
//!
//! Watches: BuildRuns; Jobs and pods labelled `slipway.dev/buildrun-uid` (Jobs map to their
//! owner, pods through the `slipway.dev/buildrun` annotation). Every watched type is read through
//! `DeserializeGuard`, so one malformed object is logged and skipped. Each watch is polled in a
//! task of its own that ends on the stop signal ([`forwarded`]), so a controller stopped before
//! its first list still ends. Only the leader acts: a standby requeues without reading or
//! writing.
//!
//! # Errors
//! Each step has its own error enum; [`Error`]'s [`ReconcileError::category`] names it for logs,
//! Events and the `slipway_build_reconcile_errors_total` metric. Invalid input the decision
//! knows never reaches the error path: an invalid inline buildspec or a missing Secret is a
//! status (FAILED, or `Stalled=True` naming the object) with a Warning Event, decided like any
//! other state. What reaches it goes through [`ErrorPolicy`]: transient API errors are retried
//! with exponential back-off and jitter; permanent ones (403, 400, 422, a BuildRun that cannot
//! be rendered) are reported on the BuildRun ([`report_permanent`]: `Succeeded=Unknown`,
//! `Stalled=True` and a Warning Event naming the cause and the fix) and wait for a change.
//!
//! # Missing Secrets and ConfigMaps
//! The controller may not list or watch Secrets (least privilege), so a build waiting for one is
//! looked at again every [`decide::BLOCKED_RECHECK`] (15 s) until it exists or the build's
//! `queuedTimeoutInMinutes` passes (then `TIMED_OUT`). A missing *key* is only found by the
//! kubelet (`CreateContainerConfigError`); the pod's message naming the key becomes the
//! `Stalled` condition, and the Job's deadline bounds the wait.

pub mod apply;
pub mod decide;
pub mod history;
pub mod observe;
mod phases;
pub mod reasons;
pub mod result;
pub mod world;

use std::sync::Arc;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::core::DeserializeGuard;
use kube::runtime::controller::{Action as Requeue, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::BuildRun;
use crate::api::buildrun::BuildRunStatus;
use crate::api::common::Conditions;
use crate::build::job::JobOptions;
use crate::runtime::conditions::{ConditionStatus, SUCCEEDED};
use crate::runtime::error_policy::{
    ErrorClass, ErrorLabels, ErrorPolicy, ReconcileError, ReportableStatus, classify_kube,
    remedy_for_kube, report_permanent,
};
use crate::runtime::events::EventPublisher;
use crate::runtime::kind_watch::{
    ObjectCounts, drive, readiness_part, reflected, report_ready_when_synced, watched,
};
use crate::runtime::labels::{BUILDRUN_ANNOTATION, BUILDRUN_LABEL, BUILDRUN_UID_LABEL};
use crate::runtime::{ControllerContext, Leadership};
use decide::{Action, JobState, decide, is_terminal};

/// The BuildRun controller's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildSettings {
    /// How Jobs are rendered.
    pub job: JobOptions,
    /// Finished BuildRuns kept per namespace (0: all).
    pub history_limit: usize,
}

/// A reconcile failure, by step.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the world failed.
    #[error(transparent)]
    Observe(#[from] observe::ObserveError),
    /// Creating or deleting the Job failed.
    #[error(transparent)]
    Apply(#[from] apply::ApplyError),
    /// Writing the status failed.
    #[error(transparent)]
    Status(#[from] crate::runtime::StatusError),
    /// A permanent failure could not be recorded on the BuildRun (so it is retried).
    #[error("unable to report a permanent failure on the BuildRun: {0}")]
    Report(#[source] crate::runtime::StatusError),
}

impl ReconcileError for Error {
    fn category(&self) -> &'static str {
        match self {
            Error::Observe(_) => "ObserveFailed",
            Error::Apply(apply::ApplyError::Render(_)) => "InvalidBuildRun",
            Error::Apply(_) => "ApplyFailed",
            Error::Status(_) => "StatusWriteFailed",
            Error::Report(_) => "ReportFailed",
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Error::Observe(observe::ObserveError::Read { source, .. })
            | Error::Apply(apply::ApplyError::Write { source, .. }) => classify_kube(source),
            Error::Apply(apply::ApplyError::Render(_)) => ErrorClass::Permanent,
            Error::Status(error) => error.class(),
            Error::Report(_) => ErrorClass::Transient,
        }
    }

    fn remedy(&self) -> &'static str {
        match self {
            Error::Observe(observe::ObserveError::Read { source, .. })
            | Error::Apply(apply::ApplyError::Write { source, .. }) => remedy_for_kube(source),
            Error::Apply(apply::ApplyError::Render(_)) => {
                "create the BuildRun through the API (it needs a name, namespace and uid)"
            }
            Error::Status(error) | Error::Report(error) => error.remedy(),
        }
    }
}

impl ReportableStatus for BuildRunStatus {
    fn conditions_mut(&mut self) -> &mut Conditions {
        &mut self.conditions
    }

    fn set_observed(&mut self, generation: Option<i64>, message: &str) {
        self.observed_generation = generation;
        self.message = Some(message.to_owned());
    }

    fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    fn blocked_primary_status(&self) -> ConditionStatus {
        if is_terminal(self.build_status) {
            ConditionStatus::False
        } else {
            ConditionStatus::Unknown
        }
    }
}

/// What every reconcile shares.
struct Context {
    client: Client,
    settings: BuildSettings,
    events: EventPublisher,
    leadership: Leadership,
    /// Held from the build-number list to the status write (see [`history`]).
    numbering: tokio::sync::Mutex<()>,
    errors: ErrorPolicy,
}

/// Starts the controller (one per watched namespace, or one for all); the tasks end when `stop`
/// turns true.
pub fn start(
    context: &ControllerContext,
    settings: BuildSettings,
    stop: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let errors = Family::<ErrorLabels, Counter>::default();
    context.metrics.register(
        "build_reconcile_errors",
        "BuildRun reconciles that failed, by error category",
        errors.clone(),
    );
    let shared = Arc::new(Context {
        client: context.client.clone(),
        settings,
        events: EventPublisher::new(context.client.clone()),
        leadership: context.leadership.clone(),
        numbering: tokio::sync::Mutex::new(()),
        errors: ErrorPolicy::new("BuildRun", errors),
    });
    let counts = ObjectCounts::new(context, "BuildRun");
    let scopes = context.scopes();
    let mut tasks = Vec::new();
    for namespace in scopes {
        let client = &context.client;
        let part = readiness_part("BuildRun", namespace.as_deref());
        context.readiness.register(&part);
        let children = watcher::Config::default().labels(BUILDRUN_UID_LABEL);
        let (store, build_events, task) =
            reflected::<DeserializeGuard<BuildRun>>(client, namespace.as_deref(), stop);
        tasks.push(task);
        let (job_events, task) =
            watched::<DeserializeGuard<Job>>(client, namespace.as_deref(), children.clone(), stop);
        tasks.push(task);
        let (pod_events, task) =
            watched::<DeserializeGuard<Pod>>(client, namespace.as_deref(), children, stop);
        tasks.push(task);
        let mut shutdown = stop.clone();
        let controller = Controller::for_stream(build_events, store.clone())
            .owns_stream(job_events)
            .watches_stream(pod_events, build_run_of_pod)
            .graceful_shutdown_on(async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            });
        tasks.push(report_ready_when_synced(
            store.clone(),
            context,
            part.clone(),
            "BuildRun",
            stop.clone(),
        ));
        tasks.push(drive(
            controller.run(reconcile, error_policy, shared.clone()),
            "BuildRun",
            counts.clone(),
            namespace,
            store,
        ));
    }
    tasks
}

/// The BuildRun a build pod belongs to (from its annotation, else its label).
fn build_run_of_pod(pod: DeserializeGuard<Pod>) -> Option<ObjectRef<DeserializeGuard<BuildRun>>> {
    let namespace = pod.namespace()?;
    let name = pod
        .annotations()
        .get(BUILDRUN_ANNOTATION)
        .or_else(|| pod.labels().get(BUILDRUN_LABEL))?
        .clone();
    Some(ObjectRef::new(&name).within(&namespace))
}

/// Reconciles one BuildRun and reports a permanent failure on it (see the module's Errors).
#[tracing::instrument(skip_all, fields(namespace = object.namespace(), name = %object.name_any()))]
async fn reconcile(
    object: Arc<DeserializeGuard<BuildRun>>,
    context: Arc<Context>,
) -> Result<Requeue, Error> {
    let error = match reconcile_build(&object, &context).await {
        Ok(requeue) => {
            context.errors.on_success(object.as_ref());
            return Ok(requeue);
        }
        Err(error) => error,
    };
    if let (ErrorClass::Permanent, Ok(build_run)) = (error.class(), &object.0) {
        let message = format!("{error}; {}", error.remedy());
        report_permanent(
            &context.client,
            &context.events,
            build_run,
            build_run.status.as_ref(),
            SUCCEEDED,
            error.category(),
            &message,
        )
        .await
        .map_err(Error::Report)?;
    }
    Err(error)
}

async fn reconcile_build(
    object: &DeserializeGuard<BuildRun>,
    context: &Context,
) -> Result<Requeue, Error> {
    let build_run = match crate::runtime::admit(object, &context.leadership, "BuildRun") {
        Ok(build_run) => build_run,
        Err(requeue) => return Ok(requeue),
    };
    if build_run.metadata.deletion_timestamp.is_some() {
        return Ok(Requeue::await_change());
    }
    let stored = build_run.status.as_ref();
    let numbering = stored.and_then(|status| status.build_number).is_none()
        && !is_terminal(stored.and_then(|status| status.build_status));
    let _numbering = if numbering {
        Some(context.numbering.lock().await)
    } else {
        None
    };
    let mut observation = observe::observe(&context.client, build_run).await?;
    let mut decision = decide(&observation.world);
    match &decision.action {
        Action::None => {}
        Action::CreateJob => {
            let job = apply::create_job(
                &context.client,
                build_run,
                &context.settings.job,
                &observation.render,
                crate::runtime::FIELD_MANAGER,
            )
            .await?;
            let owned = job.owner_references().iter().any(|owner| {
                owner.controller == Some(true) && Some(&owner.uid) == build_run.uid().as_ref()
            });
            if owned {
                // Decide once more over the Job just created, so the status names it.
                let events = std::mem::take(&mut decision.events);
                observation.world.job = JobState::Owned(observe::job_facts(&job));
                decision = decide(&observation.world);
                decision.events.splice(0..0, events);
            }
        }
        Action::DeleteJob { name, uid } => {
            apply::delete_job(&context.client, build_run, name, uid).await?;
        }
    }
    let ended = !is_terminal(observation.world.status.build_status)
        && is_terminal(decision.status.build_status);
    crate::runtime::write_status(
        &context.client,
        build_run,
        build_run.status.as_ref(),
        &decision.status,
    )
    .await?;
    context
        .events
        .publish_all(build_run, &decision.events)
        .await;
    if ended {
        match apply::prune_history(&context.client, build_run, context.settings.history_limit).await
        {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "deleted old BuildRuns beyond the history limit"),
            Err(error) => tracing::warn!(%error, "unable to prune the BuildRun history"),
        }
    }
    Ok(match decision.requeue_after {
        Some(after) => Requeue::requeue(after),
        None => Requeue::await_change(),
    })
}

fn error_policy(
    object: Arc<DeserializeGuard<BuildRun>>,
    error: &Error,
    context: Arc<Context>,
) -> Requeue {
    context.errors.on_error(object.as_ref(), error)
}
