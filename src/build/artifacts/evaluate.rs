//! Evaluating artifact settings in the build's shell: `name: $(date +%s)`,
//! `files: - $ECS_AGENT_TAR`, `base-directory: $OUT`.
//!
//! Each expression goes through the shell as the body of an unquoted here-document, so
//! parameter expansion (`$VAR`, `${VAR:-x}`), command substitution (`$(…)`, backquotes) and
//! arithmetic happen exactly as in a command, while globbing and word splitting do not (a
//! `**/*` stays a glob for the selection) and quotes stay literal. Only shell built-ins are
//! used (`while read`, `printf`), so busybox and distroless-ish images work. In 0.2 the
//! shared shell sees variables set by earlier commands (`IMAGE_TAG` from `pre_build`); in 0.1
//! the build environment. A trailing newline is dropped, as `$(…)` would.

use std::path::Path;

use crate::build::executor::shell::{CommandRunner, shell_quote};

/// Evaluates `expressions` in `runner`'s shell, using files in the private directory `scratch`.
///
/// # Errors
/// When the shell cannot run the evaluation or it fails (a failing `$(…)` does not fail it,
/// just as it would not fail an assignment's expansion in a command).
pub fn evaluate(
    runner: &mut dyn CommandRunner,
    expressions: &[String],
    scratch: &Path,
) -> Result<Vec<String>, String> {
    if expressions.is_empty() {
        return Ok(Vec::new());
    }
    let delimiter = format!(
        "__SLIPWAY_ARTIFACT_{}",
        crate::build::executor::environment::random_uuid().replace('-', "")
    );
    let mut script = String::new();
    for (index, expression) in expressions.iter().enumerate() {
        let file = scratch.join(format!("value-{index}"));
        script.push_str(&format!(
            "__sw_value=''\nwhile IFS= read -r __sw_line; do __sw_value=\"${{__sw_value}}${{__sw_line}}\n\"; done <<{delimiter}\n{}\n{delimiter}\nprintf '%s' \"$__sw_value\" > {}\n",
            expression.replace('\n', " "),
            shell_quote(&file.to_string_lossy())
        ));
    }
    script.push_str("unset __sw_value __sw_line\n");
    // Keep CODEBUILD_BUILD_SUCCEEDING as the build left it (the upload follows failed builds too).
    let succeeding = runner
        .read_variables(&["CODEBUILD_BUILD_SUCCEEDING".to_owned()])
        .map_err(|error| format!("unable to evaluate the artifact settings: {error}"))?;
    let build_succeeding = succeeding.first().and_then(Option::as_deref) != Some("0");
    let status = runner
        .run(&script, build_succeeding)
        .map_err(|error| format!("unable to evaluate the artifact settings: {error}"))?;
    if status.exit_code != 0 {
        return Err(format!(
            "unable to evaluate the artifact settings: the shell exited with status {}",
            status.exit_code
        ));
    }
    let mut values = Vec::with_capacity(expressions.len());
    for index in 0..expressions.len() {
        let file = scratch.join(format!("value-{index}"));
        let value = std::fs::read_to_string(&file).map_err(|error| {
            format!(
                "unable to read the evaluated artifact setting {}: {error}",
                file.display()
            )
        })?;
        let _ = std::fs::remove_file(&file);
        values.push(value.trim_end_matches('\n').to_owned());
    }
    Ok(values)
}
