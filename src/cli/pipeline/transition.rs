//! What `transitions disable|enable` writes into a Pipeline's stage, decided from the Pipeline
//! as read (pure, so every refusal and every patch is unit-tested).
//!
//! # Guarantees
//! - Only `spec.stages[i].transition` changes. `stages` is an atomic list, so a merge patch
//!   could only replace every stage; the JSON patch instead tests the stage's name at index `i`
//!   (and the write path the read `resourceVersion`) before it sets the one field.
//! - A disabled transition always has a reason (the CRD requires one too); enabling removes it.

use serde_json::json;

use super::request::{RequestError, check_length, find_stage};
use crate::api::pipeline::Pipeline;
use crate::cli::write::{Change, PatchBody};

/// The longest `disabledReason` of a transition the CRD accepts.
pub const MAX_DISABLED_REASON_LENGTH: usize = 300;

/// `transitions disable|enable`'s request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransitionRequest {
    /// Hold runs before the stage; the reason is required (checked by the decision, so its
    /// refusal says why).
    Disable {
        /// Why.
        reason: Option<String>,
    },
    /// Let runs enter the stage again.
    Enable,
}

/// Decides what `transitions disable|enable` sets as the stage's `transition`, as JSON patch
/// operations on the Pipeline guarded by a `test` of the stage's name at its index (`stages` is
/// an atomic list, so a merge patch would replace every stage).
///
/// # Errors
/// [`RequestError`] when the stage is unknown, or a disable lacks its reason or has one too long.
pub fn decide_transition(
    pipeline: &Pipeline,
    stage: &str,
    request: &TransitionRequest,
) -> Result<Change, RequestError> {
    let name = pipeline.metadata.name.clone().unwrap_or_default();
    let stages = &pipeline.spec.stages;
    let stage = find_stage(&pipeline.spec, stage, &format!("Pipeline {name}"))?;
    let index = stages
        .iter()
        .position(|candidate| candidate.name == stage.name)
        .unwrap_or_default();
    let current = stage.transition.as_ref();
    let (transition, summary) = match request {
        TransitionRequest::Disable { reason } => {
            let Some(reason) = reason.as_ref().filter(|reason| !reason.trim().is_empty()) else {
                return Err(RequestError::ReasonRequired {
                    stage: stage.name.clone(),
                });
            };
            check_length("--reason", Some(reason), MAX_DISABLED_REASON_LENGTH)?;
            if current.is_some_and(|transition| {
                !transition.enabled && transition.disabled_reason.as_ref() == Some(reason)
            }) {
                return Ok(Change::Unchanged(format!(
                    "the transition into stage {} of {name} is already disabled: {reason}",
                    stage.name
                )));
            }
            (
                json!({"enabled": false, "disabledReason": reason}),
                format!(
                    "disabled the transition into stage {} of {name}: runs wait before it until \
                     `kubectl slipway transitions enable {name} --stage {}`",
                    stage.name, stage.name
                ),
            )
        }
        TransitionRequest::Enable => {
            if current.is_none_or(|transition| transition.enabled) {
                return Ok(Change::Unchanged(format!(
                    "the transition into stage {} of {name} is already enabled",
                    stage.name
                )));
            }
            (
                json!({"enabled": true}),
                format!(
                    "enabled the transition into stage {} of {name}: runs waiting before it \
                     enter it",
                    stage.name
                ),
            )
        }
    };
    Ok(Change::Patch {
        patch: PatchBody::Json(json!([
            {"op": "test", "path": format!("/spec/stages/{index}/name"), "value": stage.name},
            {"op": "add", "path": format!("/spec/stages/{index}/transition"), "value": transition}
        ])),
        summary,
    })
}
