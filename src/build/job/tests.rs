use k8s_openapi::api::core::v1::{Container, PodSpec};
use serde_json::{Value, json};

use super::*;

fn build_run(spec: Value) -> BuildRun {
    serde_json::from_value(json!({
        "apiVersion": "slipway.dev/v1alpha1",
        "kind": "BuildRun",
        "metadata": {"name": "web-42", "namespace": "team", "uid": "0b5c-uid", "labels": {"slipway.dev/project": "web"}},
        "spec": spec
    }))
    .expect("a valid BuildRun")
}

fn inline_only() -> Value {
    json!({"buildspec": {"inline": "version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n"},
           "environment": {"image": "alpine:3.20"}})
}

fn render(spec: Value) -> Job {
    render_job(&build_run(spec), &JobOptions::default(), &facts()).expect("renders")
}

fn facts() -> RenderFacts {
    RenderFacts {
        build_number: 7,
        ..RenderFacts::default()
    }
}

fn pod(job: &Job) -> &PodSpec {
    job.spec.as_ref().unwrap().template.spec.as_ref().unwrap()
}

fn init_names(job: &Job) -> Vec<&str> {
    pod(job)
        .init_containers
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| c.name.as_str())
        .collect()
}

fn init<'a>(job: &'a Job, name: &str) -> &'a Container {
    pod(job)
        .init_containers
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no init container {name}"))
}

fn build(job: &Job) -> &Container {
    &pod(job).containers[0]
}

fn env<'a>(container: &'a Container, name: &str) -> Option<&'a str> {
    container
        .env
        .as_ref()?
        .iter()
        .find(|var| var.name == name)
        .and_then(|var| var.value.as_deref())
}

/// Asserts each `(name, value)` is set on `container`.
#[track_caller]
fn assert_env(container: &Container, expected: &[(&str, &str)]) {
    for (name, value) in expected {
        assert_eq!(env(container, name), Some(*value), "{name}");
    }
}

fn mounts(container: &Container) -> Vec<(String, String, bool)> {
    container
        .volume_mounts
        .iter()
        .flatten()
        .map(|m| {
            (
                m.name.clone(),
                m.mount_path.clone(),
                m.read_only == Some(true),
            )
        })
        .collect()
}

#[test]
fn job_names_are_deterministic_and_fit_63_characters() {
    assert_eq!(job_name("web-42"), "web-42-build");
    let long = "a".repeat(70);
    let name = job_name(&long);
    assert_eq!(name.len(), 63, "{name}");
    assert!(name.ends_with("-build"), "{name}");
    assert_eq!(name, job_name(&long), "the same name every time");
    let other = job_name(&format!("{}b", "a".repeat(69)));
    assert_ne!(name, other, "long names differing at the end stay apart");
    let exactly = "x".repeat(57);
    assert_eq!(job_name(&exactly), format!("{exactly}-build"));
}

#[test]
fn an_inline_build_without_source_has_only_the_tools_init_container() {
    let job = render(inline_only());
    assert_eq!(init_names(&job), vec!["slipway-tools"]);
    let tools = init(&job, "slipway-tools");
    assert_eq!(
        tools.image.as_deref(),
        Some(default_executor_image().as_str())
    );
    assert_eq!(
        tools.command.as_ref().unwrap(),
        &["/slipway", "executor", "install", "--to", "/slipway-tools"]
    );
    let build = build(&job);
    assert_eq!(build.name, "build");
    assert_eq!(build.image.as_deref(), Some("alpine:3.20"));
    assert_eq!(
        build.command.as_ref().unwrap(),
        &["/slipway-tools/slipway", "executor", "run"]
    );
    assert_eq!(build.working_dir.as_deref(), Some("/workspace/src"));
    assert_eq!(build.termination_message_policy.as_deref(), Some("File"));
    assert_env(
        build,
        &[
            (
                "SLIPWAY_EXECUTOR_BUILDSPEC_INLINE",
                "version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n",
            ),
            ("SLIPWAY_EXECUTOR_PROJECT", "web-42"),
            ("SLIPWAY_EXECUTOR_BUILD_ID", "web-42:0b5c-uid"),
            ("SLIPWAY_EXECUTOR_NAMESPACE", "team"),
            ("SLIPWAY_EXECUTOR_BUILD_NUMBER", "7"),
            ("SLIPWAY_EXECUTOR_SOURCE", "/workspace/src"),
            (
                "SLIPWAY_EXECUTOR_TERMINATION_MESSAGE_PATH",
                "/dev/termination-log",
            ),
        ],
    );
    assert_eq!(
        env(build, "SLIPWAY_EXECUTOR_RESOLVED_SOURCE_VERSION_FILE"),
        None
    );
    assert_eq!(env(build, "DOCKER_HOST"), None, "no daemon without need");
    assert_eq!(
        mounts(build),
        vec![
            ("slipway-tools".into(), "/slipway-tools".into(), false),
            ("workspace".into(), "/workspace".into(), false)
        ]
    );
}

#[test]
fn the_job_runs_once_within_the_timeout_and_is_owned_by_the_buildrun() {
    let mut spec = inline_only();
    spec["timeoutInMinutes"] = json!(15);
    let job = render(spec);
    let job_spec = job.spec.as_ref().unwrap();
    assert_eq!(job_spec.backoff_limit, Some(0));
    assert_eq!(job_spec.active_deadline_seconds, Some(900));
    assert_eq!(job_spec.ttl_seconds_after_finished, Some(86_400));
    assert_eq!(pod(&job).restart_policy.as_deref(), Some("Never"));
    assert_eq!(
        pod(&job).automount_service_account_token,
        Some(false),
        "no API token without a service account"
    );
    assert_eq!(job.metadata.name.as_deref(), Some("web-42-build"));
    assert_eq!(job.metadata.namespace.as_deref(), Some("team"));
    let owner = &job.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
        ("BuildRun", "web-42", "0b5c-uid")
    );
    assert_eq!(owner.api_version, "slipway.dev/v1alpha1");
    assert_eq!(owner.controller, Some(true));
    let labels = job.metadata.labels.as_ref().unwrap();
    assert_eq!(labels["slipway.dev/buildrun"], "web-42");
    assert_eq!(labels["slipway.dev/buildrun-uid"], "0b5c-uid");
    assert_eq!(labels["slipway.dev/project"], "web");
    assert_eq!(labels["app.kubernetes.io/managed-by"], "slipway");
    let template_labels = job
        .spec
        .as_ref()
        .unwrap()
        .template
        .metadata
        .as_ref()
        .unwrap();
    assert_eq!(
        template_labels.labels.as_ref(),
        Some(labels),
        "the pod is selectable too"
    );
}

#[test]
fn a_git_source_is_fetched_at_its_revision_with_mounted_credentials() {
    let job = render(json!({
        "source": {"git": {"url": "https://git.example.com/team/app.git", "revision": "v1.2",
                           "depth": 5, "submodules": true, "credentialsSecret": {"name": "git-creds"}}},
        "environment": {"image": "alpine:3.20"}
    }));
    assert_eq!(init_names(&job), vec!["slipway-tools", "fetch-source"]);
    let fetch = init(&job, "fetch-source");
    assert_eq!(
        fetch.command.as_ref().unwrap(),
        &[
            "/slipway",
            "executor",
            "fetch",
            "git",
            "--url",
            "https://git.example.com/team/app.git",
            "--revision",
            "v1.2",
            "--depth",
            "5",
            "--submodules",
            "--to",
            "/workspace/src",
            "--resolved-file",
            "/workspace/.slipway/resolved-source-version"
        ]
    );
    assert!(mounts(fetch).contains(&(
        "credentials-git".into(),
        "/slipway/credentials/git".into(),
        true
    )));
    let build = build(&job);
    assert_env(
        build,
        &[
            ("SLIPWAY_EXECUTOR_SOURCE_VERSION", "v1.2"),
            (
                "SLIPWAY_EXECUTOR_SOURCE_REPO_URL",
                "https://git.example.com/team/app.git",
            ),
            (
                "SLIPWAY_EXECUTOR_RESOLVED_SOURCE_VERSION_FILE",
                "/workspace/.slipway/resolved-source-version",
            ),
        ],
    );
    let volume = pod(&job)
        .volumes
        .as_ref()
        .unwrap()
        .iter()
        .find(|v| v.name == "credentials-git")
        .unwrap();
    assert_eq!(
        volume.secret.as_ref().unwrap().secret_name.as_deref(),
        Some("git-creds")
    );
    let text = serde_json::to_string(&job).unwrap();
    assert!(
        !text.contains("password"),
        "credentials are files, never values"
    );
}

#[test]
fn an_artifact_source_is_fetched_with_its_digest() {
    let job = render(json!({
        "source": {"artifact": {"location": "oci://registry.local/a@sha256:ab", "digest": "sha256:ab"}},
        "environment": {"image": "alpine:3.20"},
        "artifactStore": {"oci": {"repository": "registry.local/artifacts", "credentialsSecret": {"name": "store"}}}
    }));
    let fetch = init(&job, "fetch-source");
    assert_eq!(
        fetch.command.as_ref().unwrap(),
        &[
            "/slipway",
            "executor",
            "fetch",
            "artifact",
            "--location",
            "oci://registry.local/a@sha256:ab",
            "--digest",
            "sha256:ab",
            "--to",
            "/workspace/src",
            "--resolved-file",
            "/workspace/.slipway/resolved-source-version"
        ]
    );
    let store_mount = (
        "credentials-artifact-store".to_owned(),
        "/slipway/credentials/artifact-store".to_owned(),
        true,
    );
    assert!(mounts(fetch).contains(&store_mount));
    assert!(mounts(build(&job)).contains(&store_mount));
    let store: Value =
        serde_json::from_str(env(build(&job), "SLIPWAY_EXECUTOR_ARTIFACT_STORE").unwrap()).unwrap();
    assert_eq!(store["oci"]["repository"], "registry.local/artifacts");
}

#[test]
fn image_outputs_get_a_docker_sidecar_their_credentials_and_the_images_json() {
    let job = render(json!({
        "source": {"git": {"url": "https://git.example.com/a.git"}},
        "environment": {"image": "alpine:3.20"},
        "images": [{"name": "web", "repository": "registry.local/web", "credentialsSecret": {"name": "push"}}]
    }));
    assert_eq!(
        init_names(&job),
        vec!["slipway-tools", "fetch-source", "docker"]
    );
    let docker = init(&job, "docker");
    assert_eq!(docker.image.as_deref(), Some("docker:28-dind"));
    assert_eq!(
        docker.restart_policy.as_deref(),
        Some("Always"),
        "a native sidecar"
    );
    assert_eq!(
        docker.security_context.as_ref().unwrap().privileged,
        Some(true)
    );
    assert_eq!(
        docker.args.as_ref().unwrap(),
        &[
            "dockerd",
            "--host=unix:///var/run/slipway-docker/docker.sock"
        ],
        "the daemon listens on the shared socket only, on no TCP port"
    );
    assert_eq!(
        mounts(docker),
        vec![
            ("docker-data".into(), "/var/lib/docker".into(), false),
            (
                "docker-socket".into(),
                "/var/run/slipway-docker".into(),
                false
            )
        ]
    );
    let probe = docker
        .startup_probe
        .as_ref()
        .expect("the build waits for the daemon");
    assert_eq!(
        probe.exec.as_ref().unwrap().command.as_ref().unwrap(),
        &[
            "docker",
            "--host=unix:///var/run/slipway-docker/docker.sock",
            "version"
        ]
    );
    let build = build(&job);
    assert_eq!(
        env(build, "DOCKER_HOST"),
        Some("unix:///var/run/slipway-docker/docker.sock")
    );
    assert!(mounts(build).contains(&(
        "docker-socket".into(),
        "/var/run/slipway-docker".into(),
        false
    )));
    let socket_volume = pod(&job)
        .volumes
        .iter()
        .flatten()
        .find(|volume| volume.name == "docker-socket")
        .expect("a volume for the socket");
    assert!(socket_volume.empty_dir.is_some(), "{socket_volume:?}");
    assert!(mounts(build).contains(&(
        "credentials-image-0".into(),
        "/slipway/credentials/image-web".into(),
        true
    )));
    let images: Value =
        serde_json::from_str(env(build, "SLIPWAY_EXECUTOR_IMAGES").unwrap()).unwrap();
    assert_eq!(images[0]["repository"], "registry.local/web");
    assert_eq!(images[0]["credentialsSecret"]["name"], "push");
}

#[test]
fn privileged_mode_alone_starts_the_docker_sidecar() {
    let mut spec = inline_only();
    spec["environment"]["privileged"] = json!(true);
    let job = render(spec);
    assert_eq!(init_names(&job), vec!["slipway-tools", "docker"]);
    assert_eq!(env(build(&job), "DOCKER_HOST"), Some(DOCKER_HOST));
    assert!(mounts(build(&job)).contains(&(
        "docker-socket".into(),
        DOCKER_SOCKET_DIR.into(),
        false
    )));
}

#[test]
fn the_docker_address_names_the_socket_in_the_shared_directory() {
    assert_eq!(DOCKER_HOST, format!("unix://{DOCKER_SOCKET}"));
    assert_eq!(
        std::path::Path::new(DOCKER_SOCKET).parent(),
        Some(std::path::Path::new(DOCKER_SOCKET_DIR))
    );
}

#[test]
fn the_environment_settings_reach_the_pod() {
    let facts = RenderFacts {
        build_number: 3,
        secret_env_names: vec!["DB_PASSWORD".into()],
        config_env_names: vec!["REGION".into()],
    };
    let job = render_job(
            &build_run(json!({
                "buildspec": {"path": "ci/buildspec.yml"},
                "source": {"git": {"url": "https://git.example.com/a.git"}},
                "environment": {
                    "image": "node:22", "imagePullPolicy": "Always",
                    "imagePullSecrets": [{"name": "pull"}],
                    "serviceAccountName": "builder",
                    "nodeSelector": {"pool": "builds"},
                    "tolerations": [{"key": "builds", "operator": "Exists", "effect": "NoSchedule"}],
                    "resources": {"limits": {"memory": "2Gi"}, "requests": {"cpu": "1"}},
                    "env": [
                        {"name": "STAGE", "value": "prod"},
                        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}
                    ],
                    "envFrom": [{"secretRef": {"name": "bundle"}}, {"configMapRef": {"name": "settings"}}],
                    "parameters": {"parameterStoreConfigMap": "params", "secretsManagerSecret": "secrets"}
                }
            })),
            &JobOptions::default(),
            &facts,
        )
        .unwrap();
    let pod = pod(&job);
    assert_eq!(pod.service_account_name.as_deref(), Some("builder"));
    assert_eq!(
        pod.automount_service_account_token, None,
        "a named account keeps its token"
    );
    assert_eq!(pod.node_selector.as_ref().unwrap()["pool"], "builds");
    assert_eq!(
        pod.tolerations.as_ref().unwrap()[0].key.as_deref(),
        Some("builds")
    );
    assert_eq!(pod.image_pull_secrets.as_ref().unwrap()[0].name, "pull");
    let build = &pod.containers[0];
    assert_eq!(build.image_pull_policy.as_deref(), Some("Always"));
    assert!(build.resources.as_ref().unwrap().limits.is_some());
    assert_env(
        build,
        &[
            ("SLIPWAY_EXECUTOR_BUILDSPEC", "ci/buildspec.yml"),
            ("SLIPWAY_EXECUTOR_BUILD_NUMBER", "3"),
            ("STAGE", "prod"),
            (
                "SLIPWAY_EXECUTOR_PROJECT_ENV",
                "DB_PASSWORD,REGION,STAGE,TOKEN",
            ),
            ("SLIPWAY_EXECUTOR_SECRET_ENV", "DB_PASSWORD,TOKEN"),
        ],
    );
    let token = build
        .env
        .as_ref()
        .unwrap()
        .iter()
        .find(|v| v.name == "TOKEN")
        .unwrap();
    assert!(
        token.value.is_none() && token.value_from.is_some(),
        "the value stays a reference"
    );
    assert_eq!(build.env_from.as_ref().unwrap().len(), 2);
    assert_env(
        build,
        &[
            (
                "SLIPWAY_EXECUTOR_PARAMETER_STORE_DIR",
                "/slipway/parameters/parameter-store",
            ),
            ("SLIPWAY_EXECUTOR_PARAMETER_STORE_CONFIG_MAP", "params"),
            (
                "SLIPWAY_EXECUTOR_SECRETS_MANAGER_DIR",
                "/slipway/parameters/secrets-manager",
            ),
            ("SLIPWAY_EXECUTOR_SECRETS_MANAGER_SECRET", "secrets"),
        ],
    );
    assert!(mounts(build).contains(&(
        "secrets-manager".into(),
        "/slipway/parameters/secrets-manager".into(),
        true
    )));
    let params = pod
        .volumes
        .as_ref()
        .unwrap()
        .iter()
        .find(|v| v.name == "parameter-store")
        .unwrap();
    assert_eq!(params.config_map.as_ref().unwrap().name, "params");
}

#[test]
fn options_choose_the_executor_image_path_docker_image_and_ttl() {
    let options = JobOptions {
        executor_image: "registry.local/slipway:dev".into(),
        executor_path: "/opt/slipway".into(),
        docker_image: "registry.local/dind:1".into(),
        job_ttl_seconds: None,
    };
    let mut spec = inline_only();
    spec["environment"]["privileged"] = json!(true);
    let job = render_job(&build_run(spec), &options, &facts()).unwrap();
    let tools = init(&job, "slipway-tools");
    assert_eq!(tools.image.as_deref(), Some("registry.local/slipway:dev"));
    assert_eq!(tools.command.as_ref().unwrap()[0], "/opt/slipway");
    assert_eq!(
        init(&job, "docker").image.as_deref(),
        Some("registry.local/dind:1")
    );
    assert_eq!(job.spec.as_ref().unwrap().ttl_seconds_after_finished, None);
}

#[test]
fn a_pipeline_execution_owner_becomes_the_initiator() {
    let mut run = build_run(inline_only());
    run.metadata.owner_references = Some(vec![OwnerReference {
        api_version: "slipway.dev/v1alpha1".into(),
        kind: "PipelineExecution".into(),
        name: "web-7".into(),
        uid: "x".into(),
        controller: Some(true),
        block_owner_deletion: None,
    }]);
    let job = render_job(&run, &JobOptions::default(), &facts()).unwrap();
    assert_eq!(
        env(build(&job), "SLIPWAY_EXECUTOR_INITIATOR"),
        Some("pipeline-execution/web-7")
    );
}

#[test]
fn a_buildrun_not_read_from_the_api_cannot_be_rendered() {
    let mut run = build_run(inline_only());
    run.metadata.uid = None;
    assert_eq!(
        render_job(&run, &JobOptions::default(), &facts()),
        Err(RenderError::MissingMetadata("uid"))
    );
}
