//! The artifact store behind one trait: an OCI registry ([`super::oci`]) or object storage
//! ([`super::object`]), chosen from the `ArtifactStore` the BuildRun names, or from the scheme
//! of a recorded location when fetching.
//!
//! The trait is synchronous: the executor's run path is, so each store drives its async client
//! on a small current-thread tokio runtime of its own.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::package::PackagedArtifact;
use crate::api::common::ArtifactStore;

/// The folder under the credentials directory that holds the artifact store's Secret.
pub const CREDENTIALS_FOLDER: &str = "artifact-store";

/// The longest OCI tag the distribution spec allows.
const TAG_LIMIT: usize = 128;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store's settings are unusable.
    #[error("failed to configure the artifact store: {0}")]
    Config(String),
    /// A credentials file is unreadable.
    #[error("failed to read the artifact store credentials {path}: {message}")]
    Credentials {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The upload failed; `message` is the store's own.
    #[error("failed to upload the artifact to {destination}: {message}")]
    Upload {
        /// Repository or bucket key.
        destination: String,
        /// The store's message.
        message: String,
    },
    /// The download failed; `message` is the store's own.
    #[error("failed to download the artifact {location}: {message}")]
    Download {
        /// The location.
        location: String,
        /// The store's message.
        message: String,
    },
}

/// Where one artifact goes: the facts its key (object store) or tag (OCI) is made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The BuildRun's namespace (`default` outside a cluster).
    pub namespace: String,
    /// The BuildRun's name (the build id outside a cluster).
    pub build_run: String,
    /// The build id (`<project>:<uuid>`).
    pub build_id: String,
    /// `primary`, or the secondary artifact's identifier.
    pub identifier: String,
    /// The archive's file name: the evaluated `name` with `.zip` (`<identifier>.zip` by default).
    pub file_name: String,
    /// The buildspec's `s3-prefix`, if any.
    pub s3_prefix: Option<String>,
}

impl Placement {
    /// The object key below the store URL's prefix:
    /// `[<s3-prefix>/]<namespace>/<build run>/<file name>`.
    ///
    /// # Errors
    /// When a part would make the key climb (`..`) or is empty.
    pub fn object_key(&self) -> Result<String, StoreError> {
        let mut parts: Vec<&str> = Vec::new();
        if let Some(prefix) = &self.s3_prefix {
            parts.extend(prefix.split('/').filter(|part| !part.is_empty()));
        }
        parts.push(&self.namespace);
        parts.push(&self.build_run);
        parts.extend(self.file_name.split('/').filter(|part| !part.is_empty()));
        for part in &parts {
            if part.is_empty() || *part == "." || *part == ".." {
                return Err(StoreError::Config(format!(
                    "the artifact key part `{part}` of {} is not allowed",
                    self.identifier
                )));
            }
        }
        Ok(parts.join("/"))
    }

    /// The OCI tag: `<build id>-<file name without .zip>`, characters outside `[A-Za-z0-9_.-]`
    /// turned into `-`; past 128 characters cut and suffixed with a hash of the whole.
    pub fn oci_tag(&self) -> String {
        let stem = self
            .file_name
            .strip_suffix(".zip")
            .unwrap_or(&self.file_name);
        let raw = format!("{}-{stem}", self.build_id);
        let mut tag: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        if tag.starts_with(['.', '-']) {
            tag.insert(0, '_');
        }
        if tag.len() > TAG_LIMIT {
            let hash = hex::encode(Sha256::digest(raw.as_bytes()));
            tag.truncate(TAG_LIMIT - 17);
            tag.push('-');
            tag.push_str(&hash[..16]);
        }
        tag
    }
}

/// `name` as an archive file name: `.zip` appended unless present; the identifier when empty.
pub fn archive_file_name(name: Option<&str>, identifier: &str) -> String {
    let name = name.map(str::trim).filter(|name| !name.is_empty());
    let name = name.unwrap_or(identifier).trim_start_matches('/');
    if name.ends_with(".zip") {
        name.to_owned()
    } else {
        format!("{name}.zip")
    }
}

/// An artifact store.
pub trait ArtifactStorage {
    /// The store, for logs (`oci://127.0.0.1:5000/team/artifacts`).
    fn describe(&self) -> String;

    /// Stores `artifact` and returns its location (`oci://repository@sha256:…`, `s3://…`).
    ///
    /// # Errors
    /// The store's message on failure.
    fn upload(
        &self,
        artifact: &PackagedArtifact,
        placement: &Placement,
    ) -> Result<String, StoreError>;

    /// Stores a build's full result JSON (when the termination message cannot hold it) and
    /// returns its location.
    ///
    /// # Errors
    /// The store's message on failure.
    fn upload_result(&self, json: &[u8], placement: &Placement) -> Result<String, StoreError>;

    /// Downloads the archive at `location` (recorded by [`ArtifactStorage::upload`]) into the
    /// file `destination`.
    ///
    /// # Errors
    /// The store's message on failure.
    fn download(&self, location: &str, destination: &Path) -> Result<(), StoreError>;
}

/// Opens the store a BuildRun names, with credentials under `credentials_dir`.
///
/// # Errors
/// When the settings or credentials are unusable.
pub fn open_store(
    store: &ArtifactStore,
    credentials_dir: &Path,
) -> Result<Box<dyn ArtifactStorage>, StoreError> {
    match (&store.oci, &store.object_store) {
        (Some(oci), None) => Ok(Box::new(super::oci::OciStorage::new(oci, credentials_dir)?)),
        (None, Some(object)) => Ok(Box::new(super::object::ObjectStorage::new(
            object,
            credentials_dir,
        )?)),
        _ => Err(StoreError::Config(
            "set exactly one of oci or objectStore".to_owned(),
        )),
    }
}

/// Opens the store that holds `location`: OCI for `oci://`, object storage for `s3://`, `gs://`,
/// `az://` (and `file://`), taking endpoint, region and `insecure` from `configured` when it is
/// the same kind of store.
///
/// # Errors
/// When the scheme is unknown or the settings are unusable.
pub fn open_store_for_location(
    location: &str,
    configured: Option<&ArtifactStore>,
    credentials_dir: &Path,
) -> Result<Box<dyn ArtifactStorage>, StoreError> {
    let (scheme, _) = location.split_once("://").ok_or_else(|| {
        StoreError::Config(format!(
            "the artifact location `{location}` has no scheme (oci://, s3://, gs://, az://)"
        ))
    })?;
    match scheme {
        "oci" => {
            let reference = super::oci::parse_location(location)?;
            let mut settings = configured
                .and_then(|store| store.oci.clone())
                .unwrap_or_default();
            settings.repository = format!("{}/{}", reference.registry(), reference.repository());
            Ok(Box::new(super::oci::OciStorage::new(
                &settings,
                credentials_dir,
            )?))
        }
        "s3" | "gs" | "az" | "file" => {
            let (bucket_url, _) = super::object::split_location(location)?;
            let mut settings = configured
                .and_then(|store| store.object_store.clone())
                .filter(|store| store.url.starts_with(&format!("{scheme}://")))
                .unwrap_or_default();
            settings.url = bucket_url;
            Ok(Box::new(super::object::ObjectStorage::new(
                &settings,
                credentials_dir,
            )?))
        }
        other => Err(StoreError::Config(format!(
            "the artifact location scheme `{other}` is not one of oci, s3, gs, az"
        ))),
    }
}

/// The artifact store's credentials folder.
pub fn credentials_folder(credentials_dir: &Path) -> PathBuf {
    credentials_dir.join(CREDENTIALS_FOLDER)
}

/// The error with its causes, so the registry's own words reach the build's message.
pub(crate) fn describe_error(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Writes a download's chunks into `output` (the file at `destination`) and flushes it; the
/// error is the failed download's message: the store's own words, or the file not written.
pub(crate) async fn write_chunks<B: AsRef<[u8]>, E: std::error::Error>(
    mut chunks: impl futures::Stream<Item = Result<B, E>> + Unpin,
    output: &mut std::fs::File,
    destination: &Path,
) -> Result<(), String> {
    use futures::StreamExt;
    use std::io::Write;
    let unwritable =
        |error: std::io::Error| format!("unable to write {}: {error}", destination.display());
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|error| describe_error(&error))?;
        output.write_all(chunk.as_ref()).map_err(unwritable)?;
    }
    output.flush().map_err(unwritable)
}

/// A current-thread runtime for one store's async client.
///
/// # Errors
/// When the runtime cannot start.
pub fn runtime() -> Result<tokio::runtime::Runtime, StoreError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| StoreError::Config(format!("unable to start an async runtime: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement(file_name: &str, s3_prefix: Option<&str>) -> Placement {
        Placement {
            namespace: "team".to_owned(),
            build_run: "web-7".to_owned(),
            build_id: "web:0f4c".to_owned(),
            identifier: "primary".to_owned(),
            file_name: file_name.to_owned(),
            s3_prefix: s3_prefix.map(str::to_owned),
        }
    }

    #[test]
    fn object_keys_follow_the_documented_layout() {
        let table = [
            ("primary.zip", None, Ok("team/web-7/primary.zip")),
            (
                "fuzz-corpus.zip",
                Some("nightly/"),
                Ok("nightly/team/web-7/fuzz-corpus.zip"),
            ),
            (
                "dir/out.zip",
                Some("/a//b"),
                Ok("a/b/team/web-7/dir/out.zip"),
            ),
            ("../escape.zip", None, Err(())),
        ];
        for (file_name, prefix, expected) in table {
            let key = placement(file_name, prefix).object_key();
            assert_eq!(key.as_deref().map_err(|_| ()), expected, "{file_name}");
        }
    }

    #[test]
    fn tags_are_valid_oci_tags_derived_from_build_and_name() {
        assert_eq!(placement("primary.zip", None).oci_tag(), "web-0f4c-primary");
        assert_eq!(
            placement("fuzz corpus/2026.zip", None).oci_tag(),
            "web-0f4c-fuzz-corpus-2026"
        );
        let long = placement(&format!("{}.zip", "x".repeat(300)), None).oci_tag();
        assert_eq!(long.len(), 128);
        assert_ne!(
            long,
            placement(&format!("{}y.zip", "x".repeat(300)), None).oci_tag()
        );
        let mut leading = placement("a.zip", None);
        leading.build_id = "-odd".to_owned();
        assert!(leading.oci_tag().starts_with('_'));
    }

    #[test]
    fn archive_names_get_one_zip_suffix() {
        let table = [
            (None, "primary", "primary.zip"),
            (Some("plugin.zip"), "plugin", "plugin.zip"),
            (Some("fuzz-20261126-3"), "primary", "fuzz-20261126-3.zip"),
            (Some("  "), "logs", "logs.zip"),
        ];
        for (name, identifier, expected) in table {
            assert_eq!(archive_file_name(name, identifier), expected);
        }
    }
}
