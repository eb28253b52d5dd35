//! A pod's directories on this machine: one per volume, one per container (its termination
//! message file, its default working directory). Removed when the pod is forgotten.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use super::podspec::{ContainerPlan, RunPlan, VolumePlan};

/// The directories of one really-run pod.
#[derive(Debug)]
pub struct PodWorkspace {
    root: PathBuf,
    volumes: BTreeMap<String, PathBuf>,
}

impl PodWorkspace {
    /// Creates `<base>/<namespace>_<pod>_<uid>/` with the volumes laid out.
    pub fn create(base: &Path, plan: &RunPlan) -> io::Result<PodWorkspace> {
        let root = base.join(format!("{}_{}_{}", plan.namespace, plan.pod, plan.uid));
        std::fs::create_dir_all(root.join("volumes"))?;
        let mut volumes = BTreeMap::new();
        for volume in &plan.volumes {
            let directory = match volume {
                VolumePlan::Host { path, .. } => PathBuf::from(path),
                VolumePlan::Empty { name } | VolumePlan::Files { name, .. } => {
                    root.join("volumes").join(name)
                }
            };
            std::fs::create_dir_all(&directory)?;
            if let VolumePlan::Files { files, .. } = volume {
                for (path, bytes) in files {
                    let file = directory.join(path);
                    if let Some(parent) = file.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::write(file, bytes)?;
                }
            }
            volumes.insert(volume.name().to_owned(), directory);
        }
        let workspace = PodWorkspace { root, volumes };
        for container in plan.init_containers.iter().chain(&plan.containers) {
            std::fs::create_dir_all(workspace.container_dir(&container.name))?;
            let message = workspace.termination_file(&container.name);
            std::fs::write(&message, b"")?;
            // Containers may run as another user in Docker; the file must stay writable.
            set_mode(&message, 0o666)?;
        }
        set_mode(&workspace.root.join("volumes"), 0o777)?;
        for (name, path) in &workspace.volumes {
            if !plan
                .volumes
                .iter()
                .any(|v| v.name() == name && matches!(v, VolumePlan::Host { .. }))
            {
                set_mode(path, 0o777)?;
            }
        }
        Ok(workspace)
    }

    /// The pod's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A volume's directory on this machine.
    pub fn volume(&self, name: &str) -> Option<&Path> {
        self.volumes.get(name).map(PathBuf::as_path)
    }

    /// A container's private directory (default working directory of local runs).
    pub fn container_dir(&self, container: &str) -> PathBuf {
        self.root.join("containers").join(container)
    }

    /// The file that stands in for a container's `terminationMessagePath` when that path is
    /// not inside a volume mount.
    pub fn termination_file(&self, container: &str) -> PathBuf {
        self.container_dir(container).join("termination-log")
    }

    /// `(container path, host path, read only)` per mount of `container`, `subPath` resolved
    /// (a missing subPath is created as a directory, as the kubelet does).
    pub fn mounts(&self, container: &ContainerPlan) -> io::Result<Vec<(String, PathBuf, bool)>> {
        let mut mounts = Vec::new();
        for mount in &container.mounts {
            let Some(volume) = self.volume(&mount.volume) else {
                continue;
            };
            let host = match &mount.sub_path {
                Some(sub) => {
                    let path = volume.join(sub);
                    if !path.exists() {
                        std::fs::create_dir_all(&path)?;
                    }
                    path
                }
                None => volume.to_path_buf(),
            };
            mounts.push((
                mount.mount_path.trim_end_matches('/').to_owned(),
                host,
                mount.read_only,
            ));
        }
        Ok(mounts)
    }

    /// Where the termination message of `container` lands on this machine: inside a mounted
    /// volume when its path is under a mount, else the container's stand-in file.
    pub fn termination_host_path(&self, container: &ContainerPlan) -> io::Result<PathBuf> {
        let mounts = self.mounts(container)?;
        Ok(
            map_into_mounts(&container.termination_message_path, &mounts)
                .unwrap_or_else(|| self.termination_file(&container.name)),
        )
    }
}

/// Maps a container path through the mounts (longest mount path wins).
pub fn map_into_mounts(path: &str, mounts: &[(String, PathBuf, bool)]) -> Option<PathBuf> {
    mounts
        .iter()
        .filter(|(mount, _, _)| {
            path == mount || path.starts_with(&format!("{mount}/")) || mount.is_empty()
        })
        .max_by_key(|(mount, _, _)| mount.len())
        .map(|(mount, host, _)| {
            let rest = path[mount.len()..].trim_start_matches('/');
            if rest.is_empty() {
                host.clone()
            } else {
                host.join(rest)
            }
        })
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

impl Drop for PodWorkspace {
    fn drop(&mut self) {
        // Best effort: a leftover temp dir is harmless, a panic in drop is not.
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
