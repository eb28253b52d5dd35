//! Condition reasons and Event reasons of the `deployments.slipway.dev` kind, in one place for
//! the pure decision and the controller around it. The condition types themselves (`Ready`,
//! `Reconciling`, `Stalled`) are shared by every kind: [`crate::runtime::conditions`].

/// The rollout started.
pub const STARTED: &str = "Started";
/// Another rollout on the target is active.
pub const QUEUED: &str = "Queued";
/// The production Service now selects a Slipway revision.
pub const TOOK_OVER: &str = "TookOver";
/// Traffic moved to a step's weight.
pub const SHIFTED: &str = "TrafficShifted";
/// A hook ended.
pub const HOOK: &str = "Hook";
/// A rollback started.
pub const ROLLING_BACK: &str = "RollingBack";
/// A rollback ended with all traffic on the stable revision.
pub const ROLLED_BACK: &str = "RolledBack";
/// A rollback cannot finish: the stable revision is gone or not Ready past the deadline.
pub const ROLLBACK_STALLED: &str = "RollbackStalled";
/// The rollout succeeded.
pub const SUCCEEDED: &str = "Succeeded";
/// The rollout failed.
pub const FAILED: &str = "Failed";
/// The rollout was stopped.
pub const STOPPED: &str = "Stopped";
/// The spec cannot be rolled out.
pub const INVALID_SPEC: &str = "InvalidSpec";
/// The target workload does not exist.
pub const WORKLOAD_NOT_FOUND: &str = "WorkloadNotFound";
/// Waiting for a promote.
pub const WAITING_FOR_PROMOTE: &str = "WaitingForPromote";
/// Work in flight.
pub const PROGRESSING: &str = "Progressing";
/// A referenced Service or HTTPRoute is missing or unusable.
pub const INVALID_REFERENCE: &str = "InvalidReference";
