//! Runs a pod's containers in the local Docker Engine (API 1.41 and later, via bollard).
//!
//! Kubernetes' semantics are kept: `command` replaces the image's ENTRYPOINT and `args` its CMD;
//! volumes are bind mounts of the pod's temp dirs; a `terminationMessagePath` outside every mount
//! is a bind-mounted temp file. The image must already be in the engine: like
//! `imagePullPolicy: Never`, a missing image leaves the container waiting with
//! `ErrImageNeverPull`. Containers use the host network so they can reach servers the test
//! started on the loopback interface (including the test cluster itself).

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    WaitContainerOptionsBuilder,
};
use futures::StreamExt;

use super::kubelet::ContainerRun;
use super::podspec::ContainerPlan;
use super::runner::{RunContext, now};
use super::workspace::map_into_mounts;

/// Label on every container the simulation creates.
pub const MANAGED_LABEL: &str = "dev.slipway.testcluster";

/// Connects to the engine named by `DOCKER_HOST` (or the local socket) and negotiates the API
/// version.
///
/// # Errors
/// A message naming the engine problem, for the container's termination message.
pub async fn connect() -> Result<Docker, String> {
    let docker = Docker::connect_with_local_defaults()
        .map_err(|e| format!("unable to reach the Docker Engine: {e}"))?;
    docker
        .negotiate_version()
        .await
        .map_err(|e| format!("unable to reach the Docker Engine: {e}"))
}

/// Runs the pod's init containers one after the other (stopping at the first that fails, cannot
/// start or is cancelled), then every container concurrently, reporting their states.
pub async fn run_docker(context: RunContext, docker: Result<Docker, String>) {
    for init in &context.plan.init_containers {
        if run_container(&context, &docker, init).await != Some(0) {
            return;
        }
    }
    let runs = context
        .plan
        .containers
        .iter()
        .map(|container| run_container(&context, &docker, container));
    futures::future::join_all(runs).await;
}

/// The Docker name of a pod's container (unique per pod UID).
pub fn container_name(context: &RunContext, container: &str) -> String {
    let uid: String = context
        .plan
        .uid
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect();
    format!(
        "testcluster_{}_{}_{}_{uid}",
        context.plan.namespace, context.plan.pod, container
    )
}

async fn run_container(
    context: &RunContext,
    docker: &Result<Docker, String>,
    container: &ContainerPlan,
) -> Option<i32> {
    let started = now();
    let start_error = |message: String| ContainerRun::Terminated {
        exit_code: 128,
        reason: "StartError".into(),
        message,
        started_at: started,
        finished_at: now(),
    };
    let docker = match docker {
        Ok(docker) => docker,
        Err(message) => {
            context.report(&container.name, start_error(message.clone()));
            return Some(128);
        }
    };
    match docker.inspect_image(&container.image).await {
        Ok(_) => {}
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => {
            let message = format!(
                "Container image \"{}\" is not present with pull policy of Never (the test cluster never pulls; build or load it first)",
                container.image
            );
            context.report(
                &container.name,
                ContainerRun::Waiting {
                    reason: "ErrImageNeverPull".into(),
                    message,
                },
            );
            return None;
        }
        Err(error) => {
            context.report(
                &container.name,
                start_error(format!("unable to inspect image: {error}")),
            );
            return Some(128);
        }
    }
    let mounts = match context.workspace.mounts(container) {
        Ok(mounts) => mounts,
        Err(error) => {
            context.report(
                &container.name,
                start_error(format!("failed to prepare mounts: {error}")),
            );
            return Some(128);
        }
    };
    let mut binds: Vec<String> = mounts
        .iter()
        .map(|(path, host, read_only)| {
            format!(
                "{}:{path}{}",
                host.display(),
                if *read_only { ":ro" } else { "" }
            )
        })
        .collect();
    let termination_host = match map_into_mounts(&container.termination_message_path, &mounts) {
        Some(inside_volume) => inside_volume,
        None => {
            let file = context.workspace.termination_file(&container.name);
            binds.push(format!(
                "{}:{}",
                file.display(),
                container.termination_message_path
            ));
            file
        }
    };
    let name = container_name(context, &container.name);
    let remove = RemoveContainerOptionsBuilder::default().force(true).build();
    // A container left over from an earlier run of the same pod would block the name.
    let _ = docker.remove_container(&name, Some(remove.clone())).await;

    let mut env: Vec<String> = vec![format!("HOSTNAME={}", context.plan.pod)];
    env.extend(container.env.iter().map(|(k, v)| format!("{k}={v}")));
    let labels = [
        (MANAGED_LABEL.to_owned(), "true".to_owned()),
        (
            "io.kubernetes.pod.namespace".to_owned(),
            context.plan.namespace.clone(),
        ),
        (
            "io.kubernetes.pod.name".to_owned(),
            context.plan.pod.clone(),
        ),
        ("io.kubernetes.pod.uid".to_owned(), context.plan.uid.clone()),
        (
            "io.kubernetes.container.name".to_owned(),
            container.name.clone(),
        ),
    ];
    let body = ContainerCreateBody {
        image: Some(container.image.clone()),
        entrypoint: (!container.command.is_empty()).then(|| container.command.clone()),
        cmd: (!container.args.is_empty()).then(|| container.args.clone()),
        env: Some(env),
        working_dir: container.working_dir.clone(),
        labels: Some(labels.into_iter().collect()),
        host_config: Some(HostConfig {
            binds: Some(binds),
            network_mode: Some("host".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let options = CreateContainerOptionsBuilder::default().name(&name).build();
    if let Err(error) = docker.create_container(Some(options), body).await {
        context.report(
            &container.name,
            start_error(format!("failed to create container: {error}")),
        );
        return Some(128);
    }
    if let Err(error) = docker.start_container(&name, None).await {
        let _ = docker.remove_container(&name, Some(remove)).await;
        context.report(
            &container.name,
            start_error(format!("failed to start container: {error}")),
        );
        return Some(128);
    }
    context.report(
        &container.name,
        ContainerRun::Running {
            started_at: started,
        },
    );

    let logs = async {
        let options = LogsOptionsBuilder::default()
            .follow(true)
            .stdout(true)
            .stderr(true)
            .build();
        let mut stream = docker.logs(&name, Some(options));
        while let Some(Ok(output)) = stream.next().await {
            let bytes = match output {
                LogOutput::StdOut { message }
                | LogOutput::StdErr { message }
                | LogOutput::Console { message } => message,
                LogOutput::StdIn { .. } => continue,
            };
            context.log(&container.name, &String::from_utf8_lossy(&bytes));
        }
    };
    let wait = async {
        let options = WaitContainerOptionsBuilder::default()
            .condition("not-running")
            .build();
        let mut stream = docker.wait_container(&name, Some(options));
        match stream.next().await {
            Some(Ok(response)) => i32::try_from(response.status_code).unwrap_or(1),
            // bollard reports a non-zero exit as an error carrying the code.
            Some(Err(DockerError::DockerContainerWaitError { code, .. })) => {
                i32::try_from(code).unwrap_or(1)
            }
            Some(Err(error)) => {
                context.log(
                    &container.name,
                    &format!("unable to wait for the container: {error}\n"),
                );
                128
            }
            None => 128,
        }
    };
    let finished = async {
        let (exit_code, ()) = tokio::join!(wait, logs);
        exit_code
    };
    let exit_code = tokio::select! {
        exit_code = finished => exit_code,
        () = context.cancelled() => {
            // The pod is gone: force-remove kills the container too.
            let _ = docker.remove_container(&name, Some(remove)).await;
            return None;
        }
    };
    let content = tokio::fs::read(&termination_host).await.unwrap_or_default();
    let message = context.termination_message(container, content, exit_code);
    let _ = docker.remove_container(&name, Some(remove)).await;
    context.report(
        &container.name,
        ContainerRun::exited(exit_code, message, started, now()),
    );
    Some(exit_code)
}

#[cfg(test)]
#[path = "runner_docker_tests.rs"]
mod tests;
