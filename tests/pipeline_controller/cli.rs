//! The `kubectl slipway` pipeline commands with the controller running: start, approve and
//! reject, and a watched run.

use super::*;
use support::plugin::{Kubeconfig, finish, plugin, spawn_plugin, stderr, stdout};

#[tokio::test]
async fn a_run_started_and_approved_with_the_plugin_succeeds_while_get_watch_follows_it() {
    let harness = Harness::start().await;
    let kubeconfig = Kubeconfig::for_cluster(&harness.cluster, "pipeline-cli-approve");
    harness.pipeline("web", approval_first()).await;
    let started = plugin(
        &kubeconfig.path,
        &[
            "start",
            "web",
            "--revision",
            "0123456789abcdef0123456789abcdef01234567",
        ],
    )
    .await;
    assert!(started.status.success(), "{}", stderr(&started));
    let name = stdout(&started).trim().to_owned();
    assert!(name.starts_with("web-"), "{name}");
    harness
        .wait_action_running(&name, "Approve", "Release")
        .await;
    // The build runs after the approval, so its pod is scripted before it exists.
    harness.script_build(
        &name,
        "Build",
        "Image",
        1,
        successful_build("sha256:cccc", &[]),
    );
    let watch = spawn_plugin(
        &kubeconfig.path,
        &["get", "execution", &name, "--watch", "--timeout", "60s"],
    );
    let approved = plugin(
        &kubeconfig.path,
        &[
            "approve",
            &name,
            "--stage",
            "Approve",
            "--action",
            "Release",
            "--comment",
            "ship it",
        ],
    )
    .await;
    assert!(approved.status.success(), "{}", stderr(&approved));
    let watched = finish(watch).await;
    assert!(
        watched.status.success(),
        "the watch exits 0 on Succeeded: {}",
        stderr(&watched)
    );
    assert!(
        stdout(&watched).contains("Succeeded"),
        "{}",
        stdout(&watched)
    );
    let run = harness.runs().get(&name).await.unwrap();
    let release = action_of(&run, "Approve", "Release").unwrap();
    assert_eq!(
        release.approval.as_ref().unwrap().comment.as_deref(),
        Some("ship it")
    );
    harness.controller.unwrap().stop().await;
}

#[tokio::test]
async fn a_run_rejected_with_the_plugin_fails_and_its_watch_exits_1() {
    let harness = Harness::start().await;
    let kubeconfig = Kubeconfig::for_cluster(&harness.cluster, "pipeline-cli-reject");
    harness.pipeline("web", web_pipeline("Superseded")).await;
    harness.script_build(
        "web-r",
        "Build",
        "Image",
        1,
        successful_build("sha256:dddd", &[]),
    );
    harness
        .start_run("web", "web-r", "0123456789abcdef0123456789abcdef01234567")
        .await;
    harness
        .wait_action_running("web-r", "Approve", "Release")
        .await;
    let watch = spawn_plugin(
        &kubeconfig.path,
        &["get", "pexec", "web-r", "--watch", "--timeout", "60s"],
    );
    let rejected = plugin(
        &kubeconfig.path,
        &[
            "reject",
            "web-r",
            "--stage",
            "Approve",
            "--action",
            "Release",
            "--comment",
            "wrong title",
        ],
    )
    .await;
    assert!(rejected.status.success(), "{}", stderr(&rejected));
    let watched = finish(watch).await;
    assert_eq!(watched.status.code(), Some(1), "{}", stdout(&watched));
    let run = harness
        .wait_phase("web-r", ExecutionStatus::Failed, 30)
        .await;
    assert!(run.status.unwrap().message.unwrap().contains("wrong title"));
    let again = plugin(
        &kubeconfig.path,
        &[
            "approve", "web-r", "--stage", "Approve", "--action", "Release",
        ],
    )
    .await;
    assert_eq!(
        again.status.code(),
        Some(1),
        "answering an ended run is refused"
    );
    harness.controller.unwrap().stop().await;
}

/// Approve → Build → Deploy: the approval comes first, so a test learns the run's generated
/// name before any build pod exists.
fn approval_first() -> Value {
    let mut spec = web_pipeline("Superseded");
    let stages = spec["stages"].as_array_mut().unwrap();
    let approve = stages.remove(1);
    stages.insert(0, approve);
    stages[0]["actions"][0]["approval"]["summary"] = json!("ship it?");
    spec
}
