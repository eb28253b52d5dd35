//! Fault injection and the request log, from Rust and over the admin endpoint.

mod common;

use std::time::{Duration, Instant};

use common::{api_error, create_small, widget_cluster, widgets};
use kube::api::{ListParams, PostParams};
use serde_json::json;
use slipway_testcluster::Fault;

#[tokio::test]
async fn injected_errors_answer_with_the_requested_code_a_number_of_times() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    create_small(&api, "demo").await;
    cluster.faults().inject(
        Fault::error(500)
            .verb("get")
            .resource("widgets")
            .name("demo")
            .times(1),
    );
    let status = api_error(api.get("demo").await.unwrap_err());
    assert_eq!(
        (status.code, status.reason.as_str()),
        (500, "InternalError")
    );
    api.get("demo").await.unwrap();
    cluster.faults().inject(
        Fault::error(409)
            .verb("update")
            .resource("widgets.test.slipway.dev")
            .times(1),
    );
    let current = api.get("demo").await.unwrap();
    let status = api_error(
        api.replace("demo", &PostParams::default(), &current)
            .await
            .unwrap_err(),
    );
    assert_eq!(status.code, 409);
    assert!(
        status
            .message
            .starts_with("Operation cannot be fulfilled on widgets.test.slipway.dev \"demo\"")
    );
}

#[tokio::test]
async fn too_many_requests_are_retried_by_the_client_and_logged() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    cluster.requests().clear();
    cluster
        .faults()
        .inject(Fault::error(429).verb("list").times(1));
    api.list(&ListParams::default()).await.unwrap();
    let codes: Vec<u16> = cluster
        .requests()
        .matching(|record| record.verb == "list" && record.resource == "widgets")
        .iter()
        .map(|record| record.code)
        .collect();
    assert_eq!(codes, [429, 200], "kube retries a 429 by default");
}

#[tokio::test]
async fn delays_slow_matching_requests() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    cluster
        .faults()
        .inject(Fault::delay(Duration::from_millis(300)).verb("list"));
    let started = Instant::now();
    api.list(&ListParams::default()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    cluster.faults().clear();
}

#[tokio::test]
async fn probability_zero_never_fires() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    cluster.faults().inject(Fault::error(500).probability(0.0));
    for _ in 0..5 {
        api.list(&ListParams::default()).await.unwrap();
    }
}

#[tokio::test]
async fn the_request_log_counts_calls_and_writes_per_object() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    cluster.requests().clear();
    create_small(&api, "demo").await;
    api.patch(
        "demo",
        &kube::api::PatchParams {
            field_manager: Some("tester".into()),
            ..Default::default()
        },
        &kube::api::Patch::Merge(json!({"spec": {"replicas": 2}})),
    )
    .await
    .unwrap();
    api.get("demo").await.unwrap();
    assert_eq!(
        cluster
            .requests()
            .writes_to("widgets", Some("default"), "demo"),
        1 + 1
    );
    assert_eq!(cluster.requests().count("get", "widgets"), 1);
    let patch = cluster
        .requests()
        .matching(|record| record.verb == "patch")
        .pop()
        .unwrap();
    assert_eq!(
        patch.patch_type.as_deref(),
        Some("application/merge-patch+json")
    );
    assert_eq!(patch.field_manager.as_deref(), Some("tester"));
    assert_eq!(patch.namespace.as_deref(), Some("default"));
    let create = cluster
        .requests()
        .matching(|record| record.verb == "create")
        .pop()
        .unwrap();
    assert_eq!(
        (create.code, create.group.as_str()),
        (201, "test.slipway.dev")
    );
}

#[tokio::test]
async fn the_admin_endpoint_drives_faults_and_reads_the_log() {
    let cluster = widget_cluster().await;
    let client = cluster.client();
    let request = |method: &str, path: &str, body: serde_json::Value| {
        axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap())
            .unwrap()
    };
    let answer = client
        .request_text(request(
            "POST",
            "/_testcluster/faults",
            json!({"code": 500, "verb": "list", "resource": "widgets", "count": 1}),
        ))
        .await
        .unwrap();
    assert!(answer.contains("\"id\""));
    let api = widgets(&cluster);
    assert_eq!(
        api_error(api.list(&ListParams::default()).await.unwrap_err()).code,
        500
    );
    api.list(&ListParams::default()).await.unwrap();
    let log: Vec<serde_json::Value> = serde_json::from_str(
        &client
            .request_text(request("GET", "/_testcluster/requests", json!({})))
            .await
            .unwrap(),
    )
    .unwrap();
    let lists: Vec<&serde_json::Value> = log
        .iter()
        .filter(|record| record["verb"] == "list")
        .collect();
    assert_eq!(lists.len(), 2);
    assert_eq!(lists[0]["code"], 500);
    client
        .request_text(request("POST", "/_testcluster/history/compact", json!({})))
        .await
        .unwrap();
    client
        .request_text(request(
            "PUT",
            "/_testcluster/history/window",
            json!({"size": 5}),
        ))
        .await
        .unwrap();
    client
        .request_text(request("POST", "/_testcluster/watches/drop", json!({})))
        .await
        .unwrap();
    client
        .request_text(request("DELETE", "/_testcluster/requests", json!({})))
        .await
        .unwrap();
    assert!(cluster.requests().all().len() <= 1);
}
