//! A run with nothing simulated in its build: a manual execution of a pipeline whose build pod
//! really runs the executor (fetch from a `file://` repository, the buildspec, the image built
//! by the Docker Engine and pushed to Debian's `docker-registry` with a credentials Secret),
//! then a deploy that rolls the pushed `repository@digest` out and switches the Service.
//!
//! A second dockerd cannot run beside this machine's, so the pod's `docker` sidecar is replaced
//! ([`PodScript::replace_command`]) by a link from the pod's socket path to the host engine's
//! socket: the executor still reaches its daemon through `DOCKER_HOST` as rendered for the pod.
//! Needs the Docker Engine, `docker-registry`, `htpasswd`, `git` and a static `/bin/busybox`; a
//! missing one fails the test naming what to install.

use std::os::unix::fs::FileTypeExt;

use base64::Engine;
use k8s_openapi::api::apps::v1::Deployment as AppsDeployment;
use k8s_openapi::api::core::v1::Secret;
use slipway::api::buildrun::BuildStatus;
use slipway::build::job::{
    BUILD_CONTAINER, DOCKER_CONTAINER, DOCKER_SOCKET, FETCH_CONTAINER, TOOLS_CONTAINER,
};
use slipway::runtime::BuildOptions;
use slipway_testcluster::simulate::RunMode;

use super::support::registry::{PASSWORD, TestRegistry, USER};
use super::*;

use super::git_fixture;

/// The registry repository the build pushes to (under the test registry's address).
const REPOSITORY: &str = "shop/web";

/// Fetches, builds on `Dockerfile` and echoes the exported image variables in `post_build`.
const BUILDSPEC: &str = "version: 0.2
phases:
  build:
    commands:
      - echo \"building $CODEBUILD_RESOLVED_SOURCE_VERSION\"
  post_build:
    commands:
      - echo \"pushed $IMAGE_WEB_URI tag $IMAGE_WEB_TAG\"
";

/// A `FROM scratch` image around the static busybox (nothing is pulled).
const DOCKERFILE: &str = "FROM scratch
COPY busybox /bin/busybox
COPY version.txt /version.txt
ENTRYPOINT [\"/bin/busybox\", \"cat\", \"/version.txt\"]
";

#[tokio::test]
async fn a_manual_run_builds_and_pushes_a_real_image_and_rolls_out_its_digest() {
    let started = std::time::Instant::now();
    let engine_socket = host_docker_socket();
    let busybox = std::fs::read("/bin/busybox").unwrap_or_else(|error| {
        panic!("this test needs a static /bin/busybox: apt-get install busybox-static ({error})")
    });
    let registry = TestRegistry::start();
    let source = git_fixture::Repository::with_files(
        "build-push",
        &[
            ("buildspec.yml", BUILDSPEC.as_bytes()),
            ("Dockerfile", DOCKERFILE.as_bytes()),
            ("busybox", &busybox),
            // Unique per run, so the host engine's cache never answers for another test's image.
            (
                "version.txt",
                format!(
                    "{} {:?}\n",
                    std::process::id(),
                    std::time::SystemTime::now()
                )
                .as_bytes(),
            ),
        ],
    );
    let repository = format!("{}/{REPOSITORY}", registry.address);

    let mut harness = Harness::without_controller().await;
    push_credentials(&harness, &registry).await;
    harness
        .pipeline("shop", building_pipeline(&source.file_url(), &repository))
        .await;
    // The pod's own dockerd cannot run here: link the socket path the pod uses to this
    // machine's engine instead (the local runner maps the pod path onto the pod's volume).
    harness.script_build(
        "push-1",
        "Build",
        "Image",
        1,
        PodScript::default().run(RunMode::Local).replace_command(
            DOCKER_CONTAINER,
            ["ln", "-s", engine_socket.as_str(), DOCKER_SOCKET],
        ),
    );
    harness.controller = Some(Controller::start_with_build(
        &harness.cluster,
        BuildOptions {
            executor_path: env!("CARGO_BIN_EXE_slipway").to_owned(),
            ..BuildOptions::default()
        },
    ));
    harness.start_run("shop", "push-1", &source.commit).await;

    let done = harness
        .wait_run("push-1", "the run to end", 50, |run| {
            !matches!(
                phase_of(run),
                None | Some(ExecutionStatus::InProgress | ExecutionStatus::Stopping)
            )
        })
        .await;
    if phase_of(&done) != Some(ExecutionStatus::Succeeded) {
        panic!(
            "the run did not succeed: {:#?}\n{}",
            done.status,
            build_diagnostics(&harness).await
        );
    }
    let variables = &done.status.as_ref().unwrap().variables["BuildVariables"];
    let uri = &variables["IMAGE_WEB_URI"];
    let (pushed_repository, digest) = uri.split_once('@').expect("IMAGE_WEB_URI is repo@digest");
    assert_eq!(pushed_repository, repository);
    assert_eq!(
        variables["IMAGE_WEB_TAG"], source.commit,
        "tagged with the commit"
    );
    assert_eq!(
        registry
            .manifest_digest(REPOSITORY, &source.commit)
            .as_deref(),
        Some(digest),
        "the registry serves the recorded digest for the tag"
    );

    let builds = harness
        .builds()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(builds.len(), 1, "exactly one BuildRun");
    let build = builds[0].status.as_ref().unwrap();
    assert_eq!(build.build_status, Some(BuildStatus::Succeeded));
    assert_eq!(build.images[0].image_uri.as_deref(), Some(uri.as_str()));
    let log = harness
        .simulation
        .pod_log(
            NAMESPACE,
            build.pod_name.as_deref().unwrap(),
            Some(BUILD_CONTAINER),
        )
        .unwrap_or_default();
    assert!(
        log.contains(&format!("pushed {uri} tag {}", source.commit)),
        "post_build saw the pushed image: {log}"
    );

    let records = harness
        .records()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(records.len(), 1, "exactly one rollout record");
    assert_eq!(
        records[0].spec.template.revision.images.as_ref().unwrap()[0].image,
        *uri
    );
    let selector = harness.selector().await;
    let revision = selector
        .get("slipway.dev/revision")
        .unwrap_or_else(|| panic!("production moved to a revision: {selector:?}"));
    let workloads: Api<AppsDeployment> = Api::namespaced(harness.client(), NAMESPACE);
    let revisions = workloads
        .list(&ListParams::default().labels(&format!("slipway.dev/revision={revision}")))
        .await
        .unwrap()
        .items;
    assert_eq!(
        revisions.len(),
        1,
        "one revision Deployment behind the Service"
    );
    let containers = &revisions[0]
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers;
    let web = containers.iter().find(|c| c.name == "web").unwrap();
    assert_eq!(
        web.image.as_deref(),
        Some(uri.as_str()),
        "the revision runs the digest"
    );

    harness.controller.take().unwrap().stop().await;
    remove_local_image(&format!("{repository}:{}", source.commit));
    eprintln!("build → push → rollout took {:?}", started.elapsed());
}

/// Build (image `web` pushed to `repository`, tagged with the commit) → Deploy (all at once).
fn building_pipeline(url: &str, repository: &str) -> Value {
    json!({
        "source": {"git": {"url": url, "branch": "main", "pollInterval": "0s"}},
        "stages": [
            {"name": "Build", "actions": [{
                "name": "Image", "namespace": "BuildVariables", "inputArtifacts": ["SourceArtifact"],
                "build": {
                    "environment": {"image": "busybox"},
                    "images": [{
                        "name": "web", "repository": repository,
                        "tags": ["$CODEBUILD_RESOLVED_SOURCE_VERSION"],
                        "credentialsSecret": {"name": "registry-push"}
                    }]
                }
            }]},
            {"name": "Deploy", "actions": [{
                "name": "Roll",
                "deploy": {
                    "target": {"service": "web", "workload": "web", "container": "web"},
                    "revision": {"images": [{"container": "web", "image": "#{BuildVariables.IMAGE_WEB_URI}"}]},
                    "strategy": {"allAtOnce": {}, "blueGreen": {"terminationWait": "0s"}}
                }
            }]}
        ]
    })
}

/// Secret `registry-push`: the registry's test user as a dockerconfigjson.
async fn push_credentials(harness: &Harness, registry: &TestRegistry) {
    let config = registry.docker_config(USER, PASSWORD);
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "registry-push"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64::engine::general_purpose::STANDARD.encode(config)}
    }))
    .unwrap();
    Api::<Secret>::namespaced(harness.client(), NAMESPACE)
        .create(&PostParams::default(), &secret)
        .await
        .expect("the push Secret is created");
}

/// The host engine's unix socket: `DOCKER_HOST` when it names one, else the default socket.
fn host_docker_socket() -> String {
    let socket = match std::env::var("DOCKER_HOST") {
        Ok(host) if !host.is_empty() => host
            .strip_prefix("unix://")
            .unwrap_or_else(|| {
                panic!(
                    "this test links the Docker Engine's unix socket into the build pod, but DOCKER_HOST={host} names none: unset DOCKER_HOST or set it to unix:///path/to/docker.sock"
                )
            })
            .to_owned(),
        _ => "/var/run/docker.sock".to_owned(),
    };
    let is_socket = std::fs::metadata(&socket).is_ok_and(|m| m.file_type().is_socket());
    assert!(
        is_socket,
        "this test needs a running Docker Engine listening on {socket}: apt-get install docker.io and start it (or set DOCKER_HOST=unix://…)"
    );
    socket
}

/// Each BuildRun's status and its pod's container logs, for a failure message.
async fn build_diagnostics(harness: &Harness) -> String {
    let mut text = String::new();
    for build in harness
        .builds()
        .list(&ListParams::default())
        .await
        .map(|list| list.items)
        .unwrap_or_default()
    {
        text.push_str(&format!("BuildRun status: {:#?}\n", build.status));
        let Some(pod) = build.status.as_ref().and_then(|s| s.pod_name.clone()) else {
            continue;
        };
        for container in [
            TOOLS_CONTAINER,
            FETCH_CONTAINER,
            DOCKER_CONTAINER,
            BUILD_CONTAINER,
        ] {
            let log = harness
                .simulation
                .pod_log(NAMESPACE, &pod, Some(container))
                .unwrap_or_default();
            text.push_str(&format!("--- {container} log ---\n{log}\n"));
        }
    }
    text
}

/// Removes the image the host engine keeps after the build (best effort: the test is over).
fn remove_local_image(reference: &str) {
    match std::process::Command::new("docker")
        .args(["rmi", "--force", reference])
        .output()
    {
        Ok(output) if output.status.success() => {}
        other => eprintln!("unable to remove the test image {reference}: {other:?}"),
    }
}
