//! The run's one-line message, current stage and kstatus conditions, computed last from the
//! status the steps left.

use crate::api::execution::{ActionExecutionStatus, ExecutionStatus, StageExecutionStatus};
use crate::pipeline::reasons;
use crate::runtime::conditions::{ConditionStatus, SUCCEEDED, Summary, set_summary};

use super::Planner;

impl Planner<'_> {
    /// Sets `currentStage`, the message of a run in progress, and the conditions.
    pub(super) fn summarize(&mut self) {
        let in_stage = self.status.stages.iter().find(|stage| {
            matches!(
                stage.status,
                Some(StageExecutionStatus::InProgress | StageExecutionStatus::Stopping)
            )
        });
        if let Some(stage) = in_stage {
            self.status.current_stage = Some(stage.name.clone());
            let running: Vec<String> = stage
                .actions
                .iter()
                .filter(|action| action.status == Some(ActionExecutionStatus::InProgress))
                .map(|action| match &action.child {
                    Some(child) => format!("{} ({} {})", action.name, child.kind, child.name),
                    None => action.name.clone(),
                })
                .collect();
            let attempt = if stage.attempt > 1 {
                format!(" (attempt {})", stage.attempt)
            } else {
                String::new()
            };
            let doing = if running.is_empty() {
                "checking its conditions".to_owned()
            } else {
                format!("running {}", running.join(", "))
            };
            let prefix = if self.status.phase == Some(ExecutionStatus::Stopping) {
                "stopping: "
            } else {
                ""
            };
            self.status.message = Some(format!("{prefix}stage {}{attempt}: {doing}", stage.name));
        }
        let phase = self.status.phase;
        let message = self.status.message.clone().unwrap_or_default();
        let summary = match phase {
            Some(ExecutionStatus::Succeeded) => Summary {
                primary: SUCCEEDED,
                status: ConditionStatus::True,
                reconciling: false,
                stalled: false,
                reason: reasons::SUCCEEDED,
                message: &message,
            },
            Some(ExecutionStatus::Failed) => Summary {
                primary: SUCCEEDED,
                status: ConditionStatus::False,
                reconciling: false,
                stalled: true,
                reason: self
                    .failure_reason
                    .or_else(|| stored_reason(&self.run.status.conditions))
                    .unwrap_or(reasons::FAILED),
                message: &message,
            },
            Some(
                ended @ (ExecutionStatus::Stopped
                | ExecutionStatus::Superseded
                | ExecutionStatus::Cancelled),
            ) => Summary {
                primary: SUCCEEDED,
                status: ConditionStatus::False,
                reconciling: false,
                stalled: false,
                reason: match ended {
                    ExecutionStatus::Stopped => reasons::STOPPED,
                    ExecutionStatus::Superseded => reasons::SUPERSEDED,
                    _ => reasons::CANCELLED,
                },
                message: &message,
            },
            _ => Summary {
                primary: SUCCEEDED,
                status: ConditionStatus::Unknown,
                reconciling: self.blocked.is_none(),
                stalled: self.blocked.is_some(),
                reason: self.blocked.unwrap_or(if self.status.waiting.is_some() {
                    reasons::WAITING
                } else if phase == Some(ExecutionStatus::Stopping) {
                    reasons::STOPPING
                } else {
                    reasons::RUNNING
                }),
                message: &message,
            },
        };
        let generation = self.run.generation;
        let now = crate::runtime::whole_seconds(self.observed.now);
        set_summary(&mut self.status.conditions, &summary, generation, now);
    }
}

/// The reason a failed run's stored condition gives (kept while nothing changes).
fn stored_reason(
    conditions: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
) -> Option<&'static str> {
    let reason = crate::runtime::conditions::find(conditions, SUCCEEDED)?
        .reason
        .as_str();
    [
        reasons::INVALID_SPEC,
        reasons::SOURCE_UNAVAILABLE,
        reasons::NO_ROLLBACK_TARGET,
        reasons::STAGE_FAILED,
    ]
    .into_iter()
    .find(|known| *known == reason)
}
