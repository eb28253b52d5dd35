//! Loading CRDs (broken ones included) and the 422 `Status` body.

use serde_json::{Value, json};

use super::{CEL_SKIPPED, crd_json, object, schema};
use crate::schema::{CrdSchema, SchemaError};

#[test]
fn status_body_matches_the_apiservers_422() {
    let schema =
        schema(json!({"stages": {"type": "array", "minItems": 2}, "x": {"type": "integer"}}));
    let single = schema
        .validate(&object(json!({"stages": [1]})), None)
        .expect_err("too few stages");
    assert_eq!(
        single.to_status("Pipeline", "slipway.dev", "demo"),
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Pipeline.slipway.dev \"demo\" is invalid: spec.stages: Invalid value: 1: spec.stages in body should have at least 2 items",
            "reason": "Invalid",
            "details": {"name": "demo", "group": "slipway.dev", "kind": "Pipeline", "causes": [{
                "reason": "FieldValueInvalid",
                "message": "Invalid value: 1: spec.stages in body should have at least 2 items",
                "field": "spec.stages",
            }]},
            "code": 422,
        })
    );
    let several = schema
        .validate(&object(json!({"stages": [1], "x": "string"})), None)
        .expect_err("two problems");
    let status = several.to_status("Pipeline", "slipway.dev", "demo");
    assert_eq!(
        status["message"],
        format!(
            "Pipeline.slipway.dev \"demo\" is invalid: [spec.stages: Invalid value: 1: spec.stages in body should have at least 2 items, spec.x: Invalid value: \"string\": spec.x in body must be of type integer: \"string\", {CEL_SKIPPED}]"
        )
    );
    let reasons: Vec<&str> = status["details"]["causes"]
        .as_array()
        .expect("causes")
        .iter()
        .map(|c| c["reason"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        reasons,
        [
            "FieldValueInvalid",
            "FieldValueTypeInvalid",
            "FieldValueInvalid"
        ]
    );
    assert_eq!(status["details"]["causes"][2]["field"], "<nil>");
}

#[test]
fn broken_crds_are_reported_not_panicked() {
    let cases = [
        (
            json!({"type": "object", "x-kubernetes-validations": [{"rule": "self.a ==", "message": "m"}]}),
            "failed to compile CEL rule",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "(unclosed"}}}),
            "must be a valid regular expression",
        ),
        (
            json!({"type": "object", "x-kubernetes-validations": [{"rule": "true", "fieldPath": ".missing"}]}),
            "does not refer to a valid field",
        ),
        (
            json!({"type": "object", "x-kubernetes-validations": [{"rule": "true", "reason": "Bogus"}]}),
            "unsupported reason",
        ),
    ];
    for (spec_schema, expected) in cases {
        let error =
            CrdSchema::from_crd(&crd_json(spec_schema), "v1alpha1").expect_err("schema is broken");
        assert!(error.to_string().contains(expected), "{error}");
    }
    let missing = CrdSchema::from_crd(&crd_json(json!({"type": "object"})), "v1")
        .expect_err("no such version");
    assert!(
        matches!(missing, SchemaError::VersionNotFound { .. }),
        "{missing}"
    );
}

#[test]
fn generated_crds_load_with_every_rule_compiled() {
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds");
    let entries = std::fs::read_dir(&directory).unwrap_or_else(|error| {
        panic!(
            "unable to read {}: {error} (generate them with `slipway crd`)",
            directory.display()
        )
    });
    let mut loaded = 0;
    for entry in entries {
        let file = entry.expect("directory entry").path();
        let text = std::fs::read_to_string(&file).expect("CRD file is readable");
        if !text.contains("kind: CustomResourceDefinition") {
            continue;
        }
        let crd: Value = serde_saphyr::from_str(&text)
            .unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        for version in crd["spec"]["versions"].as_array().expect("versions") {
            let name = version["name"].as_str().expect("version name");
            let schema = CrdSchema::from_crd(&crd, name)
                .unwrap_or_else(|error| panic!("{}: {error}", file.display()));
            assert_eq!(schema.group(), "slipway.dev");
            // An empty spec reaches every rule that applies to it: nothing may panic.
            let mut empty = json!({
                "apiVersion": format!("slipway.dev/{name}"),
                "kind": schema.kind(),
                "metadata": {"name": "smoke"},
                "spec": {},
            });
            let _ = schema.admit(&mut empty, None);
            loaded += 1;
        }
    }
    assert!(
        loaded > 0,
        "no CustomResourceDefinition found in {}",
        directory.display()
    );
}
