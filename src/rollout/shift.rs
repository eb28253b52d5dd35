//! The stages that move production traffic: the steps of a traffic plan (or the pod
//! replacement of a rolling update), the termination wait and the finalization that makes the
//! new revision the stable one.
//!
//! # A traffic step
//! 1. Scale the new revision to the pods the step's weight needs ([`replica_needs`]) and wait
//!    until that many are Ready (the progress deadline runs from the step's start).
//! 2. Point production at the weight: the Service selector and/or the HTTPRoute weights. The
//!    weight is recorded in `status.trafficSplit` when asked for, and the bake starts when the
//!    observed world shows it in place (`status.stepStartTime`).
//! 3. In replica-ratio mode, scale the stable revision down to its share — only after the new
//!    pods are Ready, so capacity never drops.
//! 4. Move on when the bake is over (or a promote covers the step) and every health check
//!    passes; the last step leads to AfterAllowTraffic.
//!
//! Weights only grow: a step never routes less to the new revision than the previous one did.

use super::decide::{Flow, Run, SHORT_REQUEUE};
use super::health::{HealthVerdict, elapsed};
use super::reasons;
use super::state::{Intent, RevisionRole, ServiceRole};
use super::strategy::{Bake, RollingPlan, RolloutPlan, TrafficPlan};
use super::traffic::{
    self, Selection, TrafficMode, canary_service_name, may_route, production_selection,
    replica_needs, rolling_next, route_weights,
};
use crate::api::deployment::{
    AutoRollbackEvent, DeploymentPhase, LifecycleEvent, LifecycleEventState, RolloutStage,
};

/// `start + duration` in RFC 3339 (as `kubectl` shows times).
fn after(
    start: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
    duration: std::time::Duration,
) -> String {
    k8s_openapi::jiff::SignedDuration::try_from(duration)
        .ok()
        .and_then(|duration| start.0.checked_add(duration).ok())
        .map_or_else(|| start.0.to_string(), |end| end.to_string())
}

/// Whether production routing is where a step wants it.
enum Routing {
    /// Observed in place.
    InPlace,
    /// Changes were asked for.
    Changing,
    /// The destination lacks Ready pods (what is missing).
    Blocked(String),
}

impl Run<'_> {
    /// AllowTraffic: walk the plan's steps (or replace pods, for rolling).
    pub(super) fn allow_traffic(&mut self) -> Flow {
        self.record_event(
            LifecycleEvent::AllowTraffic,
            LifecycleEventState::InProgress,
            None,
            None,
        );
        match self.plan().clone() {
            RolloutPlan::Traffic(plan) => self.shift(&plan),
            RolloutPlan::Rolling(plan) => self.roll_pods(&plan),
        }
    }

    /// Asks for the production routing of `weight`.
    fn route(&mut self, mode: &TrafficMode, weight: i32) -> Routing {
        let (stable, canary) = (self.stable_hash(), self.canary_hash());
        let mut routing = Routing::InPlace;
        let selection = production_selection(mode, weight, &stable, &canary);
        let observed = self.world.production_selection.as_ref();
        // With an HTTPRoute at 100%, finalization may already point production at the new
        // revision (a status write lost after it): never switch it back.
        let finalized = matches!(mode, TrafficMode::RouteWeights { .. })
            && weight >= 100
            && observed == Some(&Selection::Revision(canary.clone()));
        if observed != Some(&selection) && !finalized {
            let (what, ready, needed) = match &selection {
                Selection::Revision(hash) => (hash.clone(), self.pods(hash).1, self.replicas()),
                Selection::AllRevisions => (canary.clone(), self.pods(&canary).1, 1),
            };
            if !may_route(ready, needed) {
                return Routing::Blocked(format!("revision {what}: {ready}/{needed} pods Ready"));
            }
            self.intents.push(Intent::SetServiceSelector {
                role: ServiceRole::Production,
                service: self.template.target.service.clone(),
                selection,
            });
            routing = Routing::Changing;
        }
        if let TrafficMode::RouteWeights { route, rule } = mode
            && !finalized
        {
            let (production, canary_weight) = route_weights(weight);
            if self.world.route_weights != Some((production, canary_weight)) {
                let service = self.template.target.service.clone();
                self.intents.push(Intent::SetRouteWeights {
                    route: route.clone(),
                    rule: *rule,
                    canary: (canary_service_name(&service), canary_weight),
                    production: (service, production),
                });
                routing = Routing::Changing;
            }
        }
        routing
    }

    fn shift(&mut self, plan: &TrafficPlan) -> Flow {
        let last = plan.steps.len().saturating_sub(1);
        let recorded = usize::try_from(self.status.current_step.unwrap_or(0)).unwrap_or(0);
        let mut index = recorded.clamp(plan.first_shift_index(), last);
        if self
            .control
            .promote
            .as_ref()
            .is_some_and(|promote| promote.full)
            && index != last
        {
            index = last;
            self.status.step_start_time = None;
            // The progress deadline runs from when the step starts needing pods.
            self.status.stage_start_time = Some(self.now.clone());
        }
        // A status write lost after its traffic change leaves the world ahead of the status:
        // catch up to the step the world shows instead of moving traffic back.
        if let Some(observed) = self.observed_weight()
            && plan
                .shift_at(index)
                .is_some_and(|(weight, _)| weight < observed)
            && let Some(ahead) = (index..=last).find(|step| {
                plan.shift_at(*step)
                    .is_some_and(|(weight, _)| weight >= observed)
            })
        {
            index = ahead;
            self.status.step_start_time = None;
            self.status.stage_start_time = Some(self.now.clone());
        }
        self.status.current_step = Some(i32::try_from(index).unwrap_or(i32::MAX));
        let Some((planned, bake)) = plan.shift_at(index) else {
            return self.enter(RolloutStage::AfterAllowTraffic);
        };
        let applied = self
            .status
            .traffic_split
            .as_ref()
            .map_or(0, |split| split.canary);
        let weight = planned.max(applied);
        let mode = self.mode();
        let replicas = self.replicas();
        let needs = replica_needs(&mode, weight, replicas);
        let (stable, canary) = (self.stable_hash(), self.canary_hash());
        self.ensure_revision(RevisionRole::Canary, &canary, needs.canary);
        let ready = self.pods(&canary).1;
        if weight > 0 && !may_route(ready, needs.canary) {
            let needed = needs.canary;
            return self.wait_for_pods(format!(
                "new revision {canary}: {ready}/{needed} pods Ready for {weight}% of traffic"
            ));
        }
        match self.route(&mode, weight) {
            Routing::InPlace => {}
            Routing::Blocked(what) => return self.wait_for_pods(what),
            Routing::Changing => {
                self.status.traffic_split = Some(traffic::split(weight));
                self.status.step_start_time = None;
                self.message(format!(
                    "shifting {weight}% of traffic to revision {canary}"
                ));
                return Flow::Wait(Some(SHORT_REQUEUE));
            }
        }
        if mode == TrafficMode::ReplicaRatio && (1..100).contains(&weight) {
            let stable_desired = self.pods(&stable).0;
            if stable_desired > needs.stable {
                self.intents.push(Intent::ScaleRevision {
                    hash: stable.clone(),
                    replicas: needs.stable,
                });
            }
        }
        if self.status.step_start_time.is_none() {
            self.status.step_start_time = Some(self.now.clone());
            self.status.traffic_split = Some(traffic::split(weight));
            self.normal(
                reasons::SHIFTED,
                format!("{weight}% of traffic on revision {canary} (step {index})"),
            );
        }
        let baked = self
            .status
            .step_start_time
            .as_ref()
            .map_or(std::time::Duration::ZERO, |start| elapsed(start, self.now));
        let released = self.promoted_through(index)
            || match bake {
                Bake::None => true,
                Bake::For(duration) => baked >= duration,
                Bake::UntilPromoted => false,
            };
        if !released {
            let remaining = match bake {
                Bake::For(duration) => Some(duration - baked),
                _ => None,
            };
            // An absolute end time, not a countdown: the message must not change between
            // reconciles, or each status write would trigger the next reconcile.
            let until = match bake {
                Bake::For(duration) => self
                    .status
                    .step_start_time
                    .as_ref()
                    .map(|start| after(start, duration)),
                _ => None,
            };
            self.message(match until {
                Some(until) => format!("step {index}: {weight}% of traffic, baking until {until}"),
                None => format!("step {index}: {weight}% of traffic, waiting for a promote"),
            });
            return Flow::Wait(remaining);
        }
        match self.health() {
            HealthVerdict::Passing => {}
            HealthVerdict::Pending => {
                self.message(format!(
                    "step {index}: {weight}% of traffic, waiting for health checks to pass"
                ));
                return Flow::Wait(None);
            }
            HealthVerdict::Failing { check, message } => {
                return self.fail(
                    AutoRollbackEvent::HealthCheckFailure,
                    format!("health check {check} failed: {message}"),
                );
            }
        }
        if index >= last {
            self.record_event(
                LifecycleEvent::AllowTraffic,
                LifecycleEventState::Succeeded,
                None,
                None,
            );
            return self.enter(RolloutStage::AfterAllowTraffic);
        }
        self.status.current_step = Some(i32::try_from(index + 1).unwrap_or(i32::MAX));
        self.status.step_start_time = None;
        self.enter(RolloutStage::AllowTraffic)
    }

    /// The new revision's share as the world shows it, where it can be read exactly: the
    /// HTTPRoute's weight, or 100 when production selects only the new revision.
    fn observed_weight(&self) -> Option<i32> {
        match self.mode() {
            TrafficMode::RouteWeights { .. } => self.world.route_weights.map(|(_, canary)| canary),
            TrafficMode::Switch | TrafficMode::ReplicaRatio => {
                let canary = Selection::Revision(self.canary_hash());
                (self.world.production_selection.as_ref() == Some(&canary)).then_some(100)
            }
            TrafficMode::Rolling => None,
        }
    }

    fn roll_pods(&mut self, plan: &RollingPlan) -> Flow {
        let replicas = self.replicas();
        let limits = plan.limits(replicas).unwrap_or((1, 0));
        let (stable, canary) = (self.stable_hash(), self.canary_hash());
        let (canary_desired, canary_ready) = self.pods(&canary);
        let (stable_desired, stable_ready) = self.pods(&stable);
        let applied = self
            .status
            .traffic_split
            .as_ref()
            .map_or(0, |split| split.canary);
        let done = canary_ready >= replicas && stable_desired == 0 && stable_ready == 0;
        if done {
            match self.route(&TrafficMode::Rolling, 100) {
                Routing::InPlace => {}
                Routing::Blocked(what) => return self.wait_for_pods(what),
                Routing::Changing => {
                    self.status.traffic_split = Some(traffic::split(100));
                    return Flow::Wait(Some(SHORT_REQUEUE));
                }
            }
            self.status.traffic_split = Some(traffic::split(100));
            self.record_event(
                LifecycleEvent::AllowTraffic,
                LifecycleEventState::Succeeded,
                None,
                None,
            );
            return self.enter(RolloutStage::AfterAllowTraffic);
        }
        if self.world.production_selection != Some(Selection::AllRevisions)
            && may_route(canary_ready, 1)
        {
            self.intents.push(Intent::SetServiceSelector {
                role: ServiceRole::Production,
                service: self.template.target.service.clone(),
                selection: Selection::AllRevisions,
            });
            return Flow::Wait(Some(SHORT_REQUEUE));
        }
        let may_grow = self.health() == HealthVerdict::Passing;
        let (next_canary, next_stable) = rolling_next(
            replicas,
            limits,
            (canary_desired, canary_ready),
            (stable_desired, stable_ready),
            may_grow,
        );
        if next_canary != canary_desired {
            self.intents.push(Intent::ScaleRevision {
                hash: canary.clone(),
                replicas: next_canary,
            });
        }
        if next_stable != stable_desired {
            self.intents.push(Intent::ScaleRevision {
                hash: stable.clone(),
                replicas: next_stable,
            });
        }
        let share =
            i32::try_from(i64::from(canary_ready.min(replicas)) * 100 / i64::from(replicas))
                .unwrap_or(0)
                .min(99);
        if share > applied {
            self.status.traffic_split = Some(traffic::split(share));
            self.status.stage_start_time = Some(self.now.clone());
        }
        self.wait_for_pods(format!(
            "rolling update: {canary_ready}/{replicas} new pods Ready, {stable_ready} old pods Ready"
        ))
    }

    /// TerminationWait: all traffic is on the new revision; keep the old one (instant rollback)
    /// while health checks keep running.
    pub(super) fn termination_wait(&mut self) -> Flow {
        let wait = match self.plan() {
            RolloutPlan::Traffic(plan) => plan.termination_wait,
            RolloutPlan::Rolling(_) => std::time::Duration::ZERO,
        };
        let spent = self.in_stage();
        if spent < wait {
            let until = self
                .status
                .stage_start_time
                .as_ref()
                .map_or_else(String::new, |start| after(start, wait));
            self.message(format!(
                "all traffic on revision {}; keeping the old revision until {until}",
                self.canary_hash(),
            ));
            return Flow::Wait(Some(wait - spent));
        }
        self.enter(RolloutStage::Finalize)
    }

    /// Finalize: the production Service selects the new revision at 100% of the route, then the
    /// old revision is scaled to zero and the rollout succeeds.
    pub(super) fn finalize(&mut self) -> Flow {
        let (stable, canary) = (self.stable_hash(), self.canary_hash());
        let replicas = self.replicas();
        // The old revision is the instant rollback: keep it (and keep finalizing) only once the
        // new one is fully Ready.
        let ready = self.pods(&canary).1;
        if !may_route(ready, replicas) {
            return self.wait_for_pods(format!(
                "new revision {canary}: {ready}/{replicas} pods Ready"
            ));
        }
        let wanted = Selection::Revision(canary.clone());
        if self.world.production_selection.as_ref() != Some(&wanted) {
            self.intents.push(Intent::SetServiceSelector {
                role: ServiceRole::Production,
                service: self.template.target.service.clone(),
                selection: wanted,
            });
            return Flow::Wait(Some(SHORT_REQUEUE));
        }
        if let TrafficMode::RouteWeights { route, rule } = self.mode()
            && self
                .world
                .route_weights
                .is_some_and(|weights| weights != (100, 0))
        {
            let service = self.template.target.service.clone();
            self.intents.push(Intent::SetRouteWeights {
                route,
                rule,
                canary: (canary_service_name(&service), 0),
                production: (service, 100),
            });
            return Flow::Wait(Some(SHORT_REQUEUE));
        }
        if self.pods(&stable).0 > 0 {
            self.intents.push(Intent::ScaleRevision {
                hash: stable,
                replicas: 0,
            });
            self.message(format!(
                "scaling the old revision down; revision {canary} serves all traffic"
            ));
            return Flow::Wait(Some(SHORT_REQUEUE));
        }
        self.status.traffic_split = Some(traffic::split(100));
        let message = format!("revision {canary} serves all traffic");
        self.normal(reasons::SUCCEEDED, message.clone());
        self.end(DeploymentPhase::Succeeded, message)
    }
}
