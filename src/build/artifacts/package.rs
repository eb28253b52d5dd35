//! Packaging: a selection becomes one ZIP file (CodeBuild's `ZIP` packaging) with a sha256 digest.
//!
//! # Determinism
//! The same files give the same bytes, so the same digest: entries in name order (the
//! selection is sorted), every timestamp fixed at 1980-01-01 00:00:00 (the earliest ZIP time),
//! Unix as the host system, Unix permission bits kept (`0o755` stays executable), no extra
//! fields, deflate at a fixed level. Links kept by `enable-symlinks` are stored as Unix links
//! (`S_IFLNK`, the target as content, uncompressed). Directories get no entries of their own.
//! Files of 4 GiB or more use ZIP64.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::selection::{EntryContent, Selection};

/// The deflate level: fixed, so the bytes do not depend on a library default.
const DEFLATE_LEVEL: i64 = 6;

/// A packaged artifact on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackagedArtifact {
    /// The ZIP file.
    pub path: PathBuf,
    /// `sha256:<hex>` of the ZIP file.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// How many entries it holds.
    pub entries: usize,
}

/// Why packaging failed.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// A selected file could not be read.
    #[error("failed to read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The ZIP could not be written.
    #[error("failed to write the artifact package {path}: {message}")]
    Write {
        /// The ZIP file.
        path: String,
        /// Why.
        message: String,
    },
}

/// Writes `selection` as a ZIP file at `destination` and returns its digest.
///
/// # Errors
/// When a file cannot be read or the ZIP cannot be written.
pub fn package(
    selection: &Selection,
    destination: &Path,
) -> Result<PackagedArtifact, PackageError> {
    let write_error = |message: String| PackageError::Write {
        path: destination.display().to_string(),
        message,
    };
    let file = File::create(destination).map_err(|error| write_error(error.to_string()))?;
    let mut zip = ZipWriter::new(BufWriter::new(file));
    for entry in &selection.entries {
        let options = SimpleFileOptions::default()
            .system(zip::System::Unix)
            .last_modified_time(DateTime::default());
        match &entry.content {
            EntryContent::File { mode } => {
                let read_error = |source| PackageError::Read {
                    path: entry.source.display().to_string(),
                    source,
                };
                let source = File::open(&entry.source).map_err(read_error)?;
                let size = source.metadata().map_err(read_error)?.len();
                let options = options
                    .compression_method(CompressionMethod::Deflated)
                    .compression_level(Some(DEFLATE_LEVEL))
                    .unix_permissions(*mode)
                    .large_file(size >= u64::from(u32::MAX));
                zip.start_file(entry.name.as_str(), options)
                    .map_err(|error| write_error(error.to_string()))?;
                copy(&mut BufReader::new(source), &mut zip).map_err(|error| match error {
                    CopyError::Read(source) => read_error(source),
                    CopyError::Write(error) => write_error(error.to_string()),
                })?;
            }
            EntryContent::Symlink { target } => {
                zip.add_symlink(entry.name.as_str(), target, options.unix_permissions(0o777))
                    .map_err(|error| write_error(error.to_string()))?;
            }
        }
    }
    let mut writer = zip
        .finish()
        .map_err(|error| write_error(error.to_string()))?;
    writer
        .flush()
        .map_err(|error| write_error(error.to_string()))?;
    drop(writer);
    let (digest, size) =
        file_digest(destination).map_err(|error| write_error(error.to_string()))?;
    Ok(PackagedArtifact {
        path: destination.to_path_buf(),
        digest,
        size,
        entries: selection.entries.len(),
    })
}

enum CopyError {
    Read(std::io::Error),
    Write(std::io::Error),
}

fn copy(reader: &mut impl Read, writer: &mut impl Write) -> Result<(), CopyError> {
    let mut buffer = vec![0_u8; 64 * 1024];
    loop {
        let count = reader.read(&mut buffer).map_err(CopyError::Read)?;
        if count == 0 {
            return Ok(());
        }
        writer
            .write_all(&buffer[..count])
            .map_err(CopyError::Write)?;
    }
}

/// `sha256:<hex>` and the size of a file's bytes.
///
/// # Errors
/// When the file cannot be read.
pub fn file_digest(path: &Path) -> std::io::Result<(String, u64)> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0_u8; 64 * 1024];
    let mut size = 0_u64;
    loop {
        let count = reader.read(&mut buffer)?;
        if count == 0 {
            break;
        }
        size += count as u64;
        hasher.update(&buffer[..count]);
    }
    Ok((format!("sha256:{}", hex::encode(hasher.finalize())), size))
}

/// `sha256:<hex>` of `bytes`.
pub fn bytes_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}
