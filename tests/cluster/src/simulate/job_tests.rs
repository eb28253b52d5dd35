use serde_json::{Value, json};

use super::*;
use crate::simulate::test_support::*;

fn job(spec_extra: Value) -> Value {
    let mut job = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "build", "namespace": "ci", "uid": "j1"},
        "spec": {"template": {"metadata": {"labels": {"app": "build"}, "annotations": {"x": "y"}},
                              "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]}}}
    });
    for (k, v) in spec_extra.as_object().unwrap() {
        job["spec"][k] = v.clone();
    }
    job
}

fn pod(name: &str, phase: &str, finished: Option<&str>) -> Value {
    let mut pod = json!({
        "metadata": {"name": name, "namespace": "ci", "uid": format!("u-{name}"),
                     "ownerReferences": [{"kind": "Job", "name": "build", "uid": "j1", "controller": true}]},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if phase == "Running" { "True" } else { "False" }}]}
    });
    if let Some(finished) = finished {
        pod["status"]["containerStatuses"] =
            json!([{"name": "main", "state": {"terminated": {"finishedAt": finished}}}]);
    }
    pod
}

fn types(status: &Value) -> Vec<(String, String)> {
    status["conditions"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| {
                    (
                        c["type"].as_str().unwrap().to_owned(),
                        c["reason"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_new_job_gets_one_labelled_pod_and_a_start_time() {
    let intents = decide_job(&job(json!({})), &[], &JobTiming::default(), at(0));
    let pods = created(&intents, Kind::Pod);
    assert_eq!(pods.len(), 1);
    let labels = &pods[0]["metadata"]["labels"];
    assert_eq!(labels["job-name"], "build");
    assert_eq!(labels["batch.kubernetes.io/job-name"], "build");
    assert_eq!(labels["controller-uid"], "j1");
    assert_eq!(labels["batch.kubernetes.io/controller-uid"], "j1");
    assert_eq!(labels["app"], "build");
    assert_eq!(pods[0]["metadata"]["annotations"]["x"], "y");
    assert_eq!(pods[0]["metadata"]["generateName"], "build-");
    assert_eq!(pods[0]["metadata"]["ownerReferences"][0]["kind"], "Job");
    assert_eq!(pods[0]["spec"]["restartPolicy"], "Never");
    let status = written_status(&intents, Kind::Job);
    assert_eq!(status["startTime"], "2026-03-01T10:00:00Z");
    assert_eq!(status["ready"], 0);
    assert_eq!(status["terminating"], 0);
    assert_eq!(status["uncountedTerminatedPods"], json!({}));
}

#[test]
fn a_running_pod_is_counted_active_and_ready() {
    let mut j = job(json!({}));
    j["status"] = json!({"startTime": "2026-03-01T10:00:00Z"});
    let intents = decide_job(
        &j,
        &[pod("a", "Running", None)],
        &JobTiming::default(),
        at(0),
    );
    assert!(created(&intents, Kind::Pod).is_empty());
    let status = written_status(&intents, Kind::Job);
    assert_eq!(
        (status["active"].as_i64(), status["ready"].as_i64()),
        (Some(1), Some(1))
    );
}

#[test]
fn a_succeeded_pod_completes_the_job_through_success_criteria_met() {
    let mut j = job(json!({}));
    j["status"] = json!({"startTime": "2026-03-01T10:00:00Z"});
    let intents = decide_job(
        &j,
        &[pod("a", "Succeeded", None)],
        &JobTiming::default(),
        at(5000),
    );
    let status = written_status(&intents, Kind::Job);
    assert_eq!(
        types(&status),
        vec![
            ("SuccessCriteriaMet".into(), "CompletionsReached".into()),
            ("Complete".into(), "CompletionsReached".into())
        ]
    );
    assert_eq!(
        status_condition(&status, "Complete")["message"],
        reason::COMPLETIONS_REACHED_MESSAGE
    );
    assert_eq!(status["succeeded"], 1);
    assert_eq!(status["completionTime"], "2026-03-01T10:00:05Z");
    assert!(status.get("active").is_none());
    assert!(status.get("failed").is_none());
}

#[test]
fn failures_within_the_backoff_limit_are_replaced_after_the_backoff() {
    let mut j = job(json!({"backoffLimit": 2}));
    j["status"] = json!({"startTime": "2026-03-01T10:00:00Z"});
    let failed = [pod("a", "Failed", Some("2026-03-01T10:00:01Z"))];
    let intents = decide_job(&j, &failed, &JobTiming::default(), at(1500));
    assert!(created(&intents, Kind::Pod).is_empty(), "still backing off");
    assert_eq!(recheck(&intents), Some(at(2000)));
    assert_eq!(written_status(&intents, Kind::Job)["failed"], 1);

    let intents = decide_job(&j, &failed, &JobTiming::default(), at(2000));
    assert_eq!(created(&intents, Kind::Pod).len(), 1);

    let two_failed = [
        pod("a", "Failed", Some("2026-03-01T10:00:01Z")),
        pod("b", "Failed", Some("2026-03-01T10:00:03Z")),
    ];
    let intents = decide_job(&j, &two_failed, &JobTiming::default(), at(3000));
    assert_eq!(recheck(&intents), Some(at(5000)), "the back-off doubles");
}

#[test]
fn exceeding_the_backoff_limit_fails_the_job() {
    let mut j = job(json!({"backoffLimit": 0}));
    j["status"] = json!({"startTime": "2026-03-01T10:00:00Z"});
    let intents = decide_job(
        &j,
        &[pod("a", "Failed", Some("2026-03-01T10:00:01Z"))],
        &JobTiming::default(),
        at(2000),
    );
    let status = written_status(&intents, Kind::Job);
    assert_eq!(
        types(&status),
        vec![
            ("FailureTarget".into(), "BackoffLimitExceeded".into()),
            ("Failed".into(), "BackoffLimitExceeded".into())
        ]
    );
    assert_eq!(
        status_condition(&status, "Failed")["message"],
        reason::BACKOFF_LIMIT_EXCEEDED_MESSAGE
    );
    assert_eq!(status["failed"], 1);
    assert!(status.get("completionTime").is_none());
    assert!(created(&intents, Kind::Pod).is_empty());
}

#[test]
fn the_active_deadline_stops_running_pods_then_fails_the_job() {
    let mut j = job(json!({"activeDeadlineSeconds": 10}));
    j["status"] = json!({"startTime": "2026-03-01T10:00:00Z"});
    let running = [pod("a", "Running", None)];
    let intents = decide_job(&j, &running, &JobTiming::default(), at(5000));
    assert_eq!(recheck(&intents), Some(at(10_000)));

    let intents = decide_job(&j, &running, &JobTiming::default(), at(10_000));
    assert_eq!(deleted(&intents, Kind::Pod), vec!["a"]);
    let status = written_status(&intents, Kind::Job);
    assert_eq!(
        types(&status),
        vec![("FailureTarget".into(), "DeadlineExceeded".into())]
    );
    assert_eq!(status["terminating"], 1);
    apply_status(&mut j, &intents, Kind::Job);

    let intents = decide_job(&j, &[], &JobTiming::default(), at(11_000));
    let status = written_status(&intents, Kind::Job);
    assert_eq!(
        types(&status),
        vec![
            ("FailureTarget".into(), "DeadlineExceeded".into()),
            ("Failed".into(), "DeadlineExceeded".into())
        ]
    );
    assert_eq!(
        status_condition(&status, "Failed")["message"],
        reason::DEADLINE_EXCEEDED_MESSAGE
    );
}

#[test]
fn a_finished_job_is_deleted_after_its_ttl() {
    let mut j = job(json!({"ttlSecondsAfterFinished": 5}));
    j["status"] = json!({"conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": "2026-03-01T10:00:00Z"}]});
    assert_eq!(
        decide_job(&j, &[], &JobTiming::default(), at(1000)),
        vec![Intent::RecheckAt { at: at(5000) }]
    );
    assert_eq!(
        deleted(
            &decide_job(&j, &[], &JobTiming::default(), at(5000)),
            Kind::Job
        ),
        vec!["build"]
    );
}

#[test]
fn a_finished_job_without_ttl_is_left_alone() {
    let mut j = job(json!({}));
    j["status"] = json!({"conditions": [{"type": "Failed", "status": "True", "lastTransitionTime": "2026-03-01T10:00:00Z"}]});
    assert!(
        decide_job(
            &j,
            &[pod("a", "Failed", None)],
            &JobTiming::default(),
            at(0)
        )
        .is_empty()
    );
}

#[test]
fn parallel_completions_keep_parallelism_pods_until_enough_succeed() {
    let mut j = job(json!({"completions": 3, "parallelism": 2}));
    j["status"] = json!({"startTime": "2026-03-01T10:00:00Z"});
    let intents = decide_job(
        &j,
        &[pod("a", "Succeeded", None), pod("b", "Succeeded", None)],
        &JobTiming::default(),
        at(0),
    );
    assert_eq!(
        created(&intents, Kind::Pod).len(),
        1,
        "only one completion left"
    );
    let intents = decide_job(
        &j,
        &[pod("a", "Succeeded", None)],
        &JobTiming::default(),
        at(0),
    );
    assert_eq!(created(&intents, Kind::Pod).len(), 2);
}

#[test]
fn a_suspended_job_stops_its_pods_and_says_so() {
    let mut j = job(json!({"suspend": true}));
    j["status"] = json!({"startTime": "2026-03-01T10:00:00Z"});
    let intents = decide_job(
        &j,
        &[pod("a", "Running", None)],
        &JobTiming::default(),
        at(0),
    );
    assert_eq!(deleted(&intents, Kind::Pod), vec!["a"]);
    let status = written_status(&intents, Kind::Job);
    assert_eq!(
        types(&status),
        vec![("Suspended".into(), "JobSuspended".into())]
    );
    assert!(status.get("startTime").is_none());
}

#[test]
fn a_settled_job_causes_no_writes() {
    let mut j = job(json!({}));
    let intents = decide_job(
        &j,
        &[pod("a", "Running", None)],
        &JobTiming::default(),
        at(0),
    );
    apply_status(&mut j, &intents, Kind::Job);
    assert!(
        decide_job(
            &j,
            &[pod("a", "Running", None)],
            &JobTiming::default(),
            at(1000)
        )
        .is_empty()
    );
}
