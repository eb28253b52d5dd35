//! The executor's `UPLOAD_ARTIFACTS` phase: evaluate, select, package, upload, record.
//!
//! The primary artifact goes first, then the secondary artifacts in file order; the first
//! failure ends the phase (`FAILED`) with its message — `CLIENT_ERROR: no matching artifact
//! paths found` for an empty selection, as CodeBuild words it, or the store's own message for
//! an upload failure. Records of the artifacts uploaded before a failure are kept.

use std::path::{Path, PathBuf};

use crate::api::common::{ArtifactRecord, ArtifactStore};
use crate::build::buildspec::{ArtifactSet, BuildSpec};
use crate::build::executor::shell::CommandRunner;
use crate::build::executor::{ArtifactUploader, BuildLog, BuildResult, TERMINATION_MESSAGE_LIMIT};

use super::evaluate::evaluate;
use super::package::package;
use super::selection::select_files;
use super::store::{ArtifactStorage, Placement, archive_file_name, open_store};
use super::tree::DiskTree;

/// Facts about the build that name its artifacts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildIdentity {
    /// The BuildRun's namespace (`default` when `None`).
    pub namespace: Option<String>,
    /// The BuildRun's name (the build id when `None`).
    pub build_run: Option<String>,
    /// The build id.
    pub build_id: String,
}

/// Uploads a build's artifacts to a store and keeps the records.
pub struct StoreUploader {
    settings: ArtifactStore,
    credentials_dir: PathBuf,
    source_dir: PathBuf,
    identity: BuildIdentity,
    primary_name: String,
    records: Vec<ArtifactRecord>,
}

impl StoreUploader {
    /// An uploader to `settings`; the store is opened at upload time, so a bad setting fails
    /// the `UPLOAD_ARTIFACTS` phase rather than the executor.
    pub fn new(
        settings: ArtifactStore,
        credentials_dir: PathBuf,
        source_dir: PathBuf,
        identity: BuildIdentity,
        primary_name: String,
    ) -> StoreUploader {
        StoreUploader {
            settings,
            credentials_dir,
            source_dir,
            identity,
            primary_name,
            records: Vec::new(),
        }
    }

    /// The artifacts uploaded so far.
    pub fn records(&self) -> &[ArtifactRecord] {
        &self.records
    }

    /// The records, for the build result.
    pub fn into_records(self) -> Vec<ArtifactRecord> {
        self.records
    }

    /// When `result` is too large for the termination message, stores the full result in the
    /// artifact store (`result.json` next to the artifacts) and sets `result_location`.
    ///
    /// # Errors
    /// The store's message; the result is then left as it was.
    pub fn store_full_result(&self, result: &mut BuildResult) -> Result<(), String> {
        if result.to_json().len() <= TERMINATION_MESSAGE_LIMIT {
            return Ok(());
        }
        let store =
            open_store(&self.settings, &self.credentials_dir).map_err(|error| error.to_string())?;
        let mut placement = self.placement("result", &ArtifactSet::default());
        placement.file_name = "result.json".to_owned();
        let location = store
            .upload_result(result.to_json().as_bytes(), &placement)
            .map_err(|error| error.to_string())?;
        result.result_location = Some(location);
        Ok(())
    }

    fn placement(&self, identifier: &str, set: &ArtifactSet) -> Placement {
        Placement {
            namespace: self
                .identity
                .namespace
                .clone()
                .unwrap_or_else(|| "default".to_owned()),
            build_run: self
                .identity
                .build_run
                .clone()
                .unwrap_or_else(|| self.identity.build_id.replace(':', "-")),
            build_id: self.identity.build_id.clone(),
            identifier: identifier.to_owned(),
            file_name: archive_file_name(set.name.as_deref(), identifier),
            s3_prefix: set.s3_prefix.clone(),
        }
    }

    fn upload_all(
        &mut self,
        sets: &[(String, ArtifactSet)],
        scratch: &Path,
        log: &BuildLog,
    ) -> Result<(), String> {
        let store = open_store(&self.settings, &self.credentials_dir).map_err(|e| e.to_string())?;
        for (identifier, set) in sets {
            let record = self.upload_one(store.as_ref(), identifier, set, scratch, log)?;
            self.records.push(record);
        }
        Ok(())
    }

    fn upload_one(
        &self,
        store: &dyn ArtifactStorage,
        identifier: &str,
        set: &ArtifactSet,
        scratch: &Path,
        log: &BuildLog,
    ) -> Result<ArtifactRecord, String> {
        log.container(&format!(
            "Expanding base directory path: {} ({identifier})",
            set.base_directory.as_deref().unwrap_or(".")
        ));
        for file in &set.files {
            log.container(&format!("Expanding {file}"));
        }
        let selection = select_files(&DiskTree, &self.source_dir, set)
            .map_err(|error| format!("CLIENT_ERROR: {error}"))?;
        for warning in &selection.warnings {
            log.container(&format!("Warning: {warning}"));
        }
        log.container(&format!(
            "Found {} file(s) for {identifier}",
            selection.entries.len()
        ));
        let zip_path = scratch.join(format!("{}.zip", sanitize(identifier)));
        let packaged =
            package(&selection, &zip_path).map_err(|error| format!("CLIENT_ERROR: {error}"))?;
        let placement = self.placement(identifier, set);
        let uploaded = store.upload(&packaged, &placement);
        let _ = std::fs::remove_file(&zip_path);
        let location = uploaded.map_err(|error| error.to_string())?;
        let masker = log.masker();
        log.container(&format!(
            "Uploaded {identifier} ({} file(s), {} bytes, {}) to {}",
            packaged.entries,
            packaged.size,
            packaged.digest,
            masker.mask(&location)
        ));
        Ok(ArtifactRecord {
            name: masker.mask(identifier),
            location: masker.mask(&location),
            digest: Some(packaged.digest),
            produced_by: None,
        })
    }
}

/// A name safe as a file name in the scratch directory.
fn sanitize(identifier: &str) -> String {
    identifier
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The artifact sets of `spec` with `identifier`s (the primary's is `primary_name`).
fn artifact_sets(spec: &BuildSpec, primary_name: &str) -> Vec<(String, ArtifactSet)> {
    let Some(artifacts) = &spec.artifacts else {
        return Vec::new();
    };
    let mut sets = vec![(primary_name.to_owned(), artifacts.primary.clone())];
    for secondary in &artifacts.secondary_artifacts {
        sets.push((secondary.identifier.clone(), secondary.set.clone()));
    }
    sets
}

/// Replaces the shell-evaluated fields of every set with their values.
fn evaluate_sets(
    sets: &mut [(String, ArtifactSet)],
    runner: &mut dyn CommandRunner,
    scratch: &Path,
) -> Result<(), String> {
    let mut expressions = Vec::new();
    for (_, set) in sets.iter() {
        expressions.extend(set.name.iter().cloned());
        expressions.extend(set.base_directory.iter().cloned());
        expressions.extend(set.files.iter().cloned());
        expressions.extend(set.exclude_paths.iter().cloned());
    }
    let mut values = evaluate(runner, &expressions, scratch)?.into_iter();
    let mut next = || values.next().unwrap_or_default();
    for (_, set) in sets.iter_mut() {
        if set.name.is_some() {
            set.name = Some(next());
        }
        if set.base_directory.is_some() {
            set.base_directory = Some(next());
        }
        for file in &mut set.files {
            *file = next();
        }
        for exclude in &mut set.exclude_paths {
            *exclude = next();
        }
    }
    Ok(())
}

/// A private directory (mode 0700) for the evaluation files and the ZIPs.
fn create_scratch() -> Result<PathBuf, String> {
    use std::os::unix::fs::DirBuilderExt;
    let path = std::env::temp_dir().join(format!(
        "slipway-artifacts-{}",
        crate::build::executor::environment::random_uuid()
    ));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&path)
        .map_err(|error| format!("unable to create {}: {error}", path.display()))?;
    Ok(path)
}

impl ArtifactUploader for StoreUploader {
    fn upload(
        &mut self,
        spec: &BuildSpec,
        runner: &mut dyn CommandRunner,
        log: &BuildLog,
    ) -> Result<(), String> {
        let mut sets = artifact_sets(spec, &self.primary_name);
        if sets.is_empty() {
            return Ok(());
        }
        let scratch = create_scratch()?;
        let result = evaluate_sets(&mut sets, runner, &scratch)
            .and_then(|()| self.upload_all(&sets, &scratch, log));
        let _ = std::fs::remove_dir_all(&scratch);
        result
    }
}
