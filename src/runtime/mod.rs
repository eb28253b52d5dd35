//! The controller process: configuration, telemetry, the health/metrics server, the preflight
//! check, graceful shutdown, and the place where each controller plugs in.
//!
//! # Start-up
//! 1. Logs: JSON when stderr is not a terminal (in the cluster), human text on a terminal.
//! 2. Client: the current kubeconfig, or the in-cluster service account.
//! 3. Preflight: the four `slipway.dev/v1alpha1` kinds must be served; otherwise exit with a hint
//!    naming the `kubectl apply` that installs the CRDs.
//! 4. Serve `/healthz`, `/readyz` and `/metrics`; `/readyz` answers 200 only once every watch has
//!    listed its kind once. Serve the webhook receiver on `--webhook-addr` (every replica).
//! 5. With `--leader-elect`, compete for the `slipway-controller` Lease; controllers act only
//!    while this replica holds it (watches and `/readyz` run on every replica).
//! 6. Run the controllers until SIGTERM or SIGINT, then stop them, release the Lease and exit 0.

pub mod admit;
pub mod conditions;
mod controllers;
pub mod error_policy;
pub mod events;
pub mod kind_watch;
pub mod labels;
mod leader;
mod metrics;
pub mod names;
mod options;
mod preflight;
pub mod secrets;
mod server;
mod shutdown;
pub mod status;
mod telemetry;

pub use admit::admit;
pub use controllers::{ControllerContext, Controllers};
pub use leader::{Election, Leadership};
pub use metrics::{KindLabels, Metrics};
pub use options::{BuildOptions, ControllerOptions, LogFormat};
pub use preflight::{PreflightError, check_crds_served};
pub use server::{Readiness, router};
pub use shutdown::shutdown_signal;
pub use status::{
    FIELD_MANAGER, StatusError, leave_out, whole_seconds, write_status, write_status_at,
};

use anyhow::Context;

/// Runs the controller process to completion on a new Tokio runtime.
///
/// # Errors
/// When the cluster cannot be reached, the CRDs are missing, or a port cannot be bound.
pub fn run_blocking(options: ControllerOptions) -> anyhow::Result<()> {
    telemetry::init(&options.log_level, options.log_format)?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?
        .block_on(run(options, shutdown_signal()))
}

/// Runs the controller process until `shutdown` completes.
///
/// # Errors
/// When the cluster cannot be reached, the CRDs are missing, or a port cannot be bound.
pub async fn run(
    options: ControllerOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    crate::tls::install_crypto_provider();
    let client = connect().await?;
    run_with_client(client, options, shutdown).await
}

/// Runs the controller process against `client` until `shutdown` completes.
///
/// # Errors
/// When the CRDs are missing, a port cannot be bound, or leader election cannot start.
pub async fn run_with_client(
    client: kube::Client,
    options: ControllerOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    check_crds_served(&client).await?;

    let metrics = Metrics::new();
    let readiness = Readiness::default();
    let listener = tokio::net::TcpListener::bind(options.http_addr)
        .await
        .with_context(|| {
            format!(
                "failed to bind the health/metrics address {}",
                options.http_addr
            )
        })?;
    tracing::info!(address = %listener.local_addr()?, "serving /healthz, /readyz and /metrics");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let app = router(readiness.clone(), metrics.clone());
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|stop| *stop).await;
            })
            .await
    });

    let election = match leader_election_namespace(&options)? {
        Some(namespace) => {
            Some(Election::start(client.clone(), &namespace, &leader::identity()).await?)
        }
        None => None,
    };
    let leadership = election
        .as_ref()
        .map_or_else(Leadership::always, |election| election.leadership.clone());
    let webhook_listener = tokio::net::TcpListener::bind(options.webhook_addr)
        .await
        .with_context(|| {
            format!(
                "failed to bind the webhook receiver's address {}",
                options.webhook_addr
            )
        })?;
    let context = ControllerContext::new(
        client.clone(),
        &options,
        metrics.clone(),
        readiness,
        leadership,
    );
    let controllers = Controllers::start(context, options.build.settings(), stop_rx.clone());
    tracing::info!(address = %webhook_listener.local_addr()?, "serving webhooks on /webhooks/…");
    let receiver =
        crate::trigger::receiver::Receiver::new(client, controllers.pipelines.clone(), &metrics)
            .router();
    let mut receiver_stop = stop_rx;
    let webhooks = tokio::spawn(async move {
        axum::serve(webhook_listener, receiver)
            .with_graceful_shutdown(async move {
                let _ = receiver_stop.wait_for(|stop| *stop).await;
            })
            .await
    });
    shutdown.await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    controllers.join().await;
    if let Some(election) = election {
        election.release().await;
    }
    server
        .await
        .context("health server task panicked")?
        .context("health server failed")?;
    webhooks
        .await
        .context("webhook receiver task panicked")?
        .context("webhook receiver failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// The namespace of the leader-election Lease, or `None` when election is off.
fn leader_election_namespace(options: &ControllerOptions) -> anyhow::Result<Option<String>> {
    if !options.leader_elect {
        return Ok(None);
    }
    let namespace = options
        .leader_election_namespace
        .clone()
        .or_else(|| std::env::var("POD_NAMESPACE").ok())
        .filter(|namespace| !namespace.is_empty())
        .context(
            "failed to choose a namespace for the leader-election Lease: set \
             --leader-election-namespace (SLIPWAY_LEADER_ELECTION_NAMESPACE) or POD_NAMESPACE",
        )?;
    Ok(Some(namespace))
}

/// A client for the current kubeconfig, or the in-cluster service account.
async fn connect() -> anyhow::Result<kube::Client> {
    let config = kube::Config::infer().await.map_err(|error| {
        let kubeconfig = std::env::var("KUBECONFIG").unwrap_or_else(|_| "~/.kube/config".to_owned());
        tracing::debug!(%error, "no cluster configuration");
        anyhow::anyhow!(
            "no Kubernetes cluster to talk to: no usable kubeconfig at {kubeconfig} and not running \
             in a pod.\n  Point KUBECONFIG at a cluster (kind, k3d, minikube or a real one), install \
             the CRDs with `kubectl apply --server-side -f crds/`, then run `cargo run -- controller` \
             again. See README.md, \"Run Slipway\"."
        )
    })?;
    let cluster = config.cluster_url.clone();
    let client = kube::Client::try_from(config)
        .with_context(|| format!("unable to build a Kubernetes client for {cluster}"))?;
    tracing::info!(%cluster, "connecting");
    Ok(client)
}
