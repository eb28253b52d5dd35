//! Defaulting, pruning and the admit chain.

use serde_json::json;

use super::{object, schema};

#[test]
fn defaults_fill_nested_objects() {
    let schema = schema(json!({
        "executionMode": {"type": "string", "default": "Superseded"},
        "retry": {"type": "object", "default": {}, "properties": {"limit": {"type": "integer", "default": 3}}},
        "source": {"type": "object", "properties": {"git": {"type": "object", "properties": {"branch": {"type": "string", "default": "main"}}}}},
        "stages": {"type": "array", "items": {"type": "object", "properties": {"timeout": {"type": "integer", "default": 60}}}},
    }));
    let mut pipeline = object(json!({"source": {}, "stages": [{}, {"timeout": 5}]}));
    schema.default_object(&mut pipeline);
    assert_eq!(
        pipeline["spec"],
        json!({
            "executionMode": "Superseded",
            "retry": {"limit": 3},
            "source": {},
            "stages": [{"timeout": 60}, {"timeout": 5}],
        })
    );
}

#[test]
fn defaults_respect_nulls_and_unknown_fields() {
    let schema = schema(json!({
        "note": {"type": "string", "nullable": true, "default": "n"},
        "mode": {"type": "string", "default": "Queued"},
        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"known": {"type": "string", "default": "k"}}},
    }));
    let mut pipeline =
        object(json!({"note": null, "mode": null, "extra": {"free": {"depth": {}}}}));
    let unknown = schema.prune(&mut pipeline);
    schema.default_object(&mut pipeline);
    assert!(unknown.is_empty(), "{unknown:?}");
    assert_eq!(
        pipeline["spec"],
        json!({"note": null, "mode": "Queued", "extra": {"free": {"depth": {}}, "known": "k"}})
    );
}

#[test]
fn prune_reports_unknown_fields_in_order() {
    let schema = schema(json!({
        "stages": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "note": {"type": "string"},
    }));
    let mut pipeline = object(
        json!({"foo": 1, "stages": [{"name": "a", "bar": true}], "labels": {"free": "x"}, "note": null}),
    );
    pipeline["status"] = json!({"phase": "Running"});
    pipeline["metadata"]["bogus"] = json!(1);
    let unknown = schema.prune(&mut pipeline);
    assert_eq!(
        unknown,
        ["metadata.bogus", "spec.foo", "spec.stages[0].bar", "status"]
    );
    assert_eq!(
        pipeline,
        json!({
            "apiVersion": "slipway.dev/v1alpha1", "kind": "Pipeline", "metadata": {"name": "demo"},
            "spec": {"stages": [{"name": "a"}], "labels": {"free": "x"}},
        })
    );
}

#[test]
fn admit_prunes_defaults_then_validates() {
    let schema = schema(json!({"mode": {"type": "string", "enum": ["A", "B"], "default": "A"}}));
    let mut pipeline = object(json!({"typo": 1}));
    assert_eq!(
        schema.admit(&mut pipeline, None),
        Ok(vec!["spec.typo".to_string()])
    );
    assert_eq!(pipeline["spec"], json!({"mode": "A"}));
}
