//! `TestCluster`: a cluster served over HTTP on a loopback port, with a `kube::Client` for it.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::cluster::{Cluster, ClusterConfig};
use crate::crd_files::{self, CrdFileError, HTTPROUTE_CRD};
use crate::faults::Faults;
use crate::http::{Server, router};
use crate::requests::RequestLog;

/// A running test cluster. Dropping it stops the server.
#[derive(Debug)]
pub struct TestCluster {
    cluster: Cluster,
    url: String,
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestCluster {
    /// Starts a cluster with default settings on `127.0.0.1:0`; returns once it is serving.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start() -> Self {
        Self::start_with(ClusterConfig::default()).await
    }

    /// Starts a cluster with the given settings on `127.0.0.1:0`.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start_with(config: ClusterConfig) -> Self {
        let address: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
        Self::serve(Cluster::new(config), address)
            .await
            .expect("failed to bind the test cluster to a loopback port")
    }

    /// Serves an existing cluster on `address` (port 0 picks a free one).
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn serve(cluster: Cluster, address: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let url = format!("http://{address}");
        let app = router(Server {
            cluster: cluster.clone(),
            address: address.to_string(),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            cluster,
            url,
            address,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The server URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address served.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// A `kube::Client` for the cluster (default namespace `default`).
    ///
    /// # Panics
    /// Never for the URLs this type produces.
    pub fn client(&self) -> kube::Client {
        let url: axum::http::Uri = self.url.parse().expect("valid URL");
        let config = kube::Config::new(url);
        // kube builds a TLS connector even for plain HTTP, and rustls panics when the workspace
        // compiles in two providers (ring for kube, aws-lc-rs for object stores) without a choice.
        let _ = rustls::crypto::ring::default_provider().install_default();
        kube::Client::try_from(config).expect("a kube client for a plain-HTTP URL")
    }

    /// Writes a kubeconfig for the cluster that kubectl accepts.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, crate::kubeconfig::kubeconfig(&self.url))
    }

    /// The cluster handle (internal API).
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// Fault injection.
    pub fn faults(&self) -> &Faults {
        self.cluster.faults()
    }

    /// The request log.
    pub fn requests(&self) -> &RequestLog {
        self.cluster.requests()
    }

    /// Applies every CRD in a directory (e.g. the repository's `crds/`); returns their names.
    ///
    /// # Errors
    /// [`CrdFileError`] for unreadable files and refused CRDs.
    pub fn apply_crds_from(
        &self,
        directory: impl AsRef<Path>,
    ) -> Result<Vec<String>, CrdFileError> {
        crd_files::apply_crds_from(&self.cluster, directory.as_ref())
    }

    /// Installs the Gateway API HTTPRoute CRD fixture.
    ///
    /// # Panics
    /// Never: the fixture is valid (a test checks it).
    pub fn install_httproute_crd(&self) {
        let documents = crd_files::parse_documents(HTTPROUTE_CRD).expect("fixture parses");
        crd_files::apply_crd_documents(&self.cluster, documents).expect("fixture is accepted");
    }

    /// Starts simulating kube-controller-manager and the kubelet on this cluster; the
    /// simulation runs until the returned handle (and its clones) are dropped or stopped.
    pub fn simulate(
        &self,
        config: crate::simulate::SimulationConfig,
    ) -> crate::simulate::Simulation {
        crate::simulate::start(self.cluster().clone(), config)
    }

    /// Stops serving: open watches end, then the server drains.
    pub async fn shutdown(mut self) {
        self.stop_now();
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }

    fn stop_now(&mut self) {
        // Watches never finish on their own; end them so the graceful shutdown can complete.
        self.cluster.drop_watches();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.stop_now();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
