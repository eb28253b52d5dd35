//! `slipway buildspec check FILE...`: reads buildspec files and prints their diagnostics.
//!
//! Output goes to stdout, one block per file: the diagnostics in source order, then a summary
//! line `FILE: ok`, `FILE: ok (N warnings)`, `FILE: invalid (N errors)` or
//! `FILE: unreadable: …`. Blocks are separated by a blank line. The command exits non-zero when
//! any file is invalid or unreadable, so it can gate CI.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::check::{FileReport, check_files, plural};
use crate::build::buildspec::parse_buildspec;

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
    check_files(
        &options.files,
        check_text,
        "buildspec",
        "invalid or unreadable",
    )
}

/// Checks buildspec `text` named `name`.
pub fn check_text(name: &str, text: &str) -> FileReport {
    match parse_buildspec(text, name) {
        Ok(parsed) => {
            let summary = match parsed.warnings.len() {
                0 => "ok".to_owned(),
                count => format!("ok ({})", plural(count, "warning")),
            };
            FileReport::new(name, &parsed.warnings, &summary, true)
        }
        Err(invalid) => {
            let summary = format!("invalid ({})", plural(invalid.errors().count(), "error"));
            FileReport::new(name, &invalid.diagnostics, &summary, false)
        }
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
}
