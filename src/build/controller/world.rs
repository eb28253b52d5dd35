//! What `decide` looks at: plain data loaded by observe — the BuildRun, its Job, the Job's pod,
//! missing references — and nothing that needs a client.

use k8s_openapi::jiff::Timestamp;

use crate::api::buildrun::{BuildRunSpec, BuildRunStatus};

/// Everything `decide` looks at.
#[derive(Clone, Debug, PartialEq)]
pub struct World {
    /// The BuildRun's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// `metadata.generation`.
    pub generation: Option<i64>,
    /// `metadata.creationTimestamp`.
    pub created: Option<Timestamp>,
    /// The spec.
    pub spec: BuildRunSpec,
    /// The status as stored.
    pub status: BuildRunStatus,
    /// The build number: the stored one, or the next free one.
    pub build_number: i64,
    /// The Job.
    pub job: JobState,
    /// The Job's newest pod.
    pub pod: Option<PodFacts>,
    /// Secrets and ConfigMaps the spec names that do not exist (checked before the Job exists).
    pub missing: Vec<String>,
    /// Now.
    pub now: Timestamp,
}

/// The Job with the build's name.
#[derive(Clone, Debug, PartialEq)]
pub enum JobState {
    /// No such Job.
    Absent,
    /// Our Job (controller owner reference with the BuildRun's UID).
    Owned(JobFacts),
    /// A Job with the name that belongs to something else.
    Foreign {
        /// Its name.
        name: String,
        /// Its controller, as `Kind/name`, if any.
        owner: Option<String>,
    },
}

/// What matters of our Job.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobFacts {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// Creation time.
    pub created: Option<Timestamp>,
    /// Being deleted.
    pub deleting: bool,
    /// The `Failed` condition, when true: reason, message, time.
    pub failed: Option<(String, String, Option<Timestamp>)>,
}

/// What matters of the build pod.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodFacts {
    /// Name.
    pub name: String,
    /// `status.startTime` (the kubelet accepted it).
    pub started: Option<Timestamp>,
    /// `PodScheduled=False` message, when unschedulable.
    pub unschedulable: Option<String>,
    /// Init containers and the build container.
    pub containers: Vec<ContainerFacts>,
}

impl PodFacts {
    pub(super) fn container(&self, name: &str) -> Option<&ContainerState> {
        self.containers
            .iter()
            .find(|container| container.name == name)
            .map(|container| &container.state)
    }
}

/// One container's state.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerFacts {
    /// Container name.
    pub name: String,
    /// State.
    pub state: ContainerState,
}

/// A container's state, as the kubelet reports it.
#[derive(Clone, Debug, PartialEq)]
pub enum ContainerState {
    /// Not started (or no status yet).
    Waiting {
        /// `ContainerCreating`, `PodInitializing`, `CreateContainerConfigError`, …
        reason: String,
        /// The kubelet's message.
        message: String,
    },
    /// Running.
    Running {
        /// Since.
        started: Option<Timestamp>,
    },
    /// Ended.
    Terminated {
        /// Exit code.
        exit_code: i32,
        /// `Completed`, `Error`, `OOMKilled`, …
        reason: String,
        /// The termination message.
        message: String,
        /// Start.
        started: Option<Timestamp>,
        /// End.
        finished: Option<Timestamp>,
    },
}

impl ContainerState {
    pub(super) fn started(&self) -> Option<Timestamp> {
        match self {
            ContainerState::Waiting { .. } => None,
            ContainerState::Running { started } | ContainerState::Terminated { started, .. } => {
                *started
            }
        }
    }
}
