//! Behaviour tests of the state machine's forward path (strategies, hooks, queueing, status),
//! each a scenario through the simulated world; failure paths are in `rollback_tests`.

use serde_json::json;

use super::simulation::{Sim, at};
use super::state::{Intent, OtherRollout, OtherRolloutState, ServiceRole};
use super::traffic::Selection;
use crate::api::deployment::{
    DeploymentPhase, DeploymentSpec, LifecycleEvent, LifecycleEventState, Promote, RolloutStage,
};
use crate::runtime::events::EventIntent;

/// A Deployment spec from the JSON of its `spec` fields beyond target and revision.
pub(super) fn spec(extra: serde_json::Value) -> DeploymentSpec {
    let mut value = json!({
        "target": {"service": "web", "workload": "web"},
        "revision": {"images": [{"container": "web", "image": "web:2"}]},
        "progressDeadlineSeconds": 600
    });
    for (key, field) in extra.as_object().unwrap() {
        if key == "target" {
            for (target_key, target_field) in field.as_object().unwrap() {
                value["target"][target_key] = target_field.clone();
            }
        } else {
            value[key] = field.clone();
        }
    }
    serde_json::from_value(value).expect("valid spec")
}

pub(super) fn job_hook() -> serde_json::Value {
    json!({"job": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "h", "image": "busybox"}]}}}})
}

pub(super) fn phase(sim: &Sim) -> Option<DeploymentPhase> {
    sim.status.phase
}

pub(super) fn selector_intents(sim: &Sim) -> Vec<Selection> {
    sim.all_intents()
        .into_iter()
        .filter_map(|intent| match intent {
            Intent::SetServiceSelector {
                role: ServiceRole::Production,
                selection,
                ..
            } => Some(selection),
            _ => None,
        })
        .collect()
}

pub(super) fn assert_safe(sim: &Sim) {
    assert!(sim.violations.is_empty(), "{:?}", sim.violations);
    assert_eq!(sim.duplicate_creates, 0, "no revision created twice");
}

#[test]
fn first_rollout_takes_over_the_user_workload_before_installing() {
    let mut sim = Sim::new(spec(json!({})), 3);
    sim.reconcile();
    assert_eq!(sim.stage(), RolloutStage::TakeOver);
    assert!(sim.decisions[0].intents.iter().any(|intent| matches!(
        intent,
        Intent::CreateRevision { hash, replicas: 3, images, .. } if hash == "v1" && images.is_empty()
    )));
    assert_eq!(
        sim.production, None,
        "no selector change before the copy is Ready"
    );
    sim.tick(5);
    sim.reconcile();
    assert_eq!(sim.production, Some(Selection::Revision("v1".into())));
    assert_eq!(
        sim.workload.as_ref().unwrap().replicas,
        3,
        "user workload kept until the switch is observed"
    );
    sim.run_to_end();
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
    assert_eq!(
        sim.workload.as_ref().unwrap().replicas,
        0,
        "user workload scaled down"
    );
    assert_eq!(sim.production, Some(Selection::Revision("v2".into())));
    assert_eq!(sim.revisions["v1"], (0, 0), "old revision scaled down");
    assert_safe(&sim);
}

#[test]
fn user_workload_is_kept_when_scale_down_is_disabled() {
    let mut sim = Sim::new(spec(json!({"target": {"scaleDownWorkload": false}})), 2);
    sim.run_to_end();
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
    assert_eq!(sim.workload.as_ref().unwrap().replicas, 2);
}

#[test]
fn blue_green_switches_selector_only_once_the_new_revision_is_ready() {
    let mut sim = Sim::with_stable_revision(spec(json!({})), 3);
    sim.ready_cap.insert("v2".into(), 2);
    sim.run(5, 10);
    assert_eq!(sim.stage(), RolloutStage::Install);
    assert_eq!(sim.production, Some(Selection::Revision("v1".into())));
    sim.ready_cap.remove("v2");
    sim.run(5, 200);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
    assert_eq!(
        selector_intents(&sim),
        vec![Selection::Revision("v2".into())]
    );
    assert_safe(&sim);
}

#[test]
fn termination_wait_keeps_the_old_revision_running() {
    let mut sim = Sim::with_stable_revision(
        spec(json!({"strategy": {"blueGreen": {"terminationWait": "10m"}}})),
        2,
    );
    sim.run(5, 20);
    assert_eq!(sim.stage(), RolloutStage::TerminationWait);
    assert_eq!(sim.status.phase, Some(DeploymentPhase::Baking));
    assert_eq!(sim.revisions["v1"], (2, 2));
    sim.run(60, 20);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
    assert_eq!(sim.revisions["v1"].0, 0);
}

#[test]
fn canary_by_replica_ratio_spans_both_revisions_then_switches() {
    let mut sim = Sim::with_stable_revision(
        spec(json!({"strategy": {"configName": "CodeDeployDefault.ECSCanary10Percent5Minutes"}})),
        10,
    );
    sim.run(5, 20);
    assert_eq!(sim.stage(), RolloutStage::AllowTraffic);
    assert_eq!(sim.production, Some(Selection::AllRevisions));
    assert_eq!(sim.revisions["v2"], (1, 1), "10% of 10 pods");
    assert_eq!(sim.revisions["v1"].0, 9, "stable keeps the other 90%");
    assert_eq!(sim.status.traffic_split.as_ref().unwrap().canary, 10);
    sim.run(30, 100);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
    assert_eq!(sim.production, Some(Selection::Revision("v2".into())));
    assert!(sim.seconds >= 300, "baked five minutes");
    assert_safe(&sim);
}

#[test]
fn linear_config_walks_every_step_by_route_weights() {
    let mut sim = Sim::with_stable_revision(
        spec(json!({
            "target": {"httpRoute": {"name": "web", "rule": 0}},
            "strategy": {"configName": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"}
        })),
        2,
    );
    sim.run(20, 400);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
    let weights: Vec<i32> = sim
        .all_intents()
        .into_iter()
        .filter_map(|intent| match intent {
            Intent::SetRouteWeights { canary, .. } => Some(canary.1),
            _ => None,
        })
        .collect();
    assert_eq!(weights, vec![10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 0]);
    assert_eq!(
        selector_intents(&sim),
        vec![Selection::Revision("v2".into())],
        "production Service moves only at finalization"
    );
    assert_eq!(sim.canary_service, Some(Selection::Revision("v2".into())));
    assert_eq!(sim.route, Some((100, 0)));
    assert_safe(&sim);
}

#[test]
fn later_rollout_is_queued_behind_the_active_one() {
    let mut sim = Sim::with_stable_revision(spec(json!({})), 2);
    sim.others = vec![OtherRollout {
        name: "web-v1".into(),
        creation_time: at(-100),
        state: OtherRolloutState::Active,
    }];
    sim.reconcile();
    assert_eq!(sim.status.phase, Some(DeploymentPhase::Queued));
    assert_eq!(sim.status.waiting_for.as_deref(), Some("web-v1"));
    assert!(!sim.revisions.contains_key("v2"));
    sim.others[0].state = OtherRolloutState::Ended;
    sim.reconcile();
    assert_eq!(sim.status.waiting_for, None);
    assert_ne!(sim.stage(), RolloutStage::Pending);
}

#[test]
fn older_waiting_rollout_goes_first() {
    let mut sim = Sim::with_stable_revision(spec(json!({})), 2);
    sim.others = vec![
        OtherRollout {
            name: "web-v2".into(),
            creation_time: at(10),
            state: OtherRolloutState::Waiting,
        },
        OtherRollout {
            name: "web-a".into(),
            creation_time: at(5),
            state: OtherRolloutState::Waiting,
        },
    ];
    sim.reconcile();
    assert_eq!(sim.status.waiting_for.as_deref(), Some("web-a"));
}

#[test]
fn hooks_run_once_each_with_deterministic_names_in_lifecycle_order() {
    let mut sim = Sim::with_stable_revision(
        spec(json!({
            "target": {"testService": "web-preview"},
            "hooks": {
                "beforeInstall": job_hook(), "afterInstall": job_hook(),
                "afterAllowTestTraffic": job_hook(), "beforeAllowTraffic": job_hook(),
                "afterAllowTraffic": job_hook()
            }
        })),
        2,
    );
    sim.run(5, 200);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
    let started: Vec<(LifecycleEvent, String)> = sim
        .all_intents()
        .into_iter()
        .filter_map(|intent| match intent {
            Intent::StartHook {
                event, child_name, ..
            } => Some((event, child_name)),
            _ => None,
        })
        .collect();
    let events: Vec<LifecycleEvent> = started.iter().map(|(event, _)| *event).collect();
    assert_eq!(
        events,
        vec![
            LifecycleEvent::BeforeInstall,
            LifecycleEvent::AfterInstall,
            LifecycleEvent::AfterAllowTestTraffic,
            LifecycleEvent::BeforeAllowTraffic,
            LifecycleEvent::AfterAllowTraffic
        ]
    );
    assert_eq!(started[0].1, "web-v2-before-install-0a1b2c3d-1");
    assert_eq!(sim.test, Some(Selection::Revision("v2".into())));
    let states: Vec<_> = sim
        .status
        .lifecycle_events
        .iter()
        .map(|entry| (entry.name, entry.status))
        .collect();
    assert!(states.contains(&(
        LifecycleEvent::AllowTestTraffic,
        LifecycleEventState::Succeeded
    )));
    assert!(states.contains(&(
        LifecycleEvent::AfterAllowTraffic,
        LifecycleEventState::Succeeded
    )));
}

#[test]
fn health_checks_must_pass_before_a_step_advances() {
    let checks = json!([{"name": "web", "http": {"path": "/"}, "successThreshold": 3, "failureThreshold": 100}]);
    let mut sim = Sim::with_stable_revision(
        spec(
            json!({"healthChecks": checks, "strategy": {"canary": {"percent": 50, "interval": "0s"}}}),
        ),
        2,
    );
    sim.healthy = false;
    sim.run(10, 30);
    assert_eq!(sim.stage(), RolloutStage::AllowTraffic);
    assert_eq!(sim.status.traffic_split.as_ref().unwrap().canary, 50);
    sim.healthy = true;
    sim.run(10, 60);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
}

#[test]
fn ready_option_wait_holds_until_promote() {
    let strategy = json!({"blueGreen": {"readyOption": {"action": "Wait"}}});
    let mut sim = Sim::with_stable_revision(spec(json!({"strategy": strategy})), 2);
    sim.run(60, 30);
    assert_eq!(sim.stage(), RolloutStage::AwaitPromote);
    assert_eq!(sim.status.phase, Some(DeploymentPhase::Ready));
    assert_eq!(sim.production, Some(Selection::Revision("v1".into())));
    sim.spec.control.promote = Some(Promote {
        through_step: 0,
        full: false,
    });
    sim.run_to_end();
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
}

#[test]
fn steps_without_pause_wait_for_promote_through_their_index() {
    let steps = json!([{"weight": 20}, {"weight": 50}, {"weight": 100}]);
    let mut sim = Sim::with_stable_revision(spec(json!({"strategy": {"steps": steps}})), 4);
    sim.run(30, 30);
    assert_eq!(sim.status.current_step, Some(0));
    assert_eq!(sim.status.traffic_split.as_ref().unwrap().canary, 20);
    sim.spec.control.promote = Some(Promote {
        through_step: 0,
        full: false,
    });
    sim.run(30, 30);
    assert_eq!(sim.status.current_step, Some(1));
    assert_eq!(sim.status.traffic_split.as_ref().unwrap().canary, 50);
    sim.spec.control.promote = Some(Promote {
        through_step: 1,
        full: false,
    });
    sim.run(30, 60);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
}

#[test]
fn full_promote_skips_remaining_steps_and_bakes() {
    let mut sim = Sim::with_stable_revision(
        spec(
            json!({"strategy": {"configName": "CodeDeployDefault.ECSLinear10PercentEvery3Minutes"}}),
        ),
        10,
    );
    sim.run(5, 15);
    assert_eq!(sim.status.traffic_split.as_ref().unwrap().canary, 10);
    sim.spec.control.promote = Some(Promote {
        through_step: 0,
        full: true,
    });
    let promoted_at = sim.seconds;
    while sim.stage() != RolloutStage::TerminationWait {
        sim.reconcile();
        sim.tick(5);
        assert!(sim.seconds - promoted_at < 120, "no three-minute bakes");
    }
    assert_eq!(sim.status.traffic_split.as_ref().unwrap().canary, 100);
    sim.run_to_end();
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
}

#[test]
fn rolling_update_replaces_pods_within_surge_and_succeeds() {
    let strategy = json!({"rolling": {"maxSurge": 1, "maxUnavailable": 0}});
    let mut sim = Sim::with_stable_revision(spec(json!({"strategy": strategy})), 4);
    let mut most_pods = 0;
    for _ in 0..100 {
        if sim.stage() == RolloutStage::Done {
            break;
        }
        sim.reconcile();
        let total: i32 = sim.revisions.values().map(|(desired, _)| desired).sum();
        most_pods = most_pods.max(total);
        sim.tick(5);
    }
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
    assert!(most_pods <= 5, "surge of one: {most_pods}");
    assert_eq!(sim.revisions["v2"], (4, 4));
    assert_eq!(sim.revisions["v1"].0, 0);
    assert_eq!(sim.production, Some(Selection::Revision("v2".into())));
}

#[test]
fn revision_already_serving_succeeds_at_once() {
    let mut sim = Sim::with_stable_revision(spec(json!({})), 2);
    sim.new_revision.hash = "v1".into();
    sim.reconcile();
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
    assert!(!sim.revisions.contains_key("v2"));
}

#[test]
fn conditions_keep_their_transition_time_while_status_holds() {
    let mut sim = Sim::with_stable_revision(spec(json!({})), 2);
    sim.reconcile();
    let first = sim.status.conditions.clone();
    sim.tick(30);
    sim.reconcile();
    for condition in &sim.status.conditions {
        let before = first.iter().find(|c| c.type_ == condition.type_).unwrap();
        assert_eq!(
            before.last_transition_time, condition.last_transition_time,
            "{}",
            condition.type_
        );
    }
}

#[test]
fn spanning_selector_left_by_a_stopped_rollout_falls_back_to_the_readiest_revision() {
    let mut sim = Sim::with_stable_revision(spec(json!({})), 3);
    sim.revisions.insert("v0".into(), (1, 1));
    sim.production = Some(Selection::AllRevisions);
    sim.reconcile();
    assert_eq!(sim.status.stable_revision.as_ref().unwrap().hash, "v1");
    assert_eq!(
        sim.stage(),
        RolloutStage::Install,
        "no takeover of the user workload"
    );
}

#[test]
fn status_shows_the_pods_of_both_revisions() {
    let mut sim = Sim::with_stable_revision(spec(json!({})), 3);
    sim.run(5, 4);
    let canary = sim.status.canary_revision.clone().unwrap();
    let stable = sim.status.stable_revision.clone().unwrap();
    assert_eq!((stable.replicas, stable.ready_replicas), (3, 3));
    assert_eq!(canary.replicas, 3);
}

#[test]
fn appspec_hooks_run_at_their_events() {
    let mut sim = Sim::with_stable_revision(spec(json!({})), 1);
    let hook: crate::api::deployment::Hook = serde_json::from_value(job_hook()).unwrap();
    sim.new_revision.appspec_hooks = vec![(LifecycleEvent::BeforeAllowTraffic, hook)];
    sim.run_to_end();
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
    let events: Vec<String> = sim
        .hook_children
        .iter()
        .map(|(event, _)| event.clone())
        .collect();
    assert_eq!(events, vec!["BeforeAllowTraffic".to_owned()]);
}

#[test]
fn promote_through_a_step_skips_its_bake() {
    let mut sim = Sim::with_stable_revision(
        spec(
            json!({"strategy": {"configName": "CodeDeployDefault.LambdaCanary10Percent30Minutes"}}),
        ),
        10,
    );
    sim.spec.control.promote = Some(crate::api::deployment::Promote {
        through_step: 0,
        full: false,
    });
    sim.run(5, 20);
    assert!(sim.seconds < 1800, "the 30-minute bake was skipped");
    assert_eq!(sim.status.traffic_split.as_ref().unwrap().canary, 100);
}

#[test]
fn health_probes_run_once_per_interval_from_test_traffic_on() {
    let checks = json!([{"name": "web", "http": {"path": "/"}, "interval": "30s"}]);
    let mut sim = Sim::with_stable_revision(
        spec(json!({"healthChecks": checks, "strategy": {"blueGreen": {"terminationWait": "2m"}}})),
        1,
    );
    sim.run_to_end();
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
    let times: Vec<i64> = sim
        .results
        .iter()
        .map(|result| result.time.0.as_second())
        .collect();
    assert!(
        times.windows(2).all(|pair| pair[1] - pair[0] >= 30),
        "at most one probe per interval: {times:?}"
    );
    let counted: Vec<i32> = sim
        .decisions
        .iter()
        .filter_map(|decision| decision.status.health_checks.first())
        .map(|check| check.probes)
        .collect();
    assert!(
        counted.windows(2).all(|pair| pair[1] - pair[0] <= 1),
        "each probe counted once: {counted:?}"
    );
    assert!(
        counted.last().copied().unwrap_or(0) >= 4,
        "probes kept running through the termination wait: {counted:?}"
    );
    let first_probe = sim
        .decisions
        .iter()
        .position(|decision| {
            decision
                .status
                .health_checks
                .first()
                .is_some_and(|check| check.probes > 0)
        })
        .unwrap();
    assert!(
        sim.decisions[first_probe].status.stage >= Some(RolloutStage::AllowTestTraffic),
        "no probes before test traffic"
    );
}

#[test]
fn rolling_first_rollout_takes_over_then_replaces_pods() {
    let strategy = json!({"rolling": {"maxSurge": "50%", "maxUnavailable": 0}});
    let mut sim = Sim::new(spec(json!({"strategy": strategy})), 2);
    sim.run_to_end();
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
    assert_eq!(sim.revisions["v1"].0, 0);
    assert_eq!(sim.revisions["v2"], (2, 2));
    assert_eq!(sim.workload.as_ref().unwrap().replicas, 0);
}

#[test]
fn every_step_event_names_its_weight_once() {
    let mut sim = Sim::with_stable_revision(
        spec(json!({"strategy": {"linear": {"percent": 40, "interval": "1m"}}})),
        5,
    );
    sim.run_to_end();
    let shifted: Vec<String> = sim
        .all_intents()
        .into_iter()
        .filter_map(|intent| match intent {
            Intent::Event(EventIntent {
                reason: "TrafficShifted",
                note,
                ..
            }) => Some(note),
            _ => None,
        })
        .collect();
    assert_eq!(shifted.len(), 3, "{shifted:?}");
    assert!(
        shifted[0].starts_with("40%")
            && shifted[1].starts_with("80%")
            && shifted[2].starts_with("100%")
    );
}

#[test]
fn status_holds_still_while_a_step_bakes_so_writes_do_not_trigger_reconciles() {
    let mut sim = Sim::with_stable_revision(
        spec(json!({"strategy": {"configName": "CodeDeployDefault.ECSCanary10Percent15Minutes"}})),
        10,
    );
    sim.run(5, 15);
    assert_eq!(sim.stage(), RolloutStage::AllowTraffic);
    let before = sim.status.clone();
    sim.tick(60);
    let decision = sim.reconcile();
    assert_eq!(
        decision.status, before,
        "nothing happened, nothing to write"
    );
    assert!(
        before
            .message
            .as_deref()
            .unwrap()
            .contains("baking until 2027-"),
        "{:?}",
        before.message
    );
}

#[test]
fn status_holds_still_during_the_termination_wait() {
    let mut sim = Sim::with_stable_revision(
        spec(json!({"strategy": {"blueGreen": {"terminationWait": "1h"}}})),
        2,
    );
    sim.run(5, 20);
    assert_eq!(sim.stage(), RolloutStage::TerminationWait);
    let before = sim.status.clone();
    sim.tick(120);
    assert_eq!(sim.reconcile().status, before);
}
