//! What the benches share: the test cluster on a runtime of its own, free ports, percentiles.
#![allow(dead_code, reason = "each bench uses a different subset")]

use std::time::Duration;

use slipway::runtime::{BuildOptions, ControllerOptions, LogFormat};
use slipway_testcluster::TestCluster;
use slipway_testcluster::simulate::{Simulation, SimulationConfig};

/// A test cluster with the CRDs (and the HTTPRoute CRD) and its simulation, served from a thread
/// and runtime of their own — as kube-apiserver and the kubelet are other processes — so their
/// work (a status write's validation takes milliseconds) never holds up the controller's or the
/// observing watches' tasks and the measurement shows the controller's latency, not the
/// stand-in's scheduling.
pub fn cluster_apart() -> (TestCluster, Simulation) {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the cluster");
        runtime.block_on(async move {
            let cluster = TestCluster::start().await;
            cluster
                .apply_crds_from(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds"))
                .expect("the CRDs apply");
            cluster.install_httproute_crd();
            let simulation = cluster.simulate(SimulationConfig::default());
            sender.send((cluster, simulation)).expect("the bench waits");
            std::future::pending::<()>().await;
        });
    });
    receiver.recv().expect("the cluster starts")
}

/// A free loopback address.
pub fn free_address() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound address")
}

/// The `percent`-th percentile of `samples` (nearest rank).
pub fn percentile(samples: &[Duration], percent: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let index = ((sorted.len() * percent).div_ceil(100)).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

/// Runs `bench` on a two-worker runtime (the machine's two cores).
pub fn run_on_two_workers(bench: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(bench);
}

/// Options of a controller run in the bench's process: every namespace, no leader election,
/// warnings only, the webhook receiver on `webhook_addr`.
pub fn controller_options(webhook_addr: std::net::SocketAddr) -> ControllerOptions {
    ControllerOptions {
        http_addr: free_address(),
        webhook_addr,
        namespaces: Vec::new(),
        leader_elect: false,
        leader_election_namespace: None,
        log_level: "warn".into(),
        log_format: LogFormat::Text,
        build: BuildOptions::default(),
    }
}
