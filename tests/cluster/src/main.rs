//! `slipway-testcluster serve`: the test cluster as a standalone server, for running
//! `slipway controller` and kubectl against it by hand or from scripts. With `--simulate` pods
//! live as the simulation's defaults say, as their `testcluster.slipway.dev/*` annotations say,
//! or as `--pod-scripts FILE` says (see `simulate::script_file`).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use slipway_testcluster::simulate::{PodScriptFile, SimulationConfig};
use slipway_testcluster::{Cluster, ClusterConfig, TestCluster};

#[derive(Parser)]
#[command(
    name = "slipway-testcluster",
    about = "In-process stand-in for kube-apiserver (test use only)"
)]
struct Arguments {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API until SIGTERM or SIGINT; prints the URL on stdout.
    Serve {
        /// Address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: SocketAddr,
        /// Where to write a kubeconfig for the server.
        #[arg(long)]
        kubeconfig: PathBuf,
        /// Directories whose CRD manifests are applied at start (repeatable).
        #[arg(long = "crds")]
        crds: Vec<PathBuf>,
        /// Install the Gateway API HTTPRoute CRD fixture.
        #[arg(long)]
        httproute: bool,
        /// Simulate kube-controller-manager and the kubelet: Deployments get ReplicaSets and
        /// Pods that become Ready, Jobs run their Pods, Services get EndpointSlices.
        #[arg(long)]
        simulate: bool,
        /// Changes retained for watch resumption (older resourceVersions answer 410).
        #[arg(long, default_value_t = 100_000)]
        history_window: usize,
        /// With --simulate: a YAML file scripting pods by name glob per namespace.
        ///
        /// Maps namespace globs to name globs to fields: readyAfter, unreadyAfter, completeAfter
        /// (Go durations such as "2s"), neverReady (true|false), outcome (succeed|fail), exitCode,
        /// terminationMessage, log, run (simulated|local|docker). A rule applies to the pods
        /// whose own name, or whose ReplicaSet's, Deployment's or Job's, the name glob matches
        /// (`*` any characters, `?` one). Annotations (testcluster.slipway.dev/…) beat the file.
        /// Example:
        ///
        ///   shop:
        ///     "*-build":
        ///       terminationMessage: '{"status": "ok"}'
        ///       completeAfter: 2s
        #[arg(long, value_name = "FILE", requires = "simulate", verbatim_doc_comment)]
        pod_scripts: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Command::Serve {
        addr,
        kubeconfig,
        crds,
        httproute,
        simulate,
        history_window,
        pod_scripts,
    } = Arguments::parse().command;
    // Read before anything listens, so a typo in the file stops the server at once.
    let pod_scripts = match &pod_scripts {
        Some(path) => PodScriptFile::read(path)?,
        None => PodScriptFile::default(),
    };
    let cluster = Cluster::new(ClusterConfig {
        history_window,
        ..ClusterConfig::default()
    });
    let server = TestCluster::serve(cluster, addr)
        .await
        .with_context(|| format!("failed to listen on {addr}"))?;
    for directory in &crds {
        server
            .apply_crds_from(directory)
            .with_context(|| format!("failed to apply CRDs from {}", directory.display()))?;
    }
    if httproute {
        server.install_httproute_crd();
    }
    // Kept alive until shutdown: dropping the handle stops the simulation.
    let simulation = simulate.then(|| {
        slipway_testcluster::simulate::start(
            server.cluster().clone(),
            SimulationConfig {
                pod_scripts,
                ..SimulationConfig::default()
            },
        )
    });
    server
        .write_kubeconfig(&kubeconfig)
        .with_context(|| format!("failed to write the kubeconfig to {}", kubeconfig.display()))?;
    println!("{}", server.url());
    wait_for_signal().await?;
    if let Some(simulation) = simulation {
        simulation.stop().await;
    }
    server.shutdown().await;
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("failed to listen for SIGTERM")?;
    tokio::select! {
        _ = terminate.recv() => {}
        result = tokio::signal::ctrl_c() => result.context("failed to listen for SIGINT")?,
    }
    Ok(())
}
