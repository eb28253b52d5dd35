//! What approve and reject write (or refuse) for runs in each state.

use serde_json::{Value, json};

use super::approval::{ApprovalRequest, decide_approval};
use super::request::RequestError;
use super::request_tests::{control, execution, patched, spec};
use crate::api::PipelineExecution;
use crate::api::execution::ApprovalResult;

/// A run waiting at attempt `attempt` of stage Approve for approval `Release`.
fn waiting_for_approval(control: Value, attempt: i32) -> PipelineExecution {
    execution(
        control,
        json!({"phase": "InProgress", "currentStage": "Approve", "stages": [
            {"name": "Build", "status": "Succeeded", "attempt": 1},
            {"name": "Approve", "status": "InProgress", "attempt": attempt, "actions": [
                {"name": "Release", "status": "InProgress", "attempt": attempt}]}
        ]}),
    )
}

fn answer(result: ApprovalResult, stage: &str, action: &str) -> ApprovalRequest {
    ApprovalRequest {
        stage: stage.into(),
        action: action.into(),
        result,
        comment: Some("looks good".into()),
        approved_by: Some("jane@example.com".into()),
    }
}

#[test]
fn an_approval_answers_the_current_attempt_after_the_earlier_answers() {
    let earlier = json!({"approvals": [
        {"stage": "Approve", "action": "Release", "attempt": 1, "result": "Rejected"}]});
    let run = waiting_for_approval(earlier, 2);
    let (patch, summary) = patched(decide_approval(
        &run,
        &spec(),
        &answer(ApprovalResult::Approved, "Approve", "Release"),
    ));
    assert_eq!(
        control(patch),
        json!({"approvals": [
            {"stage": "Approve", "action": "Release", "attempt": 1, "result": "Rejected"},
            {"stage": "Approve", "action": "Release", "attempt": 2, "result": "Approved",
             "comment": "looks good", "approvedBy": "jane@example.com"}
        ]})
    );
    assert_eq!(
        summary,
        "approved Approve/Release (attempt 2) of web-x7k2q: the run continues"
    );
    let (_, summary) = patched(decide_approval(
        &run,
        &spec(),
        &answer(ApprovalResult::Rejected, "Approve", "Release"),
    ));
    assert_eq!(
        summary,
        "rejected Approve/Release (attempt 2) of web-x7k2q: the action fails, and with it the stage"
    );
}

#[test]
fn an_approval_is_refused_unless_that_approval_waits_for_an_answer() {
    let waiting = waiting_for_approval(json!({}), 1);
    let stage_status = |actions: Value| {
        execution(
            json!({}),
            json!({"phase": "InProgress", "stages": [
                {"name": "Approve", "status": "InProgress", "attempt": 2, "actions": actions}]}),
        )
    };
    let cases = [
        (
            execution(json!({}), json!({"phase": "Succeeded"})),
            ("Approve", "Release"),
            "PipelineExecution web-x7k2q has ended (Succeeded): there is nothing left to approve; \
             start a new run with `kubectl slipway start web`",
        ),
        (
            execution(json!({}), json!({"phase": "Failed"})),
            ("Approve", "Release"),
            "PipelineExecution web-x7k2q has ended (Failed): there is nothing left to approve; to \
             run a stage again, `kubectl slipway retry web-x7k2q --stage STAGE`, or start a new \
             run with `kubectl slipway start web`",
        ),
        (
            waiting.clone(),
            ("Release", "Release"),
            "PipelineExecution web-x7k2q has no stage \"Release\": its stages are Build, Approve, \
             Deploy",
        ),
        (
            waiting.clone(),
            ("Approve", "Ship"),
            "stage Approve of PipelineExecution web-x7k2q has no action \"Ship\": its actions are \
             Release, Notify",
        ),
        (
            waiting.clone(),
            ("Approve", "Notify"),
            "action Approve/Notify of PipelineExecution web-x7k2q is a job action, not an \
             approval: only approval actions take an answer (stage Approve has Release)",
        ),
        (
            waiting.clone(),
            ("Deploy", "Web"),
            "action Deploy/Web of PipelineExecution web-x7k2q is a deploy action, not an \
             approval: only approval actions take an answer",
        ),
        (
            execution(
                json!({}),
                json!({"phase": "InProgress", "stages": [{"name": "Build", "status": "Succeeded"}],
                       "waiting": {"stage": "Approve", "reason": "TransitionDisabled"}}),
            ),
            ("Approve", "Release"),
            "approval Approve/Release of PipelineExecution web-x7k2q is not waiting for an \
             answer: the run has not reached stage Approve (it waits before it: its transition \
             is disabled (`kubectl slipway get pipe` says why))",
        ),
        (
            stage_status(json!([])),
            ("Approve", "Release"),
            "approval Approve/Release of PipelineExecution web-x7k2q is not waiting for an \
             answer: attempt 2 of stage Approve has not started it yet",
        ),
        (
            stage_status(json!([{"name": "Release", "status": "Failed", "attempt": 1}])),
            ("Approve", "Release"),
            "approval Approve/Release of PipelineExecution web-x7k2q is not waiting for an \
             answer: attempt 2 of stage Approve has not started it yet (its status is from \
             attempt 1)",
        ),
        (
            stage_status(json!([{"name": "Release", "status": "Succeeded", "attempt": 2}])),
            ("Approve", "Release"),
            "approval Approve/Release of PipelineExecution web-x7k2q is not waiting for an \
             answer: it is Succeeded (attempt 2)",
        ),
    ];
    for (run, (stage, action), message) in cases {
        let refusal = decide_approval(
            &run,
            &spec(),
            &answer(ApprovalResult::Approved, stage, action),
        )
        .unwrap_err();
        assert_eq!(refusal.to_string(), message, "for {stage}/{action}");
    }
}

#[test]
fn an_attempt_is_answered_once() {
    let answered = |result: &str| {
        waiting_for_approval(
            json!({"approvals": [{"stage": "Approve", "action": "Release", "attempt": 1,
                                  "result": result, "approvedBy": "sam"}]}),
            1,
        )
    };
    let request = answer(ApprovalResult::Approved, "Approve", "Release");
    assert_eq!(
        decide_approval(&answered("Approved"), &spec(), &request)
            .unwrap_err()
            .to_string(),
        "approval Approve/Release of PipelineExecution web-x7k2q already has an answer for \
         attempt 1: Approved by sam; an answer cannot be changed once given"
    );
    assert_eq!(
        decide_approval(&answered("Rejected"), &spec(), &request)
            .unwrap_err()
            .to_string(),
        "approval Approve/Release of PipelineExecution web-x7k2q already has an answer for \
         attempt 1: Rejected by sam; an answer cannot be changed once given; once the stage has \
         failed, `kubectl slipway retry web-x7k2q --stage Approve` asks again"
    );
}

#[test]
fn an_overlong_comment_is_refused_before_anything_else() {
    let mut request = answer(ApprovalResult::Approved, "Approve", "Release");
    request.comment = Some("x".repeat(513));
    assert_eq!(
        decide_approval(&waiting_for_approval(json!({}), 1), &spec(), &request),
        Err(RequestError::TooLong {
            flag: "--comment",
            length: 513,
            limit: 512
        })
    );
}
