//! What `retry` and `stop` write into an execution's `spec.control` (pure, so every refusal and
//! every patch is unit-tested), the refusals of every pipeline request, and the checks they
//! share; `approve`/`reject` are decided in [`super::approval`], `transitions` in
//! [`super::transition`].
//!
//! # Guarantees
//! - Stages and actions are checked against the spec the run executes (`status.pipelineSpec`,
//!   or the live Pipeline before the run has started), so a Pipeline edited meanwhile cannot make
//!   a request name a stage or action the run does not have.
//! - A retry is asked for a `Failed` or `Stopped` stage once: while an earlier request is not
//!   yet applied (`retryRequestsApplied` counts applied ones) a second would start an attempt
//!   nobody asked for after the first one fails.
//! - A stop only escalates, from waiting to abandoning; the CRD refuses the reverse as well.
//! - Appended lists (`approvals`, `retries`) are written whole with the read entries first: the
//!   write path's `resourceVersion` precondition makes that equal to appending.

use serde_json::{Value, json};

use crate::api::PipelineExecution;
use crate::api::execution::{
    ExecutionStatus, RetryRequest, StageExecutionStatus, StageStatus, StopRequest,
};
use crate::api::pipeline::{Action, PipelineSpec, RetryMode, Stage};
use crate::cli::write::{Change, PatchBody};

/// The longest stop reason the CRD accepts.
pub const MAX_STOP_REASON_LENGTH: usize = 200;
/// The most entries `spec.control.approvals` and `spec.control.retries` hold.
pub const MAX_CONTROL_ENTRIES: usize = 100;

/// Why a request is refused; each message names the object and what to do instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    /// The run has ended.
    #[error("PipelineExecution {name} has ended ({phase:?}): {advice}")]
    Ended {
        /// The execution.
        name: String,
        /// How it ended.
        phase: ExecutionStatus,
        /// What to do instead.
        advice: String,
    },
    /// `--stage` names no stage of the spec the run executes.
    #[error("{owner} has no stage {stage:?}: its stages are {known}")]
    UnknownStage {
        /// The execution or pipeline, with its kind.
        owner: String,
        /// The stage asked for.
        stage: String,
        /// The stages there are.
        known: String,
    },
    /// `--action` names no action of the stage.
    #[error(
        "stage {stage} of PipelineExecution {name} has no action {action:?}: its actions are {known}"
    )]
    UnknownAction {
        /// The execution.
        name: String,
        /// The stage.
        stage: String,
        /// The action asked for.
        action: String,
        /// The actions there are.
        known: String,
    },
    /// The action is not an approval.
    #[error(
        "action {stage}/{action} of PipelineExecution {name} is a {kind} action, not an approval: \
         only approval actions take an answer{hint}"
    )]
    NotApproval {
        /// The execution.
        name: String,
        /// The stage.
        stage: String,
        /// The action.
        action: String,
        /// What it is.
        kind: &'static str,
        /// The stage's approval actions, if any.
        hint: String,
    },
    /// The approval is not waiting for an answer.
    #[error(
        "approval {stage}/{action} of PipelineExecution {name} is not waiting for an answer: {why}"
    )]
    NotWaiting {
        /// The execution.
        name: String,
        /// The stage.
        stage: String,
        /// The action.
        action: String,
        /// Its state.
        why: String,
    },
    /// This attempt of the approval already has an answer.
    #[error(
        "approval {stage}/{action} of PipelineExecution {name} already has an answer for attempt \
         {attempt}: {existing}; an answer cannot be changed once given{advice}"
    )]
    AlreadyAnswered {
        /// The execution.
        name: String,
        /// The stage.
        stage: String,
        /// The action.
        action: String,
        /// The attempt.
        attempt: i32,
        /// The answer, described.
        existing: String,
        /// What to do instead.
        advice: String,
    },
    /// The stage is neither Failed nor Stopped.
    #[error(
        "stage {stage} of PipelineExecution {name} is {status}: only a Failed or Stopped stage \
         can be retried"
    )]
    NotRetryable {
        /// The execution.
        name: String,
        /// The stage.
        stage: String,
        /// Its status, described.
        status: String,
    },
    /// An earlier retry of the stage has not started its attempt yet.
    #[error(
        "stage {stage} of PipelineExecution {name} ({status}) already has a retry request the \
         controller has not applied yet ({requested} requested, {applied} applied): wait for it \
         to start the next attempt (`kubectl slipway get pexec {name} --watch`)"
    )]
    RetryPending {
        /// The execution.
        name: String,
        /// The stage.
        stage: String,
        /// Its status.
        status: String,
        /// Requests in the spec.
        requested: usize,
        /// Requests applied.
        applied: i32,
    },
    /// A control list is full.
    #[error(
        "spec.control.{field} of PipelineExecution {name} holds {MAX_CONTROL_ENTRIES} entries, \
         the most it can: start a new run with `kubectl slipway start {pipeline}`"
    )]
    ControlFull {
        /// The execution.
        name: String,
        /// The list.
        field: &'static str,
        /// Its pipeline.
        pipeline: String,
    },
    /// An abandon cannot become a wait.
    #[error(
        "PipelineExecution {name} is already being stopped with --abandon: a stop cannot go back \
         to waiting for running actions (a stop only escalates from waiting to abandoning)"
    )]
    StopDowngrade {
        /// The execution.
        name: String,
    },
    /// A text flag is longer than the CRD allows.
    #[error("{flag} is {length} characters long; at most {limit} fit")]
    TooLong {
        /// The flag.
        flag: &'static str,
        /// Its length.
        length: usize,
        /// The limit.
        limit: usize,
    },
    /// `transitions disable` without `--reason`.
    #[error(
        "disabling the transition into stage {stage} needs --reason: say why runs are held (it \
         is shown to whoever finds them waiting)"
    )]
    ReasonRequired {
        /// The stage.
        stage: String,
    },
}

/// Decides what `retry` appends to `spec.control.retries`.
///
/// # Errors
/// [`RequestError`] when the run was superseded, cancelled or succeeded, the stage is unknown,
/// not Failed or Stopped, or has a retry not yet applied.
pub fn decide_retry(
    execution: &PipelineExecution,
    spec: &PipelineSpec,
    stage: &str,
    mode: RetryMode,
) -> Result<Change, RequestError> {
    let name = execution_name(execution);
    if let Some(
        phase @ (ExecutionStatus::Succeeded
        | ExecutionStatus::Superseded
        | ExecutionStatus::Cancelled),
    ) = ended(execution)
    {
        return Err(RequestError::Ended {
            advice: format!(
                "only a Failed or Stopped run can be retried; {}",
                after_end(execution, phase)
            ),
            name,
            phase,
        });
    }
    let stage = find_stage(spec, stage, &format!("PipelineExecution {name}"))?;
    let observed = stage_status(execution, &stage.name);
    let status = observed
        .and_then(|observed| observed.status)
        .map_or_else(|| "not started".to_owned(), |status| format!("{status:?}"));
    let Some(observed) = observed.filter(|observed| {
        matches!(
            observed.status,
            Some(StageExecutionStatus::Failed | StageExecutionStatus::Stopped)
        )
    }) else {
        return Err(RequestError::NotRetryable {
            name,
            stage: stage.name.clone(),
            status,
        });
    };
    let control = &execution.spec.control;
    let requested = control
        .retries
        .iter()
        .filter(|retry| retry.stage == stage.name)
        .count();
    let applied = observed.retry_requests_applied;
    if i32::try_from(requested).unwrap_or(i32::MAX) > applied {
        return Err(RequestError::RetryPending {
            name,
            stage: stage.name.clone(),
            status,
            requested,
            applied,
        });
    }
    check_room(execution, "retries", control.retries.len())?;
    let mut retries = control.retries.clone();
    retries.push(RetryRequest {
        stage: stage.name.clone(),
        mode,
    });
    let which = match mode {
        RetryMode::FailedActions => "its failed actions",
        RetryMode::AllActions => "all its actions",
    };
    Ok(Change::Patch {
        patch: control_patch(json!({ "retries": retries })),
        summary: format!(
            "retrying stage {} of {name} ({status}): attempt {} runs {which} again",
            stage.name,
            observed.attempt + 1
        ),
    })
}

/// Decides what `stop` sets as `spec.control.stop`.
///
/// # Errors
/// [`RequestError`] when the reason is too long, the run has ended, or an abandon would become
/// a wait.
pub fn decide_stop(
    execution: &PipelineExecution,
    request: &StopRequest,
) -> Result<Change, RequestError> {
    check_length(
        "--reason",
        request.reason.as_deref(),
        MAX_STOP_REASON_LENGTH,
    )?;
    let name = execution_name(execution);
    if let Some(phase) = ended(execution) {
        return Err(RequestError::Ended {
            advice: format!(
                "there is nothing left to stop; {}",
                after_end(execution, phase)
            ),
            name,
            phase,
        });
    }
    let mut stop = json!({ "abandon": request.abandon });
    if let Some(reason) = &request.reason {
        stop["reason"] = json!(reason);
    }
    let abandoning = "running actions are abandoned now (their children are stopped too)";
    match &execution.spec.control.stop {
        Some(existing) if existing.abandon && !request.abandon => {
            Err(RequestError::StopDowngrade { name })
        }
        Some(existing) if existing.abandon == request.abandon => {
            let how = if existing.abandon {
                "abandoning its running actions"
            } else {
                "waiting for its running actions to finish"
            };
            Ok(Change::Unchanged(format!(
                "{name} is already stopping, {how}; {}",
                controller_says(execution)
            )))
        }
        Some(_) => Ok(Change::Patch {
            patch: control_patch(json!({ "stop": stop })),
            summary: format!("escalated the stop of {name} to abandon: {abandoning}"),
        }),
        None => {
            let next = if request.abandon {
                abandoning
            } else {
                "running actions finish, then the run stops (--abandon stops them now)"
            };
            Ok(Change::Patch {
                patch: control_patch(json!({ "stop": stop })),
                summary: format!("stopping {name}: {next}"),
            })
        }
    }
}

/// The status a run ended in, if it has.
pub fn ended(execution: &PipelineExecution) -> Option<ExecutionStatus> {
    match execution.status.as_ref()?.phase? {
        ExecutionStatus::InProgress | ExecutionStatus::Stopping => None,
        phase => Some(phase),
    }
}

/// The stage's observed status in the run.
pub fn stage_status<'a>(execution: &'a PipelineExecution, stage: &str) -> Option<&'a StageStatus> {
    execution
        .status
        .as_ref()?
        .stages
        .iter()
        .find(|status| status.name == stage)
}

pub use crate::pipeline::validate::action_kind;

pub(super) fn find_stage<'a>(
    spec: &'a PipelineSpec,
    stage: &str,
    owner: &str,
) -> Result<&'a Stage, RequestError> {
    spec.stages
        .iter()
        .find(|candidate| candidate.name == stage)
        .ok_or_else(|| RequestError::UnknownStage {
            owner: owner.to_owned(),
            stage: stage.to_owned(),
            known: names(spec.stages.iter().map(|stage| stage.name.as_str())),
        })
}

pub(super) fn find_action<'a>(
    name: &str,
    stage: &'a Stage,
    action: &str,
) -> Result<&'a Action, RequestError> {
    stage
        .actions
        .iter()
        .find(|candidate| candidate.name == action)
        .ok_or_else(|| RequestError::UnknownAction {
            name: name.to_owned(),
            stage: stage.name.clone(),
            action: action.to_owned(),
            known: names(stage.actions.iter().map(|action| action.name.as_str())),
        })
}

pub(super) fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

pub(super) fn check_length(
    flag: &'static str,
    text: Option<&str>,
    limit: usize,
) -> Result<(), RequestError> {
    match text.map(|text| text.chars().count()) {
        Some(length) if length > limit => Err(RequestError::TooLong {
            flag,
            length,
            limit,
        }),
        _ => Ok(()),
    }
}

pub(super) fn check_room(
    execution: &PipelineExecution,
    field: &'static str,
    entries: usize,
) -> Result<(), RequestError> {
    if entries < MAX_CONTROL_ENTRIES {
        return Ok(());
    }
    Err(RequestError::ControlFull {
        name: execution_name(execution),
        field,
        pipeline: execution.spec.pipeline_ref.name.clone(),
    })
}

pub(super) fn control_patch(control: Value) -> PatchBody {
    PatchBody::Merge(json!({"spec": {"control": control}}))
}

pub(super) fn execution_name(execution: &PipelineExecution) -> String {
    execution.metadata.name.clone().unwrap_or_default()
}

/// What to do once a run has ended.
pub(super) fn after_end(execution: &PipelineExecution, phase: ExecutionStatus) -> String {
    let name = execution_name(execution);
    let pipeline = &execution.spec.pipeline_ref.name;
    match phase {
        ExecutionStatus::Failed | ExecutionStatus::Stopped => format!(
            "to run a stage again, `kubectl slipway retry {name} --stage STAGE`, or start a new \
             run with `kubectl slipway start {pipeline}`"
        ),
        ExecutionStatus::Superseded => {
            let newer = execution
                .status
                .as_ref()
                .and_then(|status| status.superseded_by.as_ref())
                .map(|newer| format!(" ({newer})"))
                .unwrap_or_default();
            format!("a newer run{newer} took its place")
        }
        _ => format!("start a new run with `kubectl slipway start {pipeline}`"),
    }
}

pub(super) fn controller_says(execution: &PipelineExecution) -> String {
    match execution
        .status
        .as_ref()
        .and_then(|status| status.message.as_ref())
    {
        Some(message) => format!("the controller says: {message}"),
        None => "the controller has not reported on it yet".to_owned(),
    }
}
