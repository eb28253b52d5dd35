//! What the planner reads besides the run itself: the live Pipeline, the other runs of the
//! pipeline, the run's children and the outcomes of I/O the controller did for it — all plain
//! data, loaded by the controller's observe step.

use std::collections::BTreeMap;

use k8s_openapi::jiff::Timestamp;

use crate::api::buildrun::{BuildStatus, ImageResult};
use crate::api::common::{ArtifactRecord, NameValue};
use crate::api::deployment::DeploymentPhase;
use crate::api::execution::{
    ExecutionStatus, PipelineExecutionSpec, PipelineExecutionStatus, SourceRevision,
    StageExecutionStatus,
};
use crate::api::pipeline::PipelineSpec;
use crate::pipeline::admission::StageLocks;

/// The run being decided.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// Namespace.
    pub namespace: String,
    /// `metadata.creationTimestamp`.
    pub created: Timestamp,
    /// `metadata.generation`.
    pub generation: Option<i64>,
    /// Whether the Pipeline is its controller owner already.
    pub owned_by_pipeline: bool,
    /// The spec.
    pub spec: PipelineExecutionSpec,
    /// The status as stored.
    pub status: PipelineExecutionStatus,
}

/// The Pipeline as it is now.
#[derive(Clone, Debug, PartialEq)]
pub struct LivePipeline {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// `metadata.generation`.
    pub generation: Option<i64>,
    /// The spec.
    pub spec: PipelineSpec,
    /// The stage locks (see [`crate::pipeline::admission`]).
    pub locks: StageLocks,
}

/// Another run of the same pipeline (from the controller's cache).
#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// `metadata.creationTimestamp`.
    pub created: Timestamp,
    /// Whether it is a rollback run.
    pub rollback: bool,
    /// Its status.
    pub status: PipelineExecutionStatus,
}

impl Peer {
    /// Whether it has ended (a retry may still revive a Failed or Stopped one).
    pub fn ended(&self) -> bool {
        is_terminal(self.status.phase)
    }

    /// The status of `stage` in it, if it reached the stage.
    pub fn stage(&self, stage: &str) -> Option<StageExecutionStatus> {
        self.status
            .stages
            .iter()
            .find(|status| status.name == stage)
            .and_then(|status| status.status)
    }

    /// Whether it is inside `stage` now.
    pub fn inside(&self, stage: &str) -> bool {
        !self.ended()
            && matches!(
                self.stage(stage),
                Some(StageExecutionStatus::InProgress | StageExecutionStatus::Stopping)
            )
    }

    /// Whether it waits to enter `stage` now.
    pub fn waiting_at(&self, stage: &str) -> bool {
        !self.ended()
            && self
                .status
                .waiting
                .as_ref()
                .is_some_and(|waiting| waiting.stage == stage)
    }
}

/// Whether an execution status is an end (no automatic progress from it).
pub fn is_terminal(phase: Option<ExecutionStatus>) -> bool {
    matches!(
        phase,
        Some(
            ExecutionStatus::Succeeded
                | ExecutionStatus::Failed
                | ExecutionStatus::Stopped
                | ExecutionStatus::Superseded
                | ExecutionStatus::Cancelled
        )
    )
}

/// Whether a stage status is an end.
pub fn stage_ended(status: Option<StageExecutionStatus>) -> bool {
    matches!(
        status,
        Some(
            StageExecutionStatus::Succeeded
                | StageExecutionStatus::Failed
                | StageExecutionStatus::Stopped
                | StageExecutionStatus::Superseded
                | StageExecutionStatus::Cancelled
                | StageExecutionStatus::Skipped
        )
    )
}

/// A child object found by name among the run's children.
#[derive(Clone, Debug, PartialEq)]
pub enum ChildFacts {
    /// A BuildRun owned by the run.
    Build(BuildFacts),
    /// A `deployments.slipway.dev` record owned by the run.
    Deploy(DeployFacts),
    /// A Job owned by the run.
    Job(JobFacts),
    /// An object with the child's name that the run does not own.
    Foreign {
        /// `Kind/name` of its controller, if any.
        owner: Option<String>,
    },
}

impl ChildFacts {
    /// The child's UID (none for a foreign object).
    pub fn uid(&self) -> Option<&str> {
        match self {
            ChildFacts::Build(facts) => Some(&facts.uid),
            ChildFacts::Deploy(facts) => Some(&facts.uid),
            ChildFacts::Job(facts) => Some(&facts.uid),
            ChildFacts::Foreign { .. } => None,
        }
    }
}

/// What the run needs of a BuildRun.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BuildFacts {
    /// UID.
    pub uid: String,
    /// CodeBuild status.
    pub status: Option<BuildStatus>,
    /// Its one-line message.
    pub message: Option<String>,
    /// Exported variables.
    pub exported: Vec<NameValue>,
    /// Pushed images.
    pub images: Vec<ImageResult>,
    /// Uploaded artifacts.
    pub artifacts: Vec<ArtifactRecord>,
    /// `spec.stop` is set.
    pub stop_requested: bool,
}

/// What the run needs of a rollout record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeployFacts {
    /// UID.
    pub uid: String,
    /// Phase.
    pub phase: Option<DeploymentPhase>,
    /// Its one-line message.
    pub message: Option<String>,
    /// `spec.control.stop` is set.
    pub stop_requested: bool,
}

/// What the run needs of a Job.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobFacts {
    /// UID.
    pub uid: String,
    /// How it stands.
    pub outcome: JobOutcome,
    /// Termination messages of its pods' containers (newest pod first).
    pub termination_messages: Vec<String>,
    /// Being deleted.
    pub deleting: bool,
}

/// A Job's end, as its conditions say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum JobOutcome {
    /// Not ended.
    #[default]
    Running,
    /// `Complete`.
    Succeeded,
    /// `Failed`, with the condition's reason and message.
    Failed(String),
}

/// What the controller learnt of a Jenkins action's run this reconcile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JenkinsObservation {
    /// Still queued or building (with what was read of it).
    Running(crate::api::execution::ExternalRun),
    /// Ended; `passed` for `SUCCESS`.
    Ended {
        /// What was read.
        run: crate::api::execution::ExternalRun,
        /// `SUCCESS`.
        passed: bool,
        /// Why, for people.
        message: String,
    },
    /// Jenkins cannot be used for this action (credentials refused, job missing).
    Refused(String),
}

/// Everything observe hands the planner.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// The Pipeline, or `None` when it does not exist.
    pub pipeline: Option<LivePipeline>,
    /// The other runs of the pipeline.
    pub peers: Vec<Peer>,
    /// The run's children by name.
    pub children: BTreeMap<String, ChildFacts>,
    /// The source revision resolved for a run without a commit (`Err`: why it could not be).
    pub resolved_source: Option<Result<SourceRevision, String>>,
    /// Jenkins runs read this reconcile, by child name of the action.
    pub jenkins: BTreeMap<String, JenkinsObservation>,
    /// Now.
    pub now: Timestamp,
}
