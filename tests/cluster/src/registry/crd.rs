//! Turning a `CustomResourceDefinition` into served resource types, and the status the
//! apiextensions controllers would give it.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{PrinterColumn, ResourceType, ScalePaths};
use crate::gvr::Gvr;
use crate::patching;
use crate::schema::{CrdSchema, FieldError, FieldErrors};

/// Why a CRD cannot be served: the field errors of the 422 answer.
#[derive(Debug)]
pub struct CrdError(pub FieldErrors);

fn text(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn strings(value: &Value, pointer: &str) -> Vec<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(ToString::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn error(errors: Vec<FieldError>) -> CrdError {
    CrdError(FieldErrors::from_vec(errors).expect("at least one error"))
}

/// The resource types a CRD serves (one per served version).
///
/// # Errors
/// [`CrdError`] when the CRD's name, names or schemas would make the apiserver refuse it.
pub fn resource_types_of_crd(crd: &Value) -> Result<Vec<ResourceType>, CrdError> {
    let name = text(crd, "/metadata/name");
    let group = text(crd, "/spec/group");
    let plural = text(crd, "/spec/names/plural");
    let kind = text(crd, "/spec/names/kind");
    let mut problems = Vec::new();
    if plural.is_empty() {
        problems.push(FieldError::required("spec.names.plural", ""));
    }
    if kind.is_empty() {
        problems.push(FieldError::required("spec.names.kind", ""));
    }
    if group.is_empty() {
        problems.push(FieldError::required("spec.group", ""));
    }
    if !plural.is_empty() && !group.is_empty() && name != format!("{plural}.{group}") {
        problems.push(FieldError::invalid(
            "metadata.name",
            Value::String(name.clone()),
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        problems.push(FieldError::invalid(
            "spec.versions",
            Value::Array(Vec::new()),
            "must have exactly one version marked as storage version",
        ));
    }
    if !problems.is_empty() {
        return Err(error(problems));
    }
    let namespaced = text(crd, "/spec/scope") != "Cluster";
    let singular = Some(text(crd, "/spec/names/singular"))
        .filter(|singular| !singular.is_empty())
        .unwrap_or_else(|| kind.to_lowercase());
    let list_kind = Some(text(crd, "/spec/names/listKind"))
        .filter(|list_kind| !list_kind.is_empty())
        .unwrap_or_else(|| format!("{kind}List"));
    let mut served = Vec::new();
    for (index, version) in versions.iter().enumerate() {
        if version.get("served").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let version_name = text(version, "/name");
        let raw_schema = version
            .pointer("/schema/openAPIV3Schema")
            .cloned()
            .unwrap_or_else(
                || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
            );
        let schema = CrdSchema::from_openapi_schema(&raw_schema, &group, &kind, &version_name)
            .map_err(|problem| {
                error(vec![FieldError::invalid(
                    format!("spec.versions[{index}].schema.openAPIV3Schema"),
                    Value::String(String::new()),
                    problem.to_string(),
                )])
            })?;
        let scale = version
            .pointer("/subresources/scale")
            .map(|scale| ScalePaths {
                spec_replicas: text(scale, "/specReplicasPath"),
                status_replicas: text(scale, "/statusReplicasPath"),
                label_selector: scale
                    .get("labelSelectorPath")
                    .and_then(Value::as_str)
                    .map(ToString::to_string),
            });
        served.push(ResourceType {
            gvr: Gvr::new(&group, &version_name, &plural),
            kind: kind.clone(),
            list_kind: list_kind.clone(),
            singular: singular.clone(),
            short_names: strings(crd, "/spec/names/shortNames"),
            categories: strings(crd, "/spec/names/categories"),
            namespaced,
            status_subresource: version.pointer("/subresources/status").is_some(),
            scale,
            generation: true,
            printer_columns: printer_columns(version),
            merge_rules: Arc::new(patching::schema_rules(
                &raw_schema,
                version.pointer("/subresources/status").is_some(),
            )),
            schema: Some(Arc::new(schema)),
            openapi_schema: Some(raw_schema),
            crd_name: Some(name.clone()),
        });
    }
    Ok(served)
}

fn printer_columns(version: &Value) -> Vec<PrinterColumn> {
    let Some(columns) = version
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
    else {
        // Without declared columns the apiserver prints the age.
        return vec![PrinterColumn {
            name: "Age".to_string(),
            column_type: "date".to_string(),
            format: String::new(),
            description: String::new(),
            priority: 0,
            json_path: ".metadata.creationTimestamp".to_string(),
        }];
    };
    columns
        .iter()
        .map(|column| PrinterColumn {
            name: text(column, "/name"),
            column_type: text(column, "/type"),
            format: text(column, "/format"),
            description: text(column, "/description"),
            priority: column.get("priority").and_then(Value::as_i64).unwrap_or(0),
            json_path: text(column, "/jsonPath"),
        })
        .collect()
}

/// The status the apiextensions controllers give an accepted CRD: `NamesAccepted` and
/// `Established` true, `acceptedNames` and `storedVersions`.
pub fn crd_status(crd: &Value, now: &str) -> Value {
    let mut names = crd
        .pointer("/spec/names")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let kind = text(crd, "/spec/names/kind");
    if names.get("singular").is_none() {
        names["singular"] = json!(kind.to_lowercase());
    }
    if names.get("listKind").is_none() {
        names["listKind"] = json!(format!("{kind}List"));
    }
    let stored: Vec<String> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|versions| {
            versions
                .iter()
                .filter(|version| version.get("storage").and_then(Value::as_bool) == Some(true))
                .filter_map(|version| version.get("name").and_then(Value::as_str))
                .map(ToString::to_string)
                .collect()
        })
        .unwrap_or_default();
    json!({
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "lastTransitionTime": now,
             "reason": "NoConflicts", "message": "no conflicts found"},
            {"type": "Established", "status": "True", "lastTransitionTime": now,
             "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"},
        ],
        "acceptedNames": names,
        "storedVersions": stored,
    })
}
