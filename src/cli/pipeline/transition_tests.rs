//! What transitions disable and enable write (or refuse) for a Pipeline's stages.

use serde_json::{Value, json};

use super::request::RequestError;
use super::request_tests::{patched, pipeline};
use super::transition::{TransitionRequest, decide_transition};
use crate::cli::write::{Change, PatchBody};

fn operations(change: Result<Change, RequestError>) -> (Value, String) {
    match patched(change) {
        (PatchBody::Json(operations), summary) => (operations, summary),
        (other, _) => panic!("expected a JSON patch, got {other:?}"),
    }
}

#[test]
fn a_transition_is_set_on_its_stage_alone_guarded_by_the_stage_name() {
    let web = pipeline(json!({}));
    let disable = TransitionRequest::Disable {
        reason: Some("incident 42".into()),
    };
    let (patch, summary) = operations(decide_transition(&web, "Deploy", &disable));
    assert_eq!(
        patch,
        json!([
            {"op": "test", "path": "/spec/stages/2/name", "value": "Deploy"},
            {"op": "add", "path": "/spec/stages/2/transition",
             "value": {"enabled": false, "disabledReason": "incident 42"}}
        ])
    );
    assert_eq!(
        summary,
        "disabled the transition into stage Deploy of web: runs wait before it until `kubectl \
         slipway transitions enable web --stage Deploy`"
    );

    let mut disabled = web.clone();
    disabled.spec.stages[2].transition = Some(
        serde_json::from_value(json!({"enabled": false, "disabledReason": "incident 42"})).unwrap(),
    );
    assert_eq!(
        decide_transition(&disabled, "Deploy", &disable),
        Ok(Change::Unchanged(
            "the transition into stage Deploy of web is already disabled: incident 42".into()
        ))
    );
    let other_reason = TransitionRequest::Disable {
        reason: Some("release freeze".into()),
    };
    let (patch, _) = operations(decide_transition(&disabled, "Deploy", &other_reason));
    assert_eq!(
        patch[1]["value"],
        json!({"enabled": false, "disabledReason": "release freeze"})
    );
    let (patch, summary) = operations(decide_transition(
        &disabled,
        "Deploy",
        &TransitionRequest::Enable,
    ));
    assert_eq!(
        patch[1],
        json!({"op": "add", "path": "/spec/stages/2/transition", "value": {"enabled": true}})
    );
    assert_eq!(
        summary,
        "enabled the transition into stage Deploy of web: runs waiting before it enter it"
    );
    assert_eq!(
        decide_transition(&web, "Deploy", &TransitionRequest::Enable),
        Ok(Change::Unchanged(
            "the transition into stage Deploy of web is already enabled".into()
        ))
    );
}

#[test]
fn a_transition_is_disabled_only_with_a_reason_and_on_a_known_stage() {
    let web = pipeline(json!({}));
    let cases = [
        (
            "Deploy",
            None,
            "disabling the transition into stage Deploy needs --reason: say why runs are held \
             (it is shown to whoever finds them waiting)",
        ),
        (
            "Deploy",
            Some("  ".to_owned()),
            "disabling the transition into stage Deploy needs --reason: say why runs are held \
             (it is shown to whoever finds them waiting)",
        ),
        (
            "Deploy",
            Some("x".repeat(301)),
            "--reason is 301 characters long; at most 300 fit",
        ),
        (
            "Prod",
            Some("freeze".to_owned()),
            "Pipeline web has no stage \"Prod\": its stages are Build, Approve, Deploy",
        ),
    ];
    for (stage, reason, message) in cases {
        let request = TransitionRequest::Disable { reason };
        assert_eq!(
            decide_transition(&web, stage, &request)
                .unwrap_err()
                .to_string(),
            message
        );
    }
}
