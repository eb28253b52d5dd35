//! The stages before production traffic moves: admission (queueing), takeover of the user's
//! workload, the lifecycle hooks, installing the new revision, test traffic and the blue-green
//! promote gate.
//!
//! # Queueing
//! One active rollout per target workload. A rollout starts when no other rollout on the target
//! is active and no waiting one is older (by creation time, then name); otherwise it is Queued
//! with `status.waitingFor` naming the rollout ahead of it. Once started it never re-queues.
//!
//! # Takeover
//! On the first rollout the production Service still carries the user's own selector, which
//! would also match every revision's pods. So the rollout first copies the user's workload into
//! a stable revision (same template, hash `workload.templateHash`) at full size, waits until it
//! is Ready, and points the production Service at it; only then is the user's workload scaled
//! down (when `scaleDownWorkload`). Later rollouts find the Service selecting a revision and use
//! it as the stable one (when it spans revisions after a rollout stopped mid-split without a
//! rollback, the revision with the most Ready pods).

use super::decide::{Flow, Run, SHORT_REQUEUE};
use super::hooks::{self, HookProgress};
use super::reasons;
use super::state::{Intent, OtherRolloutState, RevisionRole, ServiceRole};
use super::strategy::{PlanStep, RolloutPlan};
use super::traffic::{self, Selection, TrafficMode, canary_service_name};
use crate::api::common::ChildReference;
use crate::api::deployment::{
    AutoRollbackEvent, DeploymentPhase, LifecycleEvent, LifecycleEventState, LifecycleEventStatus,
    RevisionStatus, RolloutStage,
};

impl Run<'_> {
    /// Pending: queue behind another rollout on the target, or start.
    pub(super) fn admit(&mut self) -> Flow {
        let me = &self.input.identity.name;
        let ahead = self
            .world
            .rollouts_on_target
            .iter()
            .filter(|other| &other.name != me)
            .filter(|other| match other.state {
                OtherRolloutState::Active => true,
                OtherRolloutState::Ended => false,
                // Older waiting rollouts go first; without our own creation time, by name.
                OtherRolloutState::Waiting => {
                    let created = self.world_creation_time();
                    match created {
                        Some(created) => (other.creation_time.0, &other.name) < (created.0, me),
                        None => &other.name < me,
                    }
                }
            })
            .min_by_key(|other| {
                (
                    other.state != OtherRolloutState::Active,
                    other.creation_time.0,
                )
            });
        if let Some(other) = ahead {
            let name = other.name.clone();
            if self.status.waiting_for.as_deref() != Some(name.as_str()) {
                self.normal(
                    reasons::QUEUED,
                    format!("waiting for {name}, another rollout on the same target"),
                );
            }
            self.message(format!("queued behind {name}"));
            self.status.waiting_for = Some(name);
            self.status.stage = Some(RolloutStage::Pending);
            return Flow::Wait(Some(super::decide::MAX_REQUEUE));
        }
        self.status.waiting_for = None;
        self.start()
    }

    /// This rollout's own creation time, as the observe step reported it among the rollouts
    /// on the target (it lists every rollout, this one included).
    fn world_creation_time(&self) -> Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time> {
        self.world
            .rollouts_on_target
            .iter()
            .find(|other| other.name == self.input.identity.name)
            .map(|other| other.creation_time.clone())
    }

    fn start(&mut self) -> Flow {
        let revision = self.new_revision();
        let serving = match &self.world.production_selection {
            Some(Selection::Revision(hash)) => self.observed(hash).cloned(),
            // An earlier rollout stopped mid-split without rollback: the revision with the most
            // Ready pods is the one to fall back to.
            Some(Selection::AllRevisions) => self
                .world
                .revisions
                .iter()
                .filter(|revision| revision.hash != self.new_revision().hash)
                .max_by_key(|revision| {
                    (
                        revision.ready_replicas,
                        std::cmp::Reverse(revision.hash.clone()),
                    )
                })
                .cloned(),
            None => None,
        };
        let workload = self.world.workload.clone();
        let (stable_hash, replicas, take_over) = match (&serving, &workload) {
            (Some(serving), _) => (
                serving.hash.clone(),
                serving
                    .replicas
                    .max(workload.as_ref().map_or(0, |w| w.replicas)),
                false,
            ),
            (None, Some(workload)) => (workload.template_hash.clone(), workload.replicas, true),
            (None, None) => {
                let text = format!(
                    "unable to find workload {}: spec.target.workload names no apps/v1 Deployment",
                    self.template.target.workload
                );
                if self.status.message.as_deref() != Some(text.as_str()) {
                    self.warning(reasons::WORKLOAD_NOT_FOUND, text.clone());
                }
                self.message(text);
                return Flow::Wait(Some(super::decide::MAX_REQUEUE));
            }
        };
        let replicas = replicas.max(1);
        self.status.start_time = Some(self.now.clone());
        self.status.target_replicas = Some(replicas);
        self.status.stable_revision = Some(RevisionStatus {
            hash: stable_hash.clone(),
            ..Default::default()
        });
        self.status.canary_revision = Some(RevisionStatus {
            hash: revision.hash.clone(),
            images: revision.images.clone(),
            ..Default::default()
        });
        self.status.traffic_split = Some(traffic::split(0));
        self.status.total_steps = Some(match self.plan() {
            RolloutPlan::Traffic(plan) => i32::try_from(plan.steps.len()).unwrap_or(i32::MAX),
            RolloutPlan::Rolling(_) => 1,
        });
        self.status.current_step = Some(0);
        if revision.hash == stable_hash {
            return self.end(
                DeploymentPhase::Succeeded,
                format!("revision {stable_hash} already serves the target"),
            );
        }
        self.normal(
            reasons::STARTED,
            format!("rolling out revision {} over {stable_hash}", revision.hash),
        );
        self.message(format!("started rolling out revision {}", revision.hash));
        self.enter(if take_over {
            RolloutStage::TakeOver
        } else {
            RolloutStage::BeforeInstall
        })
    }

    /// Ensures the revision `hash` exists with at least `replicas` desired pods.
    pub(super) fn ensure_revision(&mut self, role: RevisionRole, hash: &str, replicas: i32) {
        match self.observed(hash) {
            None => {
                let images = match role {
                    RevisionRole::Canary => self.new_revision().images.clone(),
                    RevisionRole::Stable => Vec::new(),
                };
                self.intents.push(Intent::CreateRevision {
                    role,
                    hash: hash.to_owned(),
                    images,
                    replicas,
                });
            }
            Some(observed) if observed.replicas < replicas => {
                self.intents.push(Intent::ScaleRevision {
                    hash: hash.to_owned(),
                    replicas,
                });
            }
            Some(_) => {}
        }
    }

    /// TakeOver: a Ready stable copy of the user's workload serving production.
    pub(super) fn take_over(&mut self) -> Flow {
        let stable = self.stable_hash();
        let replicas = self.replicas();
        self.ensure_revision(RevisionRole::Stable, &stable, replicas);
        let ready = self.pods(&stable).1;
        if ready < replicas {
            return self.wait_for_pods(format!(
                "stable revision {stable}: {ready}/{replicas} pods Ready"
            ));
        }
        let wanted = Selection::Revision(stable.clone());
        if self.world.production_selection.as_ref() != Some(&wanted) {
            self.intents.push(Intent::SetServiceSelector {
                role: ServiceRole::Production,
                service: self.template.target.service.clone(),
                selection: wanted,
            });
            self.message(format!(
                "pointing the production Service at stable revision {stable}"
            ));
            return Flow::Wait(Some(SHORT_REQUEUE));
        }
        self.normal(
            reasons::TOOK_OVER,
            format!("production Service now selects stable revision {stable}"),
        );
        self.enter(RolloutStage::BeforeInstall)
    }

    /// Replicas the new revision is installed with.
    fn install_replicas(&self) -> i32 {
        let replicas = self.replicas();
        match (self.plan(), self.mode()) {
            (RolloutPlan::Rolling(plan), _) => plan
                .limits(replicas)
                .map_or(1, |(surge, _)| surge)
                .clamp(1, replicas),
            (RolloutPlan::Traffic(plan), TrafficMode::ReplicaRatio) => {
                let first = plan
                    .weights()
                    .into_iter()
                    .find(|weight| *weight > 0)
                    .unwrap_or(100);
                traffic::replica_needs(&TrafficMode::ReplicaRatio, first, replicas)
                    .canary
                    .max(1)
            }
            (RolloutPlan::Traffic(_), _) => replicas,
        }
    }

    /// Install: the new revision's workload exists and its pods are Ready.
    pub(super) fn install(&mut self) -> Flow {
        self.record_event(
            LifecycleEvent::Install,
            LifecycleEventState::InProgress,
            None,
            None,
        );
        let canary = self.canary_hash();
        let replicas = self.install_replicas();
        self.ensure_revision(RevisionRole::Canary, &canary, replicas);
        let ready = self.pods(&canary).1;
        if ready < replicas {
            return self.wait_for_pods(format!(
                "new revision {canary}: {ready}/{replicas} pods Ready"
            ));
        }
        self.record_event(
            LifecycleEvent::Install,
            LifecycleEventState::Succeeded,
            None,
            None,
        );
        self.enter(RolloutStage::AfterInstall)
    }

    /// AllowTestTraffic: the test Service (and the canary Service of an HTTPRoute) select the
    /// new revision. No production traffic moves.
    pub(super) fn allow_test_traffic(&mut self) -> Flow {
        let canary = self.canary_hash();
        let wanted = Selection::Revision(canary.clone());
        let mut pending = false;
        if let Some(test_service) = self.template.target.test_service.clone() {
            self.record_event(
                LifecycleEvent::AllowTestTraffic,
                LifecycleEventState::InProgress,
                None,
                None,
            );
            if self.world.test_selection.as_ref() != Some(&wanted) {
                self.intents.push(Intent::SetServiceSelector {
                    role: ServiceRole::Test,
                    service: test_service,
                    selection: wanted.clone(),
                });
                pending = true;
            }
        }
        if matches!(self.mode(), TrafficMode::RouteWeights { .. })
            && self.world.canary_selection.as_ref() != Some(&wanted)
        {
            self.intents.push(Intent::SetServiceSelector {
                role: ServiceRole::Canary,
                service: canary_service_name(&self.template.target.service),
                selection: wanted,
            });
            pending = true;
        }
        if pending {
            self.message(format!("pointing test traffic at new revision {canary}"));
            return Flow::Wait(Some(SHORT_REQUEUE));
        }
        let state = if self.template.target.test_service.is_some() {
            LifecycleEventState::Succeeded
        } else {
            LifecycleEventState::Skipped
        };
        self.record_event(LifecycleEvent::AllowTestTraffic, state, None, None);
        self.enter(RolloutStage::AfterAllowTestTraffic)
    }

    /// AwaitPromote (step 0 of a blue-green Wait): reroute only after a promote; Stopped after
    /// the wait timeout (rolled back when `DeploymentStopOnRequest` is an autoRollback event).
    pub(super) fn await_promote(&mut self) -> Flow {
        self.status.current_step = Some(0);
        let timeout = match self.plan() {
            RolloutPlan::Traffic(plan) => match plan.steps.first() {
                Some(PlanStep::AwaitPromote { timeout }) => *timeout,
                _ => return self.enter(RolloutStage::BeforeAllowTraffic),
            },
            RolloutPlan::Rolling(_) => return self.enter(RolloutStage::BeforeAllowTraffic),
        };
        if self.promoted_through(0) {
            return self.enter(RolloutStage::BeforeAllowTraffic);
        }
        let waited = self.in_stage();
        if let Some(timeout) = timeout {
            if waited >= timeout {
                return self.fail(
                    AutoRollbackEvent::DeploymentStopOnRequest,
                    format!(
                        "no promote within the wait timeout of {}s",
                        timeout.as_secs()
                    ),
                );
            }
            self.message("new revision Ready; waiting for a promote before rerouting");
            return Flow::Wait(Some(timeout - waited));
        }
        self.message("new revision Ready; waiting for a promote before rerouting");
        Flow::Wait(None)
    }

    /// A hook stage: run the event's hook (if any) to its end, then move on.
    pub(super) fn hook_stage(&mut self, stage: RolloutStage) -> Flow {
        let (event, next) = match stage {
            RolloutStage::BeforeInstall => (LifecycleEvent::BeforeInstall, RolloutStage::Install),
            RolloutStage::AfterInstall => {
                (LifecycleEvent::AfterInstall, RolloutStage::AllowTestTraffic)
            }
            RolloutStage::AfterAllowTestTraffic => (
                LifecycleEvent::AfterAllowTestTraffic,
                if matches!(self.plan(), RolloutPlan::Traffic(plan) if plan.gate().is_some()) {
                    RolloutStage::AwaitPromote
                } else {
                    RolloutStage::BeforeAllowTraffic
                },
            ),
            RolloutStage::BeforeAllowTraffic => (
                LifecycleEvent::BeforeAllowTraffic,
                RolloutStage::AllowTraffic,
            ),
            _ => (
                LifecycleEvent::AfterAllowTraffic,
                RolloutStage::TerminationWait,
            ),
        };
        let identity = self.input.identity;
        let hook = hooks::hook_for_event(self.template, &self.new_revision().appspec_hooks, event);
        let entry = self
            .status
            .lifecycle_events
            .iter()
            .find(|entry| entry.name == event)
            .cloned();
        // The child a started hook recorded keeps its name, even if the naming rule changed
        // since (an upgrade never starts a hook a second time).
        let child_name = entry
            .as_ref()
            .and_then(|entry| entry.child.as_ref())
            .map_or_else(
                || hooks::hook_child_name(&identity.name, &identity.uid, event, 1),
                |child| child.name.clone(),
            );
        match hooks::hook_progress(
            hook,
            entry.as_ref(),
            &child_name,
            &self.world.hooks,
            self.now,
        ) {
            HookProgress::Skip => {
                self.record_event(event, LifecycleEventState::Skipped, None, None);
                self.enter_hook_next(next)
            }
            HookProgress::Succeeded => {
                if entry.as_ref().map(|entry| entry.status) != Some(LifecycleEventState::Succeeded)
                {
                    self.normal(reasons::HOOK, format!("{event:?} hook succeeded"));
                }
                self.record_event(event, LifecycleEventState::Succeeded, None, None);
                self.enter_hook_next(next)
            }
            HookProgress::Failed { message, timed_out } => {
                if timed_out {
                    self.intents.push(Intent::StopHook {
                        child_name: child_name.clone(),
                    });
                }
                self.record_event(
                    event,
                    LifecycleEventState::Failed,
                    Some(message.clone()),
                    None,
                );
                self.fail(
                    AutoRollbackEvent::DeploymentFailure,
                    format!("{event:?} hook {child_name} failed: {message}"),
                )
            }
            HookProgress::Start {
                child_name,
                hook,
                remaining,
            } => {
                let kind = if hook.job.is_some() {
                    "Job"
                } else {
                    "HTTPCall"
                };
                let child = ChildReference {
                    api_version: if hook.job.is_some() {
                        "batch/v1"
                    } else {
                        "slipway.dev/v1alpha1"
                    }
                    .into(),
                    kind: kind.into(),
                    name: child_name.clone(),
                    uid: None,
                };
                self.record_event(event, LifecycleEventState::InProgress, None, Some(child));
                self.intents.push(Intent::StartHook {
                    event,
                    child_name: child_name.clone(),
                    hook,
                    timeout: remaining,
                });
                self.message(format!("running the {event:?} hook {child_name}"));
                Flow::Wait(Some(remaining))
            }
        }
    }

    fn enter_hook_next(&mut self, next: RolloutStage) -> Flow {
        if next == RolloutStage::AllowTraffic
            && let RolloutPlan::Traffic(plan) = self.plan()
        {
            let first = i32::try_from(plan.first_shift_index()).unwrap_or(0);
            self.status.current_step = Some(first);
            self.status.step_start_time = None;
        }
        self.enter(next)
    }

    /// Records a lifecycle event's state, keeping its start time, child and first message.
    pub(super) fn record_event(
        &mut self,
        event: LifecycleEvent,
        state: LifecycleEventState,
        message: Option<String>,
        child: Option<ChildReference>,
    ) {
        let now = self.now.clone();
        let events = &mut self.status.lifecycle_events;
        let index = match events.iter().position(|entry| entry.name == event) {
            Some(index) => index,
            None => {
                events.push(LifecycleEventStatus {
                    name: event,
                    status: state,
                    child: None,
                    message: None,
                    start_time: Some(now.clone()),
                    end_time: None,
                });
                events.len() - 1
            }
        };
        let entry = &mut events[index];
        entry.status = state;
        if entry.child.is_none() {
            entry.child = child;
        }
        if entry.message.is_none() {
            entry.message = message;
        }
        let ended = matches!(
            state,
            LifecycleEventState::Succeeded
                | LifecycleEventState::Failed
                | LifecycleEventState::Skipped
        );
        if ended && entry.end_time.is_none() {
            entry.end_time = Some(now);
        }
    }
}
