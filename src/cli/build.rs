//! `slipway build --local --source DIR [--buildspec FILE] [--env K=V]...`: runs a buildspec on
//! this machine with the same executor as a build pod.
//!
//! The commands run in the host's shell (`/bin/sh`, or `bash` for `env.shell: bash`) in DIR,
//! with this process's environment, the buildspec's variables, and `--env` values on top (they
//! beat the buildspec's, as a CodeBuild project's variables do). Output streams with CodeBuild's
//! phase headers; a table of phases and durations follows; the exit code is `0` SUCCEEDED, `1`
//! FAILED, `2` FAULT. `parameter-store` and `secrets-manager` names are read from
//! `--parameter-store-dir`/`--secrets-manager-dir` (one file per key).
//!
//! With `--image IMAGE` the same executor runs inside a container of IMAGE through the Docker
//! Engine (`DOCKER_HOST` or the local socket); see [`crate::build::container`] for how the
//! binary, the source and the buildspec get there. Output, phase table and exit code are the
//! same as on the host.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use clap::Args;

use crate::build::container::{ContainerBuild, run_in_container};
use crate::build::executor::report::phase_table;
use crate::build::executor::{
    BuildMetadata, EnvironmentSources, ExecutorConfig, LogSink, NoArtifactStore, ParameterMounts,
    ShellProgram, run_build,
};

use super::executor::{absolute, inherited_env};

/// Options of `slipway build`.
#[derive(Debug, Args)]
pub struct BuildOptions {
    /// Run on this machine (the only mode so far; cluster builds are BuildRuns).
    #[arg(long)]
    pub local: bool,
    /// The source directory.
    #[arg(long, value_name = "DIR")]
    pub source: PathBuf,
    /// The buildspec file (default: `buildspec.yml` in the source directory).
    #[arg(long, value_name = "FILE")]
    pub buildspec: Option<PathBuf>,
    /// Run inside a container of IMAGE through the Docker Engine.
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// A variable for the build, beating the buildspec's (repeatable).
    #[arg(long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// The shell, overriding the buildspec's `env.shell` (e.g. `/bin/busybox sh`).
    #[arg(long)]
    pub shell: Option<String>,
    /// A directory standing for the `parameter-store` ConfigMap (one file per key).
    #[arg(long, value_name = "DIR")]
    pub parameter_store_dir: Option<PathBuf>,
    /// A directory standing for the `secrets-manager` Secret (one file per key).
    #[arg(long, value_name = "DIR")]
    pub secrets_manager_dir: Option<PathBuf>,
}

/// Runs `slipway build` and returns the exit code.
pub fn run(options: &BuildOptions) -> ExitCode {
    match build(options) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn build(options: &BuildOptions) -> anyhow::Result<u8> {
    if !options.local {
        anyhow::bail!(
            "only local builds run from the command line: add --local, or create a BuildRun in the cluster"
        );
    }
    let source = absolute(&options.source)?;
    if !source.is_dir() {
        anyhow::bail!("--source {}: not a directory", source.display());
    }
    let buildspec_path = options
        .buildspec
        .clone()
        .unwrap_or_else(|| source.join("buildspec.yml"));
    let buildspec = std::fs::read_to_string(&buildspec_path)
        .with_context(|| format!("failed to read the buildspec {}", buildspec_path.display()))?;
    let mut project = Vec::new();
    for pair in &options.env {
        let (name, value) = pair
            .split_once('=')
            .with_context(|| format!("--env `{pair}` is not K=V"))?;
        project.push((name.to_owned(), value.to_owned()));
    }
    let initiator = std::env::var("USER").ok().or(Some("local".to_owned()));
    if let Some(image) = &options.image {
        return build_in_container(options, image, source, buildspec_path, project, initiator);
    }
    let mut metadata = BuildMetadata::new("local");
    metadata.initiator = initiator;
    let config = ExecutorConfig {
        buildspec,
        buildspec_name: buildspec_path.display().to_string(),
        metadata,
        src_dir: source,
        work_dir: None,
        shell: options.shell.as_deref().map(ShellProgram::parse),
        sources: EnvironmentSources {
            inherited: inherited_env(),
            project,
            secret_names: Vec::new(),
            parameters: ParameterMounts {
                parameter_store_dir: options.parameter_store_dir.clone(),
                parameter_store_config_map: None,
                secrets_manager_dir: options.secrets_manager_dir.clone(),
                secrets_manager_secret: None,
            },
        },
    };
    let sink: LogSink = Arc::new(Mutex::new(std::io::stdout()));
    let result = run_build(&config, sink, &mut NoArtifactStore);
    Ok(print_summary(&result))
}

/// The phase table and the closing line; returns the exit code.
fn print_summary(result: &crate::build::executor::BuildResult) -> u8 {
    println!();
    print!("{}", phase_table(result));
    println!(
        "Build {}: {}",
        crate::build::executor::report::status_name(result.build_status),
        result.message.as_deref().unwrap_or_default()
    );
    result.exit_code()
}

/// Runs the build inside a container of `image` (see [`crate::build::container`]).
fn build_in_container(
    options: &BuildOptions,
    image: &str,
    source: PathBuf,
    buildspec: PathBuf,
    env: Vec<(String, String)>,
    initiator: Option<String>,
) -> anyhow::Result<u8> {
    let build = ContainerBuild {
        image: image.to_owned(),
        source,
        buildspec: absolute(&buildspec)?,
        env,
        shell: options.shell.clone(),
        parameter_store_dir: options
            .parameter_store_dir
            .as_deref()
            .map(absolute)
            .transpose()?,
        secrets_manager_dir: options
            .secrets_manager_dir
            .as_deref()
            .map(absolute)
            .transpose()?,
        initiator,
        docker_host: std::env::var("DOCKER_HOST").ok(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let mut stdout = std::io::stdout();
    let (result, exit_code) = runtime.block_on(run_in_container(&build, &mut stdout))?;
    match result {
        Some(result) => Ok(print_summary(&result)),
        None => {
            eprintln!(
                "error: the executor in {image} wrote no result (container exit code {exit_code})"
            );
            Ok(2)
        }
    }
}
