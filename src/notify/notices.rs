//! What a run's status has to say to its notification sinks (pure).
//!
//! # Rules
//! - A run that has a phase has **started**; a terminal phase is its **end** (`succeeded`,
//!   `failed`, `stopped`, `superseded`, `cancelled`).
//! - A stage or action attempt with a start time has **started**; a terminal status is its
//!   end. A skipped stage only ends (`skipped`). Each attempt is its own pair: a retried stage
//!   notifies again under `#2`.
//! - Order: the run's start, then stage by stage each stage's start, its actions' starts and
//!   ends, the stage's end; the run's end last — the order a reader of the run would tell it.
//! - Keys are stable for the life of the run (`run:started`, `stage:Build#1:Succeeded`,
//!   `action:Build/Image#1:started`), so a sink's `delivered` list says exactly what is pending.
//! - A sink gets the notices of the scopes it lists in `on`.

use serde_json::{Value, json};

use crate::api::execution::{
    ActionExecutionStatus, ActionStatus, ExecutionStatus, NotificationProgress,
    PipelineExecutionStatus, StageExecutionStatus, StageStatus,
};
use crate::api::pipeline::{NotificationScope, NotificationSink};

/// The CloudEvents type prefix of every notice.
pub const TYPE_PREFIX: &str = "dev.slipway.pipeline";

/// One thing to tell a sink.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// Stable within the run: what `status.notifications[].delivered` lists.
    pub key: String,
    /// What it is about.
    pub scope: NotificationScope,
    /// `dev.slipway.pipeline.execution.succeeded`, `….stage.started`, `….action.failed`.
    pub type_: String,
    /// When it happened (RFC 3339), when the status says.
    pub time: Option<String>,
    /// The notice's data (the JSON body of a CloudEvent).
    pub data: Value,
}

/// Everything `status` has to say, in telling order.
pub fn notices(status: &PipelineExecutionStatus) -> Vec<Notice> {
    let Some(phase) = status.phase else {
        return Vec::new();
    };
    let revision = status.source_revision.as_ref().and_then(|source| {
        source
            .commit_id
            .clone()
            .or_else(|| source.image_digest.clone())
            .or_else(|| source.object_version.clone())
    });
    let mut all = vec![Notice {
        key: "run:started".into(),
        scope: NotificationScope::Execution,
        type_: format!("{TYPE_PREFIX}.execution.started"),
        time: status.start_time.as_ref().map(|time| time.0.to_string()),
        data: json!({"status": "InProgress", "revision": revision}),
    }];
    for stage in &status.stages {
        stage_notices(stage, &mut all);
    }
    if let Some(end) = execution_end(phase) {
        all.push(Notice {
            key: format!("run:{phase:?}"),
            scope: NotificationScope::Execution,
            type_: format!("{TYPE_PREFIX}.execution.{end}"),
            time: status.completion_time.as_ref().map(|time| time.0.to_string()),
            data: json!({"status": format!("{phase:?}"), "revision": revision, "message": status.message}),
        });
    }
    all
}

fn stage_notices(stage: &StageStatus, all: &mut Vec<Notice>) {
    let Some(state) = stage.status else {
        return;
    };
    let id = format!("{}#{}", stage.name, stage.attempt.max(1));
    if stage.start_time.is_some() && state != StageExecutionStatus::Skipped {
        all.push(Notice {
            key: format!("stage:{id}:started"),
            scope: NotificationScope::Stage,
            type_: format!("{TYPE_PREFIX}.stage.started"),
            time: stage.start_time.as_ref().map(|time| time.0.to_string()),
            data: json!({"stage": stage.name, "attempt": stage.attempt.max(1), "status": "InProgress"}),
        });
    }
    for action in &stage.actions {
        action_notices(stage, action, all);
    }
    if let Some(end) = stage_end(state) {
        all.push(Notice {
            key: format!("stage:{id}:{state:?}"),
            scope: NotificationScope::Stage,
            type_: format!("{TYPE_PREFIX}.stage.{end}"),
            time: stage
                .completion_time
                .as_ref()
                .map(|time| time.0.to_string()),
            data: json!({"stage": stage.name, "attempt": stage.attempt.max(1), "status": format!("{state:?}"), "message": stage.message}),
        });
    }
}

fn action_notices(stage: &StageStatus, action: &ActionStatus, all: &mut Vec<Notice>) {
    let Some(state) = action.status else {
        return;
    };
    let attempt = action.attempt.max(1);
    let id = format!("{}/{}#{attempt}", stage.name, action.name);
    let base = json!({"stage": stage.name, "action": action.name, "attempt": attempt});
    let with = |mut data: Value, extra: Value| {
        if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
            for (key, value) in extra {
                if !value.is_null() {
                    data.insert(key.clone(), value.clone());
                }
            }
        }
        data
    };
    if action.start_time.is_some() {
        all.push(Notice {
            key: format!("action:{id}:started"),
            scope: NotificationScope::Action,
            type_: format!("{TYPE_PREFIX}.action.started"),
            time: action.start_time.as_ref().map(|time| time.0.to_string()),
            data: with(
                base.clone(),
                json!({"status": "InProgress", "externalUrl": action.external_url}),
            ),
        });
    }
    let end = match state {
        ActionExecutionStatus::InProgress => None,
        ActionExecutionStatus::Succeeded => Some("succeeded"),
        ActionExecutionStatus::Failed => Some("failed"),
        ActionExecutionStatus::Abandoned => Some("abandoned"),
    };
    if let Some(end) = end {
        all.push(Notice {
            key: format!("action:{id}:{state:?}"),
            scope: NotificationScope::Action,
            type_: format!("{TYPE_PREFIX}.action.{end}"),
            time: action
                .completion_time
                .as_ref()
                .map(|time| time.0.to_string()),
            data: with(
                base,
                json!({"status": format!("{state:?}"), "message": action.message, "externalUrl": action.external_url}),
            ),
        });
    }
}

fn execution_end(phase: ExecutionStatus) -> Option<&'static str> {
    match phase {
        ExecutionStatus::Succeeded => Some("succeeded"),
        ExecutionStatus::Failed => Some("failed"),
        ExecutionStatus::Stopped => Some("stopped"),
        ExecutionStatus::Superseded => Some("superseded"),
        ExecutionStatus::Cancelled => Some("cancelled"),
        ExecutionStatus::InProgress | ExecutionStatus::Stopping => None,
    }
}

fn stage_end(state: StageExecutionStatus) -> Option<&'static str> {
    match state {
        StageExecutionStatus::Succeeded => Some("succeeded"),
        StageExecutionStatus::Failed => Some("failed"),
        StageExecutionStatus::Stopped => Some("stopped"),
        StageExecutionStatus::Superseded => Some("superseded"),
        StageExecutionStatus::Cancelled => Some("cancelled"),
        StageExecutionStatus::Skipped => Some("skipped"),
        StageExecutionStatus::InProgress | StageExecutionStatus::Stopping => None,
    }
}

/// The notices of `all` that `sink` asks for and `progress` does not list, in order.
pub fn pending<'a>(
    sink: &NotificationSink,
    all: &'a [Notice],
    progress: Option<&NotificationProgress>,
) -> Vec<&'a Notice> {
    let delivered = progress.map_or(&[][..], |progress| progress.delivered.as_slice());
    all.iter()
        .filter(|notice| sink.on.contains(&notice.scope))
        .filter(|notice| !delivered.contains(&notice.key))
        .collect()
}

#[cfg(test)]
#[path = "notices_tests.rs"]
mod tests;
