//! The BuildRun's condition reasons and Event reasons, in one place. The condition types
//! (`Succeeded`, `Reconciling`, `Stalled`) are shared by every kind: [`crate::runtime::conditions`].

/// Reason: the BuildRun was accepted; the Job is not there yet.
pub const SUBMITTED: &str = "Submitted";
/// Reason: the Job's pod waits to be scheduled.
pub const QUEUED: &str = "Queued";
/// Reason: the pod's init containers run (executor copy, source fetch).
pub const PROVISIONING: &str = "Provisioning";
/// Reason: the buildspec runs.
pub const RUNNING: &str = "Running";
/// Reason: every phase succeeded.
pub const BUILD_SUCCEEDED: &str = "BuildSucceeded";
/// Reason: a command or phase failed.
pub const BUILD_FAILED: &str = "BuildFailed";
/// Reason: the build could not run (executor crash, missing result).
pub const BUILD_FAULT: &str = "BuildFault";
/// Reason: the build ran (or waited) too long.
pub const TIMED_OUT: &str = "TimedOut";
/// Reason: stopped on request.
pub const STOPPED: &str = "Stopped";
/// Reason: the inline buildspec does not parse, or uses what Slipway does not run.
pub const INVALID_BUILD_SPEC: &str = "InvalidBuildSpec";
/// Reason: a Secret or ConfigMap the build refers to does not exist.
pub const MISSING_REFERENCE: &str = "MissingReference";
/// Reason: the pod cannot start a container (missing Secret key, image pull failure, …).
pub const CONTAINER_CANNOT_START: &str = "ContainerCannotStart";
/// Reason: a Job with the build's name belongs to someone else.
pub const JOB_NAME_TAKEN: &str = "JobNameTaken";

/// Event: the Job was created.
pub const EVENT_STARTED: &str = "Started";
/// Event: the buildspec started running.
pub const EVENT_PHASE_CHANGED: &str = "PhaseChanged";
/// Event: the build succeeded.
pub const EVENT_SUCCEEDED: &str = "Succeeded";
/// Event: the build failed (FAILED or FAULT).
pub const EVENT_FAILED: &str = "Failed";
/// Event: the build was stopped.
pub const EVENT_STOPPED: &str = "Stopped";
/// Event: the build timed out.
pub const EVENT_TIMED_OUT: &str = "TimedOut";
/// Event (Warning): the spec cannot run.
pub const EVENT_INVALID_SPEC: &str = "InvalidSpec";
/// Event (Warning): the build waits for a user to fix something (missing Secret, key, Job name).
pub const EVENT_BLOCKED: &str = "Blocked";
