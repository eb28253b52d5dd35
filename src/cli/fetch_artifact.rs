//! `slipway executor fetch artifact`: an artifact from the store as the build's source (the
//! `fetch-source` init container of the build pod; see [`crate::build::artifacts::fetch`]).
//!
//! ```text
//! slipway executor fetch artifact --location oci://127.0.0.1:5000/team/artifacts@sha256:… \
//!     [--digest sha256:…] --to /workspace/src [--resolved-file /workspace/.slipway/resolved-source-version]
//! ```
//! Exit codes as for every `executor fetch` source (see [`super::fetch`]).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::artifact_options::ArtifactStoreOptions;
use crate::build::artifacts::{FetchRequest, fetch_artifact, open_store_for_location};

/// Options of `slipway executor fetch artifact`.
#[derive(Debug, Args)]
pub struct FetchArtifactOptions {
    /// The artifact's recorded location (`oci://repository@sha256:…`, `s3://bucket/key`).
    #[arg(long)]
    pub location: String,
    /// The expected content digest (`sha256:…`); nothing is unpacked on a mismatch.
    #[arg(long)]
    pub digest: Option<String>,
    /// The directory to unpack into.
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// A file to write the fetched digest to (the resolved source version).
    #[arg(long, value_name = "FILE")]
    pub resolved_file: Option<PathBuf>,
    /// The store settings (endpoint, region, `insecure`) and credentials.
    #[command(flatten)]
    pub store: ArtifactStoreOptions,
}

/// Downloads and unpacks the artifact.
///
/// # Errors
/// When the fetch fails; the message names the location and the store's reason.
pub fn fetch(options: &FetchArtifactOptions) -> anyhow::Result<()> {
    let configured = options.store.store()?;
    let store = open_store_for_location(
        &options.location,
        configured.as_ref(),
        &options.store.credentials_dir,
    )?;
    let request = FetchRequest {
        location: options.location.clone(),
        digest: options.digest.clone(),
        to: options.to.clone(),
        resolved_file: options.resolved_file.clone(),
    };
    let outcome = fetch_artifact(store.as_ref(), &request)
        .with_context(|| format!("failed to fetch {}", options.location))?;
    println!(
        "Fetched {} ({} bytes, {}): {} file(s), {} link(s) into {}",
        options.location,
        outcome.size,
        outcome.digest,
        outcome.unpacked.files,
        outcome.unpacked.symlinks,
        options.to.display()
    );
    Ok(())
}
