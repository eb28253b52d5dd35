//! CEL `x-kubernetes-validations`: messages, field paths, reasons, transition rules, blocking.

use serde_json::json;

use super::{CEL_SKIPPED, check, crd_json, errors_of, object, schema};
use crate::schema::{CrdSchema, FieldErrorKind};

fn stages_schema() -> CrdSchema {
    schema(json!({
        "stages": {
            "type": "array",
            "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
            "x-kubernetes-validations": [{"rule": "self.all(x, self.exists_one(y, y.name == x.name))", "message": "stage names must be unique"}],
        },
        "source": {
            "type": "object",
            "properties": {"image": {"type": "string"}, "git": {"type": "string"}},
            "x-kubernetes-validations": [
                {"rule": "!has(self.image) || self.image.contains(':')", "message": "image needs a tag", "fieldPath": ".image"},
                {"rule": "has(self.image) || has(self.git)", "messageExpression": "'one of image or git, got ' + string(size(self))", "reason": "FieldValueRequired"},
                {"rule": "!has(self.git) || !self.git.startsWith('http:')", "message": "plain http is not allowed", "reason": "FieldValueForbidden"},
            ],
        },
        "replicas": {"type": "integer", "x-kubernetes-validations": [{"rule": "self >= oldSelf", "message": "replicas may not decrease"}]},
        "limit": {"type": "integer", "minimum": 0},
    }))
}

#[test]
fn cel_rule_message_is_reported_at_field_path() {
    let schema = stages_schema();
    check(
        &schema,
        &[
            (
                json!({"stages": [{"name": "a"}, {"name": "b"}], "source": {"image": "reg/app:1"}}),
                &[],
            ),
            (
                json!({"stages": [{"name": "a"}, {"name": "a"}]}),
                &[r#"spec.stages: Invalid value: "array": stage names must be unique"#],
            ),
            (
                json!({"source": {"image": "reg/app"}}),
                &[r#"spec.source.image: Invalid value: "object": image needs a tag"#],
            ),
        ],
    );
}

#[test]
fn cel_message_expression_and_reason_shape_the_error() {
    let schema = stages_schema();
    check(
        &schema,
        &[
            (
                json!({"source": {}}),
                &["spec.source: Required value: one of image or git, got 0"],
            ),
            (
                json!({"source": {"git": "http://example.com/x.git"}}),
                &["spec.source: Forbidden: plain http is not allowed"],
            ),
        ],
    );
    let errors = schema
        .validate(&object(json!({"source": {}})), None)
        .expect_err("source without image or git");
    assert_eq!(errors.as_slice()[0].kind, FieldErrorKind::Required);
}

#[test]
fn cel_transition_rules_run_only_on_update() {
    let schema = stages_schema();
    let new = object(json!({"replicas": 2}));
    assert_eq!(errors_of(&schema, &new, None), Vec::<String>::new());
    assert_eq!(
        errors_of(&schema, &new, Some(&object(json!({"replicas": 1})))),
        Vec::<String>::new()
    );
    assert_eq!(
        errors_of(&schema, &new, Some(&object(json!({"replicas": 3})))),
        [r#"spec.replicas: Invalid value: "integer": replicas may not decrease"#,]
    );
}

#[test]
fn cel_is_skipped_once_a_blocking_error_exists() {
    let schema = stages_schema();
    // A non-blocking error (minimum) leaves CEL running; a missing required field stops it.
    check(
        &schema,
        &[
            (
                json!({"limit": -1, "stages": [{"name": "a"}, {"name": "a"}]}),
                &[
                    "spec.limit: Invalid value: -1: spec.limit in body should be greater than or equal to 0",
                    r#"spec.stages: Invalid value: "array": stage names must be unique"#,
                ],
            ),
            (
                json!({"stages": [{"name": "a"}, {}]}),
                &["spec.stages[1].name: Required value", CEL_SKIPPED],
            ),
        ],
    );
}

#[test]
fn cel_rule_on_the_root_is_reported_without_a_path() {
    let mut crd = crd_json(json!({"type": "object", "properties": {"a": {"type": "string"}}}));
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["x-kubernetes-validations"] = json!([{"rule": "self.metadata.name.startsWith('p-')", "message": "name must start with p-"}]);
    let schema = CrdSchema::from_crd(&crd, "v1alpha1").expect("fixture compiles");
    assert_eq!(
        errors_of(&schema, &object(json!({})), None),
        [r#"<nil>: Invalid value: "object": name must start with p-"#]
    );
}

#[test]
fn cel_library_functions_used_by_slipway_rules_evaluate() {
    let schema = schema(json!({
        "health": {
            "type": "object",
            "properties": {"timeout": {"type": "string", "default": "5s"}, "interval": {"type": "string", "default": "10s"}},
            "x-kubernetes-validations": [{"rule": "!has(self.timeout) || !has(self.interval) || duration(self.timeout) <= duration(self.interval)", "message": "timeout must not be longer than interval"}],
        },
        "steps": {
            "type": "array",
            "items": {"type": "object", "properties": {"weight": {"type": "integer"}}},
            "x-kubernetes-validations": [{"rule": "self.map(s, s.weight).isSorted() && self[size(self) - 1].weight == 100", "message": "weights must rise to 100"}],
        },
        "action": {
            "type": "object",
            "properties": {"build": {"type": "object"}, "deploy": {"type": "object"}, "result": {"type": "string"}},
            "x-kubernetes-validations": [
                {"rule": "(has(self.build) ? 1 : 0) + (has(self.deploy) ? 1 : 0) == 1", "message": "set exactly one of build or deploy"},
                {"rule": "!has(self.result) || self.result in ['Rollback', 'Fail']", "message": "result must be Rollback or Fail"},
            ],
        },
    }));
    check(
        &schema,
        &[
            (
                json!({"health": {"timeout": "5s", "interval": "1m"}, "steps": [{"weight": 10}, {"weight": 100}], "action": {"build": {}, "result": "Fail"}}),
                &[],
            ),
            (
                json!({"health": {"timeout": "2m", "interval": "1m"}}),
                &[
                    r#"spec.health: Invalid value: "object": timeout must not be longer than interval"#,
                ],
            ),
            (
                json!({"steps": [{"weight": 50}, {"weight": 10}]}),
                &[r#"spec.steps: Invalid value: "array": weights must rise to 100"#],
            ),
            (
                json!({"action": {"build": {}, "deploy": {}, "result": "Skip"}}),
                &[
                    r#"spec.action: Invalid value: "object": set exactly one of build or deploy"#,
                    r#"spec.action: Invalid value: "object": result must be Rollback or Fail"#,
                ],
            ),
        ],
    );
}

#[test]
fn cel_runtime_errors_and_duplicate_reason_follow_the_apiserver() {
    let schema = schema(json!({
        "items": {
            "type": "array",
            "items": {"type": "string"},
            "x-kubernetes-validations": [{"rule": "self.size() < 3", "message": "at most two", "reason": "FieldValueDuplicate"}],
        },
        "ratio": {"type": "integer", "x-kubernetes-validations": [{"rule": "10 / self > 1"}]},
    }));
    check(
        &schema,
        &[
            (json!({"items": ["a"], "ratio": 2}), &[]),
            (
                json!({"items": ["a", "b", "c"]}),
                &[r#"spec.items: Duplicate value: "array""#],
            ),
            (
                json!({"ratio": 10}),
                &[r#"spec.ratio: Invalid value: "integer": failed rule: 10 / self > 1"#],
            ),
        ],
    );
    let errors = errors_of(&schema, &object(json!({"ratio": 0})), None);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(r#"spec.ratio: Invalid value: "integer": "#),
        "{errors:?}"
    );
    assert!(
        errors[0].ends_with(" evaluating rule: 10 / self > 1"),
        "{errors:?}"
    );
}
