//! What `approve` and `reject` append to an execution's `spec.control.approvals`, decided from
//! the run as read and the spec it executes (pure, so every refusal and every patch is
//! unit-tested).
//!
//! # Guarantees
//! - An answer goes to the stage's current attempt (`status.stages[].attempt`), and only while
//!   the approval waits (its status `InProgress` for that attempt): answers for earlier attempts
//!   do not carry over, and an answer given early would approve something nobody has seen.
//! - An attempt's answer is never replaced: the controller may already have acted on it.

use serde_json::json;

use super::request::{
    RequestError, action_kind, after_end, check_length, check_room, control_patch, ended,
    execution_name, find_action, find_stage, stage_status,
};
use crate::api::PipelineExecution;
use crate::api::execution::{ActionExecutionStatus, ApprovalResponse, ApprovalResult};
use crate::api::pipeline::PipelineSpec;
use crate::cli::write::Change;

/// The longest approval comment the CRD accepts.
pub const MAX_COMMENT_LENGTH: usize = 512;

/// `approve` and `reject`'s request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalRequest {
    /// The approval action's stage.
    pub stage: String,
    /// The approval action.
    pub action: String,
    /// `Approved` or `Rejected`.
    pub result: ApprovalResult,
    /// Why.
    pub comment: Option<String>,
    /// Who answers.
    pub approved_by: Option<String>,
}

/// Decides what `approve` or `reject` appends to `spec.control.approvals`.
///
/// `spec` is the spec the run executes: its `status.pipelineSpec`, or the live Pipeline's before
/// the run has started.
///
/// # Errors
/// [`RequestError`] when the comment is too long, the run has ended, the stage or action is
/// unknown or not an approval, the approval is not waiting, or this attempt has an answer.
pub fn decide_approval(
    execution: &PipelineExecution,
    spec: &PipelineSpec,
    request: &ApprovalRequest,
) -> Result<Change, RequestError> {
    check_length("--comment", request.comment.as_deref(), MAX_COMMENT_LENGTH)?;
    let name = execution_name(execution);
    let (verb, done) = match request.result {
        ApprovalResult::Approved => ("approve", "approved"),
        ApprovalResult::Rejected => ("reject", "rejected"),
    };
    if let Some(phase) = ended(execution) {
        return Err(RequestError::Ended {
            advice: format!(
                "there is nothing left to {verb}; {}",
                after_end(execution, phase)
            ),
            name,
            phase,
        });
    }
    let stage = find_stage(spec, &request.stage, &format!("PipelineExecution {name}"))?;
    let action = find_action(&name, stage, &request.action)?;
    if action.approval.is_none() {
        let approvals: Vec<&str> = stage
            .actions
            .iter()
            .filter(|action| action.approval.is_some())
            .map(|action| action.name.as_str())
            .collect();
        let hint = if approvals.is_empty() {
            String::new()
        } else {
            format!(" (stage {} has {})", stage.name, approvals.join(", "))
        };
        return Err(RequestError::NotApproval {
            name,
            stage: stage.name.clone(),
            action: action.name.clone(),
            kind: action_kind(action),
            hint,
        });
    }
    let not_waiting = |why: String| RequestError::NotWaiting {
        name: name.clone(),
        stage: stage.name.clone(),
        action: action.name.clone(),
        why,
    };
    let Some(observed) = stage_status(execution, &stage.name) else {
        return Err(not_waiting(format!(
            "the run has not reached stage {}{}",
            stage.name,
            waiting_before(execution, &stage.name)
        )));
    };
    let attempt = observed.attempt;
    match observed
        .actions
        .iter()
        .find(|status| status.name == action.name)
    {
        None => {
            return Err(not_waiting(format!(
                "attempt {attempt} of stage {} has not started it yet",
                stage.name
            )));
        }
        Some(status) if status.attempt != attempt => {
            return Err(not_waiting(format!(
                "attempt {attempt} of stage {} has not started it yet (its status is from \
                 attempt {})",
                stage.name, status.attempt
            )));
        }
        Some(status) if status.status != Some(ActionExecutionStatus::InProgress) => {
            let state = status
                .status
                .map_or_else(|| "not started".to_owned(), |state| format!("{state:?}"));
            return Err(not_waiting(format!("it is {state} (attempt {attempt})")));
        }
        Some(_) => {}
    }
    let control = &execution.spec.control;
    if let Some(existing) = control.approvals.iter().find(|answer| {
        answer.stage == stage.name && answer.action == action.name && answer.attempt == attempt
    }) {
        let by = existing
            .approved_by
            .as_ref()
            .map(|who| format!(" by {who}"))
            .unwrap_or_default();
        let advice = match existing.result {
            ApprovalResult::Approved => String::new(),
            ApprovalResult::Rejected => format!(
                "; once the stage has failed, `kubectl slipway retry {name} --stage {}` asks again",
                stage.name
            ),
        };
        return Err(RequestError::AlreadyAnswered {
            name,
            stage: stage.name.clone(),
            action: action.name.clone(),
            attempt,
            existing: format!("{:?}{by}", existing.result),
            advice,
        });
    }
    check_room(execution, "approvals", control.approvals.len())?;
    let mut approvals = control.approvals.clone();
    approvals.push(ApprovalResponse {
        stage: stage.name.clone(),
        action: action.name.clone(),
        attempt,
        result: request.result,
        comment: request.comment.clone(),
        approved_by: request.approved_by.clone(),
    });
    let next = match request.result {
        ApprovalResult::Approved => "the run continues",
        ApprovalResult::Rejected => "the action fails, and with it the stage",
    };
    Ok(Change::Patch {
        patch: control_patch(json!({ "approvals": approvals })),
        summary: format!(
            "{done} {}/{} (attempt {attempt}) of {name}: {next}",
            stage.name, action.name
        ),
    })
}

/// Why the run waits before `stage`, as a clause, when it does.
fn waiting_before(execution: &PipelineExecution, stage: &str) -> String {
    execution
        .status
        .as_ref()
        .and_then(|status| status.waiting.as_ref())
        .filter(|waiting| waiting.stage == stage)
        .map(|waiting| {
            format!(
                " (it waits before it: {})",
                super::view::describe_wait(waiting)
            )
        })
        .unwrap_or_default()
}
