//! Runs from start to end: build → approval → deploy, rejection, failures.

use super::*;
use slipway::api::execution::ActionExecutionStatus;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

#[tokio::test]
async fn a_run_builds_waits_for_approval_and_rolls_out_the_built_image() {
    let harness = Harness::start().await;
    harness.pipeline("web", web_pipeline("Superseded")).await;
    harness.script_build(
        "web-1",
        "Build",
        "Image",
        1,
        successful_build("sha256:aaaa", &[]),
    );
    harness.start_run("web", "web-1", COMMIT).await;
    let waiting = harness
        .wait_action_running("web-1", "Approve", "Release")
        .await;
    let release = action_of(&waiting, "Approve", "Release").unwrap();
    assert_eq!(release.message.as_deref(), Some("ship t1?"));
    let variables = &waiting.status.as_ref().unwrap().variables;
    assert_eq!(
        variables["BuildVariables"]["IMAGE_WEB_URI"],
        "registry.test/shop/web@sha256:aaaa"
    );
    assert_eq!(variables["SourceVariables"]["CommitId"], COMMIT);
    assert_eq!(
        harness
            .records()
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        0,
        "nothing deploys before the approval"
    );

    harness
        .answer("web-1", "Approve", "Release", "Approved")
        .await;
    let done = harness
        .wait_phase("web-1", ExecutionStatus::Succeeded, 60)
        .await;
    let status = done.status.unwrap();
    let roll = &status.stages[2].actions[0];
    assert_eq!(roll.status, Some(ActionExecutionStatus::Succeeded));
    let record = harness
        .records()
        .get(&roll.child.as_ref().unwrap().name)
        .await
        .unwrap();
    assert_eq!(
        record.spec.template.revision.images.as_ref().unwrap()[0].image,
        "registry.test/shop/web@sha256:aaaa"
    );
    let selector = harness.selector().await;
    assert!(
        selector.contains_key("slipway.dev/revision"),
        "production moved to a revision: {selector:?}"
    );
    assert_eq!(
        harness
            .builds()
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        harness
            .records()
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // One Event per stretch of progress: entering Build, moving on to Approve, the answer,
    // moving on to Deploy, the end.
    let reasons = harness.event_reasons("web-1").await;
    assert_eq!(
        reasons,
        [
            "StageStarted",
            "StageStarted",
            "ApprovalAnswered",
            "StageStarted",
            "Succeeded"
        ]
    );
    let pipeline = harness.pipelines().get("web").await.unwrap();
    let locks = pipeline.metadata.annotations.unwrap_or_default();
    assert!(
        !locks.contains_key("slipway.dev/stage-locks"),
        "a finished run holds no stage: {locks:?}"
    );
    let last = pipeline.status.unwrap().last_execution.unwrap();
    assert_eq!(
        (last.name.as_str(), last.status),
        ("web-1", Some(ExecutionStatus::Succeeded))
    );
    harness.controller.unwrap().stop().await;
}

#[tokio::test]
async fn a_rejected_approval_fails_the_run_and_deploys_nothing() {
    let harness = Harness::start().await;
    harness.pipeline("web", web_pipeline("Superseded")).await;
    harness.script_build(
        "web-1",
        "Build",
        "Image",
        1,
        successful_build("sha256:bbbb", &[]),
    );
    harness.start_run("web", "web-1", COMMIT).await;
    harness
        .wait_action_running("web-1", "Approve", "Release")
        .await;
    harness
        .answer("web-1", "Approve", "Release", "Rejected")
        .await;
    let failed = harness
        .wait_phase("web-1", ExecutionStatus::Failed, 30)
        .await;
    let message = failed.status.unwrap().message.unwrap();
    assert!(message.contains("rejected by jane: checked"), "{message}");
    assert!(
        harness
            .records()
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    harness.controller.unwrap().stop().await;
}

#[tokio::test]
async fn a_failed_build_fails_its_stage_with_the_builds_message() {
    let harness = Harness::start().await;
    harness.pipeline("web", web_pipeline("Superseded")).await;
    harness.script_build("web-1", "Build", "Image", 1, failing_build());
    harness.start_run("web", "web-1", COMMIT).await;
    let failed = harness
        .wait_phase("web-1", ExecutionStatus::Failed, 30)
        .await;
    let message = failed.status.unwrap().message.unwrap();
    assert!(
        message.contains("ended FAILED: COMMAND_EXECUTION_ERROR: make exited 2"),
        "{message}"
    );
    harness.controller.unwrap().stop().await;
}
