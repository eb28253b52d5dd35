//! Several runs of one pipeline: execution modes, stage locks under concurrent admission,
//! transitions and spec changes.

use super::*;
use crate::api::execution::WaitReason;
use crate::api::pipeline::{ExecutionMode, StageTransition};

fn sim_with(mode: ExecutionMode) -> Sim {
    let mut spec = pipeline_spec(PIPELINE);
    spec.execution_mode = mode;
    Sim::with_spec(spec)
}

/// Runs r1..rN where r1 is inside Test and the others are started afterwards.
fn three_runs(mode: ExecutionMode) -> Sim {
    let mut sim = sim_with(mode);
    sim.add_run("r1", &"1".repeat(40));
    sim.step("r1");
    sim.build_succeeds("r1", 1, "sha256:1");
    sim.step("r1");
    if mode != ExecutionMode::Parallel {
        assert_eq!(sim.holders()["Test"], "r1");
    }
    sim.add_run("r2", &"2".repeat(40));
    sim.step("r2");
    sim.build_succeeds("r2", 1, "sha256:2");
    sim.step("r2");
    sim.add_run("r3", &"3".repeat(40));
    sim.step("r3");
    sim.build_succeeds("r3", 1, "sha256:3");
    sim.step("r3");
    sim
}

#[test]
fn superseded_a_newer_run_reaching_a_stage_replaces_the_older_one_waiting_there() {
    let mut sim = three_runs(ExecutionMode::Superseded);
    let waiting = sim.status("r2").waiting.clone().unwrap();
    assert_eq!(
        (
            waiting.stage.as_str(),
            waiting.reason,
            waiting.holder.as_deref()
        ),
        ("Test", WaitReason::StageLocked, Some("r1"))
    );
    sim.step("r2");
    assert_eq!(sim.phase("r2"), Some(ExecutionStatus::Superseded));
    assert_eq!(sim.status("r2").superseded_by.as_deref(), Some("r3"));
    sim.job_ends("r1", "Test", "Smoke", 1, JobOutcome::Succeeded, "RESULT=ok");
    sim.step("r1");
    sim.step("r3");
    assert_eq!(
        sim.stage("r3", "Test"),
        Some(StageExecutionStatus::InProgress),
        "the newest goes next"
    );
    assert_eq!(sim.holders()["Test"], "r3");
    assert_eq!(sim.holders()["Deploy"], "r1");
    assert!(sim.event_reasons("r2").contains(&"Superseded"));
}

#[test]
fn queued_runs_enter_each_stage_in_creation_order() {
    let mut sim = three_runs(ExecutionMode::Queued);
    assert_eq!(
        sim.status("r3").waiting.as_ref().unwrap().reason,
        WaitReason::Queued
    );
    assert_eq!(
        sim.status("r3").waiting.as_ref().unwrap().holder.as_deref(),
        Some("r2")
    );
    sim.job_ends("r1", "Test", "Smoke", 1, JobOutcome::Succeeded, "RESULT=ok");
    sim.step("r1");
    sim.step("r3");
    assert_eq!(sim.stage("r3", "Test"), None, "r3 stays behind r2");
    sim.step("r2");
    assert_eq!(
        sim.stage("r2", "Test"),
        Some(StageExecutionStatus::InProgress)
    );
    sim.job_ends("r2", "Test", "Smoke", 1, JobOutcome::Succeeded, "RESULT=ok");
    sim.step("r2");
    assert_eq!(
        sim.holders()["Deploy"],
        "r1",
        "r2 waits for Deploy behind r1"
    );
    sim.step("r3");
    assert_eq!(
        sim.stage("r3", "Test"),
        Some(StageExecutionStatus::InProgress)
    );
    for run in ["r1", "r2", "r3"] {
        assert_ne!(sim.phase(run), Some(ExecutionStatus::Superseded), "{run}");
    }
}

#[test]
fn parallel_runs_share_stages_and_take_no_locks() {
    let sim = three_runs(ExecutionMode::Parallel);
    for run in ["r1", "r2", "r3"] {
        assert_eq!(
            sim.stage(run, "Test"),
            Some(StageExecutionStatus::InProgress),
            "{run}"
        );
    }
    assert!(sim.holders().is_empty());
}

#[test]
fn two_runs_admitted_from_the_same_view_enter_one_at_a_time() {
    let mut sim = sim_with(ExecutionMode::Queued);
    sim.add_run("a", &"a".repeat(40));
    sim.add_run("b", &"b".repeat(40));
    // Both decide on the same Pipeline version, as two replicas or two workers would.
    let version = sim.version;
    let first = sim.decide("a");
    let second = sim.decide("b");
    assert!(intent_kinds(&first).contains(&"lock") && intent_kinds(&second).contains(&"lock"));
    assert!(sim.apply("a", first, version));
    assert!(
        !sim.apply("b", second, version),
        "the second write conflicts and applies nothing"
    );
    assert_eq!(sim.stage("b", "Build"), None);
    assert_eq!(sim.created.len(), 1);
    sim.step("b");
    assert_eq!(
        sim.status("b").waiting.as_ref().unwrap().holder.as_deref(),
        Some("a")
    );
}

#[test]
fn a_wiped_lock_annotation_cannot_admit_a_second_run() {
    let mut sim = sim_with(ExecutionMode::Superseded);
    sim.add_run("a", &"a".repeat(40));
    sim.step("a");
    sim.pipeline.locks.clear();
    sim.add_run("b", &"b".repeat(40));
    sim.step("b");
    assert_eq!(
        sim.stage("b", "Build"),
        None,
        "a's status still says it is in Build"
    );
    assert_eq!(
        sim.status("b").waiting.as_ref().unwrap().holder.as_deref(),
        Some("a")
    );
}

#[test]
fn a_stale_lock_of_an_ended_run_is_taken_over() {
    let mut sim = sim_with(ExecutionMode::Queued);
    sim.add_run("a", &"a".repeat(40));
    sim.step("a");
    sim.build_fails("a", 1);
    // a failed, but the release was lost: its lock is still written.
    let locks = sim.pipeline.locks.clone();
    sim.step("a");
    assert_eq!(sim.phase("a"), Some(ExecutionStatus::Failed));
    sim.pipeline.locks = locks;
    sim.add_run("b", &"b".repeat(40));
    sim.step("b");
    assert_eq!(
        sim.stage("b", "Build"),
        Some(StageExecutionStatus::InProgress)
    );
    assert_eq!(sim.holders()["Build"], "b");
}

#[test]
fn runs_wait_at_a_disabled_transition_and_the_latest_proceeds_when_enabled() {
    let mut sim = sim_with(ExecutionMode::Superseded);
    sim.pipeline.spec.stages[1].transition = Some(StageTransition {
        enabled: false,
        disabled_reason: Some("freeze".into()),
    });
    sim.add_run("r1", &"1".repeat(40));
    sim.step("r1");
    sim.build_succeeds("r1", 1, "sha256:1");
    sim.step("r1");
    let waiting = sim.status("r1").waiting.clone().unwrap();
    assert_eq!(
        (waiting.stage.as_str(), waiting.reason),
        ("Test", WaitReason::TransitionDisabled)
    );
    assert!(
        sim.status("r1")
            .message
            .as_deref()
            .unwrap()
            .contains("kubectl slipway transitions enable web --stage Test")
    );
    sim.add_run("r2", &"2".repeat(40));
    sim.step("r2");
    sim.build_succeeds("r2", 1, "sha256:2");
    sim.step("r2");
    sim.pipeline.spec.stages[1].transition = None;
    sim.settle();
    assert_eq!(sim.phase("r1"), Some(ExecutionStatus::Superseded));
    assert_eq!(
        sim.stage("r2", "Test"),
        Some(StageExecutionStatus::InProgress)
    );
}

#[test]
fn a_run_waiting_for_a_stage_the_pipeline_no_longer_has_is_cancelled() {
    let mut sim = sim_with(ExecutionMode::Queued);
    sim.add_run("r1", &"1".repeat(40));
    sim.step("r1");
    sim.build_succeeds("r1", 1, "sha256:1");
    sim.step("r1");
    sim.add_run("r2", &"2".repeat(40));
    sim.step("r2");
    sim.build_succeeds("r2", 1, "sha256:2");
    sim.step("r2");
    assert_eq!(sim.status("r2").waiting.as_ref().unwrap().stage, "Test");
    sim.pipeline.spec.stages.remove(1);
    sim.pipeline.generation = Some(2);
    sim.step("r2");
    assert_eq!(sim.phase("r2"), Some(ExecutionStatus::Cancelled));
    assert_eq!(
        sim.stage("r2", "Test"),
        Some(StageExecutionStatus::Cancelled)
    );
    assert_eq!(
        sim.stage("r1", "Test"),
        Some(StageExecutionStatus::InProgress),
        "the running one finishes on its generation"
    );
}
