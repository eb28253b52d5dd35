//! Sources read by the controller: a run started without a commit builds the head of its
//! branch, resolved with ls-remote against a real git repository served over HTTP with basic
//! authentication; an image source behind an htpasswd registry and an object-store source behind
//! a loopback S3 stand-in are polled with their Secrets, and a new digest or version starts a run.

use super::*;
use git_fixture::Upstream;

#[tokio::test]
async fn a_run_without_a_commit_builds_the_head_of_its_branch() {
    let harness = Harness::start().await;
    let (upstream, server) = harness.git_host().await;
    let mut spec = web_pipeline("Superseded");
    spec["source"]["git"] = json!({"url": server.url("repo.git"), "branch": "feature", "credentialsSecret": {"name": "git-token"}, "pollInterval": "0s"});
    harness.pipeline("web", spec).await;
    harness.script_build(
        "web-head",
        "Build",
        "Image",
        1,
        successful_build("sha256:eeee", &[]),
    );
    let run: PipelineExecution = serde_json::from_value(json!({
        "apiVersion": "slipway.dev/v1alpha1", "kind": "PipelineExecution",
        "metadata": {"name": "web-head"}, "spec": {"pipelineRef": {"name": "web"}}
    }))
    .unwrap();
    harness
        .runs()
        .create(&PostParams::default(), &run)
        .await
        .unwrap();
    let waiting = harness
        .wait_action_running("web-head", "Approve", "Release")
        .await;
    let source = waiting.status.clone().unwrap().source_revision.unwrap();
    assert_eq!(source.commit_id.as_deref(), Some(upstream.feature.as_str()));
    assert_eq!(source.branch_name.as_deref(), Some("feature"));
    let build = harness
        .builds()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .remove(0);
    let git = build.spec.source.unwrap().git.unwrap();
    assert_eq!(
        git.revision, upstream.feature,
        "the build fetches exactly the resolved commit"
    );
    let text = serde_json::to_string(&waiting).unwrap();
    assert!(
        !text.contains("s3cret-token"),
        "the token never reaches the run"
    );
    harness.controller.unwrap().stop().await;
}

#[tokio::test]
async fn an_unknown_branch_fails_the_run_naming_the_branches_that_exist() {
    let harness = Harness::start().await;
    let upstream = Upstream::create();
    let mut spec = web_pipeline("Superseded");
    spec["source"]["git"] =
        json!({"url": upstream.file_url(), "branch": "nope", "pollInterval": "0s"});
    harness.pipeline("web", spec).await;
    let run: PipelineExecution = serde_json::from_value(json!({
        "apiVersion": "slipway.dev/v1alpha1", "kind": "PipelineExecution",
        "metadata": {"name": "web-nope"}, "spec": {"pipelineRef": {"name": "web"}}
    }))
    .unwrap();
    harness
        .runs()
        .create(&PostParams::default(), &run)
        .await
        .unwrap();
    let failed = harness
        .wait_phase("web-nope", ExecutionStatus::Failed, 30)
        .await;
    let message = failed.status.unwrap().message.unwrap();
    assert!(
        message.contains("nope") && message.contains("main"),
        "{message}"
    );
    harness.controller.unwrap().stop().await;
}

/// Pushes a one-layer artifact holding `content` to `registry` as `repository:tag`; returns
/// its manifest digest.
async fn push_artifact(
    registry: &super::support::registry::TestRegistry,
    repository: &str,
    tag: &str,
    content: &[u8],
) -> String {
    use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
    use oci_client::manifest::OciImageManifest;
    use oci_client::secrets::RegistryAuth;
    slipway::tls::install_crypto_provider();
    let client = oci_client::Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..ClientConfig::default()
    });
    let reference: oci_client::Reference = format!("{}/{repository}:{tag}", registry.address)
        .parse()
        .unwrap();
    let layers = [ImageLayer::new(
        content.to_vec(),
        "application/vnd.oci.image.layer.v1.tar".to_owned(),
        None,
    )];
    let config = Config::new(
        b"{}".to_vec(),
        "application/vnd.oci.empty.v1+json".to_owned(),
        None,
    );
    let manifest = OciImageManifest::build(&layers, &config, None);
    let auth = RegistryAuth::Basic(
        super::support::registry::USER.to_owned(),
        super::support::registry::PASSWORD.to_owned(),
    );
    client
        .push(&reference, &layers, config, &auth, Some(manifest))
        .await
        .expect("the artifact is pushed");
    registry
        .manifest_digest(repository, tag)
        .expect("the pushed tag has a digest")
}

fn image_pipeline(repository: &str, credentials: Option<&str>) -> Value {
    let mut image = json!({"repository": repository, "tag": "latest", "pollInterval": "2s"});
    if let Some(secret) = credentials {
        image["credentialsSecret"] = json!({"name": secret});
    }
    json!({
        "source": {"image": image},
        "executionMode": "Parallel",
        "stages": [
            {"name": "Hold", "actions": [{"name": "Wait", "approval": {}}]},
            {"name": "Done", "actions": [{"name": "Note", "approval": {}}]}
        ]
    })
}

/// The Pipeline's `status.lastSeenRevision`.
async fn last_seen(harness: &Harness, name: &str) -> Option<String> {
    harness
        .pipelines()
        .get(name)
        .await
        .unwrap()
        .status
        .and_then(|status| status.last_seen_revision)
}

/// The Pipeline's `SourceAvailable` condition once it has status `wanted`: reason and message.
async fn source_available(harness: &Harness, name: &str, wanted: &str) -> (String, String) {
    let status = harness
        .wait_pipeline(name, &format!("SourceAvailable={wanted}"), |status| {
            status
                .conditions
                .iter()
                .any(|c| c.type_ == "SourceAvailable" && c.status == wanted)
        })
        .await;
    let condition = status
        .conditions
        .into_iter()
        .find(|c| c.type_ == "SourceAvailable")
        .expect("the condition waited for");
    (condition.reason, condition.message)
}

#[tokio::test]
async fn a_private_image_source_is_polled_with_its_pull_secret_and_a_new_digest_runs() {
    let registry = super::support::registry::TestRegistry::start();
    let first = push_artifact(&registry, "team/app", "latest", b"one").await;
    let harness = Harness::start().await;
    let config = registry.docker_config(
        super::support::registry::USER,
        super::support::registry::PASSWORD,
    );
    harness
        .secret("pull", &[(".dockerconfigjson", &config)])
        .await;
    let repository = format!("{}/team/app", registry.address);
    harness
        .pipeline("private", image_pipeline(&repository, Some("pull")))
        .await;
    harness
        .pipeline("anonymous", image_pipeline(&repository, None))
        .await;

    let (reason, message) = source_available(&harness, "anonymous", "False").await;
    assert_eq!(
        reason, "Unauthorized",
        "the registry refuses anonymous pulls: {message}"
    );
    source_available(&harness, "private", "True").await;
    assert_eq!(
        last_seen(&harness, "private").await.as_deref(),
        Some(first.as_str()),
        "the first digest is the baseline"
    );

    let second = push_artifact(&registry, "team/app", "latest", b"two").await;
    assert_ne!(first, second);
    let run_name = slipway::trigger::runs::poll_run_name("private", &second);
    let run = harness
        .wait_run(&run_name, "the poll's run of the new digest", 60, |run| {
            run.status.is_some()
        })
        .await;
    let source = run.spec.source.as_ref().unwrap();
    assert_eq!(source.image_digest.as_deref(), Some(second.as_str()));
    assert_eq!(
        run.spec.trigger.type_,
        slipway::api::execution::TriggerType::ImagePush,
        "a new digest behind the tag is CodePipeline's image push trigger"
    );
    assert_eq!(
        run.spec.trigger.actor.as_deref(),
        Some(slipway::trigger::poll::POLLER_ACTOR)
    );
    let runs = harness
        .runs()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(
        runs.len(),
        1,
        "one run: the baseline starts none and the anonymous pipeline cannot see the tag"
    );
}

/// A stand-in for an S3-compatible store that answers `HEAD /<bucket>/<key>` for one object
/// with the ETag it holds, and records each request's `Authorization` header.
#[derive(Clone, Default)]
struct FakeS3 {
    etag: std::sync::Arc<std::sync::Mutex<String>>,
    authorizations: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

async fn fake_s3_object(
    axum::extract::State(store): axum::extract::State<FakeS3>,
    axum::extract::Path((bucket, key)): axum::extract::Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    store.authorizations.lock().unwrap().push(
        headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
    );
    if bucket != "releases" || key != "app.zip" {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    }
    let etag = store.etag.lock().unwrap().clone();
    (
        [
            ("etag", format!("\"{etag}\"")),
            ("last-modified", "Tue, 08 Dec 2026 00:00:00 GMT".to_owned()),
            ("content-length", "3".to_owned()),
        ],
        "zip",
    )
        .into_response()
}

#[tokio::test]
async fn an_object_store_source_is_polled_for_new_versions_with_its_credentials() {
    let store = FakeS3::default();
    *store.etag.lock().unwrap() = "etag-one".to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/{bucket}/{*key}", axum::routing::get(fake_s3_object))
        .with_state(store.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let harness = Harness::start().await;
    harness
        .secret(
            "s3",
            &[
                ("AWS_ACCESS_KEY_ID", "AKIDSLIPWAYTEST"),
                ("AWS_SECRET_ACCESS_KEY", "not-shown"),
            ],
        )
        .await;
    let spec = |url: &str| {
        json!({
            "source": {"objectStore": {"url": url, "endpoint": endpoint, "region": "us-east-1",
                                       "credentialsSecret": {"name": "s3"}, "pollInterval": "2s"}},
            "executionMode": "Parallel",
            "stages": [
                {"name": "Hold", "actions": [{"name": "Wait", "approval": {}}]},
                {"name": "Done", "actions": [{"name": "Note", "approval": {}}]}
            ]
        })
    };
    harness
        .pipeline("bundle", spec("s3://releases/app.zip"))
        .await;
    harness
        .pipeline("missing", spec("s3://releases/gone.zip"))
        .await;

    let (reason, message) = source_available(&harness, "missing", "False").await;
    assert_eq!(reason, "NotFound", "{message}");
    assert!(!message.contains("not-shown"), "{message}");
    source_available(&harness, "bundle", "True").await;
    assert_eq!(
        last_seen(&harness, "bundle").await.as_deref(),
        Some("etag-one"),
        "the first version is the baseline"
    );
    assert!(
        store
            .authorizations
            .lock()
            .unwrap()
            .iter()
            .all(|header| header.contains("Credential=AKIDSLIPWAYTEST/")),
        "every request is signed with the Secret's key"
    );

    *store.etag.lock().unwrap() = "etag-two".to_owned();
    let run_name = slipway::trigger::runs::poll_run_name("bundle", "etag-two");
    let run = harness
        .wait_run(&run_name, "the poll's run of the new version", 60, |run| {
            run.status.is_some()
        })
        .await;
    assert_eq!(
        run.spec.source.as_ref().unwrap().object_version.as_deref(),
        Some("etag-two")
    );
    assert_eq!(
        run.spec.trigger.type_,
        slipway::api::execution::TriggerType::PollForSourceChanges
    );
    assert_eq!(
        harness
            .runs()
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1,
        "only the new version ran"
    );
}
