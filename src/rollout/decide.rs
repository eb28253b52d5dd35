//! The one decision function: [`decide`] reads the spec, the persisted status and the observed
//! world and returns the new status and the intents that move the rollout on.
//!
//! # Guarantees
//! - Pure and deterministic: the same input gives the same output.
//! - Restart-safe: every fact needed to continue is in the returned status (stage, step, step
//!   and stage start times, revision hashes, hook child names, probe counts, rollback record),
//!   so a controller that dies after apply but before the status write decides the same
//!   intents again from the old status, and their apply is idempotent (names are derived,
//!   creates tolerate AlreadyExists, sets are absolute).
//! - One stage may lead to the next within one decision (a failure evaluates the rollback at
//!   once, so a stable revision that is still Ready gets its traffic back in the same reconcile:
//!   the immediate rollback path).
//! - Traffic intents pass [`may_route`](super::traffic::may_route) against the observed Ready
//!   pods; a rollback restores traffic only to a stable revision with all its pods Ready.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::health::{self, DueProbe, HealthVerdict, ProbeResult};
use super::reasons;
use super::state::{
    DecideInput, Decision, Intent, InvalidReference, NewRevision, ObservedWorld, RevisionWorkload,
    phase_of,
};
use super::strategy::{RolloutPlan, resolve_plan};
use super::traffic::{Selection, TrafficMode};
use crate::api::deployment::{
    AutoRollbackEvent, DeploymentControl, DeploymentPhase, DeploymentSpec, DeploymentStatus,
    DeploymentTemplate, RollbackInfo, RolloutStage,
};
use crate::runtime::conditions::{READY, RECONCILING, STALLED, set_condition};
use crate::runtime::events::EventIntent;

/// The longest a waiting rollout goes without being looked at again.
pub const MAX_REQUEUE: Duration = Duration::from_secs(60);
/// How soon to look again after asking for a change the watch may not report (a selector).
pub const SHORT_REQUEUE: Duration = Duration::from_secs(2);
/// Stage transitions one decision may make (a safety bound; the lifecycle has 15 stages).
const MAX_TRANSITIONS: usize = 32;

/// Decides the next status and intents of one rollout.
pub fn decide(input: &DecideInput<'_>) -> Decision {
    let mut status = input.status.clone();
    status.observed_generation = input.identity.generation;
    let mut run = Run {
        input,
        template: &input.spec.template,
        control: &input.spec.control,
        world: input.world,
        now: input.now,
        status,
        intents: Vec::new(),
        requeue: None,
        plan: None,
        revision: None,
        blocker: None,
    };
    run.execute();
    run.finish()
}

/// What a stage handler wants next.
pub(super) enum Flow {
    /// The stage changed: evaluate the new one now.
    Next,
    /// Stay; look again after this long (or when something watched changes).
    Wait(Option<Duration>),
}

/// Why only a user can move the rollout on, as this decision found it: the conditions say so
/// (`Stalled=True`) with the matching reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Blocker {
    /// The spec cannot be rolled out (strategy, revision, appspec): `InvalidSpec`.
    InvalidSpec,
    /// A referenced Service or HTTPRoute is missing or unusable: `InvalidReference`.
    InvalidReference,
    /// A rollback cannot finish (the stable revision is gone, or not Ready past the progress
    /// deadline): `RollbackStalled`.
    RollbackStalled,
}

/// One decision in progress.
pub(super) struct Run<'a> {
    pub(super) input: &'a DecideInput<'a>,
    pub(super) template: &'a DeploymentTemplate,
    pub(super) control: &'a DeploymentControl,
    pub(super) world: &'a ObservedWorld,
    pub(super) now: &'a Time,
    pub(super) status: DeploymentStatus,
    pub(super) intents: Vec<Intent>,
    pub(super) requeue: Option<Duration>,
    pub(super) plan: Option<RolloutPlan>,
    pub(super) revision: Option<&'a NewRevision>,
    /// What blocks the rollout until a user acts, when something does.
    pub(super) blocker: Option<Blocker>,
}

impl<'a> Run<'a> {
    fn execute(&mut self) {
        let stage = self.stage();
        if stage == RolloutStage::Done {
            return;
        }
        if let Some(reference) = self.world.invalid_references.first() {
            return self.invalid_reference(reference);
        }
        match resolve_plan(&self.template.strategy) {
            Ok(plan) => self.plan = Some(plan),
            Err(error) => return self.invalid_spec(&error.to_string()),
        }
        match &self.world.new_revision {
            Ok(revision) => self.revision = Some(revision),
            Err(message) => return self.invalid_spec(message),
        }
        if stage != RolloutStage::RollingBack && self.handle_stop() {
            return;
        }
        self.run_stages();
        let stage = self.stage();
        if stage != RolloutStage::Pending && stage != RolloutStage::Done {
            self.housekeeping();
        }
        if health_stage(stage) {
            self.schedule_probes();
        }
    }

    /// Runs stage handlers until one waits.
    fn run_stages(&mut self) {
        let mut judged = false;
        for _ in 0..MAX_TRANSITIONS {
            // Health results are counted and judged once per decision, as soon as the rollout
            // is (or enters) a judged stage, so a failing check stops any further step here.
            if !judged && judged_stage(self.stage()) {
                judged = true;
                if let Some(flow) = self.judge_health() {
                    match flow {
                        Flow::Next => continue,
                        Flow::Wait(after) => {
                            self.wait(after);
                            break;
                        }
                    }
                }
            }
            let flow = match self.stage() {
                RolloutStage::Pending => self.admit(),
                RolloutStage::TakeOver => self.take_over(),
                RolloutStage::Install => self.install(),
                RolloutStage::AllowTestTraffic => self.allow_test_traffic(),
                RolloutStage::AwaitPromote => self.await_promote(),
                RolloutStage::AllowTraffic => self.allow_traffic(),
                RolloutStage::TerminationWait => self.termination_wait(),
                RolloutStage::Finalize => self.finalize(),
                RolloutStage::RollingBack => self.rolling_back(),
                RolloutStage::Done => Flow::Wait(None),
                hook_stage => self.hook_stage(hook_stage),
            };
            match flow {
                Flow::Next => continue,
                Flow::Wait(after) => {
                    self.wait(after);
                    break;
                }
            }
        }
    }

    fn finish(mut self) -> Decision {
        let stage = self.stage();
        if let Some(phase) = phase_of(stage, self.status.waiting_for.is_some()) {
            self.status.phase = Some(phase);
        }
        if self.input.status.stage != Some(RolloutStage::Done) {
            // A finished record keeps the counts it ended with (no writes for later pod churn).
            self.observe_revisions();
        }
        self.update_conditions();
        if let Some(after) = self.requeue
            && stage != RolloutStage::Done
        {
            self.intents
                .push(Intent::RequeueAfter(after.min(MAX_REQUEUE)));
        }
        Decision {
            status: self.status,
            intents: self.intents,
        }
    }

    /// The persisted stage (`Pending` before the first decision).
    pub(super) fn stage(&self) -> RolloutStage {
        self.status.stage.unwrap_or(RolloutStage::Pending)
    }

    /// Moves to `stage`, restarting the stage clock.
    pub(super) fn enter(&mut self, stage: RolloutStage) -> Flow {
        self.status.stage = Some(stage);
        self.status.stage_start_time = Some(self.now.clone());
        Flow::Next
    }

    /// Asks to be looked at again after `after` at the latest.
    pub(super) fn wait(&mut self, after: Option<Duration>) {
        if let Some(after) = after {
            self.requeue = Some(self.requeue.map_or(after, |current| current.min(after)));
        }
    }

    /// Asks for a `Normal` Event.
    pub(super) fn normal(&mut self, reason: &'static str, note: String) {
        self.intents
            .push(Intent::Event(EventIntent::normal(reason, note)));
    }

    /// Asks for a `Warning` Event.
    pub(super) fn warning(&mut self, reason: &'static str, note: String) {
        self.intents
            .push(Intent::Event(EventIntent::warning(reason, note)));
    }

    pub(super) fn message(&mut self, message: impl Into<String>) {
        self.status.message = Some(message.into());
    }

    /// The rollout's plan (resolved before any stage runs).
    pub(super) fn plan(&self) -> &RolloutPlan {
        self.plan.as_ref().expect("plan resolved before stages run")
    }

    /// The new revision (derived before any stage runs).
    pub(super) fn new_revision(&self) -> &'a NewRevision {
        self.revision.expect("revision derived before stages run")
    }

    /// Replicas of each revision at full size.
    pub(super) fn replicas(&self) -> i32 {
        self.status.target_replicas.unwrap_or(1).max(1)
    }

    pub(super) fn stable_hash(&self) -> String {
        self.status
            .stable_revision
            .as_ref()
            .map(|revision| revision.hash.clone())
            .unwrap_or_default()
    }

    pub(super) fn canary_hash(&self) -> String {
        self.status
            .canary_revision
            .as_ref()
            .map(|revision| revision.hash.clone())
            .unwrap_or_default()
    }

    /// The observed revision workload with `hash`.
    pub(super) fn observed(&self, hash: &str) -> Option<&'a RevisionWorkload> {
        self.world
            .revisions
            .iter()
            .find(|revision| revision.hash == hash)
    }

    /// Observed `(desired, ready)` pods of the revision with `hash` (zeros when absent).
    pub(super) fn pods(&self, hash: &str) -> (i32, i32) {
        self.observed(hash).map_or((0, 0), |revision| {
            (revision.replicas, revision.ready_replicas)
        })
    }

    /// How traffic is split for this rollout.
    pub(super) fn mode(&self) -> TrafficMode {
        match (self.plan(), &self.template.target.http_route) {
            (RolloutPlan::Rolling(_), _) => TrafficMode::Rolling,
            (RolloutPlan::Traffic(_), Some(route)) => TrafficMode::RouteWeights {
                route: route.name.clone(),
                rule: route.rule,
            },
            (RolloutPlan::Traffic(plan), None) if plan.has_partial_steps() => {
                TrafficMode::ReplicaRatio
            }
            (RolloutPlan::Traffic(_), None) => TrafficMode::Switch,
        }
    }

    /// Time spent in the current stage.
    pub(super) fn in_stage(&self) -> Duration {
        self.status
            .stage_start_time
            .as_ref()
            .map_or(Duration::ZERO, |start| health::elapsed(start, self.now))
    }

    /// The progress deadline.
    pub(super) fn progress_deadline(&self) -> Duration {
        Duration::from_secs(
            u64::try_from(self.template.progress_deadline_seconds.max(1)).unwrap_or(600),
        )
    }

    /// Waits for pods, failing the rollout once the stage has waited past the progress deadline.
    pub(super) fn wait_for_pods(&mut self, what: String) -> Flow {
        let deadline = self.progress_deadline();
        let spent = self.in_stage();
        if spent >= deadline {
            return self.fail(
                AutoRollbackEvent::DeploymentFailure,
                format!(
                    "progress deadline of {}s exceeded waiting for {what}",
                    deadline.as_secs()
                ),
            );
        }
        self.message(format!("waiting for {what}"));
        Flow::Wait(Some((deadline - spent).min(MAX_REQUEUE)))
    }

    /// Whether a promote releases the step at `index`.
    pub(super) fn promoted_through(&self, index: usize) -> bool {
        self.control.promote.as_ref().is_some_and(|promote| {
            promote.full || usize::try_from(promote.through_step).is_ok_and(|step| step >= index)
        })
    }

    /// The rollout failed (or was stopped) for `reason`: roll back when that is enabled for the
    /// event, otherwise end with traffic where it is.
    pub(super) fn fail(&mut self, reason: AutoRollbackEvent, message: String) -> Flow {
        let rollback = &self.template.auto_rollback;
        if rollback.enabled && rollback.events.contains(&reason) {
            self.start_rollback(reason, message)
        } else {
            self.end_without_rollback(reason, message)
        }
    }

    /// Starts a rollback; the rollback stage runs in the same decision.
    pub(super) fn start_rollback(&mut self, reason: AutoRollbackEvent, message: String) -> Flow {
        self.warning(reasons::ROLLING_BACK, format!("rolling back: {message}"));
        self.status.rollback = Some(RollbackInfo {
            reason,
            message: Some(message.clone()),
            start_time: Some(self.now.clone()),
            completion_time: None,
        });
        self.message(format!("rolling back: {message}"));
        self.enter(RolloutStage::RollingBack)
    }

    /// Ends the rollout as Failed or Stopped, leaving traffic where it is.
    pub(super) fn end_without_rollback(
        &mut self,
        reason: AutoRollbackEvent,
        message: String,
    ) -> Flow {
        let phase = final_phase(reason);
        let (event_reason, text) = match phase {
            DeploymentPhase::Stopped => (reasons::STOPPED, format!("stopped: {message}")),
            _ => (reasons::FAILED, format!("failed: {message}")),
        };
        self.warning(event_reason, text.clone());
        self.end(phase, text)
    }

    /// Ends the rollout in `phase`.
    pub(super) fn end(&mut self, phase: DeploymentPhase, message: String) -> Flow {
        self.status.phase = Some(phase);
        self.status.completion_time = Some(self.now.clone());
        self.status.waiting_for = None;
        self.message(message);
        self.enter(RolloutStage::Done);
        Flow::Wait(None)
    }

    fn invalid_spec(&mut self, message: &str) {
        self.block(
            Blocker::InvalidSpec,
            reasons::INVALID_SPEC,
            format!("unable to roll out: {message}"),
        );
    }

    /// A referenced object is missing or unusable: nothing moves; look again every minute
    /// (Services and HTTPRoutes the user owns are not watched).
    fn invalid_reference(&mut self, reference: &InvalidReference) {
        let InvalidReference {
            field,
            object,
            problem,
        } = reference;
        self.block(
            Blocker::InvalidReference,
            reasons::INVALID_REFERENCE,
            format!("unable to roll out: {field} names {object}, {problem}"),
        );
        self.wait(Some(MAX_REQUEUE));
    }

    /// Records `blocker` with `text` as the message, with one Warning Event per message.
    fn block(&mut self, blocker: Blocker, reason: &'static str, text: String) {
        if self.status.message.as_deref() != Some(text.as_str()) {
            self.warning(reason, text.clone());
        }
        self.blocker = Some(blocker);
        self.message(text);
        if self.status.stage.is_none() {
            self.status.stage = Some(RolloutStage::Pending);
        }
    }

    /// Handles `spec.control.stop`; true when the decision is complete.
    fn handle_stop(&mut self) -> bool {
        let Some(stop) = &self.control.stop else {
            return false;
        };
        let reason = stop
            .reason
            .clone()
            .unwrap_or_else(|| "stop requested".to_owned());
        if self.stage() == RolloutStage::Pending || !stop.rollback {
            self.end_without_rollback(AutoRollbackEvent::DeploymentStopOnRequest, reason);
            return true;
        }
        // A stop with rollback is the user's explicit request: it does not depend on autoRollback.
        self.start_rollback(AutoRollbackEvent::DeploymentStopOnRequest, reason);
        false
    }

    /// Folds probe results into status and judges them: the failure's flow when a check crossed
    /// its failure threshold.
    fn judge_health(&mut self) -> Option<Flow> {
        let checks = &self.template.health_checks;
        self.status.health_checks = health::fold_results(
            checks,
            &self.status.health_checks,
            &self.world.health_results,
        );
        if let HealthVerdict::Failing { check, message } =
            health::verdict(checks, &self.status.health_checks)
        {
            let text = format!("health check {check} failed: {message}");
            return Some(self.fail(AutoRollbackEvent::HealthCheckFailure, text));
        }
        None
    }

    /// The health verdict on the folded statuses.
    pub(super) fn health(&self) -> HealthVerdict {
        health::verdict(&self.template.health_checks, &self.status.health_checks)
    }

    /// Looks again when the next probe falls due (observe runs it: [`probes_due`]).
    fn schedule_probes(&mut self) {
        let checks = &self.template.health_checks;
        let (due, next) = health::due_probes(checks, &self.status.health_checks, self.now);
        // The rollout entered a probing stage in this decision, so observe ran none of the
        // probes due: look again at once rather than an interval later.
        let entered = !health_stage(self.input.status.stage.unwrap_or(RolloutStage::Pending));
        self.wait(if entered && !due.is_empty() {
            Some(SHORT_REQUEUE)
        } else {
            next
        });
    }

    /// Level-triggered chores of every active stage: scale the user's workload down once a
    /// Ready Slipway revision serves production.
    fn housekeeping(&mut self) {
        let target = &self.template.target;
        let Some(workload) = &self.world.workload else {
            return;
        };
        if !target.scale_down_workload || workload.replicas == 0 {
            return;
        }
        if let Some(Selection::Revision(serving)) = &self.world.production_selection
            && self.pods(serving).1 >= self.replicas()
        {
            self.intents.push(Intent::ScaleDownUserWorkload {
                workload: target.workload.clone(),
            });
        }
    }

    /// Copies the observed desired and Ready pods of both revisions into status.
    fn observe_revisions(&mut self) {
        let world = self.world;
        for revision in [
            &mut self.status.stable_revision,
            &mut self.status.canary_revision,
        ]
        .into_iter()
        .flatten()
        {
            let (replicas, ready) = world
                .revisions
                .iter()
                .find(|observed| observed.hash == revision.hash)
                .map_or((0, 0), |observed| {
                    (observed.replicas, observed.ready_replicas)
                });
            revision.replicas = replicas;
            revision.ready_replicas = ready;
        }
    }

    fn update_conditions(&mut self) {
        let generation = self.input.identity.generation;
        let phase = self.status.phase;
        let message = self.status.message.clone().unwrap_or_default();
        let invalid = match self.blocker {
            Some(Blocker::InvalidSpec) => Some(reasons::INVALID_SPEC),
            Some(Blocker::InvalidReference) => Some(reasons::INVALID_REFERENCE),
            Some(Blocker::RollbackStalled) | None => None,
        };
        let rollback_stalled = self.blocker == Some(Blocker::RollbackStalled);
        let (ready, ready_reason) = match (phase, invalid) {
            _ if rollback_stalled => (false, reasons::ROLLBACK_STALLED),
            (Some(DeploymentPhase::Succeeded), _) => (true, reasons::SUCCEEDED),
            (Some(DeploymentPhase::Failed), _) => (false, reasons::FAILED),
            (Some(DeploymentPhase::Stopped), _) => (false, reasons::STOPPED),
            (_, Some(reason)) => (false, reason),
            (Some(DeploymentPhase::Queued), _) => (false, reasons::QUEUED),
            (Some(DeploymentPhase::Ready), _) => (false, reasons::WAITING_FOR_PROMOTE),
            _ => (false, reasons::PROGRESSING),
        };
        let ended = self.stage() == RolloutStage::Done;
        let invalid = invalid.is_some();
        let stalled = invalid
            || rollback_stalled
            || matches!(
                phase,
                Some(DeploymentPhase::Failed | DeploymentPhase::Stopped)
            );
        let now = self.now.0;
        let conditions = &mut self.status.conditions;
        set_condition(
            conditions,
            READY,
            ready,
            ready_reason,
            &message,
            generation,
            now,
        );
        set_condition(
            conditions,
            RECONCILING,
            !ended && !invalid,
            if ended || invalid {
                ready_reason
            } else {
                reasons::PROGRESSING
            },
            &message,
            generation,
            now,
        );
        set_condition(
            conditions,
            STALLED,
            stalled,
            ready_reason,
            &message,
            generation,
            now,
        );
    }
}

/// The health-check probes due at `now` for a rollout whose persisted status is `status`, with
/// `known` the results taken already that status may not have folded yet (it can be a cached,
/// stale copy): the observe step runs exactly these before the decision, which folds their
/// results in (so a probe that crosses a failure threshold restores traffic in the same
/// reconcile). None outside the stages that probe ([`health_stage`]), and none once a stop is
/// requested (the decision ends or rolls back without judging them).
pub fn probes_due(
    spec: &DeploymentSpec,
    status: &DeploymentStatus,
    known: &[ProbeResult],
    now: &Time,
) -> Vec<DueProbe> {
    if spec.control.stop.is_some() || !health_stage(status.stage.unwrap_or(RolloutStage::Pending)) {
        return Vec::new();
    }
    let checks = &spec.template.health_checks;
    let folded = health::fold_results(checks, &status.health_checks, known);
    health::due_probes(checks, &folded, now).0
}

/// Stages during which health checks are probed: from test traffic until the termination
/// wait ends.
pub(super) fn health_stage(stage: RolloutStage) -> bool {
    (RolloutStage::AllowTestTraffic..=RolloutStage::TerminationWait).contains(&stage)
}

/// Stages during which reported health results are counted and judged: from the new
/// revision's install (a readiness check sees its pods) until the termination wait ends.
pub(super) fn judged_stage(stage: RolloutStage) -> bool {
    (RolloutStage::Install..=RolloutStage::TerminationWait).contains(&stage)
}

/// The phase a rollout ends in after `reason`.
pub(super) fn final_phase(reason: AutoRollbackEvent) -> DeploymentPhase {
    match reason {
        AutoRollbackEvent::DeploymentStopOnRequest => DeploymentPhase::Stopped,
        AutoRollbackEvent::DeploymentFailure | AutoRollbackEvent::HealthCheckFailure => {
            DeploymentPhase::Failed
        }
    }
}
