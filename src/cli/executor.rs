//! `slipway executor …`: what runs inside a build pod.
//!
//! - `slipway executor run` runs the buildspec with CodeBuild's semantics (see
//!   [`crate::build::executor`]), streams the log to stdout, writes the result (termination
//!   message, result file) and exits `0` SUCCEEDED, `1` FAILED, `2` FAULT.
//! - `slipway executor fetch git|artifact …` fetches the build's source (see [`super::fetch`]).
//! - `slipway executor install --to DIR` copies this binary to `DIR/slipway` (the init container
//!   that makes the executor available in any build image; see the Dockerfile).
//!
//! Image outputs (`--images`, `--credentials-dir`, `--docker-wait-seconds`) are described in
//! [`super::executor_images`] and built by [`crate::build::image`].
//!
//! Every flag can also be set through the environment variable named in `--help`
//! (`SLIPWAY_EXECUTOR_*`); those variables are not passed on to the build's commands.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::build::executor::environment::WEBHOOK_VARIABLES;
use crate::build::executor::{
    BuildLog, BuildMetadata, EnvironmentSources, ExecutorConfig, NoArtifactStore, ParameterMounts,
    ShellProgram, run_build_with_images, write_result,
};

/// The prefix of the executor's own environment variables.
const OWN_ENV_PREFIX: &str = "SLIPWAY_EXECUTOR_";

/// Options of `slipway executor`.
#[derive(Debug, Args)]
pub struct ExecutorCommand {
    /// What to do.
    #[command(subcommand)]
    pub action: ExecutorAction,
}

/// The `slipway executor` subcommands.
#[derive(Debug, Subcommand)]
pub enum ExecutorAction {
    /// Run a buildspec's phases (inside the build pod).
    Run(Box<RunOptions>),
    /// Copy this binary into a directory shared with the build container.
    Install(InstallOptions),
    /// Put the build's source into the workspace: `slipway executor fetch git`.
    Fetch(super::fetch::FetchCommand),
}

/// Options of `slipway executor run`.
#[derive(Debug, Args)]
pub struct RunOptions {
    /// The buildspec file, relative to the source directory (default `buildspec.yml`).
    #[arg(
        long,
        env = "SLIPWAY_EXECUTOR_BUILDSPEC",
        conflicts_with = "buildspec_inline"
    )]
    pub buildspec: Option<PathBuf>,
    /// The buildspec's text (a BuildRun's `spec.buildspec.inline`).
    #[arg(long, env = "SLIPWAY_EXECUTOR_BUILDSPEC_INLINE")]
    pub buildspec_inline: Option<String>,
    /// The source directory (`CODEBUILD_SRC_DIR`).
    #[arg(long, env = "SLIPWAY_EXECUTOR_SOURCE", default_value = ".")]
    pub source: PathBuf,
    /// The project name (BuildRun or pipeline action): the build id's prefix.
    #[arg(long, env = "SLIPWAY_EXECUTOR_PROJECT", default_value = "slipway")]
    pub project: String,
    /// The build id (`<project>:<uuid>`); generated when absent.
    #[arg(long, env = "SLIPWAY_EXECUTOR_BUILD_ID")]
    pub build_id: Option<String>,
    /// The build ARN equivalent; `slipway:<namespace>:build/<build id>` when absent.
    #[arg(long, env = "SLIPWAY_EXECUTOR_BUILD_ARN")]
    pub build_arn: Option<String>,
    /// The BuildRun's namespace.
    #[arg(long, env = "SLIPWAY_EXECUTOR_NAMESPACE")]
    pub namespace: Option<String>,
    /// The BuildRun's name.
    #[arg(long, env = "SLIPWAY_EXECUTOR_BUILDRUN")]
    pub build_run: Option<String>,
    /// The build number.
    #[arg(long, env = "SLIPWAY_EXECUTOR_BUILD_NUMBER", default_value_t = 1)]
    pub build_number: i64,
    /// The revision asked for (`CODEBUILD_SOURCE_VERSION`).
    #[arg(long, env = "SLIPWAY_EXECUTOR_SOURCE_VERSION")]
    pub source_version: Option<String>,
    /// The commit it resolved to (`CODEBUILD_RESOLVED_SOURCE_VERSION`).
    #[arg(long, env = "SLIPWAY_EXECUTOR_RESOLVED_SOURCE_VERSION")]
    pub resolved_source_version: Option<String>,
    /// A file holding the resolved commit (written by `slipway executor fetch`); when it exists
    /// and is not empty, its trimmed content wins over `--resolved-source-version`.
    #[arg(long, env = "SLIPWAY_EXECUTOR_RESOLVED_SOURCE_VERSION_FILE")]
    pub resolved_source_version_file: Option<PathBuf>,
    /// The repository URL (`CODEBUILD_SOURCE_REPO_URL`).
    #[arg(long, env = "SLIPWAY_EXECUTOR_SOURCE_REPO_URL")]
    pub source_repo_url: Option<String>,
    /// Who started the build (`CODEBUILD_INITIATOR`).
    #[arg(long, env = "SLIPWAY_EXECUTOR_INITIATOR")]
    pub initiator: Option<String>,
    /// The build image (`CODEBUILD_BUILD_IMAGE`).
    #[arg(long, env = "SLIPWAY_EXECUTOR_IMAGE")]
    pub image: Option<String>,
    /// The build's start, milliseconds since the epoch (now when absent).
    #[arg(long, env = "SLIPWAY_EXECUTOR_START_TIME")]
    pub start_time: Option<i64>,
    /// A webhook fact, `EVENT=PUSH` → `CODEBUILD_WEBHOOK_EVENT` (repeatable).
    #[arg(long = "webhook", value_name = "NAME=VALUE")]
    pub webhook: Vec<String>,
    /// Variables of the pod that beat the buildspec's (the BuildRun's `environment.env`).
    #[arg(long, env = "SLIPWAY_EXECUTOR_PROJECT_ENV", value_delimiter = ',')]
    pub project_env: Vec<String>,
    /// Variables of the pod whose values are secret and masked in the log.
    #[arg(long, env = "SLIPWAY_EXECUTOR_SECRET_ENV", value_delimiter = ',')]
    pub secret_env: Vec<String>,
    /// The mounted ConfigMap for `parameter-store` names.
    #[arg(long, env = "SLIPWAY_EXECUTOR_PARAMETER_STORE_DIR")]
    pub parameter_store_dir: Option<PathBuf>,
    /// That ConfigMap's name, for messages.
    #[arg(long, env = "SLIPWAY_EXECUTOR_PARAMETER_STORE_CONFIG_MAP")]
    pub parameter_store_config_map: Option<String>,
    /// The mounted Secret for `secrets-manager` names.
    #[arg(long, env = "SLIPWAY_EXECUTOR_SECRETS_MANAGER_DIR")]
    pub secrets_manager_dir: Option<PathBuf>,
    /// That Secret's name, for messages.
    #[arg(long, env = "SLIPWAY_EXECUTOR_SECRETS_MANAGER_SECRET")]
    pub secrets_manager_secret: Option<String>,
    /// Where the termination message goes; `-` for none.
    #[arg(
        long,
        env = "SLIPWAY_EXECUTOR_TERMINATION_MESSAGE_PATH",
        default_value = "/dev/termination-log"
    )]
    pub termination_message_path: PathBuf,
    /// Where the full result goes (for the artifact store), always written when set.
    #[arg(long, env = "SLIPWAY_EXECUTOR_RESULT_FILE")]
    pub result_file: Option<PathBuf>,
    /// A private directory for the shell's files (a new one under the temp dir when absent).
    #[arg(long, env = "SLIPWAY_EXECUTOR_WORK_DIR")]
    pub work_dir: Option<PathBuf>,
    /// The shell, overriding the buildspec's `env.shell` (e.g. `/bin/busybox sh`).
    #[arg(long, env = "SLIPWAY_EXECUTOR_SHELL")]
    pub shell: Option<String>,
    /// The artifact store, its credentials and the primary artifact's record name.
    #[command(flatten)]
    pub artifacts: super::artifact_options::ArtifactUploadOptions,
    /// Image outputs and credentials (`--images`, `--credentials-dir`).
    #[command(flatten)]
    pub image_outputs: super::executor_images::ImageOutputOptions,
}

/// Options of `slipway executor install`.
#[derive(Debug, Args)]
pub struct InstallOptions {
    /// The directory to copy the binary into (as `slipway`).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
}

/// Runs `slipway executor …` and returns the exit code.
pub fn run(command: &ExecutorCommand) -> ExitCode {
    let outcome = match &command.action {
        ExecutorAction::Run(options) => run_executor(options),
        ExecutorAction::Install(options) => install(options).map(|()| 0),
        ExecutorAction::Fetch(command) => return super::fetch::run(command),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the build and writes its result; the exit code follows the build's status.
fn run_executor(options: &RunOptions) -> anyhow::Result<u8> {
    let (buildspec, buildspec_name) = read_buildspec(options)?;
    let mut metadata = BuildMetadata::new(&options.project);
    if let Some(build_id) = &options.build_id {
        metadata.build_id.clone_from(build_id);
    }
    if let Some(millis) = options.start_time {
        metadata.start_time = k8s_openapi::jiff::Timestamp::from_millisecond(millis)
            .context("failed to read --start-time as milliseconds since the epoch")?;
    }
    metadata.build_arn.clone_from(&options.build_arn);
    metadata.namespace.clone_from(&options.namespace);
    metadata.build_run.clone_from(&options.build_run);
    metadata.build_number = options.build_number;
    metadata.source_version.clone_from(&options.source_version);
    metadata.resolved_source_version = resolved_source_version(options)?;
    metadata
        .source_repo_url
        .clone_from(&options.source_repo_url);
    metadata.initiator.clone_from(&options.initiator);
    metadata.image.clone_from(&options.image);
    metadata.webhook = parse_webhook(&options.webhook)?;
    let inherited = inherited_env();
    let project = inherited
        .iter()
        .filter(|(name, _)| options.project_env.contains(name))
        .cloned()
        .collect();
    let src_dir = absolute(&options.source)?;
    let config = ExecutorConfig {
        buildspec,
        buildspec_name,
        metadata,
        src_dir,
        work_dir: options.work_dir.clone(),
        shell: options.shell.as_deref().map(ShellProgram::parse),
        sources: EnvironmentSources {
            inherited,
            project,
            secret_names: options.secret_env.clone(),
            parameters: ParameterMounts {
                parameter_store_dir: options.parameter_store_dir.clone(),
                parameter_store_config_map: options.parameter_store_config_map.clone(),
                secrets_manager_dir: options.secrets_manager_dir.clone(),
                secrets_manager_secret: options.secrets_manager_secret.clone(),
            },
        },
    };
    let sink: crate::build::executor::LogSink =
        std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let mut publisher = options.image_outputs.publisher(
        config.src_dir.clone(),
        options.artifacts.store.credentials_dir.clone(),
    )?;
    let result = match options
        .artifacts
        .uploader(&config.metadata, config.src_dir.clone())?
    {
        Some(mut uploader) => {
            let mut result =
                run_build_with_images(&config, sink.clone(), &mut uploader, &mut publisher);
            result.artifacts = uploader.records().to_vec();
            if let Err(error) = uploader.store_full_result(&mut result) {
                let log = BuildLog::new(sink.clone(), std::sync::Arc::default());
                log.container(&format!(
                    "Warning: unable to store the full build result in the artifact store: {error}"
                ));
            }
            result
        }
        None => run_build_with_images(&config, sink.clone(), &mut NoArtifactStore, &mut publisher),
    };
    let termination =
        Some(options.termination_message_path.as_path()).filter(|path| path.as_os_str() != "-");
    if let Err(error) = write_result(&result, termination, options.result_file.as_deref()) {
        // Outside a pod there is no termination log; the exit code still tells the outcome.
        let log = BuildLog::new(sink, std::sync::Arc::default());
        log.container(&format!(
            "Warning: unable to write the build result: {error}"
        ));
    }
    Ok(result.exit_code())
}

/// The resolved commit: the file's trimmed content when it exists, else the flag.
fn resolved_source_version(options: &RunOptions) -> anyhow::Result<Option<String>> {
    if let Some(path) = &options.resolved_source_version_file {
        match std::fs::read_to_string(path) {
            Ok(text) if !text.trim().is_empty() => return Ok(Some(text.trim().to_owned())),
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(error).with_context(|| {
                    format!(
                        "failed to read --resolved-source-version-file {}",
                        path.display()
                    )
                });
            }
        }
    }
    Ok(options.resolved_source_version.clone())
}

/// The buildspec's text and its name in diagnostics.
fn read_buildspec(options: &RunOptions) -> anyhow::Result<(String, String)> {
    if let Some(text) = &options.buildspec_inline {
        return Ok((text.clone(), "inline buildspec".to_owned()));
    }
    let relative = options
        .buildspec
        .clone()
        .unwrap_or_else(|| PathBuf::from("buildspec.yml"));
    let path = options.source.join(&relative);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("failed to read the buildspec {}", path.display()))?;
    Ok((text, relative.display().to_string()))
}

/// `NAME=VALUE` pairs for the webhook variables, names checked.
fn parse_webhook(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut webhook = BTreeMap::new();
    for pair in pairs {
        let (name, value) = pair
            .split_once('=')
            .with_context(|| format!("--webhook `{pair}` is not NAME=VALUE"))?;
        let name = name.to_ascii_uppercase();
        if !WEBHOOK_VARIABLES.contains(&name.as_str()) {
            anyhow::bail!(
                "--webhook `{name}` is not one of {}",
                WEBHOOK_VARIABLES.join(", ")
            );
        }
        webhook.insert(name, value.to_owned());
    }
    Ok(webhook)
}

/// This process's environment, minus the executor's own settings.
pub fn inherited_env() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(name, _)| !name.starts_with(OWN_ENV_PREFIX))
        .collect()
}

/// `path` made absolute (so `CODEBUILD_SRC_DIR` means the same after a `cd`).
pub fn absolute(path: &std::path::Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path)
        .with_context(|| format!("failed to resolve the source directory {}", path.display()))
}

/// Copies the running binary to `DIR/slipway`, executable by everyone.
fn install(options: &InstallOptions) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let source = std::env::current_exe().context("failed to find the running binary")?;
    std::fs::create_dir_all(&options.to)
        .with_context(|| format!("failed to create {}", options.to.display()))?;
    let target = options.to.join("slipway");
    std::fs::copy(&source, &target)
        .with_context(|| format!("failed to copy the binary to {}", target.display()))?;
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("failed to make {} executable", target.display()))?;
    Ok(())
}
