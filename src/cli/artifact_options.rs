//! The executor's artifact store flags, shared by `slipway executor run` (upload) and
//! `slipway executor fetch artifact` (download). See [`crate::build::artifacts`] for the
//! store's layout and the files read under `--credentials-dir`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::api::common::ArtifactStore;
use crate::build::artifacts::{BuildIdentity, StoreUploader};
use crate::build::executor::BuildMetadata;

/// Where artifacts are stored and where the store's credentials are mounted.
#[derive(Clone, Debug, Args)]
pub struct ArtifactStoreOptions {
    /// The artifact store as JSON of the CRD's `ArtifactStore`
    /// (`{"oci":{"repository":"127.0.0.1:5000/team/artifacts"}}`,
    /// `{"objectStore":{"url":"s3://bucket/prefix","endpoint":"…"}}`). `run` uploads nothing
    /// without it; `fetch` takes endpoint, region and `insecure` from it.
    #[arg(long, env = "SLIPWAY_EXECUTOR_ARTIFACT_STORE", value_name = "JSON")]
    pub artifact_store: Option<String>,
    /// The directory where the build's Secrets are mounted (`artifact-store/` holds the store's).
    #[arg(
        long,
        env = "SLIPWAY_EXECUTOR_CREDENTIALS_DIR",
        default_value = "/slipway/credentials"
    )]
    pub credentials_dir: PathBuf,
}

impl ArtifactStoreOptions {
    /// The parsed `--artifact-store`, if given.
    ///
    /// # Errors
    /// When the JSON is not an `ArtifactStore`.
    pub fn store(&self) -> anyhow::Result<Option<ArtifactStore>> {
        let Some(text) = self
            .artifact_store
            .as_deref()
            .filter(|t| !t.trim().is_empty())
        else {
            return Ok(None);
        };
        let store: ArtifactStore = serde_json::from_str(text)
            .context("failed to read --artifact-store as an ArtifactStore JSON document")?;
        Ok(Some(store))
    }
}

/// The flags of `slipway executor run` about artifacts.
#[derive(Clone, Debug, Args)]
pub struct ArtifactUploadOptions {
    /// The store and its credentials.
    #[command(flatten)]
    pub store: ArtifactStoreOptions,
    /// The record name of the buildspec's primary artifact (a pipeline action's output
    /// artifact name); secondary artifacts are recorded by their identifiers.
    #[arg(
        long,
        env = "SLIPWAY_EXECUTOR_PRIMARY_ARTIFACT_NAME",
        default_value = "primary"
    )]
    pub primary_artifact_name: String,
}

impl ArtifactUploadOptions {
    /// The uploader for this build, or `None` when no store is configured.
    ///
    /// # Errors
    /// When `--artifact-store` does not parse.
    pub fn uploader(
        &self,
        metadata: &BuildMetadata,
        source_dir: PathBuf,
    ) -> anyhow::Result<Option<StoreUploader>> {
        let Some(store) = self.store.store()? else {
            return Ok(None);
        };
        Ok(Some(StoreUploader::new(
            store,
            self.store.credentials_dir.clone(),
            source_dir,
            BuildIdentity {
                namespace: metadata.namespace.clone(),
                build_run: metadata.build_run.clone(),
                build_id: metadata.build_id.clone(),
            },
            self.primary_artifact_name.clone(),
        )))
    }
}
