use super::*;
use crate::api::deployment::{AllAtOnce, BlueGreen, ReadyOption};

const MINUTE: Duration = Duration::from_secs(60);

fn traffic(strategy: &DeploymentStrategy) -> TrafficPlan {
    match resolve_plan(strategy).expect("plan") {
        RolloutPlan::Traffic(plan) => plan,
        RolloutPlan::Rolling(plan) => panic!("expected traffic plan, got {plan:?}"),
    }
}

fn named(name: DeploymentConfigName) -> DeploymentStrategy {
    DeploymentStrategy {
        config_name: Some(name),
        ..Default::default()
    }
}

/// (weight, bake minutes or None) pairs of a plan's shift steps.
type Shape = Vec<(i32, Option<u64>)>;

fn shape(plan: &TrafficPlan) -> Shape {
    plan.steps
        .iter()
        .map(|step| match step {
            PlanStep::Shift { weight, bake } => (
                *weight,
                match bake {
                    Bake::None => None,
                    Bake::For(duration) => Some(duration.as_secs() / 60),
                    Bake::UntilPromoted => Some(u64::MAX),
                },
            ),
            PlanStep::AwaitPromote { .. } => (-1, None),
        })
        .collect()
}

fn linear_shape(minutes: u64) -> Shape {
    let mut steps: Vec<_> = (1..10).map(|k| (k * 10, Some(minutes))).collect();
    steps.push((100, None));
    steps
}

#[test]
fn every_codedeploy_config_name_has_its_documented_shape() {
    use DeploymentConfigName as Name;
    let table: Vec<(Name, Shape)> = vec![
        (Name::EcsAllAtOnce, vec![(100, None)]),
        (Name::LambdaAllAtOnce, vec![(100, None)]),
        (
            Name::EcsCanary10Percent5Minutes,
            vec![(10, Some(5)), (100, None)],
        ),
        (
            Name::EcsCanary10Percent15Minutes,
            vec![(10, Some(15)), (100, None)],
        ),
        (
            Name::LambdaCanary10Percent5Minutes,
            vec![(10, Some(5)), (100, None)],
        ),
        (
            Name::LambdaCanary10Percent10Minutes,
            vec![(10, Some(10)), (100, None)],
        ),
        (
            Name::LambdaCanary10Percent15Minutes,
            vec![(10, Some(15)), (100, None)],
        ),
        (
            Name::LambdaCanary10Percent30Minutes,
            vec![(10, Some(30)), (100, None)],
        ),
        (Name::EcsLinear10PercentEvery1Minutes, linear_shape(1)),
        (Name::EcsLinear10PercentEvery3Minutes, linear_shape(3)),
        (Name::LambdaLinear10PercentEvery1Minute, linear_shape(1)),
        (Name::LambdaLinear10PercentEvery2Minutes, linear_shape(2)),
        (Name::LambdaLinear10PercentEvery3Minutes, linear_shape(3)),
        (Name::LambdaLinear10PercentEvery10Minutes, linear_shape(10)),
    ];
    assert_eq!(
        table.len(),
        14,
        "every DeploymentConfigName is in the table"
    );
    for (name, expected) in table {
        let plan = traffic(&named(name));
        assert_eq!(shape(&plan), expected, "{name:?}");
        assert_eq!(plan.termination_wait, DEFAULT_TERMINATION_WAIT, "{name:?}");
    }
}

#[test]
fn empty_strategy_shifts_all_traffic_at_once() {
    let plan = traffic(&DeploymentStrategy::default());
    assert_eq!(shape(&plan), vec![(100, None)]);
    let plan = traffic(&DeploymentStrategy {
        all_at_once: Some(AllAtOnce {}),
        ..Default::default()
    });
    assert_eq!(shape(&plan), vec![(100, None)]);
}

#[test]
fn custom_canary_shifts_percent_then_rest_after_interval() {
    let plan = traffic(&DeploymentStrategy {
        canary: Some(TrafficShift {
            percent: 20,
            interval: DurationString::new("90s"),
        }),
        ..Default::default()
    });
    assert_eq!(
        plan.steps,
        vec![
            PlanStep::Shift {
                weight: 20,
                bake: Bake::For(Duration::from_secs(90))
            },
            PlanStep::Shift {
                weight: 100,
                bake: Bake::None
            }
        ]
    );
}

#[test]
fn custom_linear_ends_with_a_smaller_last_increment() {
    let plan = traffic(&DeploymentStrategy {
        linear: Some(TrafficShift {
            percent: 30,
            interval: DurationString::new("2m"),
        }),
        ..Default::default()
    });
    assert_eq!(
        shape(&plan),
        vec![(30, Some(2)), (60, Some(2)), (90, Some(2)), (100, None)]
    );
}

#[test]
fn explicit_steps_without_pause_wait_for_promote_except_the_last() {
    let plan = traffic(&DeploymentStrategy {
        steps: Some(vec![
            TrafficStep {
                weight: 0,
                pause: None,
            },
            TrafficStep {
                weight: 25,
                pause: Some(DurationString::new("1m")),
            },
            TrafficStep {
                weight: 100,
                pause: None,
            },
        ]),
        ..Default::default()
    });
    assert_eq!(
        plan.steps,
        vec![
            PlanStep::Shift {
                weight: 0,
                bake: Bake::UntilPromoted
            },
            PlanStep::Shift {
                weight: 25,
                bake: Bake::For(MINUTE)
            },
            PlanStep::Shift {
                weight: 100,
                bake: Bake::None
            },
        ]
    );
}

#[test]
fn decreasing_or_unfinished_steps_are_refused() {
    for weights in [vec![50, 20, 100], vec![10, 50]] {
        let strategy = DeploymentStrategy {
            steps: Some(
                weights
                    .into_iter()
                    .map(|weight| TrafficStep {
                        weight,
                        pause: None,
                    })
                    .collect(),
            ),
            ..Default::default()
        };
        assert_eq!(resolve_plan(&strategy), Err(StrategyError::StepsOrder));
    }
}

#[test]
fn invalid_interval_names_the_field() {
    let error = resolve_plan(&DeploymentStrategy {
        canary: Some(TrafficShift {
            percent: 10,
            interval: DurationString::new("soon"),
        }),
        ..Default::default()
    })
    .unwrap_err();
    assert!(
        error.to_string().contains("spec.strategy.canary.interval"),
        "{error}"
    );
}

#[test]
fn blue_green_wait_is_step_zero_with_its_timeout_and_termination_wait() {
    let plan = traffic(&DeploymentStrategy {
        config_name: Some(DeploymentConfigName::EcsCanary10Percent5Minutes),
        blue_green: Some(BlueGreen {
            ready_option: Some(ReadyOption {
                action: ReadyAction::Wait,
                wait_timeout: Some(DurationString::new("2h")),
            }),
            termination_wait: DurationString::new("10m"),
        }),
        ..Default::default()
    });
    assert_eq!(
        plan.steps[0],
        PlanStep::AwaitPromote {
            timeout: Some(Duration::from_secs(7200))
        }
    );
    assert_eq!(plan.first_shift_index(), 1);
    assert_eq!(plan.weights(), vec![10, 100]);
    assert_eq!(plan.termination_wait, 10 * MINUTE);
    assert_eq!(plan.gate(), Some(Some(Duration::from_secs(7200))));
}

#[test]
fn blue_green_continue_has_no_gate() {
    let plan = traffic(&DeploymentStrategy {
        blue_green: Some(BlueGreen {
            ready_option: Some(ReadyOption::default()),
            termination_wait: DurationString::new("0s"),
        }),
        ..Default::default()
    });
    assert_eq!(plan.gate(), None);
    assert_eq!(plan.termination_wait, Duration::ZERO);
}

#[test]
fn rolling_limits_round_like_apps_v1() {
    let plan = match resolve_plan(&DeploymentStrategy {
        rolling: Some(RollingStrategy::default()),
        ..Default::default()
    })
    .unwrap()
    {
        RolloutPlan::Rolling(plan) => plan,
        other => panic!("{other:?}"),
    };
    assert_eq!(plan.limits(10).unwrap(), (3, 2));
    assert_eq!(plan.limits(1).unwrap(), (1, 0));
    let zero = RollingPlan {
        max_surge: IntOrString::Int(0),
        max_unavailable: IntOrString::String("0%".into()),
    };
    assert_eq!(zero.limits(4).unwrap(), (0, 1));
    let bad = RollingStrategy {
        max_surge: Some(IntOrString::String("lots".into())),
        max_unavailable: None,
    };
    assert!(matches!(
        resolve_plan(&DeploymentStrategy {
            rolling: Some(bad),
            ..Default::default()
        }),
        Err(StrategyError::RollingLimit {
            field: "maxSurge",
            ..
        })
    ));
}
