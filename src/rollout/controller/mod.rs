//! The `deployments.slipway.dev` controller: drives each rollout through the pure state machine
//! ([`crate::rollout::decide()`]) against the cluster.
//!
//! # Steps (one reconcile)
//! 1. **observe** ([`observe`]): the target workload, the revision workloads (by labels, matched
//!    by the UID recorded in status), what the production/test/canary Services select and the
//!    HTTPRoute's weights ([`observe_traffic`], missing references included), hook Jobs by child
//!    name, other rollouts on the target — and the health-check probes that are due
//!    ([`probing`]: HTTP, Prometheus and readiness probes run inline, bounded by the check's
//!    timeout; a due Job check gets its Job).
//! 2. **decide** ([`crate::rollout::decide()`], pure, once): the new status and the intents. A
//!    probe observe just ran that crosses a failure threshold is judged here, so the intents
//!    restore the stable selector/weights in the same reconcile (the immediate rollback path).
//! 3. **apply** ([`apply`]): the intents in order, idempotently.
//! 4. **status** ([`crate::runtime::write_status`]): one server-side apply of the status, only
//!    when it changed.
//!
//! A finished record (stage `Done`, generation observed) is not observed again.
//!
//! # Watches
//! `deployments.slipway.dev` records; Jobs labelled `slipway.dev/deployment` (hooks and Job
//! checks, owned by the record); apps/v1 Deployments and Services labelled
//! `app.kubernetes.io/managed-by=slipway`, mapped through `slipway.dev/target` to the records
//! whose target workload it is; and an in-process channel an HTTP hook's task uses to wake its
//! record when the call ends. Every watched type is read through `DeserializeGuard`. Only the
//! leader acts: a standby requeues without reading or writing.
//!
//! # Restart safety
//! Progress is in status (stage, step, revisions, hook children, probe counts and times,
//! rollback record). What ran outside the API (HTTP hook answers, probe results) is kept in
//! [`memory`] until the decision folds it into status; see that module for why losing it
//! changes no outcome.
//!
//! # Errors
//! One enum per step, wrapped by [`Error`], whose [`ReconcileError::category`] is the metric
//! label, log field and Event reason. A missing production Service, test Service or HTTPRoute
//! is not an error but a state: `Ready=False`/`Stalled=True` with reason `InvalidReference`
//! naming the field, a Warning Event (once per message), and a look every minute (those objects
//! are not watched). A missing target workload, an unknown container or an invalid appspec are
//! decided by the state machine in the same way (`WorkloadNotFound`, `InvalidSpec`). What
//! reaches the error path goes through [`ErrorPolicy`]: transient failures are retried with
//! exponential back-off and jitter; permanent ones (403, 400, 422, a Job name taken by another
//! owner, a Service or route Slipway cannot steer, a revision that cannot be rendered) are
//! reported on the record ([`report_permanent`]: `Ready=False`, `Stalled=True`, a Warning Event
//! naming the cause and the fix) and wait for a change.

pub mod apply;
pub mod memory;
pub mod observe;
pub mod observe_traffic;
pub mod probing;
pub mod selection;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment as AppsDeployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::core::DeserializeGuard;
use kube::runtime::controller::{Action as Requeue, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::Deployment as DeploymentRecord;
use crate::api::deployment::{DeploymentStatus, RolloutStage};
use crate::rollout::state::{DecideInput, DeploymentIdentity};
use crate::runtime::conditions::READY;
use crate::runtime::error_policy::{
    ErrorClass, ErrorLabels, ErrorPolicy, ReconcileError, ReportableStatus, classify_kube,
    remedy_for_kube, report_permanent,
};
use crate::runtime::events::EventPublisher;
use crate::runtime::kind_watch::{
    ObjectCounts, drive, in_own_task, readiness_part, reflected, report_ready_when_synced, watched,
};
use crate::runtime::labels::{DEPLOYMENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, TARGET_LABEL};
use crate::runtime::names::label_value;
use crate::runtime::whole_seconds;
use crate::runtime::{ControllerContext, Leadership};
use apply::{ApplyContext, Trigger};
use memory::Memory;
use observe::ObserveError;

/// Look again this soon after a reconcile task was cancelled (the runtime is shutting down).
const CANCELLED_RECHECK: Duration = Duration::from_secs(2);

/// A reconcile failure, by step.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the world failed.
    #[error(transparent)]
    Observe(#[from] ObserveError),
    /// Carrying out an intent failed.
    #[error(transparent)]
    Apply(#[from] apply::ApplyError),
    /// Writing the status failed.
    #[error(transparent)]
    Status(#[from] crate::runtime::StatusError),
    /// A permanent failure could not be recorded on the record (so it is retried).
    #[error("unable to report a permanent failure on the deployments.slipway.dev record: {0}")]
    Report(#[source] crate::runtime::StatusError),
}

impl ReconcileError for Error {
    fn category(&self) -> &'static str {
        match self {
            Error::Observe(_) => "ObserveFailed",
            Error::Apply(apply::ApplyError::Traffic(_)) => "TrafficChangeFailed",
            Error::Apply(apply::ApplyError::Revision { .. }) => "RevisionFailed",
            Error::Apply(_) => "ApplyFailed",
            Error::Status(_) => "StatusWriteFailed",
            Error::Report(_) => "ReportFailed",
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Error::Observe(ObserveError::Api { source, .. })
            | Error::Apply(apply::ApplyError::Api { source, .. }) => classify_kube(source),
            Error::Observe(ObserveError::Traffic(error))
            | Error::Apply(apply::ApplyError::Traffic(error)) => error.class(),
            Error::Observe(ObserveError::Job(error))
            | Error::Apply(apply::ApplyError::Job(error)) => error.class(),
            Error::Apply(apply::ApplyError::Revision { .. }) => ErrorClass::Permanent,
            Error::Status(error) => error.class(),
            Error::Report(_) => ErrorClass::Transient,
        }
    }

    fn remedy(&self) -> &'static str {
        match self {
            Error::Observe(ObserveError::Api { source, .. })
            | Error::Apply(apply::ApplyError::Api { source, .. }) => remedy_for_kube(source),
            Error::Observe(ObserveError::Traffic(error))
            | Error::Apply(apply::ApplyError::Traffic(error)) => error.remedy(),
            Error::Observe(ObserveError::Job(error))
            | Error::Apply(apply::ApplyError::Job(error)) => error.remedy(),
            Error::Apply(apply::ApplyError::Revision { .. }) => {
                "restore the target workload's pod template (spec.target.workload), or create a new record for the new template"
            }
            Error::Status(error) | Error::Report(error) => error.remedy(),
        }
    }
}

impl ReportableStatus for DeploymentStatus {
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

/// What every reconcile shares.
struct Context {
    client: Client,
    events: EventPublisher,
    leadership: Leadership,
    memory: Arc<Memory>,
    trigger: Trigger,
    /// The controller's cache of records (the queue on a target is read from it).
    records: Store<DeserializeGuard<DeploymentRecord>>,
    errors: Arc<ErrorPolicy>,
}

/// Starts the controller (one per watched namespace, or one for all); the tasks end when `stop`
/// turns true.
pub fn start(context: &ControllerContext, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let errors = Family::<ErrorLabels, Counter>::default();
    context.metrics.register(
        "rollout_reconcile_errors",
        "deployments.slipway.dev reconciles that failed, by error category",
        errors.clone(),
    );
    let events = EventPublisher::new(context.client.clone());
    let errors = Arc::new(ErrorPolicy::new("deployments.slipway.dev", errors));
    let memory = Arc::new(Memory::default());
    let counts = ObjectCounts::new(context, "Deployment");
    let scopes = context.scopes();
    let mut tasks = Vec::new();
    for namespace in scopes {
        let client = &context.client;
        let (trigger, woken) = futures::channel::mpsc::unbounded();
        let part = readiness_part("Deployment", namespace.as_deref());
        context.readiness.register(&part);
        let (store, record_events, task) =
            reflected::<DeserializeGuard<DeploymentRecord>>(client, namespace.as_deref(), stop);
        tasks.push(task);
        let controller = Controller::for_stream(record_events, store.clone());
        let shared = Arc::new(Context {
            client: client.clone(),
            events: events.clone(),
            leadership: context.leadership.clone(),
            memory: memory.clone(),
            trigger,
            records: store.clone(),
            errors: errors.clone(),
        });
        let managed =
            watcher::Config::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"));
        let (job_events, task) = watched::<DeserializeGuard<Job>>(
            client,
            namespace.as_deref(),
            watcher::Config::default().labels(DEPLOYMENT_LABEL),
            stop,
        );
        tasks.push(task);
        let (workload_events, task) = watched::<DeserializeGuard<AppsDeployment>>(
            client,
            namespace.as_deref(),
            managed.clone(),
            stop,
        );
        tasks.push(task);
        let (service_events, task) =
            watched::<DeserializeGuard<Service>>(client, namespace.as_deref(), managed, stop);
        tasks.push(task);
        let mut shutdown = stop.clone();
        let (workloads_store, services_store) = (store.clone(), store.clone());
        let controller = controller
            .owns_stream(job_events)
            .watches_stream(workload_events, move |object| {
                records_targeting(
                    &workloads_store,
                    object.namespace(),
                    object.labels().get(TARGET_LABEL),
                )
            })
            .watches_stream(service_events, move |object| {
                records_targeting(
                    &services_store,
                    object.namespace(),
                    object.labels().get(TARGET_LABEL),
                )
            })
            .reconcile_on(woken)
            .graceful_shutdown_on(async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            });
        tasks.push(report_ready_when_synced(
            store.clone(),
            context,
            part.clone(),
            "Deployment",
            stop.clone(),
        ));
        tasks.push(drive(
            controller.run(reconcile, error_policy, shared),
            "Deployment",
            counts.clone(),
            namespace,
            store,
        ));
    }
    tasks
}

/// The records in `namespace` whose target workload has the label value `target`.
fn records_targeting(
    store: &Store<DeserializeGuard<DeploymentRecord>>,
    namespace: Option<String>,
    target: Option<&String>,
) -> Vec<ObjectRef<DeserializeGuard<DeploymentRecord>>> {
    let (Some(namespace), Some(target)) = (namespace, target) else {
        return Vec::new();
    };
    store
        .state()
        .iter()
        .filter_map(|guard| {
            let record = guard.0.as_ref().ok()?;
            (record.namespace().as_deref() == Some(namespace.as_str())
                && label_value(&record.spec.template.target.workload) == *target)
                .then(|| ObjectRef::new(&record.name_any()).within(&namespace))
        })
        .collect()
}

/// Runs [`reconcile_record`] in a task of its own: observe deserializes records and workloads,
/// which takes a deep stack (see [`forwarded`]), so it must not run nested in the controller.
async fn reconcile(
    object: Arc<DeserializeGuard<DeploymentRecord>>,
    context: Arc<Context>,
) -> Result<Requeue, Error> {
    in_own_task(reconcile_record(object, context), CANCELLED_RECHECK).await
}

/// Reconciles one record and reports a permanent failure on it (see the module's Errors).
#[tracing::instrument(skip_all, fields(namespace = object.namespace(), name = %object.name_any()))]
async fn reconcile_record(
    object: Arc<DeserializeGuard<DeploymentRecord>>,
    context: Arc<Context>,
) -> Result<Requeue, Error> {
    let error = match Box::pin(reconcile_admitted(&object, &context)).await {
        Ok(requeue) => {
            context.errors.on_success(object.as_ref());
            return Ok(requeue);
        }
        Err(error) => error,
    };
    if let (ErrorClass::Permanent, Ok(record)) = (error.class(), &object.0) {
        let message = format!("{error}; {}", error.remedy());
        report_permanent(
            &context.client,
            &context.events,
            record,
            record.status.as_ref(),
            READY,
            error.category(),
            &message,
        )
        .await
        .map_err(Error::Report)?;
    }
    Err(error)
}

async fn reconcile_admitted(
    object: &DeserializeGuard<DeploymentRecord>,
    context: &Context,
) -> Result<Requeue, Error> {
    let record = match crate::runtime::admit(
        object,
        &context.leadership,
        "deployments.slipway.dev record",
    ) {
        Ok(record) => record,
        Err(requeue) => return Ok(requeue),
    };
    let uid = record.uid().unwrap_or_default();
    let stored = record.status.clone().unwrap_or_default();
    if record.metadata.deletion_timestamp.is_some()
        || (stored.stage == Some(RolloutStage::Done)
            && stored.observed_generation == record.metadata.generation)
    {
        context.memory.forget(&uid);
        return Ok(Requeue::await_change());
    }
    let others: Vec<Arc<DeserializeGuard<DeploymentRecord>>> = context.records.state();
    let on_target = observe::rollouts_on_target(
        record,
        others.iter().filter_map(|guard| guard.0.as_ref().ok()),
    );
    let observation = Box::pin(observe::observe(
        &context.client,
        record,
        &context.memory,
        on_target,
    ))
    .await?;
    let identity = DeploymentIdentity {
        name: record.name_any(),
        uid: uid.clone(),
        generation: record.metadata.generation,
    };
    let now = Time(whole_seconds(Timestamp::now()));
    let decision = crate::rollout::decide(&DecideInput {
        identity: &identity,
        spec: &record.spec,
        status: &stored,
        world: &observation.world,
        now: &now,
    });
    let hash = |revision: &Option<crate::api::deployment::RevisionStatus>| {
        revision
            .as_ref()
            .map(|revision| revision.hash.clone())
            .unwrap_or_default()
    };
    let (stable, canary) = (
        hash(&decision.status.stable_revision),
        hash(&decision.status.canary_revision),
    );
    let applied = Box::pin(apply::apply(
        &ApplyContext {
            client: &context.client,
            record,
            observation: &observation,
            events: &context.events,
            memory: &context.memory,
            trigger: &context.trigger,
            stable: &stable,
            canary: &canary,
        },
        &decision.intents,
    ))
    .await?;
    let wrote = crate::runtime::write_status(
        &context.client,
        record,
        record.status.as_ref(),
        &decision.status,
    )
    .await?;
    tracing::debug!(writes = applied.writes, status_written = wrote, stage = ?decision.status.stage, "reconciled");
    if decision.status.stage == Some(RolloutStage::Done) {
        context.memory.forget(&uid);
        if stored.stage != Some(RolloutStage::Done) {
            // The target is free: wake the rollouts queued on it now, not at their next look.
            let target = label_value(&record.spec.template.target.workload);
            for queued in records_targeting(&context.records, record.namespace(), Some(&target)) {
                if queued.name != record.name_any() {
                    let _ = context.trigger.unbounded_send(queued);
                }
            }
        }
    }
    Ok(match applied.requeue {
        Some(after) => Requeue::requeue(after),
        None => Requeue::await_change(),
    })
}

fn error_policy(
    object: Arc<DeserializeGuard<DeploymentRecord>>,
    error: &Error,
    context: Arc<Context>,
) -> Requeue {
    context.errors.on_error(object.as_ref(), error)
}
