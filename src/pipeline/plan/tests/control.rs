//! Retries, stops, stage conditions and rollbacks.

use super::*;
use crate::api::execution::{ExecutionType, RetryRequest, StopRequest};
use crate::api::pipeline::RetryMode;

fn failed_at_build() -> Sim {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run("r1", &"a".repeat(40));
    sim.step("r1");
    sim.build_fails("r1", 1);
    sim.step("r1");
    assert_eq!(sim.phase("r1"), Some(ExecutionStatus::Failed));
    sim
}

fn request_retry(sim: &mut Sim, run: &str, stage: &str, mode: RetryMode) {
    sim.run_mut(run)
        .run
        .spec
        .control
        .retries
        .push(RetryRequest {
            stage: stage.into(),
            mode,
        });
}

#[test]
fn a_retry_runs_the_failed_stage_again_as_a_new_attempt_with_history_kept() {
    let mut sim = failed_at_build();
    request_retry(&mut sim, "r1", "Build", RetryMode::FailedActions);
    sim.step("r1");
    let stage = sim.status("r1").stages[0].clone();
    assert_eq!(stage.attempt, 2);
    assert_eq!(stage.retry_requests_applied, 1);
    assert_eq!(stage.status, Some(StageExecutionStatus::InProgress));
    assert_eq!(stage.previous_attempts.len(), 1);
    assert_eq!(
        stage.previous_attempts[0].status,
        Some(StageExecutionStatus::Failed)
    );
    assert_eq!(
        sim.created,
        [
            sim.child("r1", "Build", "Image", 1),
            sim.child("r1", "Build", "Image", 2)
        ]
    );
    sim.step("r1");
    assert_eq!(
        sim.status("r1").stages[0].attempt,
        2,
        "the request applies once"
    );
    sim.build_succeeds("r1", 2, "sha256:9");
    sim.step("r1");
    assert_eq!(
        sim.stage("r1", "Test"),
        Some(StageExecutionStatus::InProgress)
    );
}

#[test]
fn failed_actions_mode_keeps_what_succeeded_and_all_actions_reruns_everything() {
    let spec = PIPELINE.replace(
        "      - name: Smoke\n",
        "      - name: Lint\n        job: {template: {template: {spec: {containers: [{name: l, image: lint}]}}}}\n      - name: Smoke\n",
    );
    for (mode, expected) in [(RetryMode::FailedActions, 1), (RetryMode::AllActions, 2)] {
        let mut sim = Sim::new(&spec);
        sim.add_run("r1", &"a".repeat(40));
        sim.step("r1");
        sim.build_succeeds("r1", 1, "sha256:1");
        sim.step("r1");
        sim.job_ends(
            "r1",
            "Test",
            "Lint",
            1,
            JobOutcome::Failed("exit 1".into()),
            "",
        );
        sim.job_ends("r1", "Test", "Smoke", 1, JobOutcome::Succeeded, "RESULT=ok");
        sim.step("r1");
        request_retry(&mut sim, "r1", "Test", mode);
        let before = sim.created.len();
        sim.step("r1");
        assert_eq!(
            sim.created.len() - before,
            expected,
            "{mode:?}: {:?}",
            sim.created
        );
        assert_eq!(sim.action("r1", "Test", "Lint").attempt, 2);
        let smoke = sim.action("r1", "Test", "Smoke");
        match mode {
            RetryMode::FailedActions => assert_eq!(
                (smoke.status, smoke.attempt),
                (Some(ActionExecutionStatus::Succeeded), 1)
            ),
            RetryMode::AllActions => assert_eq!(
                (smoke.status, smoke.attempt),
                (Some(ActionExecutionStatus::InProgress), 2)
            ),
        }
    }
}

#[test]
fn a_retry_asked_for_early_waits_until_the_stage_failed() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run("r1", &"a".repeat(40));
    sim.step("r1");
    request_retry(&mut sim, "r1", "Build", RetryMode::FailedActions);
    sim.step("r1");
    assert_eq!(sim.status("r1").stages[0].retry_requests_applied, 0);
    sim.build_fails("r1", 1);
    sim.step("r1");
    sim.step("r1");
    assert_eq!(sim.status("r1").stages[0].attempt, 2);
}

#[test]
fn a_retry_is_refused_once_a_newer_run_has_run_the_stage() {
    let mut sim = failed_at_build();
    sim.add_run("r2", &"b".repeat(40));
    sim.step("r2");
    request_retry(&mut sim, "r1", "Build", RetryMode::FailedActions);
    sim.step("r1");
    assert_eq!(sim.phase("r1"), Some(ExecutionStatus::Failed));
    assert_eq!(
        sim.status("r1").stages[0].retry_requests_applied,
        1,
        "consumed, not applied"
    );
    assert!(
        sim.status("r1")
            .message
            .as_deref()
            .unwrap()
            .contains("the newer run r2 has run it since")
    );
    assert!(sim.event_reasons("r1").contains(&"RetryRefused"));
}

#[test]
fn stop_and_wait_lets_the_running_action_finish_then_stops() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run("r1", &"a".repeat(40));
    sim.step("r1");
    sim.run_mut("r1").run.spec.control.stop = Some(StopRequest {
        abandon: false,
        reason: Some("oops".into()),
    });
    sim.step("r1");
    assert_eq!(sim.phase("r1"), Some(ExecutionStatus::Stopping));
    assert!(sim.stops.is_empty(), "the build is left to finish");
    sim.build_succeeds("r1", 1, "sha256:1");
    sim.step("r1");
    assert_eq!(sim.phase("r1"), Some(ExecutionStatus::Stopped));
    assert_eq!(
        sim.stage("r1", "Build"),
        Some(StageExecutionStatus::Stopped)
    );
    assert_eq!(sim.stage("r1", "Test"), None, "nothing new starts");
    assert!(sim.holders().is_empty());
}

#[test]
fn stop_and_abandon_stops_the_children_and_a_wait_escalates_to_abandon() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run("r1", &"a".repeat(40));
    sim.step("r1");
    sim.run_mut("r1").run.spec.control.stop = Some(StopRequest {
        abandon: false,
        reason: None,
    });
    sim.step("r1");
    assert!(sim.stops.is_empty());
    sim.run_mut("r1").run.spec.control.stop = Some(StopRequest {
        abandon: true,
        reason: None,
    });
    sim.step("r1");
    assert_eq!(sim.stops.len(), 1);
    assert_eq!(
        (sim.stops[0].kind, sim.stops[0].uid.as_str()),
        (
            ChildKind::Build,
            format!("{}-uid", sim.child("r1", "Build", "Image", 1)).as_str()
        )
    );
    assert_eq!(
        sim.action("r1", "Build", "Image").status,
        Some(ActionExecutionStatus::Abandoned)
    );
    assert_eq!(sim.phase("r1"), Some(ExecutionStatus::Stopped));
    sim.step("r1");
    assert_eq!(sim.stops.len(), 1, "stopped once");
}

#[test]
fn a_stopped_stage_can_be_retried_and_the_stop_is_not_applied_again() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run("r1", &"a".repeat(40));
    sim.step("r1");
    sim.run_mut("r1").run.spec.control.stop = Some(StopRequest {
        abandon: true,
        reason: None,
    });
    sim.step("r1");
    assert_eq!(sim.phase("r1"), Some(ExecutionStatus::Stopped));
    request_retry(&mut sim, "r1", "Build", RetryMode::AllActions);
    sim.step("r1");
    assert_eq!(sim.phase("r1"), Some(ExecutionStatus::InProgress));
    assert_eq!(
        sim.action("r1", "Build", "Image").status,
        Some(ActionExecutionStatus::InProgress)
    );
}

#[test]
fn a_waiting_run_stops_at_once() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run("r1", &"a".repeat(40));
    sim.step("r1");
    sim.add_run("r2", &"b".repeat(40));
    sim.step("r2");
    sim.run_mut("r2").run.spec.control.stop = Some(StopRequest::default());
    sim.step("r2");
    assert_eq!(sim.phase("r2"), Some(ExecutionStatus::Stopped));
}

const CONDITIONS: &str = r##"
  - name: Deploy
    beforeEntry:
      result: Skip
      rules: [{name: window-open, http: {url: "http://gate.test/#{SourceVariables.BranchName}"}}]
    onFailure:
      result: Rollback
"##;

fn with_conditions(extra: &str) -> String {
    PIPELINE.replace("  - name: Deploy\n", extra.trim_start_matches('\n'))
}

#[test]
fn an_entry_rule_needing_io_is_evaluated_by_apply_then_decides_entry() {
    let mut sim = Sim::new(&with_conditions(CONDITIONS));
    sim.built("r1");
    sim.job_ends("r1", "Test", "Smoke", 1, JobOutcome::Succeeded, "RESULT=ok");
    let evaluating = sim.step("r1");
    let Some(Intent::EvaluateRules(evaluation)) = evaluating
        .intents
        .iter()
        .find(|i| matches!(i, Intent::EvaluateRules(_)))
    else {
        panic!("rules evaluated: {:?}", intent_kinds(&evaluating));
    };
    assert_eq!(
        evaluation.rules[0].http.as_ref().unwrap().url,
        "http://gate.test/main"
    );
    assert_eq!(
        sim.holders()["Deploy"],
        "r1",
        "the stage is held while its entry is checked"
    );
    sim.step("r1");
    assert_eq!(
        sim.rule_evaluations, 1,
        "results in status are not asked for again"
    );
    assert_eq!(
        sim.stage("r1", "Deploy"),
        Some(StageExecutionStatus::InProgress)
    );

    let mut skipped = Sim::new(&with_conditions(CONDITIONS));
    skipped.rule_outcomes.insert("window-open".into(), false);
    skipped.add_run("r1", &"a".repeat(40));
    skipped.step("r1");
    skipped.build_succeeds("r1", 1, "sha256:1");
    skipped.step("r1");
    skipped.job_ends("r1", "Test", "Smoke", 1, JobOutcome::Succeeded, "RESULT=ok");
    skipped.step("r1");
    skipped.step("r1");
    assert_eq!(
        skipped.stage("r1", "Deploy"),
        Some(StageExecutionStatus::Skipped)
    );
    assert_eq!(skipped.phase("r1"), Some(ExecutionStatus::Succeeded));
}

#[test]
fn an_automatic_retry_runs_the_stage_once_more() {
    let spec = PIPELINE.replace(
        "  - name: Test\n",
        "  - name: Test\n    onFailure: {result: Retry, retryMode: FailedActions}\n",
    );
    let mut sim = Sim::new(&spec);
    sim.built("r1");
    sim.job_ends(
        "r1",
        "Test",
        "Smoke",
        1,
        JobOutcome::Failed("flaky".into()),
        "",
    );
    sim.step("r1");
    assert_eq!(sim.status("r1").stages[1].attempt, 2);
    assert_eq!(sim.status("r1").stages[1].automatic_retries, 1);
    sim.job_ends(
        "r1",
        "Test",
        "Smoke",
        2,
        JobOutcome::Failed("flaky".into()),
        "",
    );
    sim.step("r1");
    assert_eq!(
        sim.phase("r1"),
        Some(ExecutionStatus::Failed),
        "one automatic retry only"
    );
}

#[test]
fn a_failed_stage_rolls_back_to_the_previous_successful_runs_revision() {
    let mut sim = Sim::new(&with_conditions(
        "  - name: Deploy\n    onFailure:\n      result: Rollback\n",
    ));
    sim.add_run("good", &"1".repeat(40));
    sim.run_through("good", "sha256:good");
    assert_eq!(sim.phase("good"), Some(ExecutionStatus::Succeeded));
    sim.add_run("bad", &"2".repeat(40));
    sim.step("bad");
    sim.build_succeeds("bad", 1, "sha256:bad");
    sim.step("bad");
    sim.job_ends(
        "bad",
        "Test",
        "Smoke",
        1,
        JobOutcome::Succeeded,
        "RESULT=ok",
    );
    sim.step("bad");
    sim.deploy_ends("bad", "Deploy", "Roll", 1, DeploymentPhase::Failed);
    sim.step("bad");
    assert_eq!(sim.phase("bad"), Some(ExecutionStatus::Failed));
    let rollback = sim.status("bad").stages[2]
        .rollback_execution
        .clone()
        .expect("a rollback run");
    assert!(
        sim.status("bad")
            .message
            .as_deref()
            .unwrap()
            .contains("rolling back to the revision of good")
    );
    sim.step(&rollback);
    let status = sim.status(&rollback).clone();
    assert_eq!(status.execution_type, Some(ExecutionType::Rollback));
    assert_eq!(status.rollback_target.as_deref(), Some("good"));
    assert_eq!(status.stages[0].status, Some(StageExecutionStatus::Skipped));
    assert_eq!(
        status.stages[2].status,
        Some(StageExecutionStatus::InProgress)
    );
    let roll = sim.decide(&rollback);
    let _ = roll;
    let created = sim.created.last().unwrap().clone();
    assert!(created.starts_with(&rollback), "{created}");
    assert_eq!(
        status.variables["BuildVariables"]["IMAGE_WEB_URI"],
        "127.0.0.1:5000/web@sha256:good"
    );
    assert_eq!(
        status.source_revision.unwrap().commit_id,
        Some("1".repeat(40))
    );
    sim.deploy_ends(&rollback, "Deploy", "Roll", 1, DeploymentPhase::Succeeded);
    sim.step(&rollback);
    assert_eq!(sim.phase(&rollback), Some(ExecutionStatus::Succeeded));
}

#[test]
fn without_an_earlier_success_a_rollback_just_fails_the_run() {
    let mut sim = Sim::new(&with_conditions(
        "  - name: Deploy\n    onFailure:\n      result: Rollback\n",
    ));
    sim.add_run("bad", &"2".repeat(40));
    sim.step("bad");
    sim.build_succeeds("bad", 1, "sha256:bad");
    sim.step("bad");
    sim.job_ends(
        "bad",
        "Test",
        "Smoke",
        1,
        JobOutcome::Succeeded,
        "RESULT=ok",
    );
    sim.step("bad");
    sim.deploy_ends("bad", "Deploy", "Roll", 1, DeploymentPhase::Failed);
    sim.step("bad");
    assert_eq!(sim.runs.len(), 1);
    assert!(
        sim.status("bad")
            .message
            .as_deref()
            .unwrap()
            .contains("nothing to roll back to")
    );
}

#[test]
fn a_manual_rollback_run_without_a_target_takes_the_success_before_the_latest() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run("one", &"1".repeat(40));
    sim.run_through("one", "sha256:one");
    sim.add_run("two", &"2".repeat(40));
    sim.run_through("two", "sha256:two");
    sim.add_run_with("back", |spec| {
        spec.rollback = Some(crate::api::execution::RollbackRequest {
            stage: "Deploy".into(),
            target_execution: None,
        });
    });
    sim.step("back");
    assert_eq!(sim.status("back").rollback_target.as_deref(), Some("one"));
}

#[test]
fn a_cel_entry_rule_over_the_runs_variables_gates_the_stage_in_the_same_decision() {
    let gate = "  - name: Deploy\n    beforeEntry:\n      result: Fail\n      rules: [{name: main-only, expression: \"variables.SourceVariables.BranchName == 'main' && stage.attempt == 1\"}]\n";
    for (branch, entered) in [("main", true), ("feature", false)] {
        let mut sim = Sim::new(&with_conditions(gate));
        sim.add_run_with("r1", |spec| {
            spec.source = Some(SourceRevision {
                commit_id: Some("a".repeat(40)),
                branch_name: Some(branch.into()),
                ..Default::default()
            });
        });
        sim.step("r1");
        sim.build_succeeds("r1", 1, "sha256:1");
        sim.step("r1");
        sim.job_ends("r1", "Test", "Smoke", 1, JobOutcome::Succeeded, "RESULT=ok");
        let decision = sim.step("r1");
        assert!(
            !intent_kinds(&decision).contains(&"rules"),
            "CEL needs no I/O"
        );
        let expected = if entered {
            StageExecutionStatus::InProgress
        } else {
            StageExecutionStatus::Failed
        };
        assert_eq!(sim.stage("r1", "Deploy"), Some(expected), "{branch}");
        let result = &sim.status("r1").stages[2].rule_results[0];
        assert_eq!(result.passed, entered, "{branch}: {result:?}");
    }
}

#[test]
fn a_deployment_window_rule_fails_the_stage_outside_the_window() {
    // The simulation's clock: 2027-01-15T08:00:00Z, a Friday.
    let window = |cron: &str| {
        format!(
            "  - name: Deploy\n    beforeEntry:\n      result: Fail\n      rules: [{{name: office, deploymentWindow: {{cron: \"{cron}\", duration: 8h, timeZone: UTC}}}}]\n"
        )
    };
    for (cron, open) in [("0 7 * * FRI", true), ("0 9 * * MON-THU", false)] {
        let mut sim = Sim::new(&with_conditions(&window(cron)));
        sim.add_run("r1", &"a".repeat(40));
        sim.step("r1");
        sim.build_succeeds("r1", 1, "sha256:1");
        sim.step("r1");
        sim.job_ends("r1", "Test", "Smoke", 1, JobOutcome::Succeeded, "RESULT=ok");
        sim.step("r1");
        let deploy = sim.stage("r1", "Deploy");
        assert_eq!(
            deploy == Some(StageExecutionStatus::InProgress),
            open,
            "{cron}: {deploy:?} {:?}",
            sim.status("r1").message
        );
        if !open {
            assert!(
                sim.status("r1")
                    .message
                    .as_deref()
                    .unwrap()
                    .contains("outside the window"),
                "{:?}",
                sim.status("r1").message
            );
        }
    }
}
