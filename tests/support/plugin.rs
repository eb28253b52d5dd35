//! Running the built binary as the `kubectl slipway` plugin against the test cluster: a
//! kubeconfig for it, one-shot commands, and background commands (`--watch`) to wait for.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use slipway_testcluster::TestCluster;

use super::Scratch;

/// The user name the test cluster's kubeconfig context names (the test cluster serves no
/// SelfSubjectReview, so the plugin falls back to it).
pub const KUBECONFIG_USER: &str = "slipway-testcluster";

/// The test cluster's kubeconfig in a scratch folder.
pub struct Kubeconfig {
    _folder: Scratch,
    /// The kubeconfig file.
    pub path: PathBuf,
}

impl Kubeconfig {
    /// Writes `cluster`'s kubeconfig into a scratch folder named after `test`.
    pub fn for_cluster(cluster: &TestCluster, test: &str) -> Self {
        let folder = Scratch::new(test);
        let path = folder.0.join("kubeconfig");
        cluster
            .write_kubeconfig(&path)
            .expect("write the kubeconfig");
        Kubeconfig {
            _folder: folder,
            path,
        }
    }
}

/// `slipway ARGS --kubeconfig FILE`, with no KUBECONFIG from the environment.
pub fn plugin_command(kubeconfig: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slipway"));
    command
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env_remove("KUBECONFIG");
    command
}

/// Runs `slipway ARGS --kubeconfig FILE` on a blocking thread (the test cluster serves from this
/// process's runtime meanwhile).
pub async fn plugin(kubeconfig: &Path, args: &[&str]) -> Output {
    let mut command = plugin_command(kubeconfig, args);
    tokio::task::spawn_blocking(move || command.output().expect("run the slipway binary"))
        .await
        .expect("the command thread")
}

/// Starts `slipway ARGS --kubeconfig FILE` in the background, its output captured.
pub fn spawn_plugin(kubeconfig: &Path, args: &[&str]) -> Child {
    plugin_command(kubeconfig, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the slipway binary")
}

/// Waits (up to 30 s) for a background command to end.
pub async fn finish(child: Child) -> Output {
    tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || child.wait_with_output().expect("the command output")),
    )
    .await
    .expect("the command ends")
    .expect("the waiting thread")
}

/// The command's standard output.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The command's standard error.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Waits up to 20 s until the request log holds a request `matches` accepts.
pub async fn wait_for_request(
    cluster: &TestCluster,
    what: &str,
    matches: impl Fn(&slipway_testcluster::RequestRecord) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while cluster.requests().matching(&matches).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
