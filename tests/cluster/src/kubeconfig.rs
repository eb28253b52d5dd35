//! A kubeconfig pointing at the cluster (plain HTTP, no credentials), which kubectl and
//! `kube::Config::infer` accept.

/// The kubeconfig text for a server URL.
pub fn kubeconfig(url: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: slipway-testcluster
  cluster:
    server: {url}
contexts:
- name: slipway-testcluster
  context:
    cluster: slipway-testcluster
    user: slipway-testcluster
    namespace: default
current-context: slipway-testcluster
users:
- name: slipway-testcluster
  user: {{}}
preferences: {{}}
"
    )
}
