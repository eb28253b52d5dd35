//! Condition and Event reasons of the Pipeline and PipelineExecution kinds, in one list.

/// A run started.
pub const STARTED: &str = "Started";
/// A run waits before a stage (lock, queue, disabled transition).
pub const WAITING: &str = "Waiting";
/// A stage was entered.
pub const STAGE_STARTED: &str = "StageStarted";
/// A stage succeeded.
pub const STAGE_SUCCEEDED: &str = "StageSucceeded";
/// A stage failed.
pub const STAGE_FAILED: &str = "StageFailed";
/// A stage was skipped by a condition.
pub const STAGE_SKIPPED: &str = "StageSkipped";
/// An action started.
pub const ACTION_STARTED: &str = "ActionStarted";
/// An action succeeded.
pub const ACTION_SUCCEEDED: &str = "ActionSucceeded";
/// An action failed.
pub const ACTION_FAILED: &str = "ActionFailed";
/// An action was abandoned by a stop.
pub const ACTION_ABANDONED: &str = "ActionAbandoned";
/// An approval was answered.
pub const APPROVAL_ANSWERED: &str = "ApprovalAnswered";
/// An answer was not taken (not an approver).
pub const APPROVAL_REFUSED: &str = "ApprovalRefused";
/// A retry started a new attempt of a stage.
pub const RETRY_STARTED: &str = "RetryStarted";
/// A retry request could not be applied.
pub const RETRY_REFUSED: &str = "RetryRefused";
/// A rollback run was started for a stage.
pub const ROLLBACK_STARTED: &str = "RollbackStarted";
/// A stop was taken up.
pub const STOPPING: &str = "Stopping";
/// The run ended Stopped.
pub const STOPPED: &str = "Stopped";
/// The run succeeded.
pub const SUCCEEDED: &str = "Succeeded";
/// The run failed.
pub const FAILED: &str = "Failed";
/// A newer run took this run's place.
pub const SUPERSEDED: &str = "Superseded";
/// The Pipeline changed and no longer has the stage the run waited for.
pub const CANCELLED: &str = "Cancelled";
/// The run is in progress.
pub const RUNNING: &str = "Running";
/// The Pipeline named by the run does not exist.
pub const PIPELINE_NOT_FOUND: &str = "PipelineNotFound";
/// The spec (the Pipeline's or the run's) cannot run; the message names the field.
pub const INVALID_SPEC: &str = "InvalidSpec";
/// The source revision could not be resolved.
pub const SOURCE_UNAVAILABLE: &str = "SourceUnavailable";
/// A rollback run has nothing to roll back to.
pub const NO_ROLLBACK_TARGET: &str = "NoRollbackTarget";
/// The Pipeline is valid and has no run in progress.
pub const ACTIVE: &str = "Active";
/// A reconcile failed permanently (403, 422, a name taken).
pub const RECONCILE_FAILED: &str = "ReconcileFailed";
/// Finished runs beyond the history limit were deleted.
pub const HISTORY_PRUNED: &str = "HistoryPruned";
/// Condition of a Pipeline: its source answers with the configured credentials.
pub const SOURCE_AVAILABLE_CONDITION: &str = "SourceAvailable";
/// The source answered (the `SourceAvailable` reason; the failures are the
/// [`crate::pipeline::controller::sources::SourceFailure`] reasons).
pub const AVAILABLE: &str = "Available";
/// The source's connection works again after failing.
pub const SOURCE_RECOVERED: &str = "SourceRecovered";
/// A poll found a new revision and started a run for it.
pub const SOURCE_CHANGED: &str = "SourceChanged";
/// A poll found a new revision the triggers do not ask for.
pub const SOURCE_CHANGE_FILTERED: &str = "SourceChangeFiltered";
/// A webhook delivery started a run.
pub const WEBHOOK_ACCEPTED: &str = "WebhookAccepted";
/// A webhook delivery matched no trigger.
pub const WEBHOOK_FILTERED: &str = "WebhookFiltered";
/// A webhook delivery starts nothing (ping, deleted branch, unsupported event, redelivery).
pub const WEBHOOK_IGNORED: &str = "WebhookIgnored";
/// A webhook delivery was refused (signature, secret, payload).
pub const WEBHOOK_REFUSED: &str = "WebhookRefused";
/// A webhook delivery's run could not be created.
pub const WEBHOOK_FAILED: &str = "WebhookFailed";
