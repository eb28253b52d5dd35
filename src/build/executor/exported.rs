//! `env.exported-variables`: their values once the buildspec phases are over.
//!
//! In 0.2 the values are read from the shared shell, so a plain assignment in `pre_build`
//! (`IMAGE_TAG=...`, not exported) is captured as CodeBuild captures it. In 0.1 no shell
//! survives a command, so the values come from the build environment, as in CodeBuild.
//!
//! A name that is not a shell identifier is skipped with a warning; a variable that is unset
//! is left out (and logged), so a pipeline's `#{Namespace.NAME}` names a missing variable
//! rather than silently resolving to an empty string. Values are masked: a secret never
//! reaches the BuildRun's status.

use crate::api::common::NameValue;

use super::log::BuildLog;
use super::shell::{CommandRunner, ShellError};

/// Whether `name` is a POSIX shell variable name.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first == '_' || first.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Reads `names` from `runner`, in order, logging what is skipped.
///
/// # Errors
/// When the shell cannot be reached.
pub fn capture_exported_variables(
    runner: &mut dyn CommandRunner,
    names: &[String],
    log: &BuildLog,
) -> Result<Vec<NameValue>, ShellError> {
    let mut valid = Vec::new();
    for name in names {
        if is_identifier(name) {
            if !valid.contains(name) {
                valid.push(name.clone());
            }
        } else {
            log.container(&format!(
                "Warning: exported variable `{name}` is not a valid variable name; skipped"
            ));
        }
    }
    if valid.is_empty() {
        return Ok(Vec::new());
    }
    let values = runner.read_variables(&valid)?;
    let mut exported = Vec::new();
    for (name, value) in valid.into_iter().zip(values) {
        match value {
            Some(value) => exported.push(NameValue {
                value: log.masker().mask(&value),
                name,
            }),
            None => log.container(&format!(
                "Exported variable {name} is not set; it is not exported"
            )),
        }
    }
    Ok(exported)
}

#[cfg(test)]
mod tests {
    use super::is_identifier;

    #[test]
    fn only_shell_identifiers_are_exported() {
        for name in ["IMAGE_TAG", "_x", "a1"] {
            assert!(is_identifier(name), "{name}");
        }
        for name in ["", "1A", "A-B", "A B", "$(x)", "A;rm"] {
            assert!(!is_identifier(name), "{name}");
        }
    }
}
