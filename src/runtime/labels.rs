//! The labels and annotations Slipway puts on the objects it creates, in one place for every
//! controller (children are found by these plus their owner's UID, never by name alone).

/// Label on every object Slipway creates: `app.kubernetes.io/managed-by=slipway`.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY_VALUE: &str = "slipway";
/// Well-known label: the application's name (`slipway-build` on build Jobs and pods).
pub const NAME_LABEL: &str = "app.kubernetes.io/name";
/// Well-known label: the instance of the application (the owner's fitted name).
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
/// Well-known label: the component within the application (`build`).
pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
/// Well-known label: the larger application this is part of ([`MANAGED_BY_VALUE`]).
pub const PART_OF_LABEL: &str = "app.kubernetes.io/part-of";

/// Label on a build Job and its pod: the BuildRun's name (fitted to 63 characters).
pub const BUILDRUN_LABEL: &str = "slipway.dev/buildrun";
/// Label on a build Job and its pod: the BuildRun's UID (how the controller selects them).
pub const BUILDRUN_UID_LABEL: &str = "slipway.dev/buildrun-uid";
/// Annotation on a build Job and its pod: the BuildRun's full name.
pub const BUILDRUN_ANNOTATION: &str = "slipway.dev/buildrun";
/// Label grouping builds of one project (a pipeline action); build numbers count per project.
pub const PROJECT_LABEL: &str = "slipway.dev/project";

/// Label on rollout revisions, their pods and Slipway's Services: the target workload (fitted).
pub const TARGET_LABEL: &str = "slipway.dev/target";
/// Label on a revision's Deployment, selector and pods: the revision hash.
pub const REVISION_LABEL: &str = "slipway.dev/revision";
/// Annotation on a revision Deployment: the target workload's full name.
pub const WORKLOAD_ANNOTATION: &str = "slipway.dev/workload";
/// Label on hook and check Jobs: the `deployments.slipway.dev` record (fitted).
pub const DEPLOYMENT_LABEL: &str = "slipway.dev/deployment";
/// Label on hook and check Jobs: what the Job is for (`hook`, `health-check`).
pub const PURPOSE_LABEL: &str = "slipway.dev/purpose";

/// Label on a PipelineExecution and on every child of one: the Pipeline's name (fitted).
pub const PIPELINE_LABEL: &str = "slipway.dev/pipeline";
/// Label on every child of a PipelineExecution: the execution's name (fitted).
pub const EXECUTION_LABEL: &str = "slipway.dev/execution";
/// Label on every child of a PipelineExecution: the execution's UID (how it selects them).
pub const EXECUTION_UID_LABEL: &str = "slipway.dev/execution-uid";
/// Annotation on a child of a PipelineExecution: the execution's full name.
pub const EXECUTION_ANNOTATION: &str = "slipway.dev/execution";
/// Annotation on a child of a PipelineExecution: the stage it runs for.
pub const STAGE_ANNOTATION: &str = "slipway.dev/stage";
/// Annotation on a child of a PipelineExecution: the action it runs for.
pub const ACTION_ANNOTATION: &str = "slipway.dev/action";
/// Annotation on a child of a PipelineExecution: the stage attempt it runs for.
pub const ATTEMPT_ANNOTATION: &str = "slipway.dev/attempt";
/// Annotation on a Pipeline: which execution holds each stage (see `pipeline::admission`).
pub const STAGE_LOCKS_ANNOTATION: &str = "slipway.dev/stage-locks";
