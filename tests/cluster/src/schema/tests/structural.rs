//! OpenAPI schema rules, list types, embedded resources and metadata: each fails and passes
//! with the apiserver's exact text.

use serde_json::json;

use super::{CEL_SKIPPED, check, errors_of, object, schema};

#[test]
fn wrong_type_names_the_expected_and_found_types() {
    let schema = schema(json!({
        "x": {"type": "integer"},
        "flag": {"type": "boolean"},
        "ratio": {"type": "number"},
        "list": {"type": "array", "items": {"type": "string"}},
        "map": {"type": "object"},
    }));
    check(
        &schema,
        &[
            (
                json!({"x": 3, "flag": true, "ratio": 1, "list": ["a"], "map": {}}),
                &[],
            ),
            (json!({"x": 3.0}), &[]),
            (
                json!({"x": "string"}),
                &[
                    r#"spec.x: Invalid value: "string": spec.x in body must be of type integer: "string""#,
                    CEL_SKIPPED,
                ],
            ),
            (
                json!({"x": 1.5, "flag": "yes"}),
                &[
                    r#"spec.flag: Invalid value: "string": spec.flag in body must be of type boolean: "string""#,
                    r#"spec.x: Invalid value: "number": spec.x in body must be of type integer: "number""#,
                    CEL_SKIPPED,
                ],
            ),
            (
                json!({"list": "a", "map": []}),
                &[
                    r#"spec.list: Invalid value: "string": spec.list in body must be of type array: "string""#,
                    r#"spec.map: Invalid value: "array": spec.map in body must be of type object: "array""#,
                    CEL_SKIPPED,
                ],
            ),
        ],
    );
}

#[test]
fn null_is_rejected_unless_nullable() {
    let schema = schema(json!({
        "note": {"type": "string", "nullable": true},
        "list": {"type": "array", "items": {"type": "string"}},
    }));
    check(
        &schema,
        &[
            (json!({"note": null}), &[]),
            (
                json!({"list": ["a", null]}),
                &[
                    r#"spec.list[1]: Invalid value: "null": spec.list[1] in body must be of type string: "null""#,
                    CEL_SKIPPED,
                ],
            ),
        ],
    );
}

#[test]
fn missing_required_field_is_reported_at_its_path() {
    let schema = schema(json!({
        "source": {"type": "object", "properties": {
            "git": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}},
        }},
    }));
    check(
        &schema,
        &[
            (
                json!({"source": {"git": {"url": "https://example.com/repo.git"}}}),
                &[],
            ),
            (
                json!({"source": {"git": {}}}),
                &["spec.source.git.url: Required value", CEL_SKIPPED],
            ),
        ],
    );
}

#[test]
fn value_outside_enum_lists_supported_values() {
    let schema = schema(json!({
        "executionMode": {"type": "string", "enum": ["Superseded", "Queued", "Parallel"]},
        "level": {"type": "integer", "enum": [1, 2]},
    }));
    check(
        &schema,
        &[
            (json!({"executionMode": "Queued", "level": 2}), &[]),
            (
                json!({"executionMode": "Fast"}),
                &[
                    r#"spec.executionMode: Unsupported value: "Fast": supported values: "Superseded", "Queued", "Parallel""#,
                    CEL_SKIPPED,
                ],
            ),
            (
                json!({"level": 3}),
                &[
                    r#"spec.level: Unsupported value: 3: supported values: "1", "2""#,
                    CEL_SKIPPED,
                ],
            ),
        ],
    );
}

#[test]
fn string_not_matching_pattern_quotes_the_pattern() {
    let schema = schema(json!({"name": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"}}));
    check(
        &schema,
        &[
            (json!({"name": "build-1"}), &[]),
            (
                json!({"name": "9lives"}),
                &[
                    r#"spec.name: Invalid value: "9lives": spec.name in body should match '^[a-z][a-z0-9-]*$'"#,
                ],
            ),
        ],
    );
}

#[test]
fn numbers_outside_bounds_name_the_bound() {
    let schema = schema(json!({
        "timeoutInMinutes": {"type": "integer", "minimum": 5, "maximum": 480},
        "weight": {"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1, "exclusiveMaximum": true},
        "step": {"type": "integer", "multipleOf": 5},
    }));
    check(
        &schema,
        &[
            (
                json!({"timeoutInMinutes": 5, "weight": 0.5, "step": 10}),
                &[],
            ),
            (
                json!({"timeoutInMinutes": 3}),
                &[
                    "spec.timeoutInMinutes: Invalid value: 3: spec.timeoutInMinutes in body should be greater than or equal to 5",
                ],
            ),
            (
                json!({"timeoutInMinutes": 500}),
                &[
                    "spec.timeoutInMinutes: Invalid value: 500: spec.timeoutInMinutes in body should be less than or equal to 480",
                ],
            ),
            (
                json!({"weight": 0}),
                &["spec.weight: Invalid value: 0: spec.weight in body should be greater than 0"],
            ),
            (
                json!({"weight": 1.0}),
                &["spec.weight: Invalid value: 1: spec.weight in body should be less than 1"],
            ),
            (
                json!({"step": 7}),
                &["spec.step: Invalid value: 7: spec.step in body should be a multiple of 5"],
            ),
        ],
    );
}

#[test]
fn string_length_counts_characters() {
    let schema = schema(json!({"name": {"type": "string", "minLength": 3, "maxLength": 5}}));
    check(
        &schema,
        &[
            (json!({"name": "ééééé"}), &[]),
            (
                json!({"name": "ab"}),
                &[
                    r#"spec.name: Invalid value: "ab": spec.name in body should be at least 3 chars long"#,
                ],
            ),
            (
                json!({"name": "abcdef"}),
                &[
                    "spec.name: Too long: may not be more than 5 bytes",
                    CEL_SKIPPED,
                ],
            ),
        ],
    );
}

#[test]
fn too_few_items_names_the_field() {
    let schema = schema(
        json!({"stages": {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "string"}}}),
    );
    check(
        &schema,
        &[
            (json!({"stages": ["build", "deploy"]}), &[]),
            (
                json!({"stages": ["build"]}),
                &[
                    "spec.stages: Invalid value: 1: spec.stages in body should have at least 2 items",
                ],
            ),
            (
                json!({"stages": ["a", "b", "c", "d"]}),
                &[
                    "spec.stages: Too many: 4: must have at most 3 items",
                    CEL_SKIPPED,
                ],
            ),
        ],
    );
}

#[test]
fn property_counts_are_bounded() {
    let schema = schema(json!({
        "labels": {"type": "object", "minProperties": 1, "maxProperties": 2, "additionalProperties": {"type": "string"}},
    }));
    check(
        &schema,
        &[
            (json!({"labels": {"a": "1"}}), &[]),
            (
                json!({"labels": {}}),
                &[
                    "spec.labels: Invalid value: 0: spec.labels in body should have at least 1 properties",
                ],
            ),
            (
                json!({"labels": {"a": "1", "b": "2", "c": "3"}}),
                &[
                    "spec.labels: Too many: 3: must have at most 2 items",
                    CEL_SKIPPED,
                ],
            ),
        ],
    );
}

#[test]
fn formats_are_checked_and_numeric_formats_ignored() {
    let schema = schema(json!({
        "startedAt": {"type": "string", "format": "date-time"},
        "count": {"type": "integer", "format": "int32"},
        "big": {"type": "integer", "format": "int64"},
    }));
    check(
        &schema,
        &[
            (
                json!({"startedAt": "2025-11-26T02:20:00Z", "count": 1_099_511_627_776_i64, "big": 1}),
                &[],
            ),
            (
                json!({"startedAt": "yesterday"}),
                &[
                    r#"spec.startedAt: Invalid value: "yesterday": spec.startedAt in body must be of type date-time: "yesterday""#,
                    CEL_SKIPPED,
                ],
            ),
            (
                json!({"count": 1.5}),
                &[
                    r#"spec.count: Invalid value: "number": spec.count in body must be of type integer: "number""#,
                    CEL_SKIPPED,
                ],
            ),
        ],
    );
}

#[test]
fn int_or_string_accepts_both_and_nothing_else() {
    let schema = schema(json!({"port": {"x-kubernetes-int-or-string": true}}));
    check(
        &schema,
        &[
            (json!({"port": 8080}), &[]),
            (json!({"port": "http"}), &[]),
            (
                json!({"port": true}),
                &[
                    r#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#,
                    CEL_SKIPPED,
                ],
            ),
        ],
    );
}

#[test]
fn additional_properties_schema_validates_each_value() {
    let schema = schema(json!({
        "labels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 3}},
        "closed": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false},
    }));
    check(
        &schema,
        &[
            (json!({"labels": {"team": "ci"}, "closed": {"a": "x"}}), &[]),
            (
                json!({"labels": {"team": "platform"}}),
                &[
                    "spec.labels.team: Too long: may not be more than 3 bytes",
                    CEL_SKIPPED,
                ],
            ),
            (
                json!({"closed": {"b": "x"}}),
                &[
                    r#"spec.closed: Invalid value: "b": spec.closed.b in body is a forbidden property"#,
                ],
            ),
        ],
    );
}

#[test]
fn rust_enum_one_of_requires_exactly_one_variant() {
    // kube-derive's shape for a Rust enum: oneOf [{required: [git]}, {required: [image]}].
    let schema = schema(json!({
        "source": {
            "type": "object",
            "properties": {"git": {"type": "object"}, "image": {"type": "object"}},
            "oneOf": [{"required": ["git"]}, {"required": ["image"]}],
        },
    }));
    check(
        &schema,
        &[
            (json!({"source": {"git": {}}}), &[]),
            (json!({"source": {"image": {}}}), &[]),
            (
                json!({"source": {}}),
                &[
                    r#"<nil>: Invalid value: "": "spec.source" must validate one and only one schema (oneOf). Found none valid"#,
                    "spec.source.git: Required value",
                    CEL_SKIPPED,
                ],
            ),
            (
                json!({"source": {"git": {}, "image": {}}}),
                &[
                    r#"<nil>: Invalid value: "": "spec.source" must validate one and only one schema (oneOf). Found 2 valid alternatives"#,
                ],
            ),
        ],
    );
}

#[test]
fn any_of_all_of_and_not_constrain_values() {
    let schema = schema(json!({
        "any": {"type": "string", "anyOf": [{"minLength": 5}, {"pattern": "^x"}]},
        "all": {"type": "integer", "allOf": [{"minimum": 1}, {"maximum": 9}]},
        "not": {"type": "string", "not": {"enum": ["forbidden"]}},
    }));
    check(
        &schema,
        &[
            (json!({"any": "xy", "all": 5, "not": "fine"}), &[]),
            (
                json!({"any": "ab"}),
                &[
                    r#"<nil>: Invalid value: "": "spec.any" must validate at least one schema (anyOf)"#,
                    r#"spec.any: Invalid value: "ab": spec.any in body should be at least 5 chars long"#,
                ],
            ),
            (
                json!({"all": 10}),
                &[
                    "spec.all: Invalid value: 10: spec.all in body should be less than or equal to 9",
                    r#"<nil>: Invalid value: "": "spec.all" must validate all the schemas (allOf)"#,
                ],
            ),
            (
                json!({"not": "forbidden"}),
                &[r#"<nil>: Invalid value: "": "spec.not" must not validate the schema (not)"#],
            ),
        ],
    );
}

#[test]
fn list_type_set_and_map_reject_duplicates() {
    let schema = schema(json!({
        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "conditions": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["type"],
            "items": {"type": "object", "properties": {"type": {"type": "string"}, "status": {"type": "string"}}},
        },
    }));
    check(
        &schema,
        &[
            (
                json!({"tags": ["a", "b"], "conditions": [{"type": "Ready"}, {"type": "Stalled"}]}),
                &[],
            ),
            (
                json!({"tags": ["a", "b", "a", "a"]}),
                &[r#"spec.tags[2]: Duplicate value: "a""#],
            ),
            (
                json!({"conditions": [{"type": "Ready", "status": "True"}, {"type": "Ready", "status": "False"}]}),
                &[
                    r#"spec.conditions[1]: Duplicate value: map[string]interface {}{"type":"Ready"}"#,
                ],
            ),
        ],
    );
}

#[test]
fn embedded_resource_needs_api_version_and_kind() {
    let schema = schema(json!({
        "template": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true},
    }));
    check(
        &schema,
        &[
            (
                json!({"template": {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x"}, "spec": {}}}),
                &[],
            ),
            (
                json!({"template": {"apiVersion": "batch/v1"}}),
                &["spec.template.kind: Required value", CEL_SKIPPED],
            ),
            (
                json!({"template": {"apiVersion": "a/b/c", "kind": "Job_1"}}),
                &[
                    r#"spec.template.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c"#,
                    r#"spec.template.kind: Invalid value: "Job_1": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"#,
                ],
            ),
        ],
    );
}

#[test]
fn metadata_name_must_be_a_dns_subdomain() {
    let schema = schema(json!({}));
    let mut bad = object(json!({}));
    bad["metadata"]["name"] = json!("Demo_1");
    assert_eq!(
        errors_of(&schema, &bad, None),
        [
            r#"metadata.name: Invalid value: "Demo_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#,
        ]
    );
    let mut unnamed = object(json!({}));
    unnamed["metadata"] = json!({});
    assert_eq!(
        errors_of(&schema, &unnamed, None),
        [
            "metadata.name: Required value: name or generateName is required",
            CEL_SKIPPED,
        ]
    );
    let mut generated = object(json!({}));
    generated["metadata"] = json!({"generateName": "demo-"});
    assert_eq!(errors_of(&schema, &generated, None), Vec::<String>::new());
}

#[test]
fn unchanged_invalid_values_are_ratcheted_on_update() {
    let schema =
        schema(json!({"name": {"type": "string", "maxLength": 3}, "other": {"type": "string"}}));
    let old = object(json!({"name": "legacy", "other": "a"}));
    let untouched = object(json!({"name": "legacy", "other": "b"}));
    assert_eq!(
        errors_of(&schema, &untouched, Some(&old)),
        Vec::<String>::new()
    );
    let changed = object(json!({"name": "legacy2", "other": "a"}));
    assert_eq!(
        errors_of(&schema, &changed, Some(&old)),
        [
            "spec.name: Too long: may not be more than 3 bytes",
            CEL_SKIPPED
        ]
    );
}
