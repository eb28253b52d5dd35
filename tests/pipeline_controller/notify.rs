//! Notifications end to end: a run's state changes reach a CloudEvents sink and a signed JSON
//! webhook sink served on loopback, each exactly the notices the sink asks for, in order, with
//! a stable id; a sink that fails is retried with backoff without holding the run up, and its
//! failure is visible in the run's status without the URL's secret query.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use slipway::api::execution::NotificationProgress;

use super::*;

/// One request a sink received.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Value,
    raw: Vec<u8>,
}

#[derive(Clone, Default)]
struct Sink {
    received: Arc<Mutex<Vec<Received>>>,
    /// Requests answered 503 before the sink starts taking them.
    refuse_first: Arc<Mutex<usize>>,
}

async fn take(State(sink): State<Sink>, headers: HeaderMap, body: Bytes) -> StatusCode {
    {
        let mut refuse = sink.refuse_first.lock().unwrap();
        if *refuse > 0 {
            *refuse -= 1;
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    sink.received.lock().unwrap().push(Received {
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        raw: body.to_vec(),
    });
    StatusCode::ACCEPTED
}

/// Serves `sink` on a free loopback port; returns its base URL.
async fn serve(sink: Sink) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/events", post(take))
        .with_state(sink);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

fn two_job_pipeline(notifications: Value) -> Value {
    let job = |name: &str| json!({"name": name, "job": {"template": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}});
    json!({
        "source": {"git": {"url": "https://git.test/shop/web.git", "pollInterval": "0s"}},
        "stages": [
            {"name": "One", "actions": [job("a")]},
            {"name": "Two", "actions": [job("b")]}
        ],
        "notifications": notifications
    })
}

async fn wait_progress(
    harness: &Harness,
    run: &str,
    what: &str,
    done: impl Fn(&[NotificationProgress]) -> bool,
) -> Vec<NotificationProgress> {
    harness
        .wait_run(run, what, 60, |run| {
            run.status
                .as_ref()
                .is_some_and(|status| done(&status.notifications))
        })
        .await
        .status
        .unwrap()
        .notifications
}

#[tokio::test]
async fn a_run_notifies_each_sink_of_what_it_asks_for_once_in_order() {
    let harness = Harness::start().await;
    let cloud = Sink::default();
    let hook = Sink::default();
    let cloud_url = serve(cloud.clone()).await;
    let hook_url = serve(hook.clone()).await;
    harness.secret("notify", &[("hmac", "notify-secret")]).await;
    harness
        .pipeline(
            "notified",
            two_job_pipeline(json!([
                {"name": "events", "url": format!("{cloud_url}/events")},
                {"name": "chat", "url": format!("{hook_url}/events"), "format": "Webhook", "on": ["Execution"],
                 "secretRef": {"name": "notify", "key": "hmac"}}
            ])),
        )
        .await;
    harness
        .start_run(
            "notified",
            "notified-1",
            "0123456789abcdef0123456789abcdef01234567",
        )
        .await;
    harness
        .wait_phase("notified-1", ExecutionStatus::Succeeded, 60)
        .await;
    let progress = wait_progress(&harness, "notified-1", "both sinks up to date", |all| {
        all.iter()
            .any(|p| p.name == "events" && p.delivered.contains(&"run:Succeeded".to_owned()))
            && all
                .iter()
                .any(|p| p.name == "chat" && p.delivered.contains(&"run:Succeeded".to_owned()))
    })
    .await;

    let expected = [
        "dev.slipway.pipeline.execution.started",
        "dev.slipway.pipeline.stage.started",
        "dev.slipway.pipeline.action.started",
        "dev.slipway.pipeline.action.succeeded",
        "dev.slipway.pipeline.stage.succeeded",
        "dev.slipway.pipeline.stage.started",
        "dev.slipway.pipeline.action.started",
        "dev.slipway.pipeline.action.succeeded",
        "dev.slipway.pipeline.stage.succeeded",
        "dev.slipway.pipeline.execution.succeeded",
    ];
    let received = cloud.received.lock().unwrap().clone();
    let types: Vec<&str> = received
        .iter()
        .map(|r| r.headers["ce-type"].to_str().unwrap())
        .collect();
    // Notices become known as the run moves; each arrives once and in telling order.
    assert_eq!(types, expected, "CloudEvents received");
    let ids: std::collections::BTreeSet<&str> = received
        .iter()
        .map(|r| r.headers["ce-id"].to_str().unwrap())
        .collect();
    assert_eq!(ids.len(), expected.len(), "every notice has its own id");
    let last = received.last().unwrap();
    assert_eq!(last.headers["ce-specversion"], "1.0");
    assert_eq!(last.headers["ce-subject"], "notified-1");
    assert_eq!(
        last.headers["ce-source"],
        "/apis/slipway.dev/v1alpha1/namespaces/default/pipelines/notified"
    );
    assert_eq!(last.body["execution"], "notified-1");
    assert_eq!(last.body["status"], "Succeeded");
    assert_eq!(
        last.body["revision"],
        "0123456789abcdef0123456789abcdef01234567"
    );

    let chat = hook.received.lock().unwrap().clone();
    let chat_types: Vec<&str> = chat
        .iter()
        .map(|r| r.body["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        chat_types,
        [
            "dev.slipway.pipeline.execution.started",
            "dev.slipway.pipeline.execution.succeeded"
        ],
        "the chat sink asked for the run's start and end only"
    );
    for request in &chat {
        let signature = request.headers["x-slipway-signature-256"].to_str().unwrap();
        assert_eq!(
            signature,
            slipway::trigger::signature::sign(b"notify-secret", &request.raw),
            "the webhook body is signed with the Secret's key"
        );
    }
    let events = progress.iter().find(|p| p.name == "events").unwrap();
    assert_eq!(events.delivered.len(), expected.len());
    assert_eq!(events.failures, 0);
}

#[tokio::test]
async fn a_failing_sink_is_retried_with_backoff_and_never_holds_the_run_up() {
    let harness = Harness::start().await;
    let sink = Sink::default();
    *sink.refuse_first.lock().unwrap() = 2;
    let url = serve(sink.clone()).await;
    harness
        .pipeline(
            "flaky",
            two_job_pipeline(json!([
                {"name": "flaky", "url": format!("{url}/events?token=do-not-show"), "on": ["Execution"]},
                {"name": "down", "url": "http://127.0.0.1:9/events?token=do-not-show", "on": ["Execution"]}
            ])),
        )
        .await;
    harness
        .start_run(
            "flaky",
            "flaky-1",
            "0123456789abcdef0123456789abcdef01234567",
        )
        .await;
    // The run ends on its own time while both sinks fail.
    harness
        .wait_phase("flaky-1", ExecutionStatus::Succeeded, 60)
        .await;
    let progress = wait_progress(&harness, "flaky-1", "the flaky sink to catch up", |all| {
        all.iter().any(|p| {
            p.name == "flaky"
                && p.delivered == ["run:started".to_owned(), "run:Succeeded".to_owned()]
        })
    })
    .await;
    let flaky = progress.iter().find(|p| p.name == "flaky").unwrap();
    assert_eq!(flaky.failures, 0, "a delivery resets the count");
    assert_eq!(flaky.last_error, None);
    let received = sink.received.lock().unwrap().clone();
    assert_eq!(
        received
            .iter()
            .map(|r| r.headers["ce-type"].to_str().unwrap())
            .collect::<Vec<_>>(),
        [
            "dev.slipway.pipeline.execution.started",
            "dev.slipway.pipeline.execution.succeeded"
        ],
        "refused notices are sent again, and each accepted one once"
    );
    let progress = wait_progress(&harness, "flaky-1", "the dead sink's failure", |all| {
        all.iter().any(|p| p.name == "down" && p.failures >= 1)
    })
    .await;
    let down = progress.iter().find(|p| p.name == "down").unwrap();
    assert!(down.delivered.is_empty());
    let error = down.last_error.as_deref().unwrap();
    assert!(error.contains("http://127.0.0.1:9"), "{error}");
    assert!(
        !error.contains("do-not-show"),
        "the URL's query stays out: {error}"
    );
}
