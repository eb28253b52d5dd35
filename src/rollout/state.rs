//! The state machine's plain-data edges: what [`decide`](super::decide::decide) reads (the
//! spec, the persisted status, the [`ObservedWorld`], now) and what it returns (the new status
//! and [`Intent`]s).
//!
//! The observe step fills [`ObservedWorld`] from the API, from the health-check probes that
//! were due ([`super::decide::probes_due`]: it runs them) and from the apply step's record of
//! HTTP hook calls; the apply step executes the intents in order, then the status is written
//! once. Nothing here holds a client.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::health::ProbeResult;
use super::hooks::HookObservation;
use super::traffic::Selection;
use crate::api::deployment::{
    ContainerImage, DeploymentPhase, DeploymentSpec, DeploymentStatus, Hook, LifecycleEvent,
    RolloutStage,
};
use crate::runtime::events::EventIntent;

/// The Deployment record's identity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeploymentIdentity {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.uid` (hook child names derive from it).
    pub uid: String,
    /// `metadata.generation`.
    pub generation: Option<i64>,
}

/// The revision this Deployment rolls out, as the observe step derived it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewRevision {
    /// Hash of the revision's pod template: the target workload's template with the new images.
    pub hash: String,
    /// The new images by container.
    pub images: Vec<ContainerImage>,
    /// Hooks an appspec names, resolved to `spec.hookFunctions` (empty without an appspec).
    pub appspec_hooks: Vec<(LifecycleEvent, Hook)>,
}

/// The user's own apps/v1 Deployment named by `spec.target.workload`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserWorkload {
    /// `spec.replicas`.
    pub replicas: i32,
    /// `status.readyReplicas`.
    pub ready_replicas: i32,
    /// Hash of its pod template as it is (the stable revision's hash on the first rollout).
    pub template_hash: String,
}

/// A revision workload (an apps/v1 Deployment labelled with the target and revision hash).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevisionWorkload {
    /// The revision hash.
    pub hash: String,
    /// `spec.replicas`.
    pub replicas: i32,
    /// `status.readyReplicas`.
    pub ready_replicas: i32,
}

/// How another rollout on the same target stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtherRolloutState {
    /// Not started (Created or Queued).
    Waiting,
    /// Started and not ended.
    Active,
    /// Ended.
    Ended,
}

/// Another `deployments.slipway.dev` on the same target workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherRollout {
    /// Its name.
    pub name: String,
    /// Its `metadata.creationTimestamp` (admission order, then name).
    pub creation_time: Time,
    /// How it stands.
    pub state: OtherRolloutState,
}

/// A spec field naming an object the rollout cannot use, as observe found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidReference {
    /// The spec field (`spec.target.service`).
    pub field: &'static str,
    /// The object it names (`Service shop/web`).
    pub object: String,
    /// What is wrong with it (`which does not exist`).
    pub problem: String,
}

/// Everything observed about the target, loaded once per reconcile.
#[derive(Clone, Debug, PartialEq)]
pub struct ObservedWorld {
    /// The target workload; `None` when it does not exist.
    pub workload: Option<UserWorkload>,
    /// The new revision, or why it cannot be derived (an invalid appspec, an unknown container).
    pub new_revision: Result<NewRevision, String>,
    /// Every revision workload of the target.
    pub revisions: Vec<RevisionWorkload>,
    /// Referenced objects that are missing or unusable (the production Service, the test
    /// Service, the HTTPRoute); the decision reports the first and waits.
    pub invalid_references: Vec<InvalidReference>,
    /// What the production Service selects; `None` when it is not a Slipway selection (the
    /// user's own selector, before the first takeover) or the Service is missing.
    pub production_selection: Option<Selection>,
    /// What the test Service selects, when it exists and selects a Slipway revision.
    pub test_selection: Option<Selection>,
    /// What the canary Service (HTTPRoute mode) selects, when it exists.
    pub canary_selection: Option<Selection>,
    /// The HTTPRoute's `(production Service, canary Service)` weights, when one is referenced
    /// and found (a missing canary backend reads as weight 0).
    pub route_weights: Option<(i32, i32)>,
    /// Hook children found by name.
    pub hooks: Vec<HookObservation>,
    /// Results of the probes observe ran and kept, and of finished Job checks (old ones may be
    /// repeated; they are counted once).
    pub health_results: Vec<ProbeResult>,
    /// The other rollouts on the same target.
    pub rollouts_on_target: Vec<OtherRollout>,
}

/// The input of one decision.
#[derive(Clone, Copy, Debug)]
pub struct DecideInput<'a> {
    /// The record's identity.
    pub identity: &'a DeploymentIdentity,
    /// The record's spec (template and control requests).
    pub spec: &'a DeploymentSpec,
    /// The persisted status (all progress state).
    pub status: &'a DeploymentStatus,
    /// The observed world.
    pub world: &'a ObservedWorld,
    /// The time of the decision.
    pub now: &'a Time,
}

/// The output of one decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The new status, to write once (when it differs from the persisted one).
    pub status: DeploymentStatus,
    /// What to do, in order.
    pub intents: Vec<Intent>,
}

/// Which revision a workload carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevisionRole {
    /// The revision serving before the rollout (a copy of the user's workload on a first rollout).
    Stable,
    /// The revision being rolled out.
    Canary,
}

/// Which Service a selector change is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceRole {
    /// `spec.target.service`.
    Production,
    /// `spec.target.testService`.
    Test,
    /// The Slipway-managed canary Service an HTTPRoute weights against production.
    Canary,
}

/// One thing the apply step does.
#[derive(Clone, Debug, PartialEq)]
pub enum Intent {
    /// Create the revision workload `hash` from the target workload's pod template with `images`
    /// (none: unchanged), labelled with the target and hash, at `replicas`. AlreadyExists is success.
    CreateRevision {
        /// Stable (takeover copy) or canary.
        role: RevisionRole,
        /// The revision hash (also its label value).
        hash: String,
        /// Images to set.
        images: Vec<ContainerImage>,
        /// Desired replicas.
        replicas: i32,
    },
    /// Set the revision workload's `spec.replicas` (0 scales it down; the object stays).
    ScaleRevision {
        /// The revision hash.
        hash: String,
        /// Desired replicas.
        replicas: i32,
    },
    /// Scale the user's own workload (`spec.target.workload`) to zero.
    ScaleDownUserWorkload {
        /// Its name.
        workload: String,
    },
    /// Point a Service at a selection (create the canary Service if it does not exist).
    SetServiceSelector {
        /// Which Service.
        role: ServiceRole,
        /// Its name.
        service: String,
        /// What it selects.
        selection: Selection,
    },
    /// Set the HTTPRoute's backend weights, changing nothing else, under Slipway's field manager.
    SetRouteWeights {
        /// The HTTPRoute's name.
        route: String,
        /// The rule index; every rule naming the production Service when absent.
        rule: Option<i32>,
        /// Weight of the production Service's backend.
        production: (String, i32),
        /// Weight of the canary Service's backend (added when missing).
        canary: (String, i32),
    },
    /// Start the hook child `child_name` (create-if-absent by name: never a second run).
    StartHook {
        /// The lifecycle event.
        event: LifecycleEvent,
        /// Deterministic child name.
        child_name: String,
        /// The hook.
        hook: Box<Hook>,
        /// Time left before it times out (a Job's `activeDeadlineSeconds`, an HTTP timeout).
        timeout: Duration,
    },
    /// Stop a hook child that timed out (delete the Job with its pods; abandon the call).
    StopHook {
        /// The child's name.
        child_name: String,
    },
    /// Reconcile again after this long at the latest.
    RequeueAfter(Duration),
    /// Record an Event on the Deployment (reasons from [`super::reasons`]).
    Event(EventIntent),
}

/// The phase a stage shows.
pub fn phase_of(stage: RolloutStage, waiting_in_queue: bool) -> Option<DeploymentPhase> {
    Some(match stage {
        RolloutStage::Pending if waiting_in_queue => DeploymentPhase::Queued,
        RolloutStage::Pending => DeploymentPhase::Created,
        RolloutStage::AwaitPromote => DeploymentPhase::Ready,
        RolloutStage::TerminationWait | RolloutStage::Finalize => DeploymentPhase::Baking,
        RolloutStage::Done => return None,
        _ => DeploymentPhase::InProgress,
    })
}
