//! What Slipway parses but will not run, decided once here so `check`, the controller and the
//! executor agree.
//!
//! - **`batch`**: batch builds become separate BuildRuns or Pipeline actions in Slipway, not one
//!   BuildRun (see [`super::batch`]).
//! - **Windows shells** (`powershell.exe`, `cmd.exe`): Slipway runs Linux containers only, and
//!   quietly running PowerShell commands in `/bin/sh` would fail in confusing ways.
//!
//! `check` reports both as warnings, because the file itself is a valid CodeBuild buildspec. A
//! BuildRun reports [`BuildSpec::unsupported_features`] as its failure reason before any Job
//! is created.

use super::diagnostics::{Diagnostic, Severity};
use super::model::BuildSpec;

impl BuildSpec {
    /// The features of this buildspec that Slipway refuses to run, as errors pointing into
    /// `file`; empty when the buildspec can run.
    pub fn unsupported_features(&self, file: &str) -> Vec<Diagnostic> {
        let mut found = Vec::new();
        if let Some(batch) = &self.batch {
            found.push(Diagnostic {
                severity: Severity::Error,
                file: file.to_owned(),
                line: batch.position.line,
                column: batch.position.column,
                message: "`batch` builds are not supported: Slipway runs one buildspec as one BuildRun".to_owned(),
                fix: Some("create one BuildRun per batch entry (Pipeline actions in one stage run in parallel), or remove `batch`".to_owned()),
            });
        }
        if let Some(shell) = self
            .env
            .shell
            .as_ref()
            .filter(|shell| !shell.value.runs_on_linux())
        {
            found.push(Diagnostic {
                severity: Severity::Error,
                file: file.to_owned(),
                line: shell.position.line,
                column: shell.position.column,
                message: format!(
                    "`env.shell: {}` needs a Windows image; Slipway runs Linux containers only",
                    shell.value.tag()
                ),
                fix: Some("use `shell: bash` (or remove `shell`) and write the commands for a Linux shell".to_owned()),
            });
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use crate::build::buildspec::parse_buildspec;

    #[test]
    fn batch_and_windows_shells_are_refused_at_run_time_with_their_position() {
        let cases: &[(&str, &[&str])] = &[
            (
                "version: 0.2\nphases:\n  build:\n    commands: [make]\n",
                &[],
            ),
            (
                "version: 0.2\nenv:\n  shell: bash\nphases:\n  build:\n    commands: [make]\n",
                &[],
            ),
            (
                "version: 0.2\nbatch:\n  build-list:\n    - identifier: a\nphases:\n  build:\n    commands: [make]\n",
                &[
                    "b.yml:2:1: error: `batch` builds are not supported: Slipway runs one buildspec as one BuildRun",
                ],
            ),
            (
                "version: 0.2\nenv:\n  shell: powershell.exe\nphases:\n  build:\n    commands: [dir]\n",
                &[
                    "b.yml:3:10: error: `env.shell: powershell.exe` needs a Windows image; Slipway runs Linux containers only",
                ],
            ),
        ];
        for (text, expected) in cases {
            let parsed = parse_buildspec(text, "b.yml").expect("valid");
            let messages: Vec<String> = parsed
                .spec
                .unsupported_features("b.yml")
                .iter()
                .map(|diagnostic| {
                    diagnostic
                        .to_string()
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect();
            assert_eq!(messages, *expected, "for {text:?}");
        }
    }
}
