//! `slipway build --local --image IMAGE`: the same executor, run inside a container of IMAGE
//! through the Docker Engine (bollard), as in a build pod.
//!
//! # How the executor gets into the image
//! This binary is bind-mounted read-only at [`TOOLS_DIR`]`/slipway`. A release binary is static
//! and runs as it is. A dynamically linked one (a development build) also gets its ELF
//! interpreter and the libraries `ldd` names, mounted read-only under [`TOOLS_DIR`]`/lib`, and
//! is started through that interpreter with `--library-path` — so it runs in a `FROM scratch`
//! busybox image, and the image's own libraries (if any) are never replaced.
//!
//! # The container
//! The source directory is mounted read-write at [`SOURCE_DIR`] (the build writes into it, as a
//! host build does), the buildspec read-only at `/slipway/buildspec/<file>`, the
//! parameter-store/secrets-manager directories read-only, and a result directory the executor
//! writes `result.json` into. `--env K=V` become the container's environment and beat the
//! buildspec's, as on the host. The container uses the host network (loopback services are
//! reachable, as in a host build) and is removed afterwards. The image must be in the engine
//! or pullable anonymously. Output streams as it comes; the exit code and phase table come from
//! the executor's result, as without `--image`.

use std::path::{Path, PathBuf};

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptions, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use futures::StreamExt;

use crate::build::executor::BuildResult;
use crate::build::image::docker::connect;
use crate::build::image::error::docker_message;

/// Where the executor and its libraries are mounted.
pub const TOOLS_DIR: &str = "/slipway-tools";

/// Where the source directory is mounted.
pub const SOURCE_DIR: &str = "/workspace/src";

/// Where the result directory is mounted.
const RESULT_DIR: &str = "/slipway/result";

/// How the binary is linked, from `ldd`'s output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Linking {
    /// A static binary: nothing else is needed.
    Static,
    /// A dynamic binary: its interpreter and libraries.
    Dynamic {
        /// The ELF interpreter (`/lib64/ld-linux-x86-64.so.2`).
        interpreter: PathBuf,
        /// The shared libraries it loads.
        libraries: Vec<PathBuf>,
    },
}

/// Why `ldd`'s answer cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LinkingError {
    /// A library is missing on this machine.
    #[error("failed to find the library {0} this binary needs")]
    NotFound(String),
    /// A dynamic binary without an interpreter line.
    #[error("failed to find the ELF interpreter in ldd's output")]
    NoInterpreter,
}

/// Reads `ldd`'s output (`statically linked`, `not a dynamic executable`, or library lines).
///
/// # Errors
/// When a library is `not found`, or a dynamic binary shows no interpreter.
pub fn parse_ldd(output: &str) -> Result<Linking, LinkingError> {
    let mut interpreter = None;
    let mut libraries = Vec::new();
    for line in output
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
    {
        if line.contains("statically linked") || line.contains("not a dynamic executable") {
            return Ok(Linking::Static);
        }
        if let Some((name, target)) = line.split_once("=>") {
            let target = target.trim();
            if target.starts_with("not found") {
                return Err(LinkingError::NotFound(name.trim().to_owned()));
            }
            if let Some(path) = target
                .split_whitespace()
                .next()
                .filter(|p| p.starts_with('/'))
            {
                libraries.push(PathBuf::from(path));
            }
        } else if let Some(path) = line
            .split_whitespace()
            .next()
            .filter(|p| p.starts_with('/'))
        {
            interpreter = Some(PathBuf::from(path));
        }
        // Anything else (`linux-vdso.so.1 (0x…)`) is provided by the kernel.
    }
    match interpreter {
        Some(interpreter) => Ok(Linking::Dynamic {
            interpreter,
            libraries,
        }),
        None if libraries.is_empty() => Ok(Linking::Static),
        None => Err(LinkingError::NoInterpreter),
    }
}

/// The read-only binds that bring `binary` into a container, and the command prefix that
/// starts it there.
pub fn executor_mounts(binary: &Path, linking: &Linking) -> (Vec<String>, Vec<String>) {
    let inside = format!("{TOOLS_DIR}/slipway");
    let mut binds = vec![format!("{}:{inside}:ro", binary.display())];
    match linking {
        Linking::Static => (binds, vec![inside]),
        Linking::Dynamic {
            interpreter,
            libraries,
        } => {
            let library_dir = format!("{TOOLS_DIR}/lib");
            let in_library_dir = |path: &Path| {
                let name = path
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned());
                format!("{library_dir}/{}", name.unwrap_or_default())
            };
            // Sources are resolved: a bind of a symbolic link would mount its target anyway.
            let resolved = |path: &Path| std::fs::canonicalize(path).unwrap_or(path.to_owned());
            let interpreter_inside = in_library_dir(interpreter);
            binds.push(format!(
                "{}:{interpreter_inside}:ro",
                resolved(interpreter).display()
            ));
            for library in libraries {
                let target = in_library_dir(library);
                if target != interpreter_inside {
                    binds.push(format!("{}:{target}:ro", resolved(library).display()));
                }
            }
            (
                binds,
                vec![
                    interpreter_inside,
                    "--library-path".to_owned(),
                    library_dir,
                    inside,
                ],
            )
        }
    }
}

/// How `binary` is linked, asking `ldd`.
///
/// # Errors
/// When `ldd` cannot run on a dynamic binary or names a missing library.
pub fn linking_of(binary: &Path) -> anyhow::Result<Linking> {
    let output = std::process::Command::new("ldd").arg(binary).output();
    match output {
        Ok(output) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            Ok(parse_ldd(&text)?)
        }
        // No ldd (a static release image): the binary is static.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Linking::Static),
        Err(error) => Err(anyhow::anyhow!(
            "failed to run ldd on {}: {error}",
            binary.display()
        )),
    }
}

/// A local build to run inside a container.
#[derive(Clone, Debug)]
pub struct ContainerBuild {
    /// The image to run in.
    pub image: String,
    /// The source directory on this machine.
    pub source: PathBuf,
    /// The buildspec file on this machine.
    pub buildspec: PathBuf,
    /// `--env` pairs.
    pub env: Vec<(String, String)>,
    /// `--shell`, if given.
    pub shell: Option<String>,
    /// `--parameter-store-dir`, if given.
    pub parameter_store_dir: Option<PathBuf>,
    /// `--secrets-manager-dir`, if given.
    pub secrets_manager_dir: Option<PathBuf>,
    /// Who started it (`CODEBUILD_INITIATOR`).
    pub initiator: Option<String>,
    /// The daemon (`DOCKER_HOST`; `None`: the local socket).
    pub docker_host: Option<String>,
}

/// Runs `build` in a container, streaming its output to `output`; returns the executor's result
/// (or `None` when it wrote none) and the container's exit code.
///
/// # Errors
/// When the engine cannot be reached, the image is missing, or the container cannot start.
pub async fn run_in_container(
    build: &ContainerBuild,
    output: &mut dyn std::io::Write,
) -> anyhow::Result<(Option<BuildResult>, i64)> {
    let docker = connect(
        build.docker_host.as_deref(),
        std::time::Duration::ZERO,
        &|_| {},
    )
    .await?;
    ensure_image(&docker, &build.image).await?;
    let binary = std::env::current_exe()?;
    let linking = linking_of(&binary)?;
    let (mut binds, mut command) = executor_mounts(&binary, &linking);
    let result_dir = std::env::temp_dir().join(format!(
        "slipway-local-result-{}",
        crate::build::executor::environment::random_uuid()
    ));
    std::fs::create_dir_all(&result_dir)?;
    let buildspec_name = build.buildspec.file_name().map_or_else(
        || "buildspec.yml".into(),
        |name| name.to_string_lossy().into_owned(),
    );
    let buildspec_inside = format!("/slipway/buildspec/{buildspec_name}");
    binds.push(format!("{}:{SOURCE_DIR}", build.source.display()));
    binds.push(format!(
        "{}:{buildspec_inside}:ro",
        build.buildspec.display()
    ));
    binds.push(format!("{}:{RESULT_DIR}", result_dir.display()));
    command.extend(
        [
            "executor",
            "run",
            "--source",
            SOURCE_DIR,
            "--buildspec",
            &buildspec_inside,
            "--project",
            "local",
            "--termination-message-path",
            "-",
            "--result-file",
            &format!("{RESULT_DIR}/result.json"),
            "--image",
            &build.image,
        ]
        .map(str::to_owned),
    );
    if let Some(shell) = &build.shell {
        command.extend(["--shell".to_owned(), shell.clone()]);
    }
    for (flag, directory, inside) in [
        (
            "--parameter-store-dir",
            &build.parameter_store_dir,
            "/slipway/parameter-store",
        ),
        (
            "--secrets-manager-dir",
            &build.secrets_manager_dir,
            "/slipway/secrets-manager",
        ),
    ] {
        if let Some(directory) = directory {
            binds.push(format!("{}:{inside}:ro", directory.display()));
            command.extend([flag.to_owned(), inside.to_owned()]);
        }
    }
    let mut env: Vec<String> = build.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let names: Vec<&str> = build.env.iter().map(|(name, _)| name.as_str()).collect();
    env.push(format!("SLIPWAY_EXECUTOR_PROJECT_ENV={}", names.join(",")));
    if let Some(initiator) = &build.initiator {
        env.push(format!("SLIPWAY_EXECUTOR_INITIATOR={initiator}"));
    }
    let body = ContainerCreateBody {
        image: Some(build.image.clone()),
        entrypoint: Some(command),
        cmd: Some(Vec::new()),
        env: Some(env),
        working_dir: Some(SOURCE_DIR.to_owned()),
        labels: Some([("dev.slipway.local-build".to_owned(), "true".to_owned())].into()),
        host_config: Some(HostConfig {
            binds: Some(binds),
            network_mode: Some("host".into()),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    let name = format!(
        "slipway-local-build-{}",
        crate::build::executor::environment::random_uuid()
    );
    let options = CreateContainerOptionsBuilder::default().name(&name).build();
    let remove = RemoveContainerOptionsBuilder::default().force(true).build();
    docker
        .create_container(Some(options), body)
        .await
        .map_err(|error| {
            anyhow::anyhow!(
                "failed to create the build container: {}",
                docker_message(&error)
            )
        })?;
    let outcome = follow(&docker, &name, output).await;
    let _ = docker.remove_container(&name, Some(remove)).await;
    let exit_code = outcome?;
    let result = std::fs::read_to_string(result_dir.join("result.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    let _ = std::fs::remove_dir_all(&result_dir);
    Ok((result, exit_code))
}

/// Starts the container, copies its output, and returns its exit code.
async fn follow(
    docker: &Docker,
    name: &str,
    output: &mut dyn std::io::Write,
) -> anyhow::Result<i64> {
    docker.start_container(name, None).await.map_err(|error| {
        anyhow::anyhow!(
            "failed to start the build container: {}",
            docker_message(&error)
        )
    })?;
    let options = LogsOptionsBuilder::default()
        .follow(true)
        .stdout(true)
        .stderr(true)
        .build();
    let mut logs = docker.logs(name, Some(options));
    while let Some(Ok(item)) = logs.next().await {
        if let LogOutput::StdOut { message }
        | LogOutput::StdErr { message }
        | LogOutput::Console { message } = item
        {
            output.write_all(&message)?;
            output.flush()?;
        }
    }
    let options = WaitContainerOptionsBuilder::default()
        .condition("not-running")
        .build();
    let mut wait = docker.wait_container(name, Some(options));
    Ok(match wait.next().await {
        Some(Ok(response)) => response.status_code,
        // bollard reports a non-zero exit as an error carrying the code.
        Some(Err(DockerError::DockerContainerWaitError { code, .. })) => code,
        Some(Err(error)) => anyhow::bail!(
            "failed to wait for the build container: {}",
            docker_message(&error)
        ),
        None => anyhow::bail!("failed to wait for the build container: no answer"),
    })
}

/// Makes sure `image` is in the engine, pulling it (anonymously) when it is not.
async fn ensure_image(docker: &Docker, image: &str) -> anyhow::Result<()> {
    if docker.inspect_image(image).await.is_ok() {
        return Ok(());
    }
    let options = CreateImageOptions {
        from_image: Some(image.to_owned()),
        ..CreateImageOptions::default()
    };
    let mut pull = docker.create_image(Some(options), None, None);
    while let Some(item) = pull.next().await {
        if let Err(error) = item {
            anyhow::bail!(
                "failed to find the image {image}: it is not in the Docker Engine and pulling it failed: {}",
                docker_message(&error)
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_tells_static_from_dynamic() {
        assert_eq!(parse_ldd("\tstatically linked\n").unwrap(), Linking::Static);
        assert_eq!(
            parse_ldd("\tnot a dynamic executable\n").unwrap(),
            Linking::Static
        );
        let dynamic = "\tlinux-vdso.so.1 (0x00007ffc)\n\tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f1)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f3)\n";
        assert_eq!(
            parse_ldd(dynamic).unwrap(),
            Linking::Dynamic {
                interpreter: "/lib64/ld-linux-x86-64.so.2".into(),
                libraries: vec![
                    "/lib/x86_64-linux-gnu/libgcc_s.so.1".into(),
                    "/lib/x86_64-linux-gnu/libc.so.6".into()
                ],
            }
        );
        let missing = "\tlibssl.so.3 => not found\n";
        assert!(
            parse_ldd(missing)
                .unwrap_err()
                .to_string()
                .contains("libssl.so.3")
        );
    }

    #[test]
    fn a_dynamic_binary_starts_through_its_mounted_interpreter() {
        let linking = Linking::Dynamic {
            interpreter: "/nonexistent/ld-linux-x86-64.so.2".into(),
            libraries: vec!["/nonexistent/libc.so.6".into()],
        };
        let (binds, command) = executor_mounts(Path::new("/opt/slipway"), &linking);
        assert_eq!(
            binds,
            [
                "/opt/slipway:/slipway-tools/slipway:ro",
                "/nonexistent/ld-linux-x86-64.so.2:/slipway-tools/lib/ld-linux-x86-64.so.2:ro",
                "/nonexistent/libc.so.6:/slipway-tools/lib/libc.so.6:ro",
            ]
        );
        assert_eq!(
            command,
            [
                "/slipway-tools/lib/ld-linux-x86-64.so.2",
                "--library-path",
                "/slipway-tools/lib",
                "/slipway-tools/slipway"
            ]
        );
        let (binds, command) = executor_mounts(Path::new("/opt/slipway"), &Linking::Static);
        assert_eq!(binds, ["/opt/slipway:/slipway-tools/slipway:ro"]);
        assert_eq!(command, ["/slipway-tools/slipway"]);
    }
}
