//! `x-kubernetes-list-type: set` and `map` uniqueness, as
//! `apiextensions-apiserver/pkg/apiserver/schema/listtype`.

use serde_json::{Map, Value};

use super::errors::{FieldError, path};
use super::node::{AdditionalProperties, Node};

/// Duplicate items of sets and duplicate keys of map lists anywhere under `root`.
pub(crate) fn validate(root: &Node, value: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Value::Object(fields) = value {
        validate_object(root, "", fields, &mut errors);
    }
    errors
}

fn validate_object(
    node: &Node,
    at: &str,
    fields: &Map<String, Value>,
    errors: &mut Vec<FieldError>,
) {
    if let Some(AdditionalProperties::Schema(child)) = &node.additional_properties {
        for (key, field) in fields {
            validate_value(child, &path::key(at, key), field, errors);
        }
    }
    for (key, field) in fields {
        if let Some(property) = node.properties.get(key) {
            validate_value(property, &path::child(at, key), field, errors);
        }
    }
}

fn validate_value(node: &Node, at: &str, value: &Value, errors: &mut Vec<FieldError>) {
    match value {
        Value::Array(items) => validate_list(node, at, items, errors),
        Value::Object(fields) => validate_object(node, at, fields, errors),
        _ => {}
    }
}

fn validate_list(node: &Node, at: &str, items: &[Value], errors: &mut Vec<FieldError>) {
    match node.list_type.as_deref() {
        Some("set") => {
            for i in second_occurrences(items) {
                errors.push(FieldError::duplicate(path::index(at, i), items[i].clone()));
            }
        }
        Some("map") => validate_map_list(node, at, items, errors),
        _ => {}
    }
    if let Some(item_node) = &node.items {
        for (i, item) in items.iter().enumerate() {
            validate_value(item_node, &path::index(at, i), item, errors);
        }
    }
}

/// Indices of the second appearance of each repeated value (later repeats are not reported).
fn second_occurrences(items: &[Value]) -> Vec<usize> {
    let mut indices = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if items[..i].iter().filter(|earlier| *earlier == item).count() == 1 {
            indices.push(i);
        }
    }
    indices
}

fn validate_map_list(node: &Node, at: &str, items: &[Value], errors: &mut Vec<FieldError>) {
    if let Some((i, item)) = items
        .iter()
        .enumerate()
        .find(|(_, item)| !item.is_null() && !item.is_object())
    {
        errors.push(FieldError::invalid(
            path::index(at, i),
            item.clone(),
            "must be an object for an array of list-type map",
        ));
        return;
    }
    // Each item's key: only the key fields it sets (a missing key is its own distinct value).
    let keys: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut key = Map::new();
            if let Some(fields) = item.as_object() {
                for name in &node.list_map_keys {
                    if let Some(field) = fields.get(name) {
                        key.insert(name.clone(), field.clone());
                    }
                }
            }
            Value::Object(key)
        })
        .collect();
    for i in second_occurrences(&keys) {
        errors.push(FieldError::duplicate(path::index(at, i), keys[i].clone()));
    }
}
