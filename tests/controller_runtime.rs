//! `slipway controller` against the test cluster, through the real kube client: the preflight,
//! readiness after the watches sync, metrics, namespace scoping, shutdown (also before the first
//! list) and leader election.

use std::time::Duration;

use kube::Api;
use kube::api::{DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::json;
use slipway::runtime::{BuildOptions, ControllerOptions, Election, LogFormat, run_with_client};
use slipway_testcluster::TestCluster;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

fn crds_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds")
}

/// A free loopback port for the controller's health server.
fn free_address() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound address")
}

fn options(http_addr: std::net::SocketAddr, namespaces: &[&str]) -> ControllerOptions {
    ControllerOptions {
        http_addr,
        webhook_addr: free_address(),
        namespaces: namespaces
            .iter()
            .map(|namespace| (*namespace).to_owned())
            .collect(),
        leader_elect: false,
        leader_election_namespace: None,
        log_level: "info".into(),
        log_format: LogFormat::Text,
        build: BuildOptions::default(),
    }
}

/// `GET path` on the health server: status code and body, or `None` while it is not listening.
async fn get(address: std::net::SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let code = response.split(' ').nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Some((code, body))
}

/// Polls until `check` holds (or fails the test after ten seconds).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn pipelines(cluster: &TestCluster, namespace: &str) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(
        "slipway.dev",
        "v1alpha1",
        "Pipeline",
    ));
    Api::namespaced_with(cluster.client(), namespace, &resource)
}

fn pipeline(name: &str) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "slipway.dev/v1alpha1", "kind": "Pipeline", "metadata": {"name": name},
        "spec": {
            "source": {"git": {"url": "https://git.example.com/team/app.git"}},
            "stages": [
                {"name": "Build", "actions": [{"name": "Build", "build": {"environment": {"image": "alpine:3.20"}}}]},
                {"name": "Approve", "actions": [{"name": "Approve", "approval": {}}]}
            ]
        }
    }))
    .expect("a valid object")
}

#[tokio::test]
async fn missing_crds_stop_the_controller_with_the_install_command() {
    let cluster = TestCluster::start().await;
    let error = run_with_client(
        cluster.client(),
        options(free_address(), &[]),
        std::future::pending(),
    )
    .await
    .expect_err("the controller refuses to start without its CRDs");
    let text = error.to_string();
    assert!(
        text.contains("kubectl apply --server-side -f crds/"),
        "{text}"
    );
    assert!(text.contains("pipelines.slipway.dev"), "{text}");
}

#[tokio::test]
async fn readyz_turns_ready_after_the_watches_sync_and_metrics_count_objects() {
    let cluster = TestCluster::start().await;
    cluster.apply_crds_from(crds_dir()).expect("the CRDs apply");
    pipelines(&cluster, "default")
        .create(&PostParams::default(), &pipeline("web"))
        .await
        .unwrap();

    let address = free_address();
    let (stop, stopped) = oneshot::channel::<()>();
    let controller = tokio::spawn(run_with_client(
        cluster.client(),
        options(address, &[]),
        async {
            let _ = stopped.await;
        },
    ));
    eventually("/readyz to answer 200", || async {
        get(address, "/readyz")
            .await
            .is_some_and(|(code, _)| code == 200)
    })
    .await;
    assert_eq!(
        get(address, "/healthz").await.map(|(code, _)| code),
        Some(200)
    );
    let counted = |count: usize| async move {
        get(address, "/metrics").await.is_some_and(|(_, body)| {
            body.contains(&format!(
                "slipway_controller_watched_objects{{kind=\"Pipeline\"}} {count}"
            ))
        })
    };
    eventually("the Pipeline to be counted", || counted(1)).await;
    pipelines(&cluster, "default")
        .create(&PostParams::default(), &pipeline("api"))
        .await
        .unwrap();
    eventually("the new Pipeline to be counted", || counted(2)).await;

    stop.send(()).expect("the controller is running");
    tokio::time::timeout(Duration::from_secs(10), controller)
        .await
        .expect("shutdown completes")
        .expect("no panic")
        .expect("a clean exit");
    assert!(
        get(address, "/healthz").await.is_none(),
        "the health server stopped"
    );
}

#[tokio::test]
async fn a_controller_stopped_right_after_it_starts_exits_within_seconds() {
    let cluster = TestCluster::start().await;
    cluster.apply_crds_from(crds_dir()).expect("the CRDs apply");
    let (stop, stopped) = oneshot::channel::<()>();
    let controller = tokio::spawn(run_with_client(
        cluster.client(),
        options(free_address(), &[]),
        async {
            let _ = stopped.await;
        },
    ));
    // Stopped before any watch has listed: every controller must end without its first list.
    stop.send(())
        .expect("the controller task holds the receiver");
    tokio::time::timeout(Duration::from_secs(5), controller)
        .await
        .expect("every controller ends within 5 s of the stop")
        .expect("no panic")
        .expect("a clean exit");
}

#[tokio::test]
async fn a_namespaced_controller_sees_only_its_namespaces() {
    let cluster = TestCluster::start().await;
    cluster.apply_crds_from(crds_dir()).expect("the CRDs apply");
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(cluster.client());
    let team = serde_json::from_value(json!({"metadata": {"name": "team-a"}})).unwrap();
    namespaces
        .create(&PostParams::default(), &team)
        .await
        .unwrap();
    pipelines(&cluster, "team-a")
        .create(&PostParams::default(), &pipeline("mine"))
        .await
        .unwrap();
    pipelines(&cluster, "default")
        .create(&PostParams::default(), &pipeline("theirs"))
        .await
        .unwrap();

    let address = free_address();
    let (stop, stopped) = oneshot::channel::<()>();
    let controller = tokio::spawn(run_with_client(
        cluster.client(),
        options(address, &["team-a"]),
        async {
            let _ = stopped.await;
        },
    ));
    eventually("/readyz to answer 200", || async {
        get(address, "/readyz")
            .await
            .is_some_and(|(code, _)| code == 200)
    })
    .await;
    let (_, metrics) = get(address, "/metrics").await.expect("metrics answer");
    assert!(
        metrics.contains("slipway_controller_watched_objects{kind=\"Pipeline\"} 1"),
        "{metrics}"
    );
    let namespaced_lists = cluster
        .requests()
        .all()
        .into_iter()
        .filter(|request| {
            request.resource == "pipelines" && matches!(request.verb.as_str(), "list" | "watch")
        })
        .all(|request| request.namespace.as_deref() == Some("team-a"));
    assert!(
        namespaced_lists,
        "a namespaced controller never lists across namespaces"
    );
    stop.send(()).unwrap();
    controller.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_standby_takes_over_when_the_leader_releases_the_lease() {
    let cluster = TestCluster::start().await;
    let first = Election::start(cluster.client(), "default", "first")
        .await
        .expect("election starts");
    let first_leads = first.leadership.clone();
    eventually("the first replica to lead", || {
        let leadership = first_leads.clone();
        async move { leadership.is_leader() }
    })
    .await;
    let second = Election::start(cluster.client(), "default", "second")
        .await
        .expect("election starts");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!second.leadership.is_leader(), "only one replica leads");

    drop(first_leads);
    first.release().await;
    let mut second_leads = second.leadership.clone();
    tokio::time::timeout(Duration::from_secs(20), second_leads.acquired())
        .await
        .expect("the standby acquires the released Lease");
    assert!(second.leadership.is_leader());
}
