//! Behaviour tests of the failure paths: hook failures and timeouts, health-check failures,
//! progress deadlines, stop requests, wait timeouts, rollbacks, lost status writes, invalid specs.

use serde_json::json;

use super::decide_tests::{assert_safe, job_hook, phase, spec};
use super::reasons;
use super::simulation::{HookScript, Sim};
use super::state::{Intent, ServiceRole};
use super::traffic::Selection;
use crate::api::deployment::{
    AutoRollbackEvent, DeploymentPhase, DeploymentStop, LifecycleEvent, RolloutStage,
};
use crate::runtime::events::EventIntent;

#[test]
fn failed_hook_fails_the_rollout_and_rolls_back() {
    let mut sim =
        Sim::with_stable_revision(spec(json!({"hooks": {"afterInstall": job_hook()}})), 2);
    sim.hook_script
        .insert(LifecycleEvent::AfterInstall, HookScript::Fail);
    sim.run(5, 50);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Failed));
    let rollback = sim.status.rollback.as_ref().unwrap();
    assert_eq!(rollback.reason, AutoRollbackEvent::DeploymentFailure);
    assert!(rollback.completion_time.is_some());
    assert_eq!(sim.revisions["v2"].0, 0);
    assert_eq!(sim.production, Some(Selection::Revision("v1".into())));
}

#[test]
fn hook_past_its_timeout_is_stopped_and_fails_the_rollout() {
    let hook = json!({"http": {"url": "http://127.0.0.1:9/h"}, "timeout": "1m"});
    let mut sim = Sim::with_stable_revision(spec(json!({"hooks": {"beforeInstall": hook}})), 2);
    sim.hook_script
        .insert(LifecycleEvent::BeforeInstall, HookScript::Hang);
    sim.run(20, 20);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Failed));
    assert!(
        sim.all_intents()
            .iter()
            .any(|intent| matches!(intent, Intent::StopHook { .. }))
    );
    assert!(
        sim.status.message.as_deref().unwrap().contains("timed out"),
        "{:?}",
        sim.status.message
    );
    assert!(
        !sim.revisions.contains_key("v2"),
        "BeforeInstall failed: nothing installed"
    );
}

#[test]
fn failed_health_check_restores_stable_selector_in_the_same_decision() {
    let checks = json!([{"name": "web", "http": {"path": "/healthz"}, "failureThreshold": 2}]);
    let mut sim = Sim::with_stable_revision(
        spec(json!({"healthChecks": checks, "strategy": {"blueGreen": {"terminationWait": "1h"}}})),
        2,
    );
    sim.run(5, 40);
    assert_eq!(sim.stage(), RolloutStage::TerminationWait);
    assert_eq!(sim.production, Some(Selection::Revision("v2".into())));
    sim.healthy = false;
    let mut restoring = None;
    for _ in 0..20 {
        sim.tick(10);
        let decision = sim.reconcile();
        if decision.status.stage == Some(RolloutStage::RollingBack) {
            restoring = Some(decision);
            break;
        }
    }
    let decision = restoring.expect("rollback started");
    assert!(decision.intents.contains(&Intent::SetServiceSelector {
        role: ServiceRole::Production,
        service: "web".into(),
        selection: Selection::Revision("v1".into())
    }));
    sim.run(5, 20);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Failed));
    assert_eq!(
        sim.status.rollback.as_ref().unwrap().reason,
        AutoRollbackEvent::HealthCheckFailure
    );
    assert_eq!(sim.status.traffic_split.as_ref().unwrap().stable, 100);
    assert_safe(&sim);
}

#[test]
fn failed_health_check_without_auto_rollback_leaves_traffic() {
    let checks = json!([{"name": "web", "http": {"path": "/"}, "failureThreshold": 1}]);
    let mut sim = Sim::with_stable_revision(
        spec(json!({
            "healthChecks": checks,
            "autoRollback": {"enabled": false},
            "strategy": {"blueGreen": {"terminationWait": "1h"}}
        })),
        2,
    );
    sim.run(5, 40);
    sim.healthy = false;
    sim.run(10, 20);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Failed));
    assert_eq!(sim.status.rollback, None);
    assert_eq!(sim.production, Some(Selection::Revision("v2".into())));
}

#[test]
fn wait_timeout_stops_and_rolls_back_when_stop_events_roll_back() {
    let strategy = json!({"blueGreen": {"readyOption": {"action": "Wait", "waitTimeout": "10m"}}});
    let rollback = json!({"events": ["DeploymentStopOnRequest"]});
    let mut sim = Sim::with_stable_revision(
        spec(json!({"strategy": strategy, "autoRollback": rollback})),
        2,
    );
    sim.run(60, 30);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Stopped));
    assert_eq!(
        sim.status.rollback.as_ref().unwrap().reason,
        AutoRollbackEvent::DeploymentStopOnRequest
    );
    assert_eq!(sim.revisions["v2"].0, 0);
}

#[test]
fn wait_timeout_without_stop_rollback_leaves_the_new_revision() {
    let strategy = json!({"blueGreen": {"readyOption": {"action": "Wait", "waitTimeout": "10m"}}});
    let mut sim = Sim::with_stable_revision(spec(json!({"strategy": strategy})), 2);
    sim.run(60, 30);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Stopped));
    assert_eq!(sim.status.rollback, None);
    assert_eq!(sim.production, Some(Selection::Revision("v1".into())));
}

#[test]
fn stop_with_rollback_restores_the_stable_revision() {
    let mut sim = Sim::with_stable_revision(
        spec(json!({"strategy": {"configName": "CodeDeployDefault.ECSCanary10Percent15Minutes"}})),
        4,
    );
    sim.run(5, 15);
    assert_eq!(sim.production, Some(Selection::AllRevisions));
    sim.spec.control.stop = Some(DeploymentStop {
        rollback: true,
        reason: Some("bad release".into()),
    });
    sim.run(5, 30);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Stopped));
    assert_eq!(sim.production, Some(Selection::Revision("v1".into())));
    assert_eq!(sim.revisions["v1"], (4, 4));
    assert_eq!(sim.revisions["v2"].0, 0);
    assert!(
        sim.status
            .message
            .as_deref()
            .unwrap()
            .contains("bad release")
    );
    assert_safe(&sim);
}

#[test]
fn stop_without_rollback_leaves_traffic_where_it_is() {
    let mut sim = Sim::with_stable_revision(
        spec(json!({"strategy": {"configName": "CodeDeployDefault.ECSCanary10Percent15Minutes"}})),
        4,
    );
    sim.run(5, 15);
    sim.spec.control.stop = Some(DeploymentStop {
        rollback: false,
        reason: None,
    });
    sim.reconcile();
    assert_eq!(phase(&sim), Some(DeploymentPhase::Stopped));
    assert_eq!(sim.production, Some(Selection::AllRevisions));
    assert_eq!(sim.status.rollback, None);
}

#[test]
fn stop_while_queued_ends_stopped_without_touching_anything() {
    let mut sim = Sim::with_stable_revision(spec(json!({})), 2);
    sim.spec.control.stop = Some(DeploymentStop {
        rollback: true,
        reason: None,
    });
    let decision = sim.reconcile();
    assert_eq!(phase(&sim), Some(DeploymentPhase::Stopped));
    assert!(
        decision
            .intents
            .iter()
            .all(|intent| matches!(intent, Intent::Event(_)))
    );
}

#[test]
fn progress_deadline_fails_a_revision_that_never_becomes_ready() {
    let mut sim = Sim::with_stable_revision(spec(json!({"progressDeadlineSeconds": 60})), 2);
    sim.ready_cap.insert("v2".into(), 1);
    sim.run(10, 30);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Failed));
    assert!(
        sim.status
            .message
            .as_deref()
            .unwrap()
            .contains("progress deadline")
    );
    assert_eq!(sim.production, Some(Selection::Revision("v1".into())));
    assert_eq!(sim.revisions["v2"].0, 0);
    assert_safe(&sim);
}

#[test]
fn replica_ratio_rollback_scales_stable_up_before_restoring_its_selector() {
    let checks = json!([{"name": "web", "http": {"path": "/"}, "failureThreshold": 1}]);
    let mut sim = Sim::with_stable_revision(
        spec(
            json!({"healthChecks": checks, "strategy": {"canary": {"percent": 60, "interval": "1h"}}}),
        ),
        5,
    );
    sim.run(5, 30);
    assert_eq!(sim.revisions["v1"].0, 2, "stable scaled to its 40% share");
    sim.ready_cap.insert("v1".into(), 3);
    sim.healthy = false;
    sim.run(10, 10);
    assert_eq!(sim.stage(), RolloutStage::RollingBack);
    assert_eq!(sim.revisions["v1"].0, 5);
    assert_eq!(
        sim.production,
        Some(Selection::AllRevisions),
        "not restored before all stable pods are Ready"
    );
    sim.ready_cap.remove("v1");
    sim.run(5, 20);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Failed));
    assert_eq!(sim.production, Some(Selection::Revision("v1".into())));
    assert_safe(&sim);
}

#[test]
fn rollback_waiting_past_the_deadline_for_stable_pods_is_stalled_with_one_warning() {
    let checks = json!([{"name": "web", "http": {"path": "/"}, "failureThreshold": 1}]);
    let mut sim = Sim::with_stable_revision(
        spec(json!({
            "healthChecks": checks,
            "progressDeadlineSeconds": 120,
            "strategy": {"canary": {"percent": 60, "interval": "1h"}}
        })),
        5,
    );
    sim.run(5, 30);
    sim.ready_cap.insert("v1".into(), 3);
    sim.healthy = false;
    sim.run(10, 5);
    assert_eq!(sim.stage(), RolloutStage::RollingBack);
    assert_eq!(stalled(&sim), None, "within the deadline it only waits");

    sim.run(30, 10);
    assert_eq!(sim.stage(), RolloutStage::RollingBack);
    assert_eq!(
        sim.production,
        Some(Selection::AllRevisions),
        "never to unready pods"
    );
    assert_eq!(stalled(&sim).as_deref(), Some(reasons::ROLLBACK_STALLED));
    let message = sim.status.message.clone().unwrap_or_default();
    assert!(
        message.starts_with("rollback stalled: stable revision v1 has 3/5 pods Ready after 120s"),
        "{message}"
    );
    let warnings = sim
        .all_intents()
        .into_iter()
        .filter(|intent| {
            matches!(intent, Intent::Event(EventIntent { warning: true, reason, .. })
                if *reason == reasons::ROLLBACK_STALLED)
        })
        .count();
    assert_eq!(warnings, 1, "one Warning, not one per reconcile");

    sim.ready_cap.remove("v1");
    sim.run(5, 20);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Failed));
    assert_eq!(sim.production, Some(Selection::Revision("v1".into())));
    assert_eq!(stalled(&sim).as_deref(), Some(reasons::FAILED));
    assert_safe(&sim);
}

/// The reason of a `Stalled=True` condition, if any.
fn stalled(sim: &Sim) -> Option<String> {
    sim.status
        .conditions
        .iter()
        .find(|condition| condition.type_ == "Stalled" && condition.status == "True")
        .map(|condition| condition.reason.clone())
}

#[test]
fn rolling_health_failure_rolls_back_to_a_full_stable_revision() {
    let checks = json!([{"name": "web", "http": {"path": "/"}, "failureThreshold": 1}]);
    let strategy = json!({"rolling": {"maxSurge": 1, "maxUnavailable": 1}});
    let mut sim = Sim::with_stable_revision(
        spec(json!({"strategy": strategy, "healthChecks": checks})),
        4,
    );
    while sim
        .status
        .traffic_split
        .as_ref()
        .is_none_or(|split| split.canary == 0)
    {
        sim.reconcile();
        sim.tick(5);
    }
    assert_eq!(sim.stage(), RolloutStage::AllowTraffic);
    sim.healthy = false;
    sim.run(5, 40);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Failed));
    assert_eq!(sim.revisions["v1"], (4, 4));
    assert_eq!(sim.production, Some(Selection::Revision("v1".into())));
    assert_safe(&sim);
}

#[test]
fn same_input_gives_the_same_decision() {
    let mut sim =
        Sim::with_stable_revision(spec(json!({"hooks": {"beforeInstall": job_hook()}})), 2);
    for _ in 0..6 {
        assert_eq!(sim.peek(), sim.peek());
        sim.reconcile();
        sim.tick(5);
    }
}

#[test]
fn lost_status_write_repeats_the_same_requests_without_duplicates() {
    let mut sim =
        Sim::with_stable_revision(spec(json!({"hooks": {"beforeInstall": job_hook()}})), 2);
    sim.reconcile();
    let first = sim.reconcile_with(true);
    let again = sim.reconcile();
    let hook_names = |decision: &super::state::Decision| -> Vec<String> {
        decision
            .intents
            .iter()
            .filter_map(|intent| match intent {
                Intent::StartHook { child_name, .. } => Some(child_name.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(hook_names(&first), hook_names(&again));
    sim.run_to_end();
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
    assert_eq!(sim.hook_children.len(), 1);
    assert_safe(&sim);
}

#[test]
fn invalid_strategy_stalls_with_the_field_named() {
    let mut sim = Sim::with_stable_revision(
        spec(json!({"strategy": {"canary": {"percent": 10, "interval": "soon"}}})),
        2,
    );
    let decision = sim.reconcile();
    assert!(
        sim.status
            .message
            .as_deref()
            .unwrap()
            .contains("spec.strategy.canary.interval")
    );
    let stalled = sim
        .status
        .conditions
        .iter()
        .find(|c| c.type_ == "Stalled")
        .unwrap();
    assert_eq!(stalled.status, "True");
    assert!(decision.intents.iter().any(|intent| matches!(
        intent,
        Intent::Event(EventIntent {
            reason: "InvalidSpec",
            ..
        })
    )));
    let again = sim.reconcile();
    assert!(
        !again
            .intents
            .iter()
            .any(|intent| matches!(intent, Intent::Event(_))),
        "one event per problem"
    );
}

#[test]
fn missing_workload_waits_without_starting() {
    let mut sim = Sim::new(spec(json!({})), 2);
    sim.workload = None;
    sim.reconcile();
    assert_eq!(sim.stage(), RolloutStage::Pending);
    assert!(
        sim.status
            .message
            .as_deref()
            .unwrap()
            .contains("unable to find workload web")
    );
}

#[test]
fn route_weights_roll_back_in_the_same_decision_as_the_failure() {
    let checks = json!([{"name": "web", "http": {"path": "/"}, "failureThreshold": 1}]);
    let mut sim = Sim::with_stable_revision(
        spec(json!({
            "healthChecks": checks,
            "target": {"httpRoute": {"name": "web"}},
            "strategy": {"canary": {"percent": 25, "interval": "1h"}}
        })),
        2,
    );
    sim.run(5, 20);
    assert_eq!(sim.route, Some((75, 25)));
    sim.healthy = false;
    sim.tick(10);
    let mut decision = sim.reconcile();
    while decision.status.stage != Some(RolloutStage::RollingBack) {
        sim.tick(10);
        decision = sim.reconcile();
    }
    assert!(decision.intents.iter().any(|intent| matches!(
        intent,
        Intent::SetRouteWeights {
            production: (_, 100),
            canary: (_, 0),
            ..
        }
    )));
    sim.run(5, 10);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Failed));
    assert_eq!(sim.route, Some((100, 0)));
    assert_eq!(sim.production, Some(Selection::Revision("v1".into())));
    assert_safe(&sim);
}

#[test]
fn stop_during_takeover_leaves_the_user_workload_serving() {
    let mut sim = Sim::new(spec(json!({})), 2);
    sim.ready_cap.insert("v1".into(), 0);
    sim.run(5, 3);
    assert_eq!(sim.stage(), RolloutStage::TakeOver);
    sim.spec.control.stop = Some(DeploymentStop {
        rollback: true,
        reason: None,
    });
    sim.run(5, 10);
    assert_eq!(phase(&sim), Some(DeploymentPhase::Stopped));
    assert_eq!(
        sim.production, None,
        "the user's own selector was never touched"
    );
    assert_eq!(sim.workload.as_ref().unwrap().replicas, 2);
}
