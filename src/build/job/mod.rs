//! The build Job: what a `BuildRun` runs as, rendered by the pure [`render_job`].
//!
//! The layout follows the build pod contract (shared with the executor and its parts):
//!
//! ```text
//! Job <buildrun>-build (backoffLimit 0, activeDeadlineSeconds = timeoutInMinutes × 60)
//! └─ Pod (restartPolicy Never)
//!    ├─ init slipway-tools   slipway image: `/slipway executor install --to /slipway-tools`
//!    ├─ init fetch-source    slipway image: `/slipway executor fetch git|artifact … --to /workspace/src`
//!    │                       (only with a source)
//!    ├─ init docker          native sidecar (restartPolicy Always), privileged dockerd on
//!    │                       unix:///var/run/slipway-docker/docker.sock (only when privileged
//!    │                       or with image outputs)
//!    └─ build                the user's image: `/slipway-tools/slipway executor run`,
//!                            SLIPWAY_EXECUTOR_* settings, the user's env/envFrom, credentials and
//!                            parameter mounts; the result in its termination message
//! ```
//!
//! The Docker daemon is a *native sidecar* (an init container with `restartPolicy: Always`,
//! Kubernetes ≥ 1.29): an ordinary second container would keep the pod running after the build
//! ends, so the Job would never finish. Its startup probe (`docker version` against the daemon)
//! holds the build container until dockerd answers.
//!
//! # Docker socket
//! dockerd listens only on a unix socket in the `docker-socket` emptyDir, mounted at
//! [`DOCKER_SOCKET_DIR`] in the sidecar and the build container, and the build container gets
//! `DOCKER_HOST=unix://…/docker.sock` ([`DOCKER_HOST`]). A privileged daemon on a TCP port
//! (even on 127.0.0.1) would answer, without credentials, any process sharing the pod's network
//! namespace (a sidecar injected by a mutating webhook, say); a socket is reachable only from
//! containers that mount its volume. The args start with `dockerd`, so the
//! `docker:dind` entrypoint adds none of its default TCP listeners.
//!
//! # Names
//! The Job is `<buildrun>-build`. Job names end up in the pods' `job-name` label, so they must
//! fit 63 characters: a longer name is fitted by [`crate::runtime::names::fit_name`] (a head of
//! the name, a hash of the whole, `-build`), so two long names never share a Job name by
//! accident. The same rule fits the `slipway.dev/buildrun` label value; the full name is in the
//! `slipway.dev/buildrun` annotation, and `slipway.dev/buildrun-uid` selects a build's Job and
//! pod without ambiguity.
//!
//! # Secrets
//! Credentials are mounted read-only as files, never put in the environment or the command line.
//! `SLIPWAY_EXECUTOR_SECRET_ENV` names every variable whose value comes from a Secret (an
//! `env[].valueFrom.secretKeyRef`, or a key of an `envFrom` Secret the controller saw) so the
//! executor masks them in the log. The pod gets no service-account token unless the spec names a
//! service account (`automountServiceAccountToken: false` otherwise): a build has no business
//! with the cluster's API by default.
//!
//! # Caveats
//! dockerd creates the socket for root with mode 0660, so a build image that runs as a
//! non-root user cannot reach it (over TCP any user could).

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, Container, EmptyDirVolumeSource, EnvVar, ExecAction,
    LocalObjectReference, PodSpec, PodTemplateSpec, Probe, SecretVolumeSource, SecurityContext,
    Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::api::buildrun::{BuildRun, PullPolicy};
use crate::api::common::SecretReference;
use crate::runtime::labels::{
    BUILDRUN_ANNOTATION, BUILDRUN_LABEL, BUILDRUN_UID_LABEL, COMPONENT_LABEL, INSTANCE_LABEL,
    MANAGED_BY_LABEL, MANAGED_BY_VALUE, NAME_LABEL, PART_OF_LABEL, PROJECT_LABEL,
};
use crate::runtime::names::{LABEL_VALUE_MAX, fit_name, label_value};

#[cfg(test)]
mod tests;

/// The build container's name (`kubectl logs … -c build`).
pub const BUILD_CONTAINER: &str = "build";
/// The init container that copies the executor into the pod.
pub const TOOLS_CONTAINER: &str = "slipway-tools";
/// The init container that fetches the source.
pub const FETCH_CONTAINER: &str = "fetch-source";
/// The Docker daemon sidecar.
pub const DOCKER_CONTAINER: &str = "docker";

/// Where the executor copy lives in the build container.
pub const TOOLS_DIR: &str = "/slipway-tools";
/// The workspace volume's mount path.
pub const WORKSPACE_DIR: &str = "/workspace";
/// The source directory (`CODEBUILD_SRC_DIR`).
pub const SOURCE_DIR: &str = "/workspace/src";
/// The file `fetch-source` writes the resolved commit to.
pub const RESOLVED_SOURCE_FILE: &str = "/workspace/.slipway/resolved-source-version";
/// The full result document (the termination message may be a summary).
pub const RESULT_FILE: &str = "/workspace/.slipway/result.json";
/// The termination message file.
pub const TERMINATION_MESSAGE_PATH: &str = "/dev/termination-log";
/// Root of the mounted credentials.
pub const CREDENTIALS_DIR: &str = "/slipway/credentials";
/// Where the parameter-store ConfigMap is mounted.
pub const PARAMETER_STORE_DIR: &str = "/slipway/parameters/parameter-store";
/// Where the secrets-manager Secret is mounted.
pub const SECRETS_MANAGER_DIR: &str = "/slipway/parameters/secrets-manager";
/// Where the Docker daemon's socket directory (a shared emptyDir) is mounted.
pub const DOCKER_SOCKET_DIR: &str = "/var/run/slipway-docker";
/// The Docker daemon's socket inside the pod.
pub const DOCKER_SOCKET: &str = "/var/run/slipway-docker/docker.sock";
/// The Docker daemon's address inside the pod (`DOCKER_HOST` of the build container).
pub const DOCKER_HOST: &str = "unix:///var/run/slipway-docker/docker.sock";
/// The volume holding the Docker daemon's socket.
const DOCKER_SOCKET_VOLUME: &str = "docker-socket";

/// How build Jobs are rendered: the controller's build options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobOptions {
    /// Image holding the slipway binary (init containers).
    pub executor_image: String,
    /// Path of the slipway binary inside that image.
    pub executor_path: String,
    /// Image of the Docker daemon sidecar.
    pub docker_image: String,
    /// `ttlSecondsAfterFinished` of build Jobs; `None` keeps finished Jobs.
    pub job_ttl_seconds: Option<i32>,
}

impl Default for JobOptions {
    fn default() -> Self {
        Self {
            executor_image: default_executor_image(),
            executor_path: "/slipway".to_owned(),
            docker_image: "docker:28-dind".to_owned(),
            job_ttl_seconds: Some(86_400),
        }
    }
}

/// `slipway:<this crate's version>`.
pub fn default_executor_image() -> String {
    format!("slipway:{}", env!("CARGO_PKG_VERSION"))
}

/// What the controller learnt about the build beyond its spec, for rendering.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RenderFacts {
    /// The build number (`CODEBUILD_BUILD_NUMBER`).
    pub build_number: i64,
    /// Variable names that `envFrom` Secrets provide (masked, and beating the buildspec).
    pub secret_env_names: Vec<String>,
    /// Variable names that `envFrom` ConfigMaps provide (beating the buildspec).
    pub config_env_names: Vec<String>,
}

/// Why a Job cannot be rendered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RenderError {
    /// The BuildRun lacks a name, namespace or UID (it was not read from the API).
    #[error("unable to render the build Job: the BuildRun has no {0} (read it from the API first)")]
    MissingMetadata(&'static str),
}

/// The Job name for a BuildRun: `<name>-build`, fitted to a label value (63 characters).
pub fn job_name(build_run: &str) -> String {
    fit_name(build_run, "-build", LABEL_VALUE_MAX)
}

/// Renders the Job for `build_run`.
///
/// # Errors
/// [`RenderError`] when the BuildRun lacks the metadata the API server sets.
pub fn render_job(
    build_run: &BuildRun,
    options: &JobOptions,
    facts: &RenderFacts,
) -> Result<Job, RenderError> {
    let meta = &build_run.metadata;
    let name = meta
        .name
        .clone()
        .ok_or(RenderError::MissingMetadata("name"))?;
    let namespace = meta
        .namespace
        .clone()
        .ok_or(RenderError::MissingMetadata("namespace"))?;
    let uid = meta
        .uid
        .clone()
        .ok_or(RenderError::MissingMetadata("uid"))?;
    let spec = &build_run.spec;
    let environment = &spec.config.environment;

    let mut labels = BTreeMap::from([
        (BUILDRUN_LABEL.to_owned(), label_value(&name)),
        (BUILDRUN_UID_LABEL.to_owned(), uid.clone()),
        (NAME_LABEL.to_owned(), "slipway-build".to_owned()),
        (INSTANCE_LABEL.to_owned(), label_value(&name)),
        (COMPONENT_LABEL.to_owned(), "build".to_owned()),
        (PART_OF_LABEL.to_owned(), MANAGED_BY_VALUE.to_owned()),
        (MANAGED_BY_LABEL.to_owned(), MANAGED_BY_VALUE.to_owned()),
    ]);
    if let Some(project) = meta.labels.as_ref().and_then(|l| l.get(PROJECT_LABEL)) {
        labels.insert(PROJECT_LABEL.to_owned(), project.clone());
    }
    let annotations = BTreeMap::from([(BUILDRUN_ANNOTATION.to_owned(), name.clone())]);

    let mut volumes = vec![empty_dir("slipway-tools"), empty_dir("workspace")];
    let tools_mount = mount("slipway-tools", TOOLS_DIR, false);
    let workspace_mount = mount("workspace", WORKSPACE_DIR, false);

    // Credentials: (volume name, secret, directory under /slipway/credentials, who needs it).
    let mut fetch_mounts = vec![workspace_mount.clone()];
    let mut build_mounts = vec![tools_mount.clone(), workspace_mount.clone()];
    let mut add_credentials =
        |volume: String, secret: &SecretReference, directory: &str, fetch: bool| {
            volumes.push(secret_volume(&volume, &secret.name));
            let path = format!("{CREDENTIALS_DIR}/{directory}");
            if fetch {
                fetch_mounts.push(mount(&volume, &path, true));
            }
            build_mounts.push(mount(&volume, &path, true));
        };
    let git = spec.source.as_ref().and_then(|source| source.git.as_ref());
    let artifact_source = spec
        .source
        .as_ref()
        .and_then(|source| source.artifact.as_ref());
    if let Some(secret) = git.and_then(|git| git.credentials_secret.as_ref()) {
        add_credentials("credentials-git".into(), secret, "git", true);
    }
    for (index, image) in spec.config.images.iter().enumerate() {
        if let Some(secret) = &image.credentials_secret {
            add_credentials(
                format!("credentials-image-{index}"),
                secret,
                &format!("image-{}", image.name),
                false,
            );
        }
    }
    let store = spec.config.artifact_store.as_ref();
    let store_secret = store.and_then(|store| {
        store
            .oci
            .as_ref()
            .and_then(|oci| oci.credentials_secret.as_ref())
            .or_else(|| {
                store
                    .object_store
                    .as_ref()
                    .and_then(|o| o.credentials_secret.as_ref())
            })
    });
    if let Some(secret) = store_secret {
        add_credentials(
            "credentials-artifact-store".into(),
            secret,
            "artifact-store",
            artifact_source.is_some(),
        );
    }

    let mut env = vec![
        plain("SLIPWAY_EXECUTOR_PROJECT", &name),
        plain("SLIPWAY_EXECUTOR_BUILD_ID", &format!("{name}:{uid}")),
        plain("SLIPWAY_EXECUTOR_BUILDRUN", &name),
        plain("SLIPWAY_EXECUTOR_NAMESPACE", &namespace),
        plain(
            "SLIPWAY_EXECUTOR_BUILD_NUMBER",
            &facts.build_number.to_string(),
        ),
        plain("SLIPWAY_EXECUTOR_IMAGE", &environment.image),
        plain("SLIPWAY_EXECUTOR_SOURCE", SOURCE_DIR),
        plain(
            "SLIPWAY_EXECUTOR_TERMINATION_MESSAGE_PATH",
            TERMINATION_MESSAGE_PATH,
        ),
        plain("SLIPWAY_EXECUTOR_RESULT_FILE", RESULT_FILE),
        plain("SLIPWAY_EXECUTOR_CREDENTIALS_DIR", CREDENTIALS_DIR),
    ];
    match spec.config.buildspec.as_ref() {
        Some(buildspec) if buildspec.inline.is_some() => env.push(plain(
            "SLIPWAY_EXECUTOR_BUILDSPEC_INLINE",
            buildspec.inline.as_deref().unwrap_or_default(),
        )),
        Some(buildspec) if buildspec.path.is_some() => env.push(plain(
            "SLIPWAY_EXECUTOR_BUILDSPEC",
            buildspec.path.as_deref().unwrap_or_default(),
        )),
        _ => {}
    }
    if let Some(git) = git {
        env.push(plain("SLIPWAY_EXECUTOR_SOURCE_VERSION", &git.revision));
        env.push(plain("SLIPWAY_EXECUTOR_SOURCE_REPO_URL", &git.url));
    }
    if let Some(artifact) = artifact_source {
        env.push(plain("SLIPWAY_EXECUTOR_SOURCE_VERSION", &artifact.location));
    }
    if spec.source.is_some() {
        env.push(plain(
            "SLIPWAY_EXECUTOR_RESOLVED_SOURCE_VERSION_FILE",
            RESOLVED_SOURCE_FILE,
        ));
    }
    if let Some(initiator) = initiator(build_run) {
        env.push(plain("SLIPWAY_EXECUTOR_INITIATOR", &initiator));
    }
    if !spec.config.images.is_empty() {
        env.push(plain(
            "SLIPWAY_EXECUTOR_IMAGES",
            &serde_json::to_string(&spec.config.images).unwrap_or_default(),
        ));
    }
    if let Some(store) = store {
        env.push(plain(
            "SLIPWAY_EXECUTOR_ARTIFACT_STORE",
            &serde_json::to_string(store).unwrap_or_default(),
        ));
    }
    if let Some(parameters) = &environment.parameters {
        if let Some(config_map) = &parameters.parameter_store_config_map {
            volumes.push(Volume {
                name: "parameter-store".into(),
                config_map: Some(ConfigMapVolumeSource {
                    name: config_map.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            });
            build_mounts.push(mount("parameter-store", PARAMETER_STORE_DIR, true));
            env.push(plain(
                "SLIPWAY_EXECUTOR_PARAMETER_STORE_DIR",
                PARAMETER_STORE_DIR,
            ));
            env.push(plain(
                "SLIPWAY_EXECUTOR_PARAMETER_STORE_CONFIG_MAP",
                config_map,
            ));
        }
        if let Some(secret) = &parameters.secrets_manager_secret {
            volumes.push(secret_volume("secrets-manager", secret));
            build_mounts.push(mount("secrets-manager", SECRETS_MANAGER_DIR, true));
            env.push(plain(
                "SLIPWAY_EXECUTOR_SECRETS_MANAGER_DIR",
                SECRETS_MANAGER_DIR,
            ));
            env.push(plain("SLIPWAY_EXECUTOR_SECRETS_MANAGER_SECRET", secret));
        }
    }
    let (project_env, secret_env) = user_variable_names(&environment.env, facts);
    if !project_env.is_empty() {
        env.push(plain(
            "SLIPWAY_EXECUTOR_PROJECT_ENV",
            &project_env.join(","),
        ));
    }
    if !secret_env.is_empty() {
        env.push(plain("SLIPWAY_EXECUTOR_SECRET_ENV", &secret_env.join(",")));
    }
    let docker = environment.privileged || !spec.config.images.is_empty();
    if docker {
        env.push(plain("DOCKER_HOST", DOCKER_HOST));
        build_mounts.push(mount(DOCKER_SOCKET_VOLUME, DOCKER_SOCKET_DIR, false));
    }
    // The user's variables come last so `$(VAR)` references to ours resolve.
    env.extend(environment.env.iter().cloned());

    let executor = |args: &[&str]| -> Vec<String> {
        std::iter::once(options.executor_path.clone())
            .chain(args.iter().map(|arg| (*arg).to_owned()))
            .collect()
    };
    let mut init_containers = vec![Container {
        name: TOOLS_CONTAINER.into(),
        image: Some(options.executor_image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: Some(executor(&["executor", "install", "--to", TOOLS_DIR])),
        volume_mounts: Some(vec![tools_mount]),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    }];
    if let Some(command) = fetch_command(build_run, &executor) {
        init_containers.push(Container {
            name: FETCH_CONTAINER.into(),
            image: Some(options.executor_image.clone()),
            image_pull_policy: Some("IfNotPresent".into()),
            command: Some(command),
            env: Some(vec![plain(
                "SLIPWAY_EXECUTOR_CREDENTIALS_DIR",
                CREDENTIALS_DIR,
            )]),
            volume_mounts: Some(fetch_mounts),
            termination_message_policy: Some("FallbackToLogsOnError".into()),
            ..Default::default()
        });
    }
    if docker {
        volumes.push(empty_dir("docker-data"));
        volumes.push(empty_dir(DOCKER_SOCKET_VOLUME));
        init_containers.push(Container {
            name: DOCKER_CONTAINER.into(),
            image: Some(options.docker_image.clone()),
            image_pull_policy: Some("IfNotPresent".into()),
            // A native sidecar: runs beside the build and stops when it ends.
            restart_policy: Some("Always".into()),
            // Only the socket in the shared volume: no TCP listener (see "Docker socket").
            args: Some(vec!["dockerd".into(), format!("--host={DOCKER_HOST}")]),
            security_context: Some(SecurityContext {
                privileged: Some(true),
                ..Default::default()
            }),
            // The build starts once the daemon answers (a native sidecar's startup probe gates
            // the containers after it), so `docker` commands never race dockerd's start.
            startup_probe: Some(Probe {
                exec: Some(ExecAction {
                    command: Some(vec![
                        "docker".into(),
                        format!("--host={DOCKER_HOST}"),
                        "version".into(),
                    ]),
                }),
                period_seconds: Some(1),
                failure_threshold: Some(120),
                ..Default::default()
            }),
            volume_mounts: Some(vec![
                mount("docker-data", "/var/lib/docker", false),
                mount(DOCKER_SOCKET_VOLUME, DOCKER_SOCKET_DIR, false),
            ]),
            ..Default::default()
        });
    }
    let build = Container {
        name: BUILD_CONTAINER.into(),
        image: Some(environment.image.clone()),
        image_pull_policy: environment.image_pull_policy.map(pull_policy),
        command: Some(vec![
            format!("{TOOLS_DIR}/slipway"),
            "executor".into(),
            "run".into(),
        ]),
        working_dir: Some(SOURCE_DIR.into()),
        env: Some(env),
        env_from: (!environment.env_from.is_empty()).then(|| environment.env_from.clone()),
        resources: environment.resources.clone(),
        volume_mounts: Some(build_mounts),
        termination_message_path: Some(TERMINATION_MESSAGE_PATH.into()),
        termination_message_policy: Some("File".into()),
        ..Default::default()
    };

    let pod_spec = PodSpec {
        restart_policy: Some("Never".into()),
        init_containers: Some(init_containers),
        containers: vec![build],
        volumes: Some(volumes),
        service_account_name: environment.service_account_name.clone(),
        // Builds get no API credentials unless their spec names a service account for them.
        automount_service_account_token: environment
            .service_account_name
            .is_none()
            .then_some(false),
        node_selector: (!environment.node_selector.is_empty())
            .then(|| environment.node_selector.clone()),
        tolerations: (!environment.tolerations.is_empty()).then(|| environment.tolerations.clone()),
        image_pull_secrets: (!environment.image_pull_secrets.is_empty()).then(|| {
            environment
                .image_pull_secrets
                .iter()
                .map(|secret| LocalObjectReference {
                    name: secret.name.clone(),
                })
                .collect()
        }),
        ..Default::default()
    };
    Ok(Job {
        metadata: ObjectMeta {
            name: Some(job_name(&name)),
            namespace: Some(namespace),
            labels: Some(labels.clone()),
            annotations: Some(annotations.clone()),
            owner_references: Some(vec![OwnerReference {
                api_version: format!("{}/{}", crate::api::GROUP, crate::api::VERSION),
                kind: "BuildRun".into(),
                name,
                uid,
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: Some(JobSpec {
            backoff_limit: Some(0),
            active_deadline_seconds: Some(i64::from(spec.config.timeout_in_minutes) * 60),
            ttl_seconds_after_finished: options.job_ttl_seconds,
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    annotations: Some(annotations),
                    ..Default::default()
                }),
                spec: Some(pod_spec),
            },
            ..Default::default()
        }),
        status: None,
    })
}

/// The `fetch-source` command, when the build has a source.
fn fetch_command(
    build_run: &BuildRun,
    executor: &dyn Fn(&[&str]) -> Vec<String>,
) -> Option<Vec<String>> {
    let source = build_run.spec.source.as_ref()?;
    if let Some(git) = &source.git {
        let depth = git.depth.to_string();
        let mut args = vec![
            "executor",
            "fetch",
            "git",
            "--url",
            &git.url,
            "--revision",
            &git.revision,
            "--depth",
            &depth,
        ];
        if git.submodules {
            args.push("--submodules");
        }
        args.extend(["--to", SOURCE_DIR, "--resolved-file", RESOLVED_SOURCE_FILE]);
        return Some(executor(&args));
    }
    let artifact = source.artifact.as_ref()?;
    let mut args = vec![
        "executor",
        "fetch",
        "artifact",
        "--location",
        &artifact.location,
    ];
    if let Some(digest) = &artifact.digest {
        args.extend(["--digest", digest]);
    }
    args.extend(["--to", SOURCE_DIR, "--resolved-file", RESOLVED_SOURCE_FILE]);
    Some(executor(&args))
}

/// `pipeline-execution/<name>` when a PipelineExecution started the build.
fn initiator(build_run: &BuildRun) -> Option<String> {
    build_run
        .metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|owner| owner.kind == "PipelineExecution")
        .map(|owner| format!("pipeline-execution/{}", owner.name))
}

/// The user variables that beat the buildspec, and those among them that are secret.
fn user_variable_names(env: &[EnvVar], facts: &RenderFacts) -> (Vec<String>, Vec<String>) {
    let mut project: Vec<String> = env.iter().map(|var| var.name.clone()).collect();
    let mut secret: Vec<String> = env
        .iter()
        .filter(|var| {
            var.value_from
                .as_ref()
                .is_some_and(|from| from.secret_key_ref.is_some())
        })
        .map(|var| var.name.clone())
        .collect();
    project.extend(facts.config_env_names.iter().cloned());
    project.extend(facts.secret_env_names.iter().cloned());
    secret.extend(facts.secret_env_names.iter().cloned());
    for names in [&mut project, &mut secret] {
        names.sort();
        names.dedup();
    }
    (project, secret)
}

fn pull_policy(policy: PullPolicy) -> String {
    match policy {
        PullPolicy::Always => "Always",
        PullPolicy::IfNotPresent => "IfNotPresent",
        PullPolicy::Never => "Never",
    }
    .to_owned()
}

fn plain(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        value_from: None,
    }
}

fn mount(volume: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: volume.to_owned(),
        mount_path: path.to_owned(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Default::default()
    }
}

fn secret_volume(name: &str, secret: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret.to_owned()),
            ..Default::default()
        }),
        ..Default::default()
    }
}
