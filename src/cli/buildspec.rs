//! `slipway buildspec check FILE...`: reads buildspec files and prints their diagnostics.
//!
//! Output goes to stdout, one block per file: the diagnostics in source order, then a summary
//! line `FILE: ok`, `FILE: ok (N warnings)`, `FILE: invalid (N errors)` or
//! `FILE: unreadable: …`. Blocks are separated by a blank line. The command exits non-zero when
//! any file is invalid or unreadable, so it can gate CI.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::build::buildspec::{Diagnostic, parse_buildspec};

/// Options of `slipway buildspec`.
#[derive(Debug, Args)]
pub struct BuildspecCommand {
    /// What to do with buildspec files.
    #[command(subcommand)]
    pub action: BuildspecAction,
}

/// The `slipway buildspec` subcommands.
#[derive(Debug, Subcommand)]
pub enum BuildspecAction {
    /// Check buildspec files and print errors and warnings with file:line:column and fixes.
    Check(CheckOptions),
}

/// Options of `slipway buildspec check`.
#[derive(Debug, Args)]
pub struct CheckOptions {
    /// The buildspec files to check.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Runs `slipway buildspec …`.
///
/// # Errors
/// When any file is invalid or unreadable (after all files have been checked and printed).
pub fn run(command: &BuildspecCommand) -> anyhow::Result<()> {
    match &command.action {
        BuildspecAction::Check(options) => check(options),
    }
}

/// Checks every file, prints one block each, and fails when any is not ok.
fn check(options: &CheckOptions) -> anyhow::Result<()> {
    let mut failed = 0;
    for (index, path) in options.files.iter().enumerate() {
        if index > 0 {
            println!();
        }
        let report = check_file(path);
        print!("{}", report.text);
        if !report.ok {
            failed += 1;
        }
    }
    match failed {
        0 => Ok(()),
        _ => anyhow::bail!(
            "{failed} of {} buildspec files {} invalid or unreadable",
            options.files.len(),
            if failed == 1 { "is" } else { "are" }
        ),
    }
}

/// What `check` prints for one file, and whether the file passed.
#[derive(Debug, PartialEq, Eq)]
pub struct FileReport {
    /// The block: diagnostics, then the summary line (ends with a newline).
    pub text: String,
    /// Whether the file is a valid buildspec (warnings allowed).
    pub ok: bool,
}

/// Reads and checks one file.
pub fn check_file(path: &Path) -> FileReport {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => check_text(&name, &text),
            Err(_) => unreadable(&name, "not UTF-8 text"),
        },
        Err(error) => unreadable(&name, &error.to_string()),
    }
}

/// Checks buildspec `text` named `name`.
pub fn check_text(name: &str, text: &str) -> FileReport {
    match parse_buildspec(text, name) {
        Ok(parsed) => {
            let summary = match parsed.warnings.len() {
                0 => "ok".to_owned(),
                count => format!("ok ({})", plural(count, "warning")),
            };
            FileReport {
                text: block(name, &parsed.warnings, &summary),
                ok: true,
            }
        }
        Err(invalid) => {
            let summary = format!("invalid ({})", plural(invalid.errors().count(), "error"));
            FileReport {
                text: block(name, &invalid.diagnostics, &summary),
                ok: false,
            }
        }
    }
}

/// The block for a file that could not be read.
fn unreadable(name: &str, reason: &str) -> FileReport {
    FileReport {
        text: format!("{name}: unreadable: {reason}\n"),
        ok: false,
    }
}

/// Diagnostics one per paragraph, then `name: summary`.
fn block(name: &str, diagnostics: &[Diagnostic], summary: &str) -> String {
    let mut text = String::new();
    for diagnostic in diagnostics {
        text.push_str(&diagnostic.to_string());
        text.push('\n');
    }
    text.push_str(&format!("{name}: {summary}\n"));
    text
}

/// `1 warning`, `2 warnings`.
fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_ends_with_a_one_line_summary() {
        let cases = [
            (
                "version: 0.2\nphases:\n  build:\n    commands:\n      - make\n",
                true,
                "b.yml: ok\n",
            ),
            (
                "version: 0.2\nphases:\n  build:\n    Commands:\n      - make\n",
                true,
                "b.yml:4:5: warning: unknown key `Commands` in `phases.build` is ignored; did you mean `commands`?\n  fix: rename `Commands` to `commands` (keys are case-sensitive)\nb.yml: ok (1 warning)\n",
            ),
            (
                "phases:\n  build:\n    commands: make\n",
                false,
                "b.yml:1:1: error: missing `version`\n  fix: add `version: 0.2` as the first line\nb.yml:3:15: error: `phases.build.commands` must be a list, found a single value\n  fix: write each entry on its own line as `- make`\nb.yml: invalid (2 errors)\n",
            ),
        ];
        for (text, ok, expected) in cases {
            let report = check_text("b.yml", text);
            assert_eq!(report.text, expected, "for {text:?}");
            assert_eq!(report.ok, ok, "for {text:?}");
        }
    }

    #[test]
    fn a_missing_file_is_reported_unreadable() {
        let report = check_file(Path::new("/nonexistent/buildspec.yml"));
        assert!(!report.ok);
        assert!(
            report
                .text
                .starts_with("/nonexistent/buildspec.yml: unreadable: "),
            "{}",
            report.text
        );
    }
}
