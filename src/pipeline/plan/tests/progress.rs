//! One run through its stages: actions, variables, artifacts, failures and restarts.

use super::*;

#[test]
fn a_run_goes_through_build_test_and_deploy_creating_one_child_per_action() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run("r1", &"a".repeat(40));
    let first = sim.step("r1");
    assert_eq!(sim.phase("r1"), Some(ExecutionStatus::InProgress));
    assert_eq!(intent_kinds(&first), ["lock", "create"]);
    assert_eq!(sim.holders()["Build"], "r1");
    sim.build_succeeds("r1", 1, "sha256:1111");
    sim.step("r1");
    assert_eq!(
        sim.stage("r1", "Build"),
        Some(StageExecutionStatus::Succeeded)
    );
    assert_eq!(sim.holders().get("Build"), None, "leaving a stage frees it");
    assert_eq!(sim.holders()["Test"], "r1");
    assert_eq!(
        sim.status("r1").variables["BuildVariables"]["IMAGE_WEB_URI"],
        "127.0.0.1:5000/web@sha256:1111"
    );
    sim.job_ends(
        "r1",
        "Test",
        "Smoke",
        1,
        JobOutcome::Succeeded,
        "RESULT=ok\nOTHER=x",
    );
    sim.step("r1");
    assert_eq!(
        sim.status("r1").variables["TestVariables"],
        BTreeMap::from([("RESULT".to_owned(), "ok".to_owned())])
    );
    sim.deploy_ends("r1", "Deploy", "Roll", 1, DeploymentPhase::Succeeded);
    sim.step("r1");
    assert_eq!(sim.phase("r1"), Some(ExecutionStatus::Succeeded));
    assert!(sim.holders().is_empty(), "a finished run holds no stage");
    assert_eq!(sim.created.len(), 3, "{:?}", sim.created);
    let status = sim.status("r1");
    assert!(status.completion_time.is_some());
    let condition = crate::runtime::conditions::find(&status.conditions, "Succeeded").unwrap();
    assert_eq!(condition.status, "True");
}

#[test]
fn children_are_rendered_with_substituted_variables_and_the_resolved_inputs() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run_with("r1", |spec| {
        spec.source = Some(SourceRevision {
            commit_id: Some("b".repeat(40)),
            ..Default::default()
        });
        spec.variables = vec![NameValue {
            name: "TITLE".into(),
            value: "Override".into(),
        }];
    });
    let decision = sim.step("r1");
    let Some(Intent::Create(child)) = decision
        .intents
        .iter()
        .find(|i| matches!(i, Intent::Create(_)))
    else {
        panic!("a create");
    };
    let Child::Build(build) = child.as_ref() else {
        panic!("a BuildRun")
    };
    assert_eq!(
        build.spec.config.environment.env[0].value.as_deref(),
        Some("Override")
    );
    let git = build.spec.source.as_ref().unwrap().git.as_ref().unwrap();
    assert_eq!(git.url, "https://git.test/acme/web.git");
    assert_eq!(git.revision, "b".repeat(40));
    assert_eq!(
        sim.status("r1").variables["SourceVariables"]["FullRepositoryName"],
        "acme/web"
    );
    assert_eq!(
        sim.status("r1").variables["slipway"]["PipelineExecutionId"],
        "r1"
    );
    sim.build_succeeds("r1", 1, "sha256:2222");
    let decision = sim.step("r1");
    let job = decision
        .intents
        .iter()
        .find_map(|i| match i {
            Intent::Create(child) => match child.as_ref() {
                Child::Job(job) => Some(job.clone()),
                _ => None,
            },
            _ => None,
        })
        .expect("the Test job is created");
    let pod = job.spec.unwrap().template.spec.unwrap();
    assert_eq!(
        pod.containers[0].image.as_deref(),
        Some("127.0.0.1:5000/web@sha256:2222")
    );
    let fetch = pod.init_containers.unwrap()[0]
        .command
        .clone()
        .unwrap()
        .join(" ");
    assert!(
        fetch.contains("--location oci://127.0.0.1:5000/artifacts@sha256:2222"),
        "{fetch}"
    );
    let artifact = sim
        .status("r1")
        .artifacts
        .iter()
        .find(|a| a.name == "BuildArtifact")
        .unwrap();
    assert_eq!(artifact.produced_by.as_deref(), Some("Build/Image"));
}

#[test]
fn actions_of_one_run_order_run_together_and_the_next_order_waits_for_all() {
    let spec = PIPELINE.replace(
        "      - name: Smoke\n",
        "      - name: Lint\n        runOrder: 1\n        job: {template: {template: {spec: {containers: [{name: l, image: lint}]}}}}\n      - name: Late\n        runOrder: 2\n        job: {template: {template: {spec: {containers: [{name: l, image: late}]}}}}\n      - name: Smoke\n",
    );
    let mut sim = Sim::new(&spec);
    sim.built("r1");
    let running: Vec<String> = sim.status("r1").stages[1]
        .actions
        .iter()
        .filter(|a| a.status.is_some())
        .map(|a| a.name.clone())
        .collect();
    assert_eq!(running, ["Lint", "Smoke"], "runOrder 1 starts together");
    sim.job_ends("r1", "Test", "Lint", 1, JobOutcome::Succeeded, "");
    sim.step("r1");
    assert_eq!(
        sim.action("r1", "Test", "Late").status,
        None,
        "Late waits for Smoke too"
    );
    sim.job_ends("r1", "Test", "Smoke", 1, JobOutcome::Succeeded, "RESULT=ok");
    sim.step("r1");
    assert_eq!(
        sim.action("r1", "Test", "Late").status,
        Some(ActionExecutionStatus::InProgress)
    );
}

#[test]
fn a_failed_action_fails_the_stage_once_its_siblings_finish() {
    let spec = PIPELINE.replace(
        "      - name: Smoke\n",
        "      - name: Lint\n        job: {template: {template: {spec: {containers: [{name: l, image: lint}]}}}}\n      - name: Smoke\n",
    );
    let mut sim = Sim::new(&spec);
    sim.built("r1");
    sim.job_ends(
        "r1",
        "Test",
        "Lint",
        1,
        JobOutcome::Failed("BackoffLimitExceeded: exit 1".into()),
        "",
    );
    sim.step("r1");
    assert_eq!(
        sim.stage("r1", "Test"),
        Some(StageExecutionStatus::InProgress),
        "Smoke is still running"
    );
    sim.job_ends("r1", "Test", "Smoke", 1, JobOutcome::Succeeded, "RESULT=ok");
    sim.step("r1");
    assert_eq!(sim.stage("r1", "Test"), Some(StageExecutionStatus::Failed));
    assert_eq!(sim.phase("r1"), Some(ExecutionStatus::Failed));
    assert!(
        sim.status("r1")
            .message
            .as_deref()
            .unwrap()
            .contains("action Lint failed: Job"),
        "{:?}",
        sim.status("r1").message
    );
    assert_eq!(
        sim.stage("r1", "Deploy"),
        None,
        "nothing after a failed stage runs"
    );
    assert!(sim.holders().is_empty());
}

#[test]
fn an_unknown_variable_fails_the_action_before_anything_is_created() {
    let spec = PIPELINE.replace(
        "#{BuildVariables.IMAGE_WEB_URI}\"}]}}}",
        "#{BuildVariables.IMAGE_API_URI}\"}]}}}",
    );
    let mut sim = Sim::new(&spec);
    sim.built("r1");
    let smoke = sim.action("r1", "Test", "Smoke");
    assert_eq!(smoke.status, Some(ActionExecutionStatus::Failed));
    let message = smoke.message.unwrap();
    assert!(message.starts_with("action Test/Smoke: unknown variable #{BuildVariables.IMAGE_API_URI} (its namespace has IMAGE_WEB_DIGEST, IMAGE_WEB_TAG, IMAGE_WEB_URI, VERSION)"), "{message}");
    assert_eq!(
        sim.created.len(),
        1,
        "no Job was created: {:?}",
        sim.created
    );
}

#[test]
fn a_build_without_the_declared_artifact_fails_naming_the_fix() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run("r1", &"a".repeat(40));
    sim.step("r1");
    let child = sim.child("r1", "Build", "Image", 1);
    sim.set_child(
        "r1",
        &child,
        ChildFacts::Build(BuildFacts {
            status: Some(BuildStatus::Succeeded),
            ..BuildFacts::default()
        }),
    );
    sim.step("r1");
    let message = sim.action("r1", "Build", "Image").message.unwrap();
    assert!(
        message.contains("give the buildspec an `artifacts` section"),
        "{message}"
    );
}

#[test]
fn deciding_again_over_the_same_world_asks_for_the_same_children() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run("r1", &"a".repeat(40));
    let first = sim.decide("r1");
    let again = sim.decide("r1");
    assert_eq!(intent_kinds(&first), intent_kinds(&again));
    assert_eq!(first.status, again.status);
    sim.step("r1");
    // The create happened but the child is not seen yet (a lagging list): the same create again.
    let lagging = Observed {
        children: BTreeMap::new(),
        ..sim.observe("r1")
    };
    let again = decide(&sim.run("r1").run, &lagging, &sim.settings);
    assert_eq!(intent_kinds(&again), ["create"]);
    let Some(Intent::Create(child)) = again.intents.first() else {
        panic!()
    };
    let Child::Build(build) = child.as_ref() else {
        panic!()
    };
    assert_eq!(
        build.metadata.name.as_deref(),
        Some(sim.child("r1", "Build", "Image", 1).as_str())
    );
    sim.step("r1"); // records the child's UID once it is seen
    let settled = sim.decide("r1");
    assert!(
        intent_kinds(&settled).is_empty(),
        "nothing more to do while the build runs"
    );
    assert_eq!(
        settled.status,
        sim.status("r1").clone(),
        "an unchanged world writes nothing"
    );
}

#[test]
fn a_lost_status_write_resumes_without_a_second_child() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run("r1", &"a".repeat(40));
    sim.step("r1");
    // The controller died after creating the child and taking the lock, before writing status.
    sim.run_mut("r1").run.status = PipelineExecutionStatus::default();
    let resumed = sim.step("r1");
    assert!(
        !intent_kinds(&resumed).contains(&"lock"),
        "it holds the stage already"
    );
    assert_eq!(sim.created.len(), 1, "the create met the existing child");
    sim.build_succeeds("r1", 1, "sha256:1");
    sim.step("r1");
    assert_eq!(
        sim.stage("r1", "Build"),
        Some(StageExecutionStatus::Succeeded)
    );
}

#[test]
fn a_child_that_belongs_to_someone_else_fails_the_action() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run("r1", &"a".repeat(40));
    let child = sim.child("r1", "Build", "Image", 1);
    sim.run_mut("r1").children.insert(
        child,
        ChildFacts::Foreign {
            owner: Some("PipelineExecution/other".into()),
        },
    );
    sim.step("r1");
    sim.step("r1");
    let message = sim.action("r1", "Build", "Image").message.unwrap();
    assert!(
        message.contains("belongs to PipelineExecution/other"),
        "{message}"
    );
}

#[test]
fn a_missing_pipeline_blocks_the_run_with_a_stalled_condition() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run("r1", &"a".repeat(40));
    let observed = Observed {
        pipeline: None,
        ..sim.observe("r1")
    };
    let decision = decide(&sim.run("r1").run, &observed, &sim.settings);
    assert_eq!(decision.status.phase, None);
    assert!(
        decision
            .status
            .message
            .as_deref()
            .unwrap()
            .contains("Pipeline \"web\" in namespace default: it does not exist")
    );
    let stalled = crate::runtime::conditions::find(&decision.status.conditions, "Stalled").unwrap();
    assert_eq!(
        (stalled.status.as_str(), stalled.reason.as_str()),
        ("True", "PipelineNotFound")
    );
    assert_eq!(decision.events.len(), 1);
}

#[test]
fn an_invalid_pipeline_or_override_fails_the_run_naming_the_field() {
    let spec = PIPELINE.replace("inputArtifacts: [BuildArtifact]", "inputArtifacts: [Nope]");
    let mut sim = Sim::new(&spec);
    sim.add_run("r1", &"a".repeat(40));
    sim.step("r1");
    assert_eq!(sim.phase("r1"), Some(ExecutionStatus::Failed));
    assert!(
        sim.status("r1")
            .message
            .as_deref()
            .unwrap()
            .contains("spec.stages[1].actions[0].inputArtifacts[0]")
    );
    assert!(sim.created.is_empty());
    let mut sim = Sim::new(PIPELINE);
    sim.add_run_with("r2", |spec| {
        spec.source = Some(SourceRevision {
            commit_id: Some("c".repeat(40)),
            ..Default::default()
        });
        spec.variables = vec![NameValue {
            name: "NOPE".into(),
            value: "x".into(),
        }];
    });
    sim.step("r2");
    assert!(
        sim.status("r2")
            .message
            .as_deref()
            .unwrap()
            .contains("spec.variables[0].name: \"NOPE\" is not a variable")
    );
}

#[test]
fn a_run_without_a_commit_waits_for_the_resolved_head_and_records_it() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run_with("r1", |_| {});
    assert!(needs_source_resolution(
        &sim.run("r1").run.spec,
        &sim.run("r1").run.status
    ));
    let waiting = sim.step("r1");
    assert_eq!(waiting.status.phase, None);
    assert!(waiting.requeue_after.is_some());
    sim.run_mut("r1").resolved = Some(Ok(SourceRevision {
        commit_id: Some("d".repeat(40)),
        ..Default::default()
    }));
    sim.step("r1");
    let source = sim.status("r1").source_revision.clone().unwrap();
    assert_eq!(source.commit_id, Some("d".repeat(40)));
    assert_eq!(source.branch_name.as_deref(), Some("main"));
    assert!(!needs_source_resolution(
        &sim.run("r1").run.spec,
        &sim.run("r1").run.status
    ));
    let mut failing = Sim::new(PIPELINE);
    failing.add_run_with("r2", |_| {});
    failing.run_mut("r2").resolved = Some(Err(
        "unable to list refs of https://git.test/acme/web.git: 404".into(),
    ));
    failing.step("r2");
    assert_eq!(failing.phase("r2"), Some(ExecutionStatus::Failed));
}

#[test]
fn a_spec_change_mid_run_does_not_reach_the_running_run() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run("r1", &"a".repeat(40));
    sim.step("r1");
    sim.pipeline.spec.stages.remove(1);
    sim.pipeline.generation = Some(2);
    sim.build_succeeds("r1", 1, "sha256:1");
    sim.step("r1");
    assert_eq!(
        sim.stage("r1", "Test"),
        Some(StageExecutionStatus::InProgress),
        "the run keeps the stages it started with"
    );
    assert_eq!(sim.status("r1").pipeline_generation, Some(1));
}

#[test]
fn approvals_count_only_for_their_attempt_and_approvers() {
    let spec = PIPELINE.replace(
        "  - name: Deploy\n",
        "  - name: Approve\n    actions:\n      - name: Release\n        approval: {summary: \"ship #{BuildVariables.VERSION}?\", approvers: [jane], timeoutInMinutes: 60}\n  - name: Deploy\n",
    );
    let mut sim = Sim::new(&spec);
    sim.tested("r1");
    assert_eq!(
        sim.action("r1", "Approve", "Release").message.as_deref(),
        Some("ship 1.0?")
    );
    sim.answer(
        "r1",
        "Approve",
        "Release",
        2,
        ApprovalResult::Approved,
        "jane",
    );
    sim.answer(
        "r1",
        "Approve",
        "Release",
        1,
        ApprovalResult::Approved,
        "mallory",
    );
    sim.step("r1");
    let release = sim.action("r1", "Approve", "Release");
    assert_eq!(
        release.status,
        Some(ActionExecutionStatus::InProgress),
        "neither answer counts"
    );
    assert!(
        release
            .message
            .unwrap()
            .contains("an answer by mallory was not taken: only jane may answer")
    );
    sim.answer(
        "r1",
        "Approve",
        "Release",
        1,
        ApprovalResult::Approved,
        "jane",
    );
    sim.step("r1");
    let release = sim.action("r1", "Approve", "Release");
    assert_eq!(release.status, Some(ActionExecutionStatus::Succeeded));
    assert_eq!(
        release.approval.unwrap().approved_by.as_deref(),
        Some("jane")
    );
    assert_eq!(
        sim.stage("r1", "Deploy"),
        Some(StageExecutionStatus::InProgress)
    );
}

#[test]
fn a_rejected_or_unanswered_approval_fails_the_stage() {
    let spec = PIPELINE.replace(
        "  - name: Test\n    actions:\n",
        "  - name: Gate\n    actions:\n      - name: Ok\n        approval: {timeoutInMinutes: 5}\n  - name: Test\n    actions:\n",
    );
    let mut sim = Sim::new(&spec);
    sim.add_run("r1", &"a".repeat(40));
    sim.step("r1");
    sim.build_succeeds("r1", 1, "sha256:1");
    let waiting = sim.step("r1");
    assert_eq!(
        waiting.requeue_after,
        Some(std::time::Duration::from_secs(300)),
        "looked at again at the deadline"
    );
    sim.answer("r1", "Gate", "Ok", 1, ApprovalResult::Rejected, "jane");
    sim.step("r1");
    assert_eq!(sim.stage("r1", "Gate"), Some(StageExecutionStatus::Failed));
    assert!(
        sim.action("r1", "Gate", "Ok")
            .message
            .unwrap()
            .starts_with("rejected by jane")
    );
    let mut sim = Sim::new(&spec);
    sim.built("r2");
    sim.advance(301);
    sim.step("r2");
    assert_eq!(
        sim.action("r2", "Gate", "Ok").message.as_deref(),
        Some("no answer within 5 minutes")
    );
}

#[test]
fn a_deploy_action_past_its_timeout_is_stopped_and_fails() {
    let spec = PIPELINE.replace(
        "      - name: Roll\n",
        "      - name: Roll\n        timeoutInMinutes: 10\n",
    );
    let mut sim = Sim::new(&spec);
    sim.tested("r1");
    sim.step("r1");
    sim.advance(601);
    sim.step("r1");
    assert_eq!(sim.stops.len(), 1);
    assert_eq!(sim.stops[0].kind, ChildKind::Deploy);
    assert_eq!(
        sim.action("r1", "Deploy", "Roll").message.as_deref(),
        Some("timed out after 10 minutes")
    );
}

#[test]
fn a_jenkins_action_is_triggered_once_and_follows_the_build() {
    let spec = PIPELINE.replace(
        "      - name: Smoke\n",
        "      - name: Suite\n        jenkins: {url: \"http://jenkins.test\", jobName: team/suite, credentialsSecret: {name: j}, parameters: [{name: COMMIT, value: \"#{SourceVariables.CommitId}\"}]}\n      - name: Smoke\n",
    );
    let mut sim = Sim::new(&spec);
    sim.add_run("r1", &"a".repeat(40));
    sim.step("r1");
    sim.build_succeeds("r1", 1, "sha256:1");
    let started = sim.step("r1");
    let trigger = started
        .intents
        .iter()
        .find_map(|i| match i {
            Intent::TriggerJenkins(t) => Some(t.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(trigger.config.parameters[0].value, "a".repeat(40));
    assert!(trigger.action_id.starts_with("r1-uid-"));
    assert!(
        sim.action("r1", "Test", "Suite")
            .external_run
            .unwrap()
            .queue_url
            .is_some()
    );
    sim.step("r1");
    assert_eq!(
        sim.jenkins_triggers, 1,
        "a known queue item is followed, not triggered again"
    );
    let key = sim.child("r1", "Test", "Suite", 1);
    sim.run_mut("r1").jenkins.insert(
        key,
        JenkinsObservation::Ended {
            run: ExternalRun {
                build_url: Some("http://jenkins.test/job/team/job/suite/7/".into()),
                build_number: Some(7),
                result: Some("FAILURE".into()),
                ..Default::default()
            },
            passed: false,
            message:
                "Jenkins build #7 ended FAILURE: http://jenkins.test/job/team/job/suite/7/console"
                    .into(),
        },
    );
    sim.job_ends("r1", "Test", "Smoke", 1, JobOutcome::Succeeded, "RESULT=ok");
    sim.step("r1");
    let suite = sim.action("r1", "Test", "Suite");
    assert_eq!(suite.status, Some(ActionExecutionStatus::Failed));
    assert_eq!(
        suite.external_url.as_deref(),
        Some("http://jenkins.test/job/team/job/suite/7/")
    );
}

#[test]
fn each_stage_transition_is_told_by_one_event_naming_what_moved() {
    let mut sim = Sim::new(PIPELINE);
    sim.add_run("r1", &"a".repeat(40));
    sim.run_through("r1", "sha256:1");
    assert_eq!(
        sim.event_reasons("r1"),
        ["StageStarted", "StageStarted", "StageStarted", "Succeeded"]
    );
    let notes: Vec<&str> = sim
        .events
        .iter()
        .map(|(_, event)| event.note.as_str())
        .collect();
    assert!(notes[0].starts_with("run started for commit aaaaaaaaaaaa on main; stage Build started; action Build/Image started: created BuildRun"), "{notes:?}");
    assert!(notes[1].starts_with("action Build/Image succeeded: pushed 127.0.0.1:5000/web@sha256:1; stage Build succeeded; stage Test started; action Test/Smoke started"), "{notes:?}");
    assert!(
        notes[3].ends_with("every stage succeeded for commit aaaaaaaaaaaa on main"),
        "{notes:?}"
    );
}

#[test]
fn warnings_are_never_folded_into_progress() {
    let events = vec![
        crate::runtime::events::EventIntent::normal(crate::pipeline::reasons::STAGE_SUCCEEDED, "a"),
        crate::runtime::events::EventIntent::warning(crate::pipeline::reasons::ACTION_FAILED, "b"),
        crate::runtime::events::EventIntent::normal(
            crate::pipeline::reasons::APPROVAL_ANSWERED,
            "c",
        ),
        crate::runtime::events::EventIntent::normal(crate::pipeline::reasons::STAGE_STARTED, "d"),
        crate::runtime::events::EventIntent::normal(crate::pipeline::reasons::ACTION_STARTED, "e"),
    ];
    let folded = super::super::fold_progress(events);
    let reasons: Vec<&str> = folded.iter().map(|event| event.reason).collect();
    assert_eq!(
        reasons,
        [
            "StageSucceeded",
            "ActionFailed",
            "ApprovalAnswered",
            "StageStarted"
        ]
    );
    assert_eq!(folded[3].note, "d; e");
}
