use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::*;
use crate::simulate::script::PodOutcome;
use crate::simulate::script::{BehaviourDefaults, PodScript};
use crate::simulate::test_support::*;

fn pod(restart_policy: &str) -> Value {
    object(&format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"web-abcde","namespace":"default","uid":"p1"}},
        "spec":{{"restartPolicy":"{restart_policy}","containers":[{{"name":"app","image":"busybox"}}]}}}}"#
    ))
}

fn runtime() -> PodRuntime {
    PodRuntime {
        started_at: at(0),
        pod_ip: "10.244.0.7".into(),
        host_ip: "10.0.0.10".into(),
        run_started: false,
        containers: BTreeMap::new(),
    }
}

fn behaviour(script: PodScript) -> PodBehaviour {
    PodBehaviour::resolve(&[script], &BehaviourDefaults::default())
}

#[test]
fn a_new_pod_runs_at_once_and_is_ready_after_the_delay() {
    let mut pod = pod("Always");
    let script = behaviour(PodScript::default().ready_after(Duration::from_secs(2)));
    let intents = decide_pod(&pod, &script, &runtime(), at(10));
    let status = written_status(&intents, Kind::Pod);
    assert_eq!(status["phase"], "Running");
    assert_eq!(status["podIP"], "10.244.0.7");
    assert_eq!(status["startTime"], "2026-03-01T10:00:00Z");
    assert_eq!(status_condition(&status, "Ready")["status"], "False");
    assert_eq!(
        status_condition(&status, "Ready")["reason"],
        "ContainersNotReady"
    );
    assert_eq!(
        status["containerStatuses"][0]["state"]["running"]["startedAt"],
        "2026-03-01T10:00:00Z"
    );
    assert_eq!(recheck(&intents), Some(at(2000)));
    apply_status(&mut pod, &intents, Kind::Pod);

    let intents = decide_pod(&pod, &script, &runtime(), at(2000));
    let status = written_status(&intents, Kind::Pod);
    assert_eq!(status_condition(&status, "Ready")["status"], "True");
    assert_eq!(
        status_condition(&status, "ContainersReady")["status"],
        "True"
    );
    assert_eq!(status["containerStatuses"][0]["ready"], true);
    assert_eq!(recheck(&intents), None);
    apply_status(&mut pod, &intents, Kind::Pod);

    assert!(
        decide_pod(&pod, &script, &runtime(), at(5000)).is_empty(),
        "a settled pod causes no writes"
    );
}

#[test]
fn a_never_ready_pod_stays_unready_without_rechecks() {
    let script = behaviour(PodScript::default().never_ready(true));
    let intents = decide_pod(&pod("Always"), &script, &runtime(), at(60_000));
    let status = written_status(&intents, Kind::Pod);
    assert_eq!(status["phase"], "Running");
    assert_eq!(status_condition(&status, "Ready")["status"], "False");
    assert_eq!(recheck(&intents), None);
}

#[test]
fn a_pod_scripted_unready_later_flips_once() {
    let script = behaviour(
        PodScript::default()
            .ready_after(Duration::from_secs(1))
            .unready_after(Duration::from_secs(3)),
    );
    let intents = decide_pod(&pod("Always"), &script, &runtime(), at(1500));
    assert_eq!(
        status_condition(&written_status(&intents, Kind::Pod), "Ready")["status"],
        "True"
    );
    assert_eq!(recheck(&intents), Some(at(4000)));
    let intents = decide_pod(&pod("Always"), &script, &runtime(), at(4000));
    assert_eq!(
        status_condition(&written_status(&intents, Kind::Pod), "Ready")["status"],
        "False"
    );
    assert_eq!(recheck(&intents), None);
}

#[test]
fn a_simulated_job_pod_succeeds_with_the_termination_message() {
    let script = behaviour(
        PodScript::default()
            .complete_after(Duration::from_secs(1))
            .termination_message("done"),
    );
    let intents = decide_pod(&pod("Never"), &script, &runtime(), at(500));
    assert_eq!(written_status(&intents, Kind::Pod)["phase"], "Running");
    assert_eq!(recheck(&intents), Some(at(1000)));

    let intents = decide_pod(&pod("Never"), &script, &runtime(), at(1000));
    let status = written_status(&intents, Kind::Pod);
    assert_eq!(status["phase"], "Succeeded");
    let terminated = &status["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(terminated["exitCode"], 0);
    assert_eq!(terminated["reason"], "Completed");
    assert_eq!(terminated["message"], "done");
    assert_eq!(terminated["finishedAt"], "2026-03-01T10:00:01Z");
    assert_eq!(status_condition(&status, "Ready")["reason"], "PodCompleted");
    assert_eq!(
        status_condition(&status, "PodReadyToStartContainers")["status"],
        "False"
    );
    assert_eq!(recheck(&intents), None);
}

#[test]
fn a_simulated_job_pod_fails_with_the_scripted_exit_code() {
    let script = behaviour(
        PodScript::default()
            .outcome(PodOutcome::Fail)
            .exit_code(42)
            .complete_after(Duration::ZERO),
    );
    let status = written_status(
        &decide_pod(&pod("OnFailure"), &script, &runtime(), at(0)),
        Kind::Pod,
    );
    assert_eq!(status["phase"], "Failed");
    assert_eq!(
        status["containerStatuses"][0]["state"]["terminated"]["exitCode"],
        42
    );
    assert_eq!(
        status["containerStatuses"][0]["state"]["terminated"]["reason"],
        "Error"
    );
    assert_eq!(status_condition(&status, "Ready")["reason"], "PodFailed");
}

#[test]
fn a_terminal_pod_is_never_rewritten() {
    let mut pod = pod("Never");
    pod["status"] = serde_json::json!({"phase": "Succeeded"});
    assert!(decide_pod(&pod, &behaviour(PodScript::default()), &runtime(), at(0)).is_empty());
}

#[test]
fn a_deleting_pod_is_confirmed_deleted() {
    let mut pod = pod("Always");
    pod["metadata"]["deletionTimestamp"] = "2026-03-01T10:00:00Z".into();
    let intents = decide_pod(&pod, &behaviour(PodScript::default()), &runtime(), at(0));
    assert_eq!(deleted(&intents, Kind::Pod), vec!["web-abcde"]);
}

#[test]
fn a_really_run_pod_is_started_once_and_pending_until_the_runner_reports() {
    let script = behaviour(PodScript::default().run(RunMode::Local));
    let intents = decide_pod(&pod("Never"), &script, &runtime(), at(0));
    assert!(intents.contains(&Intent::StartRun));
    let status = written_status(&intents, Kind::Pod);
    assert_eq!(status["phase"], "Pending");
    assert_eq!(
        status["containerStatuses"][0]["state"]["waiting"]["reason"],
        "ContainerCreating"
    );

    let mut started = runtime();
    started.run_started = true;
    started.containers.insert(
        "app".into(),
        ContainerRun::Running {
            started_at: at(100),
        },
    );
    let intents = decide_pod(&pod("Never"), &script, &started, at(300));
    assert!(!intents.contains(&Intent::StartRun));
    let status = written_status(&intents, Kind::Pod);
    assert_eq!(status["phase"], "Running");
    assert_eq!(status_condition(&status, "Ready")["status"], "True");

    started.containers.insert(
        "app".into(),
        ContainerRun::exited(3, "bad".into(), at(100), at(900)),
    );
    let status = written_status(
        &decide_pod(&pod("Never"), &script, &started, at(1000)),
        Kind::Pod,
    );
    assert_eq!(status["phase"], "Failed");
    assert_eq!(
        status["containerStatuses"][0]["state"]["terminated"]["message"],
        "bad"
    );
}

#[test]
fn a_runner_that_cannot_start_leaves_the_pod_pending_with_the_reason() {
    let script = behaviour(PodScript::default().run(RunMode::Docker));
    let mut waiting = runtime();
    waiting.run_started = true;
    waiting.containers.insert(
        "app".into(),
        ContainerRun::Waiting {
            reason: "ErrImagePull".into(),
            message: "image busybox is not present".into(),
        },
    );
    let status = written_status(
        &decide_pod(&pod("Never"), &script, &waiting, at(0)),
        Kind::Pod,
    );
    assert_eq!(status["phase"], "Pending");
    assert_eq!(
        status["containerStatuses"][0]["state"]["waiting"]["message"],
        "image busybox is not present"
    );
    assert!(status["containerStatuses"][0].get("containerID").is_none());
}

fn pod_with_init() -> Value {
    object(
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"build-abcde","namespace":"default","uid":"p2"},
        "spec":{"restartPolicy":"Never",
          "initContainers":[{"name":"tools","image":"slipway"},{"name":"fetch","image":"slipway"}],
          "containers":[{"name":"build","image":"alpine"}]}}"#,
    )
}

fn reported(states: &[(&str, ContainerRun)]) -> PodRuntime {
    PodRuntime {
        run_started: true,
        containers: states
            .iter()
            .map(|(name, state)| ((*name).to_owned(), state.clone()))
            .collect(),
        ..runtime()
    }
}

#[test]
fn simulated_init_containers_succeed_at_the_start_and_are_reported() {
    let script = behaviour(PodScript::default().complete_after(Duration::from_secs(1)));
    let status = written_status(
        &decide_pod(&pod_with_init(), &script, &runtime(), at(10)),
        Kind::Pod,
    );
    assert_eq!(status["phase"], "Running");
    assert_eq!(status_condition(&status, "Initialized")["status"], "True");
    let init = status["initContainerStatuses"].as_array().unwrap();
    assert_eq!(init.len(), 2);
    assert_eq!(init[0]["name"], "tools");
    assert_eq!(init[1]["state"]["terminated"]["reason"], "Completed");
    assert_eq!(init[1]["ready"], true);
    assert!(status["containerStatuses"][0]["state"]["running"].is_object());
}

#[test]
fn a_pod_is_pending_while_its_init_containers_run() {
    let script = behaviour(PodScript::default().run(RunMode::Local));
    let runtime = reported(&[
        (
            "tools",
            ContainerRun::exited(0, String::new(), at(0), at(100)),
        ),
        (
            "fetch",
            ContainerRun::Running {
                started_at: at(100),
            },
        ),
    ]);
    let status = written_status(
        &decide_pod(&pod_with_init(), &script, &runtime, at(200)),
        Kind::Pod,
    );
    assert_eq!(status["phase"], "Pending");
    let initialized = status_condition(&status, "Initialized");
    assert_eq!(initialized["status"], "False");
    assert_eq!(initialized["reason"], "ContainersNotInitialized");
    assert_eq!(
        initialized["message"],
        "containers with incomplete status: [fetch]"
    );
    assert!(status["initContainerStatuses"][1]["state"]["running"].is_object());
    assert_eq!(
        status["containerStatuses"][0]["state"]["waiting"]["reason"],
        "PodInitializing"
    );
}

#[test]
fn a_failed_init_container_fails_the_pod_with_its_termination_state() {
    let script = behaviour(PodScript::default().run(RunMode::Local));
    let runtime = reported(&[
        (
            "tools",
            ContainerRun::exited(0, String::new(), at(0), at(100)),
        ),
        (
            "fetch",
            ContainerRun::exited(128, "repository not found".into(), at(100), at(300)),
        ),
    ]);
    let intents = decide_pod(&pod_with_init(), &script, &runtime, at(400));
    let status = written_status(&intents, Kind::Pod);
    assert_eq!(status["phase"], "Failed");
    let fetch = &status["initContainerStatuses"][1]["state"]["terminated"];
    assert_eq!(fetch["exitCode"], 128);
    assert_eq!(fetch["message"], "repository not found");
    assert_eq!(
        status["containerStatuses"][0]["state"]["waiting"]["reason"],
        "PodInitializing"
    );
    assert_eq!(recheck(&intents), None, "a terminal pod needs no recheck");
}
