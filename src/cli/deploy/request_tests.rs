//! What promote, abort and stop write (or refuse) for records in each state.

use serde_json::{Value, json};

use super::request::{
    ControlChange, PromoteRequest, RequestError, StopRequest, decide_promote, decide_stop,
};
use crate::api::Deployment as Record;
use crate::api::deployment::DeploymentPhase;

/// Record `web-v2` in namespace `shop` with `strategy`, `control` and `status`.
pub(super) fn record(strategy: Value, control: Value, status: Value) -> Record {
    serde_json::from_value(json!({
        "apiVersion": "slipway.dev/v1alpha1", "kind": "Deployment",
        "metadata": {"name": "web-v2", "namespace": "shop", "resourceVersion": "7"},
        "spec": {
            "target": {"service": "web", "workload": "web"},
            "revision": {"images": [{"container": "web", "image": "shop/web:2"}]},
            "strategy": strategy,
            "control": control
        },
        "status": status
    }))
    .expect("a valid record")
}

fn blue_green_wait() -> Value {
    json!({"blueGreen": {"readyOption": {"action": "Wait"}}})
}

fn canary_steps() -> Value {
    json!({"steps": [{"weight": 10}, {"weight": 50, "pause": "5m"}, {"weight": 100}]})
}

fn promote(record: &Record) -> Result<ControlChange, RequestError> {
    decide_promote(record, &PromoteRequest::default())
}

fn patched(change: Result<ControlChange, RequestError>) -> (Value, String) {
    match change {
        Ok(ControlChange::Patch { control, summary }) => (control, summary),
        other => panic!("expected a patch, got {other:?}"),
    }
}

#[test]
fn plain_promote_releases_the_step_the_rollout_waits_at() {
    let cases = [
        (
            blue_green_wait(),
            json!({"phase": "Ready", "stage": "AwaitPromote", "currentStep": 0, "totalSteps": 2}),
            0,
            "promoted web-v2 through step 0 (the blue-green wait): it proceeds now",
        ),
        (
            canary_steps(),
            json!({"phase": "InProgress", "stage": "AllowTraffic", "currentStep": 1, "totalSteps": 3}),
            1,
            "promoted web-v2 through step 1 (50% of traffic, bake 300s): it proceeds now",
        ),
        (
            canary_steps(),
            json!({"phase": "InProgress", "stage": "AllowTraffic", "currentStep": 0, "totalSteps": 3}),
            0,
            "promoted web-v2 through step 0 (10% of traffic, until promoted): it proceeds now",
        ),
        (
            blue_green_wait(),
            json!({"phase": "InProgress", "stage": "Install", "currentStep": 0}),
            0,
            "promoted web-v2 through step 0 (the blue-green wait): the steps up to it proceed without \
             waiting when the rollout gets there",
        ),
    ];
    for (strategy, status, step, summary) in cases {
        let (control, text) = patched(promote(&record(strategy, json!({}), status.clone())));
        assert_eq!(
            control,
            json!({"promote": {"throughStep": step}}),
            "for {status}"
        );
        assert_eq!(text, summary, "for {status}");
    }
}

#[test]
fn plain_promote_never_lowers_an_earlier_promote() {
    let ahead = record(
        canary_steps(),
        json!({"promote": {"throughStep": 2}}),
        json!({"phase": "InProgress", "stage": "AllowTraffic", "currentStep": 1, "message": "step 1: 50% of traffic, waiting for health checks to pass"}),
    );
    assert_eq!(
        promote(&ahead),
        Ok(ControlChange::Unchanged(
            "web-v2 is already promoted through step 2; the controller says: step 1: 50% of \
             traffic, waiting for health checks to pass"
                .into()
        ))
    );
    let behind = record(
        canary_steps(),
        json!({"promote": {"throughStep": 0}}),
        json!({"phase": "InProgress", "stage": "AllowTraffic", "currentStep": 1}),
    );
    assert_eq!(
        patched(promote(&behind)).0,
        json!({"promote": {"throughStep": 1}})
    );
}

#[test]
fn full_promote_sets_full_once() {
    let status = json!({"phase": "InProgress", "stage": "AllowTraffic", "currentStep": 1});
    let full = PromoteRequest {
        full: true,
        through_step: None,
    };
    let (control, summary) = patched(decide_promote(
        &record(canary_steps(), json!({}), status.clone()),
        &full,
    ));
    assert_eq!(control, json!({"promote": {"full": true}}));
    assert!(summary.starts_with("promoted web-v2 fully"), "{summary}");
    let again = decide_promote(
        &record(
            canary_steps(),
            json!({"promote": {"full": true, "throughStep": 0}}),
            status,
        ),
        &full,
    );
    assert!(
        matches!(again, Ok(ControlChange::Unchanged(ref text)) if text.starts_with("web-v2 is already fully promoted")),
        "{again:?}"
    );
}

#[test]
fn through_step_must_lie_between_the_current_and_the_last_step() {
    let status =
        json!({"phase": "InProgress", "stage": "AllowTraffic", "currentStep": 1, "totalSteps": 3});
    let at = |step| {
        decide_promote(
            &record(canary_steps(), json!({}), status.clone()),
            &PromoteRequest {
                full: false,
                through_step: Some(step),
            },
        )
    };
    assert_eq!(patched(at(2)).0, json!({"promote": {"throughStep": 2}}));
    assert_eq!(
        at(0),
        Err(RequestError::StepBehind {
            requested: 0,
            current: 1
        })
    );
    let beyond = at(3).unwrap_err();
    assert_eq!(
        beyond.to_string(),
        "--through-step 3 is past the last step of web-v2's strategy: use a step from 0 to 2 \
         (`kubectl slipway deploy status web-v2` lists them), or --full"
    );
}

#[test]
fn promote_is_refused_when_nothing_can_be_released() {
    let cases = [
        (
            canary_steps(),
            json!({}),
            json!({"phase": "Succeeded", "stage": "Done"}),
            "deployments.slipway.dev web-v2 has ended (Succeeded): nothing is left to promote; to \
             roll out another revision, create a new record",
        ),
        (
            canary_steps(),
            json!({}),
            json!({"phase": "Failed", "stage": "Done"}),
            "deployments.slipway.dev web-v2 has ended (Failed): a promote has no effect now; to \
             roll the revision out again, create a new record with it",
        ),
        (
            canary_steps(),
            json!({"stop": {"rollback": true}}),
            json!({"phase": "InProgress", "stage": "RollingBack"}),
            "deployments.slipway.dev web-v2 is being stopped (spec.control.stop is set): a \
             stopped rollout cannot be promoted; create a new record to roll the revision out again",
        ),
        (
            canary_steps(),
            json!({}),
            json!({"phase": "InProgress", "stage": "RollingBack",
                   "rollback": {"reason": "HealthCheckFailure", "message": "health check ok failed: 503"}}),
            "deployments.slipway.dev web-v2 is rolling back (health check ok failed: 503): it \
             cannot be promoted",
        ),
        (
            json!({"rolling": {"maxSurge": 1}}),
            json!({}),
            json!({"phase": "InProgress", "stage": "AllowTraffic", "currentStep": 0}),
            "deployments.slipway.dev web-v2 uses a rolling strategy (spec.strategy.rolling), which \
             has no steps or pauses to promote; it proceeds as pods become Ready",
        ),
        (
            canary_steps(),
            json!({}),
            json!({"phase": "Baking", "stage": "TerminationWait", "currentStep": 3}),
            "deployments.slipway.dev web-v2 has moved all traffic to the new revision: nothing \
             waits for a promote (the termination wait ends on its own)",
        ),
    ];
    for (strategy, control, status, message) in cases {
        let refusal = promote(&record(strategy, control, status.clone())).unwrap_err();
        assert_eq!(refusal.to_string(), message, "for {status}");
    }
}

#[test]
fn stop_writes_rollback_and_reason_once() {
    let status = json!({
        "phase": "InProgress", "stage": "AllowTraffic", "currentStep": 0,
        "trafficSplit": {"stable": 50, "canary": 50},
        "stableRevision": {"hash": "5d8f", "images": [{"container": "web", "image": "shop/web:1"}]}
    });
    let abort = StopRequest {
        rollback: true,
        reason: Some("bad metrics".into()),
    };
    let (control, summary) = patched(decide_stop(
        &record(canary_steps(), json!({}), status.clone()),
        &abort,
    ));
    assert_eq!(
        control,
        json!({"stop": {"rollback": true, "reason": "bad metrics"}})
    );
    assert_eq!(
        summary,
        "stopping web-v2: all traffic goes back to the stable revision 5d8f"
    );

    let keep = StopRequest {
        rollback: false,
        reason: None,
    };
    let (control, summary) = patched(decide_stop(
        &record(canary_steps(), json!({}), status.clone()),
        &keep,
    ));
    assert_eq!(control, json!({"stop": {"rollback": false}}));
    assert_eq!(
        summary,
        "stopping web-v2 without rollback: traffic stays where it is (50% stable, 50% new)"
    );

    let stopping = record(
        canary_steps(),
        json!({"stop": {"rollback": true}}),
        status.clone(),
    );
    assert!(matches!(
        decide_stop(&stopping, &abort),
        Ok(ControlChange::Unchanged(_))
    ));
    assert_eq!(
        decide_stop(&stopping, &keep).unwrap_err().to_string(),
        "deployments.slipway.dev web-v2 already has a stop request with rollback (abort): a stop \
         cannot be changed or withdrawn once made"
    );
}

#[test]
fn stop_is_refused_once_the_rollout_ended_or_with_an_overlong_reason() {
    let succeeded = record(
        canary_steps(),
        json!({}),
        json!({"phase": "Succeeded", "stage": "Done",
               "stableRevision": {"hash": "5d8f", "images": [{"container": "web", "image": "shop/web:1"}]}}),
    );
    let abort = StopRequest {
        rollback: true,
        reason: None,
    };
    assert_eq!(
        decide_stop(&succeeded, &abort).unwrap_err(),
        RequestError::Ended {
            name: "web-v2".into(),
            phase: DeploymentPhase::Succeeded,
            advice: "nothing is left to stop; to go back to the previous revision (shop/web:1), \
                     create a new record rolling it out"
                .into(),
        }
    );
    let long = StopRequest {
        rollback: true,
        reason: Some("x".repeat(201)),
    };
    let running = record(canary_steps(), json!({}), json!({"phase": "InProgress"}));
    assert_eq!(
        decide_stop(&running, &long).unwrap_err().to_string(),
        "--reason is 201 characters long; at most 200 fit"
    );
}
