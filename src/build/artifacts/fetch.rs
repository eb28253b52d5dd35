//! Fetching an artifact as a build's source (`slipway executor fetch artifact`): download the
//! ZIP a location names, check its digest, unpack it safely, note what was fetched.
//!
//! # Guarantees
//! - With an expected digest, nothing is unpacked unless the ZIP's sha256 matches it.
//! - The resolved-version file (when asked for) holds the ZIP's digest (`sha256:…`), the
//!   artifact source's equivalent of a resolved commit (`CODEBUILD_RESOLVED_SOURCE_VERSION`).
//! - Entries are unpacked by [`super::unpack`]'s rules (no path leaves the destination).

use std::path::{Path, PathBuf};

use super::package::file_digest;
use super::store::{ArtifactStorage, StoreError};
use super::unpack::{UnpackError, UnpackSummary, unpack};

/// What to fetch and where to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchRequest {
    /// The recorded location (`oci://…@sha256:…`, `s3://bucket/key`).
    pub location: String,
    /// The expected ZIP digest (`sha256:<hex>`).
    pub digest: Option<String>,
    /// The directory to unpack into.
    pub to: PathBuf,
    /// Where to write the fetched digest.
    pub resolved_file: Option<PathBuf>,
}

/// What was fetched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchOutcome {
    /// The ZIP's digest.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// What was unpacked.
    pub unpacked: UnpackSummary,
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The digest is not `sha256:` and 64 hex digits.
    #[error("failed to fetch the artifact: the digest `{0}` is not sha256:<64 hex digits>")]
    InvalidDigest(String),
    /// The content is not what the recorder saw.
    #[error("failed to fetch the artifact {location}: its digest is {actual}, expected {expected}")]
    DigestMismatch {
        /// The location.
        location: String,
        /// The expected digest.
        expected: String,
        /// The downloaded content's digest.
        actual: String,
    },
    /// Unpacking failed.
    #[error(transparent)]
    Unpack(#[from] UnpackError),
    /// A local file could not be written.
    #[error("failed to write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// `digest` when it is `sha256:` followed by 64 hex digits (lowercased).
fn normalized_digest(digest: &str) -> Result<String, FetchError> {
    let invalid = || FetchError::InvalidDigest(digest.to_owned());
    let hex = digest.trim().strip_prefix("sha256:").ok_or_else(invalid)?;
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    Ok(format!("sha256:{}", hex.to_ascii_lowercase()))
}

/// Fetches `request.location` from `store` into `request.to`.
///
/// # Errors
/// See [`FetchError`].
pub fn fetch_artifact(
    store: &dyn ArtifactStorage,
    request: &FetchRequest,
) -> Result<FetchOutcome, FetchError> {
    let expected = request
        .digest
        .as_deref()
        .map(normalized_digest)
        .transpose()?;
    let download = std::env::temp_dir().join(format!(
        "slipway-fetch-{}.zip",
        crate::build::executor::environment::random_uuid()
    ));
    let outcome = download_and_unpack(store, request, expected.as_deref(), &download);
    let _ = std::fs::remove_file(&download);
    let outcome = outcome?;
    if let Some(path) = &request.resolved_file {
        write_resolved(path, &outcome.digest)?;
    }
    Ok(outcome)
}

fn download_and_unpack(
    store: &dyn ArtifactStorage,
    request: &FetchRequest,
    expected: Option<&str>,
    download: &Path,
) -> Result<FetchOutcome, FetchError> {
    store.download(&request.location, download)?;
    let (digest, size) = file_digest(download).map_err(|source| FetchError::Write {
        path: download.display().to_string(),
        source,
    })?;
    if let Some(expected) = expected
        && expected != digest
    {
        return Err(FetchError::DigestMismatch {
            location: request.location.clone(),
            expected: expected.to_owned(),
            actual: digest,
        });
    }
    let unpacked = unpack(download, &request.to)?;
    Ok(FetchOutcome {
        digest,
        size,
        unpacked,
    })
}

fn write_resolved(path: &Path, digest: &str) -> Result<(), FetchError> {
    let write_error = |source| FetchError::Write {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(write_error)?;
    }
    std::fs::write(path, digest).map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::normalized_digest;

    #[test]
    fn digests_must_be_sha256_hex() {
        let hex = "AB".repeat(32);
        assert_eq!(
            normalized_digest(&format!("sha256:{hex}")).unwrap(),
            format!("sha256:{}", hex.to_lowercase())
        );
        for bad in [
            "",
            "sha256:abc",
            "md5:00",
            &"a".repeat(64),
            &format!("sha256:{}", "g".repeat(64)),
        ] {
            assert!(normalized_digest(bad).is_err(), "{bad}");
        }
    }
}
