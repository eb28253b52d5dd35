//! The pure decision: from what was observed of a BuildRun, its Job and the Job's pod, the one
//! action to take and the status the BuildRun should show.
//!
//! # Status from facts
//! Every timestamp comes from an object (the BuildRun's and Job's creation, the pod's start,
//! container start and finish times, the Job's conditions), so deciding twice over the same world
//! gives the same status and no write. `now` is used only at the moment a build ends without
//! such a fact (stopped, queued timeout) — once the status is terminal it is never recomputed.
//!
//! | observed | status |
//! | --- | --- |
//! | no Job yet | `SUBMITTED` (creating the Job) |
//! | Job, pod not started | `QUEUED` |
//! | `slipway-tools` running | `PROVISIONING` |
//! | `fetch-source` running | `DOWNLOAD_SOURCE` |
//! | build container running | `INSTALL` (open): the executor's own phase records arrive in its result |
//! | build container ended | the result's status and phases; `FAULT` without a result or on exit code 2 |
//! | Job `DeadlineExceeded` | `TIMED_OUT` |
//! | pod not started after `queuedTimeoutInMinutes` | `TIMED_OUT`, the Job deleted |
//! | `spec.stop` | `STOPPED`, the Job deleted |
//! | `fetch-source` failed | `FAILED` in `DOWNLOAD_SOURCE` |
//!
//! Blocked builds stay `IN_PROGRESS` with `Stalled=True` naming what a user must fix: a missing
//! Secret/ConfigMap (checked before the Job exists), a container that cannot start
//! (`CreateContainerConfigError` naming the missing key, image pull errors), or a Job with the
//! build's name owned by someone else.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::phases::{close, infrastructure_phases, phase, seconds_between};
use super::reasons;
use super::result::{ReportedResult, parse_result};
pub use super::world::{ContainerFacts, ContainerState, JobFacts, JobState, PodFacts, World};
use crate::api::buildrun::{BuildPhaseType, BuildRunSpec, BuildRunStatus, BuildStatus};
use crate::api::common::ChildReference;
use crate::build::buildspec::parse_buildspec;
use crate::build::job::{BUILD_CONTAINER, FETCH_CONTAINER, TOOLS_CONTAINER};
use crate::runtime::conditions::{
    ConditionStatus, RECONCILING, STALLED, SUCCEEDED, Summary, find, set_condition, set_summary,
};
use crate::runtime::events::EventIntent;

/// How often a build blocked on something the controller does not watch is looked at again.
pub const BLOCKED_RECHECK: Duration = Duration::from_secs(15);

/// Waiting reasons that mean a container cannot start until someone fixes something.
const BLOCKING_WAIT_REASONS: &[&str] = &[
    "CreateContainerConfigError",
    "CreateContainerError",
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
];
/// The one change to make in the cluster.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Nothing.
    None,
    /// Create the build Job.
    CreateJob,
    /// Delete the build Job (and, through foreground propagation, its pod first).
    DeleteJob {
        /// Its name.
        name: String,
        /// Its UID (the delete's precondition).
        uid: String,
    },
}

/// The outcome of `decide`.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// What to change.
    pub action: Action,
    /// The status to show.
    pub status: BuildRunStatus,
    /// Events for the transitions.
    pub events: Vec<EventIntent>,
    /// When to look again without a watch event.
    pub requeue_after: Option<Duration>,
}

/// Whether a build status is final.
pub fn is_terminal(status: Option<BuildStatus>) -> bool {
    matches!(
        status,
        Some(
            BuildStatus::Succeeded
                | BuildStatus::Failed
                | BuildStatus::Fault
                | BuildStatus::TimedOut
                | BuildStatus::Stopped
        )
    )
}

/// Decides the action, status and events for `world`.
pub fn decide(world: &World) -> Decision {
    let mut decision = Decision {
        action: Action::None,
        status: world.status.clone(),
        events: Vec::new(),
        requeue_after: None,
    };
    decision.status.observed_generation = world.generation;
    if is_terminal(world.status.build_status) {
        return decision;
    }
    let status = &mut decision.status;
    status.build_number = Some(world.build_number);
    status.build_status = Some(BuildStatus::InProgress);
    status.start_time = world
        .status
        .start_time
        .clone()
        .or_else(|| world.created.map(Time));

    if let Some(stop) = &world.spec.stop {
        if let JobState::Owned(job) = &world.job
            && !job.deleting
        {
            decision.action = Action::DeleteJob {
                name: job.name.clone(),
                uid: job.uid.clone(),
            };
        }
        if world.status.job.is_some() || matches!(world.job, JobState::Owned(_)) {
            infrastructure_phases(world, world.pod.as_ref(), &mut decision.status);
        }
        let message = match &stop.reason {
            Some(reason) => format!("stopped: {reason}"),
            None => "stopped on request (spec.stop)".to_owned(),
        };
        finish_without_result(
            world,
            &mut decision,
            BuildStatus::Stopped,
            message,
            world.now,
        );
        return decision;
    }

    match &world.job {
        JobState::Absent => decide_without_job(world, &mut decision),
        JobState::Foreign { name, owner } => {
            infrastructure_phases(world, None, &mut decision.status);
            let owner = owner.as_deref().unwrap_or("no controller");
            let message = format!(
                "a Job named {name} already exists and is not this BuildRun's (owner: {owner}): \
                 delete it, or create the build under another name"
            );
            block(world, &mut decision, reasons::JOB_NAME_TAKEN, message);
            decision.requeue_after = Some(BLOCKED_RECHECK);
        }
        JobState::Owned(job) => decide_with_job(world, job, &mut decision),
    }
    decision
}

fn decide_without_job(world: &World, decision: &mut Decision) {
    if world.status.job.is_some() {
        let message = "the build Job was deleted before the build ended".to_owned();
        finish_without_result(world, decision, BuildStatus::Fault, message, world.now);
        return;
    }
    if let Some(message) = invalid_inline_buildspec(&world.spec) {
        decision.events.push(EventIntent {
            warning: true,
            reason: reasons::EVENT_INVALID_SPEC,
            note: message.clone(),
        });
        let status = &mut decision.status;
        status.phases = vec![phase(
            BuildPhaseType::Submitted,
            world.created,
            Some(world.now),
            Some(BuildStatus::Failed),
            Some(message.clone()),
        )];
        finish(
            world,
            decision,
            BuildStatus::Failed,
            reasons::INVALID_BUILD_SPEC,
            message,
            world.now,
        );
        return;
    }
    if !world.missing.is_empty() {
        let what = world.missing.join(", ");
        if queued_too_long(world) {
            let message = format!(
                "waited longer than queuedTimeoutInMinutes ({}) for: {what}",
                world.spec.config.queued_timeout_in_minutes
            );
            finish_without_result(world, decision, BuildStatus::TimedOut, message, world.now);
            return;
        }
        infrastructure_phases(world, None, &mut decision.status);
        block(
            world,
            decision,
            reasons::MISSING_REFERENCE,
            format!("waiting for {what} to exist"),
        );
        decision.requeue_after = Some(BLOCKED_RECHECK);
        return;
    }
    decision.action = Action::CreateJob;
    infrastructure_phases(world, None, &mut decision.status);
    progress(
        world,
        decision,
        reasons::SUBMITTED,
        "creating the build Job".into(),
    );
    decision.events.push(EventIntent {
        warning: false,
        reason: reasons::EVENT_STARTED,
        note: format!(
            "build #{} started: creating Job {}",
            world.build_number,
            crate::build::job::job_name(&world.name)
        ),
    });
}

fn decide_with_job(world: &World, job: &JobFacts, decision: &mut Decision) {
    decision.status.job = Some(ChildReference {
        api_version: "batch/v1".into(),
        kind: "Job".into(),
        name: job.name.clone(),
        uid: Some(job.uid.clone()),
    });
    if let Some(pod) = &world.pod {
        decision.status.pod_name = Some(pod.name.clone());
        decision.status.logs = Some(format!(
            "kubectl logs -n {} {} -c {BUILD_CONTAINER}",
            world.namespace, pod.name
        ));
    }
    let pod = world.pod.as_ref();
    if let Some((reason, message, at)) = &job.failed
        && reason == "DeadlineExceeded"
    {
        let text = format!(
            "the build ran longer than timeoutInMinutes ({}): {message}",
            world.spec.config.timeout_in_minutes
        );
        let end = at.unwrap_or(world.now);
        infrastructure_phases(world, pod, &mut decision.status);
        finish_without_result(world, decision, BuildStatus::TimedOut, text, end);
        return;
    }
    if let Some(ContainerState::Terminated {
        exit_code,
        reason,
        message,
        finished,
        ..
    }) = pod.and_then(|pod| pod.container(BUILD_CONTAINER))
    {
        let end = finished.unwrap_or(world.now);
        infrastructure_phases(world, pod, &mut decision.status);
        finish_with_message(world, decision, *exit_code, reason, message, end);
        return;
    }
    if let Some(pod) = pod
        && let Some(ContainerState::Terminated {
            exit_code,
            reason,
            message,
            finished,
            ..
        }) = [TOOLS_CONTAINER, FETCH_CONTAINER]
            .iter()
            .filter_map(|name| pod.container(name))
            .find(|state| matches!(state, ContainerState::Terminated { exit_code, .. } if *exit_code != 0))
    {
        infrastructure_phases(world, Some(pod), &mut decision.status);
        let end = finished.unwrap_or(world.now);
        let fetch_failed = matches!(pod.container(FETCH_CONTAINER), Some(ContainerState::Terminated { exit_code, .. }) if *exit_code != 0);
        let detail = if message.trim().is_empty() {
            format!("exit code {exit_code} ({reason})")
        } else {
            format!("{} (exit code {exit_code})", message.trim())
        };
        if fetch_failed {
            let text = format!("failed to fetch the source: {detail}");
            finish_without_result(world, decision, BuildStatus::Failed, text, end);
        } else {
            let text = format!("failed to install the executor into the build pod: {detail}");
            finish_without_result(world, decision, BuildStatus::Fault, text, end);
        }
        return;
    }
    if let Some((reason, message, at)) = &job.failed {
        infrastructure_phases(world, pod, &mut decision.status);
        let text = format!("the build Job failed without a result: {reason}: {message}");
        finish_without_result(
            world,
            decision,
            BuildStatus::Fault,
            text,
            at.unwrap_or(world.now),
        );
        return;
    }

    // Still running.
    let current = infrastructure_phases(world, pod, &mut decision.status);
    let started = pod.is_some_and(|pod| {
        pod.containers
            .iter()
            .any(|container| container.state.started().is_some())
    });
    if !started && queued_too_long(world) {
        decision.action = Action::DeleteJob {
            name: job.name.clone(),
            uid: job.uid.clone(),
        };
        let message = format!(
            "the build pod did not start within queuedTimeoutInMinutes ({})",
            world.spec.config.queued_timeout_in_minutes
        );
        finish_without_result(world, decision, BuildStatus::TimedOut, message, world.now);
        return;
    }
    if !started {
        decision.requeue_after = queued_deadline(world)
            .map(|deadline| duration_between(world.now, deadline) + Duration::from_secs(1));
    }
    if let Some(blocked) = pod.and_then(blocking_container) {
        block(world, decision, reasons::CONTAINER_CANNOT_START, blocked);
        return;
    }
    let (reason, message) = match current {
        BuildPhaseType::Submitted | BuildPhaseType::Queued => (
            reasons::QUEUED,
            match pod.and_then(|pod| pod.unschedulable.as_deref()) {
                Some(why) => format!("waiting for the build pod to be scheduled: {why}"),
                None => "waiting for the build pod to start".to_owned(),
            },
        ),
        BuildPhaseType::Provisioning => {
            (reasons::PROVISIONING, "preparing the build pod".to_owned())
        }
        BuildPhaseType::DownloadSource => (reasons::PROVISIONING, "fetching the source".to_owned()),
        _ => (reasons::RUNNING, "running the buildspec".to_owned()),
    };
    if current == BuildPhaseType::Install
        && world.status.current_phase != Some(BuildPhaseType::Install)
    {
        decision.events.push(EventIntent {
            warning: false,
            reason: reasons::EVENT_PHASE_CHANGED,
            note: format!(
                "the buildspec is running in pod {}",
                pod.map(|pod| pod.name.as_str()).unwrap_or_default()
            ),
        });
    }
    progress(world, decision, reason, message);
}

/// The problem of a container that cannot start, as `container NAME: REASON: MESSAGE`.
fn blocking_container(pod: &PodFacts) -> Option<String> {
    pod.containers
        .iter()
        .find_map(|container| match &container.state {
            ContainerState::Waiting { reason, message }
                if BLOCKING_WAIT_REASONS.contains(&reason.as_str()) =>
            {
                Some(format!("container {}: {reason}: {message}", container.name))
            }
            _ => None,
        })
}

/// Ends the build from the build container's termination message and exit code.
fn finish_with_message(
    world: &World,
    decision: &mut Decision,
    exit_code: i32,
    reason: &str,
    message: &str,
    end: Timestamp,
) {
    let Some(result) = parse_result(message) else {
        let text = format!("the executor ended without a result: exit code {exit_code} ({reason})");
        finish_without_result(world, decision, BuildStatus::Fault, text, end);
        return;
    };
    let status = &mut decision.status;
    // The executor's records replace the controller's for the phases it reports itself.
    status.phases.retain(|phase| {
        !result
            .phases
            .iter()
            .any(|theirs| theirs.phase_type == phase.phase_type)
    });
    status.phases.extend(result.phases.iter().cloned());
    status.exported_variables = result.exported_variables.clone();
    status.images = result.images.clone();
    status.artifacts = result.artifacts.clone();
    if result.resolved_source_version.is_some() {
        status.resolved_source_version = result.resolved_source_version.clone();
    }
    let mut build_status = result.build_status;
    let mut text = result
        .message
        .clone()
        .unwrap_or_else(|| match build_status {
            BuildStatus::Succeeded => "every phase succeeded".to_owned(),
            other => format!(
                "the build ended {}",
                crate::build::executor::report::status_name(other)
            ),
        });
    if exit_code == 2 && build_status != BuildStatus::Fault {
        build_status = BuildStatus::Fault;
        text = format!("the executor exited with code 2 (FAULT): {text}");
    }
    if let Some(note) = shortened_result_note(&result) {
        text = format!("{text} ({note})");
    }
    let reason = match build_status {
        BuildStatus::Succeeded => reasons::BUILD_SUCCEEDED,
        BuildStatus::Failed => reasons::BUILD_FAILED,
        BuildStatus::TimedOut => reasons::TIMED_OUT,
        BuildStatus::Stopped => reasons::STOPPED,
        _ => reasons::BUILD_FAULT,
    };
    finish(world, decision, build_status, reason, text, end);
}

/// What a summary left out and where the rest is: the artifact store's copy when there is one
/// (the pod's result file disappears with the pod).
fn shortened_result_note(result: &ReportedResult) -> Option<String> {
    if result.complete {
        return None;
    }
    let mut omitted = Vec::new();
    if !result.omitted_exported_variables.is_empty() {
        omitted.push(format!(
            "exported variables {}",
            result.omitted_exported_variables.join(", ")
        ));
    }
    if !result.omitted_artifacts.is_empty() {
        omitted.push(format!("artifacts {}", result.omitted_artifacts.join(", ")));
    }
    if omitted.is_empty() {
        return None;
    }
    let place = result
        .result_location
        .as_deref()
        .or(result.result_file.as_deref())
        .unwrap_or("the result file");
    Some(format!(
        "result shortened to fit the termination message; {} in {place}",
        omitted.join(" and ")
    ))
}

/// Ends the build without an executor result: the open phase (or the last one) gets `status`,
/// then `COMPLETED`.
fn finish_without_result(
    world: &World,
    decision: &mut Decision,
    build_status: BuildStatus,
    message: String,
    end: Timestamp,
) {
    let phases = &mut decision.status.phases;
    if phases.is_empty() {
        phases.push(phase(
            BuildPhaseType::Submitted,
            world.created,
            None,
            None,
            None,
        ));
    }
    if let Some(open) = phases
        .iter_mut()
        .rev()
        .find(|phase| phase.phase_status.is_none())
    {
        close(open, end, build_status, Some(message.clone()));
    }
    phases.push(phase(
        BuildPhaseType::Completed,
        Some(end),
        None,
        None,
        None,
    ));
    let reason = match build_status {
        BuildStatus::Stopped => reasons::STOPPED,
        BuildStatus::TimedOut => reasons::TIMED_OUT,
        BuildStatus::Failed => reasons::BUILD_FAILED,
        _ => reasons::BUILD_FAULT,
    };
    finish(world, decision, build_status, reason, message, end);
}

/// Sets the final fields, conditions and the final Event.
fn finish(
    world: &World,
    decision: &mut Decision,
    build_status: BuildStatus,
    reason: &'static str,
    message: String,
    end: Timestamp,
) {
    let succeeded = build_status == BuildStatus::Succeeded;
    let status = &mut decision.status;
    status.build_status = Some(build_status);
    if status.phases.last().map(|phase| phase.phase_type) != Some(BuildPhaseType::Completed) {
        status.phases.push(phase(
            BuildPhaseType::Completed,
            Some(end),
            None,
            None,
            None,
        ));
    }
    status.current_phase = status.phases.last().map(|phase| phase.phase_type);
    status.message = Some(message.clone());
    status.completion_time = Some(Time(end));
    status.duration_in_seconds = status
        .start_time
        .as_ref()
        .map(|start| seconds_between(start.0, end));
    let conditions = &mut status.conditions;
    let (generation, now) = (world.generation, world.now);
    set_condition(
        conditions, SUCCEEDED, succeeded, reason, &message, generation, now,
    );
    set_condition(
        conditions,
        RECONCILING,
        false,
        reason,
        "the build ended",
        generation,
        now,
    );
    set_condition(
        conditions, STALLED, !succeeded, reason, &message, generation, now,
    );
    let event_reason = match build_status {
        BuildStatus::Succeeded => reasons::EVENT_SUCCEEDED,
        BuildStatus::Stopped => reasons::EVENT_STOPPED,
        BuildStatus::TimedOut => reasons::EVENT_TIMED_OUT,
        _ => reasons::EVENT_FAILED,
    };
    decision.events.push(EventIntent {
        warning: !succeeded,
        reason: event_reason,
        note: message,
    });
}

/// In progress and moving: Succeeded=Unknown, Reconciling=True, Stalled=False.
fn progress(world: &World, decision: &mut Decision, reason: &'static str, message: String) {
    in_progress(world, decision, false, reason, message);
}

/// In progress but blocked until a user acts: Stalled=True naming the problem, one Warning.
fn block(world: &World, decision: &mut Decision, reason: &'static str, message: String) {
    let already = find(&world.status.conditions, STALLED)
        .is_some_and(|stalled| stalled.status == "True" && stalled.message == message);
    if !already {
        decision.events.push(EventIntent {
            warning: true,
            reason: reasons::EVENT_BLOCKED,
            note: message.clone(),
        });
    }
    in_progress(world, decision, true, reason, message);
}

/// In progress: Succeeded=Unknown, Reconciling unless `stalled`, Stalled when `stalled`, all
/// with `reason` and `message`, which also becomes the status message.
fn in_progress(
    world: &World,
    decision: &mut Decision,
    stalled: bool,
    reason: &'static str,
    message: String,
) {
    let status = &mut decision.status;
    set_summary(
        &mut status.conditions,
        &Summary {
            primary: SUCCEEDED,
            status: ConditionStatus::Unknown,
            reconciling: !stalled,
            stalled,
            reason,
            message: &message,
        },
        world.generation,
        world.now,
    );
    status.message = Some(message);
}

/// The inline buildspec's first problem, as `spec.buildspec.inline:LINE:COLUMN: error: …`.
pub fn invalid_inline_buildspec(spec: &BuildRunSpec) -> Option<String> {
    let text = spec.config.buildspec.as_ref()?.inline.as_deref()?;
    let file = "spec.buildspec.inline";
    match parse_buildspec(text, file) {
        Err(invalid) => Some(diagnostic_line(invalid.first_error())),
        Ok(parsed) => parsed
            .spec
            .unsupported_features(file)
            .first()
            .map(diagnostic_line),
    }
}

fn diagnostic_line(diagnostic: &crate::build::buildspec::Diagnostic) -> String {
    let mut line = format!(
        "{}:{}:{}: {}",
        diagnostic.file, diagnostic.line, diagnostic.column, diagnostic.message
    );
    if let Some(fix) = &diagnostic.fix {
        line.push_str(&format!(" (fix: {fix})"));
    }
    line
}

fn queued_deadline(world: &World) -> Option<Timestamp> {
    let minutes = i64::from(world.spec.config.queued_timeout_in_minutes);
    world.created.and_then(|created| {
        created
            .checked_add(k8s_openapi::jiff::SignedDuration::from_mins(minutes))
            .ok()
    })
}

fn queued_too_long(world: &World) -> bool {
    queued_deadline(world).is_some_and(|deadline| deadline <= world.now)
}

fn duration_between(from: Timestamp, to: Timestamp) -> Duration {
    Duration::try_from(to.duration_since(from)).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
