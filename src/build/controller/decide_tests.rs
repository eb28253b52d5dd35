use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use serde_json::json;

use super::*;
use crate::api::buildrun::BuildStop;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + seconds).unwrap()
}

fn spec(extra: serde_json::Value) -> BuildRunSpec {
    let mut base = json!({
        "buildspec": {"inline": "version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n"},
        "environment": {"image": "alpine:3.20"}
    });
    if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    serde_json::from_value(base).unwrap()
}

fn world() -> World {
    World {
        name: "web-1".into(),
        namespace: "team".into(),
        generation: Some(1),
        created: Some(at(0)),
        spec: spec(json!({})),
        status: BuildRunStatus::default(),
        build_number: 4,
        job: JobState::Absent,
        pod: None,
        missing: Vec::new(),
        now: at(1),
    }
}

fn job() -> JobFacts {
    JobFacts {
        name: "web-1-build".into(),
        uid: "job-uid".into(),
        created: Some(at(1)),
        deleting: false,
        failed: None,
    }
}

fn running(name: &str, started: i64) -> ContainerFacts {
    ContainerFacts {
        name: name.into(),
        state: ContainerState::Running {
            started: Some(at(started)),
        },
    }
}

fn waiting(name: &str, reason: &str, message: &str) -> ContainerFacts {
    ContainerFacts {
        name: name.into(),
        state: ContainerState::Waiting {
            reason: reason.into(),
            message: message.into(),
        },
    }
}

fn terminated(
    name: &str,
    exit_code: i32,
    message: &str,
    started: i64,
    finished: i64,
) -> ContainerFacts {
    ContainerFacts {
        name: name.into(),
        state: ContainerState::Terminated {
            exit_code,
            reason: if exit_code == 0 { "Completed" } else { "Error" }.into(),
            message: message.into(),
            started: Some(at(started)),
            finished: Some(at(finished)),
        },
    }
}

fn pod(containers: Vec<ContainerFacts>) -> PodFacts {
    PodFacts {
        name: "web-1-build-abcde".into(),
        started: Some(at(2)),
        unschedulable: None,
        containers,
    }
}

fn with_pod(containers: Vec<ContainerFacts>, now: i64) -> World {
    World {
        job: JobState::Owned(job()),
        pod: Some(pod(containers)),
        now: at(now),
        ..world()
    }
}

const SUCCESS: &str = r#"{"kind":"slipway.dev/BuildResult","version":1,"complete":true,"buildStatus":"SUCCEEDED",
 "startTime":"2027-01-15T08:00:04Z","endTime":"2027-01-15T08:00:09Z",
 "phases":[{"phaseType":"BUILD","phaseStatus":"SUCCEEDED","startTime":"2027-01-15T08:00:04Z","endTime":"2027-01-15T08:00:08Z","durationInSeconds":4},
           {"phaseType":"FINALIZING","phaseStatus":"SUCCEEDED","startTime":"2027-01-15T08:00:08Z","endTime":"2027-01-15T08:00:09Z","durationInSeconds":1},
           {"phaseType":"COMPLETED","startTime":"2027-01-15T08:00:09Z"}],
 "exportedVariables":[{"name":"IMAGE_TAG","value":"v7"}]}"#;

fn condition<'a>(status: &'a BuildRunStatus, kind: &str) -> &'a Condition {
    status
        .conditions
        .iter()
        .find(|condition| condition.type_ == kind)
        .unwrap_or_else(|| panic!("no {kind} condition in {:?}", status.conditions))
}

fn phase_types(status: &BuildRunStatus) -> Vec<BuildPhaseType> {
    status.phases.iter().map(|phase| phase.phase_type).collect()
}

#[test]
fn a_new_build_creates_its_job_and_is_submitted() {
    let decision = decide(&world());
    assert_eq!(decision.action, Action::CreateJob);
    let status = &decision.status;
    assert_eq!(status.build_status, Some(BuildStatus::InProgress));
    assert_eq!(status.current_phase, Some(BuildPhaseType::Submitted));
    assert_eq!(status.build_number, Some(4));
    assert_eq!(status.observed_generation, Some(1));
    assert_eq!(status.start_time, Some(Time(at(0))));
    assert_eq!(condition(status, "Succeeded").status, "Unknown");
    assert_eq!(condition(status, "Reconciling").status, "True");
    assert_eq!(condition(status, "Stalled").status, "False");
    assert_eq!(decision.events[0].reason, reasons::EVENT_STARTED);
    assert!(
        decision.events[0].note.contains("build #4"),
        "{:?}",
        decision.events
    );
}

#[test]
fn an_invalid_inline_buildspec_fails_fast_without_a_job() {
    let mut world = world();
    world.spec = spec(
        json!({"buildspec": {"inline": "version: 0.2\nphases:\n  build:\n    commands: echo hi\n"}}),
    );
    let decision = decide(&world);
    assert_eq!(
        decision.action,
        Action::None,
        "no Job for a buildspec that cannot run"
    );
    let status = &decision.status;
    assert_eq!(status.build_status, Some(BuildStatus::Failed));
    let message = status.message.as_deref().unwrap();
    assert!(message.starts_with("spec.buildspec.inline:4:"), "{message}");
    assert_eq!(condition(status, "Succeeded").status, "False");
    assert_eq!(
        condition(status, "Succeeded").reason,
        reasons::INVALID_BUILD_SPEC
    );
    assert_eq!(condition(status, "Stalled").status, "True");
    assert!(
        decision
            .events
            .iter()
            .any(|event| event.warning && event.reason == reasons::EVENT_INVALID_SPEC)
    );
    assert_eq!(status.current_phase, Some(BuildPhaseType::Completed));
}

#[test]
fn batch_buildspecs_are_refused_before_a_job_exists() {
    let mut world = world();
    world.spec = spec(
        json!({"buildspec": {"inline": "version: 0.2\nbatch:\n  build-list:\n    - identifier: a\nphases:\n  build:\n    commands: [echo]\n"}}),
    );
    let decision = decide(&world);
    assert_eq!(decision.action, Action::None);
    let message = decision.status.message.unwrap();
    assert!(
        message.contains("spec.buildspec.inline:2:1") && message.contains("batch"),
        "{message}"
    );
}

#[test]
fn a_missing_secret_blocks_the_build_with_a_condition_naming_it() {
    let mut world = world();
    world.missing = vec!["Secret git-creds (spec.source.git.credentialsSecret)".into()];
    let decision = decide(&world);
    assert_eq!(decision.action, Action::None);
    assert_eq!(decision.requeue_after, Some(BLOCKED_RECHECK));
    let status = &decision.status;
    assert_eq!(status.build_status, Some(BuildStatus::InProgress));
    let stalled = condition(status, "Stalled");
    assert_eq!(
        (stalled.status.as_str(), stalled.reason.as_str()),
        ("True", reasons::MISSING_REFERENCE)
    );
    assert!(
        stalled
            .message
            .contains("Secret git-creds (spec.source.git.credentialsSecret)")
    );
    assert_eq!(condition(status, "Succeeded").status, "Unknown");
    assert_eq!(decision.events.len(), 1);

    // Deciding again over the written status: no second warning, same status.
    let again = decide(&World {
        status: decision.status.clone(),
        now: at(20),
        ..world.clone()
    });
    assert!(again.events.is_empty());
    assert_eq!(again.status, decision.status);

    // Past the queued timeout the build ends.
    let late = decide(&World {
        status: decision.status.clone(),
        now: at(481 * 60),
        ..world
    });
    assert_eq!(late.status.build_status, Some(BuildStatus::TimedOut));
}

#[test]
fn a_job_of_someone_else_stalls_the_build_and_is_not_adopted() {
    let mut world = world();
    world.job = JobState::Foreign {
        name: "web-1-build".into(),
        owner: Some("CronJob/nightly".into()),
    };
    let decision = decide(&world);
    assert_eq!(decision.action, Action::None);
    let stalled = condition(&decision.status, "Stalled");
    assert_eq!(stalled.reason, reasons::JOB_NAME_TAKEN);
    assert!(stalled.message.contains("web-1-build") && stalled.message.contains("CronJob/nightly"));
    assert_eq!(decision.status.job, None);
}

#[test]
fn the_phase_follows_the_pod_through_queue_provisioning_and_source() {
    let mut source = world();
    source.spec = spec(json!({"source": {"git": {"url": "https://git.example.com/a.git"}}}));
    let cases: Vec<(Option<PodFacts>, BuildPhaseType, &str)> = vec![
        (None, BuildPhaseType::Queued, reasons::QUEUED),
        (
            Some(PodFacts {
                started: None,
                ..pod(vec![waiting("slipway-tools", "ContainerCreating", "")])
            }),
            BuildPhaseType::Queued,
            reasons::QUEUED,
        ),
        (
            Some(pod(vec![
                running("slipway-tools", 3),
                waiting("fetch-source", "PodInitializing", ""),
                waiting("build", "PodInitializing", ""),
            ])),
            BuildPhaseType::Provisioning,
            reasons::PROVISIONING,
        ),
        (
            Some(pod(vec![
                terminated("slipway-tools", 0, "", 3, 4),
                running("fetch-source", 4),
                waiting("build", "PodInitializing", ""),
            ])),
            BuildPhaseType::DownloadSource,
            reasons::PROVISIONING,
        ),
        (
            Some(pod(vec![
                terminated("slipway-tools", 0, "", 3, 4),
                terminated("fetch-source", 0, "", 4, 6),
                running("build", 7),
            ])),
            BuildPhaseType::Install,
            reasons::RUNNING,
        ),
    ];
    for (pod, phase, reason) in cases {
        let world = World {
            job: JobState::Owned(job()),
            pod: pod.clone(),
            now: at(10),
            ..source.clone()
        };
        let decision = decide(&world);
        assert_eq!(decision.action, Action::None, "{pod:?}");
        assert_eq!(decision.status.current_phase, Some(phase), "{pod:?}");
        assert_eq!(
            condition(&decision.status, "Succeeded").reason,
            reason,
            "{pod:?}"
        );
        assert_eq!(decision.status.build_status, Some(BuildStatus::InProgress));
    }
    let world = World {
        job: JobState::Owned(job()),
        pod: Some(pod(vec![
            terminated("slipway-tools", 0, "", 3, 4),
            terminated("fetch-source", 0, "", 4, 6),
            running("build", 7),
        ])),
        now: at(10),
        ..source
    };
    let status = decide(&world).status;
    assert_eq!(
        phase_types(&status),
        vec![
            BuildPhaseType::Submitted,
            BuildPhaseType::Queued,
            BuildPhaseType::Provisioning,
            BuildPhaseType::DownloadSource,
            BuildPhaseType::Install
        ]
    );
    let download = &status.phases[3];
    assert_eq!(download.duration_in_seconds, Some(2));
    assert_eq!(download.phase_status, Some(BuildStatus::Succeeded));
    assert_eq!(
        status.logs.as_deref(),
        Some("kubectl logs -n team web-1-build-abcde -c build")
    );
    assert_eq!(
        status.job.as_ref().map(|job| job.name.as_str()),
        Some("web-1-build")
    );
}

#[test]
fn deciding_twice_over_the_same_facts_changes_nothing() {
    let world = with_pod(
        vec![
            terminated("slipway-tools", 0, "", 3, 4),
            running("build", 5),
        ],
        10,
    );
    let first = decide(&world);
    let second = decide(&World {
        status: first.status.clone(),
        now: at(99),
        ..world
    });
    assert_eq!(
        second.status, first.status,
        "timestamps come from facts, not from now"
    );
    assert!(second.events.is_empty(), "no repeated PhaseChanged");
}

#[test]
fn a_successful_result_fills_phases_and_exported_variables() {
    let world = with_pod(
        vec![
            terminated("slipway-tools", 0, "", 3, 4),
            terminated("build", 0, SUCCESS, 4, 9),
        ],
        10,
    );
    let decision = decide(&world);
    let status = &decision.status;
    assert_eq!(status.build_status, Some(BuildStatus::Succeeded));
    assert_eq!(
        phase_types(status),
        vec![
            BuildPhaseType::Submitted,
            BuildPhaseType::Queued,
            BuildPhaseType::Provisioning,
            BuildPhaseType::Build,
            BuildPhaseType::Finalizing,
            BuildPhaseType::Completed
        ]
    );
    assert_eq!(status.current_phase, Some(BuildPhaseType::Completed));
    assert_eq!(status.exported_variables[0].name, "IMAGE_TAG");
    assert_eq!(status.completion_time, Some(Time(at(9))));
    assert_eq!(status.duration_in_seconds, Some(9));
    assert_eq!(condition(status, "Succeeded").status, "True");
    assert_eq!(condition(status, "Reconciling").status, "False");
    assert_eq!(condition(status, "Stalled").status, "False");
    assert_eq!(
        decision.events.last().unwrap().reason,
        reasons::EVENT_SUCCEEDED
    );
}

#[test]
fn build_results_map_to_statuses() {
    let failed = SUCCESS.replace(
        "\"buildStatus\":\"SUCCEEDED\"",
        "\"buildStatus\":\"FAILED\",\"message\":\"phase BUILD failed: exit status 3\"",
    );
    let cases: Vec<(i32, String, BuildStatus, &str)> = vec![
        (
            0,
            SUCCESS.to_owned(),
            BuildStatus::Succeeded,
            "every phase succeeded",
        ),
        (
            1,
            failed.clone(),
            BuildStatus::Failed,
            "phase BUILD failed: exit status 3",
        ),
        (
            2,
            failed,
            BuildStatus::Fault,
            "the executor exited with code 2 (FAULT)",
        ),
        (
            137,
            String::new(),
            BuildStatus::Fault,
            "the executor ended without a result: exit code 137 (Error)",
        ),
        (
            0,
            "not json".to_owned(),
            BuildStatus::Fault,
            "without a result",
        ),
    ];
    for (exit_code, message, expected, text) in cases {
        let world = with_pod(
            vec![
                terminated("slipway-tools", 0, "", 3, 4),
                terminated("build", exit_code, &message, 4, 9),
            ],
            10,
        );
        let status = decide(&world).status;
        assert_eq!(status.build_status, Some(expected), "{exit_code} {message}");
        let shown = status.message.unwrap();
        assert!(shown.contains(text), "{shown} should contain {text}");
        assert_eq!(
            status.phases.last().unwrap().phase_type,
            BuildPhaseType::Completed
        );
    }
}

#[test]
fn a_finished_build_is_never_decided_again() {
    let world = with_pod(vec![terminated("build", 0, SUCCESS, 4, 9)], 10);
    let finished = decide(&world).status;
    let later = decide(&World {
        status: finished.clone(),
        generation: Some(2),
        job: JobState::Absent,
        pod: None,
        now: at(5000),
        ..world
    });
    assert_eq!(later.action, Action::None);
    assert!(later.events.is_empty());
    assert_eq!(
        later.status,
        BuildRunStatus {
            observed_generation: Some(2),
            ..finished
        }
    );
}

#[test]
fn stop_deletes_the_job_and_ends_stopped_with_the_reason() {
    let mut world = with_pod(vec![running("build", 5)], 30);
    world.spec.stop = Some(BuildStop {
        reason: Some("superseded by #5".into()),
    });
    let decision = decide(&world);
    assert_eq!(
        decision.action,
        Action::DeleteJob {
            name: "web-1-build".into(),
            uid: "job-uid".into()
        }
    );
    let status = &decision.status;
    assert_eq!(status.build_status, Some(BuildStatus::Stopped));
    assert_eq!(status.message.as_deref(), Some("stopped: superseded by #5"));
    let install = status
        .phases
        .iter()
        .find(|p| p.phase_type == BuildPhaseType::Install)
        .unwrap();
    assert_eq!(install.phase_status, Some(BuildStatus::Stopped));
    assert_eq!(
        decision.events.last().unwrap().reason,
        reasons::EVENT_STOPPED
    );
    // A stopped build without a Job does not delete anything.
    let mut unstarted = self::world();
    unstarted.spec.stop = Some(BuildStop::default());
    assert_eq!(decide(&unstarted).action, Action::None);
    assert_eq!(
        decide(&unstarted).status.build_status,
        Some(BuildStatus::Stopped)
    );
}

#[test]
fn the_job_deadline_times_the_build_out() {
    let mut world = with_pod(vec![running("build", 5)], 3700);
    if let JobState::Owned(job) = &mut world.job {
        job.failed = Some((
            "DeadlineExceeded".into(),
            "Job was active longer than specified deadline".into(),
            Some(at(3601)),
        ));
    }
    let status = decide(&world).status;
    assert_eq!(status.build_status, Some(BuildStatus::TimedOut));
    assert_eq!(status.completion_time, Some(Time(at(3601))));
    assert!(status.message.unwrap().contains("timeoutInMinutes (60)"));
}

#[test]
fn a_pod_that_never_starts_times_out_in_the_queue_and_its_job_is_deleted() {
    let mut world = with_pod(vec![waiting("slipway-tools", "ContainerCreating", "")], 100);
    world.pod.as_mut().unwrap().started = None;
    world.pod.as_mut().unwrap().unschedulable =
        Some("0/3 nodes are available: 3 Insufficient cpu.".into());
    let waiting = decide(&world);
    assert_eq!(waiting.action, Action::None);
    assert!(
        waiting
            .status
            .message
            .as_deref()
            .unwrap()
            .contains("Insufficient cpu")
    );
    let deadline = Duration::from_secs(480 * 60 - 100 + 1);
    assert_eq!(waiting.requeue_after, Some(deadline));
    world.now = at(480 * 60);
    let late = decide(&world);
    assert!(matches!(late.action, Action::DeleteJob { .. }));
    assert_eq!(late.status.build_status, Some(BuildStatus::TimedOut));
    assert!(
        late.status
            .message
            .unwrap()
            .contains("queuedTimeoutInMinutes (480)")
    );
}

#[test]
fn a_missing_secret_key_reported_by_the_pod_stalls_the_build_naming_the_key() {
    let message = "couldn't find key password in Secret team/git-creds";
    let world = with_pod(
        vec![
            terminated("slipway-tools", 0, "", 3, 4),
            waiting("build", "CreateContainerConfigError", message),
        ],
        10,
    );
    let decision = decide(&world);
    assert_eq!(decision.status.build_status, Some(BuildStatus::InProgress));
    let stalled = condition(&decision.status, "Stalled");
    assert_eq!(stalled.reason, reasons::CONTAINER_CANNOT_START);
    assert!(
        stalled
            .message
            .contains("key password in Secret team/git-creds"),
        "{}",
        stalled.message
    );
    assert!(
        decision
            .events
            .iter()
            .any(|event| event.reason == reasons::EVENT_BLOCKED)
    );
}

#[test]
fn a_failed_source_fetch_fails_the_build_in_download_source() {
    let mut world = with_pod(
        vec![
            terminated("slipway-tools", 0, "", 3, 4),
            terminated(
                "fetch-source",
                1,
                "failed to fetch: repository not found",
                4,
                6,
            ),
            waiting("build", "PodInitializing", ""),
        ],
        10,
    );
    world.spec = spec(json!({"source": {"git": {"url": "https://git.example.com/a.git"}}}));
    let status = decide(&world).status;
    assert_eq!(status.build_status, Some(BuildStatus::Failed));
    let download = status
        .phases
        .iter()
        .find(|p| p.phase_type == BuildPhaseType::DownloadSource)
        .unwrap();
    assert_eq!(download.phase_status, Some(BuildStatus::Failed));
    assert!(status.message.unwrap().contains("repository not found"));
}

#[test]
fn a_failed_executor_copy_is_a_fault() {
    let world = with_pod(
        vec![
            terminated("slipway-tools", 126, "exec format error", 3, 4),
            waiting("build", "PodInitializing", ""),
        ],
        10,
    );
    let status = decide(&world).status;
    assert_eq!(status.build_status, Some(BuildStatus::Fault));
    assert!(status.message.unwrap().contains("exec format error"));
}

#[test]
fn a_job_deleted_under_a_running_build_is_a_fault() {
    let mut world = world();
    world.status.job = Some(ChildReference {
        api_version: "batch/v1".into(),
        kind: "Job".into(),
        name: "web-1-build".into(),
        uid: Some("job-uid".into()),
    });
    let decision = decide(&world);
    assert_eq!(decision.action, Action::None, "no second Job");
    assert_eq!(decision.status.build_status, Some(BuildStatus::Fault));
}

#[test]
fn a_shortened_result_points_at_the_stored_copy_not_the_pods_file() {
    let mut result = parse_result(
        r#"{"kind":"slipway.dev/BuildResult","complete":false,"buildStatus":"SUCCEEDED",
            "omittedExportedVariables":["BIG"],"omittedArtifacts":["reports"],
            "resultFile":"/workspace/.slipway/result.json",
            "resultLocation":"oci://127.0.0.1:5000/team/artifacts@sha256:ab"}"#,
    )
    .expect("a result");
    assert_eq!(
        shortened_result_note(&result).as_deref(),
        Some(
            "result shortened to fit the termination message; exported variables BIG and artifacts reports in oci://127.0.0.1:5000/team/artifacts@sha256:ab"
        )
    );
    result.result_location = None;
    assert!(
        shortened_result_note(&result)
            .expect("a note")
            .ends_with("in /workspace/.slipway/result.json")
    );
    result.complete = true;
    assert_eq!(shortened_result_note(&result), None);
}
