//! Rollback: all production traffic back on the stable revision, then the new one scaled down.
//!
//! # Guarantees
//! In this order, each step only once the previous one is observed:
//! 1. the stable revision is scaled to full size and **all** its pods are Ready (there is no
//!    deadline: a rollback waits rather than route to a revision that cannot take the load);
//! 2. the production Service selects only the stable revision and, with an HTTPRoute, the
//!    weights are 100 / 0 — the traffic split reads 0% on the new revision from here on;
//! 3. the new revision is scaled to zero (kept for inspection);
//! 4. `status.rollback.completionTime` is set and the rollout ends Failed (deployment or
//!    health-check failure) or Stopped (stop on request, promote wait timeout).
//!
//! When the stable revision is still at full size and Ready (blue-green, HTTPRoute, the
//! termination wait), step 2 happens in the same decision that detected the failure: the
//! immediate rollback path skips the remaining steps, bakes and analysis.
//!
//! What triggers it: a deployment failure (hook failed or timed out, progress deadline) or a
//! health-check failure when `autoRollback` lists the event; a promote wait timeout when it
//! lists `DeploymentStopOnRequest`; and a stop request with `stop.rollback` (the default),
//! whatever `autoRollback` says — the user asked for it. Without a rollback the rollout ends
//! Failed or Stopped with traffic where it is.
//!
//! Before a takeover completed, production still selects the user's own workload: nothing is
//! restored, only the new revision is scaled down.

use super::decide::{Blocker, Flow, Run, SHORT_REQUEUE, final_phase};
use super::reasons;
use super::state::{Intent, ServiceRole};
use super::traffic::{self, Selection, TrafficMode, canary_service_name, may_route};
use crate::api::deployment::{AutoRollbackEvent, RolloutStage};
use crate::runtime::conditions::{self, STALLED};

impl Run<'_> {
    /// Marks the rollback stalled with `message`, with one Warning Event when it becomes so.
    fn stall_rollback(&mut self, message: String) {
        let already = conditions::is_true(&self.status.conditions, STALLED)
            && conditions::find(&self.status.conditions, STALLED)
                .is_some_and(|condition| condition.reason == reasons::ROLLBACK_STALLED);
        if !already {
            self.warning(reasons::ROLLBACK_STALLED, message.clone());
        }
        self.blocker = Some(Blocker::RollbackStalled);
        self.message(message);
    }

    /// RollingBack: restore the stable revision, then end.
    pub(super) fn rolling_back(&mut self) -> Flow {
        let (stable, canary) = (self.stable_hash(), self.canary_hash());
        let replicas = self.replicas();
        if self.world.production_selection.is_some() {
            match self.observed(&stable) {
                None => {
                    self.stall_rollback(format!(
                        "unable to roll back: stable revision {stable} no longer exists; restore it or point the production Service at a Ready revision"
                    ));
                    return Flow::Wait(Some(super::decide::MAX_REQUEUE));
                }
                Some(observed) if observed.replicas < replicas => {
                    self.intents.push(Intent::ScaleRevision {
                        hash: stable.clone(),
                        replicas,
                    });
                }
                Some(_) => {}
            }
            let ready = self.pods(&stable).1;
            if !may_route(ready, replicas) {
                // Traffic only moves to a Ready revision, so the rollback keeps waiting; past
                // the progress deadline it says so as a Stalled condition and a Warning.
                let deadline = self.progress_deadline();
                if self.in_stage() >= deadline {
                    self.stall_rollback(format!(
                        "rollback stalled: stable revision {stable} has {ready}/{replicas} pods Ready after {}s (spec.progressDeadlineSeconds); traffic moves back once they are Ready: check its pods",
                        deadline.as_secs()
                    ));
                } else {
                    self.message(format!(
                        "rolling back: waiting for stable revision {stable}: {ready}/{replicas} pods Ready"
                    ));
                }
                return Flow::Wait(Some(SHORT_REQUEUE));
            }
            let mut changing = false;
            let wanted = Selection::Revision(stable.clone());
            if self.world.production_selection.as_ref() != Some(&wanted) {
                self.intents.push(Intent::SetServiceSelector {
                    role: ServiceRole::Production,
                    service: self.template.target.service.clone(),
                    selection: wanted,
                });
                changing = true;
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
                changing = true;
            }
            self.status.traffic_split = Some(traffic::split(0));
            if changing {
                self.message(format!(
                    "rolling back: restoring all traffic to revision {stable}"
                ));
                return Flow::Wait(Some(SHORT_REQUEUE));
            }
        }
        if self.pods(&canary).0 > 0 {
            self.intents.push(Intent::ScaleRevision {
                hash: canary.clone(),
                replicas: 0,
            });
            self.message(format!(
                "rolling back: all traffic on revision {stable}; scaling revision {canary} down"
            ));
            return Flow::Wait(Some(SHORT_REQUEUE));
        }
        let now = self.now.clone();
        let (reason, why) = match &mut self.status.rollback {
            Some(rollback) => {
                rollback.completion_time.get_or_insert(now);
                (
                    rollback.reason,
                    rollback.message.clone().unwrap_or_default(),
                )
            }
            None => (AutoRollbackEvent::DeploymentFailure, String::new()),
        };
        let message = format!("rolled back to revision {stable}: {why}");
        self.warning(reasons::ROLLED_BACK, message.clone());
        debug_assert_ne!(self.stage(), RolloutStage::Done);
        self.end(final_phase(reason), message)
    }
}
