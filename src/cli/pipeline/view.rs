//! How `get pipeline` and `get execution` show their objects (pure text from the objects and
//! the time, so the layout is unit-tested and `--watch` can reprint only when the text changes).

use std::fmt::Write as _;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use super::request::{action_kind, ended, stage_status};
use crate::api::PipelineExecution;
use crate::api::execution::{
    ActionExecutionStatus, ActionStatus, ExecutionStatus, SourceRevision, StageWait, WaitReason,
};
use crate::api::pipeline::{Pipeline, PipelineSource, PipelineSpec, Stage};
use crate::cli::text::{duration, elapsed, table};

/// Width of the label column, as in `deploy status`.
const LABEL_WIDTH: usize = 14;

/// Adds one `Label:   value` line.
fn line(out: &mut String, label: &str, value: &str) {
    let _ = writeln!(out, "{:<LABEL_WIDTH$}{value}", format!("{label}:"));
}

/// The multi-line view of one Pipeline.
pub fn render_pipeline(pipeline: &Pipeline) -> String {
    let name = pipeline.metadata.name.as_deref().unwrap_or_default();
    let namespace = pipeline.metadata.namespace.as_deref().unwrap_or("default");
    let status = pipeline.status.clone().unwrap_or_default();
    let spec = &pipeline.spec;
    let mut out = String::new();
    line(&mut out, "Name", &format!("{name} (namespace {namespace})"));
    let phase = status.phase.map_or_else(
        || "not reported yet".to_owned(),
        |phase| format!("{phase:?}"),
    );
    line(&mut out, "Phase", &phase);
    if let Some(message) = &status.message {
        line(&mut out, "Message", message);
    }
    line(&mut out, "Source", &describe_source(&spec.source));
    line(&mut out, "Mode", &format!("{:?}", spec.execution_mode));
    let variables: Vec<String> = spec
        .variables
        .iter()
        .map(|variable| match &variable.default {
            Some(default) => format!("{} (default {default:?})", variable.name),
            None => format!("{} (no default)", variable.name),
        })
        .collect();
    if !variables.is_empty() {
        line(&mut out, "Variables", &variables.join(", "));
    }
    out.push_str("Stages:\n");
    let mut rows = vec![cells(&[
        "STAGE / ACTION",
        "KIND",
        "RUN ORDER",
        "TRANSITION",
    ])];
    for stage in &spec.stages {
        rows.push(vec![
            stage.name.clone(),
            String::new(),
            String::new(),
            describe_transition(stage),
        ]);
        for action in &stage.actions {
            rows.push(vec![
                format!("  {}", action.name),
                action_kind(action).to_owned(),
                action.run_order.to_string(),
                String::new(),
            ]);
        }
    }
    out.push_str(&table(&rows, "  "));
    if let Some(last) = &status.last_execution {
        let mut text = last.name.clone();
        if let Some(state) = last.status {
            let _ = write!(text, " {state:?}");
        }
        if let Some(revision) = &last.revision {
            let _ = write!(text, ", revision {revision}");
        }
        if let Some(start) = &last.start_time {
            let _ = write!(text, ", started {}", start.0);
        }
        line(&mut out, "Last run", &text);
    }
    let ready =
        condition(&status.conditions, "Ready").unwrap_or_else(|| "not reported yet".to_owned());
    line(&mut out, "Ready", &ready);
    out
}

/// The multi-line view of one run at `now`. Stages not reached yet are listed from the spec the
/// run executes: its snapshot (`status.pipelineSpec`), else `live` (the Pipeline's spec, before
/// the run has started).
pub fn render_execution(
    execution: &PipelineExecution,
    live: Option<&PipelineSpec>,
    now: &Time,
) -> String {
    let spec = run_spec(execution).or(live);
    let name = execution.metadata.name.as_deref().unwrap_or_default();
    let namespace = execution.metadata.namespace.as_deref().unwrap_or("default");
    let status = execution.status.clone().unwrap_or_default();
    let mut out = String::new();
    line(&mut out, "Name", &format!("{name} (namespace {namespace})"));
    line(&mut out, "Pipeline", &execution.spec.pipeline_ref.name);
    let phase = status.phase.map_or_else(
        || "not started yet".to_owned(),
        |phase| format!("{phase:?}"),
    );
    line(&mut out, "Phase", &phase);
    if let Some(message) = &status.message {
        line(&mut out, "Message", message);
    }
    let trigger = &execution.spec.trigger;
    let mut started_by = format!("{:?}", trigger.type_);
    if let Some(actor) = &trigger.actor {
        let _ = write!(started_by, " by {actor}");
    }
    if let Some(detail) = &trigger.detail {
        let _ = write!(started_by, ": {detail}");
    }
    line(&mut out, "Trigger", &started_by);
    let revision = match (&status.source_revision, &execution.spec.source) {
        (Some(resolved), _) => describe_revision(resolved),
        (None, Some(requested)) => format!("{} (not resolved yet)", describe_revision(requested)),
        (None, None) => "the head of the source (not resolved yet)".to_owned(),
    };
    line(&mut out, "Revision", &revision);
    if let Some(stage) = &status.current_stage {
        line(&mut out, "Stage", stage);
    }
    if let Some(waiting) = &status.waiting {
        let mut text = format!("before stage {}: {}", waiting.stage, describe_wait(waiting));
        if let Some(since) = &waiting.since {
            let _ = write!(text, " (since {})", since.0);
        }
        line(&mut out, "Waiting", &text);
    }
    if let Some(stop) = &execution.spec.control.stop {
        let mut text = if stop.abandon {
            "requested, abandoning running actions".to_owned()
        } else {
            "requested, waiting for running actions".to_owned()
        };
        if let Some(reason) = &stop.reason {
            let _ = write!(text, ": {reason}");
        }
        line(&mut out, "Stop", &text);
    }
    out.push_str("Stages:\n");
    out.push_str(&table(&stage_rows(execution, spec, now), "  "));
    for next in next_steps(execution, spec) {
        line(&mut out, "Next", &next);
    }
    out
}

/// The stage and action rows of a run: the stages of `spec` in order (those not reached yet
/// with `-`), then any the status names that `spec` does not.
fn stage_rows(
    execution: &PipelineExecution,
    spec: Option<&PipelineSpec>,
    now: &Time,
) -> Vec<Vec<String>> {
    let status = execution.status.clone().unwrap_or_default();
    let mut names: Vec<&str> = spec
        .map(|spec| {
            spec.stages
                .iter()
                .map(|stage| stage.name.as_str())
                .collect()
        })
        .unwrap_or_default();
    for stage in &status.stages {
        if !names.contains(&stage.name.as_str()) {
            names.push(&stage.name);
        }
    }
    let mut rows = vec![cells(&[
        "STAGE / ACTION",
        "STATUS",
        "ATTEMPT",
        "DURATION",
        "CHILD",
        "URL",
        "MESSAGE",
    ])];
    for name in names {
        let planned = spec.and_then(|spec| spec.stages.iter().find(|stage| stage.name == name));
        let observed = stage_status(execution, name);
        rows.push(match observed {
            Some(stage) => vec![
                name.to_owned(),
                state(stage.status),
                stage.attempt.to_string(),
                span(
                    stage.start_time.as_ref(),
                    stage.completion_time.as_ref(),
                    now,
                ),
                "-".to_owned(),
                "-".to_owned(),
                stage.message.clone().unwrap_or_default(),
            ],
            None => not_started(name.to_owned()),
        });
        let actions = observed
            .map(|stage| stage.actions.as_slice())
            .unwrap_or_default();
        for action in actions {
            rows.push(action_row(action, now));
        }
        for action in planned
            .map(|stage| stage.actions.as_slice())
            .unwrap_or_default()
        {
            if !actions.iter().any(|observed| observed.name == action.name) {
                rows.push(not_started(format!("  {}", action.name)));
            }
        }
    }
    rows
}

fn action_row(action: &ActionStatus, now: &Time) -> Vec<String> {
    let child = action.child.as_ref().map_or_else(
        || "-".to_owned(),
        |child| format!("{}/{}", child.kind, child.name),
    );
    vec![
        format!("  {}", action.name),
        state(action.status),
        action.attempt.to_string(),
        span(
            action.start_time.as_ref(),
            action.completion_time.as_ref(),
            now,
        ),
        child,
        action
            .external_url
            .clone()
            .unwrap_or_else(|| "-".to_owned()),
        action.message.clone().unwrap_or_default(),
    ]
}

fn not_started(name: String) -> Vec<String> {
    let mut row = vec![name];
    row.extend(cells(&["-", "-", "-", "-", "-"]));
    row.push(String::new());
    row
}

fn cells(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|text| (*text).to_owned()).collect()
}

fn state<T: std::fmt::Debug>(status: Option<T>) -> String {
    status.map_or_else(|| "-".to_owned(), |status| format!("{status:?}"))
}

/// How long something ran: to its end, or to `now` while it runs.
fn span(start: Option<&Time>, end: Option<&Time>, now: &Time) -> String {
    match start {
        Some(start) => duration(elapsed(start, end.unwrap_or(now))),
        None => "-".to_owned(),
    }
}

/// What the user can do next: answer each approval that waits for them.
fn next_steps(execution: &PipelineExecution, spec: Option<&PipelineSpec>) -> Vec<String> {
    let (Some(spec), None) = (spec, ended(execution)) else {
        return Vec::new();
    };
    let name = execution.metadata.name.as_deref().unwrap_or_default();
    let namespace = execution.metadata.namespace.as_deref().unwrap_or("default");
    let mut steps = Vec::new();
    for stage in &spec.stages {
        let Some(observed) = stage_status(execution, &stage.name) else {
            continue;
        };
        for action in &stage.actions {
            let waiting = action.approval.is_some()
                && observed.actions.iter().any(|status| {
                    status.name == action.name
                        && status.attempt == observed.attempt
                        && status.status == Some(ActionExecutionStatus::InProgress)
                });
            if !waiting {
                continue;
            }
            let answer = execution.spec.control.approvals.iter().find(|answer| {
                answer.stage == stage.name
                    && answer.action == action.name
                    && answer.attempt == observed.attempt
            });
            steps.push(match answer {
                Some(answer) => format!(
                    "approval {}/{} was answered {:?}{}; waiting for the controller to act on it",
                    stage.name,
                    action.name,
                    answer.result,
                    answer
                        .approved_by
                        .as_ref()
                        .map(|who| format!(" by {who}"))
                        .unwrap_or_default()
                ),
                None => format!(
                    "approval {stage}/{action} waits for an answer: kubectl slipway approve \
                     {name} --stage {stage} --action {action} -n {namespace} (or reject, with \
                     --comment)",
                    stage = stage.name,
                    action = action.name
                ),
            });
        }
    }
    steps
}

/// The spec a run executes once it has started: the snapshot in its status.
pub fn run_spec(execution: &PipelineExecution) -> Option<&PipelineSpec> {
    execution
        .status
        .as_ref()
        .and_then(|status| status.pipeline_spec.as_deref())
}

/// Why a run waits before a stage, in words.
pub fn describe_wait(waiting: &StageWait) -> String {
    match waiting.reason {
        WaitReason::StageLocked => match &waiting.holder {
            Some(holder) => format!("run {holder} is in the stage"),
            None => "another run is in the stage".to_owned(),
        },
        WaitReason::Queued => "older runs waiting for it go first (Queued mode)".to_owned(),
        WaitReason::TransitionDisabled => {
            "its transition is disabled (`kubectl slipway get pipe` says why)".to_owned()
        }
    }
}

/// How `get execution --watch` ends for a run: `None` while it runs, else success or the reason
/// for a non-zero exit.
pub fn watch_outcome(execution: &PipelineExecution) -> Option<Result<(), String>> {
    let name = execution.metadata.name.as_deref().unwrap_or_default();
    let message = execution
        .status
        .as_ref()
        .and_then(|status| status.message.clone())
        .unwrap_or_default();
    match ended(execution)? {
        ExecutionStatus::Succeeded => Some(Ok(())),
        phase => Some(Err(format!(
            "PipelineExecution {name} ended {phase:?}: {message}"
        ))),
    }
}

fn describe_source(source: &PipelineSource) -> String {
    let (text, poll) = if let Some(git) = &source.git {
        (
            format!("git {}, branch {}", git.url, git.branch),
            &git.poll_interval,
        )
    } else if let Some(image) = &source.image {
        (
            format!("image {}:{}", image.repository, image.tag),
            &image.poll_interval,
        )
    } else if let Some(object) = &source.object_store {
        (format!("object {}", object.url), &object.poll_interval)
    } else {
        return "none".to_owned();
    };
    let polled = match poll.to_duration() {
        Ok(interval) if interval.is_zero() => "not polled".to_owned(),
        _ => format!("polled every {}", poll.0),
    };
    format!("{text} ({polled})")
}

fn describe_transition(stage: &Stage) -> String {
    match &stage.transition {
        Some(transition) if !transition.enabled => match &transition.disabled_reason {
            Some(reason) => format!("disabled: {reason}"),
            None => "disabled".to_owned(),
        },
        _ => "enabled".to_owned(),
    }
}

fn describe_revision(revision: &SourceRevision) -> String {
    let mut parts = Vec::new();
    let named = [
        ("commit", &revision.commit_id),
        ("branch", &revision.branch_name),
        ("tag", &revision.tag_name),
        ("image", &revision.image_uri),
        ("digest", &revision.image_digest),
        ("version", &revision.object_version),
    ];
    for (label, value) in named {
        if let Some(value) = value {
            parts.push(format!("{label} {value}"));
        }
    }
    let mut text = if parts.is_empty() {
        "the head of the source".to_owned()
    } else {
        parts.join(", ")
    };
    if let Some(message) = &revision.commit_message {
        let _ = write!(text, ": {message}");
    }
    text
}

fn condition(conditions: &[Condition], type_: &str) -> Option<String> {
    let condition = conditions
        .iter()
        .find(|condition| condition.type_ == type_)?;
    Some(format!(
        "{} {}: {}",
        condition.status, condition.reason, condition.message
    ))
}
