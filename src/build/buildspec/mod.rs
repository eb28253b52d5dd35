//! CodeBuild's `buildspec.yml`: the typed model and its parser.
//!
//! [`parse_buildspec`] reads YAML text into a [`BuildSpec`] and reports every problem it finds
//! as a [`Diagnostic`] with `file:line:column` and, where there is one, a fix. Real buildspecs
//! run unchanged, so the parser accepts everything CodeBuild accepts: both versions, `yes`/`no`
//! switches, numbers and booleans where strings are expected (kept as written: `3.10` stays
//! `3.10`), block scalars as multi-line commands, and `null` where a section is simply empty.
//!
//! # Errors and warnings
//! - **Errors** make the buildspec invalid: YAML syntax, a missing or unsupported `version`,
//!   no phase at all, a value of the wrong shape (`commands` as a single string, an empty `-`
//!   item, `key: value` where a command was meant), duplicate keys, unknown enum values.
//! - **Warnings** leave it valid: unknown keys (named, with the closest known key suggested —
//!   `Commands` → `commands`), settings that are ignored (`runtime-versions` outside `install`,
//!   0.1 keys in 0.2), reserved variable names, and features Slipway parses but does not run
//!   (`batch`, Windows shells; see [`support`]).
//!
//! # Versions 0.1 and 0.2
//! - 0.2 runs all commands in one shell instance (state carries over); 0.1 runs each command in
//!   a fresh shell ([`BuildSpecVersion::shares_one_shell`]).
//! - 0.1 reads variables from `environment_variables.plaintext`; 0.2 from `env.variables`, and
//!   warns that `environment_variables` is ignored. 0.1's `artifacts.type` is ignored (with a
//!   warning in 0.2).
//!
//! # Layout
//! [`crate::yaml`] loads text into a span-aware tree and describes problems (diagnostics,
//! closest-key suggestions; shared with the appspec parser); `parse` walks the tree (with `env`,
//! `phases`, `outputs` and `batch` for the sections); `model` holds the result; `support`
//! decides what Slipway will not run.

mod batch;
mod env;
mod model;
mod outputs;
mod parse;
mod phases;
pub mod support;

// Shared with the appspec parser (`crate::rollout::appspec`); imported under the names the
// section walkers already use.
use crate::yaml::{diagnostics, suggest, tree as yaml};

#[cfg(test)]
mod tests;

pub use batch::{Batch, BatchEnvironment, BatchKind, BatchTask, BuildFanout, BuildMatrix};
pub use diagnostics::{Diagnostic, Position, Severity};
pub use model::{
    ArtifactSet, Artifacts, BuildSpec, BuildSpecVersion, Cache, CacheAction, Command, Env, Located,
    OnFailure, Phase, PhaseName, Phases, Proxy, ReportFileFormat, ReportGroup, SecondaryArtifact,
    SecretReference, Shell, Variable,
};
pub use suggest::closest_key;

use diagnostics::Diagnostics;

/// A buildspec that can run, with the warnings found while reading it.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedBuildSpec {
    /// The buildspec.
    pub spec: BuildSpec,
    /// Warnings in source order (never errors).
    pub warnings: Vec<Diagnostic>,
}

/// A buildspec that cannot run: at least one error, plus any warnings, in source order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.diagnostics))]
pub struct InvalidBuildSpec {
    /// Errors and warnings in source order; at least one is an error.
    pub diagnostics: Vec<Diagnostic>,
}

impl InvalidBuildSpec {
    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.is_error())
    }

    /// The first error, for one-line status messages ("file:line:column: message").
    pub fn first_error(&self) -> &Diagnostic {
        self.errors()
            .next()
            .expect("an invalid buildspec holds at least one error")
    }
}

/// The diagnostics one per block, as `check` prints them.
fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses buildspec `text`; `file` names it in diagnostics.
///
/// # Errors
/// [`InvalidBuildSpec`] when any error is found; it holds every diagnostic, not just the first.
pub fn parse_buildspec(text: &str, file: &str) -> Result<ParsedBuildSpec, InvalidBuildSpec> {
    let mut diagnostics = Diagnostics::new(file);
    let spec = match yaml::load(text) {
        Ok(Some(root)) => Some(parse::document(&root, &mut diagnostics)),
        Ok(None) => {
            diagnostics.error(
                Position::START,
                "the buildspec is empty",
                "start it with `version: 0.2` and a `phases:` section",
            );
            None
        }
        Err(error) => {
            let (at, fix) = syntax_fix(&error.message, text, error.position);
            diagnostics.error(at, format!("invalid YAML: {}", error.message), fix);
            None
        }
    };
    match spec {
        Some(spec) if !diagnostics.has_errors() => Ok(ParsedBuildSpec {
            spec,
            warnings: diagnostics.into_sorted(),
        }),
        _ => Err(InvalidBuildSpec {
            diagnostics: diagnostics.into_sorted(),
        }),
    }
}

/// Where to point and what to suggest for the YAML mistakes buildspec authors make most.
fn syntax_fix(message: &str, text: &str, at: Position) -> (Position, String) {
    let line = text
        .lines()
        .nth(at.line.saturating_sub(1) as usize)
        .unwrap_or_default();
    let indent = &line[..line.len() - line.trim_start().len()];
    if let Some(tab) = indent.find('\t') {
        // The parser reports the character after the tab; the tab is what to replace.
        let column = u32::try_from(indent[..tab].chars().count() + 1).unwrap_or(u32::MAX);
        let fix = "indent with spaces: YAML does not allow tabs in indentation".to_owned();
        (
            Position {
                line: at.line,
                column,
            },
            fix,
        )
    } else if message.contains("tab") {
        (
            at,
            "replace the tab with spaces: YAML does not allow tabs here".to_owned(),
        )
    } else if message.contains("multiple YAML documents") {
        (
            at,
            "keep one document: remove the `---` line that starts the second".to_owned(),
        )
    } else {
        (at, "check the indentation and quoting here; quote values that contain `: ` or ` #`, or start with `*`, `&`, `!`, `{`, `[`, `%` or `@`".to_owned())
    }
}
