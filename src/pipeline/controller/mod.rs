//! The PipelineExecution and Pipeline controllers.
//!
//! # A run's reconcile (observe → decide → apply → status)
//! 1. **observe** ([`observe`]): the Pipeline (fresh, with its stage locks), the other runs of
//!    the pipeline (cache), the run's children (lists by the run's UID), the resolved source
//!    head before the run starts, Jenkins builds in progress.
//! 2. **decide** ([`crate::pipeline::plan::decide`], pure): the next status and the intents.
//! 3. **apply** ([`apply`]): the lock write first (a conflict stops the reconcile), then
//!    children, stops, Jenkins triggers and rule evaluations, whose results fold into the status.
//! 4. **status**: one server-side apply of the status at the `resourceVersion` the run was read
//!    at ([`crate::runtime::write_status_at`]), only when it changed; then the Events.
//!
//! # Watches
//! PipelineExecutions; the BuildRuns, `deployments.slipway.dev` records and Jobs they control;
//! Pipelines (a change of spec or of the stage locks wakes the pipeline's unfinished runs, a
//! status write does not). When a run's stage position changes, the pipeline's other unfinished
//! runs are woken too, since supersession and queues depend on it.
//!
//! # Errors
//! [`Error::category`] names the step for logs, Events and `slipway_pipeline_reconcile_errors_total`;
//! the shared [`ErrorPolicy`] retries transient failures with back-off and reports permanent
//! ones (403, 422) on the run.

pub mod apply;
pub mod jenkins_link;
pub mod observe;
pub mod pipeline;
pub mod sources;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use kube::core::DeserializeGuard;
use kube::runtime::PredicateConfig;
use kube::runtime::WatchStreamExt;
use kube::runtime::controller::{Action as Requeue, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::buildrun::BuildRun;
use crate::api::deployment::Deployment as Record;
use crate::api::execution::PipelineExecution;
use crate::api::pipeline::Pipeline;
use crate::pipeline::plan::{PlanSettings, decide, is_terminal};
use crate::runtime::conditions::SUCCEEDED;
use crate::runtime::error_policy::{
    ErrorClass, ErrorLabels, ErrorPolicy, ReconcileError, classify_kube, report_permanent,
};
use crate::runtime::events::EventPublisher;
use crate::runtime::kind_watch::{
    ObjectCounts, drive, forwarded, in_own_task, readiness_part, reflected,
    report_ready_when_synced, scoped, watched,
};
use crate::runtime::labels::{EXECUTION_UID_LABEL, STAGE_LOCKS_ANNOTATION};
use crate::runtime::{ControllerContext, Leadership};

/// A run's reconcile failure, by step.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the world failed.
    #[error(transparent)]
    Observe(#[from] observe::ObserveError),
    /// Carrying out an intent failed.
    #[error(transparent)]
    Apply(#[from] apply::ApplyError),
    /// Writing the status failed.
    #[error(transparent)]
    Status(#[from] crate::runtime::StatusError),
}

impl ReconcileError for Error {
    fn category(&self) -> &'static str {
        match self {
            Error::Observe(_) => "ObserveFailed",
            Error::Apply(apply::ApplyError::LockConflict { .. }) => "StageLockConflict",
            Error::Apply(_) => "ApplyFailed",
            Error::Status(error) if error.is_conflict() => "StatusConflict",
            Error::Status(_) => "StatusWriteFailed",
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Error::Observe(error) => classify_kube(&error.source),
            Error::Apply(apply::ApplyError::LockConflict { .. }) => ErrorClass::Transient,
            Error::Apply(apply::ApplyError::Write { source, .. }) => classify_kube(source),
            Error::Status(error) => classify_kube(error.api_error()),
        }
    }
}

/// What every reconcile of runs shares.
struct Context {
    client: Client,
    events: EventPublisher,
    leadership: Leadership,
    executions: Store<DeserializeGuard<PipelineExecution>>,
    policy: ErrorPolicy,
    wake: futures::channel::mpsc::UnboundedSender<ObjectRef<DeserializeGuard<PipelineExecution>>>,
    settings: PlanSettings,
    sources: sources::SourceResolver,
    jenkins: jenkins_link::JenkinsLink,
}

/// The started run and pipeline controllers.
pub struct Started {
    /// Their tasks.
    pub tasks: Vec<JoinHandle<()>>,
    /// The Pipeline controller's stores, one per watched scope (every replica keeps them; the
    /// webhook receiver finds Pipelines there).
    pub pipelines: Vec<Store<DeserializeGuard<Pipeline>>>,
    /// The PipelineExecution stores, one per watched scope (the notifier reads runs there).
    pub executions: Vec<Store<DeserializeGuard<PipelineExecution>>>,
}

/// Starts the run and pipeline controllers (per watched namespace, or one for all).
pub fn start(
    context: &ControllerContext,
    settings: PlanSettings,
    stop: &watch::Receiver<bool>,
) -> Started {
    let errors = Family::<ErrorLabels, Counter>::default();
    context.metrics.register(
        "pipeline_reconcile_errors",
        "PipelineExecution and Pipeline reconciles that failed, by error category",
        errors.clone(),
    );
    let events = EventPublisher::new(context.client.clone());
    let counts = ObjectCounts::new(context, "PipelineExecution");
    let mut tasks = Vec::new();
    let mut executions = Vec::new();
    for namespace in context.scopes() {
        let client = &context.client;
        let part = readiness_part("PipelineExecution", namespace.as_deref());
        context.readiness.register(&part);
        let (store, run_events, task) =
            reflected::<DeserializeGuard<PipelineExecution>>(client, namespace.as_deref(), stop);
        tasks.push(task);
        let children = watcher::Config::default().labels(EXECUTION_UID_LABEL);
        let (build_events, task) = watched::<DeserializeGuard<BuildRun>>(
            client,
            namespace.as_deref(),
            children.clone(),
            stop,
        );
        tasks.push(task);
        let (record_events, task) = watched::<DeserializeGuard<Record>>(
            client,
            namespace.as_deref(),
            children.clone(),
            stop,
        );
        tasks.push(task);
        let (job_events, task) =
            watched::<DeserializeGuard<Job>>(client, namespace.as_deref(), children, stop);
        tasks.push(task);
        let (pipeline_events, task) = forwarded(
            watcher::watcher(
                scoped::<DeserializeGuard<Pipeline>>(client, namespace.as_deref()),
                watcher::Config::default(),
            )
            .default_backoff()
            .touched_objects()
            .predicate_filter(pipeline_change, PredicateConfig::default()),
            stop,
        );
        tasks.push(task);
        let (wake, woken) = futures::channel::mpsc::unbounded();
        let shared = Arc::new(Context {
            client: client.clone(),
            events: events.clone(),
            leadership: context.leadership.clone(),
            executions: store.clone(),
            policy: ErrorPolicy::new("PipelineExecution", errors.clone()),
            wake,
            settings: settings.clone(),
            sources: sources::SourceResolver,
            jenkins: jenkins_link::JenkinsLink,
        });
        let runs = store.clone();
        executions.push(store.clone());
        let mut shutdown = stop.clone();
        let controller = Controller::for_stream(run_events, store.clone())
            .owns_stream(build_events)
            .owns_stream(record_events)
            .owns_stream(job_events)
            .watches_stream(pipeline_events, move |pipeline| {
                unfinished_runs(
                    &runs,
                    &pipeline.namespace().unwrap_or_default(),
                    &pipeline.name_any(),
                    None,
                )
            })
            .reconcile_on(woken)
            .graceful_shutdown_on(async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            });
        tasks.push(report_ready_when_synced(
            store.clone(),
            context,
            part,
            "PipelineExecution",
            stop.clone(),
        ));
        tasks.push(drive(
            controller.run(reconcile, error_policy, shared),
            "PipelineExecution",
            counts.clone(),
            namespace,
            store,
        ));
    }
    let (pipeline_tasks, pipelines) = pipeline::start(context, events, errors, stop);
    tasks.extend(pipeline_tasks);
    Started {
        tasks,
        pipelines,
        executions,
    }
}

/// What of a Pipeline wakes its runs: its spec (generation) and its stage locks, not its status.
fn pipeline_change(pipeline: &DeserializeGuard<Pipeline>) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    use kube::Resource;
    let meta = pipeline.meta();
    meta.uid.hash(&mut hasher);
    meta.generation.hash(&mut hasher);
    meta.annotations
        .as_ref()
        .and_then(|annotations| annotations.get(STAGE_LOCKS_ANNOTATION))
        .hash(&mut hasher);
    Some(hasher.finish())
}

/// The unfinished runs of pipeline `name` in `namespace` (but `except`).
fn unfinished_runs(
    store: &Store<DeserializeGuard<PipelineExecution>>,
    namespace: &str,
    name: &str,
    except: Option<&str>,
) -> Vec<ObjectRef<DeserializeGuard<PipelineExecution>>> {
    store
        .state()
        .iter()
        .filter_map(|guard| {
            let run = guard.0.as_ref().ok()?;
            let status = run.status.as_ref();
            let pending_retry = !run.spec.control.retries.is_empty();
            (run.namespace().as_deref() == Some(namespace)
                && run.spec.pipeline_ref.name == name
                && Some(run.name_any().as_str()) != except
                && (!is_terminal(status.and_then(|s| s.phase)) || pending_retry))
                .then(|| ObjectRef::new(&run.name_any()).within(namespace))
        })
        .collect()
}

/// Runs [`reconcile_run`] in a task of its own: a run's status holds the whole pipeline spec
/// (pod and Job templates inside), which takes a deep stack to deserialize and clone.
async fn reconcile(
    object: Arc<DeserializeGuard<PipelineExecution>>,
    context: Arc<Context>,
) -> Result<Requeue, Error> {
    in_own_task(reconcile_run(object, context), Duration::from_secs(1)).await
}

#[tracing::instrument(skip_all, fields(namespace = object.namespace(), name = %object.name_any()))]
async fn reconcile_run(
    object: Arc<DeserializeGuard<PipelineExecution>>,
    context: Arc<Context>,
) -> Result<Requeue, Error> {
    let execution = match crate::runtime::admit(&object, &context.leadership, "PipelineExecution") {
        Ok(execution) => execution,
        Err(requeue) => return Ok(requeue),
    };
    if execution.metadata.deletion_timestamp.is_some() {
        return Ok(Requeue::await_change());
    }
    let stored = execution.status.clone().unwrap_or_default();
    let pending_retry = execution.spec.control.retries.len()
        > stored
            .stages
            .iter()
            .map(|stage| usize::try_from(stage.retry_requests_applied).unwrap_or(0))
            .sum();
    if is_terminal(stored.phase)
        && !pending_retry
        && stored.observed_generation == execution.metadata.generation
    {
        // An ended run only needs its stale locks released, which its last reconcile did.
        return Ok(Requeue::await_change());
    }
    match run_once(execution, &context).await {
        Ok(requeue) => {
            context.policy.on_success(execution);
            Ok(requeue)
        }
        Err(error) if error.class() == ErrorClass::Permanent => {
            report_permanent(
                &context.client,
                &context.events,
                execution,
                execution.status.as_ref(),
                SUCCEEDED,
                crate::pipeline::reasons::RECONCILE_FAILED,
                &error.to_string(),
            )
            .await?;
            Err(error)
        }
        Err(error) => Err(error),
    }
}

async fn run_once(execution: &PipelineExecution, context: &Context) -> Result<Requeue, Error> {
    let namespace = execution.namespace().unwrap_or_default();
    let pipeline = execution.spec.pipeline_ref.name.clone();
    let uid = execution.uid().unwrap_or_default();
    let peers: Vec<_> = context
        .executions
        .state()
        .iter()
        .filter_map(|guard| guard.0.as_ref().ok())
        .filter(|other| {
            other.namespace().as_deref() == Some(namespace.as_str())
                && other.spec.pipeline_ref.name == pipeline
                && other.uid().as_deref() != Some(uid.as_str())
        })
        .map(observe::peer_of)
        .collect();
    let observation = observe::observe(
        &context.client,
        execution,
        peers,
        &context.sources,
        &context.jenkins,
    )
    .await?;
    let mut decision = decide(&observation.run, &observation.observed, &context.settings);
    let locks = observation
        .observed
        .pipeline
        .as_ref()
        .zip(observation.pipeline_version.as_deref())
        .map(|(pipeline, version)| (&pipeline.locks, version));
    let writes = apply::apply(
        &apply::ApplyContext {
            client: &context.client,
            execution,
            locks,
            jenkins: &context.jenkins,
        },
        &decision.intents,
        &mut decision.status,
    )
    .await?;
    let stored = execution.status.as_ref();
    let compared = crate::runtime::leave_out(stored, &mut decision.status, |status| {
        status.notifications.clear();
    });
    let wrote = crate::runtime::write_status_at(
        &context.client,
        execution,
        compared.as_ref(),
        &decision.status,
    )
    .await?;
    context
        .events
        .publish_all(execution, &decision.events)
        .await;
    tracing::debug!(writes, status_written = wrote, phase = ?decision.status.phase, "reconciled");
    if moved(stored, &decision.status) {
        for peer in unfinished_runs(
            &context.executions,
            &namespace,
            &pipeline,
            Some(&execution.name_any()),
        ) {
            let _ = context.wake.unbounded_send(peer);
        }
    }
    Ok(match decision.requeue_after {
        Some(after) => Requeue::requeue(after),
        None => Requeue::await_change(),
    })
}

/// Whether the run's position among its peers changed (what supersession and queues read).
fn moved(
    stored: Option<&crate::api::execution::PipelineExecutionStatus>,
    next: &crate::api::execution::PipelineExecutionStatus,
) -> bool {
    let position = |status: &crate::api::execution::PipelineExecutionStatus| {
        (
            status.phase,
            status.waiting.as_ref().map(|wait| wait.stage.clone()),
            status
                .stages
                .iter()
                .map(|stage| stage.status)
                .collect::<Vec<_>>(),
        )
    };
    stored.map(position) != Some(position(next))
}

impl crate::runtime::error_policy::ReportableStatus
    for crate::api::execution::PipelineExecutionStatus
{
    fn conditions_mut(&mut self) -> &mut crate::api::common::Conditions {
        &mut self.conditions
    }

    fn set_observed(&mut self, generation: Option<i64>, message: &str) {
        self.observed_generation = generation;
        self.message = Some(message.to_owned());
    }

    fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

fn error_policy(
    object: Arc<DeserializeGuard<PipelineExecution>>,
    error: &Error,
    context: Arc<Context>,
) -> Requeue {
    context.policy.on_error(object.as_ref(), error)
}
