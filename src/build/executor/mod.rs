//! The build executor: runs a buildspec's phases with CodeBuild's semantics, inside the build
//! pod (`slipway executor run`) or on this machine (`slipway build --local`).
//!
//! ```text
//! buildspec text ─parse─▶ BuildSpec ─┐
//! flags, env, mounted ConfigMap/Secret ─resolve─▶ environment ─┤
//!                                     ▼
//!            Plan (pure: what runs next) ◀──outcome── shell (one shared sh/bash, or one per command)
//!                  │ steps                                 │ output, masked
//!                  ▼                                       ▼
//!        phase records, exported variables ──▶ BuildResult ──▶ termination message / result file
//! ```
//!
//! - [`plan`]: CodeBuild's transition rules (commands in order, `finally`, `on-failure`
//!   `ABORT`/`CONTINUE`/`RETRY`, the default transitions, the final status). Pure.
//! - [`shell`]: the shell protocol (0.2 shares one shell; 0.1 starts one per command) and what
//!   happens when a command ends the shell.
//! - [`environment`]: the `CODEBUILD_*`/`SLIPWAY_*` variables (listed there), the layers'
//!   precedence, and how `parameter-store`/`secrets-manager` names map to ConfigMap/Secret keys.
//! - [`masking`]: secret values become `***` in the log and in the result.
//! - [`exported`]: `env.exported-variables` after the last phase.
//! - [`report`]: the result document, the termination message (≤ 4 KiB) and the exit code.
//! - [`log`]: the log layout (`[Container] 2026/11/26 03:20:00.123456 Entering phase BUILD`).
//! - `run`: the driver tying them together ([`run_build`]).
//!
//! # Portability
//! The executor needs nothing from the build image but its shell (`/bin/sh`, or `bash` when the
//! buildspec asks for it) — no libc, no `mkfifo`, no coreutils: commands and snapshots travel
//! through files in a private work directory and one pipe. The release binary is musl-static
//! (see the Dockerfile), copied into the build pod by an init container, so the same file runs
//! in glibc, Alpine/musl and busybox images.
//!
//! # Artifacts
//! [`ArtifactUploader`] is the hook where artifacts are uploaded after `post_build`:
//! [`crate::build::artifacts::StoreUploader`] when the build has an artifact store,
//! [`NoArtifactStore`] otherwise (local builds).
//!
//! # Images
//! [`ImagePublisher`] is the hook where image outputs are built and pushed, at the end of a
//! successful `BUILD` phase ([`publish`]; [`crate::build::image`] implements it with the
//! Docker Engine). Their results are the result's `images`.

pub mod environment;
pub mod exported;
pub mod log;
pub mod masking;
pub mod plan;
pub mod publish;
pub mod report;
mod retry_pattern;
mod run;
mod shared_shell;
pub mod shell;

#[cfg(test)]
mod tests;

pub use environment::{BuildMetadata, EnvironmentSources, ParameterMounts};
pub use log::{BuildLog, LogSink};
pub use publish::{ImagePublisher, NoImages, PublishFailure, PublishOutcome};
pub use report::{BuildResult, TERMINATION_MESSAGE_LIMIT, termination_message};
pub use run::{
    ArtifactUploader, ExecutorConfig, NoArtifactStore, command_failure_message, run_build,
    run_build_with_images,
};
pub use shell::ShellProgram;

/// Writes the result where the controller reads it: the full JSON to `result_file` (when
/// given) and the termination message to `termination_path` (when given).
///
/// # Errors
/// When either file cannot be written.
pub fn write_result(
    result: &BuildResult,
    termination_path: Option<&std::path::Path>,
    result_file: Option<&std::path::Path>,
) -> std::io::Result<()> {
    if let Some(path) = result_file {
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, result.to_json())?;
    }
    if let Some(path) = termination_path {
        let pointer = result_file.map(|path| path.to_string_lossy().into_owned());
        std::fs::write(path, termination_message(result, pointer.as_deref()))?;
    }
    Ok(())
}
