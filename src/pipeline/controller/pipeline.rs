//! The Pipeline controller: judges a Pipeline's spec, summarises its runs in its status and
//! keeps its history within `historyLimit`.
//!
//! - **Ready**: `True` with phase `Active` (no run in progress) or `Running`; `False` with phase
//!   `Invalid` and the first problem of [`crate::pipeline::validate::check_pipeline`] naming its
//!   field (a Warning Event once per message; runs of it fail before they create anything).
//! - **lastExecution**: the newest run, its status and revision.
//! - **Source check** ([`crate::trigger::poll`]): polls the source at its `pollInterval` (and on
//!   every spec change), sets `SourceAvailable`, `lastPollTime` and `lastSeenRevision`, and starts
//!   one run for a new revision no webhook brought.
//! - **webhookPath**: where this Pipeline's deliveries go, when `spec.webhook` is set;
//!   `recentDeliveries` belongs to the receiver ([`crate::trigger::receiver`]).
//! - **History**: finished runs beyond the newest `historyLimit` are deleted, oldest first; a run in
//!   progress (or waiting) is never deleted, nor a run a retry could still revive while it is among
//!   the newest.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::api::DeleteParams;
use kube::core::DeserializeGuard;
use kube::runtime::WatchStreamExt;
use kube::runtime::controller::{Action as Requeue, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::execution::{ExecutionStatus, PipelineExecution};
use crate::api::pipeline::{ExecutionSummary, Pipeline, PipelinePhase, PipelineStatus};
use crate::pipeline::plan::is_terminal;
use crate::pipeline::reasons;
use crate::pipeline::runs::{RunName, new_run};
use crate::pipeline::validate::check_pipeline;
use crate::runtime::conditions::{ConditionStatus, READY, Summary, set_summary};
use crate::runtime::error_policy::{
    ErrorClass, ErrorLabels, ErrorPolicy, ReconcileError, classify_kube,
};
use crate::runtime::events::{EventIntent, EventPublisher};
use crate::runtime::kind_watch::{
    ObjectCounts, drive, forwarded, in_own_task, readiness_part, reflected,
    report_ready_when_synced, scoped,
};
use crate::runtime::{ControllerContext, Leadership};
use crate::trigger::poll::{CheckDue, apply_check, check_due};
use crate::trigger::receiver::webhook_path;
use crate::trigger::runs::{create_run, poll_run_name};

use super::sources::SourceResolver;

/// A Pipeline reconcile failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing the status failed.
    #[error(transparent)]
    Status(#[from] crate::runtime::StatusError),
    /// Creating the run a poll found a new revision for failed (the status is not written, so
    /// the next reconcile tries again).
    #[error("unable to create PipelineExecution {name} for a new source revision: {source}")]
    PollRun {
        /// The run's name.
        name: String,
        /// The API's refusal.
        source: kube::Error,
    },
}

impl ReconcileError for Error {
    fn category(&self) -> &'static str {
        match self {
            Error::Status(_) => "StatusWriteFailed",
            Error::PollRun { .. } => "PollRunCreateFailed",
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Error::Status(error) => classify_kube(error.api_error()),
            Error::PollRun { source, .. } => classify_kube(source),
        }
    }
}

struct Context {
    client: Client,
    events: EventPublisher,
    leadership: Leadership,
    executions: Store<DeserializeGuard<PipelineExecution>>,
    policy: ErrorPolicy,
    sources: SourceResolver,
}

/// Starts the Pipeline controller (per watched namespace, or one for all).
pub fn start(
    context: &ControllerContext,
    events: EventPublisher,
    errors: Family<ErrorLabels, Counter>,
    stop: &watch::Receiver<bool>,
) -> (Vec<JoinHandle<()>>, Vec<Store<DeserializeGuard<Pipeline>>>) {
    let counts = ObjectCounts::new(context, "Pipeline");
    let mut tasks = Vec::new();
    let mut stores = Vec::new();
    for namespace in context.scopes() {
        let client = &context.client;
        let part = readiness_part("Pipeline", namespace.as_deref());
        context.readiness.register(&part);
        let (executions, writer) = reflector::store();
        let (run_events, task) = forwarded(
            reflector::reflector(
                writer,
                watcher::watcher(
                    scoped::<DeserializeGuard<PipelineExecution>>(client, namespace.as_deref()),
                    watcher::Config::default(),
                )
                .default_backoff(),
            )
            .touched_objects(),
            stop,
        );
        tasks.push(task);
        let (store, pipeline_events, task) =
            reflected::<DeserializeGuard<Pipeline>>(client, namespace.as_deref(), stop);
        tasks.push(task);
        let shared = Arc::new(Context {
            client: client.clone(),
            events: events.clone(),
            leadership: context.leadership.clone(),
            executions,
            policy: ErrorPolicy::new("Pipeline", errors.clone()),
            sources: SourceResolver,
        });
        let mut shutdown = stop.clone();
        let controller = Controller::for_stream(pipeline_events, store.clone())
            .watches_stream(run_events, |run| {
                let namespace = run.namespace()?;
                let name = run.0.as_ref().ok()?.spec.pipeline_ref.name.clone();
                Some(ObjectRef::new(&name).within(&namespace))
            })
            .graceful_shutdown_on(async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            });
        tasks.push(report_ready_when_synced(
            store.clone(),
            context,
            part,
            "Pipeline",
            stop.clone(),
        ));
        tasks.push(drive(
            controller.run(reconcile, error_policy, shared),
            "Pipeline",
            counts.clone(),
            namespace,
            store.clone(),
        ));
        stores.push(store);
    }
    (tasks, stores)
}

async fn reconcile(
    object: Arc<DeserializeGuard<Pipeline>>,
    context: Arc<Context>,
) -> Result<Requeue, Error> {
    in_own_task(reconcile_pipeline(object, context), Duration::from_secs(1)).await
}

async fn reconcile_pipeline(
    object: Arc<DeserializeGuard<Pipeline>>,
    context: Arc<Context>,
) -> Result<Requeue, Error> {
    let pipeline = match crate::runtime::admit(&object, &context.leadership, "Pipeline") {
        Ok(pipeline) => pipeline,
        Err(requeue) => return Ok(requeue),
    };
    if pipeline.metadata.deletion_timestamp.is_some() {
        return Ok(Requeue::await_change());
    }
    let namespace = pipeline.namespace().unwrap_or_default();
    let name = pipeline.name_any();
    let runs: Vec<Arc<DeserializeGuard<PipelineExecution>>> = context.executions.state();
    let runs: Vec<&PipelineExecution> = runs
        .iter()
        .filter_map(|guard| guard.0.as_ref().ok())
        .filter(|run| {
            run.namespace().as_deref() == Some(namespace.as_str())
                && run.spec.pipeline_ref.name == name
        })
        .collect();
    let stored = pipeline.status.clone();
    let now = crate::runtime::whole_seconds(Timestamp::now());
    let (mut status, event) = pipeline_status(pipeline, stored.as_ref(), &runs, now);
    let mut events: Vec<EventIntent> = event.into_iter().collect();
    let requeue = check_source(
        &context,
        pipeline,
        stored.as_ref(),
        &mut status,
        &runs,
        &mut events,
        now,
    )
    .await?;
    let compared = crate::runtime::leave_out(stored.as_ref(), &mut status, |status| {
        status.recent_deliveries.clear();
    });
    crate::runtime::write_status(&context.client, pipeline, compared.as_ref(), &status).await?;
    context.events.publish_all(pipeline, &events).await;
    let doomed = history_to_delete(
        &runs,
        usize::try_from(pipeline.spec.history_limit).unwrap_or(20),
    );
    if !doomed.is_empty() {
        let api: Api<PipelineExecution> = Api::namespaced(context.client.clone(), &namespace);
        for run in &doomed {
            if let Err(error) = api.delete(run, &DeleteParams::background()).await {
                tracing::warn!(%error, run, "unable to delete an old PipelineExecution");
            }
        }
        context
            .events
            .publish(
                pipeline,
                &EventIntent::normal(
                    reasons::HISTORY_PRUNED,
                    format!(
                        "deleted {} finished runs beyond historyLimit {}: {}",
                        doomed.len(),
                        pipeline.spec.history_limit,
                        doomed.join(", ")
                    ),
                ),
            )
            .await;
    }
    context.policy.on_success(pipeline);
    Ok(requeue)
}

/// The source check when it is due ([`crate::trigger::poll`]): a new revision's run is created
/// before the status that records the revision is written. Returns when to come back.
async fn check_source(
    context: &Context,
    pipeline: &Pipeline,
    stored: Option<&PipelineStatus>,
    status: &mut PipelineStatus,
    runs: &[&PipelineExecution],
    events: &mut Vec<EventIntent>,
    now: Timestamp,
) -> Result<Requeue, Error> {
    let generation = pipeline.metadata.generation;
    match check_due(&pipeline.spec, stored, generation, now) {
        CheckDue::Never => return Ok(Requeue::await_change()),
        CheckDue::After(wait) => return Ok(Requeue::requeue(wait)),
        CheckDue::Now => {}
    }
    let namespace = pipeline.namespace().unwrap_or_default();
    let check = context
        .sources
        .check(&context.client, &namespace, &pipeline.spec)
        .await;
    let delivered = stored.map_or(&[][..], |stored| stored.recent_deliveries.as_slice());
    let seen = |revision: &str| {
        delivered
            .iter()
            .any(|record| record.revision.as_deref() == Some(revision))
            || runs.iter().any(|run| run_has_revision(run, revision))
    };
    let outcome = apply_check(&pipeline.spec, status, generation, &check, seen, now);
    if let Some(run) = outcome.run {
        let name = poll_run_name(&pipeline.name_any(), &run.revision);
        let object = new_run(
            pipeline,
            RunName::Fixed(name.clone()),
            run.trigger,
            Some(run.source),
            Vec::new(),
        );
        create_run(&context.client, &object)
            .await
            .map_err(|source| Error::PollRun { name, source })?;
    }
    events.extend(outcome.event);
    Ok(
        match check_due(&pipeline.spec, Some(status), generation, now) {
            CheckDue::After(wait) => Requeue::requeue(wait),
            CheckDue::Now => Requeue::requeue(crate::trigger::poll::MIN_RETRY),
            CheckDue::Never => Requeue::await_change(),
        },
    )
}

/// Whether `run` runs `revision` (a commit, an image digest or an object version).
fn run_has_revision(run: &PipelineExecution, revision: &str) -> bool {
    let given = run.spec.source.as_ref();
    let resolved = run
        .status
        .as_ref()
        .and_then(|status| status.source_revision.as_ref());
    [given, resolved].into_iter().flatten().any(|source| {
        source.commit_id.as_deref() == Some(revision)
            || source.image_digest.as_deref() == Some(revision)
            || source.object_version.as_deref() == Some(revision)
    })
}

/// The Pipeline's status from its spec and its runs, and the Event a new problem deserves.
pub fn pipeline_status(
    pipeline: &Pipeline,
    stored: Option<&PipelineStatus>,
    runs: &[&PipelineExecution],
    now: Timestamp,
) -> (PipelineStatus, Option<EventIntent>) {
    let mut status = stored.cloned().unwrap_or_default();
    let generation = pipeline.metadata.generation;
    status.observed_generation = generation;
    let problems = check_pipeline(&pipeline.spec);
    let newest = runs.iter().max_by(|a, b| {
        (
            a.metadata.creation_timestamp.as_ref().map(|t| t.0),
            a.name_any(),
        )
            .cmp(&(
                b.metadata.creation_timestamp.as_ref().map(|t| t.0),
                b.name_any(),
            ))
    });
    status.last_execution = newest.map(|run| {
        let run_status = run.status.clone().unwrap_or_default();
        ExecutionSummary {
            name: run.name_any(),
            status: run_status.phase,
            revision: run_status.source_revision.and_then(|source| {
                source
                    .commit_id
                    .or(source.image_digest)
                    .or(source.object_version)
            }),
            start_time: run_status.start_time,
        }
    });
    let running = runs
        .iter()
        .filter(|run| {
            let phase = run.status.as_ref().and_then(|status| status.phase);
            phase.is_some() && !is_terminal(phase)
        })
        .count();
    let mut event = None;
    let (phase, ready, reason, message) = match problems.first() {
        Some(problem) => {
            let message = format!("invalid: {problem}");
            if status.message.as_deref() != Some(message.as_str()) {
                event = Some(EventIntent::warning(reasons::INVALID_SPEC, message.clone()));
            }
            (
                PipelinePhase::Invalid,
                false,
                reasons::INVALID_SPEC,
                message,
            )
        }
        None if running > 0 => (
            PipelinePhase::Running,
            true,
            reasons::RUNNING,
            format!("{running} run(s) in progress"),
        ),
        None => (
            PipelinePhase::Active,
            true,
            reasons::ACTIVE,
            "ready; no run in progress".to_owned(),
        ),
    };
    status.phase = Some(phase);
    status.message = Some(message.clone());
    status.webhook_path = pipeline
        .spec
        .webhook
        .as_ref()
        .and(pipeline.metadata.uid.as_deref())
        .map(webhook_path);
    set_summary(
        &mut status.conditions,
        &Summary {
            primary: READY,
            status: ConditionStatus::from(ready),
            reconciling: false,
            stalled: !ready,
            reason,
            message: &message,
        },
        generation,
        crate::runtime::whole_seconds(now),
    );
    (status, event)
}

/// Finished runs beyond the newest `limit`, oldest first; unfinished runs are never chosen.
pub fn history_to_delete(runs: &[&PipelineExecution], limit: usize) -> Vec<String> {
    let mut finished: Vec<&&PipelineExecution> = runs
        .iter()
        .filter(|run| {
            let phase = run.status.as_ref().and_then(|status| status.phase);
            is_terminal(phase) && phase != Some(ExecutionStatus::InProgress)
        })
        .collect();
    finished.sort_by(|a, b| {
        (
            b.metadata.creation_timestamp.as_ref().map(|t| t.0),
            b.name_any(),
        )
            .cmp(&(
                a.metadata.creation_timestamp.as_ref().map(|t| t.0),
                a.name_any(),
            ))
    });
    finished
        .iter()
        .skip(limit)
        .rev()
        .map(|run| run.name_any())
        .collect()
}

fn error_policy(
    object: Arc<DeserializeGuard<Pipeline>>,
    error: &Error,
    context: Arc<Context>,
) -> Requeue {
    context.policy.on_error(object.as_ref(), error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::execution::PipelineExecutionStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn run(name: &str, second: i64, phase: Option<ExecutionStatus>) -> PipelineExecution {
        let mut run: PipelineExecution =
            serde_json::from_value(serde_json::json!({"apiVersion": "slipway.dev/v1alpha1", "kind": "PipelineExecution", "metadata": {"name": name}, "spec": {"pipelineRef": {"name": "web"}}})).unwrap();
        run.metadata.creation_timestamp = Some(Time(Timestamp::from_second(second).unwrap()));
        run.status = Some(PipelineExecutionStatus {
            phase,
            ..Default::default()
        });
        run
    }

    #[test]
    fn the_history_keeps_the_newest_finished_runs_and_every_unfinished_one() {
        let runs = [
            run("a", 1, Some(ExecutionStatus::Succeeded)),
            run("b", 2, Some(ExecutionStatus::InProgress)),
            run("c", 3, Some(ExecutionStatus::Failed)),
            run("d", 4, Some(ExecutionStatus::Superseded)),
            run("e", 5, None),
        ];
        let refs: Vec<&PipelineExecution> = runs.iter().collect();
        assert_eq!(history_to_delete(&refs, 1), ["a", "c"]);
        assert_eq!(history_to_delete(&refs, 3), Vec::<String>::new());
    }

    #[test]
    fn an_invalid_pipeline_is_not_ready_and_names_the_field_once() {
        let pipeline: Pipeline = serde_json::from_value(serde_json::json!({
            "apiVersion": "slipway.dev/v1alpha1", "kind": "Pipeline", "metadata": {"name": "web", "generation": 3},
            "spec": {"source": {"git": {"url": "https://git.test/a.git"}}, "stages": [
                {"name": "A", "actions": [{"name": "x", "inputArtifacts": ["Nope"], "job": {"template": {"template": {}}}}]},
                {"name": "B", "actions": [{"name": "y", "approval": {}}]}
            ]}
        }))
        .unwrap();
        let (status, event) =
            pipeline_status(&pipeline, None, &[], Timestamp::from_second(10).unwrap());
        assert_eq!(status.phase, Some(PipelinePhase::Invalid));
        assert!(
            status
                .message
                .as_deref()
                .unwrap()
                .contains("spec.stages[0].actions[0].inputArtifacts[0]")
        );
        assert!(event.is_some());
        let (again, event) = pipeline_status(
            &pipeline,
            Some(&status),
            &[],
            Timestamp::from_second(20).unwrap(),
        );
        assert_eq!(again, status, "an unchanged pipeline writes nothing");
        assert!(event.is_none());
    }
}
