//! The command line of the `slipway` binary: `controller`, `crd`, and (as later issues add them)
//! the executor and the `kubectl slipway` commands.

mod crd;

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
}

/// Runs a parsed command line and returns the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Controller(options) => crate::runtime::run_blocking(options),
        Command::Crd(options) => crd::run(&options),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
