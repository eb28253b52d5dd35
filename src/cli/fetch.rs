//! `slipway executor fetch …`: put a build's source into the workspace before the build runs
//! (the build pod's `fetch-source` init container).
//!
//! - `slipway executor fetch git --url URL --revision REV --depth N [--submodules] --to DIR
//!   --resolved-file FILE [--credentials-dir DIR]` clones with gix (see
//!   [`crate::build::source`]) and writes the commit it checked out to `FILE`.
//! - `slipway executor fetch artifact --location LOC [--digest sha256:…] --to DIR` downloads
//!   and unpacks an artifact from the artifact store (see [`super::fetch_artifact`]).
//!
//! Exit codes: `0` fetched, `1` the fetch failed (the message says what to fix).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::build::source::{
    GitCredentials, GitFetchRequest, fetch_git, parse_revision, write_resolved,
};

/// Options of `slipway executor fetch`.
#[derive(Debug, Args)]
pub struct FetchCommand {
    /// Where the source comes from.
    #[command(subcommand)]
    pub source: FetchSource,
}

/// The `slipway executor fetch` subcommands.
#[derive(Debug, Subcommand)]
pub enum FetchSource {
    /// Clone a git repository at an exact revision.
    Git(GitFetchOptions),
    /// Download an artifact from the artifact store and unpack it.
    Artifact(super::fetch_artifact::FetchArtifactOptions),
}

/// Options of `slipway executor fetch git`.
#[derive(Debug, Args)]
pub struct GitFetchOptions {
    /// The repository URL: https://…, http://…, ssh://…, user@host:path, git://… or file://….
    #[arg(long)]
    pub url: String,
    /// A full commit SHA, a branch or a tag (`refs/heads/…` and `refs/tags/…` too).
    #[arg(long)]
    pub revision: String,
    /// Commits of history to fetch; 0 for all.
    #[arg(long, default_value_t = 0)]
    pub depth: u32,
    /// Clone the submodules too, recursively.
    #[arg(long)]
    pub submodules: bool,
    /// The directory to clone into (absent or empty).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// Where to write the commit SHA checked out.
    #[arg(long, value_name = "FILE")]
    pub resolved_file: PathBuf,
    /// The mounted credentials; git's are in its `git/` folder.
    #[arg(
        long,
        env = "SLIPWAY_EXECUTOR_CREDENTIALS_DIR",
        default_value = "/slipway/credentials",
        value_name = "DIR"
    )]
    pub credentials_dir: PathBuf,
}

/// Runs `slipway executor fetch …` and returns the exit code.
pub fn run(command: &FetchCommand) -> ExitCode {
    let outcome = match &command.source {
        FetchSource::Git(options) => fetch_git_source(options),
        FetchSource::Artifact(options) => {
            super::fetch_artifact::fetch(options).map_err(|error| format!("{error:#}"))
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Clones, writes the resolved file and prints what was checked out.
fn fetch_git_source(options: &GitFetchOptions) -> Result<(), String> {
    let revision = parse_revision(&options.url, &options.revision).map_err(|e| e.to_string())?;
    let credentials =
        GitCredentials::load(&options.credentials_dir).map_err(|error| error.to_string())?;
    let request = GitFetchRequest {
        url: options.url.clone(),
        revision,
        depth: options.depth,
        submodules: options.submodules,
        destination: options.to.clone(),
        credentials,
    };
    let fetched = fetch_git(&request).map_err(|error| error.to_string())?;
    write_resolved(&options.resolved_file, &fetched.commit).map_err(|error| error.to_string())?;
    println!(
        "fetched {} at {} ({}) into {}",
        crate::build::source::redact_urls(&options.url),
        request.revision,
        fetched.commit,
        options.to.display()
    );
    for submodule in &fetched.submodules {
        println!("  submodule {} at {}", submodule.path, submodule.commit);
    }
    Ok(())
}
