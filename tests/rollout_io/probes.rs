//! Health-check probes against local HTTP servers, a fake Prometheus and the simulated cluster.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use k8s_openapi::api::apps::v1::Deployment as AppsDeployment;
use k8s_openapi::api::batch::v1::JobSpec;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::Api;
use kube::api::{ListParams, PostParams};
use serde_json::json;
use slipway::api::deployment::{ContainerImage, HttpCheck, PrometheusCheck, ReadinessCheck};
use slipway::rollout::job_run::{JobOwner, read_job};
use slipway::rollout::probes::{
    CheckRun, PodTarget, check_job_outcome, http_probe, pod_targets, prometheus_probe,
    readiness_probe, render_check_job, start_check_job,
};
use slipway::rollout::revision::render_revision;
use slipway::runtime::labels::REVISION_LABEL;
use slipway_testcluster::TestCluster;
use slipway_testcluster::simulate::SimulationConfig;

use crate::hooks::create_record;
use crate::serve;

fn http_check(value: serde_json::Value) -> HttpCheck {
    serde_json::from_value(value).unwrap()
}

#[tokio::test]
async fn http_probe_of_a_url_passes_on_expected_status_and_sends_headers() {
    let base = serve(
        Router::new()
            .route(
                "/health",
                get(|headers: HeaderMap| async move {
                    if headers
                        .get("x-probe")
                        .is_some_and(|value| value == "slipway")
                    {
                        (StatusCode::OK, "up")
                    } else {
                        (StatusCode::UNAUTHORIZED, "who are you")
                    }
                }),
            )
            .route(
                "/teapot",
                get(|| async { (StatusCode::IM_A_TEAPOT, "short and stout") }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    "late"
                }),
            ),
    )
    .await;
    let header = json!([{"name": "x-probe", "value": "slipway"}]);
    let cases = [
        (
            json!({"url": format!("{base}/health"), "headers": header}),
            true,
            format!("{base}/health answered HTTP 200"),
        ),
        (
            json!({"url": format!("{base}/health")}),
            false,
            format!("{base}/health answered HTTP 401: who are you"),
        ),
        (
            json!({"url": format!("{base}/teapot")}),
            false,
            format!("{base}/teapot answered HTTP 418: short and stout"),
        ),
        (
            json!({"url": format!("{base}/teapot"), "expectedStatuses": [418]}),
            true,
            format!("{base}/teapot answered HTTP 418"),
        ),
    ];
    for (check, passed, message) in cases {
        let outcome = http_probe(
            &http_check(check.clone()),
            &[],
            None,
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(
            (outcome.passed, outcome.message),
            (passed, message),
            "{check}"
        );
    }
    let started = std::time::Instant::now();
    let outcome = http_probe(
        &http_check(json!({"url": format!("{base}/slow")})),
        &[],
        None,
        Duration::from_millis(300),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "bounded by the timeout"
    );
    assert!(!outcome.passed);
    assert!(
        outcome.message.contains("no answer within 300ms"),
        "{}",
        outcome.message
    );
}

/// Starts the workload's first revision with `replicas` pods and returns its pods once the
/// simulated cluster reports them (Ready or not, as scripted by `annotations`).
async fn revision_pods(
    cluster: &TestCluster,
    replicas: i32,
    annotations: serde_json::Value,
    wait_ready: bool,
) -> (String, Vec<Pod>) {
    let workload: AppsDeployment = serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}, "annotations": annotations},
                "spec": {"containers": [{"name": "web", "image": "web:1"}]}
            }
        }
    }))
    .unwrap();
    let revision = render_revision(
        &workload,
        &[ContainerImage {
            container: "web".into(),
            image: "web:2".into(),
        }],
        replicas,
    )
    .unwrap();
    let deployments: Api<AppsDeployment> = Api::default_namespaced(cluster.client());
    deployments
        .create(&PostParams::default(), &revision.deployment)
        .await
        .expect("the revision's Deployment is created");
    let pods_api: Api<Pod> = Api::default_namespaced(cluster.client());
    let selector = format!("{REVISION_LABEL}={}", revision.hash);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let pods = pods_api
            .list(&ListParams::default().labels(&selector))
            .await
            .unwrap()
            .items;
        let ready = pods
            .iter()
            .filter(|pod| {
                pod.status
                    .as_ref()
                    .and_then(|status| status.conditions.as_ref())
                    .is_some_and(|conditions| {
                        conditions
                            .iter()
                            .any(|c| c.type_ == "Ready" && c.status == "True")
                    })
            })
            .count();
        let running = pod_targets(&pods).len();
        let settled = if wait_ready {
            ready == usize::try_from(replicas).unwrap()
        } else {
            running == usize::try_from(replicas).unwrap()
        };
        if settled {
            return (revision.hash, pods);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for the revision's pods"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn readiness_and_pod_probes_follow_the_revisions_pods() {
    let cluster = TestCluster::start().await;
    let _simulation = cluster.simulate(SimulationConfig::default());
    let (_, pods) = revision_pods(&cluster, 2, json!({}), true).await;
    let strict = ReadinessCheck { max_restarts: 0 };
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let outcome = readiness_probe(&strict, &pods, 2, now.clone());
    assert!(outcome.passed, "{}", outcome.message);
    assert_eq!(outcome.message, "2/2 pods Ready, 0 restart(s)");
    assert!(!readiness_probe(&strict, &pods, 3, now).passed);

    // Each simulated pod has a loopback IP: serve a health endpoint on each, one of them failing.
    let targets = pod_targets(&pods);
    assert_eq!(targets.len(), 2);
    let first = tokio::net::TcpListener::bind((targets[0].ip.as_str(), 0))
        .await
        .unwrap();
    let port = first.local_addr().unwrap().port();
    let second = tokio::net::TcpListener::bind((targets[1].ip.as_str(), port))
        .await
        .unwrap();
    let healthy = Router::new().route("/ready", get(|| async { "ok" }));
    let failing = Router::new().route(
        "/ready",
        get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "warming up") }),
    );
    tokio::spawn(async move { axum::serve(first, healthy).await });
    tokio::spawn(async move { axum::serve(second, failing).await });
    let check = http_check(json!({"path": "/ready"}));
    let outcome = http_probe(
        &check,
        &targets,
        Some(i32::from(port)),
        Duration::from_secs(5),
    )
    .await;
    assert!(!outcome.passed);
    assert_eq!(
        outcome.message,
        format!(
            "1 of 2 pods failed; pod {} answered HTTP 503: warming up",
            targets[1].name
        )
    );
    let outcome = http_probe(
        &check,
        &targets[..1],
        Some(i32::from(port)),
        Duration::from_secs(5),
    )
    .await;
    assert!(outcome.passed, "{}", outcome.message);
    assert_eq!(
        outcome.message,
        format!("pod {} answered HTTP 200", targets[0].name)
    );
    let nobody: [PodTarget; 0] = [];
    assert!(
        !http_probe(&check, &nobody, Some(80), Duration::from_secs(1))
            .await
            .passed
    );
}

#[tokio::test]
async fn readiness_fails_while_the_revision_never_becomes_ready() {
    let cluster = TestCluster::start().await;
    let _simulation = cluster.simulate(SimulationConfig::default());
    let (_, pods) = revision_pods(
        &cluster,
        2,
        json!({"testcluster.slipway.dev/never-ready": "true"}),
        false,
    )
    .await;
    let outcome = readiness_probe(
        &ReadinessCheck { max_restarts: 0 },
        &pods,
        2,
        Time(k8s_openapi::jiff::Timestamp::now()),
    );
    assert!(!outcome.passed);
    assert_eq!(outcome.message, "0/2 pods Ready, 0 restart(s)");
}

#[tokio::test]
async fn prometheus_probe_evaluates_the_condition_on_the_instant_query() {
    let queries: Arc<Mutex<Vec<String>>> = Arc::default();
    let base = serve(Router::new().route(
        "/api/v1/query",
        get({
            let queries = queries.clone();
            move |uri: axum::http::Uri| async move {
                let query = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                    .find(|(key, _)| key == "query")
                    .map(|(_, value)| value.into_owned())
                    .unwrap_or_default();
                queries.lock().unwrap().push(query.clone());
                if query.contains("broken(") {
                    return (
                        StatusCode::BAD_REQUEST,
                        json!({"status": "error", "errorType": "bad_data", "error": "1:1: parse error: unknown function"}).to_string(),
                    );
                }
                let value = if query.contains("errors") { "0.2" } else { "0.99" };
                (
                    StatusCode::OK,
                    json!({"status": "success", "data": {"resultType": "vector", "result": [
                        {"metric": {"revision": "abc123"}, "value": [1_764_133_200.0, value]}
                    ]}})
                    .to_string(),
                )
            }
        }),
    ))
    .await;
    let check = |query: &str, condition: &str| PrometheusCheck {
        address: format!("{base}/"),
        query: query.into(),
        success_condition: condition.into(),
    };
    let cases = [
        (
            check(
                r#"success_ratio{revision="{{revision}}",namespace="{{namespace}}"}"#,
                "result >= 0.95",
            ),
            true,
            "result >= 0.95 holds (result = 0.99)",
        ),
        (
            check(r#"errors{revision="{{revision}}"}"#, "result < 0.05"),
            false,
            "result < 0.05 does not hold (result = 0.2)",
        ),
        (
            check("broken(x)", "result < 0.05"),
            false,
            "Prometheus answered bad_data: 1:1: parse error: unknown function",
        ),
    ];
    for (check, passed, message) in cases {
        let outcome = prometheus_probe(&check, "abc123", "shop", Duration::from_secs(5)).await;
        assert_eq!(
            (outcome.passed, outcome.message.as_str()),
            (passed, message)
        );
    }
    assert_eq!(
        queries.lock().unwrap()[0],
        r#"success_ratio{revision="abc123",namespace="shop"}"#,
        "substituted and decoded intact"
    );
    let unreachable = prometheus_probe(
        &PrometheusCheck {
            address: "http://127.0.0.1:9".into(),
            query: "up".into(),
            success_condition: "result == 1.0".into(),
        },
        "abc123",
        "shop",
        Duration::from_secs(2),
    )
    .await;
    assert!(!unreachable.passed);
    assert!(
        unreachable
            .message
            .starts_with("unable to call http://127.0.0.1:9/api/v1/query"),
        "{}",
        unreachable.message
    );
}

#[tokio::test]
async fn job_check_reports_its_jobs_outcome() {
    let cluster = TestCluster::start().await;
    let _simulation = cluster.simulate(SimulationConfig::default());
    let record = create_record(&cluster, "web-rollout").await;
    let owner = JobOwner::of(&record).unwrap();
    let client = cluster.client();
    let spec = |outcome: &str| -> JobSpec {
        serde_json::from_value(json!({"template": {
            "metadata": {"annotations": {"testcluster.slipway.dev/job-outcome": outcome}},
            "spec": {"containers": [{"name": "smoke", "image": "busybox"}]}
        }}))
        .unwrap()
    };
    for (probe, outcome, passed) in [(0, "succeed", true), (1, "fail", false)] {
        let run = CheckRun {
            owner: &owner,
            check: "smoke",
            revision: "abc123",
            probe,
        };
        let job = start_check_job(&client, &run, &spec(outcome), Duration::from_secs(30))
            .await
            .unwrap();
        let name = job.metadata.name.clone().unwrap();
        assert_eq!(
            Some(name.clone()),
            render_check_job(&run, &spec(outcome), Duration::from_secs(30))
                .metadata
                .name
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let result = loop {
            let job = read_job(&client, "default", &name).await.unwrap().unwrap();
            if let Some(result) = check_job_outcome(&job, Time(k8s_openapi::jiff::Timestamp::now()))
            {
                break result;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for Job {name}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(result.passed, passed, "{}", result.message);
    }
}
