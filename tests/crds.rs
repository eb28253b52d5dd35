//! The checked-in CRDs are exactly what `slipway crd` generates, and every CEL rule in them
//! compiles (an API server refuses a CRD whose rule does not).

use std::path::Path;

use serde_json::Value;
use slipway::api::crd;

fn repository_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn checked_in_crds_match_the_generated_ones() {
    let mut drifted = Vec::new();
    for (relative, expected) in crd::repository_files().expect("CRDs serialize") {
        let path = repository_root().join(&relative);
        match std::fs::read_to_string(&path) {
            Ok(actual) if actual == expected => {}
            Ok(_) => drifted.push(format!("{} differs", relative.display())),
            Err(error) => drifted.push(format!("{} unreadable: {error}", relative.display())),
        }
    }
    assert!(
        drifted.is_empty(),
        "generated files are out of date ({}); run `cargo run -- crd --repo .` and commit the result",
        drifted.join("; ")
    );
}

#[test]
fn the_printed_stream_holds_every_crd() {
    let stream = crd::render_stream().expect("CRDs serialize");
    for name in [
        "pipelines.slipway.dev",
        "pipelineexecutions.slipway.dev",
        "buildruns.slipway.dev",
        "deployments.slipway.dev",
    ] {
        assert!(
            stream.contains(&format!("name: {name}")),
            "{name} missing from `slipway crd`"
        );
    }
}

fn schema_of(
    crd: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
) -> Value {
    serde_json::to_value(
        &crd.spec.versions[0]
            .schema
            .as_ref()
            .unwrap()
            .open_api_v3_schema,
    )
    .expect("schema serializes")
}

/// Every `x-kubernetes-validations` rule found in a schema, with its JSON path.
fn rules(schema: &Value, path: &str, found: &mut Vec<(String, String)>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Array(list)) = map.get("x-kubernetes-validations") {
                for rule in list {
                    found.push((
                        path.to_owned(),
                        rule["rule"].as_str().unwrap_or_default().to_owned(),
                    ));
                }
            }
            for (key, value) in map {
                rules(value, &format!("{path}/{key}"), found);
            }
        }
        Value::Array(items) => {
            for (index, value) in items.iter().enumerate() {
                rules(value, &format!("{path}/{index}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_cel_rule_compiles() {
    for crd in crd::all() {
        let schema = schema_of(&crd);
        let compiled = kube::core::cel::compile_schema(&schema);
        let errors: Vec<String> = compiled
            .compilation_errors()
            .iter()
            .map(|error| format!("{error:?}"))
            .collect();
        assert!(
            errors.is_empty(),
            "{}: {}",
            crd.metadata.name.unwrap(),
            errors.join("\n")
        );
        let mut found = Vec::new();
        rules(&schema, "", &mut found);
        assert!(
            !found.is_empty(),
            "{} has no CEL rules",
            crd.metadata.name.unwrap()
        );
    }
}

#[test]
fn every_kind_has_status_short_name_category_and_printer_columns() {
    for crd in crd::all() {
        let name = crd.metadata.name.clone().unwrap();
        let version = &crd.spec.versions[0];
        assert!(
            version
                .subresources
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .is_some(),
            "{name}: no status subresource"
        );
        assert_eq!(
            crd.spec.names.categories.as_deref(),
            Some(&["slipway".to_owned()][..]),
            "{name}"
        );
        assert_eq!(
            crd.spec.names.short_names.as_ref().map(Vec::len),
            Some(1),
            "{name}: no short name"
        );
        let columns = version
            .additional_printer_columns
            .as_deref()
            .unwrap_or_default();
        assert!(
            columns.iter().any(|c| c.name == "Age"),
            "{name}: no Age column"
        );
        assert!(columns.len() >= 4, "{name}: too few printer columns");
        assert_eq!(crd.spec.scope, "Namespaced", "{name}");
    }
}

#[test]
fn conditions_are_list_maps_keyed_by_type() {
    for crd in crd::all() {
        let schema = schema_of(&crd);
        let conditions = &schema["properties"]["status"]["properties"]["conditions"];
        assert_eq!(
            conditions["x-kubernetes-list-type"], "map",
            "{:?}",
            crd.metadata.name
        );
        assert_eq!(
            conditions["x-kubernetes-list-map-keys"],
            serde_json::json!(["type"])
        );
    }
}

/// Every property of every object schema has a description (it becomes `kubectl explain`).
#[test]
fn every_spec_field_is_documented() {
    fn walk(schema: &Value, path: &str, seen: &mut usize, missing: &mut Vec<String>) {
        let Some(map) = schema.as_object() else {
            return;
        };
        if let Some(Value::Object(properties)) = map.get("properties") {
            for (name, property) in properties {
                let here = format!("{path}.{name}");
                *seen += 1;
                if property
                    .get("description")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    missing.push(here.clone());
                }
                walk(property, &here, seen, missing);
            }
        }
        if let Some(items) = map.get("items") {
            walk(items, &format!("{path}[]"), seen, missing);
        }
    }
    for crd in crd::all() {
        let schema = schema_of(&crd);
        let (mut seen, mut missing) = (0, Vec::new());
        walk(
            &schema["properties"]["spec"],
            "spec",
            &mut seen,
            &mut missing,
        );
        walk(
            &schema["properties"]["status"],
            "status",
            &mut seen,
            &mut missing,
        );
        let name = crd.metadata.name.unwrap();
        // Guards the walk itself: a schema shape it cannot read would otherwise pass vacuously.
        assert!(seen > 30, "{name}: only {seen} fields walked");
        assert!(
            missing.is_empty(),
            "{name}: undocumented fields: {}",
            missing.join(", ")
        );
    }
}
