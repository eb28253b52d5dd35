//! The `BuildRun` kind: one CodeBuild build — source, buildspec, environment and image outputs — run
//! as one Kubernetes Job whose pod runs `slipway executor`.

use k8s_openapi::api::core::v1::{EnvFromSource, EnvVar, ResourceRequirements, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::common::{
    ArtifactRecord, ArtifactStore, Conditions, NameValue, SecretReference, at_most_one_of,
    conditions_schema, unchanged_rule,
};

/// One build: fetch the source, run the buildspec's phases, build and push images, upload artifacts.
#[derive(CustomResource, KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "slipway.dev",
    doc = "A CodeBuild build: source, buildspec, environment and image outputs, run as one Job.",
    version = "v1alpha1",
    kind = "BuildRun",
    namespaced,
    shortname = "br",
    category = "slipway",
    status = "BuildRunStatus",
    validation = unchanged_rule(
        &["source", "buildspec", "environment", "images", "artifactStore", "timeoutInMinutes", "queuedTimeoutInMinutes"],
        "a BuildRun's spec is immutable except spec.stop: create a new BuildRun instead",
    ),
    validation = Rule::new("!has(oldSelf.spec.stop) || has(self.spec.stop)").message("spec.stop cannot be removed once set"),
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.buildStatus"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.currentPhase"}"#,
    printcolumn = r#"{"name":"Image","type":"string","jsonPath":".status.images[0].imageURI"}"#,
    printcolumn = r#"{"name":"Duration","type":"string","jsonPath":".status.durationInSeconds","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.source) || (has(self.buildspec) && has(self.buildspec.inline))").message("a build without a source needs an inline buildspec: set spec.source or spec.buildspec.inline"))]
pub struct BuildRunSpec {
    /// Where the source comes from; without it the build runs an inline buildspec on an empty
    /// directory (CodeBuild's NO_SOURCE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<BuildSource>,
    /// The buildspec, environment, image outputs and limits (shared with a pipeline's build action).
    #[serde(flatten)]
    pub config: BuildConfig,
    /// Stop the build: the Job is deleted and the build ends `STOPPED`. Cannot be undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<BuildStop>,
}

/// The source of a build. Exactly one of `git` or `artifact` is set.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = super::common::exactly_one_of(&["git", "artifact"]))]
pub struct BuildSource {
    /// A git repository at an exact revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitRevision>,
    /// An artifact from the artifact store (a pipeline's input artifact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<ArtifactSource>,
}

/// A git repository at a revision.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GitRevision {
    /// Clone URL over HTTPS or SSH.
    #[schemars(
        regex(pattern = r"^(https?://|ssh://|git@[^:]+:|file://).+$"),
        length(min = 1, max = 2048)
    )]
    pub url: String,
    /// Commit SHA, branch or tag (`CODEBUILD_SOURCE_VERSION`); resolved to a commit before the build
    /// starts (`CODEBUILD_RESOLVED_SOURCE_VERSION`).
    #[serde(default = "default_revision")]
    #[schemars(length(min = 1, max = 255))]
    pub revision: String,
    /// Secret with `username`/`password` (HTTPS) or `ssh-privatekey` (SSH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<SecretReference>,
    /// Shallow clone depth; 0 fetches the full history.
    #[serde(default = "default_depth")]
    #[schemars(range(min = 0))]
    pub depth: i32,
    /// Also fetch submodules.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub submodules: bool,
}

fn default_revision() -> String {
    "main".into()
}

fn default_depth() -> i32 {
    1
}

/// An artifact used as a build's source.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactSource {
    /// Artifact location as recorded by the producer (`oci://…@sha256:…`, `s3://…`).
    #[schemars(length(min = 1, max = 2048))]
    pub location: String,
    /// Expected content digest; the build fails on a mismatch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// Everything about a build except its source: shared by BuildRun and a pipeline's build action.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BuildConfig {
    /// The buildspec to run; defaults to `buildspec.yml` at the source root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buildspec: Option<BuildSpecSource>,
    /// The build container's image, resources and environment.
    pub environment: BuildEnvironment,
    /// Images to build and push through the Docker Engine API after the buildspec's build phase.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub images: Vec<ImageOutput>,
    /// Where artifacts are uploaded; defaults to the pipeline's or controller's store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_store: Option<ArtifactStore>,
    /// Minutes before the build is stopped with `TIMED_OUT` (5–2160).
    #[serde(default = "default_timeout")]
    #[schemars(range(min = 5, max = 2160))]
    pub timeout_in_minutes: i32,
    /// Minutes the build may wait to be scheduled before it fails with `TIMED_OUT` (5–480).
    #[serde(default = "default_queued_timeout")]
    #[schemars(range(min = 5, max = 480))]
    pub queued_timeout_in_minutes: i32,
}

fn default_timeout() -> i32 {
    60
}

fn default_queued_timeout() -> i32 {
    480
}

/// Where the buildspec comes from. At most one of `path` or `inline` is set.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = at_most_one_of(&["path", "inline"]))]
pub struct BuildSpecSource {
    /// Path of the buildspec inside the source (`buildspec.yml` when neither is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub path: Option<String>,
    /// The buildspec's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 262144))]
    pub inline: Option<String>,
}

/// The build container's environment.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BuildEnvironment {
    /// Image the buildspec's commands run in (any Linux image with `/bin/sh`).
    #[schemars(length(min = 1, max = 512))]
    pub image: String,
    /// Pull policy of the build image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<PullPolicy>,
    /// Secrets with pull credentials for the build image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<SecretReference>,
    /// Run a Docker daemon beside the build so `docker` commands work (CodeBuild's privileged mode).
    /// Image outputs get a daemon whether or not this is set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
    /// Environment variables (CodeBuild's PLAINTEXT variables, or values from Secrets).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 200))]
    pub env: Vec<EnvVar>,
    /// Whole Secrets or ConfigMaps as environment variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub env_from: Vec<EnvFromSource>,
    /// Where buildspec `parameter-store` and `secrets-manager` names are looked up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<ParameterSources>,
    /// CPU and memory for the build container (CodeBuild's compute type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Service account the build pod runs as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Node labels the build pod must run on.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Taints the build pod tolerates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
}

/// An image pull policy.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum PullPolicy {
    /// Always pull.
    Always,
    /// Pull when the image is not on the node.
    IfNotPresent,
    /// Never pull.
    Never,
}

/// Where buildspec `env.parameter-store` and `env.secrets-manager` references are resolved.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ParameterSources {
    /// ConfigMap whose keys stand for Parameter Store names (`/app/db-host` is key `app.db-host`:
    /// the leading `/` dropped, other `/` turned into `.`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_store_config_map: Option<String>,
    /// Secret whose keys stand for Secrets Manager secret ids (`prod/db:password` is key
    /// `prod.db.password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets_manager_secret: Option<String>,
}

/// An image built and pushed by the build.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ImageOutput {
    /// Name of the image among the build's outputs; exported as `IMAGE_<NAME>_URI`, `IMAGE_<NAME>_DIGEST`
    /// and `IMAGE_<NAME>_TAG` variables, `<NAME>` upper-cased with `-` turned into `_`
    /// (`my-web` → `IMAGE_MY_WEB_URI`).
    #[serde(default = "default_image_name")]
    #[schemars(
        regex(pattern = r"^[a-z0-9]([a-z0-9_\-]*[a-z0-9])?$"),
        length(min = 1, max = 63)
    )]
    pub name: String,
    /// Repository to push to, e.g. `registry.example.com/team/app` (no tag).
    #[schemars(length(min = 1, max = 512))]
    pub repository: String,
    /// Tags to push; build variables are substituted (`$CODEBUILD_RESOLVED_SOURCE_VERSION`, `$IMAGE_TAG`).
    #[serde(default = "default_image_tags")]
    #[schemars(length(min = 1, max = 20), inner(length(min = 1, max = 256)))]
    pub tags: Vec<String>,
    /// Build context directory, relative to the source root.
    #[serde(default = "default_context")]
    pub context: String,
    /// Dockerfile path, relative to the context.
    #[serde(default = "default_dockerfile")]
    pub dockerfile: String,
    /// Build arguments; build variables are substituted. Never put secrets here: they are recorded
    /// in the image history.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub build_args: Vec<NameValue>,
    /// Multi-stage build target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Secret of type `kubernetes.io/dockerconfigjson` with push credentials for the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<SecretReference>,
    /// `false` builds without pushing (a check that the image builds).
    #[serde(default = "default_true")]
    pub push: bool,
}

fn default_image_name() -> String {
    "app".into()
}

fn default_image_tags() -> Vec<String> {
    vec!["$CODEBUILD_RESOLVED_SOURCE_VERSION".into()]
}

fn default_context() -> String {
    ".".into()
}

fn default_dockerfile() -> String {
    "Dockerfile".into()
}

fn default_true() -> bool {
    true
}

/// A stop request.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BuildStop {
    /// Why the build was stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub reason: Option<String>,
}

/// What the controller observed of a build.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BuildRunStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The build's status with CodeBuild's names; it is this kind's phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_status: Option<BuildStatus>,
    /// The phase the build is in (or ended in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_phase: Option<BuildPhaseType>,
    /// One line on what the build is doing or why it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `Succeeded` (Unknown while running), `Reconciling` and `Stalled` conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Conditions,
    /// Sequence number of this build among the builds of the same pipeline action or namespace
    /// (`CODEBUILD_BUILD_NUMBER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_number: Option<i64>,
    /// The commit the source revision resolved to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_source_version: Option<String>,
    /// Every phase reached, in order, with its own status and duration.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<BuildPhase>,
    /// Images pushed, with their digests as read back from the registry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageResult>,
    /// Variables named in the buildspec's `exported-variables`, as they stood after post_build.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exported_variables: Vec<NameValue>,
    /// Artifacts uploaded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<ArtifactRecord>,
    /// The Job running the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<super::common::ChildReference>,
    /// The build pod's name, for logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_name: Option<String>,
    /// How to read the build's logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<String>,
    /// When the build started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the build ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
    /// Whole build duration, once ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_in_seconds: Option<i64>,
}

/// A build's status, as CodeBuild names them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BuildStatus {
    /// Running.
    InProgress,
    /// Every phase succeeded.
    Succeeded,
    /// A command or phase failed.
    Failed,
    /// The build could not run (no Docker daemon, missing Secret, executor crash).
    Fault,
    /// The build ran past `timeoutInMinutes` or waited past `queuedTimeoutInMinutes`.
    TimedOut,
    /// Stopped on request.
    Stopped,
}

/// A build phase, as CodeBuild names them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BuildPhaseType {
    /// The BuildRun was accepted.
    Submitted,
    /// Waiting for the Job's pod to be scheduled.
    Queued,
    /// The pod's containers are starting.
    Provisioning,
    /// Fetching the source.
    DownloadSource,
    /// The buildspec's install phase.
    Install,
    /// The buildspec's pre_build phase.
    PreBuild,
    /// The buildspec's build phase (and image builds).
    Build,
    /// The buildspec's post_build phase (and image pushes).
    PostBuild,
    /// Uploading artifacts.
    UploadArtifacts,
    /// Collecting results.
    Finalizing,
    /// Done.
    Completed,
}

/// One phase's record.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BuildPhase {
    /// Which phase.
    pub phase_type: BuildPhaseType,
    /// How it ended (absent while running).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_status: Option<BuildStatus>,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Time>,
    /// How long it took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_in_seconds: Option<i64>,
    /// Why it ended this way (the failing command and its exit code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// An image the build pushed.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ImageResult {
    /// The image output's name.
    pub name: String,
    /// Repository pushed to.
    pub repository: String,
    /// Tags pushed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Manifest digest, read back from the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// `repository@digest`, the reference a deployment should use.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "imageURI")]
    pub image_uri: Option<String>,
}
