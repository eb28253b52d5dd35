//! Build artifacts: the buildspec's `artifacts` section packaged and uploaded to the artifact
//! store after `post_build`, and an artifact fetched back as a later build's source.
//!
//! ```text
//! artifacts: (files, base-directory, …) ─evaluate in the build's shell─▶ values
//!        ─select (pure, CodeBuild's rules)─▶ sorted entries ─package─▶ deterministic ZIP + sha256
//!        ─ArtifactStorage::upload─▶ OCI registry | object storage ─▶ ArtifactRecord in BuildResult
//! executor fetch artifact: location ─download─▶ ZIP ─verify digest─▶ unpack (no traversal)
//! ```
//!
//! - [`evaluate`]: `name`, `files`, `base-directory`, `exclude-paths` go through the build's
//!   shell (`name: fuzz-$(date +%Y%m%d)-$CODEBUILD_BUILD_NUMBER`), without globbing.
//! - [`selection`]: which files, by CodeBuild's rules (globs, base directory globs,
//!   `discard-paths` and its collisions, exclusions, links, `no matching artifact paths found`).
//!   Pure over a [`tree::FileTree`]; table-tested.
//! - [`package`](mod@package): the ZIP. **Packaging**: sorted entries, timestamps fixed at 1980-01-01, Unix
//!   permission bits kept, links as links only with `enable-symlinks`, so the same files give
//!   the same bytes and the same `sha256:` digest — the record's `digest`.
//! - [`store`]: the [`store::ArtifactStorage`] trait, the key and tag layout, opening a store
//!   from the BuildRun's `ArtifactStore` or from a recorded location.
//! - [`oci`]: the default store. **Media types**: manifest
//!   `application/vnd.oci.image.manifest.v1+json` with `artifactType`
//!   `application/vnd.slipway.artifact.v1+zip`, the OCI empty config
//!   (`application/vnd.oci.empty.v1+json`), one `application/zip` layer titled with the file
//!   name. Tag `<build id>-<name>`; location `oci://<registry>/<repository>@sha256:<manifest>`.
//! - [`object`]: S3 (and S3-compatible), GCS, Azure through `object_store`. **Key layout**:
//!   `<url prefix>/[<s3-prefix>/]<namespace>/<build run>/<name>.zip`; location
//!   `s3://bucket/<key>`.
//! - [`uploader`]: the executor's [`crate::build::executor::ArtifactUploader`] for a store.
//! - [`unpack`], [`fetch`]: the way back.
//!
//! # Credential lookup
//! Under the executor's `--credentials-dir` (default `/slipway/credentials`), folder
//! `artifact-store/` (the store's `credentialsSecret`, mounted read-only):
//! `.dockerconfigjson` for an OCI registry (the entry for the registry's host), or
//! `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` [+ `AWS_SESSION_TOKEN`] for S3,
//! `service-account.json` for GCS, `AZURE_STORAGE_ACCOUNT_NAME` + `AZURE_STORAGE_ACCOUNT_KEY`
//! for Azure. No files: anonymous (OCI) or the pod's ambient identity (object storage).
//! Credentials are never logged nor recorded.
//!
//! # Names
//! The primary artifact's record is named by the executor's `--primary-artifact-name`
//! (default `primary`; a pipeline passes its action's output artifact name), a secondary
//! artifact's by its identifier. The evaluated `name` (default: the identifier) with `.zip`
//! is the archive's file name in keys, tags and the OCI title annotation.

pub mod evaluate;
pub mod fetch;
pub mod object;
pub mod oci;
pub mod package;
pub mod selection;
pub mod store;
pub mod tree;
pub mod unpack;
pub mod uploader;

#[cfg(test)]
mod tests;

pub use fetch::{FetchError, FetchOutcome, FetchRequest, fetch_artifact};
pub use package::{PackagedArtifact, package};
pub use selection::{Selection, SelectionError, select_files};
pub use store::{ArtifactStorage, Placement, StoreError, open_store, open_store_for_location};
pub use uploader::{BuildIdentity, StoreUploader};
