//! Leader election on a `coordination.k8s.io/v1` Lease, so that only one replica acts at a time.
//!
//! Every replica watches and serves `/readyz` (a standby must be Ready, or a rolling update of the
//! controller would wait forever on the pod that holds the Lease); controllers that write consult
//! [`Leadership`] before acting.

use std::time::Duration;

use anyhow::Context;
use kube_lease_manager::{LeaseManagerBuilder, LeaseParams};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The Lease every Slipway replica competes for.
pub const LEASE_NAME: &str = "slipway-controller";

/// Seconds a Lease stays valid after its last renewal.
const LEASE_DURATION_SECONDS: u64 = 15;
/// Seconds before expiry at which the holder renews.
const LEASE_GRACE_SECONDS: u64 = 5;

/// Whether this replica may act. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Leadership {
    leader: watch::Receiver<bool>,
}

impl Leadership {
    /// Leadership for a process that runs without election (a single replica).
    pub fn always() -> Self {
        let (sender, leader) = watch::channel(true);
        // The receiver keeps the last value after the sender is gone.
        drop(sender);
        Self { leader }
    }

    /// Whether this replica holds the Lease now.
    pub fn is_leader(&self) -> bool {
        *self.leader.borrow()
    }

    /// Waits until this replica holds the Lease; returns at once without election.
    pub async fn acquired(&mut self) {
        // An Err means the election task ended; the last value still stands.
        let _ = self.leader.wait_for(|leader| *leader).await;
    }
}

/// A running election: the leadership handle and the task renewing the Lease.
pub struct Election {
    /// Whether this replica holds the Lease.
    pub leadership: Leadership,
    task: JoinHandle<kube_lease_manager::Result<kube_lease_manager::LeaseManager>>,
}

impl Election {
    /// Starts competing for the Lease in `namespace` under `identity`.
    ///
    /// # Errors
    /// When the Lease cannot be read or created (RBAC, API errors).
    pub async fn start(
        client: kube::Client,
        namespace: &str,
        identity: &str,
    ) -> anyhow::Result<Self> {
        let manager = LeaseManagerBuilder::new(client, LEASE_NAME)
            .with_namespace(namespace)
            .with_parameters(
                LeaseParams::new(identity, LEASE_DURATION_SECONDS, LEASE_GRACE_SECONDS)
                    .with_field_manager("slipway-leader-election"),
            )
            .build()
            .await
            .with_context(|| {
                format!("unable to set up the Lease {namespace}/{LEASE_NAME} for leader election")
            })?;
        let (leader, task) = manager.watch().await;
        tracing::info!(
            namespace,
            lease = LEASE_NAME,
            identity,
            "competing for leadership"
        );
        Ok(Self {
            leadership: Leadership { leader },
            task,
        })
    }

    /// Gives the Lease up (so a standby takes over at once instead of after expiry).
    ///
    /// Every clone of the leadership handle must be dropped first: the election task releases the
    /// Lease when its last receiver is gone.
    pub async fn release(self) {
        drop(self.leadership);
        match tokio::time::timeout(Duration::from_secs(5), self.task).await {
            Ok(Ok(Ok(_))) => tracing::info!("released the leader Lease"),
            Ok(Ok(Err(error))) => {
                tracing::warn!(%error, "unable to release the leader Lease; it expires on its own")
            }
            Ok(Err(error)) => tracing::warn!(%error, "leader election task failed"),
            Err(_) => tracing::warn!("timed out releasing the leader Lease; it expires on its own"),
        }
    }
}

/// This replica's identity in the election: the pod name, or host name and process id off-cluster.
pub fn identity() -> String {
    std::env::var("POD_NAME")
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| {
            let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
            format!(
                "{}-{}",
                host.trim().trim_end_matches('.'),
                std::process::id()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_election_the_process_always_leads() {
        let mut leadership = Leadership::always();
        assert!(leadership.is_leader());
        tokio::time::timeout(Duration::from_secs(1), leadership.acquired())
            .await
            .expect("acquired returns at once without election");
    }
}
