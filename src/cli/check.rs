//! What `slipway buildspec check` and `slipway appspec check` share: reading each file, printing
//! one block per file (diagnostics in source order, then `FILE: summary`), and failing when any
//! file did not pass, so the commands can gate CI.

use std::path::{Path, PathBuf};

use crate::yaml::Diagnostic;

/// What `check` prints for one file, and whether the file passed.
#[derive(Debug, PartialEq, Eq)]
pub struct FileReport {
    /// The block: diagnostics, then the summary line (ends with a newline).
    pub text: String,
    /// Whether the file passed (warnings allowed).
    pub ok: bool,
}

impl FileReport {
    /// A block of `diagnostics` followed by `name: summary`.
    pub fn new(name: &str, diagnostics: &[Diagnostic], summary: &str, ok: bool) -> Self {
        let mut text = String::new();
        for diagnostic in diagnostics {
            text.push_str(&diagnostic.to_string());
            text.push('\n');
        }
        text.push_str(&format!("{name}: {summary}\n"));
        Self { text, ok }
    }
}

/// Checks every file with `check_text`, prints one block each (blank lines between), and fails
/// naming how many files did not pass, as `what` (e.g. "buildspec files … invalid or unreadable").
///
/// # Errors
/// When any file did not pass, after all files were checked and printed.
pub fn check_files(
    files: &[PathBuf],
    check_text: fn(&str, &str) -> FileReport,
    noun: &str,
    failure: &str,
) -> anyhow::Result<()> {
    let mut failed = 0;
    for (index, path) in files.iter().enumerate() {
        if index > 0 {
            println!();
        }
        let report = check_file(path, check_text);
        print!("{}", report.text);
        if !report.ok {
            failed += 1;
        }
    }
    match failed {
        0 => Ok(()),
        _ => anyhow::bail!(
            "{failed} of {} {noun} files {} {failure}",
            files.len(),
            if failed == 1 { "is" } else { "are" }
        ),
    }
}

/// Reads one file and checks it with `check_text`.
pub fn check_file(path: &Path, check_text: fn(&str, &str) -> FileReport) -> FileReport {
    let name = path.display().to_string();
    let reason = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => return check_text(&name, &text),
            Err(_) => "not UTF-8 text".to_owned(),
        },
        Err(error) => error.to_string(),
    };
    FileReport {
        text: format!("{name}: unreadable: {reason}\n"),
        ok: false,
    }
}

/// `1 warning`, `2 warnings`.
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn always_ok(name: &str, _: &str) -> FileReport {
        FileReport::new(name, &[], "ok", true)
    }

    #[test]
    fn a_missing_file_is_reported_unreadable() {
        let report = check_file(Path::new("/nonexistent/buildspec.yml"), always_ok);
        assert!(!report.ok);
        assert!(
            report
                .text
                .starts_with("/nonexistent/buildspec.yml: unreadable: "),
            "{}",
            report.text
        );
    }

    #[test]
    fn counts_are_spelled_in_the_singular_and_plural() {
        assert_eq!(plural(1, "warning"), "1 warning");
        assert_eq!(plural(3, "error"), "3 errors");
    }
}
