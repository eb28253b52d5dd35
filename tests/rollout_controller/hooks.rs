//! Lifecycle hooks: every hook succeeding in CodeDeploy's order, and a hook that never ends
//! timing out.

use std::sync::{Arc, Mutex};

use kube::api::ListParams;
use serde_json::{Value, json};
use slipway::api::deployment::{
    AutoRollbackEvent, DeploymentPhase, LifecycleEvent, LifecycleEventState,
};
use slipway::rollout::job_run::{JobOutcome, job_outcome};

use super::{Harness, STABLE_IMAGE, hash_of};

fn job_hook(annotations: Value) -> Value {
    json!({"timeout": "30s", "job": {"template": {
        "metadata": {"annotations": annotations},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "hook", "image": "shop/hook:1"}]}
    }}})
}

/// One call an HTTP hook server received: its body, and the revision production selected then.
type HookCall = (Value, Option<String>);

/// An HTTP hook endpoint answering 200 that records each call's body and what the production
/// Service selected at that moment.
async fn hook_server(harness: &Harness) -> (String, Arc<Mutex<Vec<HookCall>>>) {
    let calls: Arc<Mutex<Vec<HookCall>>> = Arc::default();
    let (log, services) = (calls.clone(), harness.services());
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let (log, services) = (log.clone(), services.clone());
            async move {
                let production = services
                    .get("web")
                    .await
                    .ok()
                    .and_then(|service| service.spec?.selector?.remove("slipway.dev/revision"));
                log.lock().unwrap().push((body, production));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, calls)
}

#[tokio::test]
async fn job_and_http_hooks_all_succeed_in_codedeploy_order() {
    let harness = Harness::start().await;
    let (url, calls) = hook_server(&harness).await;
    harness.application(1).await;
    let http_hook = json!({"timeout": "10s", "http": {"url": url}});
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({
                "target": {"service": "web", "testService": "web-preview", "workload": "web"},
                "strategy": {"allAtOnce": {}, "blueGreen": {"terminationWait": "1s"}},
                "hooks": {
                    "beforeInstall": job_hook(json!({})),
                    "afterInstall": http_hook,
                    "afterAllowTestTraffic": job_hook(json!({})),
                    "beforeAllowTraffic": http_hook,
                    "afterAllowTraffic": job_hook(json!({}))
                }
            }),
        )
        .await;
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Succeeded, 40)
        .await;

    let status = record.status.unwrap();
    let events: Vec<(LifecycleEvent, LifecycleEventState)> = status
        .lifecycle_events
        .iter()
        .map(|event| (event.name, event.status))
        .collect();
    use LifecycleEvent::*;
    assert_eq!(
        events,
        [
            BeforeInstall,
            Install,
            AfterInstall,
            AllowTestTraffic,
            AfterAllowTestTraffic,
            BeforeAllowTraffic,
            AllowTraffic,
            AfterAllowTraffic
        ]
        .map(|event| (event, LifecycleEventState::Succeeded)),
        "CodeDeploy's order, each Succeeded"
    );
    for pair in status.lifecycle_events.windows(2) {
        let (earlier, later) = (&pair[0], &pair[1]);
        let ended = earlier.end_time.as_ref().expect("an end time").0;
        let started = later.start_time.as_ref().expect("a start time").0;
        assert!(
            ended <= started,
            "{:?} ended before {:?} started",
            earlier.name,
            later.name
        );
    }

    let new = hash_of(&harness.revision_of("shop/web:2").await);
    let stable = hash_of(&harness.revision_of(STABLE_IMAGE).await);
    let calls = calls.lock().unwrap().clone();
    let called: Vec<(&str, Option<&str>)> = calls
        .iter()
        .map(|(body, production)| {
            (
                body["lifecycleEvent"].as_str().unwrap_or(""),
                production.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        called,
        [
            ("AfterInstall", Some(stable.as_str())),
            ("BeforeAllowTraffic", Some(stable.as_str()))
        ],
        "each HTTP hook called once, before production moved"
    );
    for (body, _) in &calls {
        assert_eq!(body["deployment"], "web-v2");
        assert_eq!(body["revision"], new.as_str());
    }

    let jobs = harness
        .jobs()
        .list(&ListParams::default().labels("slipway.dev/purpose=hook"))
        .await
        .unwrap()
        .items;
    let mut ran: Vec<String> = jobs
        .iter()
        .map(|job| {
            assert!(
                matches!(job_outcome(job), JobOutcome::Succeeded { .. }),
                "{:?}",
                job.status
            );
            let container = &job
                .spec
                .as_ref()
                .unwrap()
                .template
                .spec
                .as_ref()
                .unwrap()
                .containers[0];
            container
                .env
                .iter()
                .flatten()
                .find(|variable| variable.name == "SLIPWAY_LIFECYCLE_EVENT")
                .and_then(|variable| variable.value.clone())
                .unwrap_or_default()
        })
        .collect();
    ran.sort();
    assert_eq!(
        ran,
        [
            "AfterAllowTestTraffic",
            "AfterAllowTraffic",
            "BeforeInstall"
        ],
        "one Job per Job hook"
    );
    assert_eq!(
        harness.selector("web").await.get("slipway.dev/revision"),
        Some(&new)
    );
}

#[tokio::test]
async fn hook_job_that_never_ends_times_out_and_rolls_back() {
    let harness = Harness::start().await;
    harness.application(1).await;
    let mut hanging = job_hook(json!({"testcluster.slipway.dev/complete-after": "1h"}));
    hanging["timeout"] = json!("2s");
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({
                "strategy": {"allAtOnce": {}, "blueGreen": {"terminationWait": "1s"}},
                "hooks": {"afterAllowTraffic": hanging}
            }),
        )
        .await;
    let new = hash_of(&harness.revision_of("shop/web:2").await);
    harness
        .eventually("production on the new revision", 20, || async {
            harness.selector("web").await.get("slipway.dev/revision") == Some(&new)
        })
        .await;
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Failed, 20)
        .await;

    harness.assert_production_on_stable().await;
    let status = record.status.clone().unwrap();
    let rollback = status.rollback.clone().unwrap();
    assert_eq!(rollback.reason, AutoRollbackEvent::DeploymentFailure);
    let event = status
        .lifecycle_events
        .iter()
        .find(|event| event.name == LifecycleEvent::AfterAllowTraffic)
        .unwrap();
    let timed_out = "hook timed out after 2s";
    let why = rollback.message.unwrap_or_default();
    assert!(why.starts_with("AfterAllowTraffic hook"), "{why}");
    assert!(why.contains(timed_out), "{why}");
    assert_eq!(event.status, LifecycleEventState::Failed);
    assert!(
        event.message.as_deref().unwrap_or("").contains(timed_out),
        "{event:?}"
    );
    let child = event
        .child
        .as_ref()
        .expect("the hook Job is recorded")
        .name
        .clone();
    assert_eq!(
        harness
            .revisions()
            .await
            .get(&harness.revision_of("shop/web:2").await),
        Some(&0)
    );
    let reasons = harness.event_reasons("web-v2").await;
    assert!(reasons.iter().any(|r| r == "RolledBack"), "{reasons:?}");

    // Whichever clock ended it — the Job's deadline (the Job stays, Failed) or the
    // controller's timeout (the Job is deleted) — nothing of the hook runs on.
    if let Some(job) = harness.jobs().get_opt(&child).await.unwrap() {
        assert_eq!(
            job_outcome(&job),
            JobOutcome::Failed {
                message: "DeadlineExceeded: Job was active longer than specified deadline".into()
            },
            "{:?}",
            job.status
        );
    }
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(harness.cluster.client(), super::NAMESPACE);
    harness
        .eventually("no hook pod running", 10, || async {
            pods.list(&ListParams::default().labels(&format!("job-name={child}")))
                .await
                .unwrap()
                .items
                .iter()
                .all(|pod| {
                    pod.metadata.deletion_timestamp.is_some()
                        || pod.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Running")
                })
        })
        .await;
}
