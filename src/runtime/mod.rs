//! The controller process: configuration, telemetry, the health/metrics server, the preflight
//! check, graceful shutdown, and the place where each controller plugs in.
//!
//! # Start-up
//! 1. Logs: JSON when stderr is not a terminal (in the cluster), human text on a terminal.
//! 2. Client: the current kubeconfig, or the in-cluster service account.
//! 3. Preflight: the four `slipway.dev/v1alpha1` kinds must be served; otherwise exit with a hint
//!    naming the `kubectl apply` that installs the CRDs.
//! 4. Serve `/healthz`, `/readyz` and `/metrics`; `/readyz` answers 200 only once every watch has
//!    listed its kind once.
//! 5. Run the controllers until SIGTERM or SIGINT, then stop them and exit 0.

mod controllers;
mod metrics;
mod options;
mod preflight;
mod server;
mod shutdown;
mod telemetry;

pub use controllers::{ControllerContext, Controllers};
pub use metrics::Metrics;
pub use options::{ControllerOptions, LogFormat};
pub use preflight::{PreflightError, check_crds_served};
pub use server::{Readiness, router};
pub use shutdown::shutdown_signal;

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
    let client = kube::Client::try_default().await.context(
        "unable to load a Kubernetes client configuration: set KUBECONFIG or run in a cluster \
         (for a local try-out without a cluster, see README.md, \"Run Slipway\")",
    )?;
    check_crds_served(&client).await?;

    let metrics = Metrics::new();
    let readiness = Readiness::default();
    let listener = tokio::net::TcpListener::bind(options.http_addr)
        .await
        .with_context(|| format!("failed to bind the health/metrics address {}", options.http_addr))?;
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

    let context = ControllerContext::new(client, &options, metrics, readiness);
    let controllers = Controllers::start(context, stop_rx);
    shutdown.await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    controllers.join().await;
    server.await.context("health server task panicked")?.context("health server failed")?;
    tracing::info!("stopped");
    Ok(())
}
