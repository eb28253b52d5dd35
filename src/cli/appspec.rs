//! `slipway appspec check FILE...`: reads CodeDeploy appspec files (YAML or JSON) and prints
//! their diagnostics.
//!
//! Output goes to stdout, one block per file: the diagnostics in source order, then a summary
//! line `FILE: ok`, `FILE: ok (N warnings)`, `FILE: invalid (N errors)`, `FILE: rejected: …`
//! (EC2/on-premises and Lambda appspecs, which Slipway does not roll out) or
//! `FILE: unreadable: …`. Blocks are separated by a blank line. The command exits non-zero when
//! any file is invalid, rejected or unreadable, so it can gate CI.
//!
//! `check` reads a file as a template: `<…>` placeholders and ECS task-definition ARNs pass
//! with warnings (they must be replaced before a Deployment rolls the appspec out), and `#{…}`
//! pipeline variables pass silently (a pipeline substitutes them).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::check::{FileReport, check_files, plural};
use crate::rollout::appspec::{AppSpecError, parse_appspec, rejection};

/// Options of `slipway appspec`.
#[derive(Debug, Args)]
pub struct AppspecCommand {
    /// What to do with appspec files.
    #[command(subcommand)]
    pub action: AppspecAction,
}

/// The `slipway appspec` subcommands.
#[derive(Debug, Subcommand)]
pub enum AppspecAction {
    /// Check appspec files and print errors and warnings with file:line:column and fixes.
    Check(CheckOptions),
}

/// Options of `slipway appspec check`.
#[derive(Debug, Args)]
pub struct CheckOptions {
    /// The appspec files to check (YAML or JSON).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Runs `slipway appspec …`.
///
/// # Errors
/// When any file is invalid, rejected or unreadable (after all files have been checked and
/// printed).
pub fn run(command: &AppspecCommand) -> anyhow::Result<()> {
    match &command.action {
        AppspecAction::Check(options) => check(options),
    }
}

/// Checks every file, prints one block each, and fails when any is not ok.
fn check(options: &CheckOptions) -> anyhow::Result<()> {
    check_files(
        &options.files,
        check_text,
        "appspec",
        "invalid, rejected or unreadable",
    )
}

/// Checks appspec `text` named `name`.
pub fn check_text(name: &str, text: &str) -> FileReport {
    match parse_appspec(text, name) {
        Ok(parsed) => match rejection(&parsed.spec) {
            Some(rejected) => {
                let mut diagnostics = parsed.warnings;
                diagnostics.push(rejected.diagnostic(name));
                diagnostics.sort_by_key(|diagnostic| (diagnostic.position(), diagnostic.severity));
                let summary = format!("rejected: {}", rejected.summary());
                FileReport::new(name, &diagnostics, &summary, false)
            }
            None => {
                let summary = match parsed.warnings.len() {
                    0 => "ok".to_owned(),
                    count => format!("ok ({})", plural(count, "warning")),
                };
                FileReport::new(name, &parsed.warnings, &summary, true)
            }
        },
        Err(AppSpecError::Rejected { file, rejection }) => {
            let summary = format!("rejected: {}", rejection.summary());
            FileReport::new(name, &[rejection.diagnostic(&file)], &summary, false)
        }
        Err(AppSpecError::Invalid { diagnostics }) => {
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            let summary = format!("invalid ({})", plural(errors, "error"));
            FileReport::new(name, &diagnostics, &summary, false)
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
                "Resources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: web:2\n        LoadBalancerInfo:\n          ContainerName: web\n          ContainerPort: 80\n",
                true,
                "a.yml: ok\n",
            ),
            (
                "Resources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: web:2\n        PlatformVersoin: LATEST\n",
                true,
                "a.yml:6:9: warning: unknown key `PlatformVersoin` in `Resources[0].TargetService.Properties` is ignored; did you mean `PlatformVersion`?\n  fix: rename `PlatformVersoin` to `PlatformVersion`\na.yml: ok (1 warning)\n",
            ),
            (
                "version: 0.1\nResources: []\n",
                false,
                "a.yml:1:10: error: unsupported appspec version `0.1`; CodeDeploy's appspec version is 0.0\n  fix: write `version: 0.0`, or leave `version` out\na.yml:2:1: error: `Resources` is empty: an appspec deploys one ECS service or Lambda function\n  fix: write `Resources:` as a list with one item, `- TargetService:`\na.yml: invalid (2 errors)\n",
            ),
        ];
        for (text, ok, expected) in cases {
            let report = check_text("a.yml", text);
            assert_eq!(report.text, expected, "for {text:?}");
            assert_eq!(report.ok, ok, "for {text:?}");
        }
    }

    #[test]
    fn ec2_and_lambda_appspecs_are_rejected_with_the_reason() {
        let ec2 = check_text(
            "e.yml",
            "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /srv\n",
        );
        assert!(!ec2.ok);
        assert!(
            ec2.text.starts_with(
                "e.yml:2:1: error: this is an EC2/on-premises appspec (`os: linux`, `files`)"
            ),
            "{}",
            ec2.text
        );
        assert!(ec2.text.ends_with("e.yml: rejected: EC2/on-prem appspec: it copies files onto hosts and runs scripts there; Slipway rolls out containers on Kubernetes (write the ECS form)\n"), "{}", ec2.text);

        let lambda = check_text(
            "l.yml",
            "Resources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties: {Name: fn, Alias: live, CurrentVersion: 1, TargetVersion: 2}\n",
        );
        assert!(!lambda.ok);
        assert!(lambda.text.starts_with("l.yml:2:5: error: this is a Lambda appspec: it moves alias `live` of function `fn` from version 1 to 2"), "{}", lambda.text);
        assert!(
            lambda.text.contains("\nl.yml: rejected: Lambda appspec: "),
            "{}",
            lambda.text
        );
    }
}
