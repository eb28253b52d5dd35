//! A pod's directories on this machine: one per volume, one per container (its termination
//! message file, its default working directory). Removed when the pod is forgotten.
//!
//! # Layout
//! `<root>/pod-<n>/` (`n` counts the pods of this process; the file `pod` in it names the
//! pod), with `volumes/<volume>/` and `containers/<container>/`. The name is short on purpose:
//! a unix socket's path must fit 107 bytes (`sun_path`), and a pod's own socket in an emptyDir
//! (`<root>/pod-<n>/volumes/<volume>/<file>`) must stay connectable — with the namespace, pod
//! name and UID in the path it would not.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::podspec::{ContainerPlan, RunPlan, VolumePlan};

/// The directories of one really-run pod.
#[derive(Debug)]
pub struct PodWorkspace {
    root: PathBuf,
    volumes: BTreeMap<String, PathBuf>,
}

impl PodWorkspace {
    /// Creates `<base>/pod-<n>/` with the volumes laid out.
    pub fn create(base: &Path, plan: &RunPlan) -> io::Result<PodWorkspace> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let root = base.join(format!("pod-{}", NEXT.fetch_add(1, Ordering::Relaxed)));
        // A folder left by a killed earlier process (with this process's id in `base`) goes.
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("volumes"))?;
        std::fs::write(
            root.join("pod"),
            format!("{}/{} {}\n", plan.namespace, plan.pod, plan.uid),
        )?;
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

    /// `(container path, host path)` for each directory above `container`'s mounts that this
    /// machine lacks ([`missing_mount_parents`]): a private directory of the container
    /// (`containers/<name>/root/<path>`) holding a link per mount below it, so a program given
    /// the parent (`/slipway/credentials` above a mount at `/slipway/credentials/image-web`)
    /// finds the mounts in it, as the container runtime's directories would let it.
    pub fn mount_parents(&self, container: &ContainerPlan) -> io::Result<Vec<(String, PathBuf)>> {
        let mounts = self.mounts(container)?;
        let paths: Vec<String> = mounts.iter().map(|(path, _, _)| path.clone()).collect();
        let root = self.container_dir(&container.name).join("root");
        let mut parents = Vec::new();
        for parent in missing_mount_parents(&paths, &|path| Path::new(path).exists()) {
            let host = root.join(parent.trim_start_matches('/'));
            std::fs::create_dir_all(&host)?;
            for (path, volume, _) in &mounts {
                if !path.starts_with(&format!("{parent}/")) {
                    continue;
                }
                let link = root.join(path.trim_start_matches('/'));
                if let Some(directory) = link.parent() {
                    std::fs::create_dir_all(directory)?;
                }
                if std::fs::symlink_metadata(&link).is_err() {
                    std::os::unix::fs::symlink(volume, &link)?;
                }
            }
            parents.push((parent, host));
        }
        Ok(parents)
    }
}

/// The topmost directory above each mount path that `exists` denies, skipping directories at or
/// below another mount (a volume provides those) and directories this machine has (so a mount
/// at `/var/run/x` never hides the machine's `/var/run`). Deduplicated, in mount order.
pub fn missing_mount_parents(mount_paths: &[String], exists: &dyn Fn(&str) -> bool) -> Vec<String> {
    let inside_a_mount = |directory: &str| {
        mount_paths.iter().any(|mount| {
            directory == mount || directory.starts_with(&format!("{mount}/")) || mount.is_empty()
        })
    };
    let mut parents: Vec<String> = Vec::new();
    for mount in mount_paths {
        let ancestors = mount
            .match_indices('/')
            .map(|(index, _)| &mount[..index])
            .filter(|ancestor| !ancestor.is_empty());
        for ancestor in ancestors {
            if inside_a_mount(ancestor) {
                break;
            }
            if exists(ancestor) {
                continue;
            }
            if !parents.iter().any(|parent| parent == ancestor) {
                parents.push(ancestor.to_owned());
            }
            break;
        }
    }
    parents
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

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(paths: &[&str]) -> Vec<String> {
        paths.iter().map(|path| (*path).to_owned()).collect()
    }

    #[test]
    fn only_the_topmost_missing_parent_outside_every_mount_is_listed() {
        let here = ["/var", "/var/run", "/slipway-tools"];
        let exists = |path: &str| here.contains(&path);
        let mounts = paths(&[
            "/slipway/credentials/image-web",
            "/slipway/credentials/git",
            "/slipway/parameters/parameter-store",
            "/var/run/slipway-docker",
            "/workspace",
            "/workspace/src/cache",
            "/slipway-tools",
        ]);
        assert_eq!(
            missing_mount_parents(&mounts, &exists),
            paths(&["/slipway"])
        );
    }

    #[test]
    fn a_parent_this_machine_has_is_passed_for_the_next_one_down() {
        let exists = |path: &str| path == "/opt";
        assert_eq!(
            missing_mount_parents(&paths(&["/opt/app/config"]), &exists),
            paths(&["/opt/app"])
        );
        assert!(missing_mount_parents(&paths(&["/opt/config"]), &exists).is_empty());
    }
}
