//! Property tests: `decide` driven through random specs, random observed worlds and random event
//! sequences (readiness changes, health results, hook outcomes, promote/stop, lost status
//! writes), checking the safety rules of the issue after every decision and at the end.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::decide_tests::spec;
use super::simulation::{HookScript, Sim};
use super::strategy::{RolloutPlan, resolve_plan};
use super::traffic::{Selection, is_valid};
use crate::api::deployment::{
    DeploymentPhase, DeploymentStop, LifecycleEvent, Promote, RolloutStage,
};

/// Cases per property; the module's tests stay well under 30 s in a debug build.
const CASES: u32 = 256;

fn strategy_json() -> impl Strategy<Value = Value> {
    let configs = [
        "CodeDeployDefault.ECSAllAtOnce",
        "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
        "CodeDeployDefault.ECSCanary10Percent5Minutes",
        "CodeDeployDefault.LambdaCanary10Percent30Minutes",
        "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
    ];
    let interval = prop_oneof![Just("0s"), Just("30s"), Just("2m")];
    prop_oneof![
        Just(json!({})),
        proptest::sample::select(configs.to_vec()).prop_map(|name| json!({"configName": name})),
        (1..99i32, interval.clone()).prop_map(|(percent, interval)| json!({"canary": {"percent": percent, "interval": interval}})),
        (5..60i32, interval).prop_map(|(percent, interval)| json!({"linear": {"percent": percent, "interval": interval}})),
        proptest::collection::vec((0..100i32, proptest::option::of(Just("1m"))), 1..4).prop_map(|mut steps| {
            steps.sort_by_key(|(weight, _)| *weight);
            let mut list: Vec<Value> = steps
                .into_iter()
                .map(|(weight, pause)| match pause {
                    Some(pause) => json!({"weight": weight, "pause": pause}),
                    None => json!({"weight": weight}),
                })
                .collect();
            list.push(json!({"weight": 100}));
            json!({"steps": list})
        }),
        (0..3i32, 0..3i32).prop_map(|(surge, unavailable)| json!({"rolling": {"maxSurge": surge, "maxUnavailable": unavailable}})),
    ]
}

fn spec_json() -> impl Strategy<Value = Value> {
    let blue_green = prop_oneof![
        Just(None),
        Just(Some(json!({"terminationWait": "0s"}))),
        Just(Some(
            json!({"readyOption": {"action": "Wait", "waitTimeout": "20m"}, "terminationWait": "3m"})
        )),
        Just(Some(json!({"readyOption": {"action": "Wait"}}))),
    ];
    let hooks = proptest::collection::vec(any::<bool>(), 5);
    let checks = (0..3usize, 1..4i32, 1..3i32);
    let rollback = (any::<bool>(), any::<bool>());
    (strategy_json(), blue_green, any::<bool>(), any::<bool>(), hooks, checks, rollback).prop_map(
        |(mut strategy, blue_green, route, test, hooks, (count, failures, successes), (enabled, stop_event))| {
            let rolling = strategy.get("rolling").is_some();
            if let (Some(settings), false) = (blue_green, rolling) {
                strategy["blueGreen"] = settings;
            }
            let mut target = json!({});
            if route && !rolling {
                target["httpRoute"] = json!({"name": "web", "rule": 0});
            }
            if test {
                target["testService"] = json!("web-preview");
            }
            let names = ["beforeInstall", "afterInstall", "afterAllowTestTraffic", "beforeAllowTraffic", "afterAllowTraffic"];
            let mut hook_map = serde_json::Map::new();
            for (name, on) in names.iter().zip(hooks) {
                if on {
                    hook_map.insert((*name).into(), json!({"http": {"url": "http://127.0.0.1:9/h"}, "timeout": "10m"}));
                }
            }
            let checks: Vec<Value> = (0..count)
                .map(|index| json!({"name": format!("check-{index}"), "http": {"path": "/"}, "interval": "20s", "failureThreshold": failures, "successThreshold": successes}))
                .collect();
            let mut events = vec![json!("DeploymentFailure"), json!("HealthCheckFailure")];
            if stop_event {
                events.push(json!("DeploymentStopOnRequest"));
            }
            json!({
                "target": target,
                "strategy": strategy,
                "hooks": Value::Object(hook_map),
                "healthChecks": checks,
                "autoRollback": {"enabled": enabled, "events": events},
                "progressDeadlineSeconds": 300
            })
        },
    )
}

/// Something that happens between two reconciles.
#[derive(Clone, Debug)]
enum Event {
    Tick(i64),
    CapStable(Option<i32>),
    CapCanary(Option<i32>),
    Health(bool),
    Hook(usize, u8),
    Promote(i32, bool),
    Stop(bool),
    LoseStatusWrite,
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        6 => (1..120i64).prop_map(Event::Tick),
        1 => proptest::option::of(0..6i32).prop_map(Event::CapStable),
        2 => proptest::option::of(0..6i32).prop_map(Event::CapCanary),
        2 => any::<bool>().prop_map(Event::Health),
        1 => (0..5usize, 0..3u8).prop_map(|(hook, script)| Event::Hook(hook, script)),
        1 => (0..4i32, any::<bool>()).prop_map(|(step, full)| Event::Promote(step, full)),
        2 => Just(Event::LoseStatusWrite),
    ]
}

const HOOK_EVENTS: [LifecycleEvent; 5] = [
    LifecycleEvent::BeforeInstall,
    LifecycleEvent::AfterInstall,
    LifecycleEvent::AfterAllowTestTraffic,
    LifecycleEvent::BeforeAllowTraffic,
    LifecycleEvent::AfterAllowTraffic,
];

/// Weights the plan may show (0 plus every shift step's weight); `None` for rolling.
fn allowed_weights(sim: &Sim) -> Option<Vec<i32>> {
    match resolve_plan(&sim.spec.template.strategy).ok()? {
        RolloutPlan::Traffic(plan) => {
            let mut weights = plan.weights();
            weights.push(0);
            Some(weights)
        }
        RolloutPlan::Rolling(_) => None,
    }
}

/// Checks the per-decision rules; returns the canary weight persisted now.
fn check_step(sim: &Sim, previous: i32) -> Result<i32, TestCaseError> {
    prop_assert!(
        sim.violations.is_empty(),
        "routing rule broken: {:?}",
        sim.violations
    );
    prop_assert_eq!(sim.duplicate_creates, 0, "a revision was created twice");
    let split = sim
        .status
        .traffic_split
        .clone()
        .unwrap_or(super::traffic::split(0));
    prop_assert!(is_valid(&split), "split {:?} does not sum to 100", split);
    if sim.status.rollback.is_none() {
        prop_assert!(
            split.canary >= previous,
            "weight went back from {} to {} without a rollback",
            previous,
            split.canary
        );
        if let Some(weights) = allowed_weights(sim) {
            prop_assert!(
                weights.contains(&split.canary),
                "weight {} is not a step of {:?}",
                split.canary,
                weights
            );
        }
    }
    let mut children: BTreeMap<String, usize> = BTreeMap::new();
    for (event, _) in &sim.hook_children {
        *children.entry(event.clone()).or_default() += 1;
    }
    prop_assert!(
        children.values().all(|count| *count == 1),
        "a hook ran twice: {:?}",
        sim.hook_children
    );
    Ok(split.canary)
}

/// The immediate rollback path: a decision that starts a rollback while the stable revision
/// is fully Ready restores production to it in that same decision.
fn check_immediate_rollback(
    before: &Sim,
    decision: &super::state::Decision,
) -> Result<(), TestCaseError> {
    let started = before.status.stage != Some(RolloutStage::RollingBack)
        && decision.status.stage == Some(RolloutStage::RollingBack);
    let stable = decision
        .status
        .stable_revision
        .as_ref()
        .map(|r| r.hash.clone())
        .unwrap_or_default();
    let replicas = decision.status.target_replicas.unwrap_or(1);
    let stable_ready = before
        .revisions
        .get(&stable)
        .is_some_and(|(desired, ready)| *desired >= replicas && *ready >= replicas);
    let wanted = Selection::Revision(stable.clone());
    if started
        && stable_ready
        && before.production.is_some()
        && before.production != Some(wanted.clone())
    {
        let restored = decision.intents.iter().any(|intent| matches!(
            intent,
            super::state::Intent::SetServiceSelector { role: super::state::ServiceRole::Production, selection, .. } if *selection == wanted
        ));
        prop_assert!(
            restored,
            "rollback started without restoring {:?} at once: {:?}",
            wanted,
            decision.intents
        );
    }
    Ok(())
}

/// Deciding again from the new status on the same world at the same time (a restart right
/// after the status write, before anything changed) keeps the same status and asks for
/// nothing new.
fn check_fixpoint(before: &Sim, decision: &super::state::Decision) -> Result<(), TestCaseError> {
    let mut again = before.clone();
    again.status = decision.status.clone();
    let second = again.peek();
    let actions = |decision: &super::state::Decision| -> Vec<super::state::Intent> {
        decision
            .intents
            .iter()
            .filter(|intent| {
                !matches!(
                    intent,
                    super::state::Intent::Event(_) | super::state::Intent::RequeueAfter(_)
                )
            })
            .cloned()
            .collect()
    };
    prop_assert_eq!(&second.status, &decision.status, "status is not a fixpoint");
    // One decision may pass several steps (a zero bake) or send a one-off (stopping a timed-out
    // hook), so the second may ask for less, but never for anything the first did not.
    let first = actions(decision);
    for action in actions(&second) {
        prop_assert!(
            first.contains(&action),
            "a restart asks for {:?}, which the first decision did not: {:?}",
            action,
            first
        );
    }
    Ok(())
}

/// Checks the end state of a finished rollout.
fn check_end(sim: &Sim) -> Result<(), TestCaseError> {
    let replicas = sim.status.target_replicas.unwrap_or(1);
    let stable = sim
        .status
        .stable_revision
        .as_ref()
        .map(|r| r.hash.clone())
        .unwrap_or_default();
    if let Some(rollback) = &sim.status.rollback
        && rollback.completion_time.is_some()
        && sim.production.is_some()
    {
        prop_assert_eq!(
            sim.production.clone(),
            Some(Selection::Revision(stable.clone()))
        );
        prop_assert!(
            sim.revisions
                .get(&stable)
                .is_some_and(|(_, ready)| *ready >= replicas),
            "stable not Ready after rollback"
        );
        if let Some(weights) = sim.route {
            prop_assert_eq!(weights, (100, 0));
        }
        prop_assert_eq!(
            sim.status.traffic_split.as_ref().map(|s| s.stable),
            Some(100)
        );
    }
    if sim.status.phase == Some(DeploymentPhase::Succeeded)
        && sim.status.canary_revision.is_some()
        && stable != "v2"
    {
        prop_assert_eq!(
            sim.production.clone(),
            Some(Selection::Revision("v2".into()))
        );
        prop_assert!(
            sim.revisions
                .get("v2")
                .is_some_and(|(_, ready)| *ready >= replicas)
        );
    }
    Ok(())
}

fn drive(
    spec_value: Value,
    replicas: i32,
    first: bool,
    events: Vec<Event>,
) -> Result<Sim, TestCaseError> {
    let spec = spec(spec_value);
    let mut sim = if first {
        Sim::new(spec, replicas)
    } else {
        Sim::with_stable_revision(spec, replicas)
    };
    let mut weight = 0;
    let mut lose = false;
    for event in events {
        match event {
            Event::Tick(seconds) => sim.tick(seconds),
            Event::CapStable(cap) => set_cap(&mut sim, "v1", cap),
            Event::CapCanary(cap) => set_cap(&mut sim, "v2", cap),
            Event::Health(healthy) => sim.healthy = healthy,
            Event::Hook(index, script) => {
                let script =
                    [HookScript::Succeed, HookScript::Fail, HookScript::Hang][usize::from(script)];
                sim.hook_script.insert(HOOK_EVENTS[index], script);
            }
            Event::Promote(through_step, full) => {
                sim.spec.control.promote = Some(Promote { through_step, full })
            }
            Event::Stop(rollback) => {
                sim.spec.control.stop = Some(DeploymentStop {
                    rollback,
                    reason: None,
                })
            }
            Event::LoseStatusWrite => lose = true,
        }
        prop_assert_eq!(sim.peek(), sim.peek(), "decide is not deterministic");
        let before = sim.clone();
        let decision = sim.reconcile_with(std::mem::take(&mut lose));
        check_immediate_rollback(&before, &decision)?;
        check_fixpoint(&before, &decision)?;
        weight = check_step(&sim, weight)?;
        if sim.stage() == RolloutStage::Done {
            // The end state is judged when the rollout ends; the world may change later.
            check_end(&sim)?;
            return Ok(sim);
        }
    }
    // Settle: pods may become Ready, a promote covers every step; the rollout must end.
    sim.ready_cap.clear();
    if sim.spec.control.stop.is_none() {
        sim.spec.control.promote = Some(Promote {
            through_step: 50,
            full: true,
        });
    }
    for _ in 0..400 {
        if sim.stage() == RolloutStage::Done {
            break;
        }
        sim.reconcile();
        weight = check_step(&sim, weight)?;
        if sim.stage() == RolloutStage::Done {
            break;
        }
        sim.tick(30);
    }
    prop_assert_eq!(
        sim.stage(),
        RolloutStage::Done,
        "rollout did not end: {:?}",
        sim.status.message
    );
    check_end(&sim)?;
    Ok(sim)
}

fn set_cap(sim: &mut Sim, hash: &str, cap: Option<i32>) {
    match cap {
        Some(cap) => sim.ready_cap.insert(hash.into(), cap),
        None => sim.ready_cap.remove(hash),
    };
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// Never route to an unready revision; weights only move forward by the plan's steps and
    /// sum to 100; hooks and revisions are never duplicated; a rollback ends with all traffic
    /// on a Ready stable revision; every rollout ends.
    #[test]
    fn random_worlds_keep_every_safety_rule(
        spec_value in spec_json(),
        replicas in 1..6i32,
        first in any::<bool>(),
        events in proptest::collection::vec(event(), 0..60),
        stop in proptest::option::weighted(0.25, (0..60usize, any::<bool>())),
    ) {
        let mut events = events;
        if let Some((at, rollback)) = stop {
            events.insert(at.min(events.len()), Event::Stop(rollback));
        }
        drive(spec_value, replicas, first, events)?;
    }

    /// Losing any set of status writes (a controller killed between apply and the status
    /// write) leads to the same end state, with no duplicate revisions or hooks.
    #[test]
    fn lost_status_writes_reach_the_same_end_state(
        spec_value in spec_json(),
        replicas in 1..6i32,
        first in any::<bool>(),
        losses in proptest::collection::vec(any::<bool>(), 0..80),
    ) {
        let baseline = drive(spec_value.clone(), replicas, first, vec![])?;
        let events: Vec<Event> = losses
            .into_iter()
            .flat_map(|lose| if lose { vec![Event::LoseStatusWrite, Event::Tick(5)] } else { vec![Event::Tick(5)] })
            .collect();
        let restarted = drive(spec_value, replicas, first, events)?;
        prop_assert_eq!(restarted.status.phase, baseline.status.phase);
        prop_assert_eq!(&restarted.production, &baseline.production);
        prop_assert_eq!(&restarted.route, &baseline.route);
        prop_assert_eq!(&restarted.revisions, &baseline.revisions);
        prop_assert_eq!(&restarted.hook_children, &baseline.hook_children);
        prop_assert_eq!(restarted.status.traffic_split, baseline.status.traffic_split);
    }
}
