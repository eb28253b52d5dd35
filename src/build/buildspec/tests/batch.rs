//! `batch`.

use super::{BUILD, Error, Expected, Warning, assert_diagnostics};
use crate::build::buildspec::{BatchKind, BuildSpec, parse_buildspec};

/// Parses a valid batch buildspec, checking that its only warning is the batch warning.
fn parse_batch(text: &str) -> BuildSpec {
    let parsed = parse_buildspec(text, "b.yml").unwrap_or_else(|invalid| panic!("{invalid}"));
    let warnings: Vec<&str> = parsed
        .warnings
        .iter()
        .map(|warning| warning.message.as_str())
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].starts_with("batch builds are not run by Slipway"),
        "{warnings:#?}"
    );
    parsed.spec
}

#[test]
fn batch_buildspecs_parse_with_a_warning_that_slipway_does_not_run_them() {
    assert_diagnostics(
        &format!(
            "version: 0.2\nbatch:\n  fast-fail: true\n  build-list:\n    - identifier: a\n{BUILD}"
        ),
        &[(
            2,
            1,
            Warning,
            "batch builds are not run by Slipway: `batch` is checked, but a BuildRun with this buildspec fails before it starts",
        )],
    );
}

#[test]
fn build_list_entries_keep_their_environment() {
    let spec = parse_batch(&format!(
        "version: 0.2\nbatch:\n  build-list:\n    - identifier: ktls\n      ignore-failure: true\n      env:\n        fleet: ubuntu25\n        privileged-mode: false\n        variables:\n          EXPECTED: 1\n    - identifier: other\n      buildspec: other.yml\n{BUILD}"
    ));
    let batch = spec.batch.unwrap();
    assert_eq!((batch.position.line, batch.position.column), (2, 1));
    let Some(BatchKind::BuildList(tasks)) = batch.kind else {
        panic!("not a build list");
    };
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0].identifier.as_deref(), Some("ktls"));
    assert!(tasks[0].ignore_failure);
    assert_eq!(tasks[0].env.fleet.as_deref(), Some("ubuntu25"));
    assert_eq!(tasks[0].env.privileged_mode, Some(false));
    assert_eq!(tasks[0].env.variables[0].value, "1");
    assert_eq!(tasks[1].buildspec.as_deref(), Some("other.yml"));
}

#[test]
fn a_build_graph_needs_no_phases_and_checks_its_dependencies() {
    let spec = parse_batch(
        "version: 0.2\nbatch:\n  fast-fail: true \n  build-graph:\n    - identifier: a\n      buildspec: a.yml\n    - identifier: b\n      depend-on:\n        - a\n      buildspec: b.yml\n      env:\n        image: aws/codebuild/standard:5.0\n        compute-type: BUILD_GENERAL1_MEDIUM\n",
    );
    let batch = spec.batch.unwrap();
    assert_eq!(batch.fast_fail, Some(true));
    let Some(BatchKind::BuildGraph(tasks)) = batch.kind else {
        panic!("not a build graph");
    };
    assert_eq!(tasks[1].depend_on, ["a"]);
    assert_eq!(
        tasks[1].env.image.as_deref(),
        Some("aws/codebuild/standard:5.0")
    );
    assert!(spec.phases.iter().next().is_none());
}

#[test]
fn build_matrix_counts_every_combination() {
    let spec = parse_batch(&format!(
        "version: 0.2\nbatch:\n  build-matrix:\n    static:\n      ignore-failure: false\n      env:\n        type: LINUX_CONTAINER\n    dynamic:\n      env:\n        image:\n          - img:4.0\n        variables:\n          LIB: [a, b, c]\n          GCC: [4.8, 6, 9]\n          CORKED: [true, false]\n{BUILD}"
    ));
    let Some(BatchKind::BuildMatrix(matrix)) = spec.batch.unwrap().kind else {
        panic!("not a matrix");
    };
    assert_eq!(matrix.build_count(), 18);
    assert_eq!(
        matrix.variables[1],
        (
            "GCC".to_owned(),
            vec!["4.8".to_owned(), "6".to_owned(), "9".to_owned()]
        )
    );
    assert_eq!(
        matrix.static_settings.env.environment_type.as_deref(),
        Some("LINUX_CONTAINER")
    );
}

#[test]
fn build_fanout_reads_parallelism() {
    let spec = parse_batch(&format!(
        "version: 0.2\nbatch:\n  build-fanout:\n    parallelism: 5\n    ignore-failure: yes\n{BUILD}"
    ));
    let Some(BatchKind::BuildFanout(fanout)) = spec.batch.unwrap().kind else {
        panic!("not a fanout");
    };
    assert_eq!((fanout.parallelism, fanout.ignore_failure), (Some(5), true));
}

#[test]
fn malformed_batches_are_errors() {
    let batch_warning: Expected = (2, 1, Warning, "batch builds are not run by Slipway");
    let cases: &[(&str, Expected)] = &[
        (
            "  build-graph:\n    - identifier: a\n      depend-on: [b]\n",
            (
                4,
                7,
                Error,
                "`depend-on` names `b`, which no build-graph entry has",
            ),
        ),
        (
            "  build-graph:\n    - buildspec: a.yml\n",
            (4, 7, Error, "a build-graph entry needs an `identifier`"),
        ),
        (
            "  build-list:\n    - identifier: a\n  build-graph:\n    - identifier: b\n",
            (5, 3, Error, "`batch` names more than one kind of batch"),
        ),
        (
            "  build-list: a\n",
            (3, 15, Error, "`batch.build-list` must be a list of builds"),
        ),
        (
            "  build-fanout:\n    parallelism: many\n",
            (
                4,
                18,
                Error,
                "`batch.build-fanout.parallelism` must be a positive whole number",
            ),
        ),
    ];
    for (batch, expected) in cases {
        assert_diagnostics(
            &format!("version: 0.2\nbatch:\n{batch}{BUILD}"),
            &[batch_warning, *expected],
        );
    }
}
