//! Runs a pod's containers as local processes.
//!
//! # Path mapping
//! A local process sees this machine's file system, so container paths are mapped onto the
//! pod's workspace: each volume mount path → the volume's temp dir (`subPath` included), and a
//! `terminationMessagePath` outside every mount (by default `/dev/termination-log`) → a
//! per-container temp file. The mapping is applied to `workingDir` and, wherever a mapped path
//! appears as a whole path (at a word boundary, or right after a URL's `://`), inside `command`,
//! `args` and env values — so `sh -c 'echo done > /dev/termination-log'` writes the stand-in
//! file, never `/dev`, and `DOCKER_HOST=unix:///var/run/d/docker.sock` names the socket in the
//! volume mounted at `/var/run/d`. Paths outside every mount are used as they are on this
//! machine.
//!
//! A directory above mounts that this machine lacks (`/slipway/credentials` above a mount at
//! `/slipway/credentials/image-web`) maps to a private directory of the container with a link
//! per mount below it, so a program handed the parent finds the mounts in it (in a container
//! the runtime creates those directories). Directories this machine has stay the machine's: a
//! mount at `/var/run/x` does not hide `/var/run/docker.sock`.
//!
//! # Caveats
//! The image is ignored: `command` must name a program on this machine (`PATH` is the host's).
//! The environment holds only `PATH`, `HOSTNAME`, `HOME` (the container's temp dir) and the
//! pod's variables. A `workingDir` outside every mount that does not exist is created under
//! the container's temp dir. Each container runs in its own process group, killed as a whole
//! when the pod is deleted.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use super::kubelet::ContainerRun;
use super::podspec::ContainerPlan;
use super::runner::{RunContext, now};
use super::workspace::PodWorkspace;

/// Characters that may surround a path inside a shell command or an env value.
const PATH_DELIMITERS: &[char] = &[
    ' ', '\t', '\n', '\'', '"', '=', ':', ';', '&', '|', '<', '>', '(', ')', ',', '`',
];

/// Container paths mapped to paths on this machine (longest container path first).
#[derive(Debug, Clone, PartialEq)]
pub struct PathMap {
    entries: Vec<(String, PathBuf)>,
}

impl PathMap {
    /// The mapping for `container`: its mounts and its termination message path.
    pub fn for_container(
        workspace: &PodWorkspace,
        container: &ContainerPlan,
    ) -> std::io::Result<PathMap> {
        let mut entries: Vec<(String, PathBuf)> = workspace
            .mounts(container)?
            .into_iter()
            .map(|(path, host, _)| (path, host))
            .collect();
        entries.extend(workspace.mount_parents(container)?);
        entries.push((
            container.termination_message_path.clone(),
            workspace.termination_host_path(container)?,
        ));
        Ok(PathMap::new(entries))
    }

    /// A mapping from explicit entries.
    pub fn new(mut entries: Vec<(String, PathBuf)>) -> PathMap {
        entries.retain(|(path, _)| path.starts_with('/') && path.len() > 1);
        entries.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
        PathMap { entries }
    }

    /// A container path on this machine, if it lies under a mapped path.
    pub fn map(&self, path: &str) -> Option<PathBuf> {
        self.entries.iter().find_map(|(from, to)| {
            let rest = path.strip_prefix(from.as_str())?;
            if rest.is_empty() {
                Some(to.clone())
            } else {
                rest.strip_prefix('/').map(|r| to.join(r))
            }
        })
    }

    /// Replaces mapped paths that appear as whole paths inside `text`.
    pub fn rewrite(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut index = 0;
        'scan: while index < text.len() {
            let at_boundary = index == 0
                || text[..index].ends_with(PATH_DELIMITERS)
                || text[..index].ends_with("://");
            if at_boundary {
                for (from, to) in &self.entries {
                    if let Some(after) = text[index..].strip_prefix(from.as_str())
                        && (after.is_empty()
                            || after.starts_with('/')
                            || after.starts_with(PATH_DELIMITERS))
                    {
                        out.push_str(&to.to_string_lossy());
                        index += from.len();
                        continue 'scan;
                    }
                }
            }
            let next = text[index..]
                .chars()
                .next()
                .map(char::len_utf8)
                .unwrap_or(1);
            out.push_str(&text[index..index + next]);
            index += next;
        }
        out
    }
}

/// Runs the pod's init containers one after the other (stopping at the first that fails or is
/// cancelled), then every container concurrently, reporting Running and Terminated states.
pub async fn run_local(context: RunContext) {
    for init in &context.plan.init_containers {
        if run_container(&context, init).await != Some(0) {
            return;
        }
    }
    let runs = context
        .plan
        .containers
        .iter()
        .map(|container| run_container(&context, container));
    futures::future::join_all(runs).await;
}

/// Runs one container; its exit code, or `None` when the run was cancelled.
async fn run_container(context: &RunContext, container: &ContainerPlan) -> Option<i32> {
    let started = now();
    let start_error = |message: String| ContainerRun::Terminated {
        exit_code: 128,
        reason: "StartError".into(),
        message,
        started_at: started,
        finished_at: now(),
    };
    let paths = match PathMap::for_container(&context.workspace, container) {
        Ok(paths) => paths,
        Err(error) => {
            context.report(
                &container.name,
                start_error(format!("failed to prepare mounts: {error}")),
            );
            return Some(128);
        }
    };
    let mut argv: Vec<String> = container
        .command
        .iter()
        .chain(&container.args)
        .map(|a| paths.rewrite(a))
        .collect();
    if container.command.is_empty() {
        let message = "a local run needs spec.containers[].command: the image's entrypoint is unknown outside Docker";
        context.report(&container.name, start_error(message.into()));
        return Some(128);
    }
    let program = argv.remove(0);
    let working_dir = match &container.working_dir {
        Some(dir) => paths.map(dir).unwrap_or_else(|| {
            let host = PathBuf::from(dir);
            if host.is_dir() {
                host
            } else {
                context
                    .workspace
                    .container_dir(&container.name)
                    .join(dir.trim_start_matches('/'))
            }
        }),
        None => context.workspace.container_dir(&container.name),
    };
    if let Err(error) = std::fs::create_dir_all(&working_dir) {
        context.report(
            &container.name,
            start_error(format!("failed to create working directory: {error}")),
        );
        return Some(128);
    }
    let mut command = Command::new(&program);
    command
        .args(&argv)
        .current_dir(&working_dir)
        .env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into()),
        )
        .env("HOSTNAME", &context.plan.pod)
        .env("HOME", context.workspace.container_dir(&container.name))
        .envs(container.env.iter().map(|(k, v)| (k, paths.rewrite(v))))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            let message = format!("failed to start {program:?}: {error}");
            context.report(&container.name, start_error(message));
            return Some(128);
        }
    };
    context.report(
        &container.name,
        ContainerRun::Running {
            started_at: started,
        },
    );
    let process_group = child.id();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let output = async {
        tokio::join!(
            copy_to_log(context, &container.name, stdout),
            copy_to_log(context, &container.name, stderr)
        );
    };
    let finished = async {
        let (status, ()) = tokio::join!(child.wait(), output);
        status
    };
    let status = tokio::select! {
        status = finished => status,
        () = context.cancelled() => {
            // The pod is gone: stop the whole process group, report nothing.
            if let Some(group) = process_group {
                let _ = std::process::Command::new("kill").args(["-KILL", "--", &format!("-{group}")]).status();
            }
            return None;
        }
    };
    let exit_code = match status {
        Ok(status) => {
            use std::os::unix::process::ExitStatusExt;
            status
                .code()
                .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
        }
        Err(error) => {
            context.log(
                &container.name,
                &format!("unable to wait for the process: {error}\n"),
            );
            128
        }
    };
    let file = paths
        .map(&container.termination_message_path)
        .unwrap_or_else(|| context.workspace.termination_file(&container.name));
    let content = tokio::fs::read(&file).await.unwrap_or_default();
    let message = context.termination_message(container, content, exit_code);
    context.report(
        &container.name,
        ContainerRun::exited(exit_code, message, started, now()),
    );
    Some(exit_code)
}

/// Copies a pipe into the container's log as output arrives.
async fn copy_to_log(context: &RunContext, container: &str, pipe: Option<impl AsyncRead + Unpin>) {
    let Some(mut pipe) = pipe else { return };
    let mut buffer = vec![0u8; 8192];
    let mut pending = Vec::new();
    loop {
        match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                pending.extend_from_slice(&buffer[..n]);
                // Hand over whole UTF-8 sequences only; keep a split character for the next read.
                let valid = match std::str::from_utf8(&pending) {
                    Ok(_) => pending.len(),
                    Err(error) if error.error_len().is_none() => error.valid_up_to(),
                    Err(_) => pending.len(),
                };
                let text = String::from_utf8_lossy(&pending[..valid]).into_owned();
                context.log(container, &text);
                pending.drain(..valid);
            }
        }
    }
    if !pending.is_empty() {
        context.log(container, &String::from_utf8_lossy(&pending));
    }
}

#[cfg(test)]
#[path = "runner_local_tests.rs"]
mod tests;
