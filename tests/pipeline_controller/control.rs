//! Several runs and the user's requests with the controller running: stage locks in the
//! Queued and Superseded modes, a retry of a failed stage, a stop that abandons a build.

use super::*;
use slipway::api::execution::{StageExecutionStatus, WaitReason};

const ONE: &str = "1111111111111111111111111111111111111111";
const TWO: &str = "2222222222222222222222222222222222222222";
const THREE: &str = "3333333333333333333333333333333333333333";

#[tokio::test]
async fn queued_runs_take_the_approval_stage_one_after_another() {
    let harness = Harness::start().await;
    harness.pipeline("web", web_pipeline("Queued")).await;
    for run in ["q1", "q2"] {
        harness.script_build(
            run,
            "Build",
            "Image",
            1,
            successful_build("sha256:0101", &[]),
        );
    }
    harness.start_run("web", "q1", ONE).await;
    harness
        .wait_action_running("q1", "Approve", "Release")
        .await;
    harness.start_run("web", "q2", TWO).await;
    let waiting = harness
        .wait_run("q2", "waiting before Approve", 30, |run| {
            run.status
                .as_ref()
                .and_then(|s| s.waiting.as_ref())
                .is_some_and(|w| w.stage == "Approve")
        })
        .await;
    let wait = waiting.status.unwrap().waiting.unwrap();
    assert_eq!(
        (wait.reason, wait.holder.as_deref()),
        (WaitReason::StageLocked, Some("q1"))
    );
    let locks = harness
        .pipelines()
        .get("web")
        .await
        .unwrap()
        .metadata
        .annotations
        .unwrap();
    assert!(
        locks["slipway.dev/stage-locks"].contains("\"Approve\":{\"execution\":\"q1\""),
        "{locks:?}"
    );
    harness.answer("q1", "Approve", "Release", "Approved").await;
    harness
        .wait_action_running("q2", "Approve", "Release")
        .await;
    harness.answer("q2", "Approve", "Release", "Approved").await;
    harness
        .wait_phase("q1", ExecutionStatus::Succeeded, 60)
        .await;
    harness
        .wait_phase("q2", ExecutionStatus::Succeeded, 60)
        .await;
    harness.controller.unwrap().stop().await;
}

#[tokio::test]
async fn superseded_a_newer_run_replaces_the_one_waiting_for_the_stage() {
    let harness = Harness::start().await;
    harness.pipeline("web", web_pipeline("Superseded")).await;
    for run in ["s1", "s2", "s3"] {
        harness.script_build(
            run,
            "Build",
            "Image",
            1,
            successful_build("sha256:0202", &[]),
        );
    }
    harness.start_run("web", "s1", ONE).await;
    harness
        .wait_action_running("s1", "Approve", "Release")
        .await;
    harness.start_run("web", "s2", TWO).await;
    harness
        .wait_run("s2", "waiting before Approve", 30, |run| {
            run.status
                .as_ref()
                .and_then(|s| s.waiting.as_ref())
                .is_some()
        })
        .await;
    harness.start_run("web", "s3", THREE).await;
    let superseded = harness
        .wait_phase("s2", ExecutionStatus::Superseded, 30)
        .await;
    assert_eq!(
        superseded.status.unwrap().superseded_by.as_deref(),
        Some("s3")
    );
    harness.answer("s1", "Approve", "Release", "Approved").await;
    harness
        .wait_action_running("s3", "Approve", "Release")
        .await;
    harness
        .wait_phase("s1", ExecutionStatus::Succeeded, 60)
        .await;
    harness.controller.unwrap().stop().await;
}

#[tokio::test]
async fn a_retry_of_a_failed_build_stage_runs_a_second_build_and_the_run_goes_on() {
    let harness = Harness::start().await;
    harness.pipeline("web", web_pipeline("Superseded")).await;
    harness.script_build("r1", "Build", "Image", 1, failing_build());
    harness.script_build(
        "r1",
        "Build",
        "Image",
        2,
        successful_build("sha256:0303", &[]),
    );
    harness.start_run("web", "r1", ONE).await;
    harness.wait_phase("r1", ExecutionStatus::Failed, 30).await;
    let patch =
        json!({"spec": {"control": {"retries": [{"stage": "Build", "mode": "FailedActions"}]}}});
    harness
        .runs()
        .patch("r1", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let waiting = harness
        .wait_action_running("r1", "Approve", "Release")
        .await;
    let build = &waiting.status.unwrap().stages[0];
    assert_eq!((build.attempt, build.retry_requests_applied), (2, 1));
    assert_eq!(
        build.previous_attempts[0].status,
        Some(StageExecutionStatus::Failed)
    );
    let mut builds: Vec<String> = harness
        .builds()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|b| b.metadata.name)
        .collect();
    builds.sort();
    assert_eq!(
        builds,
        [
            child_name("r1", "Build", "Image", 1),
            child_name("r1", "Build", "Image", 2)
        ]
    );
    harness.controller.unwrap().stop().await;
}

#[tokio::test]
async fn stop_and_abandon_stops_the_running_build_and_ends_the_run_stopped() {
    let harness = Harness::start().await;
    harness.pipeline("web", web_pipeline("Superseded")).await;
    harness.script_build(
        "x1",
        "Build",
        "Image",
        1,
        PodScript::default().complete_after(Duration::from_secs(600)),
    );
    harness.start_run("web", "x1", ONE).await;
    let build_name = child_name("x1", "Build", "Image", 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while harness
        .builds()
        .get_opt(&build_name)
        .await
        .unwrap()
        .is_none()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the build is created"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let patch = json!({"spec": {"control": {"stop": {"abandon": true, "reason": "wrong branch"}}}});
    harness
        .runs()
        .patch("x1", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let stopped = harness.wait_phase("x1", ExecutionStatus::Stopped, 30).await;
    let status = stopped.status.unwrap();
    assert_eq!(
        status.stages[0].actions[0].status,
        Some(slipway::api::execution::ActionExecutionStatus::Abandoned)
    );
    let build = harness.builds().get(&build_name).await.unwrap();
    assert_eq!(
        build.spec.stop.and_then(|stop| stop.reason).as_deref(),
        Some("the run was stopped")
    );
    harness.controller.unwrap().stop().await;
}
