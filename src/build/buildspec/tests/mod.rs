//! Table-driven tests of the buildspec parser, one file per section. Each case states the
//! diagnostics it expects as `(line, column, severity, message fragment)`.

mod batch;
mod env;
mod outputs;
mod phases;

use super::{BuildSpec, BuildSpecVersion, Diagnostic, Severity, parse_buildspec};

use Severity::{Error, Warning};

/// An expected diagnostic: line, column, severity and a fragment of the message.
type Expected = (u32, u32, Severity, &'static str);

/// Every diagnostic for `text`, valid or not.
fn diagnostics(text: &str) -> Vec<Diagnostic> {
    match parse_buildspec(text, "buildspec.yml") {
        Ok(parsed) => parsed.warnings,
        Err(invalid) => invalid.diagnostics,
    }
}

/// Asserts that `text` yields exactly `expected` (in source order), each with a fix when it is
/// an error.
fn assert_diagnostics(text: &str, expected: &[Expected]) {
    let found = diagnostics(text);
    let summary: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        found.len(),
        expected.len(),
        "for {text:?}:\n{}",
        summary.join("\n")
    );
    for (diagnostic, (line, column, severity, fragment)) in found.iter().zip(expected) {
        assert_eq!(
            (diagnostic.line, diagnostic.column, diagnostic.severity),
            (*line, *column, *severity),
            "for {text:?}: {diagnostic}"
        );
        assert!(
            diagnostic.message.contains(fragment),
            "`{fragment}` not in: {diagnostic}"
        );
        if diagnostic.is_error() {
            assert!(
                diagnostic.fix.is_some(),
                "error without a fix: {diagnostic}"
            );
        }
    }
}

/// Parses `text`, which must be valid without warnings.
fn parse_clean(text: &str) -> BuildSpec {
    match parse_buildspec(text, "buildspec.yml") {
        Ok(parsed) if parsed.warnings.is_empty() => parsed.spec,
        Ok(parsed) => panic!("unexpected warnings for {text:?}: {:#?}", parsed.warnings),
        Err(invalid) => panic!("invalid {text:?}:\n{invalid}"),
    }
}

/// A minimal valid body to append after a `version` line.
const BUILD: &str = "phases:\n  build:\n    commands:\n      - make\n";

#[test]
fn version_0_1_is_accepted() {
    for version in ["0.1", "'0.1'", "\"0.1\""] {
        let spec = parse_clean(&format!("version: {version}\n{BUILD}"));
        assert_eq!(spec.version, BuildSpecVersion::V0_1);
        assert!(!spec.version.shares_one_shell());
    }
}

#[test]
fn version_0_2_is_accepted() {
    for version in ["0.2", "'0.2'", "\"0.2\""] {
        let spec = parse_clean(&format!("version: {version}\n{BUILD}"));
        assert_eq!(spec.version, BuildSpecVersion::V0_2);
        assert!(spec.version.shares_one_shell());
    }
}

#[test]
fn missing_version_is_an_error_with_a_fix() {
    let found = diagnostics(BUILD);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].to_string(),
        "buildspec.yml:1:1: error: missing `version`\n  fix: add `version: 0.2` as the first line"
    );
}

#[test]
fn unsupported_or_malformed_versions_are_errors() {
    let cases: &[(&str, &[Expected])] = &[
        (
            "version: 0.3\n",
            &[(1, 10, Error, "unsupported buildspec version `0.3`")],
        ),
        (
            "version: 1.0\n",
            &[(1, 10, Error, "unsupported buildspec version `1.0`")],
        ),
        (
            "version: 0.20\n",
            &[(1, 10, Error, "unsupported buildspec version `0.20`")],
        ),
        ("version:\n", &[(1, 8, Error, "`version` has no value")]),
        (
            "version: [0.2]\n",
            &[(1, 10, Error, "`version` must be a single value")],
        ),
    ];
    for (head, expected) in cases {
        assert_diagnostics(&format!("{head}{BUILD}"), expected);
    }
}

#[test]
fn broken_documents_are_errors_at_their_position() {
    let cases: &[(&str, &[Expected])] = &[
        ("", &[(1, 1, Error, "the buildspec is empty")]),
        (
            "# nothing here\n",
            &[(1, 1, Error, "the buildspec is empty")],
        ),
        (
            "- version: 0.2\n",
            &[(1, 1, Error, "must be a mapping of keys")],
        ),
        ("just text\n", &[(1, 1, Error, "must be a mapping of keys")]),
        (
            "version: 0.2\nphases:\n\tbuild: {}\n",
            &[(3, 1, Error, "invalid YAML: tabs")],
        ),
        (
            "version: 0.2\nphases: [\n",
            &[(2, 9, Error, "invalid YAML")],
        ),
        (
            "version: 0.2\n---\nversion: 0.2\n",
            &[(3, 1, Error, "invalid YAML: multiple YAML documents")],
        ),
        (
            "version: 0.2\nphases:\n  build:\n    commands:\n      - echo\n   - bad\n",
            &[(6, 4, Error, "invalid YAML")],
        ),
    ];
    for (text, expected) in cases {
        assert_diagnostics(text, expected);
    }
}

#[test]
fn tab_indentation_gets_a_fix_about_spaces() {
    let found = diagnostics("version: 0.2\nphases:\n\tbuild: {}\n");
    assert_eq!(
        found[0].fix.as_deref(),
        Some("indent with spaces: YAML does not allow tabs in indentation")
    );
}

#[test]
fn unknown_key_suggests_the_closest_known_one() {
    let cases: &[(&str, &[Expected])] = &[
        (
            "version: 0.2\nPhases: {}\n",
            &[
                (1, 1, Error, "missing `phases`"),
                (
                    2,
                    1,
                    Warning,
                    "unknown key `Phases` at the top level is ignored; did you mean `phases`?",
                ),
            ],
        ),
        (
            "version: 0.2\nartifact:\n  files: [a]\n",
            &[(2, 1, Warning, "did you mean `artifacts`?")],
        ),
        (
            "version: 0.2\ncaches:\n  paths: [a]\n",
            &[(2, 1, Warning, "did you mean `cache`?")],
        ),
        (
            "version: 0.2\nrunas: me\n",
            &[(2, 1, Warning, "did you mean `run-as`?")],
        ),
        (
            "version: 0.2\nnotifications: {}\n",
            &[(
                2,
                1,
                Warning,
                "unknown key `notifications` at the top level is ignored",
            )],
        ),
    ];
    for (head, expected) in cases {
        let text = format!("{head}{}", if head.contains("Phases") { "" } else { BUILD });
        assert_diagnostics(&text, expected);
    }
    let found = diagnostics(&format!("version: 0.2\nnotifications: {{}}\n{BUILD}"));
    assert!(
        found[0].fix.as_deref().unwrap().contains("`phases`"),
        "lists known keys: {}",
        found[0]
    );
}

#[test]
fn duplicate_keys_are_errors_naming_the_first() {
    assert_diagnostics(
        &format!("version: 0.2\n{BUILD}    commands:\n      - again\n"),
        &[(
            6,
            5,
            Error,
            "duplicate key `commands` in `phases.build` (first at 4:5)",
        )],
    );
    assert_diagnostics(
        &format!("version: 0.2\nversion: 0.1\n{BUILD}"),
        &[(
            2,
            1,
            Error,
            "duplicate key `version` at the top level (first at 1:1)",
        )],
    );
}

#[test]
fn top_level_run_as_is_read() {
    let spec = parse_clean(&format!("version: 0.2\nrun-as: builder\n{BUILD}"));
    assert_eq!(spec.run_as.as_deref(), Some("builder"));
}

#[test]
fn invalid_buildspec_lists_every_error_and_keeps_warnings() {
    let text = "version: 0.9\nphase:\n  build: {}\n";
    let invalid = parse_buildspec(text, "x.yml").unwrap_err();
    let lines: Vec<String> = invalid
        .diagnostics
        .iter()
        .map(|diagnostic| diagnostic.to_string().lines().next().unwrap().to_owned())
        .collect();
    assert_eq!(
        lines,
        [
            "x.yml:1:1: error: missing `phases`: a buildspec needs at least one of install, pre_build, build, post_build",
            "x.yml:1:10: error: unsupported buildspec version `0.9`; CodeBuild knows 0.1 and 0.2",
            "x.yml:2:1: warning: unknown key `phase` at the top level is ignored; did you mean `phases`?",
        ]
    );
    assert_eq!(invalid.errors().count(), 2);
    assert_eq!(invalid.first_error().line, 1);
}
