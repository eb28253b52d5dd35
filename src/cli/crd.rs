//! `slipway crd`: prints the CRDs as one YAML stream, or writes the repository's generated copies.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::api::crd;

/// Options of `slipway crd`.
#[derive(Debug, Args)]
pub struct CrdOptions {
    /// Instead of printing, write the generated files (`crds/`, `charts/slipway/crds/`) under this
    /// repository root.
    #[arg(long, value_name = "ROOT")]
    pub repo: Option<PathBuf>,
}

/// Runs `slipway crd`.
///
/// # Errors
/// When a CRD cannot be serialized or a file cannot be written.
pub fn run(options: &CrdOptions) -> anyhow::Result<()> {
    let Some(root) = &options.repo else {
        print!("{}", crd::render_stream()?);
        return Ok(());
    };
    for (relative, text) in crd::repository_files()? {
        let path = root.join(&relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("failed to create {}", parent.display()))?;
        }
        std::fs::write(&path, text)
            .with_context(|| format!("failed to write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
