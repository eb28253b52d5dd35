//! A run started without a commit builds the head of its branch, resolved with ls-remote
//! against a real git repository served over HTTP with basic authentication.

use k8s_openapi::api::core::v1::Secret;

use super::*;
use git_fixture::{GitHttpServer, Upstream};

#[tokio::test]
async fn a_run_without_a_commit_builds_the_head_of_its_branch() {
    let harness = Harness::start().await;
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), Some(("robot", "s3cret-token")));
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "git-token"},
        // The test cluster does not fold stringData into data as kube-apiserver does.
        "data": {"username": "cm9ib3Q=", "password": "czNjcmV0LXRva2Vu"}
    }))
    .unwrap();
    Api::<Secret>::namespaced(harness.client(), NAMESPACE)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
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
