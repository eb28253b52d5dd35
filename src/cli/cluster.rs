//! The kubectl-plugin flags every cluster command shares (`-n/--namespace`, `--context`,
//! `--kubeconfig`) and the client they select.
//!
//! The kubeconfig is found as kubectl finds it: `--kubeconfig`, else `KUBECONFIG` (a list of
//! files, merged), else `~/.kube/config`; without any, the pod's service account. The namespace
//! is `-n`, else the selected context's namespace, else `default`.

use std::future::Future;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use kube::config::{KubeConfigOptions, Kubeconfig};

/// How to reach the cluster, as kubectl's own flags.
#[derive(Debug, Clone, Args)]
pub struct ClusterOptions {
    /// Namespace of the object; defaults to the kubeconfig context's namespace.
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
    /// The kubeconfig context to use; defaults to its current context.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// Path to the kubeconfig file; defaults to KUBECONFIG, then ~/.kube/config.
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
}

/// A client for the selected cluster and the namespace commands act in.
pub struct Connection {
    /// The Kubernetes client.
    pub client: kube::Client,
    /// The namespace from `-n` or the context.
    pub namespace: String,
    /// The API server's URL, for messages.
    pub server: String,
    /// The user name the kubeconfig context names (self-reported; see `identity`).
    pub kubeconfig_user: Option<String>,
}

/// Runs one cluster command on a single-threaded runtime: the commands make a handful of
/// sequential requests, so a thread pool would only cost start-up time.
///
/// # Errors
/// When the runtime cannot start, or the command fails.
pub fn block_on<T>(command: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?
        .block_on(command)
}

/// Builds a client from the flags.
///
/// # Errors
/// When no kubeconfig (or in-cluster account) is usable, the named context does not exist, or
/// the client cannot be built; each message names the file or context and what to do.
pub async fn connect(options: &ClusterOptions) -> anyhow::Result<Connection> {
    let selection = KubeConfigOptions {
        context: options.context.clone(),
        ..KubeConfigOptions::default()
    };
    let mut kubeconfig_user = None;
    let config = match (&options.kubeconfig, &options.context) {
        (Some(path), _) => {
            let kubeconfig = Kubeconfig::read_from(path).map_err(|error| {
                // kube's own message repeats the path; its cause says what went wrong.
                let cause = std::error::Error::source(&error)
                    .map_or_else(|| error.to_string(), ToString::to_string);
                anyhow::anyhow!(
                    "failed to read the kubeconfig {} (--kubeconfig): {cause}",
                    path.display()
                )
            })?;
            kubeconfig_user = context_user(&kubeconfig, options.context.as_deref());
            kube::Config::from_custom_kubeconfig(kubeconfig, &selection)
                .await
                .map_err(|error| unusable_kubeconfig(&path.display().to_string(), &error))?
        }
        (None, Some(_)) => kube::Config::from_kubeconfig(&selection)
            .await
            .map_err(|error| unusable_kubeconfig(&default_kubeconfig_name(), &error))?,
        (None, None) => kube::Config::infer().await.map_err(|_| {
            anyhow::anyhow!(
                "no Kubernetes cluster to talk to: no usable kubeconfig at {} and not running in a \
                 pod; point KUBECONFIG or --kubeconfig at a cluster",
                default_kubeconfig_name()
            )
        })?,
    };
    if options.kubeconfig.is_none() {
        // The same files kube just read (KUBECONFIG or ~/.kube/config); none in a pod.
        kubeconfig_user = Kubeconfig::read()
            .ok()
            .and_then(|kubeconfig| context_user(&kubeconfig, options.context.as_deref()));
    }
    let namespace = options
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config)
        .with_context(|| format!("unable to build a Kubernetes client for {server}"))?;
    Ok(Connection {
        client,
        namespace,
        server,
        kubeconfig_user,
    })
}

/// The user of `context` (else the current context) in `kubeconfig`.
pub fn context_user(kubeconfig: &Kubeconfig, context: Option<&str>) -> Option<String> {
    let wanted = context.or(kubeconfig.current_context.as_deref())?;
    kubeconfig
        .contexts
        .iter()
        .find(|named| named.name == wanted)
        .and_then(|named| named.context.as_ref())
        .and_then(|context| context.user.clone())
        .filter(|user| !user.is_empty())
}

/// What the user's environment names as the kubeconfig, for messages.
fn default_kubeconfig_name() -> String {
    std::env::var("KUBECONFIG")
        .ok()
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| "~/.kube/config".to_owned())
}

fn unusable_kubeconfig(file: &str, error: &kube::config::KubeconfigError) -> anyhow::Error {
    anyhow::anyhow!(
        "failed to use the kubeconfig {file}: {error} (check --context and --kubeconfig)"
    )
}

/// Turns a kube error into a message a user can act on: an unreachable API server names its
/// URL, an API error keeps the server's own message.
pub fn explain(error: kube::Error, server: &str) -> anyhow::Error {
    match error {
        kube::Error::Api(status) => anyhow::anyhow!("{} ({})", status.message, status.reason),
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            anyhow::Error::new(error).context(format!(
                "unable to reach the Kubernetes API server at {server}: is the cluster running, and \
                 do --kubeconfig/--context point at it?"
            ))
        }
        other => anyhow::Error::new(other).context(format!("unable to talk to {server}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubeconfig() -> Kubeconfig {
        Kubeconfig::from_yaml(
            "apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: local, user: alice}
- name: prod
  context: {cluster: remote, user: bob}
- name: anonymous
  context: {cluster: local}
clusters: []
users: []
",
        )
        .expect("a valid kubeconfig")
    }

    #[test]
    fn the_user_comes_from_the_named_context_else_the_current_one() {
        let kubeconfig = kubeconfig();
        assert_eq!(context_user(&kubeconfig, None).as_deref(), Some("alice"));
        assert_eq!(
            context_user(&kubeconfig, Some("prod")).as_deref(),
            Some("bob")
        );
        assert_eq!(context_user(&kubeconfig, Some("anonymous")), None);
        assert_eq!(context_user(&kubeconfig, Some("missing")), None);
    }
}
