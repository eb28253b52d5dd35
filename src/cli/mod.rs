//! The command line of the `slipway` binary: `controller`, `crd`, the executor, local checks and
//! builds, and the `kubectl slipway` commands (`start`, `approve`, `reject`, `retry`, `stop`,
//! `transitions`, `get`, `deploy …`).

pub mod appspec;
pub mod artifact_options;
pub mod build;
pub mod buildspec;
mod check;
pub mod cluster;
mod crd;
pub mod deploy;
pub mod executor;
pub mod executor_images;
pub mod fetch;
pub mod fetch_artifact;
pub mod identity;
pub mod pipeline;
pub mod text;
pub mod watch;
pub mod write;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::runtime::ControllerOptions;

/// Slipway: CodePipeline, CodeBuild and CodeDeploy semantics for Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "slipway", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run all controllers (pipelines, builds, rollouts) and the health/metrics server.
    Controller(ControllerOptions),
    /// Print the CustomResourceDefinitions, or write them into the repository's CRD folders.
    Crd(crd::CrdOptions),
    /// Check buildspec.yml files: `slipway buildspec check FILE...`.
    Buildspec(buildspec::BuildspecCommand),
    /// Check CodeDeploy appspec files (YAML or JSON): `slipway appspec check FILE...`.
    Appspec(appspec::AppspecCommand),
    /// Run a buildspec inside a build pod: `slipway executor run`.
    Executor(executor::ExecutorCommand),
    /// Run a buildspec on this machine: `slipway build --local --source DIR`.
    Build(build::BuildOptions),
    /// Promote, abort, stop, watch and list deployments.slipway.dev rollouts.
    Deploy(deploy::DeployCommand),
    /// Start, approve, reject, retry, stop and show pipeline runs; disable and enable transitions.
    #[command(flatten)]
    Pipeline(pipeline::PipelineCommand),
}

/// Parses the process's arguments. Installed as `kubectl-slipway`, the binary is a kubectl
/// plugin, so its usage and help say `kubectl slipway`.
pub fn parse() -> Cli {
    let invoked_as = std::env::args_os().next().and_then(|program| {
        std::path::Path::new(&program)
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
    });
    let mut command = Cli::command();
    if invoked_as.as_deref() == Some(PLUGIN_NAME) {
        command = command.bin_name("kubectl slipway");
    }
    let mut matches = command.get_matches();
    Cli::from_arg_matches_mut(&mut matches).unwrap_or_else(|error| error.exit())
}

/// The file name that makes the binary a kubectl plugin (`kubectl slipway …`).
pub const PLUGIN_NAME: &str = "kubectl-slipway";

/// Runs a parsed command line and returns the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    crate::tls::install_crypto_provider();
    let result = match cli.command {
        Command::Controller(options) => crate::runtime::run_blocking(options),
        Command::Crd(options) => crd::run(&options),
        Command::Buildspec(command) => buildspec::run(&command),
        Command::Appspec(command) => appspec::run(&command),
        Command::Executor(command) => return executor::run(&command),
        Command::Build(options) => return build::run(&options),
        Command::Deploy(command) => deploy::run(&command),
        Command::Pipeline(command) => pipeline::run(&command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", describe(&error));
            ExitCode::FAILURE
        }
    }
}

/// The error's own message and its root cause; the layers between repeat each other in kube's errors.
fn describe(error: &anyhow::Error) -> String {
    let message = error.to_string();
    match error.chain().last().map(ToString::to_string) {
        Some(root) if !message.contains(&root) => format!("{message}: {root}"),
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_show_their_message_and_root_cause_once() {
        let root = std::io::Error::other("connection refused");
        let error = anyhow::Error::new(root)
            .context("layer")
            .context("unable to reach the cluster");
        assert_eq!(
            describe(&error),
            "unable to reach the cluster: connection refused"
        );
    }
}
