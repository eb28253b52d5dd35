//! Pruning of unknown fields, as `apiextensions-apiserver/pkg/apiserver/schema/pruning` with
//! unknown-field tracking (the paths kubectl turns into `unknown field "spec.foo"`), plus the
//! `ObjectMeta` coercion that drops unknown `metadata` fields of the object and of embedded
//! resources.

use serde_json::Value;

use super::errors::path;
use super::node::{AdditionalProperties, Node};

/// Fields `metav1.ObjectMeta` knows; anything else under `metadata` is dropped.
const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Prunes `value` (a whole object) against `root`, returning the sorted paths of removed fields.
pub(crate) fn prune_object(value: &mut Value, root: &Node) -> Vec<String> {
    let mut unknown = Vec::new();
    // The object root is always treated as an embedded resource.
    prune(value, Some(root), "", true, &mut unknown);
    unknown.sort();
    unknown
}

/// A subtree without schema: objects lose every field, lists are walked.
fn prune(
    value: &mut Value,
    node: Option<&Node>,
    at: &str,
    resource_root: bool,
    unknown: &mut Vec<String>,
) {
    let embedded = resource_root || node.is_some_and(|node| node.embedded_resource);
    if let Some(node) = node
        && node.preserve_unknown_fields
    {
        skip_prune(value, node, at, embedded, unknown);
        return;
    }
    match value {
        Value::Object(fields) => {
            let keys: Vec<String> = fields.keys().cloned().collect();
            for key in keys {
                if embedded && is_kept_meta_field(&key, &fields[&key]) {
                    continue;
                }
                let child_node = match node {
                    None => None,
                    Some(node) => match (node.properties.get(&key), &node.additional_properties) {
                        (Some(property), _) => Some(Some(property)),
                        (None, Some(AdditionalProperties::Schema(child))) => {
                            Some(Some(child.as_ref()))
                        }
                        (None, Some(AdditionalProperties::Allows(true))) => Some(None),
                        _ => None,
                    },
                };
                match child_node {
                    Some(child) => {
                        let child_at = path::child(at, &key);
                        if let Some(field) = fields.get_mut(&key) {
                            prune(field, child, &child_at, false, unknown);
                        }
                    }
                    None => {
                        // The apiserver does not report the object's own apiVersion, kind, metadata.
                        if !(at.is_empty()
                            && matches!(key.as_str(), "apiVersion" | "kind" | "metadata"))
                        {
                            unknown.push(path::child(at, &key));
                        }
                        fields.remove(&key);
                    }
                }
            }
            if embedded {
                coerce_metadata(fields, at, unknown);
            }
        }
        Value::Array(items) => {
            let item_node = node.and_then(|node| node.items.as_deref());
            for (i, item) in items.iter_mut().enumerate() {
                prune(item, item_node, &path::index(at, i), false, unknown);
            }
        }
        _ => {}
    }
}

/// `x-kubernetes-preserve-unknown-fields`: unknown fields stay, known ones are still pruned.
fn skip_prune(value: &mut Value, node: &Node, at: &str, embedded: bool, unknown: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                if embedded && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                let child_at = path::child(at, key);
                if let Some(property) = node.properties.get(key) {
                    prune(field, Some(property), &child_at, false, unknown);
                } else if let Some(AdditionalProperties::Schema(child)) =
                    &node.additional_properties
                {
                    prune(field, Some(child), &child_at, false, unknown);
                }
            }
            if embedded {
                coerce_metadata(fields, at, unknown);
            }
        }
        Value::Array(items) => {
            if let Some(item_node) = node.items.as_deref() {
                for (i, item) in items.iter_mut().enumerate() {
                    skip_prune(item, item_node, &path::index(at, i), false, unknown);
                }
            }
        }
        _ => {}
    }
}

/// Embedded `apiVersion`/`kind` survive as strings and `metadata` as an object.
fn is_kept_meta_field(key: &str, value: &Value) -> bool {
    match key {
        "apiVersion" | "kind" => value.is_string(),
        "metadata" => value.is_object(),
        _ => false,
    }
}

fn coerce_metadata(
    fields: &mut serde_json::Map<String, Value>,
    at: &str,
    unknown: &mut Vec<String>,
) {
    let Some(Value::Object(metadata)) = fields.get_mut("metadata") else {
        return;
    };
    let metadata_at = path::child(at, "metadata");
    metadata.retain(|key, _| {
        let known = OBJECT_META_FIELDS.contains(&key.as_str());
        if !known {
            unknown.push(path::child(&metadata_at, key));
        }
        known
    });
}
