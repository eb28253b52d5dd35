//! `metadata` checks the apiserver applies to every custom resource (`ValidateObjectMetaAccessor`
//! with `NameIsDNSSubdomain`) and to embedded resources (`schema/objectmeta.Validate`).

use serde_json::{Map, Value};

use super::errors::{FieldError, path};
use super::node::{AdditionalProperties, Node};

const DNS1123_SUBDOMAIN_MESSAGE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FORMAT: &str =
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_LABEL_MESSAGE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_LABEL_FORMAT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_MESSAGE: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const DNS1035_LABEL_FORMAT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";

/// Go's `validation.RegexError`.
fn regex_error(message: &str, format: &str, examples: &[&str]) -> String {
    let quoted: Vec<String> = examples
        .iter()
        .map(|example| format!("'{example}', "))
        .collect();
    format!(
        "{message} (e.g. {}regex used for validation is '{format}')",
        quoted.join(" or ")
    )
}

fn matches_whole(value: &str, format: &str) -> bool {
    regex::Regex::new(&format!("^{format}$")).is_ok_and(|regex| regex.is_match(value))
}

/// `IsDNS1123Subdomain`.
fn dns1123_subdomain(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > 253 {
        problems.push("must be no more than 253 characters".to_string());
    }
    if !matches_whole(value, DNS1123_SUBDOMAIN_FORMAT) {
        problems.push(regex_error(
            DNS1123_SUBDOMAIN_MESSAGE,
            DNS1123_SUBDOMAIN_FORMAT,
            &["example.com"],
        ));
    }
    problems
}

/// `IsDNS1123Label`.
fn dns1123_label(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > 63 {
        problems.push("must be no more than 63 characters".to_string());
    }
    if !matches_whole(value, DNS1123_LABEL_FORMAT) {
        problems.push(regex_error(
            DNS1123_LABEL_MESSAGE,
            DNS1123_LABEL_FORMAT,
            &["my-name", "123-abc"],
        ));
    }
    problems
}

/// `IsDNS1035Label`.
fn dns1035_label(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > 63 {
        problems.push("must be no more than 63 characters".to_string());
    }
    if !matches_whole(value, DNS1035_LABEL_FORMAT) {
        problems.push(regex_error(
            DNS1035_LABEL_MESSAGE,
            DNS1035_LABEL_FORMAT,
            &["my-name", "abc-123"],
        ));
    }
    problems
}

/// `path.ValidatePathSegmentName`, used for names of embedded resources.
fn path_segment_name(value: &str) -> Vec<String> {
    match value {
        "." | ".." => vec![format!("may not be '{value}'")],
        _ => ["/", "%"]
            .iter()
            .filter(|forbidden| value.contains(*forbidden))
            .map(|forbidden| format!("may not contain '{forbidden}'"))
            .collect(),
    }
}

/// `metadata.name` (or `generateName`) of the object itself.
pub(crate) fn validate_object_name(object: &Value) -> Vec<FieldError> {
    let metadata = object.get("metadata");
    let text = |key: &str| {
        metadata
            .and_then(|metadata| metadata.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let (name, generate_name) = (text("name"), text("generateName"));
    if name.is_empty() && generate_name.is_empty() {
        return vec![FieldError::required(
            "metadata.name",
            "name or generateName is required",
        )];
    }
    if name.is_empty() {
        return Vec::new();
    }
    dns1123_subdomain(name)
        .into_iter()
        .map(|problem| {
            FieldError::invalid("metadata.name", Value::String(name.to_string()), problem)
        })
        .collect()
}

/// `apiVersion`, `kind` and `metadata` of every `x-kubernetes-embedded-resource` object.
pub(crate) fn validate_embedded(root: &Node, object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Value::Object(fields) = object {
        walk_object(root, "", fields, &mut errors);
    }
    errors
}

fn walk(node: &Node, at: &str, value: &Value, errors: &mut Vec<FieldError>) {
    match value {
        Value::Object(fields) => {
            if node.embedded_resource {
                validate_embedded_resource(at, fields, errors);
            }
            walk_object(node, at, fields, errors);
        }
        Value::Array(items) => {
            if let Some(item_node) = &node.items {
                for (i, item) in items.iter().enumerate() {
                    walk(item_node, &path::index(at, i), item, errors);
                }
            }
        }
        _ => {}
    }
}

fn walk_object(node: &Node, at: &str, fields: &Map<String, Value>, errors: &mut Vec<FieldError>) {
    for (key, field) in fields {
        if let Some(property) = node.properties.get(key) {
            walk(property, &path::child(at, key), field, errors);
        } else if let Some(AdditionalProperties::Schema(child)) = &node.additional_properties {
            walk(child, &path::key(at, key), field, errors);
        }
    }
}

fn validate_embedded_resource(at: &str, fields: &Map<String, Value>, errors: &mut Vec<FieldError>) {
    let api_version_at = path::child(at, "apiVersion");
    let kind_at = path::child(at, "kind");
    if !fields.contains_key("apiVersion") {
        errors.push(FieldError::required(&api_version_at, ""));
    }
    if !fields.contains_key("kind") {
        errors.push(FieldError::required(&kind_at, ""));
    }
    for (key, field) in fields {
        match key.as_str() {
            "apiVersion" => match field.as_str() {
                None => errors.push(FieldError::invalid(
                    &api_version_at,
                    field.clone(),
                    "must be a string",
                )),
                Some("") => errors.push(FieldError::invalid(
                    &api_version_at,
                    field.clone(),
                    "must not be empty",
                )),
                Some(api_version) if api_version.matches('/').count() > 1 => {
                    errors.push(FieldError::invalid(
                        &api_version_at,
                        field.clone(),
                        format!("unexpected GroupVersion string: {api_version}"),
                    ))
                }
                Some(_) => {}
            },
            "kind" => match field.as_str() {
                None => errors.push(FieldError::invalid(
                    &kind_at,
                    field.clone(),
                    "must be a string",
                )),
                Some("") => errors.push(FieldError::invalid(
                    &kind_at,
                    field.clone(),
                    "must not be empty",
                )),
                Some(kind) => {
                    let problems = dns1035_label(&kind.to_lowercase());
                    if !problems.is_empty() {
                        errors.push(FieldError::invalid(
                            &kind_at,
                            field.clone(),
                            format!(
                                "may have mixed case, but should otherwise match: {}",
                                problems.join(",")
                            ),
                        ));
                    }
                }
            },
            "metadata" => validate_embedded_metadata(&path::child(at, "metadata"), field, errors),
            _ => {}
        }
    }
}

fn validate_embedded_metadata(at: &str, metadata: &Value, errors: &mut Vec<FieldError>) {
    let text = |key: &str| metadata.get(key).and_then(Value::as_str).unwrap_or("");
    let name = text("name");
    for problem in path_segment_name(name) {
        errors.push(FieldError::invalid(
            path::child(at, "name"),
            Value::String(name.to_string()),
            problem,
        ));
    }
    let namespace = text("namespace");
    if !namespace.is_empty() {
        for problem in dns1123_label(namespace) {
            errors.push(FieldError::invalid(
                path::child(at, "namespace"),
                Value::String(namespace.to_string()),
                problem,
            ));
        }
    }
}
