//! What `promote`, `abort` and `stop` write into a record's `spec.control`, decided from the
//! record as read (pure, so every refusal and every patch is unit-tested).
//!
//! # Guarantees
//! - A plain `promote` releases the step the rollout is at now (`status.currentStep`: the
//!   blue-green wait is step 0, a canary's bake its own index) and never lowers an earlier
//!   `throughStep`, so a promote given ahead of time is not taken back.
//! - A stop is written once: the controller acts on it at once (a rollback cannot be undone
//!   halfway), so a second request that differs is refused instead of changing or withdrawing it.
//! - Requests to a rollout that has ended are refused with what to do instead: the controller
//!   ignores them, and a silent success would mislead.

use serde_json::{Value, json};

use crate::api::Deployment as Record;
use crate::api::deployment::{DeploymentPhase, RolloutStage};
use crate::rollout::strategy::{Bake, PlanStep, RolloutPlan, resolve_plan};

/// The largest `throughStep` the CRD accepts.
pub const MAX_THROUGH_STEP: i32 = 50;

/// The longest stop reason the CRD accepts.
pub const MAX_REASON_LENGTH: usize = 200;

/// `slipway deploy promote`'s request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PromoteRequest {
    /// Skip all remaining steps and pauses.
    pub full: bool,
    /// Release steps up to this index; the current step when absent.
    pub through_step: Option<i32>,
}

/// `slipway deploy stop` and `abort`'s request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StopRequest {
    /// Restore all traffic to the stable revision.
    pub rollback: bool,
    /// Why, recorded in the record and its Events.
    pub reason: Option<String>,
}

/// What a request changes.
#[derive(Clone, Debug, PartialEq)]
pub enum ControlChange {
    /// Merge `control` into `spec.control`, then report `summary`.
    Patch {
        /// The object merged into `spec.control`.
        control: Value,
        /// One line saying what happens next.
        summary: String,
    },
    /// The record already carries the request; nothing to write.
    Unchanged(String),
}

/// Why a request is refused; each message names the record and what to do instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    /// The rollout has ended.
    #[error("deployments.slipway.dev {name} has ended ({phase:?}): {advice}")]
    Ended {
        /// The record.
        name: String,
        /// How it ended.
        phase: DeploymentPhase,
        /// What to do instead.
        advice: String,
    },
    /// A stop is already requested, so a promote cannot help.
    #[error(
        "deployments.slipway.dev {name} is being stopped (spec.control.stop is set): a stopped \
         rollout cannot be promoted; create a new record to roll the revision out again"
    )]
    Stopping {
        /// The record.
        name: String,
    },
    /// The controller is restoring traffic to the stable revision.
    #[error("deployments.slipway.dev {name} is rolling back ({why}): it cannot be promoted")]
    RollingBack {
        /// The record.
        name: String,
        /// The rollback's reason.
        why: String,
    },
    /// A rolling update has no steps or pauses.
    #[error(
        "deployments.slipway.dev {name} uses a rolling strategy (spec.strategy.rolling), which \
         has no steps or pauses to promote; it proceeds as pods become Ready"
    )]
    Rolling {
        /// The record.
        name: String,
    },
    /// Every step is behind the rollout.
    #[error(
        "deployments.slipway.dev {name} has moved all traffic to the new revision: nothing waits \
         for a promote (the termination wait ends on its own)"
    )]
    NothingWaiting {
        /// The record.
        name: String,
    },
    /// `--through-step` names a step the rollout has passed.
    #[error(
        "--through-step {requested} is behind the rollout's current step {current}: nothing there \
         to release; leave --through-step out to release step {current}"
    )]
    StepBehind {
        /// The step asked for.
        requested: i32,
        /// The rollout's step.
        current: i32,
    },
    /// `--through-step` is past the strategy's last step.
    #[error(
        "--through-step {requested} is past the last step of {name}'s strategy: use a step from \
         0 to {last} (`kubectl slipway deploy status {name}` lists them), or --full"
    )]
    StepBeyond {
        /// The record.
        name: String,
        /// The step asked for.
        requested: i32,
        /// The last step's index.
        last: i32,
    },
    /// A different stop was requested before.
    #[error(
        "deployments.slipway.dev {name} already has a stop request {existing}: a stop cannot be \
         changed or withdrawn once made"
    )]
    StopAlreadyRequested {
        /// The record.
        name: String,
        /// The existing request, described.
        existing: String,
    },
    /// `--reason` is longer than the CRD allows.
    #[error("--reason is {length} characters long; at most {MAX_REASON_LENGTH} fit")]
    ReasonTooLong {
        /// Its length.
        length: usize,
    },
}

/// Decides what `promote` writes.
///
/// # Errors
/// [`RequestError`] when the rollout has ended, is stopping or rolling back, uses a rolling
/// strategy, has nothing left to release, or `through_step` is out of range.
pub fn decide_promote(
    record: &Record,
    request: &PromoteRequest,
) -> Result<ControlChange, RequestError> {
    let name = record_name(record);
    let status = record.status.clone().unwrap_or_default();
    if let Some(phase) = ended(record) {
        let advice = match phase {
            DeploymentPhase::Succeeded => "nothing is left to promote; to roll out another \
                                           revision, create a new record"
                .to_owned(),
            _ => "a promote has no effect now; to roll the revision out again, create a new \
                  record with it"
                .to_owned(),
        };
        return Err(RequestError::Ended {
            name,
            phase,
            advice,
        });
    }
    if record.spec.control.stop.is_some() {
        return Err(RequestError::Stopping { name });
    }
    if status.stage == Some(RolloutStage::RollingBack) {
        let why = status
            .rollback
            .and_then(|rollback| rollback.message)
            .unwrap_or_else(|| "a rollback is in progress".to_owned());
        return Err(RequestError::RollingBack { name, why });
    }
    let plan = resolve_plan(&record.spec.template.strategy).ok();
    let steps = match &plan {
        Some(RolloutPlan::Rolling(_)) => return Err(RequestError::Rolling { name }),
        Some(RolloutPlan::Traffic(plan)) => plan.steps.clone(),
        None => Vec::new(),
    };
    if status
        .stage
        .is_some_and(|stage| stage >= RolloutStage::AfterAllowTraffic)
    {
        return Err(RequestError::NothingWaiting { name });
    }
    let existing = record.spec.control.promote.as_ref();
    if request.full {
        if existing.is_some_and(|promote| promote.full) {
            return Ok(ControlChange::Unchanged(format!(
                "{name} is already fully promoted; {}",
                waiting_on(&status.message)
            )));
        }
        return Ok(ControlChange::Patch {
            control: json!({"promote": {"full": true}}),
            summary: format!(
                "promoted {name} fully: remaining steps and pauses are skipped and all traffic \
                 moves to the new revision (health checks still apply)"
            ),
        });
    }
    let current = status.current_step.unwrap_or(0).max(0);
    let last = match i32::try_from(steps.len()) {
        Ok(count) if count > 0 => count - 1,
        _ => status
            .total_steps
            .map_or(MAX_THROUGH_STEP, |total| (total - 1).max(0)),
    };
    let target = match request.through_step {
        Some(requested) if requested > last => {
            return Err(RequestError::StepBeyond {
                name,
                requested,
                last,
            });
        }
        Some(requested) if requested < current => {
            return Err(RequestError::StepBehind { requested, current });
        }
        Some(requested) => requested,
        None => current,
    };
    let released = existing.map_or(-1, |promote| promote.through_step);
    if released >= target {
        return Ok(ControlChange::Unchanged(format!(
            "{name} is already promoted through step {released}; {}",
            waiting_on(&status.message)
        )));
    }
    let step = usize::try_from(target)
        .ok()
        .and_then(|index| steps.get(index))
        .map_or_else(
            || format!("step {target}"),
            |step| describe_step(target, step),
        );
    let waiting_here = target == current
        && matches!(
            status.stage,
            Some(RolloutStage::AwaitPromote | RolloutStage::AllowTraffic)
        );
    let next = if waiting_here {
        "it proceeds now"
    } else {
        "the steps up to it proceed without waiting when the rollout gets there"
    };
    Ok(ControlChange::Patch {
        control: json!({"promote": {"throughStep": target}}),
        summary: format!("promoted {name} through {step}: {next}"),
    })
}

/// Decides what `stop` (or `abort`, a stop with rollback) writes.
///
/// # Errors
/// [`RequestError`] when the rollout has ended, a different stop was requested before, or the
/// reason is too long.
pub fn decide_stop(record: &Record, request: &StopRequest) -> Result<ControlChange, RequestError> {
    let name = record_name(record);
    if let Some(length) = request
        .reason
        .as_ref()
        .map(|reason| reason.chars().count())
        .filter(|length| *length > MAX_REASON_LENGTH)
    {
        return Err(RequestError::ReasonTooLong { length });
    }
    let status = record.status.clone().unwrap_or_default();
    if let Some(phase) = ended(record) {
        let previous = status
            .stable_revision
            .map(|revision| {
                revision
                    .images
                    .iter()
                    .map(|image| image.image.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|images| !images.is_empty());
        let advice = match (phase, previous) {
            (DeploymentPhase::Succeeded, Some(images)) => format!(
                "nothing is left to stop; to go back to the previous revision ({images}), create \
                 a new record rolling it out"
            ),
            (DeploymentPhase::Succeeded, None) => "nothing is left to stop; to go back, create \
                                                    a new record rolling the previous revision out"
                .to_owned(),
            _ => "nothing is left to stop".to_owned(),
        };
        return Err(RequestError::Ended {
            name,
            phase,
            advice,
        });
    }
    if let Some(existing) = &record.spec.control.stop {
        if existing.rollback != request.rollback {
            let existing = if existing.rollback {
                "with rollback (abort)"
            } else {
                "without rollback"
            };
            return Err(RequestError::StopAlreadyRequested {
                name,
                existing: existing.to_owned(),
            });
        }
        return Ok(ControlChange::Unchanged(format!(
            "{name} is already being stopped; {}",
            waiting_on(&status.message)
        )));
    }
    let mut stop = json!({"rollback": request.rollback});
    if let Some(reason) = &request.reason {
        stop["reason"] = json!(reason);
    }
    let summary = if request.rollback {
        let stable = status
            .stable_revision
            .map(|revision| format!(" {}", revision.hash))
            .unwrap_or_default();
        format!("stopping {name}: all traffic goes back to the stable revision{stable}")
    } else {
        let split = status.traffic_split.unwrap_or_default();
        format!(
            "stopping {name} without rollback: traffic stays where it is ({}% stable, {}% new)",
            split.stable, split.canary
        )
    };
    Ok(ControlChange::Patch {
        control: json!({ "stop": stop }),
        summary,
    })
}

/// The phase a rollout ended in, if it has.
pub fn ended(record: &Record) -> Option<DeploymentPhase> {
    let status = record.status.as_ref()?;
    match status.phase? {
        phase @ (DeploymentPhase::Succeeded
        | DeploymentPhase::Failed
        | DeploymentPhase::Stopped) => Some(phase),
        _ => None,
    }
}

/// A plan step, for messages.
pub fn describe_step(index: i32, step: &PlanStep) -> String {
    match step {
        PlanStep::AwaitPromote { .. } => format!("step {index} (the blue-green wait)"),
        PlanStep::Shift { weight, bake } => {
            let bake = match bake {
                Bake::None => String::new(),
                Bake::For(duration) => format!(", bake {}s", duration.as_secs()),
                Bake::UntilPromoted => ", until promoted".to_owned(),
            };
            format!("step {index} ({weight}% of traffic{bake})")
        }
    }
}

fn record_name(record: &Record) -> String {
    record.metadata.name.clone().unwrap_or_default()
}

fn waiting_on(message: &Option<String>) -> String {
    match message {
        Some(message) => format!("the controller says: {message}"),
        None => "the controller has not reported on it yet".to_owned(),
    }
}
