//! What retry and stop write (or refuse) for runs in each state, and the objects every pipeline
//! request test starts from.

use serde_json::{Value, json};

use super::request::{RequestError, decide_retry, decide_stop};
use crate::api::execution::StopRequest;
use crate::api::pipeline::{Pipeline, PipelineSpec, RetryMode};
use crate::api::{PipelineExecution, PipelineExecutionSpec};
use crate::cli::write::{Change, PatchBody};

/// The spec of Pipeline `web`: stages Build (a build), Approve (approval `Release`, then job
/// `Notify`) and Deploy (a deploy); variables `LOG_LEVEL` (default `info`) and `REGION`.
pub(super) fn pipeline_spec() -> Value {
    json!({
        "source": {"git": {"url": "https://git.example.com/shop/web.git", "branch": "main"}},
        "variables": [{"name": "LOG_LEVEL", "default": "info"}, {"name": "REGION"}],
        "stages": [
            {"name": "Build", "actions": [
                {"name": "Image", "build": {"environment": {"image": "golang:1.23"}}}]},
            {"name": "Approve", "actions": [
                {"name": "Release", "approval": {"summary": "Ship it?"}},
                {"name": "Notify", "runOrder": 2, "job": {"template": {"template": {}}}}]},
            {"name": "Deploy", "actions": [
                {"name": "Web", "deploy": {
                    "target": {"service": "web", "workload": "web"},
                    "revision": {"images": [{"container": "web", "image": "shop/web:2"}]}}}]}
        ]
    })
}

/// Pipeline `web` in namespace `shop` with [`pipeline_spec`] and `status`.
pub(super) fn pipeline(status: Value) -> Pipeline {
    serde_json::from_value(json!({
        "apiVersion": "slipway.dev/v1alpha1", "kind": "Pipeline",
        "metadata": {"name": "web", "namespace": "shop", "uid": "0b7e-pipe", "resourceVersion": "3"},
        "spec": pipeline_spec(),
        "status": status
    }))
    .expect("a valid pipeline")
}

pub(super) fn spec() -> PipelineSpec {
    serde_json::from_value(pipeline_spec()).expect("a valid pipeline spec")
}

/// Run `web-x7k2q` of Pipeline `web` in namespace `shop` with `control` and `status`.
pub(super) fn execution(control: Value, status: Value) -> PipelineExecution {
    let spec: PipelineExecutionSpec = serde_json::from_value(json!({
        "pipelineRef": {"name": "web"},
        "trigger": {"type": "StartPipelineExecution", "actor": "jane"},
        "control": control
    }))
    .expect("a valid execution spec");
    let mut execution = PipelineExecution::new("web-x7k2q", spec);
    execution.metadata.namespace = Some("shop".into());
    execution.metadata.resource_version = Some("7".into());
    execution.status = serde_json::from_value(status).expect("a valid execution status");
    execution
}

pub(super) fn patched(change: Result<Change, RequestError>) -> (PatchBody, String) {
    match change {
        Ok(Change::Patch { patch, summary }) => (patch, summary),
        other => panic!("expected a patch, got {other:?}"),
    }
}

pub(super) fn control(patch: PatchBody) -> Value {
    match patch {
        PatchBody::Merge(patch) => patch["spec"]["control"].clone(),
        PatchBody::Json(operations) => panic!("expected a merge patch, got {operations}"),
    }
}

/// A run whose stage Approve is `status`, at attempt 1 with `applied` retries applied.
fn stage_ended(phase: &str, status: &str, control: Value, applied: i32) -> PipelineExecution {
    execution(
        control,
        json!({"phase": phase, "stages": [
            {"name": "Build", "status": "Succeeded"},
            {"name": "Approve", "status": status, "attempt": applied + 1,
             "retryRequestsApplied": applied}]}),
    )
}

#[test]
fn a_failed_or_stopped_stage_gets_one_retry_request_at_a_time() {
    let failed = stage_ended("Failed", "Failed", json!({}), 0);
    let (patch, summary) = patched(decide_retry(
        &failed,
        &spec(),
        "Approve",
        RetryMode::FailedActions,
    ));
    assert_eq!(
        control(patch),
        json!({"retries": [{"stage": "Approve", "mode": "FailedActions"}]})
    );
    assert_eq!(
        summary,
        "retrying stage Approve of web-x7k2q (Failed): attempt 2 runs its failed actions again"
    );

    // The first retry was applied (attempt 2), and failed again: a second one appends.
    let again = stage_ended(
        "Stopped",
        "Stopped",
        json!({"retries": [{"stage": "Approve", "mode": "FailedActions"}]}),
        1,
    );
    let (patch, summary) = patched(decide_retry(
        &again,
        &spec(),
        "Approve",
        RetryMode::AllActions,
    ));
    assert_eq!(
        control(patch),
        json!({"retries": [{"stage": "Approve", "mode": "FailedActions"},
                           {"stage": "Approve", "mode": "AllActions"}]})
    );
    assert_eq!(
        summary,
        "retrying stage Approve of web-x7k2q (Stopped): attempt 3 runs all its actions again"
    );

    let pending = stage_ended(
        "Failed",
        "Failed",
        json!({"retries": [{"stage": "Approve", "mode": "FailedActions"}]}),
        0,
    );
    assert_eq!(
        decide_retry(&pending, &spec(), "Approve", RetryMode::FailedActions)
            .unwrap_err()
            .to_string(),
        "stage Approve of PipelineExecution web-x7k2q (Failed) already has a retry request the \
         controller has not applied yet (1 requested, 0 applied): wait for it to start the next \
         attempt (`kubectl slipway get pexec web-x7k2q --watch`)"
    );
}

#[test]
fn a_retry_is_refused_for_stages_that_did_not_fail_or_stop() {
    let cases = [
        (
            stage_ended("InProgress", "InProgress", json!({}), 0),
            "Approve",
            "stage Approve of PipelineExecution web-x7k2q is InProgress: only a Failed or \
             Stopped stage can be retried",
        ),
        (
            stage_ended("Failed", "Failed", json!({}), 0),
            "Deploy",
            "stage Deploy of PipelineExecution web-x7k2q is not started: only a Failed or \
             Stopped stage can be retried",
        ),
        (
            stage_ended("Failed", "Failed", json!({}), 0),
            "Test",
            "PipelineExecution web-x7k2q has no stage \"Test\": its stages are Build, Approve, \
             Deploy",
        ),
        (
            execution(
                json!({}),
                json!({"phase": "Superseded", "supersededBy": "web-b2c3d",
                       "stages": [{"name": "Approve", "status": "Failed"}]}),
            ),
            "Approve",
            "PipelineExecution web-x7k2q has ended (Superseded): only a Failed or Stopped run \
             can be retried; a newer run (web-b2c3d) took its place",
        ),
    ];
    for (run, stage, message) in cases {
        let refusal = decide_retry(&run, &spec(), stage, RetryMode::FailedActions).unwrap_err();
        assert_eq!(refusal.to_string(), message, "for {stage}");
    }
}

fn stop(abandon: bool, reason: Option<&str>) -> StopRequest {
    StopRequest {
        abandon,
        reason: reason.map(str::to_owned),
    }
}

#[test]
fn a_stop_is_written_once_and_only_escalates() {
    let running = execution(
        json!({}),
        json!({"phase": "InProgress", "message": "in Deploy"}),
    );
    let (patch, summary) = patched(decide_stop(&running, &stop(false, Some("freeze"))));
    assert_eq!(
        control(patch),
        json!({"stop": {"abandon": false, "reason": "freeze"}})
    );
    assert_eq!(
        summary,
        "stopping web-x7k2q: running actions finish, then the run stops (--abandon stops them now)"
    );
    let (patch, summary) = patched(decide_stop(&running, &stop(true, None)));
    assert_eq!(control(patch), json!({"stop": {"abandon": true}}));
    assert_eq!(
        summary,
        "stopping web-x7k2q: running actions are abandoned now (their children are stopped too)"
    );

    let waiting = execution(
        json!({"stop": {"abandon": false, "reason": "freeze"}}),
        json!({"phase": "Stopping", "message": "waiting for Deploy/Web to finish"}),
    );
    assert_eq!(
        decide_stop(&waiting, &stop(false, None)),
        Ok(Change::Unchanged(
            "web-x7k2q is already stopping, waiting for its running actions to finish; the \
             controller says: waiting for Deploy/Web to finish"
                .into()
        ))
    );
    let (patch, summary) = patched(decide_stop(&waiting, &stop(true, None)));
    assert_eq!(
        control(patch),
        json!({"stop": {"abandon": true}}),
        "the merge keeps the earlier reason"
    );
    assert_eq!(
        summary,
        "escalated the stop of web-x7k2q to abandon: running actions are abandoned now (their \
         children are stopped too)"
    );

    let abandoning = execution(
        json!({"stop": {"abandon": true}}),
        json!({"phase": "Stopping"}),
    );
    assert!(matches!(
        decide_stop(&abandoning, &stop(true, None)),
        Ok(Change::Unchanged(ref text)) if text.starts_with("web-x7k2q is already stopping, abandoning")
    ));
    assert_eq!(
        decide_stop(&abandoning, &stop(false, None))
            .unwrap_err()
            .to_string(),
        "PipelineExecution web-x7k2q is already being stopped with --abandon: a stop cannot go \
         back to waiting for running actions (a stop only escalates from waiting to abandoning)"
    );
}

#[test]
fn a_stop_is_refused_once_the_run_ended_or_with_an_overlong_reason() {
    let stopped = execution(json!({}), json!({"phase": "Stopped"}));
    assert_eq!(
        decide_stop(&stopped, &stop(false, None))
            .unwrap_err()
            .to_string(),
        "PipelineExecution web-x7k2q has ended (Stopped): there is nothing left to stop; to run \
         a stage again, `kubectl slipway retry web-x7k2q --stage STAGE`, or start a new run with \
         `kubectl slipway start web`"
    );
    let running = execution(json!({}), json!({"phase": "InProgress"}));
    assert_eq!(
        decide_stop(&running, &stop(false, Some(&"x".repeat(201))))
            .unwrap_err()
            .to_string(),
        "--reason is 201 characters long; at most 200 fit"
    );
}
