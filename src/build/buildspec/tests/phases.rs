//! `phases`.

use super::{Error, Expected, Warning, assert_diagnostics, parse_clean};
use crate::build::buildspec::phases::parse_on_failure;
use crate::build::buildspec::{OnFailure, PhaseName, Position, Variable};

/// The command texts of the `build` phase of a 0.2 buildspec whose build phase is `phase`.
fn build_commands(phase: &str) -> Vec<String> {
    let spec = parse_clean(&format!("version: 0.2\nphases:\n  build:\n{phase}"));
    let build = spec.phases.build.expect("build phase");
    build
        .commands
        .into_iter()
        .map(|command| command.text)
        .collect()
}

#[test]
fn commands_may_be_block_scalars() {
    let cases: &[(&str, &[&str])] = &[
        (
            "    commands:\n      - make\n      - make test\n",
            &["make", "make test"],
        ),
        (
            "    commands:\n      - |\n        if true; then\n          echo yes\n        fi\n",
            &["if true; then\n  echo yes\nfi\n"],
        ),
        (
            "    commands:\n      - >-\n        OTP=`node -e \"\n          x\n          \"`\n",
            &["OTP=`node -e \"\n  x\n  \"`"],
        ),
        (
            "    commands:\n      - A= B=\n        tox -e py\n",
            &["A= B= tox -e py"],
        ),
        (
            "    commands:\n      - 'echo \"quoted: yes\"'\n",
            &["echo \"quoted: yes\""],
        ),
        ("    commands:\n      - true\n      - 42\n", &["true", "42"]),
        (
            "    commands: [make, 'make test']\n",
            &["make", "make test"],
        ),
    ];
    for (phase, expected) in cases {
        assert_eq!(build_commands(phase), *expected, "for {phase:?}");
    }
}

#[test]
fn commands_keep_their_positions() {
    let spec = parse_clean(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - make\n      - |\n        a\n    finally:\n      - clean\n",
    );
    let build = spec.phases.build.unwrap();
    let positions: Vec<Position> = build
        .commands
        .iter()
        .chain(&build.finally)
        .map(|command| command.position)
        .collect();
    assert_eq!(
        positions,
        [
            Position { line: 5, column: 9 },
            Position { line: 7, column: 9 },
            Position { line: 9, column: 9 }
        ]
    );
}

#[test]
fn commands_that_are_not_strings_are_errors_with_a_fix() {
    let cases: &[(&str, &[Expected])] = &[
        (
            "    commands: make\n",
            &[(
                4,
                15,
                Error,
                "`phases.build.commands` must be a list, found a single value",
            )],
        ),
        (
            "    commands:\n      -\n",
            &[(5, 7, Error, "`phases.build.commands[0]` is empty")],
        ),
        (
            "    commands:\n      - make\n      - \n",
            &[(6, 7, Error, "`phases.build.commands[1]` is empty")],
        ),
        (
            "    commands:\n      - echo result: ok\n",
            &[(
                5,
                9,
                Error,
                "`phases.build.commands[0]` is a mapping, not a string",
            )],
        ),
        (
            "    commands:\n      - - make\n",
            &[(5, 9, Error, "is a nested list")],
        ),
        (
            "    commands:\n      make: all\n",
            &[(
                5,
                7,
                Error,
                "`phases.build.commands` must be a list, found a mapping",
            )],
        ),
        (
            "    finally: cleanup\n",
            &[(4, 14, Error, "`phases.build.finally` must be a list")],
        ),
    ];
    for (phase, expected) in cases {
        assert_diagnostics(
            &format!("version: 0.2\nphases:\n  build:\n{phase}"),
            expected,
        );
    }
    let found = super::diagnostics(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo result: ok\n",
    );
    assert_eq!(
        found[0].fix.as_deref(),
        Some("quote the whole line: `- \"echo result: ok\"`")
    );
}

#[test]
fn on_failure_accepts_abort_continue_and_retry_forms() {
    let retry = |count, pattern: Option<&str>| OnFailure::Retry {
        count,
        pattern: pattern.map(str::to_owned),
    };
    let cases = [
        ("ABORT", Some(OnFailure::Abort)),
        ("CONTINUE", Some(OnFailure::Continue)),
        ("abort", Some(OnFailure::Abort)),
        ("Continue", Some(OnFailure::Continue)),
        ("RETRY", Some(retry(3, None))),
        ("RETRY-5", Some(retry(5, None))),
        ("RETRY-0", Some(retry(0, None))),
        ("RETRY-2-timed out.*", Some(retry(2, Some("timed out.*")))),
        (
            "RETRY-Connection reset",
            Some(retry(3, Some("Connection reset"))),
        ),
        ("RETRY-101", None),
        ("RETRY-", None),
        ("STOP", None),
        ("", None),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_on_failure(text), expected, "for {text:?}");
    }
}

#[test]
fn on_failure_is_read_per_phase_and_bad_values_are_errors() {
    let spec = parse_clean(
        "version: 0.2\nphases:\n  build:\n    on-failure: ABORT   \n    commands: [make]\n  post_build:\n    on-failure: CONTINUE\n    commands: [ls]\n",
    );
    assert_eq!(
        spec.phases.build.unwrap().on_failure,
        Some(OnFailure::Abort)
    );
    assert_eq!(
        spec.phases.post_build.unwrap().on_failure,
        Some(OnFailure::Continue)
    );
    assert_diagnostics(
        "version: 0.2\nphases:\n  build:\n    on-failure: IGNORE\n    commands: [make]\n",
        &[(
            4,
            17,
            Error,
            "`phases.build.on-failure` must be ABORT, CONTINUE or RETRY[-count][-regex], found `IGNORE`",
        )],
    );
}

#[test]
fn a_phase_may_hold_only_finally_or_only_runtime_versions() {
    let spec = parse_clean(
        "version: 0.2\nphases:\n  install:\n    runtime-versions:\n      nodejs: 16\n      java: \"$JAVA_RUNTIME\"\n      python: 3.10\n  post_build:\n    finally:\n      - rm lock\n",
    );
    let install = spec.phases.install.unwrap();
    assert!(install.commands.is_empty());
    let versions = |pairs: &[(&str, &str)]| -> Vec<Variable> {
        pairs
            .iter()
            .map(|(name, value)| Variable {
                name: (*name).into(),
                value: (*value).into(),
            })
            .collect()
    };
    assert_eq!(
        install.runtime_versions,
        versions(&[
            ("nodejs", "16"),
            ("java", "$JAVA_RUNTIME"),
            ("python", "3.10")
        ])
    );
    let post_build = spec.phases.post_build.unwrap();
    assert!(post_build.commands.is_empty());
    assert_eq!(post_build.finally[0].text, "rm lock");
}

#[test]
fn run_as_is_read_per_phase() {
    let spec = parse_clean(
        "version: 0.2\nrun-as: builder\nphases:\n  install:\n    run-as: root\n    commands: [apt-get update]\n  build:\n    commands: [make]\n",
    );
    assert_eq!(spec.run_as.as_deref(), Some("builder"));
    assert_eq!(spec.phases.install.unwrap().run_as.as_deref(), Some("root"));
    assert_eq!(spec.phases.build.unwrap().run_as, None);
}

#[test]
fn phases_iterate_in_run_order() {
    let spec = parse_clean(
        "version: 0.2\nphases:\n  post_build:\n    commands: [c]\n  build:\n    commands: [b]\n  install:\n    commands: [a]\n",
    );
    let names: Vec<PhaseName> = spec.phases.iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        [PhaseName::Install, PhaseName::Build, PhaseName::PostBuild]
    );
    assert_eq!(PhaseName::PreBuild.key(), "pre_build");
    assert_eq!(PhaseName::PreBuild.build_phase_type(), "PRE_BUILD");
}

#[test]
fn misspelt_phases_and_phase_keys_are_warnings_with_suggestions() {
    let cases: &[(&str, &[Expected])] = &[
        (
            "  pre-build:\n    commands: [a]\n  build:\n    commands: [b]\n",
            &[(
                3,
                3,
                Warning,
                "unknown key `pre-build` in `phases` is ignored; did you mean `pre_build`?",
            )],
        ),
        (
            "  build:\n    commands: [b]\n  postbuild:\n    commands: [c]\n",
            &[(5, 3, Warning, "did you mean `post_build`?")],
        ),
        (
            "  build:\n    commands: [b]\n  post_biuld:\n    commands: [c]\n",
            &[(5, 3, Warning, "did you mean `post_build`?")],
        ),
        (
            "  build:\n    Commands: [b]\n",
            &[(
                4,
                5,
                Warning,
                "unknown key `Commands` in `phases.build` is ignored; did you mean `commands`?",
            )],
        ),
        (
            "  build:\n    commands: [b]\n    finaly: [c]\n",
            &[(5, 5, Warning, "did you mean `finally`?")],
        ),
        (
            "  build:\n    commands: [b]\n    runtime-versions:\n      go: 1.22\n",
            &[(
                5,
                5,
                Warning,
                "`runtime-versions` is only read in the install phase",
            )],
        ),
    ];
    for (phases, expected) in cases {
        assert_diagnostics(&format!("version: 0.2\nphases:\n{phases}"), expected);
    }
}

#[test]
fn phases_missing_everything_is_an_error() {
    let cases: &[(&str, &[Expected])] = &[
        ("version: 0.2\n", &[(1, 1, Error, "missing `phases`")]),
        (
            "version: 0.2\nphases:\n",
            &[(
                2,
                1,
                Error,
                "`phases` has none of install, pre_build, build, post_build",
            )],
        ),
        (
            "version: 0.2\nphases: {}\n",
            &[(2, 1, Error, "`phases` has none of")],
        ),
        (
            "version: 0.2\nphases:\n  deploy:\n    commands: [x]\n",
            &[
                (2, 1, Error, "`phases` has none of"),
                (3, 3, Warning, "unknown key `deploy` in `phases`"),
            ],
        ),
        (
            "version: 0.2\nphases: [build]\n",
            &[(2, 9, Error, "`phases` must be a mapping")],
        ),
        (
            "version: 0.2\nphases:\n  install:\n    runtime-versions: {}\n",
            &[(
                4,
                5,
                Error,
                "`phases.install.runtime-versions` names no runtime",
            )],
        ),
    ];
    for (text, expected) in cases {
        let mut expected = expected.to_vec();
        expected.sort_by_key(|(line, column, severity, _)| (*line, *column, *severity));
        assert_diagnostics(text, &expected);
    }
}

#[test]
fn empty_phases_and_empty_commands_are_warnings() {
    let cases: &[(&str, &[Expected])] = &[
        (
            "  build:\n    commands: [b]\n  post_build:\n",
            &[(5, 3, Warning, "`phases.post_build` is empty")],
        ),
        (
            "  build:\n    commands: [b]\n  post_build:\n    commands:\n",
            &[(6, 5, Warning, "`phases.post_build.commands` is empty")],
        ),
    ];
    for (phases, expected) in cases {
        assert_diagnostics(&format!("version: 0.2\nphases:\n{phases}"), expected);
    }
}

#[test]
fn powershell_syntax_in_commands_is_warned_about() {
    assert_diagnostics(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo $env:TEMP\n      - echo $HOME\n      - echo $env\n",
        &[(
            5,
            9,
            Warning,
            "`phases.build.commands` uses `$env:TEMP`, PowerShell syntax",
        )],
    );
}
