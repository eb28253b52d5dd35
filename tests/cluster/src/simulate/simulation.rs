//! The handle tests hold: starting a simulation, scripting pods from Rust, reading pod logs,
//! stopping it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::adapter;
use super::job::JobTiming;
use super::logs::PodLogs;
use super::script::{BehaviourDefaults, PodOutcome, PodScript};
use super::script_file::PodScriptFile;
use crate::Cluster;

/// Settings of a simulation.
#[derive(Debug, Clone)]
pub struct SimulationConfig {
    /// Behaviour of pods nothing scripts.
    pub defaults: BehaviourDefaults,
    /// Job back-off timing.
    pub job_timing: JobTiming,
    /// Where really-run pods get their directories.
    pub workspace_root: PathBuf,
    /// The node IP reported in pod status.
    pub host_ip: String,
    /// Scripts by name glob (`serve --pod-scripts`), below Rust scripts and annotations.
    pub pod_scripts: PodScriptFile,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig {
            defaults: BehaviourDefaults::default(),
            job_timing: JobTiming::default(),
            workspace_root: std::env::temp_dir()
                .join(format!("slipway-testcluster-pods-{}", std::process::id())),
            // Loopback addresses: nothing a controller dials can leave the machine, and a
            // connection to a pod IP fails at once instead of timing out.
            host_ip: "127.0.0.1".into(),
            pod_scripts: PodScriptFile::default(),
        }
    }
}

/// State shared between the [`Simulation`] handle and its task.
#[derive(Debug, Default)]
pub(super) struct Shared {
    pub(super) scripts: Mutex<HashMap<(String, String), PodScript>>,
    pub(super) defaults: Mutex<Option<BehaviourDefaults>>,
    pub(super) logs: PodLogs,
}

/// Requests from the handle to the task.
pub(super) enum Command {
    /// Scripts or defaults changed: decide every pod again.
    Rescan,
    /// Stop runs, then the task; answer when done.
    Stop(oneshot::Sender<()>),
}

/// A running simulation: the handle tests script it through. Clones share one simulation;
/// dropping the last clone stops it as [`Simulation::stop`] does, without waiting.
#[derive(Debug, Clone)]
pub struct Simulation {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
    task: Arc<TaskGuard>,
}

/// Owns the task; asks it to stop (killing runs, removing containers) when the last handle goes.
#[derive(Debug)]
struct TaskGuard {
    commands: mpsc::UnboundedSender<Command>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        let (done, _) = oneshot::channel();
        let _ = self.commands.send(Command::Stop(done));
    }
}

impl Simulation {
    /// Scripts the pods of `name` in `namespace` (a Pod, or its ReplicaSet, Deployment or Job);
    /// replaces an earlier script for the same name. Rust scripts beat annotations.
    pub fn script(&self, namespace: &str, name: &str, script: PodScript) {
        self.lock_scripts()
            .insert((namespace.to_owned(), name.to_owned()), script);
        let _ = self.commands.send(Command::Rescan);
    }

    /// Scripts how the pods of `name` end, with a termination message.
    pub fn script_pod_outcome(
        &self,
        namespace: &str,
        name: &str,
        outcome: PodOutcome,
        termination_message: &str,
    ) {
        let current = self
            .lock_scripts()
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned()
            .unwrap_or_default();
        self.script(
            namespace,
            name,
            current
                .outcome(outcome)
                .termination_message(termination_message),
        );
    }

    /// Removes the script of `name`.
    pub fn clear_script(&self, namespace: &str, name: &str) {
        self.lock_scripts()
            .remove(&(namespace.to_owned(), name.to_owned()));
        let _ = self.commands.send(Command::Rescan);
    }

    /// Replaces the defaults for unscripted pods (pods already running keep their timeline).
    pub fn set_defaults(&self, defaults: BehaviourDefaults) {
        *self
            .shared
            .defaults
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(defaults);
        let _ = self.commands.send(Command::Rescan);
    }

    /// The log of a pod's container (the first container when `None`), as `GET …/log` serves it.
    pub fn pod_log(&self, namespace: &str, pod: &str, container: Option<&str>) -> Option<String> {
        self.shared.logs.get(namespace, pod, container)
    }

    /// A handle on every pod's logs (for the REST layer).
    pub fn logs(&self) -> PodLogs {
        self.shared.logs.clone()
    }

    /// Stops the simulation: runs are killed (containers removed), nothing more is written.
    pub async fn stop(&self) {
        let (done, stopped) = oneshot::channel();
        if self.commands.send(Command::Stop(done)).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(10), stopped).await;
        }
        let task = self
            .task
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            task.abort();
        }
    }

    fn lock_scripts(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), PodScript>> {
        self.shared
            .scripts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Starts simulating on `cluster` (inside a Tokio runtime).
pub fn start(cluster: Cluster, config: SimulationConfig) -> Simulation {
    // The runners write into the cluster's log store, so the REST layer serves what they capture.
    let shared = Arc::new(Shared {
        logs: cluster.pod_logs().clone(),
        ..Shared::default()
    });
    let (commands, command_rx) = mpsc::unbounded_channel();
    let task = adapter::spawn(cluster, config, shared.clone(), command_rx);
    let task = Arc::new(TaskGuard {
        commands: commands.clone(),
        task: Mutex::new(Some(task)),
    });
    Simulation {
        shared,
        commands,
        task,
    }
}
