//! The planner: one pure function from a run and what observe saw to the run's next status
//! and the intents that make it so ([`decide`]).
//!
//! # How a run moves
//! ```text
//!  (new) ──start──▶ InProgress ──▶ for each stage in order:
//!                      │   wait before it  (transition disabled │ another run holds it │ an older run queued)
//!                      │     └─ Superseded mode: a newer run reached the stage → this run Superseded
//!                      │     └─ the Pipeline changed and lost the stage → Cancelled
//!                      │   admitted (stage lock) → beforeEntry rules → Fail │ Skip │ enter
//!                      │   actions by runOrder group → all Succeeded → onSuccess rules → next stage
//!                      │                            └ one Failed (siblings done) → onFailure: Retry │ Rollback │ Skip │ Fail
//!                      ▼
//!  Succeeded │ Failed │ Stopped (stop: wait for in-flight actions, or abandon them) │ Superseded │ Cancelled
//!  Failed/Stopped ──spec.control.retries──▶ the stage's next attempt (FailedActions │ AllActions)
//! ```
//!
//! # Guarantees
//! - **Level-triggered**: every fact the next decision needs is in the returned status (stage
//!   and action statuses with attempts, children by name, rule results, applied control
//!   requests), so deciding again over the same observation gives the same intents, and a
//!   restart between any intent and the status write resumes (children are created
//!   create-if-absent under deterministic names).
//! - **Control requests apply once**: approvals are keyed by stage, action and attempt; the
//!   n-th retry request of a stage is applied when `retryRequestsApplied` says n−1 were; a stop is
//!   taken up once (`appliedStop`).
//! - **Stage locks** (see [`crate::pipeline::admission`]): the decision says which stage the run
//!   must hold ([`Intent::Lock`]); apply writes that change first and applies nothing else when it
//!   loses the race.

mod actions;
mod control;
mod facts;
mod fold;
mod stages;
mod start;
mod summary;

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;

use crate::api::Deployment;
use crate::api::buildrun::BuildRun;
use crate::api::execution::{PipelineExecution, PipelineExecutionStatus, StageConditionKind};
use crate::api::pipeline::{ConditionRule, JenkinsAction, PipelineSpec};
use crate::build::job::JobOptions;
use crate::pipeline::admission::{LockChange, LockHolder};
use crate::pipeline::rules::RuleContext;
use crate::runtime::events::EventIntent;

pub use control::rollback_execution;
pub use facts::{
    BuildFacts, ChildFacts, DeployFacts, JenkinsObservation, JobFacts, JobOutcome, LivePipeline,
    Observed, Peer, Run, is_terminal, stage_ended,
};
pub use fold::{fold_external_run, fold_rule_results};
pub use start::{needs_source_resolution, repository_name};

/// What the run asks of the cluster (and of Jenkins and rule endpoints) this reconcile.
#[derive(Clone, Debug)]
pub enum Intent {
    /// Make the Pipeline the run's controller owner (a run created by hand has none).
    AdoptByPipeline {
        /// The Pipeline's name.
        name: String,
        /// The Pipeline's UID.
        uid: String,
    },
    /// Change the stage locks on the Pipeline (first, and alone when it conflicts).
    Lock(LockChange),
    /// Create a child (create-if-absent).
    Create(Box<Child>),
    /// Stop a child of an abandoned or timed-out action.
    Stop(ChildStop),
    /// Start a Jenkins job for an action (finding an earlier trigger of it first).
    TriggerJenkins(Box<JenkinsTrigger>),
    /// Evaluate rules that need I/O; their results go into the status written next.
    EvaluateRules(Box<RuleEvaluation>),
    /// Create a rollback run (create-if-absent).
    CreateRollback(Box<PipelineExecution>),
}

/// A child to create.
#[derive(Clone, Debug)]
pub enum Child {
    /// For a build action.
    Build(Box<BuildRun>),
    /// For a deploy action.
    Deploy(Box<Deployment>),
    /// For a job action.
    Job(Box<Job>),
}

/// The kinds of children.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildKind {
    /// `BuildRun`.
    Build,
    /// `deployments.slipway.dev`.
    Deploy,
    /// batch/v1 `Job`.
    Job,
}

impl ChildKind {
    /// `apiVersion` of the kind.
    pub fn api_version(self) -> &'static str {
        match self {
            ChildKind::Build | ChildKind::Deploy => "slipway.dev/v1alpha1",
            ChildKind::Job => "batch/v1",
        }
    }

    /// `kind` of the kind.
    pub fn kind(self) -> &'static str {
        match self {
            ChildKind::Build => "BuildRun",
            ChildKind::Deploy => "Deployment",
            ChildKind::Job => "Job",
        }
    }
}

/// Stop one child: a BuildRun's `spec.stop`, a rollout's stop with rollback, a Job's deletion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildStop {
    /// Its kind.
    pub kind: ChildKind,
    /// Its name.
    pub name: String,
    /// Its UID (a same-named successor is never touched).
    pub uid: String,
    /// Why.
    pub reason: String,
}

/// A Jenkins action to start.
#[derive(Clone, Debug, PartialEq)]
pub struct JenkinsTrigger {
    /// The stage.
    pub stage: String,
    /// The action.
    pub action: String,
    /// The action's child name (the key of its Jenkins observations).
    pub key: String,
    /// The id passed as `SLIPWAY_ACTION_ID` so a restart finds the build again.
    pub action_id: String,
    /// The action's configuration, variables substituted.
    pub config: JenkinsAction,
}

/// Rules whose results the next decision needs.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleEvaluation {
    /// The stage.
    pub stage: String,
    /// Which condition.
    pub condition: StageConditionKind,
    /// The rules (variables substituted).
    pub rules: Vec<ConditionRule>,
    /// What they see.
    pub context: RuleContext,
}

/// The decision over one reconcile.
#[derive(Clone, Debug)]
pub struct Decision {
    /// The status to write.
    pub status: PipelineExecutionStatus,
    /// What to do, in order.
    pub intents: Vec<Intent>,
    /// Events to publish on the run.
    pub events: Vec<EventIntent>,
    /// When to look again without a change (timeouts, Jenkins polls).
    pub requeue_after: Option<Duration>,
}

/// The controller's settings the planner needs.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PlanSettings {
    /// How Job children fetch input artifacts (the executor image).
    pub job: JobOptions,
}

/// Decides the run's next step.
pub fn decide(run: &Run, observed: &Observed, settings: &PlanSettings) -> Decision {
    let mut planner = Planner::new(run, observed, settings);
    planner.plan();
    planner.finish()
}

/// The decision being built: the run, what was observed, and the status so far.
pub(crate) struct Planner<'a> {
    run: &'a Run,
    observed: &'a Observed,
    settings: &'a PlanSettings,
    status: PipelineExecutionStatus,
    intents: Vec<Intent>,
    events: Vec<EventIntent>,
    requeue_after: Option<Duration>,
    /// The stage the run must hold when the decision is applied (None: none).
    hold: Option<String>,
    /// Why the run waits for a user before it can start (the summary's reason).
    blocked: Option<&'static str>,
    /// Why the run failed, when it failed this reconcile or before starting.
    failure_reason: Option<&'static str>,
}

impl<'a> Planner<'a> {
    fn new(run: &'a Run, observed: &'a Observed, settings: &'a PlanSettings) -> Self {
        Self {
            run,
            observed,
            settings,
            status: run.status.clone(),
            intents: Vec::new(),
            events: Vec::new(),
            requeue_after: None,
            hold: None,
            blocked: None,
            failure_reason: None,
        }
    }

    fn plan(&mut self) {
        self.status.observed_generation = self.run.generation;
        if self.status.phase.is_none() && !self.start() {
            return;
        }
        self.apply_retries();
        if is_terminal(self.status.phase) {
            return;
        }
        self.apply_stop();
        self.progress();
    }

    fn finish(mut self) -> Decision {
        self.settle_locks();
        self.summarize();
        Decision {
            status: self.status,
            intents: self.intents,
            events: fold_progress(self.events),
            requeue_after: self.requeue_after,
        }
    }

    /// The spec the run executes (set by start).
    fn snapshot(&self) -> Option<&PipelineSpec> {
        self.status.pipeline_spec.as_deref()
    }

    fn now(&self) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(crate::runtime::whole_seconds(
            self.observed.now,
        ))
    }

    fn requeue_within(&mut self, after: Duration) {
        let after = after.max(Duration::from_secs(1));
        self.requeue_after = Some(
            self.requeue_after
                .map_or(after, |current| current.min(after)),
        );
    }

    fn event(&mut self, event: EventIntent) {
        self.events.push(event);
    }

    fn holder(&self) -> LockHolder {
        LockHolder {
            execution: self.run.name.clone(),
            uid: self.run.uid.clone(),
        }
    }

    /// One lock intent making the run hold exactly [`Self::hold`] (none once it ended).
    fn settle_locks(&mut self) {
        let Some(pipeline) = &self.observed.pipeline else {
            return;
        };
        let holder = self.holder();
        if is_terminal(self.status.phase) {
            self.hold = None;
        }
        let release: Vec<String> = pipeline
            .locks
            .iter()
            .filter(|(stage, owner)| **owner == holder && Some(*stage) != self.hold.as_ref())
            .map(|(stage, _)| stage.clone())
            .collect();
        let change = LockChange {
            acquire: self.hold.clone(),
            release,
        };
        if !change.is_noop(&pipeline.locks, &holder) {
            self.intents.insert(0, Intent::Lock(change));
        }
    }
}

/// Reasons that only say a run moved forward, least telling first: a folded Event takes the
/// most telling reason of its stretch (the run succeeded, a stage started, …).
const PROGRESS: &[&str] = &[
    crate::pipeline::reasons::ACTION_STARTED,
    crate::pipeline::reasons::ACTION_SUCCEEDED,
    crate::pipeline::reasons::STARTED,
    crate::pipeline::reasons::STAGE_SUCCEEDED,
    crate::pipeline::reasons::STAGE_STARTED,
    crate::pipeline::reasons::SUCCEEDED,
];

fn rank(reason: &str) -> Option<usize> {
    PROGRESS.iter().position(|known| *known == reason)
}

/// One Event for each stretch of progress a decision made (an action and its stage succeeded,
/// the next stage and its actions started): the stretch's most telling reason, every note in
/// order. Warnings and other reasons stay Events of their own. Every state change is still told;
/// a stage transition costs one Event write instead of four.
fn fold_progress(events: Vec<EventIntent>) -> Vec<EventIntent> {
    let mut folded: Vec<EventIntent> = Vec::with_capacity(events.len());
    let mut open = false;
    for event in events {
        let progress = !event.warning && rank(event.reason).is_some();
        match folded.last_mut() {
            Some(last) if progress && open => {
                if rank(event.reason) > rank(last.reason) {
                    last.reason = event.reason;
                }
                last.note = format!("{}; {}", last.note, event.note);
            }
            _ => folded.push(event),
        }
        open = progress;
    }
    folded
}

#[cfg(test)]
mod tests;
