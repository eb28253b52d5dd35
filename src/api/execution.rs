//! The `PipelineExecution` kind: one run of a pipeline — its resolved source revision and variables,
//! per-stage and per-action status, and the control requests (approve, retry, stop) a user makes.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    ArtifactRecord, ChildReference, Conditions, NameValue, conditions_schema, opaque_object_schema,
};
use super::pipeline::{PipelineSpec, RetryMode};

/// One run of a pipeline.
#[derive(CustomResource, Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[kube(
    group = "slipway.dev",
    doc = "One run of a Pipeline: its source revision, variables, stage and action status, and control requests.",
    version = "v1alpha1",
    kind = "PipelineExecution",
    namespaced,
    shortname = "pexec",
    category = "slipway",
    status = "PipelineExecutionStatus",
    validation = Rule::new("self.spec.pipelineRef == oldSelf.spec.pipelineRef").message("spec.pipelineRef is immutable"),
    validation = Rule::new("!has(oldSelf.spec.source) || (has(self.spec.source) && self.spec.source == oldSelf.spec.source)").message("spec.source is immutable once set"),
    validation = Rule::new("(has(self.spec.rollback) == has(oldSelf.spec.rollback)) && (!has(self.spec.rollback) || self.spec.rollback == oldSelf.spec.rollback)").message("spec.rollback is immutable"),
    validation = Rule::new("!has(oldSelf.spec.control) || !has(oldSelf.spec.control.stop) || (has(self.spec.control) && has(self.spec.control.stop) && (self.spec.control.stop.abandon || !oldSelf.spec.control.stop.abandon))").message("spec.control.stop cannot be withdrawn, and an abandon cannot become a wait: a stop may only escalate from waiting to abandoning"),
    printcolumn = r#"{"name":"Pipeline","type":"string","jsonPath":".spec.pipelineRef.name"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Stage","type":"string","jsonPath":".status.currentStage"}"#,
    printcolumn = r#"{"name":"Revision","type":"string","jsonPath":".status.sourceRevision.commitId"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct PipelineExecutionSpec {
    /// The pipeline this run belongs to, in the same namespace.
    pub pipeline_ref: PipelineReference,
    /// What started the run.
    #[serde(default)]
    pub trigger: ExecutionTrigger,
    /// The source revision to run; when absent the controller resolves the head of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRevision>,
    /// Values for pipeline variables, overriding their defaults for this run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50), transform = super::common::unique_names("variable"))]
    pub variables: Vec<NameValue>,
    /// Makes this a rollback run that redeploys what an earlier successful run deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackRequest>,
    /// Requests from users: approvals, retries, stop.
    #[serde(default)]
    pub control: ExecutionControl,
}

/// A pipeline by name.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PipelineReference {
    /// Name of the Pipeline, in the same namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// What started a run.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionTrigger {
    /// The kind of trigger.
    #[serde(default, rename = "type")]
    pub type_: TriggerType,
    /// Who or what started it: a git user, a Kubernetes user, the poller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub actor: Option<String>,
    /// The webhook delivery id, so a redelivery starts no second run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub delivery_id: Option<String>,
    /// Free text about the trigger (event name, pull request number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub detail: Option<String>,
}

/// The kind of trigger that started a run, as CodePipeline names them.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum TriggerType {
    /// Started by hand (`kubectl slipway start` or an applied object).
    #[default]
    StartPipelineExecution,
    /// Started by a webhook delivery.
    Webhook,
    /// Started by a poll that found a new revision.
    PollForSourceChanges,
    /// Started by a new image digest.
    ImagePush,
    /// Started by a change of the pipeline itself.
    PutPipeline,
    /// Started by a stage condition's rollback.
    AutomatedRollback,
    /// Started as a rollback by a person.
    ManualRollback,
}

/// A source revision and the variables the source action exports for it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SourceRevision {
    /// Full commit SHA (git sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-f]{7,64}$"))]
    pub commit_id: Option<String>,
    /// Branch the commit was taken from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_name: Option<String>,
    /// Tag, for tag-triggered runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_name: Option<String>,
    /// First line of the commit message (up to 1024 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub commit_message: Option<String>,
    /// Commit author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Author date, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_date: Option<String>,
    /// `owner/repository`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_repository_name: Option<String>,
    /// Image digest (image sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
    /// Image tag (image sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_tag: Option<String>,
    /// Image reference with digest (image sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "imageURI")]
    pub image_uri: Option<String>,
    /// Object version or ETag (object store sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_version: Option<String>,
}

/// A rollback run's target.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RollbackRequest {
    /// The stage to roll back.
    #[schemars(length(min = 1, max = 100))]
    pub stage: String,
    /// The earlier, successful PipelineExecution whose revision is redeployed; when absent, the
    /// most recent successful run of that stage before the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_execution: Option<String>,
}

/// Requests a user makes of a running execution (level-triggered: they stay in the spec).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionControl {
    /// Answers to approval actions, one per stage, action and attempt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["stage", "action", "attempt"]))]
    pub approvals: Vec<ApprovalResponse>,
    /// Retries of failed stages; the n-th request for a stage starts its attempt n+1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub retries: Vec<RetryRequest>,
    /// Stop the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<StopRequest>,
}

/// An answer to an approval action.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalResponse {
    /// Stage of the approval action.
    #[schemars(length(min = 1, max = 100))]
    pub stage: String,
    /// Name of the approval action.
    #[schemars(length(min = 1, max = 100))]
    pub action: String,
    /// Which attempt of the stage this answers (answers for earlier attempts do not carry over).
    #[serde(default = "default_attempt")]
    #[schemars(range(min = 1))]
    pub attempt: i32,
    /// `Approved` or `Rejected`.
    pub result: ApprovalResult,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 512))]
    pub comment: Option<String>,
    /// Who answered (set by `kubectl slipway approve` from the caller's identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
}

fn default_attempt() -> i32 {
    1
}

/// An approval answer.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum ApprovalResult {
    /// Let the run continue.
    #[default]
    Approved,
    /// Fail the action.
    Rejected,
}

/// A retry of a failed stage.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RetryRequest {
    /// The failed stage to retry.
    #[schemars(length(min = 1, max = 100))]
    pub stage: String,
    /// Retry only failed actions, or all of them.
    #[serde(default)]
    pub mode: RetryMode,
}

/// A stop request.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StopRequest {
    /// `false`: let running actions finish, then stop (Stop and wait); `true`: abandon them at once
    /// (Stop and abandon — their children are stopped too).
    #[serde(default)]
    pub abandon: bool,
    /// Why the run is stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub reason: Option<String>,
}

/// What the controller observed of a run.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PipelineExecutionStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The execution status, with CodePipeline's names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<ExecutionStatus>,
    /// One line on what the run is doing or why it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `Succeeded` (Unknown while running), `Reconciling` and `Stalled` conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Conditions,
    /// `Standard`, or `Rollback` for a rollback run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_type: Option<ExecutionType>,
    /// For a rollback run, the execution whose revision it redeploys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_target: Option<String>,
    /// The revision this run builds and deploys, once resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_revision: Option<SourceRevision>,
    /// Every variable resolved for the run, by namespace (`variables`, `slipway`, action namespaces).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, BTreeMap<String, String>>,
    /// The stage the run is in (or last was in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_stage: Option<String>,
    /// Per-stage status, in pipeline order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageStatus>,
    /// Artifacts produced so far.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<ArtifactRecord>,
    /// When the run started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the run ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
    /// The run that superseded this one, when its status is `Superseded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// The Pipeline's `metadata.generation` this run follows (its stages and actions are those of
    /// `pipelineSpec`, copied when the run started; later changes of the Pipeline do not reach it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_generation: Option<i64>,
    /// The Pipeline's spec when the run started: what this run executes to the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "opaque_object_schema")]
    pub pipeline_spec: Option<Box<PipelineSpec>>,
    /// Why the run waits before a stage (another run holds it, its transition is disabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<StageWait>,
    /// The stop request the controller acted on (a run is stopped once: after a retry of a
    /// stopped stage, the stop in the spec is not applied again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_stop: Option<AppliedStop>,
    /// What each notification sink of the run has received. Written by the notifier (its own
    /// field manager), never by the run's controller.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub notifications: Vec<NotificationProgress>,
}

/// One sink's progress: the notifications it acknowledged and the last failure.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NotificationProgress {
    /// The sink's name in the run's `pipelineSpec.notifications`.
    pub name: String,
    /// Keys of the notifications the sink answered 2xx to (`run:started`, `stage:Build#1:started`,
    /// `action:Build/Image#1:Succeeded`…), in the order they were sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1000))]
    pub delivered: Vec<String>,
    /// Failed attempts since the last delivery (reset by a delivery).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failures: i32,
    /// The last failure: the sink's status code or the connection error, never a body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the last attempt ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt_time: Option<Time>,
}

/// A stop the controller acted on.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AppliedStop {
    /// Whether in-flight actions were abandoned.
    pub abandon: bool,
    /// When the stop was taken up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
}

/// A run waiting to enter a stage.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StageWait {
    /// The stage it waits for.
    pub stage: String,
    /// Why it waits.
    pub reason: WaitReason,
    /// The run holding the stage, when that is the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Since when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Time>,
}

/// Why a run waits before a stage.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum WaitReason {
    /// Another run is in the stage (execution modes `Superseded` and `Queued` lock stages).
    #[default]
    StageLocked,
    /// An older run waits for the stage too and goes first (`Queued`).
    Queued,
    /// The stage's inbound transition is disabled on the Pipeline.
    TransitionDisabled,
}

/// A run's status, as CodePipeline names them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum ExecutionStatus {
    /// Running.
    InProgress,
    /// A stop was requested; running actions finish or are abandoned.
    Stopping,
    /// Stopped on request.
    Stopped,
    /// Every stage succeeded.
    Succeeded,
    /// A newer run took its place.
    Superseded,
    /// A stage failed.
    Failed,
    /// Cancelled before it started (e.g. the pipeline changed while it was queued).
    Cancelled,
}

/// Whether a run is an ordinary or a rollback run.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum ExecutionType {
    /// An ordinary run.
    Standard,
    /// A run that redeploys an earlier revision.
    Rollback,
}

/// A stage's status in a run.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StageStatus {
    /// The stage name.
    pub name: String,
    /// Its status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StageExecutionStatus>,
    /// The attempt (1, then one more per retry).
    #[serde(default = "default_attempt")]
    pub attempt: i32,
    /// Why the stage is in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the current attempt started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the current attempt ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
    /// Per-action status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionStatus>,
    /// How many of `spec.control.retries` for this stage have started an attempt.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retry_requests_applied: i32,
    /// How many attempts an `onFailure: Retry` condition started.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub automatic_retries: i32,
    /// Results of the stage's condition rules, latest evaluation of each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rule_results: Vec<RuleResult>,
    /// The rollback run this stage's failure (or a failed `onSuccess` rule) started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_execution: Option<String>,
    /// Earlier attempts of the stage, oldest first (at most 10 are kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_attempts: Vec<StageAttempt>,
}

fn is_zero(value: &i32) -> bool {
    *value == 0
}

/// One earlier attempt of a stage.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StageAttempt {
    /// The attempt number.
    pub attempt: i32,
    /// How it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StageExecutionStatus>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
    /// Its actions as they ended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionStatus>,
}

/// The result of one stage-condition rule.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RuleResult {
    /// Which condition the rule belongs to.
    pub condition: StageConditionKind,
    /// The rule's name.
    pub rule: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was evaluated and seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When it was evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
}

/// The three stage conditions.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum StageConditionKind {
    /// Checked before the run enters the stage.
    #[default]
    BeforeEntry,
    /// Checked after the stage succeeded.
    OnSuccess,
    /// Applied when the stage failed.
    OnFailure,
}

/// A stage's status, as CodePipeline names them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum StageExecutionStatus {
    /// Running.
    InProgress,
    /// A stop was requested.
    Stopping,
    /// Stopped on request.
    Stopped,
    /// Every action succeeded.
    Succeeded,
    /// The run was superseded while in this stage.
    Superseded,
    /// An action failed.
    Failed,
    /// Cancelled before it started.
    Cancelled,
    /// Skipped by a stage condition.
    Skipped,
}

/// An action's status in a run.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActionStatus {
    /// The action name.
    pub name: String,
    /// Its status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ActionExecutionStatus>,
    /// The stage attempt this action status belongs to.
    #[serde(default = "default_attempt")]
    pub attempt: i32,
    /// The child object running the action (BuildRun, Deployment, Job).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child: Option<ChildReference>,
    /// Output variables the action exported.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub output_variables: BTreeMap<String, String>,
    /// Why the action is in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the action started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the action ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
    /// A link for people: the Jenkins build's page, an approval's review link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
    /// A Jenkins action's queue item and build, so a restart follows the same build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_run: Option<ExternalRun>,
    /// An approval action's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalRecord>,
}

/// A run outside the cluster (a Jenkins build) that an action follows.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalRun {
    /// The Jenkins queue item the trigger returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_url: Option<String>,
    /// The build's URL, once Jenkins started it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_url: Option<String>,
    /// The build's number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_number: Option<i64>,
    /// The build's result as Jenkins names it (`SUCCESS`, `FAILURE`, `ABORTED`, `UNSTABLE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

/// The answer an approval action took.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRecord {
    /// `Approved` or `Rejected`.
    pub result: ApprovalResult,
    /// Who answered, as the answer says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// The answer's comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// An action's status, as CodePipeline names them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum ActionExecutionStatus {
    /// Running.
    InProgress,
    /// Abandoned by a stop, a supersession or a retry of all actions.
    Abandoned,
    /// Succeeded.
    Succeeded,
    /// Failed.
    Failed,
}
