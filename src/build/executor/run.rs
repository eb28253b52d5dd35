//! The executor's driver: parse, resolve the environment, then follow the [`Plan`] step by step
//! with a shell, writing the log and the phase records.

use std::path::PathBuf;
use std::sync::Arc;

use crate::api::buildrun::{BuildPhaseType, BuildStatus};
use crate::build::buildspec::{BuildSpec, parse_buildspec};

use super::environment::{BuildMetadata, EnvironmentSources, resolve_environment};
use super::exported::capture_exported_variables;
use super::log::{BuildLog, LogSink};
use super::masking::Masker;
use super::plan::{Outcome, PhaseOutcome, Plan, Step};
use super::publish::{ImagePublisher, NoImages};
use super::report::{BuildResult, PhaseRecorder, phase_type, status_name};
use super::shell::{
    CommandRunner, FreshShell, SharedShell, ShellProgram, ShellSettings, create_work_dir,
};

/// The longest command text quoted in a context message (the log always has all of it).
const MESSAGE_COMMAND_CHARS: usize = 200;

/// Everything one build needs.
#[derive(Clone, Debug)]
pub struct ExecutorConfig {
    /// The buildspec's text.
    pub buildspec: String,
    /// Its name in diagnostics (`buildspec.yml`, or `inline buildspec`).
    pub buildspec_name: String,
    /// Facts about the build.
    pub metadata: BuildMetadata,
    /// The source directory (`CODEBUILD_SRC_DIR`; commands start there).
    pub src_dir: PathBuf,
    /// A private directory for the shell's files; a new one under the temp dir when `None`.
    pub work_dir: Option<PathBuf>,
    /// Overrides the buildspec's `env.shell` (`/bin/busybox sh` in tests).
    pub shell: Option<ShellProgram>,
    /// The environment's other layers.
    pub sources: EnvironmentSources,
}

/// Where artifacts are uploaded: called once after `post_build` when CodeBuild would upload.
pub trait ArtifactUploader {
    /// Uploads `spec`'s artifacts; `runner` evaluates shell expressions (`name: $(date)`) in the
    /// build's shell.
    ///
    /// # Errors
    /// A message for the `UPLOAD_ARTIFACTS` phase record; the build then fails.
    fn upload(
        &mut self,
        spec: &BuildSpec,
        runner: &mut dyn CommandRunner,
        log: &BuildLog,
    ) -> Result<(), String>;
}

/// No artifact store: artifacts are not uploaded (the hook the artifact store will fill).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoArtifactStore;

impl ArtifactUploader for NoArtifactStore {
    fn upload(
        &mut self,
        spec: &BuildSpec,
        _runner: &mut dyn CommandRunner,
        log: &BuildLog,
    ) -> Result<(), String> {
        if spec.artifacts.is_some() {
            log.container("No artifact store is configured; artifacts are not uploaded");
        }
        Ok(())
    }
}

/// Runs one build to the end and returns its result; output goes to `sink`.
pub fn run_build(
    config: &ExecutorConfig,
    sink: LogSink,
    uploader: &mut dyn ArtifactUploader,
) -> BuildResult {
    run_build_with_images(config, sink, uploader, &mut NoImages)
}

/// [`run_build`] with image outputs, published by `publisher` at the end of `BUILD`.
pub fn run_build_with_images(
    config: &ExecutorConfig,
    sink: LogSink,
    uploader: &mut dyn ArtifactUploader,
    publisher: &mut dyn ImagePublisher,
) -> BuildResult {
    let start = config.metadata.start_time;
    let plain_log = BuildLog::new(sink.clone(), Arc::new(Masker::default()));
    let spec = match parse_buildspec(&config.buildspec, &config.buildspec_name) {
        Ok(parsed) => {
            for warning in &parsed.warnings {
                plain_log.container(&format!("Warning: {warning}"));
            }
            parsed.spec
        }
        Err(invalid) => {
            for diagnostic in &invalid.diagnostics {
                plain_log.container(&diagnostic.to_string());
            }
            let message = format!("YAML_FILE_ERROR: {}", invalid.first_error());
            return failed_before_phases(&plain_log, start, BuildStatus::Failed, message);
        }
    };
    if let Some(unsupported) = spec.unsupported_features(&config.buildspec_name).first() {
        let message = format!("YAML_FILE_ERROR: {unsupported}");
        return failed_before_phases(&plain_log, start, BuildStatus::Failed, message);
    }
    let environment = match resolve_environment(
        &spec.env,
        &config.metadata,
        &config.src_dir,
        &config.sources,
    ) {
        Ok(environment) => environment,
        Err(error) => {
            let message = format!("CLIENT_ERROR: {error}");
            return failed_before_phases(&plain_log, start, BuildStatus::Fault, message);
        }
    };
    let log = BuildLog::new(sink, Arc::new(Masker::new(&environment.secrets)));
    for warning in environment.warnings.iter().chain(&ignored_settings(&spec)) {
        log.container(&format!("Warning: {warning}"));
    }
    let work_dir = config.work_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "slipway-executor-{}",
            super::environment::random_uuid()
        ))
    });
    if let Err(error) = create_work_dir(&work_dir) {
        return failed_before_phases(&log, start, BuildStatus::Fault, error.to_string());
    }
    let settings = ShellSettings {
        program: config.shell.clone().unwrap_or_else(|| {
            ShellProgram::for_buildspec(spec.env.shell.as_ref().map(|s| s.value))
        }),
        env: environment.variables,
        cwd: config.src_dir.clone(),
        work_dir: work_dir.clone(),
        log: log.clone(),
    };
    log.container(&format!(
        "Running build {} (buildspec version {}, shell {})",
        config.metadata.build_id,
        spec.version.as_str(),
        settings.program
    ));
    let mut runner: Box<dyn CommandRunner> = if spec.version.shares_one_shell() {
        Box::new(SharedShell::new(settings))
    } else {
        Box::new(FreshShell::new(settings))
    };
    let result = follow_plan(&spec, runner.as_mut(), &log, uploader, publisher, start);
    runner.close();
    // The work directory only holds this build's command files and snapshots.
    let _ = std::fs::remove_dir_all(&work_dir);
    result
}

/// Settings the executor parses but does not act on, so the log says so instead of silently
/// running differently from CodeBuild.
fn ignored_settings(spec: &BuildSpec) -> Vec<String> {
    let mut ignored = Vec::new();
    let phase_users = spec
        .phases
        .iter()
        .filter(|(_, phase)| phase.run_as.is_some());
    if spec.run_as.is_some() || phase_users.count() > 0 {
        ignored.push("`run-as` is not supported yet: commands run as the build container's user (set the user in the image or the pod's securityContext)".to_owned());
    }
    if spec
        .phases
        .iter()
        .any(|(_, phase)| !phase.runtime_versions.is_empty())
    {
        ignored.push(
            "`runtime-versions` is ignored: Slipway uses the runtimes installed in the build image"
                .to_owned(),
        );
    }
    ignored
}

/// A result for a build that ended before its first phase (recorded on `DOWNLOAD_SOURCE`, where
/// CodeBuild reports buildspec and secret errors).
fn failed_before_phases(
    log: &BuildLog,
    start: k8s_openapi::jiff::Timestamp,
    status: BuildStatus,
    message: String,
) -> BuildResult {
    let message = log.masker().mask(&message);
    log.container(&format!(
        "Phase complete: DOWNLOAD_SOURCE State: {}",
        status_name(status)
    ));
    log.container(&context_line(&message));
    let mut recorder = PhaseRecorder::default();
    recorder.enter(BuildPhaseType::DownloadSource);
    recorder.complete(status, Some(message.clone()));
    finish(recorder, status, Some(message), Vec::new(), start)
}

/// `Phase context status code: CODE Message: TEXT`, from `CODE: TEXT`.
fn context_line(message: &str) -> String {
    let (code, text) = message.split_once(": ").unwrap_or(("", message));
    format!("Phase context status code: {code} Message: {text}")
}

/// Closes the records with `FINALIZING` and `COMPLETED` and assembles the result.
fn finish(
    mut recorder: PhaseRecorder,
    status: BuildStatus,
    message: Option<String>,
    exported: Vec<crate::api::common::NameValue>,
    start: k8s_openapi::jiff::Timestamp,
) -> BuildResult {
    recorder.enter(BuildPhaseType::Finalizing);
    recorder.complete(BuildStatus::Succeeded, None);
    recorder.enter(BuildPhaseType::Completed);
    let mut result = BuildResult::new(status, start);
    result.message = message;
    result.phases = recorder.into_phases();
    result.exported_variables = exported;
    result
}

/// Ends the build as `FAULT` in the current phase, logging `message` as its context.
fn fault(
    log: &BuildLog,
    mut recorder: PhaseRecorder,
    message: String,
    exported: Vec<crate::api::common::NameValue>,
    start: k8s_openapi::jiff::Timestamp,
) -> BuildResult {
    log.container(&context_line(&message));
    recorder.complete(BuildStatus::Fault, Some(message.clone()));
    finish(recorder, BuildStatus::Fault, Some(message), exported, start)
}

/// The context message of a failed upload: an error that names its status code
/// (`CLIENT_ERROR: no matching artifact paths found`) keeps it, others get
/// `UPLOAD_ARTIFACTS_ERROR`.
fn upload_failure_message(error: &str) -> String {
    let names_code = error.split_once(": ").is_some_and(|(code, _)| {
        code.ends_with("_ERROR") && code.chars().all(|c| c.is_ascii_uppercase() || c == '_')
    });
    if names_code {
        error.to_owned()
    } else {
        format!("UPLOAD_ARTIFACTS_ERROR: {error}")
    }
}

/// The context message of a failed command.
pub fn command_failure_message(command: &str, exit_code: i32) -> String {
    let mut quoted = command.trim().replace('\n', " ");
    if quoted.chars().count() > MESSAGE_COMMAND_CHARS {
        quoted = quoted.chars().take(MESSAGE_COMMAND_CHARS - 1).collect();
        quoted.push('…');
    }
    format!(
        "COMMAND_EXECUTION_ERROR: Error while executing command: {quoted}. Reason: exit status {exit_code}"
    )
}

/// Runs the plan's steps until it finishes.
fn follow_plan(
    spec: &BuildSpec,
    runner: &mut dyn CommandRunner,
    log: &BuildLog,
    uploader: &mut dyn ArtifactUploader,
    publisher: &mut dyn ImagePublisher,
    start: k8s_openapi::jiff::Timestamp,
) -> BuildResult {
    let mut plan = Plan::new(&spec.phases);
    if publisher.has_images() {
        plan = plan.with_image_publishing();
    }
    let mut images = Vec::new();
    let mut recorder = PhaseRecorder::default();
    let mut exported = Vec::new();
    let mut first_failure: Option<String> = None;
    let mut outcome = Outcome::None;
    loop {
        match plan.next(std::mem::replace(&mut outcome, Outcome::None)) {
            Step::EnterPhase { phase, attempt } => {
                recorder.enter(phase_type(phase));
                let name = phase.build_phase_type();
                match attempt {
                    1 => log.container(&format!("Entering phase {name}")),
                    _ => log.container(&format!("Entering phase {name} (attempt {attempt})")),
                }
            }
            Step::RunCommand {
                command,
                build_succeeding,
                ..
            } => {
                log.container(&format!("Running command {}", command.text.trim_end()));
                outcome = match runner.run(&command.text, build_succeeding) {
                    Ok(status) if status.exit_code == 0 => Outcome::command_succeeded(),
                    Ok(status) => {
                        log.container(&format!(
                            "Command did not exit successfully {} exit status {}",
                            command.text, status.exit_code
                        ));
                        Outcome::command_failed(
                            log.masker()
                                .mask(&command_failure_message(&command.text, status.exit_code)),
                        )
                    }
                    Err(error) => {
                        let message = format!("CLIENT_ERROR: {error}");
                        return fault(log, recorder, message, exported, start).with_images(images);
                    }
                };
            }
            Step::PublishImages => {
                let published = publisher.publish(runner, log);
                images.extend(published.images);
                outcome = match published.failure {
                    None => Outcome::Publish {
                        succeeded: true,
                        message: String::new(),
                    },
                    Some(failure) if failure.fault => {
                        let message = log.masker().mask(&failure.message);
                        return fault(log, recorder, message, exported, start).with_images(images);
                    }
                    Some(failure) => Outcome::Publish {
                        succeeded: false,
                        message: log.masker().mask(&failure.message),
                    },
                };
            }
            Step::CompletePhase {
                phase,
                outcome: phase_outcome,
                retry,
                ..
            } => {
                let name = phase.build_phase_type();
                let (status, message) = match phase_outcome {
                    PhaseOutcome::Succeeded => (BuildStatus::Succeeded, None),
                    PhaseOutcome::Failed { message } => (BuildStatus::Failed, Some(message)),
                };
                log.container(&format!(
                    "Phase complete: {name} State: {}",
                    status_name(status)
                ));
                log.container(&context_line(message.as_deref().unwrap_or(": ")));
                if let Some(next) = retry {
                    log.container(&format!("Retrying phase {name} (attempt {next})"));
                } else if let (None, Some(message)) = (&first_failure, &message) {
                    first_failure = Some(format!("phase {name} failed: {message}"));
                }
                recorder.complete(status, message);
            }
            Step::CaptureExportedVariables => {
                match capture_exported_variables(runner, &spec.env.exported_variables, log) {
                    Ok(values) => exported = values,
                    Err(error) => log.container(&format!(
                        "Warning: unable to capture exported variables: {error}"
                    )),
                }
            }
            Step::UploadArtifacts { .. } => {
                recorder.enter(BuildPhaseType::UploadArtifacts);
                log.container("Entering phase UPLOAD_ARTIFACTS");
                let uploaded = uploader.upload(spec, runner, log);
                let (status, message) = match &uploaded {
                    Ok(()) => (BuildStatus::Succeeded, None),
                    Err(error) => (BuildStatus::Failed, Some(upload_failure_message(error))),
                };
                log.container(&format!(
                    "Phase complete: UPLOAD_ARTIFACTS State: {}",
                    status_name(status)
                ));
                log.container(&context_line(message.as_deref().unwrap_or(": ")));
                if let (None, Some(message)) = (&first_failure, &message) {
                    first_failure = Some(format!("phase UPLOAD_ARTIFACTS failed: {message}"));
                }
                recorder.complete(status, message);
                outcome = Outcome::Upload {
                    succeeded: uploaded.is_ok(),
                };
            }
            Step::Finish { succeeded } => {
                let (status, message) = if succeeded {
                    (BuildStatus::Succeeded, "build succeeded".to_owned())
                } else {
                    let message = first_failure.unwrap_or_else(|| "build failed".to_owned());
                    (BuildStatus::Failed, message)
                };
                log.container(&format!("Build complete State: {}", status_name(status)));
                return finish(recorder, status, Some(message), exported, start)
                    .with_images(images);
            }
        }
    }
}
