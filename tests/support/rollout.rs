//! A test cluster with Slipway's CRDs, the simulated kubelet and (optionally) the running
//! controller, plus the user's application `web` (workload + Service) that rollouts target.
//! Shared by the rollout controller tests (whose harness builds on it) and the tests that drive
//! rollouts from outside the controller (the `kubectl slipway` commands).

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment as AppsDeployment;
use k8s_openapi::api::core::v1::Service;
use kube::Api;
use kube::api::PostParams;
use serde_json::{Value, json};
use slipway::api::Deployment as Record;
use slipway::api::deployment::DeploymentPhase;
use slipway::runtime::{BuildOptions, ControllerOptions, LogFormat, run_with_client};
use slipway_testcluster::TestCluster;
use slipway_testcluster::simulate::{Simulation, SimulationConfig};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The image the user's workload runs before any rollout.
pub const STABLE_IMAGE: &str = "shop/web:1";

/// A running controller that can be stopped.
pub struct Controller {
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
    /// Where its webhook receiver listens.
    pub webhook_addr: std::net::SocketAddr,
}

impl Controller {
    /// Starts every controller against `cluster`, on free loopback ports.
    pub fn start(cluster: &TestCluster) -> Self {
        Self::start_with_build(cluster, BuildOptions::default())
    }

    /// [`Controller::start`] with `build` as the build options (e.g. the executor's path, for
    /// build pods that really run).
    pub fn start_with_build(cluster: &TestCluster, build: BuildOptions) -> Self {
        let webhook_addr = free_address();
        let options = ControllerOptions {
            http_addr: free_address(),
            webhook_addr,
            namespaces: Vec::new(),
            leader_elect: false,
            leader_election_namespace: None,
            log_level: "info".into(),
            log_format: LogFormat::Text,
            build,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run_with_client(cluster.client(), options, async {
            let _ = stopped.await;
        }));
        Controller {
            stop,
            task,
            webhook_addr,
        }
    }

    /// Stops the controller and checks it exited cleanly.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the controller stops")
            .expect("no panic")
            .expect("a clean exit");
    }
}

fn free_address() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound address")
}

/// A test cluster serving Slipway's CRDs, with the kubelet simulated (pods become Ready).
pub async fn cluster_with_crds() -> (TestCluster, Simulation) {
    let cluster = TestCluster::start().await;
    cluster
        .apply_crds_from(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds"))
        .expect("the CRDs apply");
    let simulation = cluster.simulate(SimulationConfig::default());
    (cluster, simulation)
}

/// The user's workload `web` as JSON: `app: web`, container `web` running [`STABLE_IMAGE`]
/// on port 8080.
pub fn workload(replicas: i32) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": STABLE_IMAGE, "ports": [{"containerPort": 8080}]}]}
            }
        }
    })
}

/// The user's workload `web` ([`workload`]) and its Service `web`, in `namespace`.
pub async fn application(client: &kube::Client, namespace: &str, replicas: i32) {
    Api::<AppsDeployment>::namespaced(client.clone(), namespace)
        .create(
            &PostParams::default(),
            &serde_json::from_value(workload(replicas)).unwrap(),
        )
        .await
        .expect("the workload is created");
    let service = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    });
    Api::<Service>::namespaced(client.clone(), namespace)
        .create(
            &PostParams::default(),
            &serde_json::from_value(service).unwrap(),
        )
        .await
        .expect("the Service is created");
}

/// Waits up to `seconds` until record `name` in `namespace` is in `phase`, and returns it.
pub async fn wait_phase(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    phase: DeploymentPhase,
    seconds: u64,
) -> Record {
    let records: Api<Record> = Api::namespaced(client.clone(), namespace);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        let record = records.get(name).await.expect("the record exists");
        if record.status.as_ref().and_then(|status| status.phase) == Some(phase) {
            return record;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {name} to be {phase:?}; status: {:#?}",
            record.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
