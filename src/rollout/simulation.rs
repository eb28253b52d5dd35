//! A test-only simulated world for [`decide`]: it observes the way the observe step does (the
//! probes [`probes_due`] names answer at once, healthy or not as scripted), applies intents the
//! way the apply step and the cluster would (creates are idempotent by name, scale-downs are
//! immediate, pods become Ready up to a per-revision cap on each tick, hooks end as scripted)
//! and checks the safety rules on every decision.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::decide::{decide, probes_due};
use super::health::ProbeResult;
use super::hooks::{HookObservation, HookOutcome};
use super::state::{
    DecideInput, Decision, DeploymentIdentity, Intent, InvalidReference, NewRevision,
    ObservedWorld, OtherRollout, RevisionWorkload, ServiceRole, UserWorkload,
};
use super::traffic::{Selection, may_route};
use crate::api::deployment::{
    ContainerImage, DeploymentSpec, DeploymentStatus, LifecycleEvent, RolloutStage,
};

/// How a scripted hook ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookScript {
    /// Succeeds on the next tick.
    Succeed,
    /// Fails on the next tick.
    Fail,
    /// Never ends.
    Hang,
}

/// The simulated cluster plus the persisted Deployment.
#[derive(Clone, Debug)]
pub struct Sim {
    pub identity: DeploymentIdentity,
    pub spec: DeploymentSpec,
    pub status: DeploymentStatus,
    pub seconds: i64,
    pub workload: Option<UserWorkload>,
    pub new_revision: NewRevision,
    /// hash → (desired, ready).
    pub revisions: BTreeMap<String, (i32, i32)>,
    /// hash → most pods that can become Ready.
    pub ready_cap: BTreeMap<String, i32>,
    pub production: Option<Selection>,
    pub test: Option<Selection>,
    pub canary_service: Option<Selection>,
    pub route: Option<(i32, i32)>,
    /// Referenced objects observe would report missing or unusable.
    pub invalid_references: Vec<InvalidReference>,
    pub hooks: BTreeMap<String, HookOutcome>,
    pub hook_script: BTreeMap<LifecycleEvent, HookScript>,
    /// Every distinct hook child started, with its event.
    pub hook_children: BTreeSet<(String, String)>,
    pub healthy: bool,
    pub results: Vec<ProbeResult>,
    pub others: Vec<OtherRollout>,
    /// CreateRevision intents for a hash that already existed.
    pub duplicate_creates: usize,
    /// Every decision, in order.
    pub decisions: Vec<Decision>,
    /// Violations of the routing rule found while applying.
    pub violations: Vec<String>,
}

/// A time `seconds` after a fixed epoch.
pub fn at(seconds: i64) -> Time {
    Time(k8s_openapi::jiff::Timestamp::from_second(1_800_000_000 + seconds).unwrap())
}

impl Sim {
    /// A world with the user's workload `web` at `replicas` pods (template hash `v1`), served by
    /// the user's own selector, and a Deployment rolling out `v2`.
    pub fn new(spec: DeploymentSpec, replicas: i32) -> Self {
        Sim {
            identity: DeploymentIdentity {
                name: "web-v2".into(),
                uid: "0a1b2c3d-0000-4000-8000-000000000000".into(),
                generation: Some(1),
            },
            spec,
            status: DeploymentStatus::default(),
            seconds: 0,
            workload: Some(UserWorkload {
                replicas,
                ready_replicas: replicas,
                template_hash: "v1".into(),
            }),
            new_revision: NewRevision {
                hash: "v2".into(),
                images: vec![ContainerImage {
                    container: "web".into(),
                    image: "web:2".into(),
                }],
                appspec_hooks: Vec::new(),
            },
            revisions: BTreeMap::new(),
            ready_cap: BTreeMap::new(),
            production: None,
            test: None,
            canary_service: None,
            route: None,
            invalid_references: Vec::new(),
            hooks: BTreeMap::new(),
            hook_script: BTreeMap::new(),
            hook_children: BTreeSet::new(),
            healthy: true,
            results: Vec::new(),
            others: Vec::new(),
            duplicate_creates: 0,
            decisions: Vec::new(),
            violations: Vec::new(),
        }
    }

    /// A world where revision `v1` already serves production (a later rollout).
    pub fn with_stable_revision(spec: DeploymentSpec, replicas: i32) -> Self {
        let mut sim = Self::new(spec, replicas);
        sim.workload.as_mut().unwrap().replicas = 0;
        sim.revisions.insert("v1".into(), (replicas, replicas));
        sim.production = Some(Selection::Revision("v1".into()));
        if sim.spec.template.target.http_route.is_some() {
            sim.route = Some((100, 0));
        }
        sim
    }

    pub fn world(&self) -> ObservedWorld {
        ObservedWorld {
            workload: self.workload.clone(),
            new_revision: Ok(self.new_revision.clone()),
            revisions: self
                .revisions
                .iter()
                .map(|(hash, (replicas, ready))| RevisionWorkload {
                    hash: hash.clone(),
                    replicas: *replicas,
                    ready_replicas: *ready,
                })
                .collect(),
            production_selection: self.production.clone(),
            test_selection: self.test.clone(),
            canary_selection: self.canary_service.clone(),
            route_weights: self.route,
            invalid_references: self.invalid_references.clone(),
            hooks: self
                .hooks
                .iter()
                .map(|(name, outcome)| HookObservation {
                    child_name: name.clone(),
                    outcome: outcome.clone(),
                })
                .collect(),
            health_results: self.results.clone(),
            rollouts_on_target: self.others.clone(),
        }
    }

    /// Decides on the current world without applying anything.
    pub fn peek(&self) -> Decision {
        let world = self.world();
        let now = at(self.seconds);
        decide(&DecideInput {
            identity: &self.identity,
            spec: &self.spec,
            status: &self.status,
            world: &world,
            now: &now,
        })
    }

    /// Runs the probes due now, as the observe step does before each decision.
    pub fn probe(&mut self) {
        let now = at(self.seconds);
        for due in probes_due(&self.spec, &self.status, &self.results, &now) {
            self.results.push(ProbeResult {
                check: due.check,
                time: now.clone(),
                healthy: self.healthy,
                message: Some(if self.healthy { "200" } else { "503" }.into()),
            });
        }
    }

    /// One reconcile: observe (probe), decide, check, apply, persist the status (unless
    /// `lose_status`).
    pub fn reconcile_with(&mut self, lose_status: bool) -> Decision {
        self.probe();
        let decision = self.peek();
        self.check_routing(&decision);
        self.apply(&decision.intents);
        if !lose_status {
            self.status = decision.status.clone();
        }
        self.decisions.push(decision.clone());
        decision
    }

    pub fn reconcile(&mut self) -> Decision {
        self.reconcile_with(false)
    }

    fn ready(&self, hash: &str) -> i32 {
        self.revisions.get(hash).map_or(0, |(_, ready)| *ready)
    }

    fn replicas(&self) -> i32 {
        self.status.target_replicas.unwrap_or(1)
    }

    /// The rule: production traffic only moves to revisions with the Ready pods the step needs.
    fn check_routing(&mut self, decision: &Decision) {
        let full = decision.status.target_replicas.unwrap_or(1);
        let canary = decision
            .status
            .canary_revision
            .as_ref()
            .map(|revision| revision.hash.clone())
            .unwrap_or_default();
        // Apply runs intents in order: a selector change earlier in the list is in place for
        // the weights that follow it.
        let mut production = self.production.clone();
        for intent in &decision.intents {
            if let Intent::SetServiceSelector {
                role: ServiceRole::Production,
                selection,
                ..
            } = intent
            {
                production = Some(selection.clone());
            }
            match intent {
                Intent::SetServiceSelector {
                    role: ServiceRole::Production,
                    selection: Selection::Revision(hash),
                    ..
                } if !may_route(self.ready(hash), full) => self.violations.push(format!(
                    "production selector to {hash} with {} Ready of {full}",
                    self.ready(hash)
                )),
                Intent::SetServiceSelector {
                    role: ServiceRole::Production,
                    selection: Selection::AllRevisions,
                    ..
                } if !may_route(self.ready(&canary), 1) => self
                    .violations
                    .push(format!("spanning selector with {canary} not Ready")),
                // A share that grows needs a Ready destination; a shrinking share moves traffic away.
                Intent::SetRouteWeights { canary: (_, w), .. }
                    if *w > self.route.map_or(0, |route| route.1)
                        && !may_route(self.ready(&canary), full) =>
                {
                    self.violations.push(format!(
                        "route weight {w} to {canary} with {} Ready",
                        self.ready(&canary)
                    ))
                }
                Intent::SetRouteWeights {
                    production: (_, w), ..
                } if *w > self.route.map_or(100, |route| route.0)
                    && self.target_ready(production.as_ref()) < full =>
                {
                    self.violations
                        .push("route weight to an unready production Service".into())
                }
                _ => {}
            }
        }
    }

    fn target_ready(&self, production: Option<&Selection>) -> i32 {
        match production {
            Some(Selection::Revision(hash)) => self.ready(hash),
            _ => self.replicas(),
        }
    }

    pub fn apply(&mut self, intents: &[Intent]) {
        for intent in intents {
            match intent {
                Intent::CreateRevision { hash, replicas, .. } => {
                    if self.revisions.contains_key(hash) {
                        self.duplicate_creates += 1;
                    } else {
                        self.revisions.insert(hash.clone(), (*replicas, 0));
                    }
                }
                Intent::ScaleRevision { hash, replicas } => {
                    if let Some((desired, ready)) = self.revisions.get_mut(hash) {
                        *desired = *replicas;
                        *ready = (*ready).min(*replicas);
                    }
                }
                Intent::ScaleDownUserWorkload { .. } => {
                    if let Some(workload) = &mut self.workload {
                        workload.replicas = 0;
                        workload.ready_replicas = 0;
                    }
                }
                Intent::SetServiceSelector {
                    role, selection, ..
                } => {
                    let slot = match role {
                        ServiceRole::Production => &mut self.production,
                        ServiceRole::Test => &mut self.test,
                        ServiceRole::Canary => &mut self.canary_service,
                    };
                    *slot = Some(selection.clone());
                }
                Intent::SetRouteWeights {
                    production, canary, ..
                } => self.route = Some((production.1, canary.1)),
                Intent::StartHook {
                    event, child_name, ..
                } => {
                    self.hook_children
                        .insert((format!("{event:?}"), child_name.clone()));
                    self.hooks
                        .entry(child_name.clone())
                        .or_insert(HookOutcome::Running);
                }
                Intent::StopHook { child_name } => {
                    self.hooks.remove(child_name);
                }
                Intent::RequeueAfter(_) | Intent::Event(_) => {}
            }
        }
    }

    /// Advances time: pods become Ready up to their cap, hooks end as scripted.
    pub fn tick(&mut self, seconds: i64) {
        self.seconds += seconds;
        for (hash, (desired, ready)) in &mut self.revisions {
            let cap = self.ready_cap.get(hash).copied().unwrap_or(i32::MAX);
            *ready = (*desired).min(cap);
        }
        let children: Vec<(String, String)> = self.hook_children.iter().cloned().collect();
        for (event, name) in children {
            let script = self
                .hook_script
                .iter()
                .find(|(hooked, _)| format!("{hooked:?}") == event)
                .map_or(HookScript::Succeed, |(_, script)| *script);
            if let Some(outcome) = self.hooks.get_mut(&name)
                && *outcome == HookOutcome::Running
            {
                *outcome = match script {
                    HookScript::Succeed => HookOutcome::Succeeded,
                    HookScript::Fail => HookOutcome::Failed("exit code 1".into()),
                    HookScript::Hang => HookOutcome::Running,
                };
            }
        }
    }

    pub fn stage(&self) -> RolloutStage {
        self.status.stage.unwrap_or(RolloutStage::Pending)
    }

    /// Reconciles and ticks `seconds` until the rollout is Done or `limit` reconciles pass.
    pub fn run(&mut self, seconds: i64, limit: usize) {
        for _ in 0..limit {
            if self.stage() == RolloutStage::Done {
                return;
            }
            self.reconcile();
            self.tick(seconds);
        }
    }

    /// Runs to the end: quick reconciles, then minute ticks through bakes and termination waits.
    pub fn run_to_end(&mut self) {
        self.run(5, 100);
        self.run(60, 100);
    }

    /// Every intent decided so far.
    pub fn all_intents(&self) -> Vec<Intent> {
        self.decisions
            .iter()
            .flat_map(|decision| decision.intents.clone())
            .collect()
    }
}
