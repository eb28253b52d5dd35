//! Stage progression: the stage to work on, waiting before it (transition, lock, queue),
//! supersession and cancellation, the stage conditions, and a stage's end.

use std::time::Duration;

use crate::api::execution::{
    ExecutionStatus, ExecutionType, RuleResult, StageConditionKind, StageExecutionStatus,
    StageWait, WaitReason,
};
use crate::api::pipeline::{ConditionResult, ExecutionMode, PipelineSpec, Stage};
use crate::pipeline::reasons;
use crate::pipeline::rules::{
    ActionContext, ExecutionContext, RuleContext, StageContext, evaluate_local,
};
use crate::pipeline::variables::substitute_config;
use crate::runtime::events::EventIntent;

use super::{Intent, Peer, Planner, RuleEvaluation, stage_ended};

/// How an attempt to enter a stage ended this reconcile.
enum Entry {
    /// The stage is now in progress (or was skipped): go on with it.
    Proceed,
    /// The run waits before the stage (or checks its entry rules).
    Waiting,
    /// The run ended.
    Ended,
}

/// How working on a stage ended this reconcile.
pub(super) enum StageRun {
    /// The stage ended well (succeeded or skipped): go on to the next.
    Continue,
    /// Work is in flight.
    Running,
    /// The run ended.
    Ended,
}

/// The verdict of a stage condition.
pub(super) enum Check {
    /// Rules that need I/O are being evaluated.
    Pending,
    /// Every rule passed (or there are none).
    Passed,
    /// The condition's result applies, with why.
    Result(ConditionResult, String),
}

impl Planner<'_> {
    /// Works through the stages in order until one waits or the run ends.
    pub(super) fn progress(&mut self) {
        let Some(spec) = self.snapshot().cloned() else {
            return;
        };
        // Each pass ends a stage or returns; the bound only guards against a bug looping forever.
        for _ in 0..=spec.stages.len() * 3 + 2 {
            let Some(index) = self
                .status
                .stages
                .iter()
                .position(|stage| !stage_ended(stage.status))
            else {
                self.succeed_run();
                return;
            };
            let Some(stage) = spec.stages.get(index) else {
                return;
            };
            let step = match self.status.stages[index].status {
                None => match self.enter(&spec, index, stage) {
                    Entry::Proceed => continue,
                    Entry::Waiting | Entry::Ended => return,
                },
                Some(_) => self.run_stage(&spec, index, stage),
            };
            match step {
                StageRun::Continue => {}
                StageRun::Running => {
                    if spec.execution_mode != ExecutionMode::Parallel {
                        self.hold = Some(stage.name.clone());
                    }
                    return;
                }
                StageRun::Ended => return,
            }
        }
    }

    /// Tries to enter stage `index`.
    fn enter(&mut self, spec: &PipelineSpec, index: usize, stage: &Stage) -> Entry {
        let name = stage.name.as_str();
        if self.status.phase == Some(ExecutionStatus::Stopping) {
            self.end_run(
                ExecutionStatus::Stopped,
                reasons::STOPPED,
                format!("stopped before stage {name}"),
            );
            return Entry::Ended;
        }
        let was_waiting_here = self
            .run
            .status
            .waiting
            .as_ref()
            .is_some_and(|wait| wait.stage == name);
        if let Some(live) = &self.observed.pipeline
            && was_waiting_here
            && live.generation != self.status.pipeline_generation
            && !live
                .spec
                .stages
                .iter()
                .any(|live_stage| live_stage.name == name)
        {
            self.status.stages[index].status = Some(StageExecutionStatus::Cancelled);
            self.end_run(
                ExecutionStatus::Cancelled,
                reasons::CANCELLED,
                format!(
                    "the Pipeline changed and no longer has stage {name}, which this run waited for"
                ),
            );
            return Entry::Ended;
        }
        let rollback = self.status.execution_type == Some(ExecutionType::Rollback);
        if spec.execution_mode == ExecutionMode::Superseded
            && !rollback
            && let Some(newer) = self.newest_peer_at_or_past(spec, index)
        {
            let newer = newer.name.clone();
            self.status.superseded_by = Some(newer.clone());
            self.end_run(
                ExecutionStatus::Superseded,
                reasons::SUPERSEDED,
                format!("superseded by {newer}, a newer run that reached stage {name}"),
            );
            return Entry::Ended;
        }
        if let Some(live) = &self.observed.pipeline
            && let Some(transition) = live
                .spec
                .stages
                .iter()
                .find(|live_stage| live_stage.name == name)
                .and_then(|live_stage| live_stage.transition.as_ref())
            && !transition.enabled
        {
            let reason = transition.disabled_reason.clone().unwrap_or_default();
            self.wait(name, WaitReason::TransitionDisabled, None, format!(
                "waiting before stage {name}: its transition is disabled ({reason}); enable it with `kubectl slipway transitions enable {} --stage {name}`",
                self.run.spec.pipeline_ref.name
            ));
            return Entry::Waiting;
        }
        if spec.execution_mode != ExecutionMode::Parallel {
            if spec.execution_mode == ExecutionMode::Queued
                && let Some(older) = self.older_peer_waiting_at(name)
            {
                let older = older.name.clone();
                self.wait(
                    name,
                    WaitReason::Queued,
                    Some(older.clone()),
                    format!("queued before stage {name} behind the older run {older}"),
                );
                return Entry::Waiting;
            }
            if let Some(holder) = self.other_holder(name) {
                self.wait(
                    name,
                    WaitReason::StageLocked,
                    Some(holder.clone()),
                    format!("waiting before stage {name}: run {holder} is in it"),
                );
                return Entry::Waiting;
            }
            self.hold = Some(name.to_owned());
        }
        let check = if rollback {
            Check::Passed
        } else {
            self.check(index, stage, StageConditionKind::BeforeEntry)
        };
        match check {
            Check::Pending => {
                self.status.waiting = None;
                self.status.current_stage = Some(name.to_owned());
                Entry::Waiting
            }
            Check::Passed => {
                self.begin_stage(index, stage);
                Entry::Proceed
            }
            Check::Result(ConditionResult::Skip, why) => {
                self.skip_stage(
                    index,
                    format!("skipped by its beforeEntry condition: {why}"),
                );
                Entry::Proceed
            }
            Check::Result(_, why) => {
                self.end_stage(
                    index,
                    StageExecutionStatus::Failed,
                    format!("beforeEntry condition failed: {why}"),
                );
                self.end_run(
                    ExecutionStatus::Failed,
                    reasons::STAGE_FAILED,
                    format!("stage {name} failed its beforeEntry condition: {why}"),
                );
                Entry::Ended
            }
        }
    }

    /// Marks stage `index` entered: in progress, its actions not started.
    fn begin_stage(&mut self, index: usize, stage: &Stage) {
        let now = self.now();
        let entry = &mut self.status.stages[index];
        entry.status = Some(StageExecutionStatus::InProgress);
        entry.start_time = Some(now);
        entry.completion_time = None;
        entry.message = None;
        for action in &stage.actions {
            if !entry
                .actions
                .iter()
                .any(|status| status.name == action.name)
            {
                entry.actions.push(crate::api::execution::ActionStatus {
                    name: action.name.clone(),
                    attempt: entry.attempt,
                    ..Default::default()
                });
            }
        }
        let attempt = entry.attempt;
        self.status.waiting = None;
        self.status.current_stage = Some(stage.name.clone());
        let note = if attempt > 1 {
            format!("stage {} started (attempt {attempt})", stage.name)
        } else {
            format!("stage {} started", stage.name)
        };
        self.event(EventIntent::normal(reasons::STAGE_STARTED, note));
    }

    /// Works on stage `index`, which is in progress.
    fn run_stage(&mut self, spec: &PipelineSpec, index: usize, stage: &Stage) -> StageRun {
        let _ = spec;
        self.follow_actions(index, stage);
        let stopping = self.status.phase == Some(ExecutionStatus::Stopping);
        let (in_flight, failed, all_succeeded) = self.action_tally(index, stage);
        if stopping {
            if in_flight {
                return StageRun::Running;
            }
            self.end_stage(
                index,
                StageExecutionStatus::Stopped,
                "stopped on request".into(),
            );
            self.end_run(
                ExecutionStatus::Stopped,
                reasons::STOPPED,
                format!("stopped in stage {}", stage.name),
            );
            return StageRun::Ended;
        }
        if failed {
            if in_flight {
                return StageRun::Running;
            }
            return self.stage_failed(index, stage);
        }
        if all_succeeded {
            let rollback = self.status.execution_type == Some(ExecutionType::Rollback);
            let check = if rollback {
                Check::Passed
            } else {
                self.check(index, stage, StageConditionKind::OnSuccess)
            };
            return match check {
                Check::Pending => StageRun::Running,
                Check::Passed => {
                    self.end_stage(index, StageExecutionStatus::Succeeded, String::new());
                    self.event(EventIntent::normal(
                        reasons::STAGE_SUCCEEDED,
                        format!("stage {} succeeded", stage.name),
                    ));
                    StageRun::Continue
                }
                Check::Result(result, why) => {
                    let mut message = format!("onSuccess condition failed: {why}");
                    if result == ConditionResult::Rollback {
                        message.push_str(&self.roll_back_stage(index, stage));
                    }
                    self.end_stage(index, StageExecutionStatus::Failed, message.clone());
                    self.end_run(
                        ExecutionStatus::Failed,
                        reasons::STAGE_FAILED,
                        format!("stage {}: {message}", stage.name),
                    );
                    StageRun::Ended
                }
            };
        }
        self.start_next_group(index, stage);
        StageRun::Running
    }

    /// The stage's actions failed (none in flight): its onFailure condition decides.
    fn stage_failed(&mut self, index: usize, stage: &Stage) -> StageRun {
        let failures = self.failure_summary(index);
        let rollback_run = self.status.execution_type == Some(ExecutionType::Rollback);
        let check = if rollback_run {
            Check::Result(ConditionResult::Fail, String::new())
        } else {
            self.check(index, stage, StageConditionKind::OnFailure)
        };
        let (result, why) = match check {
            Check::Pending => return StageRun::Running,
            Check::Passed => (ConditionResult::Fail, String::new()),
            Check::Result(result, why) => (result, why),
        };
        let retry_mode = stage
            .on_failure
            .as_ref()
            .and_then(|condition| condition.retry_mode)
            .unwrap_or_default();
        match result {
            ConditionResult::Retry if self.status.stages[index].automatic_retries < 1 => {
                self.status.stages[index].automatic_retries += 1;
                self.new_attempt(index, retry_mode);
                self.begin_stage(index, stage);
                self.event(EventIntent::normal(
                    reasons::RETRY_STARTED,
                    format!(
                        "stage {} failed ({failures}); retried by its onFailure condition",
                        stage.name
                    ),
                ));
                StageRun::Continue
            }
            ConditionResult::Skip => {
                self.skip_stage(
                    index,
                    format!("failed ({failures}); skipped by its onFailure condition"),
                );
                StageRun::Continue
            }
            ConditionResult::Rollback => {
                let rolled = self.roll_back_stage(index, stage);
                self.end_stage(
                    index,
                    StageExecutionStatus::Failed,
                    format!("{failures}{rolled}"),
                );
                self.end_run(
                    ExecutionStatus::Failed,
                    reasons::STAGE_FAILED,
                    format!("stage {} failed: {failures}{rolled}", stage.name),
                );
                StageRun::Ended
            }
            ConditionResult::Fail | ConditionResult::Retry => {
                let mut message = failures;
                if result == ConditionResult::Retry {
                    message.push_str(" (the automatic retry was used)");
                }
                if !why.is_empty() && result == ConditionResult::Fail && stage.on_failure.is_some()
                {
                    message.push_str(&format!("; onFailure: {why}"));
                }
                self.end_stage(index, StageExecutionStatus::Failed, message.clone());
                self.end_run(
                    ExecutionStatus::Failed,
                    reasons::STAGE_FAILED,
                    format!("stage {} failed: {message}", stage.name),
                );
                StageRun::Ended
            }
        }
    }

    /// Ends stage `index` with `status` (and `message` when not empty).
    pub(super) fn end_stage(
        &mut self,
        index: usize,
        status: StageExecutionStatus,
        message: String,
    ) {
        let now = self.now();
        let entry = &mut self.status.stages[index];
        entry.status = Some(status);
        entry.completion_time = Some(now);
        entry.message = (!message.is_empty()).then_some(message);
        if status == StageExecutionStatus::Failed {
            let note = format!(
                "stage {} failed: {}",
                entry.name,
                entry.message.clone().unwrap_or_default()
            );
            self.event(EventIntent::warning(reasons::STAGE_FAILED, note));
        }
    }

    fn skip_stage(&mut self, index: usize, message: String) {
        let name = self.status.stages[index].name.clone();
        self.event(EventIntent::normal(
            reasons::STAGE_SKIPPED,
            format!("stage {name} {message}"),
        ));
        self.end_stage(index, StageExecutionStatus::Skipped, message);
    }

    /// Ends the run with `phase`.
    pub(super) fn end_run(
        &mut self,
        phase: ExecutionStatus,
        reason: &'static str,
        message: String,
    ) {
        self.status.phase = Some(phase);
        self.status.completion_time = Some(self.now());
        self.status.waiting = None;
        self.hold = None;
        let event = match phase {
            ExecutionStatus::Failed => EventIntent::warning(reason, message.clone()),
            _ => EventIntent::normal(reason, message.clone()),
        };
        self.event(event);
        self.status.message = Some(message);
        if phase == ExecutionStatus::Failed {
            self.failure_reason = Some(reason);
        }
    }

    fn succeed_run(&mut self) {
        let revision = super::start::revision_text(self.status.source_revision.as_ref());
        self.end_run(
            ExecutionStatus::Succeeded,
            reasons::SUCCEEDED,
            format!("every stage succeeded for {revision}"),
        );
    }

    /// Records that the run waits before `stage` (an Event when the wait is new).
    fn wait(&mut self, stage: &str, reason: WaitReason, holder: Option<String>, message: String) {
        let since = match &self.status.waiting {
            Some(wait) if wait.stage == stage && wait.reason == reason => wait.since.clone(),
            _ => Some(self.now()),
        };
        let next = StageWait {
            stage: stage.to_owned(),
            reason,
            holder,
            since,
        };
        if self
            .run
            .status
            .waiting
            .as_ref()
            .map(|w| (&w.stage, w.reason, &w.holder))
            != Some((&next.stage, next.reason, &next.holder))
        {
            self.event(EventIntent::normal(reasons::WAITING, message.clone()));
        }
        self.status.waiting = Some(next);
        self.status.current_stage = Some(stage.to_owned());
        self.status.message = Some(message);
    }

    /// The newest run, newer than this one, that reached stage `index` or a later one.
    fn newest_peer_at_or_past(&self, spec: &PipelineSpec, index: usize) -> Option<&Peer> {
        let later: Vec<&str> = spec.stages[index..]
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        self.observed
            .peers
            .iter()
            .filter(|peer| !peer.rollback && self.is_older_than(peer))
            .filter(|peer| {
                later.iter().any(|stage| {
                    peer.stage(stage).is_some_and(|status| {
                        status != StageExecutionStatus::Skipped
                            && status != StageExecutionStatus::Cancelled
                    })
                }) || peer
                    .status
                    .waiting
                    .as_ref()
                    .is_some_and(|wait| later.contains(&wait.stage.as_str()))
            })
            .max_by(|a, b| (a.created, &a.name).cmp(&(b.created, &b.name)))
    }

    fn is_older_than(&self, peer: &Peer) -> bool {
        (self.run.created, &self.run.name) < (peer.created, &peer.name)
    }

    /// Another run holding `stage` (by the lock, or by its status saying it is in the stage).
    fn other_holder(&self, stage: &str) -> Option<String> {
        if let Some(pipeline) = &self.observed.pipeline
            && let Some(holder) = pipeline.locks.get(stage)
            && holder.uid != self.run.uid
        {
            let live = self
                .observed
                .peers
                .iter()
                .find(|peer| peer.uid == holder.uid)
                .is_some_and(|peer| !peer.ended() && !stage_ended(peer.stage(stage)));
            if live {
                return Some(holder.execution.clone());
            }
        }
        self.observed
            .peers
            .iter()
            .find(|peer| peer.uid != self.run.uid && peer.inside(stage))
            .map(|peer| peer.name.clone())
    }

    fn older_peer_waiting_at(&self, stage: &str) -> Option<&Peer> {
        self.observed
            .peers
            .iter()
            .filter(|peer| peer.waiting_at(stage) && !self.is_older_than(peer))
            .min_by(|a, b| (a.created, &a.name).cmp(&(b.created, &b.name)))
    }

    /// Evaluates condition `kind` of stage `index`: local rules now, I/O rules by intent.
    pub(super) fn check(&mut self, index: usize, stage: &Stage, kind: StageConditionKind) -> Check {
        let condition = match kind {
            StageConditionKind::BeforeEntry => stage.before_entry.as_ref(),
            StageConditionKind::OnSuccess => stage.on_success.as_ref(),
            StageConditionKind::OnFailure => stage.on_failure.as_ref(),
        };
        let Some(condition) = condition else {
            return match kind {
                StageConditionKind::OnFailure => {
                    Check::Result(ConditionResult::Fail, String::new())
                }
                _ => Check::Passed,
            };
        };
        let context = self.rule_context(index);
        let mut pending = Vec::new();
        let mut failed = Vec::new();
        for rule in &condition.rules {
            let known = self.status.stages[index]
                .rule_results
                .iter()
                .find(|result| result.condition == kind && result.rule == rule.name)
                .cloned();
            let result = match known {
                Some(result) => result,
                None => {
                    let outcome = match substitute_config(rule, &self.status.variables) {
                        Err(error) => Some((false, error)),
                        Ok(rule) => match evaluate_local(&rule, &context, self.observed.now) {
                            Some(outcome) => Some((outcome.passed, outcome.message)),
                            None => {
                                pending.push(rule);
                                None
                            }
                        },
                    };
                    let Some((passed, message)) = outcome else {
                        continue;
                    };
                    let result = RuleResult {
                        condition: kind,
                        rule: rule.name.clone(),
                        passed,
                        message: Some(message),
                        time: Some(self.now()),
                    };
                    self.status.stages[index].rule_results.push(result.clone());
                    result
                }
            };
            if !result.passed {
                failed.push(format!(
                    "rule {} failed: {}",
                    result.rule,
                    result.message.unwrap_or_default()
                ));
            }
        }
        if !pending.is_empty() {
            self.intents
                .push(Intent::EvaluateRules(Box::new(RuleEvaluation {
                    stage: stage.name.clone(),
                    condition: kind,
                    rules: pending,
                    context,
                })));
            self.requeue_within(Duration::from_secs(5));
            return Check::Pending;
        }
        let why = failed.join("; ");
        match kind {
            StageConditionKind::OnFailure if failed.is_empty() => {
                Check::Result(condition.result, why)
            }
            StageConditionKind::OnFailure => Check::Result(ConditionResult::Fail, why),
            _ if failed.is_empty() => Check::Passed,
            _ => Check::Result(condition.result, why),
        }
    }

    /// What a rule of stage `index` sees.
    fn rule_context(&self, index: usize) -> RuleContext {
        let entry = &self.status.stages[index];
        let text = |value: Option<String>| value.unwrap_or_default();
        let name_of = |value: serde_json::Value| value.as_str().map(str::to_owned);
        RuleContext {
            variables: self.status.variables.clone(),
            stage: StageContext {
                name: entry.name.clone(),
                status: text(
                    entry
                        .status
                        .and_then(|s| name_of(serde_json::to_value(s).ok()?)),
                ),
                attempt: i64::from(entry.attempt),
                actions: entry
                    .actions
                    .iter()
                    .map(|action| ActionContext {
                        name: action.name.clone(),
                        status: text(
                            action
                                .status
                                .and_then(|s| name_of(serde_json::to_value(s).ok()?)),
                        ),
                    })
                    .collect(),
            },
            execution: ExecutionContext {
                id: self.run.name.clone(),
                pipeline: self.run.spec.pipeline_ref.name.clone(),
                trigger: text(name_of(
                    serde_json::to_value(self.run.spec.trigger.type_).unwrap_or_default(),
                )),
                namespace: self.run.namespace.clone(),
                revision: text(self.status.source_revision.as_ref().and_then(|source| {
                    source
                        .commit_id
                        .clone()
                        .or(source.image_digest.clone())
                        .or(source.object_version.clone())
                })),
            },
        }
    }

    /// Starts a rollback run of stage `index` to the last earlier run that succeeded in it;
    /// returns the text that says so (or why not) for the stage's message.
    fn roll_back_stage(&mut self, index: usize, stage: &Stage) -> String {
        let target = self
            .observed
            .peers
            .iter()
            .filter(|peer| {
                peer.created < self.run.created
                    && peer.stage(&stage.name) == Some(StageExecutionStatus::Succeeded)
            })
            .max_by(|a, b| (a.created, &a.name).cmp(&(b.created, &b.name)))
            .map(|peer| peer.name.clone());
        let Some(target) = target else {
            return format!(
                "; no earlier run succeeded in stage {}, so there is nothing to roll back to",
                stage.name
            );
        };
        let attempt = self.status.stages[index].attempt;
        let execution = super::control::rollback_execution(self.run, &stage.name, attempt, &target);
        let name = execution.metadata.name.clone().unwrap_or_default();
        self.status.stages[index].rollback_execution = Some(name.clone());
        self.intents
            .push(Intent::CreateRollback(Box::new(execution)));
        self.event(EventIntent::normal(
            reasons::ROLLBACK_STARTED,
            format!(
                "rolling stage {} back to the revision of {target} with run {name}",
                stage.name
            ),
        ));
        format!("; rolling back to the revision of {target} (run {name})")
    }
}
