//! Lifecycle hooks: HTTP hooks against a local server, Job hooks against the simulated cluster.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use serde_json::json;
use slipway::api::Deployment as DeploymentRecord;
use slipway::api::common::NameValue;
use slipway::api::deployment::{HttpHook, HttpMethod, LifecycleEvent, LifecycleEventState};
use slipway::rollout::hook_runner::{
    HookRun, call_http_hook, hook_job_name, hook_job_outcome, start_hook_job,
};
use slipway::rollout::job_run::{JobOwner, read_job};
use slipway_testcluster::TestCluster;
use slipway_testcluster::simulate::SimulationConfig;

use crate::{eventually, serve};

fn owner() -> JobOwner {
    JobOwner {
        name: "web-rollout".into(),
        namespace: "default".into(),
        uid: "u-1".into(),
    }
}

fn hook(url: String, method: HttpMethod) -> HttpHook {
    HttpHook {
        url,
        method,
        headers: vec![NameValue {
            name: "authorization".into(),
            value: "Bearer hook-token".into(),
        }],
    }
}

#[tokio::test]
async fn http_hook_succeeds_on_2xx_and_receives_the_event() {
    let seen: Arc<Mutex<Vec<(String, serde_json::Value)>>> = Arc::default();
    let base = serve(Router::new().route(
        "/hook",
        post({
            let seen = seen.clone();
            move |headers: HeaderMap, body: String| async move {
                let token = headers["authorization"].to_str().unwrap().to_owned();
                seen.lock()
                    .unwrap()
                    .push((token, serde_json::from_str(&body).unwrap()));
                (StatusCode::ACCEPTED, "validated 12 endpoints")
            }
        }),
    ))
    .await;
    let owner = owner();
    let run = HookRun {
        owner: &owner,
        event: LifecycleEvent::AfterAllowTestTraffic,
        revision: "abc123",
        attempt: 0,
    };
    let outcome = call_http_hook(
        &hook(format!("{base}/hook"), HttpMethod::Post),
        &run,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(outcome.state, LifecycleEventState::Succeeded);
    assert_eq!(
        outcome.message,
        "AfterAllowTestTraffic hook answered HTTP 202: validated 12 endpoints"
    );
    assert!(
        !outcome.message.contains("hook-token"),
        "headers stay secret"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [(
            "Bearer hook-token".to_owned(),
            json!({"deployment": "web-rollout", "namespace": "default", "uid": "u-1",
                   "revision": "abc123", "lifecycleEvent": "AfterAllowTestTraffic", "attempt": 0})
        )]
    );
}

#[tokio::test]
async fn http_hook_fails_on_500_with_the_start_of_the_body() {
    let reason = format!("smoke test failed: {}", "x".repeat(400));
    let base = serve(Router::new().route(
        "/hook",
        axum::routing::put({
            let reason = reason.clone();
            move || async move { (StatusCode::INTERNAL_SERVER_ERROR, reason) }
        }),
    ))
    .await;
    let owner = owner();
    let run = HookRun {
        owner: &owner,
        event: LifecycleEvent::BeforeAllowTraffic,
        revision: "abc123",
        attempt: 1,
    };
    let outcome = call_http_hook(
        &hook(format!("{base}/hook"), HttpMethod::Put),
        &run,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(outcome.state, LifecycleEventState::Failed);
    let expected: String = reason.chars().take(200).collect();
    assert_eq!(
        outcome.message,
        format!("BeforeAllowTraffic hook answered HTTP 500: {expected}")
    );
}

#[tokio::test]
async fn http_hook_fails_when_it_does_not_answer_within_its_timeout() {
    let base = serve(Router::new().route(
        "/hook",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            "too late"
        }),
    ))
    .await;
    let owner = owner();
    let run = HookRun {
        owner: &owner,
        event: LifecycleEvent::BeforeInstall,
        revision: "abc123",
        attempt: 0,
    };
    let started = std::time::Instant::now();
    let outcome = call_http_hook(
        &hook(format!("{base}/hook"), HttpMethod::Get),
        &run,
        Duration::from_millis(300),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(outcome.state, LifecycleEventState::Failed);
    assert!(
        outcome
            .message
            .starts_with("BeforeInstall hook failed: unable to call")
            && outcome.message.contains("no answer within 300ms"),
        "{}",
        outcome.message
    );
}

fn crds_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds")
}

/// Creates a `deployments.slipway.dev` record and returns it as the server stored it (with UID).
pub async fn create_record(cluster: &TestCluster, name: &str) -> DeploymentRecord {
    cluster.apply_crds_from(crds_dir()).expect("the CRDs apply");
    let api: Api<DeploymentRecord> = Api::namespaced(cluster.client(), "default");
    let record: DeploymentRecord = serde_json::from_value(json!({
        "apiVersion": "slipway.dev/v1alpha1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"target": {"service": "web", "workload": "web"},
                 "revision": {"images": [{"container": "web", "image": "web:2"}]}}
    }))
    .unwrap();
    api.create(&PostParams::default(), &record)
        .await
        .expect("the record is created")
}

fn job_spec(annotations: serde_json::Value) -> JobSpec {
    serde_json::from_value(json!({
        "template": {
            "metadata": {"annotations": annotations},
            "spec": {"containers": [{"name": "smoke", "image": "busybox", "command": ["true"]}]}
        }
    }))
    .unwrap()
}

async fn outcome_when_done(cluster: &TestCluster, name: &str) -> (LifecycleEventState, String) {
    let client = cluster.client();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let job = read_job(&client, "default", name)
            .await
            .unwrap()
            .expect("the Job exists");
        let outcome = hook_job_outcome(&job);
        if outcome.state != LifecycleEventState::InProgress {
            return (outcome.state, outcome.message);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for Job {name}: {}",
            outcome.message
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn job_hooks_succeed_fail_and_time_out_as_their_jobs_do() {
    let cluster = TestCluster::start().await;
    let _simulation = cluster.simulate(SimulationConfig::default());
    let record = create_record(&cluster, "web-rollout").await;
    let owner = JobOwner::of(&record).unwrap();
    let client = cluster.client();
    let cases = [
        (
            LifecycleEvent::BeforeInstall,
            json!({}),
            Duration::from_secs(60),
            LifecycleEventState::Succeeded,
            "succeeded (CompletionsReached",
        ),
        (
            LifecycleEvent::AfterInstall,
            json!({"testcluster.slipway.dev/job-outcome": "fail", "testcluster.slipway.dev/exit-code": "3"}),
            Duration::from_secs(60),
            LifecycleEventState::Failed,
            "failed: BackoffLimitExceeded",
        ),
        (
            LifecycleEvent::BeforeAllowTraffic,
            json!({"testcluster.slipway.dev/complete-after": "30s"}),
            Duration::from_secs(1),
            LifecycleEventState::Failed,
            "hook timed out after 1s (hook Job",
        ),
    ];
    for (event, annotations, timeout, state, message) in cases {
        let run = HookRun {
            owner: &owner,
            event,
            revision: "abc123",
            attempt: 0,
        };
        let job = start_hook_job(&client, &run, &job_spec(annotations), timeout)
            .await
            .unwrap();
        assert_eq!(
            job.metadata.name.as_deref(),
            Some(hook_job_name(&run).as_str())
        );
        let (got_state, got_message) = outcome_when_done(&cluster, &hook_job_name(&run)).await;
        assert_eq!(got_state, state, "{event:?}: {got_message}");
        assert!(got_message.contains(message), "{event:?}: {got_message}");
    }
}

#[tokio::test]
async fn a_restarted_controller_finds_its_hook_job_and_deleting_the_record_removes_it() {
    let cluster = TestCluster::start().await;
    let record = create_record(&cluster, "web-rollout").await;
    let owner = JobOwner::of(&record).unwrap();
    let client = cluster.client();
    let run = HookRun {
        owner: &owner,
        event: LifecycleEvent::AfterAllowTraffic,
        revision: "abc123",
        attempt: 0,
    };
    let first = start_hook_job(&client, &run, &job_spec(json!({})), Duration::from_secs(60))
        .await
        .unwrap();
    let again = start_hook_job(&client, &run, &job_spec(json!({})), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        first.metadata.uid, again.metadata.uid,
        "the same Job, not a second"
    );
    let jobs: Api<Job> = Api::default_namespaced(client.clone());
    assert_eq!(jobs.list(&Default::default()).await.unwrap().items.len(), 1);

    // Another record's run with the same name is refused (a Job is matched by owner UID).
    let stranger = JobOwner {
        uid: "someone-else".into(),
        ..owner.clone()
    };
    let mut clash = slipway::rollout::hook_runner::render_hook_job(
        &HookRun {
            owner: &stranger,
            ..run.clone()
        },
        &job_spec(json!({})),
        Duration::from_secs(60),
    );
    clash.metadata.name = first.metadata.name.clone();
    let error = slipway::rollout::job_run::ensure_job(&client, &stranger, &clash)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("is not owned by"), "{error}");

    let records: Api<DeploymentRecord> = Api::default_namespaced(client.clone());
    records
        .delete("web-rollout", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the hook Job to be garbage-collected", 10, || {
        let jobs = jobs.clone();
        async move {
            jobs.list(&Default::default())
                .await
                .unwrap()
                .items
                .is_empty()
        }
    })
    .await;
}
