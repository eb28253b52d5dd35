//! Health checks of every kind gate a rollout and roll it back when they fail: a Prometheus
//! query (against a local server answering like Prometheus), a check run as a Job, the new
//! revision's readiness, and an HTTP check failing during the termination wait.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::api::ListParams;
use serde_json::json;
use slipway::api::deployment::{AutoRollbackEvent, DeploymentPhase, HealthResult};
use slipway::rollout::job_run::job_outcome;
use slipway_testcluster::simulate::PodScript;

use super::{Harness, HealthServer, NAMESPACE, STABLE_IMAGE, hash_of};

/// A local server answering `GET /api/v1/query` as Prometheus does, with one series whose
/// value the test sets; it remembers every query it was asked.
#[derive(Clone)]
struct PrometheusServer {
    address: String,
    value: Arc<Mutex<f64>>,
    queries: Arc<Mutex<Vec<String>>>,
}

impl PrometheusServer {
    async fn start(value: f64) -> Self {
        let value = Arc::new(Mutex::new(value));
        let queries: Arc<Mutex<Vec<String>>> = Arc::default();
        let (current, log) = (value.clone(), queries.clone());
        let router = axum::Router::new().route(
            "/api/v1/query",
            axum::routing::get(move |uri: axum::http::Uri| {
                let (current, log) = (current.clone(), log.clone());
                async move {
                    let query = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                        .find(|(key, _)| key == "query")
                        .map(|(_, query)| query.into_owned())
                        .unwrap_or_default();
                    log.lock().unwrap().push(query);
                    let value = *current.lock().unwrap();
                    axum::Json(json!({
                        "status": "success",
                        "data": {"resultType": "vector", "result": [
                            {"metric": {"job": "web"}, "value": [1_800_000_000.0, value.to_string()]}
                        ]}
                    }))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        PrometheusServer {
            address,
            value,
            queries,
        }
    }

    fn set(&self, value: f64) {
        *self.value.lock().unwrap() = value;
    }

    fn queries(&self) -> Vec<String> {
        self.queries.lock().unwrap().clone()
    }
}

fn error_rate_check(prometheus: &PrometheusServer) -> serde_json::Value {
    json!({
        "name": "error-rate",
        "prometheus": {
            "address": prometheus.address,
            "query": "sum(rate(http_errors{revision=\"{{revision}}\",namespace=\"{{namespace}}\"}[1m]))",
            "successCondition": "result < 0.05"
        },
        "interval": "1s", "timeout": "1s", "failureThreshold": 2
    })
}

#[tokio::test]
async fn prometheus_metric_turning_bad_mid_bake_rolls_back_naming_the_check() {
    let harness = Harness::start().await;
    let prometheus = PrometheusServer::start(0.01).await;
    harness
        .canary_held_at_half(json!({
            "strategy": {"canary": {"percent": 50, "interval": "5m"}, "blueGreen": {"terminationWait": "1s"}},
            "healthChecks": [error_rate_check(&prometheus)]
        }))
        .await;
    harness.first_check_healthy("web-v2", 10).await;
    prometheus.set(0.5);
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Failed, 20)
        .await;

    assert_eq!(harness.weights().await, (100, 0));
    harness.assert_production_on_stable().await;
    let new = harness.revision_of("shop/web:2").await;
    assert_eq!(harness.revisions().await.get(&new), Some(&0));
    let status = record.status.unwrap();
    let rollback = status.rollback.unwrap();
    assert_eq!(rollback.reason, AutoRollbackEvent::HealthCheckFailure);
    let why = rollback.message.unwrap_or_default();
    assert!(why.contains("health check error-rate"), "{why}");
    assert!(why.contains("result < 0.05 does not hold"), "{why}");
    assert!(why.contains("0.5"), "the value seen: {why}");
    let check = &status.health_checks[0];
    assert_eq!(check.result, HealthResult::Unhealthy);
    assert!(check.consecutive_failures >= 2, "{check:?}");
    let queries = prometheus.queries();
    let expected = format!(
        "sum(rate(http_errors{{revision=\"{}\",namespace=\"{NAMESPACE}\"}}[1m]))",
        hash_of(&new)
    );
    assert!(
        queries.iter().all(|query| *query == expected),
        "the revision and namespace are substituted: {queries:?}"
    );
}

#[tokio::test]
async fn prometheus_metric_fine_throughout_lets_the_canary_succeed() {
    let harness = Harness::start().await;
    let prometheus = PrometheusServer::start(0.01).await;
    harness.application(1).await;
    harness.route().await;
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({
                "target": {"service": "web", "workload": "web", "httpRoute": {"name": "web"}},
                "strategy": {"canary": {"percent": 50, "interval": "2s"}, "blueGreen": {"terminationWait": "1s"}},
                "healthChecks": [error_rate_check(&prometheus)]
            }),
        )
        .await;
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Succeeded, 30)
        .await;

    let new = hash_of(&harness.revision_of("shop/web:2").await);
    assert_eq!(
        harness.selector("web").await.get("slipway.dev/revision"),
        Some(&new)
    );
    assert_eq!(harness.weights().await, (100, 0));
    let status = record.status.unwrap();
    assert!(status.rollback.is_none());
    let check = &status.health_checks[0];
    assert_eq!(check.result, HealthResult::Healthy);
    assert_eq!(check.consecutive_failures, 0);
    let queries = prometheus.queries();
    assert!(
        check.probes >= 2,
        "the check ran through the bake: {check:?}"
    );
    assert!(
        queries.len() >= usize::try_from(check.probes).unwrap(),
        "each counted probe was a query: {queries:?}"
    );
    assert!(
        queries.iter().all(|query| query.contains(&new)),
        "{queries:?}"
    );
}

#[tokio::test]
async fn failing_job_check_rolls_back_naming_the_check() {
    let harness = Harness::start().await;
    // The check Job really runs here, and fails once this file exists. Its timeout leaves
    // room for a slow start on a loaded machine: a Job stopped by its deadline fails too.
    let marker = std::env::temp_dir().join(format!(
        "slipway-rollout-job-check-{}-failing",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&marker);
    let command = format!(
        "if [ -e {} ]; then echo '5 of 20 requests failed' >&2; exit 1; fi",
        marker.display()
    );
    harness
        .canary_held_at_half(json!({
            "strategy": {"canary": {"percent": 50, "interval": "5m"}, "blueGreen": {"terminationWait": "1s"}},
            "healthChecks": [{"name": "smoke", "interval": "2s", "timeout": "2s", "failureThreshold": 1, "job": {"template": {
                "metadata": {"annotations": {"testcluster.slipway.dev/run": "local"}},
                "spec": {"restartPolicy": "Never", "containers": [
                    {"name": "smoke", "image": "shop/smoke:1", "command": ["sh", "-c", command]}
                ]}
            }}}]
        }))
        .await;
    harness.first_check_healthy("web-v2", 20).await;
    std::fs::write(&marker, "").unwrap();
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Failed, 20)
        .await;
    let _ = std::fs::remove_file(&marker);

    assert_eq!(harness.weights().await, (100, 0));
    harness.assert_production_on_stable().await;
    let status = record.status.unwrap();
    let rollback = status.rollback.unwrap();
    assert_eq!(rollback.reason, AutoRollbackEvent::HealthCheckFailure);
    let why = rollback.message.unwrap_or_default();
    assert!(why.contains("health check smoke failed"), "{why}");
    assert!(why.contains("check Job"), "{why}");
    let check = &status.health_checks[0];
    assert_eq!(check.result, HealthResult::Unhealthy);
    let jobs = harness
        .jobs()
        .list(&ListParams::default().labels("slipway.dev/purpose=health-check"))
        .await
        .unwrap()
        .items;
    let outcomes: Vec<String> = jobs
        .iter()
        .map(|job| format!("{:?}", job_outcome(job)))
        .collect();
    assert_eq!(
        jobs.len(),
        usize::try_from(check.probes).unwrap(),
        "one Job per probe: {outcomes:?}"
    );
    assert!(
        outcomes.iter().any(|o| o.starts_with("Succeeded")),
        "{outcomes:?}"
    );
    assert!(
        outcomes.iter().any(|o| o.starts_with("Failed")),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn new_pods_going_unready_after_the_shift_roll_back_to_the_stable_revision() {
    let harness = Harness::start().await;
    harness
        .canary_held_at_half(json!({
            "strategy": {"canary": {"percent": 50, "interval": "5m"}, "blueGreen": {"terminationWait": "1s"}},
            "healthChecks": [{"name": "pods", "readiness": {}, "interval": "1s", "timeout": "1s", "failureThreshold": 2}]
        }))
        .await;
    let new = harness.revision_of("shop/web:2").await;
    let stable = harness.revision_of(STABLE_IMAGE).await;
    harness.first_check_healthy("web-v2", 10).await;
    harness.simulation.script(
        NAMESPACE,
        &new,
        PodScript::default().unready_after(Duration::ZERO),
    );
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Failed, 20)
        .await;

    assert_eq!(harness.weights().await, (100, 0), "all traffic back");
    assert_eq!(
        harness.selector("web").await.get("slipway.dev/revision"),
        Some(&hash_of(&stable))
    );
    let revisions = harness.revisions().await;
    assert_eq!(
        revisions.get(&stable),
        Some(&1),
        "the stable revision serves"
    );
    assert_eq!(
        revisions.get(&new),
        Some(&0),
        "the new revision is scaled down"
    );
    let status = record.status.unwrap();
    let rollback = status.rollback.unwrap();
    assert_eq!(rollback.reason, AutoRollbackEvent::HealthCheckFailure);
    let why = rollback.message.unwrap_or_default();
    assert!(why.contains("health check pods failed"), "{why}");
    assert!(why.contains("0/1 pods Ready"), "{why}");
    let reasons = harness.event_reasons("web-v2").await;
    assert!(reasons.iter().any(|r| r == "RolledBack"), "{reasons:?}");
}

#[tokio::test]
async fn health_check_failing_during_the_termination_wait_switches_back_to_the_kept_revision() {
    let harness = Harness::start().await;
    let health = HealthServer::start().await;
    harness.application(2).await;
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({
                "strategy": {"allAtOnce": {}, "blueGreen": {"terminationWait": "60s"}},
                "healthChecks": [{"name": "api", "http": {"url": health.url}, "interval": "1s", "timeout": "1s", "failureThreshold": 2}]
            }),
        )
        .await;
    harness
        .wait_phase("web-v2", DeploymentPhase::Baking, 20)
        .await;
    let new = harness.revision_of("shop/web:2").await;
    let stable = harness.revision_of(STABLE_IMAGE).await;
    assert_eq!(
        harness.selector("web").await.get("slipway.dev/revision"),
        Some(&hash_of(&new)),
        "all traffic moved"
    );
    assert_eq!(
        harness.revisions().await.get(&stable),
        Some(&2),
        "the old revision is kept at full size for the termination wait"
    );

    health.set_healthy(false);
    let failing_since = std::time::Instant::now();
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Failed, 20)
        .await;
    assert!(
        failing_since.elapsed() < Duration::from_secs(15),
        "rolled back at the failure, not at the end of the termination wait"
    );
    assert_eq!(
        harness.selector("web").await.get("slipway.dev/revision"),
        Some(&hash_of(&stable))
    );
    let revisions = harness.revisions().await;
    assert_eq!(revisions.get(&stable), Some(&2));
    assert_eq!(revisions.get(&new), Some(&0));
    let status = record.status.unwrap();
    assert_eq!(status.traffic_split.unwrap().canary, 0);
    let rollback = status.rollback.unwrap();
    assert_eq!(rollback.reason, AutoRollbackEvent::HealthCheckFailure);
    assert!(
        rollback
            .message
            .unwrap_or_default()
            .contains("health check api failed"),
    );
}
