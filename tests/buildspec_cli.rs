//! `slipway buildspec check` run as the built binary: output on stdout, exit status for CI.

mod support;

use std::path::Path;
use std::process::Output;

use support::Scratch;

/// Runs `slipway buildspec check` on `files` from inside `dir`, so names print relative.
fn check(dir: &Path, files: &[&str]) -> Output {
    support::check("buildspec", dir, files)
}

const VALID: &str = "version: 0.2\nphases:\n  build:\n    commands:\n      - make\n";
const WARNED: &str =
    "version: 0.2\nphases:\n  pre-build:\n    commands: [login]\n  build:\n    commands: [make]\n";
const INVALID: &str = "version: 0.2\nphases:\n  install:\n    commands:\n      -\n";

#[test]
fn valid_files_exit_zero_and_print_ok() {
    let scratch = Scratch::new("check-valid");
    scratch.write("buildspec.yml", VALID);
    scratch.write("warned.yml", WARNED);
    let output = check(&scratch.0, &["buildspec.yml", "warned.yml"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "buildspec.yml: ok\n\
         \n\
         warned.yml:3:3: warning: unknown key `pre-build` in `phases` is ignored; did you mean `pre_build`?\n  \
         fix: rename `pre-build` to `pre_build` (keys are case-sensitive)\n\
         warned.yml: ok (1 warning)\n"
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn an_invalid_file_makes_the_exit_status_non_zero() {
    let scratch = Scratch::new("check-invalid");
    scratch.write("buildspec.yml", VALID);
    scratch.write("broken.yml", INVALID);
    let output = check(&scratch.0, &["buildspec.yml", "broken.yml"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "buildspec.yml: ok\n\
         \n\
         broken.yml:5:7: error: `phases.install.commands[0]` is empty: a `-` with nothing after it\n  \
         fix: remove the empty `-` line or write the value after it\n\
         broken.yml: invalid (1 error)\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: 1 of 2 buildspec files is invalid or unreadable\n"
    );
}

#[test]
fn an_unreadable_file_is_reported_and_fails() {
    let scratch = Scratch::new("check-missing");
    let output = check(&scratch.0, &["missing.yml"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("missing.yml: unreadable: "), "{stdout}");
}

#[test]
fn check_needs_at_least_one_file() {
    let scratch = Scratch::new("check-none");
    let output = check(&scratch.0, &[]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "clap's usage error: {output:?}"
    );
}
