//! Every rollback trigger ends with all production traffic on the Ready stable revision: a
//! failing hook Job, an HTTP health check failing mid-bake, a new revision that never becomes
//! Ready (progress deadline), and a stop with rollback.

use kube::api::ListParams;
use serde_json::json;
use slipway::api::deployment::{AutoRollbackEvent, DeploymentPhase, HealthResult};
use slipway_testcluster::simulate::PodScript;

use super::{Harness, NAMESPACE, STABLE_IMAGE, condition, hash_of};

#[tokio::test]
async fn failing_hook_job_fails_the_rollout_and_restores_the_stable_selector() {
    let harness = Harness::start().await;
    harness.application(1).await;
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({
                "strategy": {"allAtOnce": {}, "blueGreen": {"terminationWait": "1s"}},
                "hooks": {"beforeAllowTraffic": {"timeout": "30s", "job": {"template": {
                    "metadata": {"annotations": {"testcluster.slipway.dev/job-outcome": "fail"}},
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "smoke", "image": "shop/smoke:1"}]}
                }}}}
            }),
        )
        .await;
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Failed, 30)
        .await;
    let stable = hash_of(&harness.revision_of(STABLE_IMAGE).await);
    let new = harness.revision_of("shop/web:2").await;
    assert_eq!(
        harness.selector("web").await.get("slipway.dev/revision"),
        Some(&stable)
    );
    let status = record.status.clone().unwrap();
    let rollback = status.rollback.expect("a rollback record");
    assert_eq!(rollback.reason, AutoRollbackEvent::DeploymentFailure);
    assert!(rollback.completion_time.is_some());
    let jobs = harness
        .jobs()
        .list(&ListParams::default().labels("slipway.dev/purpose=hook"))
        .await
        .unwrap();
    assert_eq!(jobs.items.len(), 1, "one hook Job");
    assert_eq!(
        harness.revisions().await.get(&new),
        Some(&0),
        "the new revision is scaled down"
    );
    assert_eq!(
        condition(&record, "Stalled").map(|c| c.0),
        Some("True".into())
    );
    let reasons = harness.event_reasons("web-v2").await;
    assert!(reasons.iter().any(|r| r == "RollingBack"), "{reasons:?}");
    assert!(reasons.iter().any(|r| r == "RolledBack"), "{reasons:?}");
}

#[tokio::test]
async fn http_health_check_failing_mid_bake_restores_the_stable_weights() {
    let harness = Harness::start().await;
    let health = super::HealthServer::start().await;
    harness
        .canary_held_at_half(json!({
            "strategy": {"canary": {"percent": 50, "interval": "5m"}, "blueGreen": {"terminationWait": "1s"}},
            "healthChecks": [{"name": "api", "http": {"url": health.url}, "interval": "1s", "timeout": "1s", "failureThreshold": 2}]
        }))
        .await;
    health.set_healthy(false);
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Failed, 20)
        .await;
    assert_eq!(harness.weights().await, (100, 0));
    harness.assert_production_on_stable().await;
    let status = record.status.unwrap();
    assert_eq!(
        status.rollback.unwrap().reason,
        AutoRollbackEvent::HealthCheckFailure
    );
    let check = &status.health_checks[0];
    assert_eq!(check.result, HealthResult::Unhealthy);
    assert!(check.consecutive_failures >= 2, "{check:?}");
    let failing = health.answers().iter().filter(|(_, ok)| !ok).count();
    assert!(
        (2..=3).contains(&failing),
        "probing stops soon after the threshold: {failing} failing answers"
    );
}

#[tokio::test]
async fn new_revision_never_ready_fails_at_the_progress_deadline_and_rolls_back() {
    let harness = Harness::start().await;
    harness.application(1).await;
    let new = harness.revision_of("shop/web:never").await;
    harness
        .simulation
        .script(NAMESPACE, &new, PodScript::default().never_ready(true));
    harness
        .rollout(
            "web-never",
            "shop/web:never",
            json!({"strategy": {"allAtOnce": {}, "blueGreen": {"terminationWait": "1s"}}, "progressDeadlineSeconds": 30}),
        )
        .await;
    let record = harness
        .wait_phase("web-never", DeploymentPhase::Failed, 50)
        .await;
    let status = record.status.unwrap();
    assert!(
        status
            .message
            .as_deref()
            .unwrap_or("")
            .contains("progress deadline"),
        "{:?}",
        status.message
    );
    assert_eq!(
        status.rollback.unwrap().reason,
        AutoRollbackEvent::DeploymentFailure
    );
    harness.assert_production_on_stable().await;
    assert_eq!(harness.revisions().await.get(&new), Some(&0));
}

#[tokio::test]
async fn stop_with_rollback_restores_all_traffic_to_the_stable_revision() {
    let harness = Harness::start().await;
    harness.canary_held_at_half(json!({})).await;
    harness
        .control(
            "web-v2",
            json!({"stop": {"rollback": true, "reason": "bad metrics"}}),
        )
        .await;
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Stopped, 20)
        .await;
    assert_eq!(harness.weights().await, (100, 0));
    harness.assert_production_on_stable().await;
    let rollback = record.status.unwrap().rollback.unwrap();
    assert_eq!(rollback.reason, AutoRollbackEvent::DeploymentStopOnRequest);
    assert_eq!(rollback.message.as_deref(), Some("bad metrics"));
}

#[tokio::test]
async fn http_hook_refusing_fails_the_rollout_with_its_answer_and_rolls_back() {
    let harness = Harness::start().await;
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = calls.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async {
                (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "migration refused",
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    harness.application(1).await;
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({
                "strategy": {"allAtOnce": {}, "blueGreen": {"terminationWait": "1s"}},
                "hooks": {"afterInstall": {"timeout": "10s", "http": {"url": url}}}
            }),
        )
        .await;
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Failed, 30)
        .await;
    let status = record.status.unwrap();
    let event = status
        .lifecycle_events
        .iter()
        .find(|event| format!("{:?}", event.name) == "AfterInstall")
        .expect("the AfterInstall event");
    assert_eq!(format!("{:?}", event.status), "Failed");
    assert!(
        event
            .message
            .as_deref()
            .unwrap_or("")
            .contains("migration refused"),
        "{event:?}"
    );
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "called once"
    );
    harness.assert_production_on_stable().await;
}

#[tokio::test]
async fn unknown_container_stalls_with_the_field_named_and_creates_nothing() {
    let harness = Harness::start().await;
    harness.application(1).await;
    let spec: slipway::api::deployment::DeploymentSpec = serde_json::from_value(json!({
        "target": {"service": "web", "workload": "web"},
        "revision": {"images": [{"container": "sidecar", "image": "shop/sidecar:2"}]}
    }))
    .unwrap();
    harness
        .records()
        .create(
            &kube::api::PostParams::default(),
            &slipway::api::Deployment::new("web-bad", spec),
        )
        .await
        .unwrap();
    harness
        .eventually("the invalid spec", 10, || async {
            super::condition(&harness.record("web-bad").await, "Stalled")
                == Some(("True".into(), "InvalidSpec".into()))
        })
        .await;
    let message = harness
        .record("web-bad")
        .await
        .status
        .unwrap()
        .message
        .unwrap();
    assert!(message.contains("spec.revision.images"), "{message}");
    assert!(message.contains("sidecar"), "{message}");
    assert!(harness.revisions().await.is_empty(), "no revision created");
    assert_eq!(
        harness.event_reasons("web-bad").await,
        vec!["InvalidSpec".to_owned()]
    );
}

#[tokio::test]
async fn stop_without_rollback_leaves_traffic_where_it_was() {
    let harness = Harness::start().await;
    harness.canary_held_at_half(json!({})).await;
    harness
        .control(
            "web-v2",
            json!({"stop": {"rollback": false, "reason": "hold"}}),
        )
        .await;
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Stopped, 20)
        .await;
    assert_eq!(
        harness.weights().await,
        (50, 50),
        "a stop without rollback moves no traffic"
    );
    assert!(record.status.unwrap().rollback.is_none());
}
