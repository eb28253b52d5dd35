//! One active rollout per target, missing references, a controller restarted in the middle
//! of a rollout, and a blue-green promote that never comes.

use std::time::Duration;

use kube::api::ListParams;
use serde_json::json;
use slipway::api::deployment::DeploymentPhase;

use super::{Controller, Harness, condition};

#[tokio::test]
async fn second_rollout_on_the_same_target_waits_then_runs() {
    let harness = Harness::start().await;
    harness.application(1).await;
    let gated = json!({"strategy": {"allAtOnce": {}, "blueGreen": {"readyOption": {"action": "Wait"}, "terminationWait": "1s"}}});
    harness.rollout("web-v2", "shop/web:2", gated).await;
    harness
        .wait_phase("web-v2", DeploymentPhase::Ready, 20)
        .await;
    harness
        .rollout(
            "web-v3",
            "shop/web:3",
            json!({"strategy": {"allAtOnce": {}, "blueGreen": {"terminationWait": "1s"}}}),
        )
        .await;
    let queued = harness
        .wait_phase("web-v3", DeploymentPhase::Queued, 10)
        .await;
    assert_eq!(
        queued.status.unwrap().waiting_for.as_deref(),
        Some("web-v2")
    );

    harness
        .control("web-v2", json!({"promote": {"full": true}}))
        .await;
    harness
        .wait_phase("web-v2", DeploymentPhase::Succeeded, 20)
        .await;
    harness
        .wait_phase("web-v3", DeploymentPhase::Succeeded, 30)
        .await;
    let v3 = harness.revision_of("shop/web:3").await;
    assert_eq!(
        harness
            .selector("web")
            .await
            .get("slipway.dev/revision")
            .map(String::as_str),
        v3.rsplit('-').next()
    );
}

#[tokio::test]
async fn missing_production_service_is_reported_naming_the_field() {
    let harness = Harness::start().await;
    harness.application(1).await;
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({"target": {"service": "nope", "workload": "web"}}),
        )
        .await;
    harness
        .eventually("the invalid reference", 10, || async {
            condition(&harness.record("web-v2").await, "Stalled")
                == Some(("True".into(), "InvalidReference".into()))
        })
        .await;
    let record = harness.record("web-v2").await;
    assert!(
        record
            .status
            .unwrap()
            .message
            .unwrap()
            .contains("spec.target.service")
    );
    let reasons = harness.event_reasons("web-v2").await;
    assert_eq!(
        reasons,
        vec!["InvalidReference".to_owned()],
        "one Warning Event"
    );
}

#[tokio::test]
async fn restart_mid_rollout_reaches_the_same_end_without_duplicate_revisions_or_hooks() {
    let mut harness = Harness::start().await;
    harness.application(1).await;
    harness.route().await;
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({
                "target": {"service": "web", "workload": "web", "httpRoute": {"name": "web"}},
                "strategy": {"canary": {"percent": 50, "interval": "3s"}, "blueGreen": {"terminationWait": "1s"}},
                "hooks": {"afterInstall": {"timeout": "30s", "job": {"template": {
                    "metadata": {"annotations": {"testcluster.slipway.dev/complete-after": "1s"}},
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "check", "image": "shop/check:1"}]}
                }}}}
            }),
        )
        .await;
    // Stop the controller while the hook Job runs, start a new one.
    harness
        .eventually("the hook Job", 20, || async {
            !harness
                .jobs()
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .is_empty()
        })
        .await;
    harness.controller.take().unwrap().stop().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    harness.controller = Some(Controller::start(&harness.cluster));
    // And again in the middle of the canary step.
    harness
        .eventually("the canary step", 20, || async {
            harness.weights().await == (50, 50)
        })
        .await;
    harness.controller.take().unwrap().stop().await;
    harness.controller = Some(Controller::start(&harness.cluster));

    harness
        .wait_phase("web-v2", DeploymentPhase::Succeeded, 40)
        .await;
    let new = harness.revision_of("shop/web:2").await;
    assert_eq!(
        harness
            .selector("web")
            .await
            .get("slipway.dev/revision")
            .map(String::as_str),
        new.rsplit('-').next()
    );
    assert_eq!(harness.weights().await, (100, 0));
    assert_eq!(
        harness.revisions().await.len(),
        2,
        "the stable copy and the new revision, once each"
    );
    let created = harness
        .cluster
        .requests()
        .matching(|r| {
            r.verb == "create" && r.group == "apps" && r.resource == "deployments" && r.code == 201
        })
        .len();
    assert_eq!(
        created, 3,
        "the user's workload and two revisions, each created once"
    );
    let hooks = harness
        .jobs()
        .list(&ListParams::default().labels("slipway.dev/purpose=hook"))
        .await
        .unwrap();
    assert_eq!(hooks.items.len(), 1, "one hook Job across restarts");
}

#[tokio::test]
async fn blue_green_without_a_promote_within_the_wait_timeout_stops_and_never_switches() {
    let harness = Harness::start().await;
    harness.application(1).await;
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({
                "target": {"service": "web", "testService": "web-preview", "workload": "web"},
                "strategy": {"allAtOnce": {}, "blueGreen": {"readyOption": {"action": "Wait", "waitTimeout": "2s"}, "terminationWait": "1s"}}
            }),
        )
        .await;
    harness
        .wait_phase("web-v2", DeploymentPhase::Ready, 20)
        .await;
    let waiting_since = std::time::Instant::now();
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Stopped, 10)
        .await;
    assert!(
        waiting_since.elapsed() < Duration::from_secs(5),
        "stopped at the wait timeout"
    );

    let stable = harness.revision_of(super::STABLE_IMAGE).await;
    let new = harness.revision_of("shop/web:2").await;
    assert_eq!(
        harness
            .selector("web")
            .await
            .get("slipway.dev/revision")
            .map(String::as_str),
        stable.rsplit('-').next(),
        "production never switched"
    );
    let writes = harness
        .cluster
        .requests()
        .matching(|r| {
            r.is_write()
                && r.resource == "services"
                && r.name.as_deref() == Some("web")
                && r.field_manager.as_deref() == Some("slipway-controller")
        })
        .len();
    assert_eq!(
        writes, 1,
        "production's selector was written once, by the takeover"
    );
    let status = record.status.unwrap();
    assert_eq!(
        status.message.as_deref(),
        Some("stopped: no promote within the wait timeout of 2s")
    );
    assert_eq!(
        condition(&harness.record("web-v2").await, "Stalled"),
        Some(("True".into(), "Stopped".into()))
    );
    assert!(
        status.rollback.is_none(),
        "DeploymentStopOnRequest is not an autoRollback event by default"
    );
    assert_eq!(status.traffic_split.unwrap().canary, 0);
    // Without a rollback traffic stays where it was: test traffic on the new revision, which
    // keeps running for inspection.
    assert_eq!(
        harness
            .selector("web-preview")
            .await
            .get("slipway.dev/revision")
            .map(String::as_str),
        new.rsplit('-').next()
    );
    assert_eq!(harness.revisions().await.get(&new), Some(&1));
    let reasons = harness.event_reasons("web-v2").await;
    assert_eq!(
        reasons.last().map(String::as_str),
        Some("Stopped"),
        "{reasons:?}"
    );
}
