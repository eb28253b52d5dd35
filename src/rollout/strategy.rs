//! Strategies: a Deployment's `spec.strategy` resolved into a [`RolloutPlan`].
//!
//! A plan is either a list of traffic steps (canary, linear, all-at-once, explicit steps, each
//! optionally behind a blue-green promote gate) or a rolling update. The state machine walks the
//! steps by index (`status.currentStep`), so the indices are part of the contract:
//!
//! - With `blueGreen.readyOption.action: Wait`, step 0 is [`PlanStep::AwaitPromote`] and the
//!   traffic steps follow from index 1; a promote with `throughStep: 0` releases the gate only.
//! - Every other step is a [`PlanStep::Shift`]: set the new revision's weight, then bake. The
//!   last step always has weight 100 and no bake (the termination wait follows it).
//!
//! # CodeDeploy's predefined configurations
//! Read from CodeDeploy's `TimeBasedCanary` and `TimeBasedLinear` definitions: a canary shifts
//! in two increments (`percent`, then the rest after `interval`); a linear configuration
//! shifts equal increments with `interval` between each, and no bake follows the increment
//! that reaches 100%. The Lambda-named configurations have the same shapes as the ECS ones.
//! A custom linear percent that does not divide 100 ends with a smaller last increment
//! (30% → 30, 60, 90, 100).

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::common::DurationString;
use crate::api::deployment::{
    DeploymentConfigName, DeploymentStrategy, ReadyAction, RollingStrategy, TrafficShift,
    TrafficStep,
};

/// The termination wait when `blueGreen` is absent (the same as its field default).
pub const DEFAULT_TERMINATION_WAIT: Duration = Duration::from_secs(5 * 60);

/// How a rollout moves from the stable revision to the new one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RolloutPlan {
    /// Traffic shifting in steps (blue-green, canary, linear, all-at-once, explicit steps).
    Traffic(TrafficPlan),
    /// A health-gated rolling replacement of pods.
    Rolling(RollingPlan),
}

/// Ordered traffic steps and what follows the last one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrafficPlan {
    /// The steps by index (`status.currentStep`).
    pub steps: Vec<PlanStep>,
    /// How long the old revision keeps running once all traffic has moved.
    pub termination_wait: Duration,
}

/// One step of a traffic plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanStep {
    /// Blue-green `readyOption: Wait`: reroute only after a promote; stop after `timeout`.
    AwaitPromote {
        /// How long to wait for a promote before the rollout is Stopped; forever when absent.
        timeout: Option<Duration>,
    },
    /// Give the new revision `weight` percent of production traffic, then bake.
    Shift {
        /// The new revision's share, 0–100.
        weight: i32,
        /// How long the step lasts before the next one may start.
        bake: Bake,
    },
}

/// How long a step lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bake {
    /// Move on as soon as the step is in place and health checks pass.
    None,
    /// Wait this long (health checks run meanwhile).
    For(Duration),
    /// Wait for a promote that covers this step.
    UntilPromoted,
}

/// A rolling update's limits, as given (resolved against a replica count by [`RollingPlan::limits`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollingPlan {
    /// Pods above the desired count during the update.
    pub max_surge: IntOrString,
    /// Pods below the desired count during the update.
    pub max_unavailable: IntOrString,
}

/// Why a strategy cannot be planned. The CRD schema rejects most of these on admission; the
/// controller re-checks because a plan drives production traffic.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StrategyError {
    /// A duration field does not parse.
    #[error("failed to read {field}: {message}")]
    Duration {
        /// The field, e.g. `spec.strategy.canary.interval`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A percent or weight is out of range.
    #[error("failed to plan {field}: {value} is outside {range}")]
    OutOfRange {
        /// The field.
        field: String,
        /// The value found.
        value: i32,
        /// The allowed range.
        range: &'static str,
    },
    /// Explicit steps decrease or do not end at 100.
    #[error(
        "failed to plan spec.strategy.steps: weights must not decrease and the last must be 100"
    )]
    StepsOrder,
    /// A rolling limit is neither a number nor a percent.
    #[error("failed to read spec.strategy.rolling.{field}: {value:?} is not a number or percent")]
    RollingLimit {
        /// `maxSurge` or `maxUnavailable`.
        field: &'static str,
        /// The value found.
        value: String,
    },
}

/// The traffic shape of a predefined CodeDeploy configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigShape {
    /// All traffic in one step.
    AllAtOnce,
    /// `percent`, then the rest after `minutes`.
    Canary {
        /// First increment.
        percent: i32,
        /// Minutes between the two increments.
        minutes: u64,
    },
    /// `percent` more every `minutes`.
    Linear {
        /// Each increment.
        percent: i32,
        /// Minutes between increments.
        minutes: u64,
    },
}

/// The shape CodeDeploy documents for a predefined configuration name.
pub fn config_shape(name: DeploymentConfigName) -> ConfigShape {
    use ConfigShape::{AllAtOnce, Canary, Linear};
    use DeploymentConfigName as Name;
    match name {
        Name::EcsAllAtOnce | Name::LambdaAllAtOnce => AllAtOnce,
        Name::EcsLinear10PercentEvery1Minutes | Name::LambdaLinear10PercentEvery1Minute => Linear {
            percent: 10,
            minutes: 1,
        },
        Name::LambdaLinear10PercentEvery2Minutes => Linear {
            percent: 10,
            minutes: 2,
        },
        Name::EcsLinear10PercentEvery3Minutes | Name::LambdaLinear10PercentEvery3Minutes => {
            Linear {
                percent: 10,
                minutes: 3,
            }
        }
        Name::LambdaLinear10PercentEvery10Minutes => Linear {
            percent: 10,
            minutes: 10,
        },
        Name::EcsCanary10Percent5Minutes | Name::LambdaCanary10Percent5Minutes => Canary {
            percent: 10,
            minutes: 5,
        },
        Name::LambdaCanary10Percent10Minutes => Canary {
            percent: 10,
            minutes: 10,
        },
        Name::EcsCanary10Percent15Minutes | Name::LambdaCanary10Percent15Minutes => Canary {
            percent: 10,
            minutes: 15,
        },
        Name::LambdaCanary10Percent30Minutes => Canary {
            percent: 10,
            minutes: 30,
        },
    }
}

/// Resolves a strategy into its plan.
///
/// # Errors
/// [`StrategyError`] naming the field when a duration, percent, weight or rolling limit is invalid.
pub fn resolve_plan(strategy: &DeploymentStrategy) -> Result<RolloutPlan, StrategyError> {
    if let Some(rolling) = &strategy.rolling {
        return rolling_plan(rolling).map(RolloutPlan::Rolling);
    }
    let mut steps = Vec::new();
    let blue_green = strategy.blue_green.as_ref();
    if let Some(ready) = blue_green.and_then(|settings| settings.ready_option.as_ref())
        && ready.action == ReadyAction::Wait
    {
        let timeout = ready
            .wait_timeout
            .as_ref()
            .map(|timeout| duration(timeout, "spec.strategy.blueGreen.readyOption.waitTimeout"))
            .transpose()?;
        steps.push(PlanStep::AwaitPromote { timeout });
    }
    steps.extend(shift_steps(strategy)?);
    let termination_wait = match blue_green {
        Some(settings) if !settings.termination_wait.0.is_empty() => duration(
            &settings.termination_wait,
            "spec.strategy.blueGreen.terminationWait",
        )?,
        _ => DEFAULT_TERMINATION_WAIT,
    };
    Ok(RolloutPlan::Traffic(TrafficPlan {
        steps,
        termination_wait,
    }))
}

/// The shift steps of a non-rolling strategy (without the promote gate).
fn shift_steps(strategy: &DeploymentStrategy) -> Result<Vec<PlanStep>, StrategyError> {
    if let Some(name) = strategy.config_name {
        return Ok(match config_shape(name) {
            ConfigShape::AllAtOnce => all_at_once(),
            ConfigShape::Canary { percent, minutes } => {
                canary(percent, Duration::from_secs(minutes * 60))
            }
            ConfigShape::Linear { percent, minutes } => {
                linear(percent, Duration::from_secs(minutes * 60))
            }
        });
    }
    if let Some(shift) = &strategy.canary {
        let (percent, interval) = read_shift(shift, "spec.strategy.canary")?;
        return Ok(canary(percent, interval));
    }
    if let Some(shift) = &strategy.linear {
        let (percent, interval) = read_shift(shift, "spec.strategy.linear")?;
        return Ok(linear(percent, interval));
    }
    if let Some(steps) = &strategy.steps {
        return explicit_steps(steps);
    }
    Ok(all_at_once())
}

fn all_at_once() -> Vec<PlanStep> {
    vec![last_step()]
}

fn last_step() -> PlanStep {
    PlanStep::Shift {
        weight: 100,
        bake: Bake::None,
    }
}

fn bake_for(interval: Duration) -> Bake {
    if interval.is_zero() {
        Bake::None
    } else {
        Bake::For(interval)
    }
}

fn canary(percent: i32, interval: Duration) -> Vec<PlanStep> {
    vec![
        PlanStep::Shift {
            weight: percent,
            bake: bake_for(interval),
        },
        last_step(),
    ]
}

fn linear(percent: i32, interval: Duration) -> Vec<PlanStep> {
    let mut steps: Vec<PlanStep> = (1..)
        .map(|increment| increment * percent)
        .take_while(|weight| *weight < 100)
        .map(|weight| PlanStep::Shift {
            weight,
            bake: bake_for(interval),
        })
        .collect();
    steps.push(last_step());
    steps
}

fn explicit_steps(steps: &[TrafficStep]) -> Result<Vec<PlanStep>, StrategyError> {
    let mut previous = 0;
    let mut planned = Vec::with_capacity(steps.len());
    for (index, step) in steps.iter().enumerate() {
        let field = format!("spec.strategy.steps[{index}]");
        if !(0..=100).contains(&step.weight) {
            return Err(StrategyError::OutOfRange {
                field: format!("{field}.weight"),
                value: step.weight,
                range: "0..=100",
            });
        }
        if step.weight < previous {
            return Err(StrategyError::StepsOrder);
        }
        previous = step.weight;
        let last = index + 1 == steps.len();
        let bake = match &step.pause {
            // The last step has moved all traffic: the termination wait follows, not a pause.
            _ if last => Bake::None,
            Some(pause) => bake_for(duration(pause, &format!("{field}.pause"))?),
            None => Bake::UntilPromoted,
        };
        planned.push(PlanStep::Shift {
            weight: step.weight,
            bake,
        });
    }
    if previous != 100 {
        return Err(StrategyError::StepsOrder);
    }
    Ok(planned)
}

fn read_shift(shift: &TrafficShift, field: &str) -> Result<(i32, Duration), StrategyError> {
    if !(1..=99).contains(&shift.percent) {
        return Err(StrategyError::OutOfRange {
            field: format!("{field}.percent"),
            value: shift.percent,
            range: "1..=99",
        });
    }
    let interval = duration(&shift.interval, &format!("{field}.interval"))?;
    Ok((shift.percent, interval))
}

fn duration(text: &DurationString, field: &str) -> Result<Duration, StrategyError> {
    text.to_duration()
        .map_err(|message| StrategyError::Duration {
            field: field.to_owned(),
            message,
        })
}

fn rolling_plan(rolling: &RollingStrategy) -> Result<RollingPlan, StrategyError> {
    let quarter = IntOrString::String("25%".into());
    let plan = RollingPlan {
        max_surge: rolling.max_surge.clone().unwrap_or_else(|| quarter.clone()),
        max_unavailable: rolling.max_unavailable.clone().unwrap_or(quarter),
    };
    // Validate both now so a bad value fails the plan, not a later step.
    plan.limits(1)?;
    Ok(plan)
}

impl RollingPlan {
    /// The surge and unavailable pod counts for `replicas` desired pods, as apps/v1 computes them:
    /// surge rounds up, unavailable rounds down, and both zero means one unavailable.
    ///
    /// # Errors
    /// [`StrategyError::RollingLimit`] when a value is neither a number nor `N%`.
    pub fn limits(&self, replicas: i32) -> Result<(i32, i32), StrategyError> {
        let surge = scaled(&self.max_surge, replicas, true, "maxSurge")?;
        let unavailable = scaled(&self.max_unavailable, replicas, false, "maxUnavailable")?;
        if surge == 0 && unavailable == 0 {
            return Ok((0, 1));
        }
        Ok((surge, unavailable.min(replicas)))
    }
}

fn scaled(
    value: &IntOrString,
    replicas: i32,
    round_up: bool,
    field: &'static str,
) -> Result<i32, StrategyError> {
    let invalid = || StrategyError::RollingLimit {
        field,
        value: match value {
            IntOrString::Int(number) => number.to_string(),
            IntOrString::String(text) => text.clone(),
        },
    };
    match value {
        IntOrString::Int(number) if *number >= 0 => Ok(*number),
        IntOrString::Int(_) => Err(invalid()),
        IntOrString::String(text) => {
            let percent: i64 = text
                .strip_suffix('%')
                .and_then(|digits| digits.parse().ok())
                .filter(|percent| (0..=100).contains(percent))
                .ok_or_else(invalid)?;
            let product = percent * i64::from(replicas);
            let count = if round_up {
                (product + 99) / 100
            } else {
                product / 100
            };
            i32::try_from(count).map_err(|_| invalid())
        }
    }
}

impl TrafficPlan {
    /// The weights of the shift steps, in order.
    pub fn weights(&self) -> Vec<i32> {
        self.steps
            .iter()
            .filter_map(|step| match step {
                PlanStep::Shift { weight, .. } => Some(*weight),
                PlanStep::AwaitPromote { .. } => None,
            })
            .collect()
    }

    /// Index of the first shift step (1 behind a promote gate, else 0).
    pub fn first_shift_index(&self) -> usize {
        usize::from(matches!(
            self.steps.first(),
            Some(PlanStep::AwaitPromote { .. })
        ))
    }

    /// The promote gate's timeout, when the plan has a gate.
    pub fn gate(&self) -> Option<Option<Duration>> {
        match self.steps.first() {
            Some(PlanStep::AwaitPromote { timeout }) => Some(*timeout),
            _ => None,
        }
    }

    /// Weight and bake of the step at `index`; `None` for the gate or past the end.
    pub fn shift_at(&self, index: usize) -> Option<(i32, Bake)> {
        match self.steps.get(index) {
            Some(PlanStep::Shift { weight, bake }) => Some((*weight, *bake)),
            _ => None,
        }
    }

    /// Whether any step gives the new revision a share strictly between 0 and 100.
    pub fn has_partial_steps(&self) -> bool {
        self.weights()
            .iter()
            .any(|weight| (1..100).contains(weight))
    }
}

#[cfg(test)]
#[path = "strategy_tests.rs"]
mod tests;
