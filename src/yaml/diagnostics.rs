//! Diagnostics: what is wrong (or doubtful) in a buildspec or appspec, where, and how to fix it.
//!
//! A diagnostic prints like a compiler's, so editors and CI logs can jump to it:
//!
//! ```text
//! buildspec.yml:8:9: warning: unknown key `Commands` in `phases.install`; did you mean `commands`?
//!   fix: rename `Commands` to `commands` (keys are case-sensitive)
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

/// A 1-based line and column in a file's text (columns count characters).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Position {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

impl Position {
    /// The first character of the file.
    pub const START: Position = Position { line: 1, column: 1 };

    /// A position from serde-saphyr's 64-bit line and column (saturating; 0 becomes 1).
    pub fn new(line: u64, column: u64) -> Self {
        let clamp = |value: u64| u32::try_from(value).unwrap_or(u32::MAX).max(1);
        Position {
            line: clamp(line),
            column: clamp(column),
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}", self.line, self.column)
    }
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file cannot be used (a buildspec cannot run, an appspec cannot be rolled out).
    Error,
    /// The file is usable, but probably not as its author meant (or not on Slipway).
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One finding about a buildspec or appspec file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file name as the user gave it.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong, naming the key or value involved.
    pub message: String,
    /// How to fix it, when there is one concrete way.
    pub fix: Option<String>,
}

impl Diagnostic {
    /// The diagnostic's line and column.
    pub fn position(&self) -> Position {
        Position {
            line: self.line,
            column: self.column,
        }
    }

    /// Whether this diagnostic makes the file invalid.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.severity, self.message
        )?;
        if let Some(fix) = &self.fix {
            write!(formatter, "\n  fix: {fix}")?;
        }
        Ok(())
    }
}

/// Collects diagnostics for one file while the walker runs.
#[derive(Debug)]
pub(crate) struct Diagnostics {
    file: String,
    found: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty collection for `file`.
    pub fn new(file: &str) -> Self {
        Diagnostics {
            file: file.to_owned(),
            found: Vec::new(),
        }
    }

    /// Records an error.
    pub fn error(&mut self, at: Position, message: impl Into<String>, fix: impl Into<Fix>) {
        self.push(Severity::Error, at, message.into(), fix.into());
    }

    /// Records a warning.
    pub fn warning(&mut self, at: Position, message: impl Into<String>, fix: impl Into<Fix>) {
        self.push(Severity::Warning, at, message.into(), fix.into());
    }

    fn push(&mut self, severity: Severity, at: Position, message: String, fix: Fix) {
        self.found.push(Diagnostic {
            severity,
            file: self.file.clone(),
            line: at.line,
            column: at.column,
            message,
            fix: fix.0,
        });
    }

    /// Whether any error was recorded.
    pub fn has_errors(&self) -> bool {
        self.found.iter().any(Diagnostic::is_error)
    }

    /// All diagnostics in source order (errors before warnings at the same position).
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.found
            .sort_by_key(|diagnostic| (diagnostic.position(), diagnostic.severity));
        self.found
    }
}

/// An optional fix text; `Fix::NONE` or any string converts into it.
#[derive(Debug)]
pub(crate) struct Fix(Option<String>);

impl Fix {
    /// No fix to suggest.
    pub const NONE: Fix = Fix(None);
}

impl From<String> for Fix {
    fn from(fix: String) -> Self {
        Fix(Some(fix))
    }
}

impl From<&str> for Fix {
    fn from(fix: &str) -> Self {
        Fix(Some(fix.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_print_like_a_compiler_with_the_fix_indented_below() {
        let mut diagnostics = Diagnostics::new("buildspec.yml");
        diagnostics.error(
            Position {
                line: 12,
                column: 5,
            },
            "`commands` must be a list",
            "write each command as a `- ` item",
        );
        diagnostics.warning(
            Position { line: 3, column: 1 },
            "unknown key `foo`",
            Fix::NONE,
        );
        let printed: Vec<String> = diagnostics
            .into_sorted()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            printed,
            [
                "buildspec.yml:3:1: warning: unknown key `foo`",
                "buildspec.yml:12:5: error: `commands` must be a list\n  fix: write each command as a `- ` item",
            ]
        );
    }

    #[test]
    fn positions_from_the_parser_are_clamped_to_one() {
        assert_eq!(Position::new(0, 0), Position::START);
        assert_eq!(Position::new(7, 3), Position { line: 7, column: 3 });
    }
}
