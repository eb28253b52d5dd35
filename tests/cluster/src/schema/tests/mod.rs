//! Behaviour tests: each rule kind fails and passes with the apiserver's exact text. Fixtures are
//! small hand-written CRDs; `crd` also loads the generated ones under `crds/`.

mod cel;
mod crd;
mod mutation;
mod structural;

use serde_json::{Value, json};

use super::CrdSchema;

const CEL_SKIPPED: &str = "<nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation";

fn crd_json(spec_schema: Value) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "pipelines.slipway.dev"},
        "spec": {
            "group": "slipway.dev",
            "names": {"kind": "Pipeline", "plural": "pipelines"},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1alpha1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        "spec": spec_schema,
                    },
                }},
            }],
        },
    })
}

/// A schema whose `spec` has the given properties.
fn schema(properties: Value) -> CrdSchema {
    CrdSchema::from_crd(
        &crd_json(json!({"type": "object", "properties": properties})),
        "v1alpha1",
    )
    .expect("fixture schema compiles")
}

fn object(spec: Value) -> Value {
    json!({"apiVersion": "slipway.dev/v1alpha1", "kind": "Pipeline", "metadata": {"name": "demo"}, "spec": spec})
}

fn errors_of(schema: &CrdSchema, object: &Value, old: Option<&Value>) -> Vec<String> {
    match schema.validate(object, old) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

/// Runs `(spec, expected error texts)` cases against one schema.
fn check(schema: &CrdSchema, cases: &[(Value, &[&str])]) {
    for (spec, expected) in cases {
        assert_eq!(
            errors_of(schema, &object(spec.clone()), None),
            *expected,
            "spec: {spec}"
        );
    }
}
