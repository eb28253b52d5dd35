//! Expression rules over a run's context: results, errors and the cost bound.

use std::collections::BTreeMap;

use super::cost::{self, MAX_COST, Shape};
use super::expression::{MAX_LENGTH, evaluate, evaluate_expression};
use super::*;

fn context() -> RuleContext {
    let namespace = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    };
    RuleContext {
        variables: BTreeMap::from([
            (
                "SourceVariables".to_owned(),
                namespace(&[("BranchName", "main"), ("CommitId", "4f2a9c1")]),
            ),
            (
                "variables".to_owned(),
                namespace(&[("REGION", "eu-west-1"), ("REPLICAS", "3")]),
            ),
        ]),
        stage: StageContext {
            name: "Deploy".into(),
            status: "InProgress".into(),
            attempt: 2,
            actions: vec![
                ActionContext {
                    name: "migrate".into(),
                    status: "Succeeded".into(),
                },
                ActionContext {
                    name: "smoke".into(),
                    status: "Failed".into(),
                },
            ],
        },
        execution: ExecutionContext {
            id: "web-7f3k2".into(),
            pipeline: "web".into(),
            trigger: "Webhook".into(),
            namespace: "shop".into(),
            revision: "4f2a9c1".into(),
        },
    }
}

#[test]
fn expressions_read_variables_stage_and_execution() {
    let cases: &[(&str, &str, bool)] = &[
        (
            "a source variable is read by namespace and name",
            "variables.SourceVariables.BranchName == 'main'",
            true,
        ),
        (
            "pipeline variables sit under variables.variables",
            "variables.variables.REGION == 'eu-west-1'",
            true,
        ),
        (
            "variables are strings and convert with int()",
            "int(variables.variables.REPLICAS) >= 3",
            true,
        ),
        (
            "all() over the stage's actions sees the failed one",
            "stage.actions.all(a, a.status == 'Succeeded')",
            false,
        ),
        (
            "exists() finds an action by status",
            "stage.actions.exists(a, a.name == 'smoke' && a.status == 'Failed')",
            true,
        ),
        (
            "filter() and size() count actions",
            "size(stage.actions.filter(a, a.status == 'Succeeded')) == 1",
            true,
        ),
        (
            "map() lists action names",
            "stage.actions.map(a, a.name) == ['migrate', 'smoke']",
            true,
        ),
        ("the attempt is an int", "stage.attempt > 1", true),
        (
            "stage name and status are strings",
            "stage.name == 'Deploy' && stage.status == 'InProgress'",
            true,
        ),
        (
            "execution fields are readable",
            "execution.trigger == 'Webhook' && execution.pipeline == 'web' && execution.id.startsWith('web-')",
            true,
        ),
        (
            "in tests for a namespace that may be absent",
            "'Build' in variables",
            false,
        ),
        (
            "has() tests for a namespace that may be absent",
            "has(variables.Build) || has(variables.SourceVariables.CommitId)",
            true,
        ),
        (
            "a guarded read of a missing namespace is false, not an error",
            "has(variables.Build) && variables.Build.ImageTag == 'v1'",
            false,
        ),
        (
            "string functions of the standard library work",
            "variables.SourceVariables.BranchName.startsWith('release/') || execution.revision.contains('2a9')",
            true,
        ),
        (
            "the ternary operator works",
            "(stage.attempt > 1 ? 'retry' : 'first') == 'retry'",
            true,
        ),
    ];
    for (behaviour, expression, expected) in cases {
        assert_eq!(
            evaluate_expression(expression, &context()),
            Ok(*expected),
            "{behaviour}: {expression}"
        );
    }
}

#[test]
fn expressions_without_a_boolean_answer_fail_with_the_cel_error() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "a string result is not a boolean",
            "execution.id",
            "gave String(\"web-7f3k2\"), not a boolean",
        ),
        (
            "a number result is not a boolean",
            "stage.attempt + 1",
            "gave Int(3), not a boolean",
        ),
        (
            "an unknown namespace fails to evaluate",
            "variables.Missing.ImageTag == 'v1'",
            "failed to evaluate: No such key: Missing",
        ),
        (
            "an unknown identifier fails to evaluate",
            "branch == 'main'",
            "failed to evaluate: Undeclared reference to 'branch'",
        ),
        (
            "mixing types fails to evaluate",
            "stage.attempt + 'x' == 'y'",
            "failed to evaluate: Unsupported binary operator 'add'",
        ),
        (
            "an incomplete expression does not parse",
            "stage.name ==",
            "does not parse as CEL",
        ),
        (
            "unbalanced parentheses do not parse",
            "(stage.attempt > 1",
            "does not parse as CEL",
        ),
        (
            "matches() is not available without the regex feature",
            "stage.name.matches('^D')",
            "failed to evaluate",
        ),
    ];
    for (behaviour, expression, expected) in cases {
        let error = evaluate_expression(expression, &context()).unwrap_err();
        assert!(
            error.contains(expected),
            "{behaviour}: {expression} gave {error:?}, wanted {expected:?}"
        );
        assert!(
            !error.contains('\n'),
            "{behaviour}: one line, got {error:?}"
        );
    }
}

#[test]
fn outcome_messages_name_the_rule_and_quote_the_expression() {
    let passed = evaluate(
        "on-main",
        "variables.SourceVariables.BranchName == 'main'",
        &context(),
    );
    assert_eq!(
        passed,
        RuleOutcome {
            passed: true,
            message: "rule on-main: variables.SourceVariables.BranchName == 'main' is true".into(),
        }
    );
    let failed = evaluate("first-try", "stage.attempt == 1", &context());
    assert!(!failed.passed);
    assert_eq!(
        failed.message,
        "rule first-try: stage.attempt == 1 is false"
    );
    let broken = evaluate(
        "typo",
        "variables.Sourcevariables.BranchName == 'main'",
        &context(),
    );
    assert!(!broken.passed);
    assert_eq!(
        broken.message,
        "rule typo: expression failed to evaluate: No such key: Sourcevariables"
    );
}

#[test]
fn expressions_over_the_schema_length_are_refused_unread() {
    let long = format!("{} == 'x'", "a".repeat(MAX_LENGTH));
    let error = evaluate_expression(&long, &context()).unwrap_err();
    assert!(error.contains("more than the 4096 allowed"), "{error}");
    // At the limit the expression is read (and here fails only for its unknown identifier).
    let at_limit = format!("{} == 1", "a".repeat(MAX_LENGTH - 5));
    let error = evaluate_expression(&at_limit, &context()).unwrap_err();
    assert!(error.contains("Undeclared reference"), "{error}");
}

#[test]
fn nested_macros_whose_worst_case_explodes_are_refused_before_they_run() {
    // Ten levels over ten elements: 10^10 steps if it ran.
    let list = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]";
    let mut bomb = "false".to_owned();
    for level in 0..10 {
        bomb = format!("{list}.exists(v{level}, {bomb})");
    }
    let started = std::time::Instant::now();
    let error = evaluate_expression(&bomb, &context()).unwrap_err();
    assert!(error.contains("evaluation units"), "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));

    // Concatenation cannot grow a list past the bound either.
    let mut wide = "stage.actions".to_owned();
    loop {
        let doubled = format!("({wide} + {wide})");
        if doubled.len() * 3 + 60 > MAX_LENGTH {
            break;
        }
        wide = doubled;
    }
    let spread = format!("{wide}.exists(a, {wide}.exists(b, {wide}.exists(c, false)))");
    assert!(spread.len() <= MAX_LENGTH, "{}", spread.len());
    let error = evaluate_expression(&spread, &context()).unwrap_err();
    assert!(error.contains("evaluation units"), "{error}");
}

#[test]
fn realistic_conditions_over_fifty_actions_and_two_hundred_variables_are_within_the_limit() {
    let mut large = context();
    large.stage.actions = (0..50)
        .map(|number| ActionContext {
            name: format!("deploy-region-{number}"),
            status: "Succeeded".into(),
        })
        .collect();
    for namespace in 0..10 {
        let variables = large
            .variables
            .entry(format!("Namespace{namespace}"))
            .or_default();
        for variable in 0..20 {
            variables.insert(format!("VARIABLE_{variable}"), "v".repeat(40));
        }
    }
    let json = serde_json::to_value(&large).unwrap();
    let shapes: std::collections::HashMap<String, Shape> = json
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| (name.clone(), Shape::of_json(value)))
        .collect();
    for expression in [
        "stage.actions.all(a, a.status == 'Succeeded')",
        "stage.actions.exists(a, stage.actions.exists(b, a.name != b.name && a.status == b.status))",
        "size(stage.actions.map(a, a.name).filter(n, n.startsWith('deploy'))) == 50",
        "stage.actions.map(a, stage.actions.map(b, a.name + b.name)).exists(l, l.exists(x, x == 'q')) == false",
        "variables.all(ns, variables[ns].all(k, variables[ns][k] != ''))",
        "variables.SourceVariables.BranchName == 'main' && 'REGION' in variables.variables",
    ] {
        let program = cel::Program::compile(expression).unwrap();
        let cost = cost::check(&program, &shapes).unwrap();
        assert!(cost < MAX_COST / 4, "{expression} costs {cost}");
        assert_eq!(
            evaluate_expression(expression, &large),
            Ok(true),
            "{expression}"
        );
    }
}

#[test]
fn long_operator_chains_evaluate_or_are_refused_without_exhausting_the_stack() {
    let chain = |operator: &str| {
        let mut text = "stage.attempt".to_owned();
        while text.len() + operator.len() + 1 < MAX_LENGTH - 10 {
            text.push_str(operator);
            text.push('1');
        }
        format!("{text} > 0")
    };
    // Test threads and tokio workers both get 2 MiB stacks.
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            [" + ", " - ", " * "]
                .iter()
                .map(|operator| evaluate_expression(&chain(operator), &context()))
                .collect::<Vec<_>>()
        })
        .unwrap();
    for result in handle.join().expect("no stack overflow") {
        match result {
            Ok(_) => {}
            Err(message) => assert!(
                message.contains("nests deeper") || message.contains("Overflow"),
                "{message}"
            ),
        }
    }
}
