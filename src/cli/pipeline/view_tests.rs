//! The pipeline and execution views, and how a watch ends.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};

use super::request_tests::{execution, pipeline, pipeline_spec};
use super::view::{render_execution, render_pipeline, watch_outcome};
use crate::api::pipeline::PipelineSpec;

fn time(text: &str) -> Time {
    Time(text.parse().expect("an RFC 3339 time"))
}

fn spec() -> PipelineSpec {
    serde_json::from_value(pipeline_spec()).expect("a valid pipeline spec")
}

#[test]
fn a_pipeline_shows_source_mode_variables_stages_transitions_and_last_run() {
    let mut web = pipeline(json!({
        "phase": "Running", "message": "1 run in progress",
        "lastExecution": {"name": "web-x7k2q", "status": "InProgress", "revision": "3f9c2d7",
                          "startTime": "2025-05-01T10:00:00Z"},
        "conditions": [{"type": "Ready", "status": "True", "reason": "Valid",
                        "message": "the pipeline is valid", "lastTransitionTime": "2025-05-01T09:00:00Z"}]
    }));
    web.spec.stages[2].transition = Some(
        serde_json::from_value(json!({"enabled": false, "disabledReason": "incident 42"})).unwrap(),
    );
    assert_eq!(
        render_pipeline(&web),
        "\
Name:         web (namespace shop)
Phase:        Running
Message:      1 run in progress
Source:       git https://git.example.com/shop/web.git, branch main (polled every 5m)
Mode:         Superseded
Variables:    LOG_LEVEL (default \"info\"), REGION (no default)
Stages:
  STAGE / ACTION   KIND       RUN ORDER   TRANSITION
  Build                                   enabled
    Image          build      1
  Approve                                 enabled
    Release        approval   1
    Notify         job        2
  Deploy                                  disabled: incident 42
    Web            deploy     1
Last run:     web-x7k2q InProgress, revision 3f9c2d7, started 2025-05-01T10:00:00Z
Ready:        True Valid: the pipeline is valid
"
    );
    let fresh = pipeline(json!(null));
    let text = render_pipeline(&fresh);
    assert!(text.contains("Phase:        not reported yet\n"), "{text}");
    assert!(text.ends_with("Ready:        not reported yet\n"), "{text}");
    assert!(!text.contains("Last run:"), "{text}");
}

/// A run at the approval of attempt 2 of stage Approve, with the spec snapshot.
fn at_the_approval(control: Value) -> crate::api::PipelineExecution {
    execution(
        control,
        json!({
            "phase": "InProgress", "message": "waiting for approval Approve/Release",
            "currentStage": "Approve",
            "sourceRevision": {"commitId": "3f9c2d7e41b0", "branchName": "main",
                               "commitMessage": "fix: retries"},
            "pipelineSpec": pipeline_spec(),
            "stages": [
                {"name": "Build", "status": "Succeeded", "attempt": 1,
                 "startTime": "2025-05-01T10:00:00Z", "completionTime": "2025-05-01T10:02:05Z",
                 "actions": [{"name": "Image", "status": "Succeeded", "attempt": 1,
                              "child": {"apiVersion": "slipway.dev/v1alpha1", "kind": "BuildRun",
                                        "name": "web-x7k2q-image"},
                              "startTime": "2025-05-01T10:00:05Z",
                              "completionTime": "2025-05-01T10:02:00Z",
                              "message": "pushed 1 image"}]},
                {"name": "Approve", "status": "InProgress", "attempt": 2,
                 "startTime": "2025-05-01T10:05:00Z",
                 "actions": [{"name": "Release", "status": "InProgress", "attempt": 2,
                              "startTime": "2025-05-01T10:05:00Z",
                              "externalUrl": "https://review.example.com/42"}]}
            ]
        }),
    )
}

#[test]
fn a_waiting_run_shows_its_stages_actions_and_how_to_answer_the_approval() {
    let run = at_the_approval(json!({}));
    assert_eq!(
        render_execution(&run, None, &time("2025-05-01T10:08:30Z")),
        "\
Name:         web-x7k2q (namespace shop)
Pipeline:     web
Phase:        InProgress
Message:      waiting for approval Approve/Release
Trigger:      StartPipelineExecution by jane
Revision:     commit 3f9c2d7e41b0, branch main: fix: retries
Stage:        Approve
Stages:
  STAGE / ACTION   STATUS       ATTEMPT   DURATION   CHILD                      URL                             MESSAGE
  Build            Succeeded    1         2m5s       -                          -
    Image          Succeeded    1         1m55s      BuildRun/web-x7k2q-image   -                               pushed 1 image
  Approve          InProgress   2         3m30s      -                          -
    Release        InProgress   2         3m30s      -                          https://review.example.com/42
    Notify         -            -         -          -                          -
  Deploy           -            -         -          -                          -
    Web            -            -         -          -                          -
Next:         approval Approve/Release waits for an answer: kubectl slipway approve web-x7k2q --stage Approve --action Release -n shop (or reject, with --comment)
"
    );
}

#[test]
fn an_answered_approval_waits_for_the_controller_instead_of_asking_again() {
    let answered = at_the_approval(json!({"approvals": [
        {"stage": "Approve", "action": "Release", "attempt": 2, "result": "Approved",
         "approvedBy": "sam"}]}));
    let text = render_execution(&answered, None, &time("2025-05-01T10:08:30Z"));
    assert!(
        text.ends_with(
            "Next:         approval Approve/Release was answered Approved by sam; waiting for the \
             controller to act on it\n"
        ),
        "{text}"
    );
    // An answer for an earlier attempt does not count for this one.
    let earlier = at_the_approval(json!({"approvals": [
        {"stage": "Approve", "action": "Release", "attempt": 1, "result": "Rejected"}]}));
    let text = render_execution(&earlier, None, &time("2025-05-01T10:08:30Z"));
    assert!(
        text.contains("Next:         approval Approve/Release waits for an answer"),
        "{text}"
    );
}

#[test]
fn a_run_not_started_lists_the_live_pipelines_stages_and_what_it_waits_for() {
    let queued = execution(
        json!({"stop": {"abandon": false, "reason": "not today"}}),
        json!({"waiting": {"stage": "Build", "reason": "StageLocked", "holder": "web-a1b2c",
                           "since": "2025-05-01T10:00:00Z"}}),
    );
    let text = render_execution(&queued, Some(&spec()), &time("2025-05-01T10:08:30Z"));
    assert_eq!(
        text,
        "\
Name:         web-x7k2q (namespace shop)
Pipeline:     web
Phase:        not started yet
Trigger:      StartPipelineExecution by jane
Revision:     the head of the source (not resolved yet)
Waiting:      before stage Build: run web-a1b2c is in the stage (since 2025-05-01T10:00:00Z)
Stop:         requested, waiting for running actions: not today
Stages:
  STAGE / ACTION   STATUS   ATTEMPT   DURATION   CHILD   URL   MESSAGE
  Build            -        -         -          -       -
    Image          -        -         -          -       -
  Approve          -        -         -          -       -
    Release        -        -         -          -       -
    Notify         -        -         -          -       -
  Deploy           -        -         -          -       -
    Web            -        -         -          -       -
"
    );
}

#[test]
fn a_watch_ends_with_the_run_and_fails_unless_it_succeeded() {
    let cases = [
        ("InProgress", None),
        ("Stopping", None),
        ("Succeeded", Some(Ok(()))),
        (
            "Failed",
            Some(Err(
                "PipelineExecution web-x7k2q ended Failed: the last word",
            )),
        ),
        (
            "Stopped",
            Some(Err(
                "PipelineExecution web-x7k2q ended Stopped: the last word",
            )),
        ),
        (
            "Superseded",
            Some(Err(
                "PipelineExecution web-x7k2q ended Superseded: the last word",
            )),
        ),
        (
            "Cancelled",
            Some(Err(
                "PipelineExecution web-x7k2q ended Cancelled: the last word",
            )),
        ),
    ];
    for (phase, outcome) in cases {
        let run = execution(
            json!({}),
            json!({"phase": phase, "message": "the last word"}),
        );
        assert_eq!(
            watch_outcome(&run),
            outcome.map(|outcome| outcome.map_err(str::to_owned)),
            "for {phase}"
        );
    }
    assert_eq!(watch_outcome(&execution(json!({}), json!(null))), None);
}
