//! The user's requests in `spec.control`, each applied once: retries of a failed or stopped
//! stage (a new attempt, history kept) and stop (wait for in-flight actions, or abandon them;
//! wait may escalate to abandon). Approvals are read where approval actions are followed.

use crate::api::execution::{
    ActionExecutionStatus, AppliedStop, ExecutionStatus, ExecutionTrigger, PipelineExecution,
    PipelineExecutionSpec, PipelineReference, RollbackRequest, StageAttempt, StageExecutionStatus,
    TriggerType,
};
use crate::api::pipeline::RetryMode;
use crate::pipeline::children::dns_label_text;
use crate::pipeline::reasons;
use crate::runtime::events::EventIntent;
use crate::runtime::labels::PIPELINE_LABEL;
use crate::runtime::names::{NAME_MAX, fit_name, label_value};

use super::{Intent, Planner, Run};

/// Earlier attempts kept per stage.
const ATTEMPT_HISTORY: usize = 10;

impl Planner<'_> {
    /// Applies the next retry request of each stage, when its stage can be retried.
    pub(super) fn apply_retries(&mut self) {
        let ended = matches!(
            self.status.phase,
            Some(ExecutionStatus::Failed | ExecutionStatus::Stopped)
        );
        for index in 0..self.status.stages.len() {
            let stage = self.status.stages[index].name.clone();
            let requests: Vec<_> = self
                .run
                .spec
                .control
                .retries
                .iter()
                .filter(|request| request.stage == stage)
                .collect();
            let applied =
                usize::try_from(self.status.stages[index].retry_requests_applied).unwrap_or(0);
            let Some(request) = requests.get(applied) else {
                continue;
            };
            let retryable = matches!(
                self.status.stages[index].status,
                Some(StageExecutionStatus::Failed | StageExecutionStatus::Stopped)
            );
            if !(ended && retryable) {
                // A request made early waits until the stage has failed or stopped.
                continue;
            }
            self.status.stages[index].retry_requests_applied += 1;
            let newer = self
                .observed
                .peers
                .iter()
                .filter(|peer| (self.run.created, &self.run.name) < (peer.created, &peer.name))
                .find(|peer| {
                    peer.stage(&stage)
                        .is_some_and(|status| status != StageExecutionStatus::Skipped)
                })
                .map(|peer| peer.name.clone());
            if let Some(newer) = newer {
                let message = format!(
                    "retry of stage {stage} refused: the newer run {newer} has run it since; start a new run or roll the stage back instead"
                );
                self.event(EventIntent::warning(
                    reasons::RETRY_REFUSED,
                    message.clone(),
                ));
                self.status.message = Some(message);
                continue;
            }
            self.new_attempt(index, request.mode);
            self.status.stages[index].status = None;
            self.status.phase = Some(ExecutionStatus::InProgress);
            self.status.completion_time = None;
            self.status.superseded_by = None;
            self.failure_reason = None;
            let attempt = self.status.stages[index].attempt;
            self.event(EventIntent::normal(
                reasons::RETRY_STARTED,
                format!(
                    "stage {stage} retried ({:?}): attempt {attempt}",
                    request.mode
                ),
            ));
        }
    }

    /// Archives stage `index`'s attempt and prepares the next: actions reset per `mode`.
    pub(super) fn new_attempt(&mut self, index: usize, mode: RetryMode) {
        let entry = &mut self.status.stages[index];
        entry.previous_attempts.push(StageAttempt {
            attempt: entry.attempt,
            status: entry.status,
            message: entry.message.clone(),
            start_time: entry.start_time.clone(),
            completion_time: entry.completion_time.clone(),
            actions: entry.actions.clone(),
        });
        if entry.previous_attempts.len() > ATTEMPT_HISTORY {
            let excess = entry.previous_attempts.len() - ATTEMPT_HISTORY;
            entry.previous_attempts.drain(..excess);
        }
        entry.attempt += 1;
        entry.message = None;
        entry.completion_time = None;
        entry.rule_results.clear();
        for action in &mut entry.actions {
            let rerun = mode == RetryMode::AllActions
                || action.status != Some(ActionExecutionStatus::Succeeded);
            if rerun {
                *action = crate::api::execution::ActionStatus {
                    name: action.name.clone(),
                    attempt: entry.attempt,
                    ..Default::default()
                };
            }
        }
    }

    /// Takes up `spec.control.stop` (once; a wait may escalate to abandon) and abandons what it must.
    pub(super) fn apply_stop(&mut self) {
        let Some(stop) = &self.run.spec.control.stop else {
            return;
        };
        let applied = self.status.applied_stop.clone();
        let escalates = applied.as_ref().is_some_and(|applied| {
            stop.abandon && !applied.abandon && self.status.phase == Some(ExecutionStatus::Stopping)
        });
        if applied.is_none() || escalates {
            self.status.applied_stop = Some(AppliedStop {
                abandon: stop.abandon,
                time: Some(self.now()),
            });
            self.status.phase = Some(ExecutionStatus::Stopping);
            let how = if stop.abandon {
                "abandoning in-flight actions"
            } else {
                "letting in-flight actions finish"
            };
            let why = stop
                .reason
                .as_ref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            self.event(EventIntent::normal(
                reasons::STOPPING,
                format!("stop requested{why}: {how}"),
            ));
        }
        if self.status.phase != Some(ExecutionStatus::Stopping) {
            return;
        }
        let abandon = self
            .status
            .applied_stop
            .as_ref()
            .is_some_and(|applied| applied.abandon);
        let spec = self.snapshot().cloned();
        for index in 0..self.status.stages.len() {
            for slot in 0..self.status.stages[index].actions.len() {
                let action = &self.status.stages[index].actions[slot];
                if action.status != Some(ActionExecutionStatus::InProgress) {
                    continue;
                }
                let is_approval = spec.as_ref().is_some_and(|spec| {
                    spec.stages.get(index).is_some_and(|stage| {
                        stage
                            .actions
                            .iter()
                            .any(|a| a.name == action.name && a.approval.is_some())
                    })
                });
                // An approval has nothing in flight to wait for: a stop ends it either way.
                if !(abandon || is_approval) {
                    continue;
                }
                if let Some(stop) = self.stop_for(index, slot, "the run was stopped") {
                    self.intents.push(Intent::Stop(stop));
                }
                let now = self.now();
                let stage = self.status.stages[index].name.clone();
                let action = &mut self.status.stages[index].actions[slot];
                action.status = Some(ActionExecutionStatus::Abandoned);
                action.completion_time = Some(now);
                action.message = Some("abandoned: the run was stopped".into());
                let note = format!("action {stage}/{} abandoned by the stop", action.name);
                self.event(EventIntent::normal(reasons::ACTION_ABANDONED, note));
            }
        }
    }
}

/// The rollback run a failed stage starts: named after the run, stage and attempt (so asking
/// again meets it), owned by the Pipeline, redeploying `target`'s revision of `stage`.
pub fn rollback_execution(run: &Run, stage: &str, attempt: i32, target: &str) -> PipelineExecution {
    let name = fit_name(
        &format!(
            "{}-rollback-{}",
            dns_label_text(&run.name),
            dns_label_text(stage)
        ),
        &format!("-{attempt}"),
        NAME_MAX,
    );
    let mut execution = PipelineExecution::new(
        &name,
        PipelineExecutionSpec {
            pipeline_ref: PipelineReference {
                name: run.spec.pipeline_ref.name.clone(),
            },
            trigger: ExecutionTrigger {
                type_: TriggerType::AutomatedRollback,
                actor: Some("slipway".into()),
                delivery_id: None,
                detail: Some(format!(
                    "stage {stage} of run {} failed (attempt {attempt})",
                    run.name
                )),
            },
            source: None,
            variables: Vec::new(),
            rollback: Some(RollbackRequest {
                stage: stage.to_owned(),
                target_execution: Some(target.to_owned()),
            }),
            control: Default::default(),
        },
    );
    execution.metadata.namespace = Some(run.namespace.clone());
    execution.metadata.labels = Some(std::collections::BTreeMap::from([(
        PIPELINE_LABEL.to_owned(),
        label_value(&run.spec.pipeline_ref.name),
    )]));
    execution
}
