//! The `Deployment` kind (`deployments.slipway.dev`, short name `sdeploy`): one CodeDeploy-style
//! rollout of a revision onto a target — a production Service and an apps/v1 workload used as the
//! template — with a traffic-shifting strategy, lifecycle hooks, health checks and automatic rollback.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    ChildReference, Conditions, DurationString, NameValue, at_most_one_of, conditions_schema,
    exactly_one_of, opaque_object_schema, unchanged_rule, unique_names,
};

/// One rollout of a revision onto a target.
#[derive(CustomResource, KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "slipway.dev",
    doc = "A CodeDeploy deployment: one rollout of a revision onto a Service and workload, with traffic shifting, hooks, health checks and automatic rollback.",
    version = "v1alpha1",
    kind = "Deployment",
    namespaced,
    shortname = "sdeploy",
    category = "slipway",
    status = "DeploymentStatus",
    validation = unchanged_rule(&["target", "revision"], "spec.target and spec.revision are immutable: a Deployment is one rollout, create a new one for another revision"),
    // A stop (and whether it rolls back) is acted on at once and recorded in status; letting it
    // change afterwards would let a rollback be turned off half-way.
    validation = Rule::new("!has(oldSelf.spec.control) || !has(oldSelf.spec.control.stop) || (has(self.spec.control) && has(self.spec.control.stop) && self.spec.control.stop == oldSelf.spec.control.stop)").message("spec.control.stop cannot be changed or withdrawn once set: a stopped rollout stays stopped, create a new Deployment to roll out again"),
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Step","type":"string","jsonPath":".status.currentStep"}"#,
    printcolumn = r#"{"name":"Weight","type":"integer","jsonPath":".status.trafficSplit.canary"}"#,
    printcolumn = r#"{"name":"Revision","type":"string","jsonPath":".status.canaryRevision.hash"}"#,
    printcolumn = r#"{"name":"Target","type":"string","jsonPath":".spec.target.service","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSpec {
    /// What to roll out and how (shared with a pipeline's deploy action).
    #[serde(flatten)]
    pub template: DeploymentTemplate,
    /// Requests from users: promote, stop.
    #[serde(default)]
    pub control: DeploymentControl,
}

/// Everything about a rollout except the control requests: shared by `deployments.slipway.dev`
/// and a pipeline's deploy action (where pipeline variables are substituted first).
#[derive(KubeSchema, Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.target.httpRoute) || !has(self.strategy.rolling)").message("a rolling strategy cannot use target.httpRoute: rolling updates shift pods, not route weights"))]
pub struct DeploymentTemplate {
    /// Where the revision goes: the production Service, the workload used as the template, and
    /// optionally a test Service and a Gateway API HTTPRoute.
    pub target: DeploymentTarget,
    /// What is rolled out: images per container, or an appspec.
    pub revision: DeploymentRevision,
    /// How traffic moves to the new revision; all at once (blue-green) when empty.
    #[serde(default)]
    pub strategy: DeploymentStrategy,
    // Boxed: five inline Job templates made the record so large that deserializing it
    // overflowed a 2 MiB stack in debug builds.
    /// Lifecycle hooks, run at CodeDeploy's lifecycle events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<Box<LifecycleHooks>>,
    /// Named hooks an appspec's `Hooks` section refers to (its function names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20), transform = unique_names("hook function"))]
    pub hook_functions: Vec<NamedHook>,
    /// Health checks; any that crosses its failure threshold fails the rollout.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20), transform = unique_names("health check"))]
    pub health_checks: Vec<HealthCheck>,
    /// When to roll back automatically.
    #[serde(default)]
    pub auto_rollback: AutoRollback,
    /// Seconds the new revision may take to become Ready at any step before the rollout fails.
    #[serde(default = "default_progress_deadline")]
    #[schemars(range(min = 30, max = 86400))]
    pub progress_deadline_seconds: i32,
}

fn default_progress_deadline() -> i32 {
    600
}

/// The target of a rollout.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentTarget {
    /// The production Service whose selector (blue-green) or backends carry live traffic.
    #[schemars(length(min = 1, max = 63))]
    pub service: String,
    /// A Service that receives test traffic for the new revision before production does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub test_service: Option<String>,
    /// The apps/v1 Deployment whose pod template each revision's workload is derived from.
    #[schemars(length(min = 1, max = 253))]
    pub workload: String,
    /// The container that gets the new image and serves traffic; defaults to the first container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The container port that serves traffic; defaults to the Service's target port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i32>,
    /// A Gateway API HTTPRoute whose `backendRefs` weights shift traffic (canary and linear
    /// strategies shift weights instead of replica ratios when it is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_route: Option<HttpRouteReference>,
    /// Scale the user's own workload to zero once the first revision Slipway manages is Ready.
    #[serde(default = "default_true")]
    pub scale_down_workload: bool,
}

fn default_true() -> bool {
    true
}

/// An HTTPRoute in the same namespace.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteReference {
    /// Name of the HTTPRoute.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Index of the rule whose backends are weighted; all rules naming the Service when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 63))]
    pub rule: Option<i32>,
}

/// The revision rolled out. Exactly one of `images` or `appSpec` is set.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = exactly_one_of(&["images", "appSpec"]))]
pub struct DeploymentRevision {
    /// New images by container name; other containers keep the workload's images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 20), transform = container_names_unique)]
    pub images: Option<Vec<ContainerImage>>,
    /// An ECS `appspec.yaml` (YAML or JSON) naming the image(s), container, port and hooks; its
    /// `TaskDefinition` is an image reference or an inline `containerDefinitions` list, and its hook
    /// functions name `hookFunctions`. Lambda and EC2/on-prem appspecs are refused with the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 65536))]
    pub app_spec: Option<String>,
}

fn container_names_unique(schema: &mut schemars::Schema) {
    super::common::add_rule(
        schema,
        "self.all(x, self.exists_one(y, y.container == x.container))",
        "each container may appear once",
    );
}

/// A container's new image.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContainerImage {
    /// Container name in the workload's pod template.
    #[schemars(length(min = 1, max = 63))]
    pub container: String,
    /// Image reference; prefer `repository@sha256:…` so the revision is exact.
    #[schemars(length(min = 1, max = 512))]
    pub image: String,
}

/// How traffic moves to the new revision. At most one of `configName`, `canary`, `linear`, `steps`,
/// `allAtOnce` or `rolling`; `blueGreen` tunes any of them but `rolling`. Empty means all at once.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = at_most_one_of(&["configName", "canary", "linear", "steps", "allAtOnce", "rolling"]))]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "!(has(self.rolling) && has(self.blueGreen))",
    "message": "blueGreen settings do not apply to a rolling strategy"
}]))]
pub struct DeploymentStrategy {
    /// A CodeDeploy predefined deployment configuration by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_name: Option<DeploymentConfigName>,
    /// Shift `percent` of traffic, wait `interval`, then shift the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<TrafficShift>,
    /// Shift `percent` more traffic every `interval` until all of it has moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear: Option<TrafficShift>,
    /// Explicit steps: each sets the new revision's weight and waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 50), transform = steps_ascending)]
    pub steps: Option<Vec<TrafficStep>>,
    /// Shift all traffic at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_at_once: Option<AllAtOnce>,
    /// Replace pods gradually in place, gated on health (no traffic shifting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling: Option<RollingStrategy>,
    /// Blue-green settings: wait for a promote before rerouting, and how long the old revision stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blue_green: Option<BlueGreen>,
}

fn steps_ascending(schema: &mut schemars::Schema) {
    super::common::add_rule(
        schema,
        "self.map(s, s.weight).isSorted() && self[size(self) - 1].weight == 100",
        "step weights must not decrease and the last step must have weight 100",
    );
}

/// CodeDeploy's predefined deployment configurations. ECS and Lambda names of the same shape
/// behave the same.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum DeploymentConfigName {
    /// All traffic at once.
    #[serde(rename = "CodeDeployDefault.ECSAllAtOnce")]
    EcsAllAtOnce,
    /// 10% more every minute.
    #[serde(rename = "CodeDeployDefault.ECSLinear10PercentEvery1Minutes")]
    EcsLinear10PercentEvery1Minutes,
    /// 10% more every 3 minutes.
    #[serde(rename = "CodeDeployDefault.ECSLinear10PercentEvery3Minutes")]
    EcsLinear10PercentEvery3Minutes,
    /// 10%, then the rest after 5 minutes.
    #[serde(rename = "CodeDeployDefault.ECSCanary10Percent5Minutes")]
    EcsCanary10Percent5Minutes,
    /// 10%, then the rest after 15 minutes.
    #[serde(rename = "CodeDeployDefault.ECSCanary10Percent15Minutes")]
    EcsCanary10Percent15Minutes,
    /// All traffic at once.
    #[serde(rename = "CodeDeployDefault.LambdaAllAtOnce")]
    LambdaAllAtOnce,
    /// 10%, then the rest after 5 minutes.
    #[serde(rename = "CodeDeployDefault.LambdaCanary10Percent5Minutes")]
    LambdaCanary10Percent5Minutes,
    /// 10%, then the rest after 10 minutes.
    #[serde(rename = "CodeDeployDefault.LambdaCanary10Percent10Minutes")]
    LambdaCanary10Percent10Minutes,
    /// 10%, then the rest after 15 minutes.
    #[serde(rename = "CodeDeployDefault.LambdaCanary10Percent15Minutes")]
    LambdaCanary10Percent15Minutes,
    /// 10%, then the rest after 30 minutes.
    #[serde(rename = "CodeDeployDefault.LambdaCanary10Percent30Minutes")]
    LambdaCanary10Percent30Minutes,
    /// 10% more every minute.
    #[serde(rename = "CodeDeployDefault.LambdaLinear10PercentEvery1Minute")]
    LambdaLinear10PercentEvery1Minute,
    /// 10% more every 2 minutes.
    #[serde(rename = "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes")]
    LambdaLinear10PercentEvery2Minutes,
    /// 10% more every 3 minutes.
    #[serde(rename = "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes")]
    LambdaLinear10PercentEvery3Minutes,
    /// 10% more every 10 minutes.
    #[serde(rename = "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes")]
    LambdaLinear10PercentEvery10Minutes,
}

/// A canary or linear shift.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TrafficShift {
    /// Percent of traffic shifted (first step for canary, each step for linear), 1–99.
    #[schemars(range(min = 1, max = 99))]
    pub percent: i32,
    /// How long each step bakes before the next.
    pub interval: DurationString,
}

/// One explicit step.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TrafficStep {
    /// The new revision's share of traffic at this step, 0–100.
    #[schemars(range(min = 0, max = 100))]
    pub weight: i32,
    /// How long to bake at this step; absent means wait for a promote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<DurationString>,
}

/// All traffic at once (no settings).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
pub struct AllAtOnce {}

/// A health-gated rolling update.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RollingStrategy {
    /// Pods above the desired count during the update (number or percent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_surge: Option<IntOrString>,
    /// Pods below the desired count during the update (number or percent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<IntOrString>,
}

/// Blue-green settings, as CodeDeploy's blueGreenDeploymentConfiguration.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BlueGreen {
    /// Reroute as soon as the new revision is Ready, or wait for a promote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_option: Option<ReadyOption>,
    /// How long the old revision keeps running after all traffic has moved (so a rollback is instant).
    #[serde(default = "default_termination_wait")]
    pub termination_wait: DurationString,
}

fn default_termination_wait() -> DurationString {
    DurationString::new("5m")
}

/// When to reroute production traffic.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "self.action == 'Wait' || !has(self.waitTimeout)",
    "message": "waitTimeout applies only when action is Wait"
}]))]
pub struct ReadyOption {
    /// `Continue`: reroute once Ready; `Wait`: wait for a promote.
    #[serde(default)]
    pub action: ReadyAction,
    /// For `Wait`: how long to wait for a promote before the rollout is Stopped (CodeDeploy's
    /// STOP_DEPLOYMENT on timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_timeout: Option<DurationString>,
}

/// What to do once the new revision is Ready.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum ReadyAction {
    /// Reroute at once.
    #[default]
    Continue,
    /// Wait for a promote.
    Wait,
}

/// The five ECS lifecycle hooks of CodeDeploy.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleHooks {
    /// Before the new revision's workload is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_install: Option<Hook>,
    /// After the new revision is Ready, before any traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_install: Option<Hook>,
    /// After the test Service points at the new revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_allow_test_traffic: Option<Hook>,
    /// Before production traffic moves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_allow_traffic: Option<Hook>,
    /// After all production traffic has moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_allow_traffic: Option<Hook>,
}

/// A hook: a Job or an HTTP call. Exactly one of `job` or `http` is set.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = exactly_one_of(&["job", "http"]))]
pub struct Hook {
    /// A Job (`batch/v1` JobSpec); exit code 0 means Succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "opaque_object_schema")]
    pub job: Option<k8s_openapi::api::batch::v1::JobSpec>,
    /// An HTTP call; a 2xx answer means Succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpHook>,
    /// How long the hook may take before it fails (CodeDeploy's default: 1 hour).
    #[serde(default = "default_hook_timeout")]
    pub timeout: DurationString,
}

fn default_hook_timeout() -> DurationString {
    DurationString::new("1h")
}

/// A hook an appspec names.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NamedHook {
    /// The name the appspec uses (its Lambda function name or ARN).
    #[schemars(length(min = 1, max = 256))]
    pub name: String,
    /// The hook.
    #[serde(flatten)]
    pub hook: Hook,
}

/// An HTTP hook call.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpHook {
    /// URL to call; it receives a JSON body naming the deployment, revision and lifecycle event.
    #[schemars(regex(pattern = r"^https?://.+$"), length(max = 2048))]
    pub url: String,
    /// HTTP method.
    #[serde(default)]
    pub method: HttpMethod,
    /// Extra request headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub headers: Vec<NameValue>,
}

/// An HTTP method.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// GET.
    Get,
    /// POST.
    #[default]
    Post,
    /// PUT.
    Put,
}

/// A health check. Exactly one of `readiness`, `http`, `prometheus` or `job` is set.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = exactly_one_of(&["readiness", "http", "prometheus", "job"]))]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "!has(self.timeout) || !has(self.interval) || duration(self.timeout) <= duration(self.interval)",
    "message": "timeout must not be longer than interval"
}]))]
pub struct HealthCheck {
    /// Name, unique among the health checks.
    #[schemars(
        regex(pattern = r"^[a-z0-9]([a-z0-9\-]*[a-z0-9])?$"),
        length(min = 1, max = 63)
    )]
    pub name: String,
    /// The new revision's pods stay Ready (no restarts, no readiness failures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<ReadinessCheck>,
    /// An HTTP endpoint answers with an expected status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpCheck>,
    /// A Prometheus query's result meets a condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusCheck>,
    /// A Job exits 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "opaque_object_schema")]
    pub job: Option<k8s_openapi::api::batch::v1::JobSpec>,
    /// Time between two probes.
    #[serde(default = "default_interval")]
    pub interval: DurationString,
    /// Time a probe may take.
    #[serde(default = "default_probe_timeout")]
    pub timeout: DurationString,
    /// Consecutive failures that fail the rollout.
    #[serde(default = "default_failure_threshold")]
    #[schemars(range(min = 1, max = 100))]
    pub failure_threshold: i32,
    /// Consecutive successes needed before a step may advance.
    #[serde(default = "default_success_threshold")]
    #[schemars(range(min = 1, max = 100))]
    pub success_threshold: i32,
}

fn default_interval() -> DurationString {
    DurationString::new("10s")
}

fn default_probe_timeout() -> DurationString {
    DurationString::new("5s")
}

fn default_failure_threshold() -> i32 {
    3
}

fn default_success_threshold() -> i32 {
    1
}

/// Readiness of the new revision's pods.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReadinessCheck {
    /// Container restarts tolerated before the check fails.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub max_restarts: i32,
}

/// An HTTP probe.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = at_most_one_of(&["url", "port"]))]
pub struct HttpCheck {
    /// A full URL to probe; when absent, each new pod is probed at `port` and `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https?://.+$"), length(max = 2048))]
    pub url: Option<String>,
    /// Pod port to probe; defaults to the target port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i32>,
    /// Path to probe on each pod.
    #[serde(default = "default_path")]
    #[schemars(regex(pattern = r"^/.*$"))]
    pub path: String,
    /// `HTTP` or `HTTPS` for pod probes.
    #[serde(default)]
    pub scheme: Scheme,
    /// Status codes that count as healthy; any 2xx when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20), inner(range(min = 100, max = 599)))]
    pub expected_statuses: Vec<i32>,
    /// Extra request headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub headers: Vec<NameValue>,
}

fn default_path() -> String {
    "/".into()
}

/// A URL scheme for probes.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum Scheme {
    /// Plain HTTP.
    #[default]
    Http,
    /// HTTPS (certificates are not verified for pod probes).
    Https,
}

/// A Prometheus query check.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusCheck {
    /// Prometheus base URL.
    #[schemars(regex(pattern = r"^https?://.+$"), length(max = 2048))]
    pub address: String,
    /// PromQL query; `{{revision}}` and `{{namespace}}` are substituted.
    #[schemars(length(min = 1, max = 8192))]
    pub query: String,
    /// CEL expression over `result` (the first sample's value, a double) that means healthy, e.g.
    /// `result < 0.05`.
    #[schemars(length(min = 1, max = 1024))]
    pub success_condition: String,
}

/// When to roll back automatically.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AutoRollback {
    /// Roll back automatically on the listed events.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Which events trigger a rollback.
    #[serde(default = "default_rollback_events")]
    #[schemars(length(max = 3), extend("x-kubernetes-list-type" = "set"))]
    pub events: Vec<AutoRollbackEvent>,
}

impl Default for AutoRollback {
    fn default() -> Self {
        Self {
            enabled: true,
            events: default_rollback_events(),
        }
    }
}

fn default_rollback_events() -> Vec<AutoRollbackEvent> {
    vec![
        AutoRollbackEvent::DeploymentFailure,
        AutoRollbackEvent::HealthCheckFailure,
    ]
}

/// An event that can trigger an automatic rollback.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum AutoRollbackEvent {
    /// The rollout failed (a hook failed, the progress deadline passed).
    DeploymentFailure,
    /// A health check crossed its failure threshold (CodeDeploy's alarm).
    HealthCheckFailure,
    /// A user stopped the rollout.
    DeploymentStopOnRequest,
}

/// Requests a user makes of a rollout (level-triggered: they stay in the spec).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentControl {
    /// Let a waiting rollout continue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promote: Option<Promote>,
    /// Stop the rollout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<DeploymentStop>,
}

/// A promote request.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Promote {
    /// Steps up to and including this index may proceed without waiting for their pause (a
    /// blue-green wait is step 0).
    #[serde(default)]
    #[schemars(range(min = 0, max = 50))]
    pub through_step: i32,
    /// Skip all remaining steps and pauses and shift all traffic now (health checks still apply).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full: bool,
}

/// A stop request.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStop {
    /// Restore all traffic to the stable revision (the default); `false` leaves traffic where it is.
    #[serde(default = "default_true")]
    pub rollback: bool,
    /// Why the rollout is stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub reason: Option<String>,
}

/// What the controller observed of a rollout.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The rollout's phase, with CodeDeploy's names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<DeploymentPhase>,
    /// One line on what the rollout is doing or why it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `Ready`, `Reconciling` and `Stalled` conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Conditions,
    /// Index of the current step of the strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_step: Option<i32>,
    /// Number of steps of the strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_steps: Option<i32>,
    /// When the current step started (bake time is measured from here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_start_time: Option<Time>,
    /// Where in the lifecycle the rollout is: the state machine's own state, finer than `phase`,
    /// so a restarted controller resumes exactly where it stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<RolloutStage>,
    /// When the current stage started (the progress deadline is measured from here while the
    /// rollout waits for pods to become Ready).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_start_time: Option<Time>,
    /// Replicas each revision runs at full size, read from the target workload when the rollout
    /// started (the workload may be scaled to zero afterwards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_replicas: Option<i32>,
    /// Where production traffic goes now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_split: Option<TrafficSplit>,
    /// The revision serving before this rollout (the rollback target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable_revision: Option<RevisionStatus>,
    /// The revision being rolled out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_revision: Option<RevisionStatus>,
    /// Lifecycle events in the order they ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lifecycle_events: Vec<LifecycleEventStatus>,
    /// The latest result of each health check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub health_checks: Vec<HealthCheckStatus>,
    /// Set once a rollback started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackInfo>,
    /// The Deployment this one waits for, when Queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<String>,
    /// When the rollout started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the rollout ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
}

/// A rollout's phase, as CodeDeploy names deployment statuses.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum DeploymentPhase {
    /// Accepted, not started.
    Created,
    /// Waiting for another rollout on the same target to end.
    Queued,
    /// Creating the revision, running hooks or shifting traffic.
    InProgress,
    /// Ready and waiting for a promote before rerouting.
    Ready,
    /// All traffic moved; health checks run until the termination wait ends.
    Baking,
    /// Done; the new revision is stable.
    Succeeded,
    /// Failed (and rolled back when enabled).
    Failed,
    /// Stopped on request (and rolled back when asked).
    Stopped,
}

/// The state machine's stage, in lifecycle order; hook stages are named after their event.
#[derive(
    Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
pub enum RolloutStage {
    /// Not started: waiting to be admitted (Created or Queued).
    Pending,
    /// First rollout on the target: copying the user's workload into a stable revision and
    /// pointing the production Service at it.
    TakeOver,
    /// The BeforeInstall hook.
    BeforeInstall,
    /// Creating the new revision and waiting for it to be Ready.
    Install,
    /// The AfterInstall hook.
    AfterInstall,
    /// Pointing the test Service at the new revision.
    AllowTestTraffic,
    /// The AfterAllowTestTraffic hook.
    AfterAllowTestTraffic,
    /// Blue-green `readyOption: Wait`: waiting for a promote before rerouting.
    AwaitPromote,
    /// The BeforeAllowTraffic hook.
    BeforeAllowTraffic,
    /// Shifting production traffic step by step (or replacing pods, for rolling).
    AllowTraffic,
    /// The AfterAllowTraffic hook.
    AfterAllowTraffic,
    /// All traffic moved; the old revision is kept and health checks keep running.
    TerminationWait,
    /// Making the new revision the stable one and scaling the old one down.
    Finalize,
    /// Restoring all traffic to the stable revision.
    RollingBack,
    /// Ended; `phase` says how.
    Done,
}

/// Where production traffic goes.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TrafficSplit {
    /// Percent on the stable revision.
    pub stable: i32,
    /// Percent on the new revision.
    pub canary: i32,
}

/// A revision's workload and readiness.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RevisionStatus {
    /// Hash of the revision's pod template (the `slipway.dev/revision` label).
    pub hash: String,
    /// The apps/v1 Deployment running it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<ChildReference>,
    /// Images per container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ContainerImage>,
    /// Desired replicas.
    #[serde(default)]
    pub replicas: i32,
    /// Ready replicas.
    #[serde(default)]
    pub ready_replicas: i32,
}

/// A lifecycle event of CodeDeploy.
#[derive(
    Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
pub enum LifecycleEvent {
    /// Before the new revision's workload is created.
    BeforeInstall,
    /// The new revision's workload is created and made Ready.
    Install,
    /// After the new revision is Ready.
    AfterInstall,
    /// The test Service is pointed at the new revision.
    AllowTestTraffic,
    /// After test traffic is allowed.
    AfterAllowTestTraffic,
    /// Before production traffic moves.
    BeforeAllowTraffic,
    /// Production traffic moves.
    AllowTraffic,
    /// After production traffic moved.
    AfterAllowTraffic,
}

/// The status of one lifecycle event.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleEventStatus {
    /// Which event.
    pub name: LifecycleEvent,
    /// Its status.
    pub status: LifecycleEventState,
    /// The hook's Job, when the hook is a Job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child: Option<ChildReference>,
    /// Why it ended this way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Time>,
}

/// A lifecycle event's status, as CodeDeploy names them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum LifecycleEventState {
    /// Not reached yet.
    Pending,
    /// Running.
    InProgress,
    /// Succeeded.
    Succeeded,
    /// Failed.
    Failed,
    /// Not run (no hook, or the rollout ended before it).
    Skipped,
}

/// The latest result of a health check.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheckStatus {
    /// The check's name.
    pub name: String,
    /// `Healthy`, `Unhealthy` or `Unknown`.
    pub result: HealthResult,
    /// Consecutive failed probes.
    #[serde(default)]
    pub consecutive_failures: i32,
    /// Consecutive successful probes.
    #[serde(default)]
    pub consecutive_successes: i32,
    /// Probes counted so far (numbers the next probe, so a Job probe's name is deterministic).
    #[serde(default)]
    pub probes: i32,
    /// When it was last probed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_probe_time: Option<Time>,
    /// What the last probe saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A health check result.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum HealthResult {
    /// Passing.
    Healthy,
    /// Failing.
    Unhealthy,
    /// Not probed yet.
    Unknown,
}

/// A rollback's record.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RollbackInfo {
    /// What triggered it.
    pub reason: AutoRollbackEvent,
    /// Details (the failing check or hook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When all traffic was back on the stable revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_names_read_and_write_as_codedeploy_names() {
        let names = [
            "CodeDeployDefault.ECSAllAtOnce",
            "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
            "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
            "CodeDeployDefault.ECSCanary10Percent5Minutes",
            "CodeDeployDefault.ECSCanary10Percent15Minutes",
            "CodeDeployDefault.LambdaAllAtOnce",
            "CodeDeployDefault.LambdaCanary10Percent5Minutes",
            "CodeDeployDefault.LambdaCanary10Percent10Minutes",
            "CodeDeployDefault.LambdaCanary10Percent15Minutes",
            "CodeDeployDefault.LambdaCanary10Percent30Minutes",
            "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
            "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
            "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
            "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
        ];
        for name in names {
            let parsed: DeploymentConfigName = serde_json::from_value(serde_json::json!(name))
                .unwrap_or_else(|error| panic!("{name}: {error}"));
            assert_eq!(serde_json::to_value(parsed).unwrap(), name);
        }
    }

    #[test]
    fn rollback_is_automatic_on_failure_and_health_by_default() {
        let spec: DeploymentSpec = serde_json::from_value(serde_json::json!({
            "target": {"service": "web", "workload": "web"},
            "revision": {"images": [{"container": "web", "image": "web:2"}]}
        }))
        .unwrap();
        assert!(spec.template.auto_rollback.enabled);
        assert_eq!(
            spec.template.auto_rollback.events,
            [
                AutoRollbackEvent::DeploymentFailure,
                AutoRollbackEvent::HealthCheckFailure
            ]
        );
        assert_eq!(spec.template.strategy, DeploymentStrategy::default());
        assert_eq!(spec.template.progress_deadline_seconds, 600);
        assert!(spec.template.target.scale_down_workload);
    }
}
