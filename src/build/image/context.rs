//! The build context: the files under the context directory, minus what `.dockerignore`
//! excludes, as the tar stream the Docker Engine's `/build` endpoint reads.
//!
//! As with `docker build`: entries are relative to the context, owned by `0:0`, with their
//! modes and modification times; symbolic links are stored as links (never followed); the
//! Dockerfile and `.dockerignore` are always sent (the engine needs them; `COPY` still honours
//! the ignore file). A Dockerfile outside the context is added as [`OUTSIDE_DOCKERFILE`].
//! Entries are sorted, so the same tree gives the same stream.
//!
//! The file list is gathered first (unreadable directories fail with the path named), then
//! the tar is written on a separate thread into a bounded channel, so a large context is
//! streamed, never held in memory.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::dockerignore::DockerIgnore;

/// The name a Dockerfile from outside the context gets inside the stream.
pub const OUTSIDE_DOCKERFILE: &str = ".slipway.Dockerfile";

/// Chunks in flight between the tar writer and the request.
const CHANNEL_CHUNKS: usize = 8;

/// A context ready to stream.
#[derive(Clone, Debug)]
pub struct BuildContext {
    /// The context directory.
    pub root: PathBuf,
    /// Relative paths (`/`-separated) of the entries, sorted, directories before their content.
    pub entries: Vec<String>,
    /// The Dockerfile's path inside the stream (the `dockerfile` build parameter).
    pub dockerfile: String,
    /// A Dockerfile outside the context, added under [`OUTSIDE_DOCKERFILE`].
    pub outside_dockerfile: Option<PathBuf>,
}

/// Why a context cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The context directory or a file in it cannot be read.
    #[error("failed to read the build context {path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The Dockerfile does not exist.
    #[error("failed to find the Dockerfile {path}")]
    MissingDockerfile {
        /// Where it was looked for.
        path: PathBuf,
    },
}

impl BuildContext {
    /// Lists the context at `root` with the Dockerfile at `dockerfile` (relative to `root`).
    ///
    /// # Errors
    /// When the directory cannot be walked or the Dockerfile is missing.
    pub fn collect(root: &Path, dockerfile: &str) -> Result<BuildContext, ContextError> {
        let read_error = |path: &Path| {
            let path = path.to_owned();
            move |source| ContextError::Read { path, source }
        };
        let ignore_path = root.join(".dockerignore");
        let ignore = match std::fs::read_to_string(&ignore_path) {
            Ok(text) => DockerIgnore::parse(&text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => DockerIgnore::default(),
            Err(source) => {
                return Err(ContextError::Read {
                    path: ignore_path,
                    source,
                });
            }
        };
        std::fs::metadata(root).map_err(read_error(root))?;
        let dockerfile_path = std::path::absolute(root.join(dockerfile))
            .map_err(read_error(&root.join(dockerfile)))?;
        if !dockerfile_path.is_file() {
            return Err(ContextError::MissingDockerfile {
                path: dockerfile_path,
            });
        }
        let root_absolute = std::path::absolute(root).map_err(read_error(root))?;
        let inside = dockerfile_path
            .strip_prefix(&root_absolute)
            .ok()
            .map(|relative| relative.to_string_lossy().replace('\\', "/"))
            .filter(|relative| !relative.split('/').any(|part| part == ".."));
        let always: Vec<String> = [Some(".dockerignore".to_owned()), inside.clone()]
            .into_iter()
            .flatten()
            .collect();
        let mut entries = Vec::new();
        walk(root, "", &ignore, &always, &mut entries)?;
        Ok(BuildContext {
            root: root.to_owned(),
            entries,
            dockerfile: inside
                .clone()
                .unwrap_or_else(|| OUTSIDE_DOCKERFILE.to_owned()),
            outside_dockerfile: inside.is_none().then_some(dockerfile_path),
        })
    }

    /// Writes the tar of the context to `writer`.
    ///
    /// # Errors
    /// When a file cannot be read or the writer fails.
    pub fn write_tar(&self, writer: impl std::io::Write) -> std::io::Result<()> {
        let mut tar = tar::Builder::new(writer);
        tar.follow_symlinks(false);
        for relative in &self.entries {
            let path = self.root.join(relative);
            let metadata = std::fs::symlink_metadata(&path)?;
            let mut header = tar::Header::new_gnu();
            header.set_metadata_in_mode(&metadata, tar::HeaderMode::Complete);
            header.set_uid(0);
            header.set_gid(0);
            header.set_username("")?;
            header.set_groupname("")?;
            if metadata.file_type().is_symlink() {
                let target = std::fs::read_link(&path)?;
                header.set_size(0);
                tar.append_link(&mut header, relative, target)?;
            } else if metadata.is_dir() {
                header.set_size(0);
                tar.append_data(&mut header, format!("{relative}/"), std::io::empty())?;
            } else if metadata.is_file() {
                let file = std::fs::File::open(&path)?;
                tar.append_data(&mut header, relative, file)?;
            }
        }
        if let Some(outside) = &self.outside_dockerfile {
            let metadata = std::fs::metadata(outside)?;
            let mut header = tar::Header::new_gnu();
            header.set_metadata_in_mode(&metadata, tar::HeaderMode::Complete);
            header.set_uid(0);
            header.set_gid(0);
            tar.append_data(
                &mut header,
                OUTSIDE_DOCKERFILE,
                std::fs::File::open(outside)?,
            )?;
        }
        tar.into_inner()?.flush()
    }

    /// The tar as a stream of chunks (for [`bollard::body_try_stream`]), written by a thread
    /// as the request reads it. A read error ends the stream with that error.
    pub fn into_stream(
        self,
    ) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
        let (sender, receiver) =
            tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(CHANNEL_CHUNKS);
        std::thread::spawn(move || {
            let writer = ChannelWriter {
                sender: sender.clone(),
                buffer: Vec::with_capacity(CHUNK),
            };
            if let Err(error) = self.write_tar(writer) {
                let _ = sender.blocking_send(Err(std::io::Error::new(
                    error.kind(),
                    format!(
                        "failed to send the build context {}: {error}",
                        self.root.display()
                    ),
                )));
            }
        });
        futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|item| (item, receiver))
        })
    }
}

/// The size of one chunk of the stream.
const CHUNK: usize = 64 * 1024;

/// Sends what is written in chunks over a channel.
struct ChannelWriter {
    sender: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    fn send_buffer(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::other("the Docker Engine stopped reading the context"))
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send_buffer()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send_buffer()
    }
}

/// Adds the entries under `directory` (`prefix` is its relative path) that are not excluded.
fn walk(
    directory: &Path,
    prefix: &str,
    ignore: &DockerIgnore,
    always: &[String],
    entries: &mut Vec<String>,
) -> Result<(), ContextError> {
    let read_error = |source| ContextError::Read {
        path: directory.to_owned(),
        source,
    };
    let mut children: Vec<(String, std::fs::FileType)> = Vec::new();
    for entry in std::fs::read_dir(directory).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let file_type = entry.file_type().map_err(read_error)?;
        children.push((entry.file_name().to_string_lossy().into_owned(), file_type));
    }
    children.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, file_type) in children {
        let relative = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let excluded = ignore.is_excluded(&relative) && !always.contains(&relative);
        let leads_to_always = always
            .iter()
            .any(|path| path.starts_with(&format!("{relative}/")));
        if !excluded {
            entries.push(relative.clone());
        }
        if file_type.is_dir() && (!excluded || ignore.has_exceptions() || leads_to_always) {
            walk(&directory.join(&name), &relative, ignore, always, entries)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(label: &str, files: &[(&str, &str)]) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("slipway-context-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        root
    }

    fn names_in_tar(context: &BuildContext) -> Vec<String> {
        let mut bytes = Vec::new();
        context.write_tar(&mut bytes).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                assert_eq!(entry.header().uid().unwrap(), 0);
                entry.path().unwrap().to_string_lossy().into_owned()
            })
            .collect()
    }

    #[test]
    fn dockerignore_leaves_files_out_but_keeps_the_dockerfile_and_itself() {
        let root = tree(
            "ignore",
            &[
                ("Dockerfile", "FROM scratch\n"),
                (
                    ".dockerignore",
                    "Dockerfile\n.dockerignore\n*.log\nsecret\ncache/**\n!cache/keep\n",
                ),
                ("app.txt", "app"),
                ("debug.log", "log"),
                ("secret/key", "k"),
                ("cache/a", "a"),
                ("cache/keep", "b"),
            ],
        );
        let context = BuildContext::collect(&root, "Dockerfile").unwrap();
        assert_eq!(
            names_in_tar(&context),
            [
                ".dockerignore",
                "Dockerfile",
                "app.txt",
                "cache/",
                "cache/keep"
            ]
        );
        assert_eq!(context.dockerfile, "Dockerfile");
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn a_dockerfile_outside_the_context_is_sent_under_its_own_name() {
        let root = tree(
            "outside",
            &[
                ("docker/web.Dockerfile", "FROM scratch\n"),
                ("app/a.txt", "a"),
            ],
        );
        let context = BuildContext::collect(&root.join("app"), "../docker/web.Dockerfile").unwrap();
        assert_eq!(context.dockerfile, OUTSIDE_DOCKERFILE);
        assert_eq!(names_in_tar(&context), ["a.txt", OUTSIDE_DOCKERFILE]);
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn a_missing_dockerfile_is_named() {
        let root = tree("missing", &[("a.txt", "a")]);
        let error = BuildContext::collect(&root, "Containerfile").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("failed to find the Dockerfile ")
                && error.to_string().ends_with("/Containerfile"),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(root);
    }
}
