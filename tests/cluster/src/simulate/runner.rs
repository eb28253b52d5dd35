//! What the runners share: the events they report and how they are stopped.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::kubelet::ContainerRun;
use super::logs::{PodLogs, log_tail_for_message};
use super::podspec::{ContainerPlan, RunPlan};
use super::time::Timestamp;
use super::workspace::PodWorkspace;

/// Longest termination message the kubelet keeps (bytes).
pub const MAX_TERMINATION_MESSAGE_BYTES: usize = 4096;

/// A container state change reported by a runner.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEvent {
    /// The pod's UID.
    pub pod_uid: String,
    /// The container.
    pub container: String,
    /// Its new state.
    pub state: ContainerRun,
}

/// Everything a runner needs for one pod.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The resolved pod.
    pub plan: RunPlan,
    /// The pod's directories.
    pub workspace: Arc<PodWorkspace>,
    /// Where output goes.
    pub logs: PodLogs,
    /// Where state changes go.
    pub events: mpsc::UnboundedSender<RunEvent>,
    /// Becomes `true` when the pod is deleted or the simulation stops.
    pub cancel: watch::Receiver<bool>,
}

impl RunContext {
    /// Reports a container state (ignored once the simulation is gone).
    pub fn report(&self, container: &str, state: ContainerRun) {
        let _ = self.events.send(RunEvent {
            pod_uid: self.plan.uid.clone(),
            container: container.to_owned(),
            state,
        });
    }

    /// Appends container output to the pod's log.
    pub fn log(&self, container: &str, text: &str) {
        self.logs
            .append(&self.plan.namespace, &self.plan.pod, container, text);
    }

    /// Resolves once the run must stop.
    pub async fn cancelled(&self) {
        let mut cancel = self.cancel.clone();
        // An error means the sender is gone: the simulation stopped, so stop too.
        let _ = cancel.wait_for(|stop| *stop).await;
    }

    /// The termination message: the file's content (capped), or the log tail for a failed
    /// container with `FallbackToLogsOnError` and an empty file.
    pub fn termination_message(
        &self,
        container: &ContainerPlan,
        file_content: Vec<u8>,
        exit_code: i32,
    ) -> String {
        let mut bytes = file_content;
        bytes.truncate(MAX_TERMINATION_MESSAGE_BYTES);
        let message = String::from_utf8_lossy(&bytes).into_owned();
        if message.is_empty() && container.fallback_to_logs_on_error && exit_code != 0 {
            let log = self
                .logs
                .get(&self.plan.namespace, &self.plan.pod, Some(&container.name))
                .unwrap_or_default();
            return log_tail_for_message(&log);
        }
        message
    }
}

/// Now, as runners timestamp container states.
pub fn now() -> Timestamp {
    Timestamp::now()
}
