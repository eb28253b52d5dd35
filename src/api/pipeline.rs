//! The `Pipeline` kind: a CodePipeline (V2) pipeline — source, triggers, variables, execution mode and
//! stages of actions. Each run is a [`PipelineExecution`](super::execution::PipelineExecution).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::buildrun::BuildConfig;
use super::common::{
    ArtifactStore, Conditions, DurationString, NameValue, SecretKeyReference, SecretReference,
    add_rule, conditions_schema, exactly_one_of, opaque_object_schema, unique_names,
};
use super::deployment::{DeploymentTemplate, PrometheusCheck};

/// A pipeline: where the source comes from, what starts a run, and the stages each run goes through.
#[derive(CustomResource, Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[kube(
    group = "slipway.dev",
    doc = "A CodePipeline pipeline: source, triggers, variables, execution mode and stages of actions.",
    version = "v1alpha1",
    kind = "Pipeline",
    namespaced,
    shortname = "pipe",
    category = "slipway",
    status = "PipelineStatus",
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Last Execution","type":"string","jsonPath":".status.lastExecution.name"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.lastExecution.status"}"#,
    printcolumn = r#"{"name":"Revision","type":"string","jsonPath":".status.lastExecution.revision"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct PipelineSpec {
    /// Where each run's source revision comes from.
    pub source: PipelineSource,
    /// Events that start a run automatically (push, tag, pull request), with filters. Without
    /// triggers, every push to the source branch starts a run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub triggers: Vec<Trigger>,
    /// The webhook receiver's settings for this pipeline's repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookConfig>,
    /// How runs that overlap are handled: `Superseded` (a newer run replaces an older one waiting
    /// to enter a stage), `Queued` (runs go one after another) or `Parallel` (runs are independent).
    #[serde(default)]
    pub execution_mode: ExecutionMode,
    /// Pipeline-level variables, read as `#{variables.NAME}`; a run may override their values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50), transform = unique_names("variable"))]
    pub variables: Vec<PipelineVariable>,
    /// Where artifacts passed between actions are stored; defaults to the controller's store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_store: Option<ArtifactStore>,
    /// How many finished PipelineExecutions to keep; older ones are deleted.
    #[serde(default = "default_history_limit")]
    #[schemars(range(min = 1, max = 1000))]
    pub history_limit: i32,
    /// The stages every run goes through, in order.
    #[schemars(length(min = 2, max = 50), transform = unique_names("stage"))]
    pub stages: Vec<Stage>,
    /// Where runs' state changes are sent (CloudEvents or a JSON webhook), at least once, without
    /// ever holding up or failing a run. A run uses the sinks of the spec it started with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10), transform = unique_names("notification"))]
    pub notifications: Vec<NotificationSink>,
}

/// One notification sink.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NotificationSink {
    /// Unique in the pipeline; names the sink in the run's `status.notifications`.
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub name: String,
    /// The URL the notifications are POSTed to.
    #[schemars(regex(pattern = r"^https?://[^\s]+$"), length(min = 1, max = 2048))]
    pub url: String,
    /// `CloudEvents` (HTTP binary mode: `ce-*` headers, the data as the JSON body) or `Webhook`
    /// (one JSON document with `type`, `id`, `time` and `data`).
    #[serde(default)]
    pub format: NotificationFormat,
    /// What to send: `Execution` (a run started and ended), `Stage` and `Action` (each started and
    /// ended, per attempt); default all three.
    #[serde(default = "default_notification_scopes")]
    #[schemars(length(min = 1, max = 3))]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub on: Vec<NotificationScope>,
    /// A Secret key whose value signs each body: `X-Slipway-Signature-256: sha256=<hex
    /// HMAC-SHA256>`. Unset: unsigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyReference>,
}

fn default_notification_scopes() -> Vec<NotificationScope> {
    vec![
        NotificationScope::Execution,
        NotificationScope::Stage,
        NotificationScope::Action,
    ]
}

/// The body format of a notification sink.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum NotificationFormat {
    /// CloudEvents 1.0 over HTTP, binary mode.
    #[default]
    CloudEvents,
    /// A JSON document `{type, id, source, subject, time, data}`.
    Webhook,
}

/// What a notification is about.
#[derive(
    Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
pub enum NotificationScope {
    /// A run started or ended.
    Execution,
    /// A stage attempt started or ended.
    Stage,
    /// An action attempt started or ended.
    Action,
}

fn default_history_limit() -> i32 {
    20
}

/// The source of a pipeline. Exactly one of `git`, `image` or `objectStore` is set.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = exactly_one_of(&["git", "image", "objectStore"]))]
pub struct PipelineSource {
    /// A git repository and branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitSource>,
    /// An OCI image repository and tag (a new digest starts a run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageSource>,
    /// An object in object storage (a new version or ETag starts a run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_store: Option<ObjectSource>,
    /// Name of the output artifact that holds the source, as later actions name it in `inputArtifacts`.
    #[serde(default = "default_source_artifact")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_\-]+$"), length(min = 1, max = 100))]
    pub output_artifact: String,
    /// Namespace of the source variables (`#{SourceVariables.CommitId}`).
    #[serde(default = "default_source_namespace")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9@_\-]+$"), length(min = 1, max = 100))]
    pub namespace: String,
}

fn default_source_artifact() -> String {
    "SourceArtifact".into()
}

fn default_source_namespace() -> String {
    "SourceVariables".into()
}

/// A git repository source.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GitSource {
    /// Clone URL over HTTPS (`https://host/owner/repo.git`) or SSH (`ssh://…`, `git@host:owner/repo.git`).
    #[schemars(
        regex(pattern = r"^(https?://|ssh://|git@[^:]+:|file://).+$"),
        length(min = 1, max = 2048)
    )]
    pub url: String,
    /// Branch whose pushes start runs.
    #[serde(default = "default_branch")]
    #[schemars(length(min = 1, max = 255))]
    pub branch: String,
    /// Secret with `username` and `password` (a token) for HTTPS, or `ssh-privatekey` (and optionally
    /// `known_hosts`) for SSH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<SecretReference>,
    /// How often the branch is polled for new commits; backs the webhook up when deliveries are lost.
    /// `0s` turns polling off.
    #[serde(default = "default_poll_interval")]
    pub poll_interval: DurationString,
}

fn default_branch() -> String {
    "main".into()
}

fn default_poll_interval() -> DurationString {
    DurationString::new("5m")
}

/// An OCI image source.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImageSource {
    /// Image repository, e.g. `registry.example.com/team/app`.
    #[schemars(length(min = 1, max = 512))]
    pub repository: String,
    /// Tag to follow; a new digest behind it starts a run.
    #[serde(default = "default_tag")]
    #[schemars(length(min = 1, max = 128))]
    pub tag: String,
    /// Secret of type `kubernetes.io/dockerconfigjson` with pull credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<SecretReference>,
    /// How often the tag is polled. `0s` turns polling off.
    #[serde(default = "default_poll_interval")]
    pub poll_interval: DurationString,
}

fn default_tag() -> String {
    "latest".into()
}

/// An object storage source (a zip or tarball of the source).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectSource {
    /// Object URL: `s3://bucket/key.zip`, `gs://bucket/key.zip` or `az://container/key.zip`.
    #[schemars(regex(pattern = r"^(s3|gs|az)://[^/]+/.+$"), length(max = 1024))]
    pub url: String,
    /// S3-compatible endpoint URL, for stores other than AWS S3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Region of the bucket, where the store needs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Secret with the store's credentials; without it the pod's ambient identity is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<SecretReference>,
    /// How often the object is polled for a new version. `0s` turns polling off.
    #[serde(default = "default_poll_interval")]
    pub poll_interval: DurationString,
}

/// An event that starts a run. Exactly one of `push`, `tag` or `pullRequest` is set.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = exactly_one_of(&["push", "tag", "pullRequest"]))]
pub struct Trigger {
    /// Start on pushes to matching branches that touch matching files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<PushTrigger>,
    /// Start on pushed tags that match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<TagTrigger>,
    /// Start on pull request events against matching branches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<PullRequestTrigger>,
}

/// Filters for push events.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PushTrigger {
    /// Branch name globs (`main`, `release/**`); without it, the source branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branches: Option<GlobFilter>,
    /// Changed-file path globs (`src/**`, `!docs/**` is written as an exclude).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_paths: Option<GlobFilter>,
}

/// Filters for tag events.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TagTrigger {
    /// Tag name globs (`v*`, `release-*`).
    pub tags: GlobFilter,
}

/// Filters for pull request events.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PullRequestTrigger {
    /// Which pull request events start a run.
    #[serde(default = "default_pull_request_events")]
    #[schemars(length(min = 1, max = 3))]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub events: Vec<PullRequestEvent>,
    /// Target (base) branch globs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branches: Option<GlobFilter>,
    /// Changed-file path globs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_paths: Option<GlobFilter>,
}

fn default_pull_request_events() -> Vec<PullRequestEvent> {
    vec![PullRequestEvent::Open, PullRequestEvent::Updated]
}

/// A pull request event, named as CodePipeline names them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum PullRequestEvent {
    /// A pull request was opened or reopened.
    Open,
    /// New commits were pushed to a pull request.
    Updated,
    /// A pull request was closed or merged.
    Closed,
}

/// Include and exclude globs; a name matches when it matches an include (or there are none) and no exclude.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "has(self.includes) || has(self.excludes)",
    "message": "set includes, excludes or both"
}]))]
pub struct GlobFilter {
    /// Globs that select names (1–8).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 8), inner(length(min = 1, max = 255)))]
    pub includes: Vec<String>,
    /// Globs that reject names even when an include matches (1–8).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 8), inner(length(min = 1, max = 255)))]
    pub excludes: Vec<String>,
}

/// The webhook receiver's settings for a pipeline.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConfig {
    /// Which git host sends the deliveries; decides the signature check and payload format.
    pub provider: WebhookProvider,
    /// Secret key holding the shared secret (HMAC key or GitLab token). Deliveries are refused
    /// while it is missing: the receiver fails closed.
    pub secret_ref: SecretKeyReference,
    /// For the `generic` provider: the request header holding `sha256=<hex HMAC-SHA256 of the
    /// body>` (or the bare hex); default `X-Slipway-Signature-256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100), regex(pattern = r"^[A-Za-z0-9-]+$"))]
    pub signature_header: Option<String>,
}

/// A git host's webhook dialect.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WebhookProvider {
    /// GitHub.com and GitHub Enterprise Server (`X-Hub-Signature-256`).
    #[default]
    Github,
    /// GitLab (`X-Gitlab-Token`, compared in constant time).
    Gitlab,
    /// Bitbucket Cloud (`X-Hub-Signature: sha256=…`).
    Bitbucket,
    /// Gitea (`X-Gitea-Signature`).
    Gitea,
    /// Forgejo (`X-Forgejo-Signature`, or Gitea's header).
    Forgejo,
    /// Any sender that signs the body with HMAC-SHA256 in `signatureHeader` and posts Slipway's
    /// generic JSON (`{"event":"push","branch":…,"commit":…}`; see the README).
    Generic,
}

impl WebhookProvider {
    /// The provider's name as the spec writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookProvider::Github => "github",
            WebhookProvider::Gitlab => "gitlab",
            WebhookProvider::Bitbucket => "bitbucket",
            WebhookProvider::Gitea => "gitea",
            WebhookProvider::Forgejo => "forgejo",
            WebhookProvider::Generic => "generic",
        }
    }
}

/// How overlapping runs are handled, as in CodePipeline V2.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum ExecutionMode {
    /// A newer run replaces an older one that waits to enter a stage.
    #[default]
    Superseded,
    /// Runs are processed one after another, in order.
    Queued,
    /// Runs are independent of one another.
    Parallel,
}

/// A pipeline-level variable.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PipelineVariable {
    /// Name, read as `#{variables.NAME}`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9@_\-]+$"), length(min = 1, max = 128))]
    pub name: String,
    /// Value used when a run does not override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1000))]
    pub default: Option<String>,
    /// What the variable is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub description: Option<String>,
}

/// A stage: actions run in `runOrder` groups; the stage succeeds when all of them do.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    /// Stage name, unique in the pipeline.
    #[schemars(regex(pattern = r"^[A-Za-z0-9.@_\-]+$"), length(min = 1, max = 100))]
    pub name: String,
    /// The stage's actions; those with the same `runOrder` run in parallel.
    #[schemars(length(min = 1, max = 50), transform = unique_names("action"))]
    pub actions: Vec<Action>,
    /// Whether runs may enter this stage (CodePipeline's inbound transition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<StageTransition>,
    /// Checked before a run enters the stage; `Fail` or `Skip` the stage when a rule fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = results_allowed(&["Fail", "Skip"]))]
    pub before_entry: Option<StageCondition>,
    /// Checked after the stage succeeds; `Rollback` or `Fail` when a rule fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = results_allowed(&["Rollback", "Fail"]))]
    pub on_success: Option<StageCondition>,
    /// What to do when the stage fails: `Rollback`, `Fail`, `Retry` or `Skip` (rules optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<StageCondition>,
}

/// A schema transform limiting a stage condition's result to the given values.
fn results_allowed(results: &'static [&'static str]) -> impl Fn(&mut schemars::Schema) {
    move |schema| {
        let quoted: Vec<String> = results.iter().map(|result| format!("'{result}'")).collect();
        add_rule(
            schema,
            &format!("self.result in [{}]", quoted.join(", ")),
            &format!("result must be one of {} here", results.join(", ")),
        );
    }
}

/// A stage's inbound transition.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "self.enabled || has(self.disabledReason)",
    "message": "disabledReason is required when the transition is disabled"
}]))]
pub struct StageTransition {
    /// `false` holds runs before this stage until it is enabled again.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Why the transition is disabled; shown to whoever finds runs waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 300))]
    pub disabled_reason: Option<String>,
}

fn default_true() -> bool {
    true
}

/// A stage condition: its rules, and what happens when they fail.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "self.result != 'Retry' || has(self.retryMode)", "message": "retryMode is required when result is Retry"},
    {"rule": "self.result == 'Retry' || !has(self.retryMode)", "message": "retryMode is only allowed when result is Retry"}
]))]
pub struct StageCondition {
    /// What happens to the stage when a rule fails (or, for `onFailure`, when the stage fails).
    pub result: ConditionResult,
    /// For `Retry`: retry only the failed actions, or all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_mode: Option<RetryMode>,
    /// The rules; all must pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5), transform = unique_names("rule"))]
    pub rules: Vec<ConditionRule>,
}

/// The result of a stage condition, as CodePipeline names them.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum ConditionResult {
    /// Roll the stage back to the last successful execution's revision.
    Rollback,
    /// Fail the stage.
    #[default]
    Fail,
    /// Retry the stage.
    Retry,
    /// Skip the stage.
    Skip,
}

/// Which actions a retry runs again.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum RetryMode {
    /// Only the actions that failed.
    #[default]
    FailedActions,
    /// Every action of the stage.
    AllActions,
}

/// A rule of a stage condition. Exactly one of `expression`, `deploymentWindow`, `http` or
/// `prometheus` is set.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = exactly_one_of(&["expression", "deploymentWindow", "http", "prometheus"]))]
pub struct ConditionRule {
    /// Rule name, unique in the condition.
    #[schemars(regex(pattern = r"^[A-Za-z0-9.@_\-]+$"), length(min = 1, max = 100))]
    pub name: String,
    /// A CEL expression over `variables` (resolved variables by namespace) and `stage` (the stage's
    /// status); it passes when it evaluates to `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4096))]
    pub expression: Option<String>,
    /// Passes only inside a time window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_window: Option<DeploymentWindow>,
    /// Passes when a GET of the URL answers an expected status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpRule>,
    /// Passes when a Prometheus query's first sample meets a CEL condition (as a rollout's
    /// Prometheus health check; `{{namespace}}` is substituted, `{{revision}}` is the run's
    /// source revision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusCheck>,
}

/// An HTTP rule of a stage condition.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpRule {
    /// The URL to GET; pipeline variables are substituted.
    #[schemars(regex(pattern = r"^https?://.+$"), length(max = 2048))]
    pub url: String,
    /// Status codes that pass; any 2xx when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20), inner(range(min = 100, max = 599)))]
    pub expected_statuses: Vec<i32>,
    /// Extra request headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub headers: Vec<NameValue>,
    /// How long the request may take before the rule fails.
    #[serde(default = "default_rule_timeout")]
    pub timeout: DurationString,
}

fn default_rule_timeout() -> DurationString {
    DurationString::new("10s")
}

/// A time window given by a cron expression that opens it and a duration.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentWindow {
    /// Five-field cron expression of the window's start, e.g. `0 9 * * MON-FRI`.
    #[schemars(length(min = 9, max = 100))]
    pub cron: String,
    /// How long the window stays open after each start.
    pub duration: DurationString,
    /// IANA time zone the cron expression is read in.
    #[serde(default = "default_time_zone")]
    #[schemars(length(min = 1, max = 64))]
    pub time_zone: String,
}

fn default_time_zone() -> String {
    "UTC".into()
}

/// An action of a stage. Exactly one of `build`, `deploy`, `approval`, `job` or `jenkins` is set.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = exactly_one_of(&["build", "deploy", "approval", "job", "jenkins"]))]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "!has(self.timeoutInMinutes) || !(has(self.build) || has(self.approval))",
    "message": "timeoutInMinutes is not used by build and approval actions: set build.timeoutInMinutes or approval.timeoutInMinutes"
}]))]
pub struct Action {
    /// Action name, unique in the stage.
    #[schemars(regex(pattern = r"^[A-Za-z0-9.@_\-]+$"), length(min = 1, max = 100))]
    pub name: String,
    /// Actions with a lower run order finish before those with a higher one start.
    #[serde(default = "default_run_order")]
    #[schemars(range(min = 1, max = 999))]
    pub run_order: i32,
    /// Build and push images, as a CodeBuild action (creates a BuildRun).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildConfig>,
    /// Roll a revision out, as a CodeDeploy action (creates a `deployments.slipway.dev`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<DeploymentTemplate>,
    /// Wait for a person to approve or reject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalAction>,
    /// Run a Kubernetes Job (tests, invocations); exit code 0 succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobAction>,
    /// Run a Jenkins job and wait for its result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jenkins: Option<JenkinsAction>,
    /// Artifacts the action reads, by the names earlier actions gave them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 10),
        inner(regex(pattern = r"^[A-Za-z0-9_\-]+$"), length(min = 1, max = 100))
    )]
    pub input_artifacts: Vec<String>,
    /// Artifacts the action produces, named for later actions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 10),
        inner(regex(pattern = r"^[A-Za-z0-9_\-]+$"), length(min = 1, max = 100))
    )]
    pub output_artifacts: Vec<String>,
    /// Namespace of the action's output variables, read as `#{NAMESPACE.NAME}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9@_\-]+$"), length(min = 1, max = 100))]
    pub namespace: Option<String>,
    /// Fails a deploy, job or Jenkins action that runs longer (build and approval actions have their
    /// own `timeoutInMinutes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 5, max = 86400))]
    pub timeout_in_minutes: Option<i32>,
}

fn default_run_order() -> i32 {
    1
}

/// A manual approval.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalAction {
    /// What the approver is asked to review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 512))]
    pub summary: Option<String>,
    /// A link for the approver (a staging URL, a change request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub external_url: Option<String>,
    /// Minutes before an unanswered approval fails the action (5 minutes to 60 days; default 7 days).
    #[serde(default = "default_approval_timeout")]
    #[schemars(range(min = 5, max = 86400))]
    pub timeout_in_minutes: i32,
    /// Users or groups (as Kubernetes sees them) whose answer counts; empty means anyone allowed to
    /// patch the PipelineExecution.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub approvers: Vec<String>,
}

fn default_approval_timeout() -> i32 {
    7 * 24 * 60
}

/// A Job run as an action.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JobAction {
    /// The Job's spec (`batch/v1` JobSpec). Input artifacts are mounted under `/workspace`; pipeline
    /// variables are substituted into string fields.
    #[schemars(schema_with = "opaque_object_schema")]
    pub template: k8s_openapi::api::batch::v1::JobSpec,
    /// Names of output variables the Job exports: it writes `NAME=value` lines to
    /// `/dev/termination-log` and these names are kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub output_variables: Vec<String>,
}

/// A Jenkins job run as an action.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JenkinsAction {
    /// Jenkins base URL.
    #[schemars(regex(pattern = r"^https?://.+$"), length(max = 2048))]
    pub url: String,
    /// Job path, e.g. `folder/my-job`.
    #[schemars(length(min = 1, max = 512))]
    pub job_name: String,
    /// Secret with `username` and `token`.
    pub credentials_secret: SecretReference,
    /// Build parameters; pipeline variables are substituted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub parameters: Vec<NameValue>,
}

/// What the controller last observed of a pipeline.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PipelineStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Active` (valid, accepting runs), `Running` (a run is in progress) or `Invalid` (see `message`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<PipelinePhase>,
    /// One line on the pipeline's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `Ready`, `Reconciling` and `Stalled` conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Conditions,
    /// The most recent run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_execution: Option<ExecutionSummary>,
    /// The source revision most recently seen (by webhook or poll).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_revision: Option<String>,
    /// When the source was last polled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_poll_time: Option<Time>,
    /// Path of this pipeline's webhook on the receiver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_path: Option<String>,
    /// The newest webhook deliveries (at most 20, newest first): what each was and what the
    /// receiver did with it. Written by the receiver, not the Pipeline controller.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub recent_deliveries: Vec<DeliveryRecord>,
}

/// The lifecycle phase of a pipeline.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum PipelinePhase {
    /// Valid and waiting for a trigger.
    Active,
    /// At least one run is in progress.
    Running,
    /// The spec is invalid; the message names the field.
    Invalid,
}

/// A short summary of one run.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionSummary {
    /// Name of the PipelineExecution.
    pub name: String,
    /// Its status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<super::execution::ExecutionStatus>,
    /// Its source revision (commit id, image digest or object version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
}

/// One webhook delivery as the receiver handled it. Holds no payload content beyond the names
/// filters read (event, ref, revision) and never a secret.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRecord {
    /// The provider's delivery id (or `sha256:<body hash>` when it sends none).
    pub id: String,
    /// When the receiver answered it.
    pub time: Time,
    /// The provider's event name (`push`, `pull_request`, `Push Hook`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The branch or tag the event is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The commit the event points at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// `Accepted`, `Filtered`, `Ignored`, `Duplicate` or `Failed`.
    pub outcome: DeliveryOutcome,
    /// Why: the filter that rejected it, the run it started, the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The PipelineExecution it started (or that already existed for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<String>,
}

/// What the receiver did with a delivery.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// It started a run.
    #[default]
    Accepted,
    /// The pipeline's triggers do not ask for it; the message names the filter.
    Filtered,
    /// An event that starts nothing (a ping, a deleted branch, an event kind Slipway does not run).
    Ignored,
    /// A redelivery: its run already exists.
    Duplicate,
    /// Its run could not be created; the poll backs it up.
    Failed,
}
