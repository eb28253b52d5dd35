//! Image outputs against the real Docker Engine and a real registry (Debian's `docker-registry`
//! with htpasswd authentication on loopback): build, push, the digest checked through the
//! registry's HTTP API, the registry's message on a wrong password, the daemon's message on a
//! failing Dockerfile step, the layer cache kept in the registry, and FAULT without a daemon.
//!
//! Test images are built `FROM scratch` around the static `/bin/busybox` (Debian's
//! `busybox-static`), so nothing is pulled from outside.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use slipway::api::buildrun::{BuildPhaseType, BuildStatus, ImageOutput};
use slipway::build::executor::{
    BuildMetadata, BuildResult, EnvironmentSources, ExecutorConfig, LogSink, NoArtifactStore,
    ShellProgram, run_build_with_images,
};
use slipway::build::image::{DockerImagePublisher, PublisherSettings};
use support::Scratch;
use support::registry::{PASSWORD, TestRegistry, USER, unique};

const BUILDSPEC: &str = r#"version: 0.2
phases:
  pre_build:
    commands:
      - IMAGE_TAG=build-$(echo 0123456789abcdef | cut -c 1-7)
      - GREETING=hello
  build:
    commands:
      - echo building
  post_build:
    commands:
      - echo "post_build succeeding=$CODEBUILD_BUILD_SUCCEEDING"
      - echo "uri=$IMAGE_WEB_URI digest=$IMAGE_WEB_DIGEST tag=$IMAGE_WEB_TAG"
"#;

/// A source directory with a buildspec and a FROM-scratch Dockerfile whose first layer is
/// unique to this test (so no other build's local cache can serve it).
fn source(label: &str, dockerfile: &str) -> Scratch {
    let scratch = Scratch::new(&format!("image-{label}-{}", unique()));
    assert!(
        Path::new("/bin/busybox").exists(),
        "these tests need a static /bin/busybox: apt-get install busybox-static"
    );
    scratch.write("buildspec.yml", BUILDSPEC);
    scratch.write("Dockerfile", dockerfile);
    scratch.write(".dockerignore", "buildspec.yml\n*.log\n");
    scratch.write("debug.log", "left out of the context\n");
    scratch.write(
        "unique.txt",
        &format!(
            "{label} {} {:?}\n",
            std::process::id(),
            std::time::SystemTime::now()
        ),
    );
    std::fs::copy("/bin/busybox", scratch.0.join("busybox")).expect("copy busybox");
    scratch
}

const DOCKERFILE: &str = "FROM scratch\nCOPY unique.txt /unique.txt\nCOPY busybox /bin/busybox\nARG GREETING=unset\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo greeting=$GREETING; /bin/busybox ls /debug.log 2>/dev/null || echo context-without-log\"]\n";

fn image_output(repository: &str, tags: &[&str]) -> ImageOutput {
    serde_json::from_value(serde_json::json!({
        "name": "web",
        "repository": repository,
        "tags": tags,
        "buildArgs": [{"name": "GREETING", "value": "$GREETING-$IMAGE_TAG"}],
    }))
    .expect("an image output")
}

struct Build {
    result: BuildResult,
    log: String,
}

impl Build {
    #[track_caller]
    fn assert_status(&self, status: BuildStatus) {
        assert_eq!(self.result.build_status, status, "{}", self.log);
    }

    #[track_caller]
    fn assert_log_contains(&self, text: &str) {
        assert!(self.log.contains(text), "{}", self.log);
    }
}

fn credentials(scratch: &Scratch, config: &str) -> PathBuf {
    let dir = scratch.0.join("credentials");
    std::fs::create_dir_all(dir.join("image-web")).unwrap();
    std::fs::write(dir.join("image-web/.dockerconfigjson"), config).unwrap();
    dir
}

fn build(
    scratch: &Scratch,
    images: Vec<ImageOutput>,
    credentials_dir: PathBuf,
    project: Vec<(String, String)>,
) -> Build {
    build_with(BUILDSPEC, scratch, images, credentials_dir, project)
}

fn build_with(
    buildspec: &str,
    scratch: &Scratch,
    images: Vec<ImageOutput>,
    credentials_dir: PathBuf,
    project: Vec<(String, String)>,
) -> Build {
    let config = ExecutorConfig {
        buildspec: buildspec.to_owned(),
        buildspec_name: "buildspec.yml".to_owned(),
        metadata: BuildMetadata::new("image-test"),
        src_dir: scratch.0.clone(),
        work_dir: None,
        shell: Some(ShellProgram::parse("/bin/sh")),
        sources: EnvironmentSources {
            inherited: vec![("PATH".into(), std::env::var("PATH").unwrap_or_default())],
            project,
            ..EnvironmentSources::default()
        },
    };
    let mut publisher = DockerImagePublisher::new(
        images,
        PublisherSettings {
            src_dir: scratch.0.clone(),
            credentials_dir,
            docker_host: std::env::var("DOCKER_HOST").ok(),
            docker_wait: Duration::from_secs(2),
        },
    );
    let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink: LogSink = buffer.clone();
    let result = run_build_with_images(&config, sink, &mut NoArtifactStore, &mut publisher);
    let log = String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned();
    Build { result, log }
}

fn phase_message(result: &BuildResult, phase: BuildPhaseType) -> String {
    result
        .phases
        .iter()
        .find(|record| record.phase_type == phase)
        .and_then(|record| record.message.clone())
        .unwrap_or_default()
}

fn remove_local_images(references: &[String]) {
    let output = Command::new("docker")
        .args(["rmi", "--force"])
        .args(references)
        .output()
        .expect("the docker CLI (docker.io) removes the test images");
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn pushed_image_digest_matches_the_registry_and_post_build_sees_it() {
    let registry = TestRegistry::start();
    let scratch = source("push", DOCKERFILE);
    let path = format!("slipway-test/web-{}", unique());
    let repository = format!("{}/{path}", registry.address);
    let credentials_dir = credentials(&scratch, &registry.docker_config(USER, PASSWORD));
    let build = build(
        &scratch,
        vec![image_output(&repository, &["$IMAGE_TAG", "latest"])],
        credentials_dir,
        Vec::new(),
    );
    build.assert_status(BuildStatus::Succeeded);
    let image = &build.result.images[0];
    assert_eq!(image.tags, ["build-0123456", "latest"]);
    let digest = registry
        .manifest_digest(&path, "build-0123456")
        .expect("the registry has the pushed tag");
    assert!(digest.starts_with("sha256:"), "{digest}");
    assert_eq!(image.digest.as_deref(), Some(digest.as_str()));
    assert_eq!(
        registry.manifest_digest(&path, "latest").as_deref(),
        Some(digest.as_str())
    );
    let uri = format!("{repository}@{digest}");
    assert_eq!(image.image_uri.as_deref(), Some(uri.as_str()));
    build.assert_log_contains("greeting=hello-build-0123456");
    build.assert_log_contains("context-without-log");
    build.assert_log_contains(&format!("\nuri={uri} digest={digest} tag=build-0123456\n"));
    assert!(!build.log.contains(PASSWORD), "{}", build.log);
    remove_local_images(&[
        format!("{repository}:build-0123456"),
        format!("{repository}:latest"),
    ]);
}

#[test]
fn wrong_password_fails_the_build_with_the_registry_message() {
    let registry = TestRegistry::start();
    let scratch = source("auth", DOCKERFILE);
    let repository = format!("{}/slipway-test/auth-{}", registry.address, unique());
    let credentials_dir = credentials(&scratch, &registry.docker_config(USER, "wrong-password"));
    let build = build(
        &scratch,
        vec![image_output(&repository, &["v1"])],
        credentials_dir,
        Vec::new(),
    );
    build.assert_status(BuildStatus::Failed);
    let message = phase_message(&build.result, BuildPhaseType::Build);
    assert!(
        message.starts_with(&format!(
            "IMAGE_PUSH_ERROR: failed to push {repository}:v1: "
        )),
        "{message}"
    );
    // The registry's own words for a rejected login, passed on by the daemon.
    assert!(
        message.ends_with("unauthorized: authentication required"),
        "{message}"
    );
    build.assert_log_contains("\npost_build succeeding=0\n");
    assert!(build.result.images.is_empty());
    assert!(!build.log.contains("wrong-password"), "{}", build.log);
    remove_local_images(&[format!("{repository}:v1")]);
}

#[test]
fn a_failing_dockerfile_step_fails_the_build_with_the_daemon_message() {
    let scratch = source(
        "step",
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"exit 3\"]\n",
    );
    let repository = format!("127.0.0.1:1/slipway-test/step-{}", unique());
    let build = build(
        &scratch,
        vec![image_output(&repository, &["v1"])],
        scratch.0.join("no-credentials"),
        Vec::new(),
    );
    build.assert_status(BuildStatus::Failed);
    let message = phase_message(&build.result, BuildPhaseType::Build);
    assert!(
        message.starts_with("IMAGE_BUILD_ERROR: failed to build image web: "),
        "{message}"
    );
    assert!(message.contains("returned a non-zero code: 3"), "{message}");
    build.assert_log_contains("\npost_build succeeding=0\n");
}

#[test]
fn an_unset_tag_variable_fails_the_build_naming_what_the_tag_became() {
    let scratch = source("tag", DOCKERFILE);
    let build = build(
        &scratch,
        vec![image_output(
            "127.0.0.1:1/slipway-test/tag",
            &["$NOT_SET_ANYWHERE"],
        )],
        scratch.0.join("no-credentials"),
        Vec::new(),
    );
    build.assert_status(BuildStatus::Failed);
    let message = phase_message(&build.result, BuildPhaseType::Build);
    assert!(
        message.contains("`tags` `$NOT_SET_ANYWHERE` became ``, which is not a valid tag"),
        "{message}"
    );
}

#[test]
fn no_docker_daemon_is_a_fault_naming_docker_host() {
    let scratch = source("nodaemon", DOCKERFILE);
    let build = build(
        &scratch,
        vec![image_output("127.0.0.1:1/slipway-test/none", &["v1"])],
        scratch.0.join("no-credentials"),
        vec![("DOCKER_HOST".into(), "tcp://127.0.0.1:1".into())],
    );
    build.assert_status(BuildStatus::Fault);
    let message = build.result.message.clone().unwrap_or_default();
    assert!(
        message.starts_with("CLIENT_ERROR: unable to reach the Docker Engine at tcp://127.0.0.1:1"),
        "{message}"
    );
    assert!(
        message.contains("DOCKER_HOST") && message.contains("environment.privileged"),
        "{message}"
    );
    // A fault ends the build: post_build does not run.
    assert!(
        !build.log.contains("post_build succeeding"),
        "{}",
        build.log
    );
    assert_eq!(build.result.exit_code(), 2);
}

#[test]
fn a_second_build_reuses_layers_pulled_from_the_registry() {
    let registry = TestRegistry::start();
    let scratch = source("cache", DOCKERFILE);
    let path = format!("slipway-test/cache-{}", unique());
    let repository = format!("{}/{path}", registry.address);
    let credentials_dir = credentials(&scratch, &registry.docker_config(USER, PASSWORD));
    let first = build(
        &scratch,
        vec![image_output(&repository, &["one", "latest"])],
        credentials_dir.clone(),
        Vec::new(),
    );
    assert_eq!(
        first.result.build_status,
        BuildStatus::Succeeded,
        "{}",
        first.log
    );
    assert!(
        !first.log.contains("Using cache"),
        "a cold first build: {}",
        first.log
    );
    // The pod's daemon is ephemeral: nothing of the first build is left locally.
    remove_local_images(&[format!("{repository}:one"), format!("{repository}:latest")]);
    let second = build(
        &scratch,
        vec![image_output(&repository, &["two"])],
        credentials_dir,
        Vec::new(),
    );
    assert_eq!(
        second.result.build_status,
        BuildStatus::Succeeded,
        "{}",
        second.log
    );
    assert!(
        second
            .log
            .contains(&format!("Layer cache: using {repository}:latest")),
        "{}",
        second.log
    );
    // Every step after FROM (two COPYs, ARG, RUN) comes from the pulled image.
    assert_eq!(
        second.log.matches("Using cache").count(),
        4,
        "{}",
        second.log
    );
    assert_eq!(
        first.result.images[0].digest,
        second.result.images[0].digest
    );
    assert_eq!(
        registry.manifest_digest(&path, "two"),
        second.result.images[0].digest
    );
    remove_local_images(&[format!("{repository}:two"), format!("{repository}:latest")]);
}

#[test]
fn the_executor_command_reports_a_missing_daemon_as_fault_in_the_termination_message() {
    let scratch = source("cli", DOCKERFILE);
    let termination = scratch.0.join("termination-log");
    let images =
        serde_json::to_string(&vec![image_output("127.0.0.1:1/slipway-test/cli", &["v1"])])
            .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["executor", "run", "--source"])
        .arg(&scratch.0)
        .arg("--termination-message-path")
        .arg(&termination)
        .env("SLIPWAY_EXECUTOR_IMAGES", images)
        .env("SLIPWAY_EXECUTOR_DOCKER_WAIT_SECONDS", "0")
        .env("DOCKER_HOST", "tcp://127.0.0.1:1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    let message: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&termination).unwrap()).unwrap();
    assert_eq!(message["buildStatus"], "FAULT", "{message}");
    assert!(
        message["message"]
            .as_str()
            .unwrap_or_default()
            .contains("DOCKER_HOST"),
        "{message}"
    );
}

#[test]
fn an_image_with_push_false_is_built_but_not_pushed() {
    let scratch = source("nopush", DOCKERFILE);
    let repository = format!("127.0.0.1:1/slipway-test/nopush-{}", unique());
    let mut output = image_output(&repository, &["$IMAGE_TAG"]);
    output.push = false;
    let build = build(
        &scratch,
        vec![output],
        scratch.0.join("no-credentials"),
        Vec::new(),
    );
    build.assert_status(BuildStatus::Succeeded);
    let image = &build.result.images[0];
    assert_eq!(
        (image.digest.as_ref(), image.image_uri.as_ref()),
        (None, None)
    );
    build.assert_log_contains("\nuri= digest= tag=build-0123456\n");
    assert!(!build.log.contains("Pushing "), "{}", build.log);
    remove_local_images(&[format!("{repository}:build-0123456")]);
}

#[test]
fn docker_commands_in_a_buildspec_reach_the_daemon_named_by_docker_host() {
    let scratch = source("cli-in-buildspec", DOCKERFILE);
    let tag = format!(
        "slipway-test/in-buildspec:{}-{}",
        std::process::id(),
        unique()
    );
    let buildspec = format!(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"host=$DOCKER_HOST\"\n      - docker build -q -t {tag} .\n      - docker image inspect --format 'built={{{{.Id}}}}' {tag}\n"
    );
    let host =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let build = build_with(
        &buildspec,
        &scratch,
        Vec::new(),
        scratch.0.join("no-credentials"),
        vec![("DOCKER_HOST".into(), host.clone())],
    );
    build.assert_status(BuildStatus::Succeeded);
    build.assert_log_contains(&format!("\nhost={host}\n"));
    build.assert_log_contains("\nbuilt=sha256:");
    remove_local_images(&[tag]);
}
