//! The command line of the `slipway` binary: `controller`, `crd`, and (as later issues add them)
//! the executor and the `kubectl slipway` commands.

pub mod appspec;
pub mod artifact_options;
pub mod build;
pub mod buildspec;
mod check;
mod crd;
pub mod executor;
pub mod executor_images;
pub mod fetch;
pub mod fetch_artifact;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    /// Run all controllers, the webhook receiver and the health/metrics server.
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
}

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
