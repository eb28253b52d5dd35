//! Behaviour tests of what the decision owns beyond the stages: missing or unusable references
//! (a state, not an error), conditions from typed facts rather than messages, and which
//! probes observe runs.

use serde_json::json;

use super::decide::{SHORT_REQUEUE, health_stage, probes_due};
use super::decide_tests::{phase, spec};
use super::reasons;
use super::simulation::{Sim, at};
use super::state::{Intent, InvalidReference};
use super::traffic::Selection;
use crate::api::deployment::{DeploymentPhase, RolloutStage};
use crate::runtime::conditions::{self, READY, RECONCILING, STALLED};
use crate::runtime::events::EventIntent;

fn missing_service() -> InvalidReference {
    InvalidReference {
        field: "spec.target.service",
        object: "Service shop/web".into(),
        problem: "which does not exist".into(),
    }
}

fn reason_of(sim: &Sim, type_: &str) -> (String, String) {
    let condition = conditions::find(&sim.status.conditions, type_).expect("the condition");
    (condition.status.clone(), condition.reason.clone())
}

fn warnings(intents: &[Intent], reason: &str) -> usize {
    intents
        .iter()
        .filter(|intent| {
            matches!(intent, Intent::Event(EventIntent { warning: true, reason: r, .. }) if *r == reason)
        })
        .count()
}

#[test]
fn a_missing_production_service_stalls_the_rollout_naming_the_field_and_moves_nothing() {
    let mut sim = Sim::with_stable_revision(spec(json!({})), 2);
    sim.invalid_references.push(missing_service());
    let decision = sim.reconcile();
    assert_eq!(
        sim.status.message.as_deref(),
        Some(
            "unable to roll out: spec.target.service names Service shop/web, which does not exist"
        )
    );
    for type_ in [READY, STALLED, RECONCILING] {
        assert_eq!(
            reason_of(&sim, type_).1,
            reasons::INVALID_REFERENCE,
            "{type_}"
        );
    }
    assert_eq!(reason_of(&sim, STALLED).0, "True");
    assert_eq!(reason_of(&sim, RECONCILING).0, "False");
    assert_eq!(warnings(&decision.intents, reasons::INVALID_REFERENCE), 1);
    assert!(
        decision
            .intents
            .iter()
            .all(|intent| matches!(intent, Intent::Event(_) | Intent::RequeueAfter(_))),
        "nothing moves: {:?}",
        decision.intents
    );
    assert_eq!(sim.stage(), RolloutStage::Pending);

    let again = sim.reconcile();
    assert_eq!(
        warnings(&again.intents, reasons::INVALID_REFERENCE),
        0,
        "one Warning per problem"
    );
}

#[test]
fn a_restored_reference_lets_the_rollout_go_on_and_clears_the_stall() {
    let mut sim = Sim::with_stable_revision(spec(json!({})), 2);
    sim.invalid_references.push(missing_service());
    sim.reconcile();
    sim.invalid_references.clear();
    sim.run_to_end();
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
    assert_eq!(sim.production, Some(Selection::Revision("v2".into())));
    assert_eq!(reason_of(&sim, STALLED).0, "False");
}

#[test]
fn a_message_that_reads_like_an_invalid_spec_does_not_stall_a_rollout() {
    let mut sim = Sim::with_stable_revision(spec(json!({})), 2);
    sim.run_to_end();
    assert_eq!(phase(&sim), Some(DeploymentPhase::Succeeded));
    // A message that no decision wrote (an old problem's, or one written by hand) decides
    // nothing: the conditions follow the typed state.
    sim.status.message = Some("unable to roll out: an old problem".into());
    sim.reconcile();
    assert_eq!(
        reason_of(&sim, READY),
        ("True".into(), reasons::SUCCEEDED.into())
    );
    assert_eq!(reason_of(&sim, STALLED).0, "False");
}

#[test]
fn probes_are_due_only_in_the_stages_that_probe_and_never_once_stopped() {
    let checks = json!([{"name": "web", "http": {"path": "/"}, "interval": "30s"}]);
    let spec = spec(json!({"healthChecks": checks}));
    let mut status = crate::api::deployment::DeploymentStatus::default();
    for stage in [
        RolloutStage::Pending,
        RolloutStage::Install,
        RolloutStage::RollingBack,
        RolloutStage::Done,
    ] {
        status.stage = Some(stage);
        assert!(
            probes_due(&spec, &status, &[], &at(0)).is_empty(),
            "{stage:?}"
        );
    }
    status.stage = Some(RolloutStage::AllowTraffic);
    let due = probes_due(&spec, &status, &[], &at(0));
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].check.as_str(), due[0].sequence), ("web", 1));

    let mut stopped = spec.clone();
    stopped.control.stop = Some(crate::api::deployment::DeploymentStop {
        rollback: true,
        reason: None,
    });
    assert!(
        probes_due(&stopped, &status, &[], &at(0)).is_empty(),
        "a stopped rollout judges no probes"
    );
}

#[test]
fn a_probe_crossing_its_threshold_restores_the_stable_selector_in_the_same_reconcile() {
    let checks = json!([{"name": "web", "http": {"path": "/"}, "failureThreshold": 1}]);
    let mut sim = Sim::with_stable_revision(
        spec(json!({"healthChecks": checks, "strategy": {"blueGreen": {"terminationWait": "1h"}}})),
        2,
    );
    sim.run(5, 40);
    assert_eq!(sim.stage(), RolloutStage::TerminationWait);
    sim.healthy = false;
    sim.tick(60);
    // One reconcile: observe runs the due probe, decide judges it, the intents restore.
    let decision = sim.reconcile();
    assert_eq!(decision.status.stage, Some(RolloutStage::RollingBack));
    assert_eq!(sim.production, Some(Selection::Revision("v1".into())));
}

#[test]
fn the_first_probe_runs_within_seconds_of_entering_a_probing_stage() {
    let checks = json!([{"name": "web", "http": {"path": "/"}, "interval": "5m"}]);
    let mut sim = Sim::with_stable_revision(
        spec(json!({"healthChecks": checks, "target": {"testService": "web-test"}})),
        2,
    );
    for _ in 0..30 {
        let before = sim.stage();
        let decision = sim.reconcile();
        let after = decision.status.stage.unwrap_or(RolloutStage::Pending);
        if !health_stage(before) && health_stage(after) {
            let requeue = decision.intents.iter().find_map(|intent| match intent {
                Intent::RequeueAfter(after) => Some(*after),
                _ => None,
            });
            assert!(
                requeue.is_some_and(|after| after <= SHORT_REQUEUE),
                "the first probe waits {requeue:?}, not an interval"
            );
            sim.tick(2);
            sim.reconcile();
            assert_eq!(sim.status.health_checks[0].probes, 1, "probed at once");
            return;
        }
        sim.tick(5);
    }
    panic!("the rollout never reached a probing stage");
}

#[test]
fn a_probe_taken_but_not_in_a_stale_status_is_not_due_again_and_still_counts() {
    let checks =
        json!([{"name": "web", "http": {"path": "/"}, "interval": "10s", "failureThreshold": 2}]);
    let spec = spec(json!({"healthChecks": checks}));
    let stale = crate::api::deployment::DeploymentStatus {
        stage: Some(RolloutStage::TerminationWait),
        ..Default::default()
    };
    let failed = |second| crate::rollout::health::ProbeResult {
        check: "web".into(),
        time: at(second),
        healthy: false,
        message: Some("503".into()),
    };
    // The reconcile at 100 s probed and failed; the next one reads a cached status without it.
    let kept = [failed(100)];
    assert!(
        probes_due(&spec, &stale, &kept, &at(101)).is_empty(),
        "not probed again within its interval"
    );
    let due = probes_due(&spec, &stale, &kept, &at(110));
    assert_eq!((due[0].check.as_str(), due[0].sequence), ("web", 2));
    let folded = crate::rollout::health::fold_results(
        &spec.template.health_checks,
        &stale.health_checks,
        &[failed(100), failed(110)],
    );
    assert_eq!(
        folded[0].consecutive_failures, 2,
        "the kept failure still counts"
    );
}
