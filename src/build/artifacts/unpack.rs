//! Unpacking an artifact ZIP into a directory (a build's source), safely.
//!
//! # Guarantees
//! - Every entry lands inside the destination: a name that is absolute, holds `..`, or is not
//!   a plain relative path fails the whole unpack before anything is written.
//! - Links are created last, after every file and directory, so no entry is ever written
//!   through a link the archive itself planted. A link's target is kept as stored (a virtual
//!   environment's `python -> /usr/bin/python3` is legitimate); nothing is written through it.
//! - An entry never replaces an existing one (two entries with one name fail the unpack).
//! - Unix permission bits are restored (`0o755` stays executable; setuid and friends dropped).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

/// Why an archive could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// The file is not a readable ZIP.
    #[error("failed to read the artifact archive {path}: {message}")]
    Archive {
        /// The ZIP file.
        path: String,
        /// Why.
        message: String,
    },
    /// An entry would land outside the destination.
    #[error("failed to unpack the artifact: entry `{name}` would be written outside {destination}")]
    Traversal {
        /// The entry's name.
        name: String,
        /// The destination.
        destination: String,
    },
    /// Writing failed.
    #[error("failed to unpack `{name}` into {destination}: {source}")]
    Write {
        /// The entry.
        name: String,
        /// The destination.
        destination: String,
        /// Why.
        source: std::io::Error,
    },
}

/// What was unpacked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnpackSummary {
    /// Regular files written.
    pub files: usize,
    /// Links created.
    pub symlinks: usize,
}

/// The entry's path below the destination, or `None` when it is not a plain relative path.
fn safe_relative_path(name: &str) -> Option<PathBuf> {
    if name.is_empty() || name.contains('\\') || name.contains('\0') {
        return None;
    }
    let path = Path::new(name);
    let mut relative = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!relative.as_os_str().is_empty()).then_some(relative)
}

/// Unpacks the ZIP at `archive` into `destination` (created when missing).
///
/// # Errors
/// See [`UnpackError`]; on a traversal nothing has been written.
pub fn unpack(archive: &Path, destination: &Path) -> Result<UnpackSummary, UnpackError> {
    let archive_error = |message: String| UnpackError::Archive {
        path: archive.display().to_string(),
        message,
    };
    let file = File::open(archive).map_err(|error| archive_error(error.to_string()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|error| archive_error(error.to_string()))?;
    let destination_text = destination.display().to_string();
    let write_error = |name: &str, source: std::io::Error| UnpackError::Write {
        name: name.to_owned(),
        destination: destination_text.clone(),
        source,
    };
    // Check every name first, so a hostile archive writes nothing.
    let mut plan = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        let entry = zip
            .by_index_raw(index)
            .map_err(|error| archive_error(error.to_string()))?;
        let name = entry
            .name()
            .map_err(|error| archive_error(error.to_string()))?
            .into_owned();
        let Some(relative) = safe_relative_path(&name) else {
            return Err(UnpackError::Traversal {
                name,
                destination: destination_text.clone(),
            });
        };
        plan.push((index, name, relative, entry.is_dir(), entry.is_symlink()));
    }
    std::fs::create_dir_all(destination).map_err(|error| write_error("", error))?;
    let mut summary = UnpackSummary::default();
    let mut links = Vec::new();
    for (index, name, relative, is_dir, is_symlink) in plan {
        let target_path = destination.join(&relative);
        if is_dir {
            std::fs::create_dir_all(&target_path).map_err(|error| write_error(&name, error))?;
            continue;
        }
        if let Some(parent) = target_path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| write_error(&name, error))?;
        }
        let mut entry = zip
            .by_index(index)
            .map_err(|error| archive_error(error.to_string()))?;
        if is_symlink {
            let mut target = String::new();
            entry
                .read_to_string(&mut target)
                .map_err(|error| write_error(&name, error))?;
            links.push((name, target_path, target));
            continue;
        }
        let mode = entry.unix_mode().map_or(0o644, |mode| mode & 0o777);
        let mut output = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&target_path)
            .map_err(|error| write_error(&name, error))?;
        std::io::copy(&mut entry, &mut output).map_err(|error| write_error(&name, error))?;
        output.flush().map_err(|error| write_error(&name, error))?;
        // The umask may have narrowed the mode given at creation.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&target_path, std::fs::Permissions::from_mode(mode))
            .map_err(|error| write_error(&name, error))?;
        summary.files += 1;
    }
    for (name, path, target) in links {
        std::os::unix::fs::symlink(&target, &path).map_err(|error| write_error(&name, error))?;
        summary.symlinks += 1;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::safe_relative_path;

    #[test]
    fn only_plain_relative_names_are_unpacked() {
        let table = [
            ("a.txt", Some("a.txt")),
            ("dir/b.txt", Some("dir/b.txt")),
            ("./dir/c.txt", Some("dir/c.txt")),
            ("../escape.txt", None),
            ("dir/../../escape.txt", None),
            ("/etc/passwd", None),
            ("dir\\..\\x", None),
            ("", None),
            (".", None),
        ];
        for (name, expected) in table {
            assert_eq!(
                safe_relative_path(name),
                expected.map(std::path::PathBuf::from),
                "{name}"
            );
        }
    }
}
