//! Which files go into an artifact, by CodeBuild's rules. Pure over a [`FileTree`].
//!
//! # Rules
//! - `base-directory` (default: the source directory) is relative to the source directory, or
//!   absolute. It may itself be a glob (`dist*`): every matching directory is a base, and its
//!   files are stored relative to it. No match: `no matching base directory path found for …`.
//! - Each `files` entry is relative to the base: `**/*` (everything, recursively), `*` (the
//!   base's own files), `dir/*`, `dir/**/*`, a single file, or a directory (everything under it,
//!   recursively). `*` never crosses a `/`; `**` does. Globs select files and links, never bare
//!   directories, so empty directories are not stored.
//! - An absolute entry (`/tmp/build.json`, `$CODEBUILD_SRC_DIR/reports/*` once expanded) is
//!   matched on the whole file system and stored under its full path without the leading `/`
//!   (`tmp/build.json`) — CodeBuild does the same, which is why such buildspecs set
//!   `discard-paths: yes`. Leading `..` components climb above the base the same way.
//! - `exclude-paths` are globs relative to the base (absolute ones match absolute paths). A
//!   glob without wildcards (`node_modules`) also excludes everything under that directory.
//! - `discard-paths: yes` stores every file under its file name alone; two different files with
//!   the same name are an error (CodeBuild would silently keep one; an artifact that depends on
//!   which one is a bug worth hearing about).
//! - Links: with `enable-symlinks: yes` every link is stored as a link (never followed). Without
//!   it a link to a file is stored as a copy of the file, and a link to a directory or a
//!   dangling link is skipped with a warning (never followed, so link loops cannot hang the
//!   upload).
//! - No file at all: `no matching artifact paths found` (CodeBuild's `CLIENT_ERROR`, the
//!   upload phase fails).
//!
//! The result is sorted by the name inside the archive, so packaging is deterministic.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobMatcher};

use super::tree::{FileTree, Node};
use crate::build::buildspec::ArtifactSet;

/// What one archive entry is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryContent {
    /// A regular file's bytes, read from `source` (links to files are followed).
    File {
        /// Unix permission bits kept in the archive.
        mode: u32,
    },
    /// A symbolic link stored as a link.
    Symlink {
        /// The link's target text.
        target: String,
    },
}

/// One file chosen for the artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectedEntry {
    /// Its name inside the archive (`/`-separated, relative).
    pub name: String,
    /// Where it is on disk.
    pub source: PathBuf,
    /// File or link.
    pub content: EntryContent,
}

/// The chosen files, sorted by name, and what was skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// The entries, sorted by [`SelectedEntry::name`].
    pub entries: Vec<SelectedEntry>,
    /// Things skipped on the way (links not followed).
    pub warnings: Vec<String>,
}

impl Selection {
    /// The archive names, for tests and logs.
    pub fn names(&self) -> Vec<&str> {
        self.entries
            .iter()
            .map(|entry| entry.name.as_str())
            .collect()
    }
}

/// Why no selection could be made.
#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    /// Nothing matched the `files` globs (CodeBuild's wording).
    #[error("no matching artifact paths found")]
    NoMatchingPaths,
    /// The base directory does not exist (CodeBuild's wording).
    #[error("no matching base directory path found for {pattern}")]
    NoMatchingBaseDirectory {
        /// `base-directory` as evaluated.
        pattern: String,
    },
    /// A glob does not parse.
    #[error("invalid glob `{pattern}` in artifacts {field}: {message}")]
    InvalidPattern {
        /// The glob.
        pattern: String,
        /// `files`, `exclude-paths` or `base-directory`.
        field: &'static str,
        /// The parser's message.
        message: String,
    },
    /// Two files would get the same name in the archive.
    #[error(
        "unable to package the artifact: {first} and {second} would both be stored as `{name}`{hint}"
    )]
    Collision {
        /// The shared name.
        name: String,
        /// One file.
        first: String,
        /// The other.
        second: String,
        /// Why (`discard-paths`).
        hint: &'static str,
    },
    /// A directory could not be listed.
    #[error("failed to read the directory {path}: {message}")]
    Read {
        /// The directory.
        path: String,
        /// The reason.
        message: String,
    },
}

/// Chooses the files of `set` (its `files`, `base-directory` and `exclude-paths` already
/// evaluated) under `source_dir`.
///
/// # Errors
/// See [`SelectionError`].
pub fn select_files(
    tree: &dyn FileTree,
    source_dir: &Path,
    set: &ArtifactSet,
) -> Result<Selection, SelectionError> {
    let bases = resolve_bases(tree, source_dir, set.base_directory.as_deref())?;
    let excludes = Excludes::new(&set.exclude_paths)?;
    let mut walker = Walker {
        tree,
        enable_symlinks: set.enable_symlinks,
        found: BTreeMap::new(),
        warnings: Vec::new(),
    };
    for base in &bases {
        for pattern in &set.files {
            let spec = PatternSpec::new(base, pattern)?;
            let mut matched = Vec::new();
            walker.collect(&spec, &mut matched)?;
            for (path, content) in matched {
                if excludes.excludes(&path, base) {
                    continue;
                }
                let name = relative_name(&path, &spec.root);
                walker.found.entry(path).or_insert((name, content));
            }
        }
    }
    let Walker {
        found, warnings, ..
    } = walker;
    if found.is_empty() {
        return Err(SelectionError::NoMatchingPaths);
    }
    let mut by_name: BTreeMap<String, SelectedEntry> = BTreeMap::new();
    for (source, (name, content)) in found {
        let name = if set.discard_paths {
            name.rsplit('/').next().unwrap_or(&name).to_owned()
        } else {
            name
        };
        if let Some(existing) = by_name.get(&name) {
            return Err(SelectionError::Collision {
                name,
                first: existing.source.display().to_string(),
                second: source.display().to_string(),
                hint: if set.discard_paths {
                    " (discard-paths: yes keeps only file names)"
                } else {
                    ""
                },
            });
        }
        by_name.insert(
            name.clone(),
            SelectedEntry {
                name,
                source,
                content,
            },
        );
    }
    Ok(Selection {
        entries: by_name.into_values().collect(),
        warnings,
    })
}

/// `path` without `.` and with `..` applied, lexically.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normal.pop() {
                    normal.push("..");
                }
            }
            other => normal.push(other.as_os_str()),
        }
    }
    normal
}

/// Whether a path component holds glob syntax.
fn has_glob(component: &str) -> bool {
    component.contains(['*', '?', '[', '{'])
}

/// A glob made absolute: the directory names are relative to, and the pattern below it.
#[derive(Debug)]
struct PatternSpec {
    /// Names in the archive are relative to this directory.
    root: PathBuf,
    /// The literal directory where matching starts (`root` plus the glob's literal prefix).
    start: PathBuf,
    /// The glob over paths relative to `root`; `None` for a literal path (`start` itself).
    matcher: Option<GlobMatcher>,
    /// How deep below `start` the glob can reach (`None`: any depth).
    depth: Option<usize>,
}

impl PatternSpec {
    fn new(base: &Path, pattern: &str) -> Result<PatternSpec, SelectionError> {
        let (root, components) = split_pattern(base, pattern);
        let literal = components.iter().take_while(|c| !has_glob(c)).count();
        let mut start = root.clone();
        start.extend(&components[..literal]);
        let glob_part = &components[literal..];
        if glob_part.is_empty() {
            return Ok(PatternSpec {
                root,
                start,
                matcher: None,
                depth: Some(0),
            });
        }
        let depth = if glob_part.iter().any(|c| c.contains("**")) {
            None
        } else {
            Some(glob_part.len())
        };
        let text = components.join("/");
        let matcher = glob(&text, "files", pattern)?.compile_matcher();
        Ok(PatternSpec {
            root,
            start,
            matcher: Some(matcher),
            depth,
        })
    }
}

/// The directory a pattern is relative to and its normalized components.
fn split_pattern(base: &Path, pattern: &str) -> (PathBuf, Vec<String>) {
    let trimmed = pattern.trim();
    let (mut root, rest) = match trimmed.strip_prefix('/') {
        Some(rest) => (PathBuf::from("/"), rest),
        None => (base.to_path_buf(), trimmed),
    };
    let mut components: Vec<String> = Vec::new();
    for part in rest.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if components.pop().is_none() {
                    root = normalize(&root.join(".."));
                }
            }
            other => components.push(other.to_owned()),
        }
    }
    (root, components)
}

fn glob(text: &str, field: &'static str, original: &str) -> Result<Glob, SelectionError> {
    GlobBuilder::new(text)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|error| SelectionError::InvalidPattern {
            pattern: original.to_owned(),
            field,
            message: error.kind().to_string(),
        })
}

/// `path` relative to `root`, `/`-separated.
fn relative_name(path: &Path, root: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .components()
        .filter_map(|component| match component {
            Component::Normal(name) => name.to_str(),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The base directories `base-directory` names (the source directory when absent).
fn resolve_bases(
    tree: &dyn FileTree,
    source_dir: &Path,
    base: Option<&str>,
) -> Result<Vec<PathBuf>, SelectionError> {
    let Some(pattern) = base.map(str::trim).filter(|b| !b.is_empty()) else {
        return Ok(vec![source_dir.to_path_buf()]);
    };
    let no_match = || SelectionError::NoMatchingBaseDirectory {
        pattern: pattern.to_owned(),
    };
    let (root, components) = split_pattern(source_dir, pattern);
    if !components.iter().any(|c| has_glob(c)) {
        let mut path = root;
        path.extend(&components);
        return match tree.resolved_node(&path) {
            Some(Node::Directory) => Ok(vec![path]),
            _ => Err(no_match()),
        };
    }
    let spec = PatternSpec::new(source_dir, pattern).map_err(|error| match error {
        SelectionError::InvalidPattern {
            pattern, message, ..
        } => SelectionError::InvalidPattern {
            pattern,
            field: "base-directory",
            message,
        },
        other => other,
    })?;
    let mut directories = Vec::new();
    let mut stack = vec![(spec.start.clone(), 0_usize)];
    while let Some((directory, depth)) = stack.pop() {
        if spec.depth.is_some_and(|limit| depth >= limit) {
            continue;
        }
        for name in list(tree, &directory)? {
            let path = directory.join(&name);
            if tree.node(&path) != Some(Node::Directory) {
                continue;
            }
            let relative = relative_name(&path, &spec.root);
            if spec.matcher.as_ref().is_some_and(|m| m.is_match(&relative)) {
                directories.push(path.clone());
            }
            stack.push((path, depth + 1));
        }
    }
    directories.sort();
    if directories.is_empty() {
        return Err(no_match());
    }
    Ok(directories)
}

fn list(tree: &dyn FileTree, directory: &Path) -> Result<Vec<String>, SelectionError> {
    let mut names = tree
        .children(directory)
        .map_err(|error| SelectionError::Read {
            path: directory.display().to_string(),
            message: error.to_string(),
        })?;
    names.sort();
    Ok(names)
}

/// `exclude-paths`, compiled.
struct Excludes {
    relative: Vec<GlobMatcher>,
    absolute: Vec<GlobMatcher>,
}

impl Excludes {
    fn new(patterns: &[String]) -> Result<Excludes, SelectionError> {
        let mut excludes = Excludes {
            relative: Vec::new(),
            absolute: Vec::new(),
        };
        for pattern in patterns {
            let trimmed = pattern.trim();
            let absolute = trimmed.starts_with('/');
            let body = trimmed.trim_start_matches("./").trim_end_matches('/');
            if body.is_empty() {
                continue;
            }
            let mut texts = vec![body.to_owned()];
            if !has_glob(body) {
                texts.push(format!("{body}/**"));
            }
            for text in texts {
                let matcher = glob(&text, "exclude-paths", pattern)?.compile_matcher();
                if absolute {
                    excludes.absolute.push(matcher);
                } else {
                    excludes.relative.push(matcher);
                }
            }
        }
        Ok(excludes)
    }

    fn excludes(&self, path: &Path, base: &Path) -> bool {
        if let Ok(relative) = path.strip_prefix(base) {
            let relative = relative_name(relative, Path::new(""));
            if self.relative.iter().any(|m| m.is_match(&relative)) {
                return true;
            }
        }
        self.absolute.iter().any(|m| m.is_match(path))
    }
}

/// Walks the tree for one pattern at a time, remembering what it found.
struct Walker<'a> {
    tree: &'a dyn FileTree,
    enable_symlinks: bool,
    /// Source path → (name in the archive, content); the first pattern to find a file names it.
    found: BTreeMap<PathBuf, (String, EntryContent)>,
    warnings: Vec<String>,
}

impl Walker<'_> {
    /// Adds the files `spec` matches to `matched`.
    fn collect(
        &mut self,
        spec: &PatternSpec,
        matched: &mut Vec<(PathBuf, EntryContent)>,
    ) -> Result<(), SelectionError> {
        let Some(matcher) = &spec.matcher else {
            // A literal path: a file, a link, or a directory taken whole.
            match self.tree.node(&spec.start) {
                Some(Node::Directory) => self.walk_all(&spec.start, matched)?,
                Some(node) => self.take(&spec.start, node, matched),
                None => {}
            }
            return Ok(());
        };
        if self.tree.resolved_node(&spec.start) != Some(Node::Directory) {
            return Ok(());
        }
        let mut stack = vec![(spec.start.clone(), 0_usize)];
        while let Some((directory, depth)) = stack.pop() {
            for name in list(self.tree, &directory)? {
                let path = directory.join(&name);
                let Some(node) = self.tree.node(&path) else {
                    continue;
                };
                if node == Node::Directory {
                    if spec.depth.is_none_or(|limit| depth + 1 < limit) {
                        stack.push((path, depth + 1));
                    }
                } else if matcher.is_match(relative_name(&path, &spec.root)) {
                    self.take(&path, node, matched);
                }
            }
        }
        Ok(())
    }

    /// Every file under `directory`.
    fn walk_all(
        &mut self,
        directory: &Path,
        matched: &mut Vec<(PathBuf, EntryContent)>,
    ) -> Result<(), SelectionError> {
        for name in list(self.tree, directory)? {
            let path = directory.join(&name);
            match self.tree.node(&path) {
                Some(Node::Directory) => self.walk_all(&path, matched)?,
                Some(node) => self.take(&path, node, matched),
                None => {}
            }
        }
        Ok(())
    }

    /// Takes a file or a link by the symlink rules.
    fn take(&mut self, path: &Path, node: Node, matched: &mut Vec<(PathBuf, EntryContent)>) {
        match node {
            Node::File { mode } => matched.push((path.to_path_buf(), EntryContent::File { mode })),
            Node::Directory => {}
            Node::Symlink { target } if self.enable_symlinks => matched.push((
                path.to_path_buf(),
                EntryContent::Symlink {
                    target: target.to_string_lossy().into_owned(),
                },
            )),
            Node::Symlink { .. } => match self.tree.resolved_node(path) {
                Some(Node::File { mode }) => {
                    matched.push((path.to_path_buf(), EntryContent::File { mode }));
                }
                Some(_) => self.warn(format!(
                    "symbolic link {} points to a directory and is not followed (set enable-symlinks: yes to keep it as a link)",
                    path.display()
                )),
                None => self.warn(format!(
                    "symbolic link {} points to nothing and is skipped",
                    path.display()
                )),
            },
        }
    }

    fn warn(&mut self, warning: String) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }
}
