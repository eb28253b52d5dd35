//! The file tree the selection walks: the real disk ([`DiskTree`]) or, in tests, a tree held in
//! memory ([`MemoryTree`]), so the selection rules are tested without touching the disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One entry of the tree, as `lstat` sees it (a link is not followed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A regular file with its Unix mode bits (`0o755`).
    File {
        /// Permission bits.
        mode: u32,
    },
    /// A directory.
    Directory,
    /// A symbolic link and the text it points to.
    Symlink {
        /// The link's target as stored in the link.
        target: PathBuf,
    },
}

/// Read access to a file tree by absolute paths.
pub trait FileTree {
    /// The entry at `path` without following a final link; `None` when there is none.
    fn node(&self, path: &Path) -> Option<Node>;

    /// The entry at `path` with links followed; `None` when there is none (or a link dangles).
    fn resolved_node(&self, path: &Path) -> Option<Node>;

    /// The names of `directory`'s children (any order).
    ///
    /// # Errors
    /// When the directory cannot be read.
    fn children(&self, directory: &Path) -> std::io::Result<Vec<String>>;
}

/// The real file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiskTree;

fn node_of(metadata: &std::fs::Metadata, path: &Path) -> Option<Node> {
    use std::os::unix::fs::PermissionsExt;
    let kind = metadata.file_type();
    if kind.is_symlink() {
        let target = std::fs::read_link(path).ok()?;
        Some(Node::Symlink { target })
    } else if kind.is_dir() {
        Some(Node::Directory)
    } else if kind.is_file() {
        Some(Node::File {
            mode: metadata.permissions().mode() & 0o7777,
        })
    } else {
        // Sockets, fifos and devices are not artifact content.
        None
    }
}

impl FileTree for DiskTree {
    fn node(&self, path: &Path) -> Option<Node> {
        let metadata = std::fs::symlink_metadata(path).ok()?;
        node_of(&metadata, path)
    }

    fn resolved_node(&self, path: &Path) -> Option<Node> {
        let metadata = std::fs::metadata(path).ok()?;
        node_of(&metadata, path)
    }

    fn children(&self, directory: &Path) -> std::io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(directory)? {
            let entry = entry?;
            match entry.file_name().into_string() {
                Ok(name) => names.push(name),
                Err(name) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "unable to store {}: the name is not UTF-8",
                            directory.join(name).display()
                        ),
                    ));
                }
            }
        }
        Ok(names)
    }
}

/// A tree held in memory: absolute paths to nodes; parents are implied directories.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    nodes: BTreeMap<PathBuf, Node>,
}

impl MemoryTree {
    /// An empty tree (only `/`).
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// Adds a regular file (mode `0o644`) and its parent directories.
    pub fn file(mut self, path: &str) -> MemoryTree {
        self.insert(path, Node::File { mode: 0o644 });
        self
    }

    /// Adds a regular file with `mode`.
    pub fn file_with_mode(mut self, path: &str, mode: u32) -> MemoryTree {
        self.insert(path, Node::File { mode });
        self
    }

    /// Adds an (empty) directory.
    pub fn directory(mut self, path: &str) -> MemoryTree {
        self.insert(path, Node::Directory);
        self
    }

    /// Adds a symbolic link to `target`.
    pub fn symlink(mut self, path: &str, target: &str) -> MemoryTree {
        self.insert(
            path,
            Node::Symlink {
                target: PathBuf::from(target),
            },
        );
        self
    }

    fn insert(&mut self, path: &str, node: Node) {
        let path = PathBuf::from(path);
        for ancestor in path.ancestors().skip(1) {
            self.nodes
                .entry(ancestor.to_path_buf())
                .or_insert(Node::Directory);
        }
        self.nodes.insert(path, node);
    }

    fn resolve(&self, path: &Path, hops: usize) -> Option<Node> {
        match self.node(path)? {
            Node::Symlink { target } if hops < 40 => {
                let parent = path.parent().unwrap_or(Path::new("/"));
                let next = super::selection::normalize(&parent.join(target));
                self.resolve(&next, hops + 1)
            }
            Node::Symlink { .. } => None,
            other => Some(other),
        }
    }
}

impl FileTree for MemoryTree {
    fn node(&self, path: &Path) -> Option<Node> {
        if path == Path::new("/") {
            return Some(Node::Directory);
        }
        self.nodes.get(path).cloned()
    }

    fn resolved_node(&self, path: &Path) -> Option<Node> {
        self.resolve(path, 0)
    }

    fn children(&self, directory: &Path) -> std::io::Result<Vec<String>> {
        Ok(self
            .nodes
            .keys()
            .filter(|path| path.parent() == Some(directory))
            .filter_map(|path| path.file_name()?.to_str().map(str::to_owned))
            .collect())
    }
}
