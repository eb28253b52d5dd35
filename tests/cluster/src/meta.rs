//! Small helpers over an object's JSON `metadata`.

use serde_json::{Map, Value};

/// The current time as the apiserver writes timestamps (`2026-11-26T02:53:00Z`).
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A string field of `metadata`.
pub fn text<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object.get("metadata")?.get(field)?.as_str()
}

/// `metadata.name` (empty when absent).
pub fn name(object: &Value) -> &str {
    text(object, "name").unwrap_or_default()
}

/// `metadata.namespace`, when set and non-empty.
pub fn namespace(object: &Value) -> Option<&str> {
    text(object, "namespace").filter(|namespace| !namespace.is_empty())
}

/// `metadata.uid` (empty when absent).
pub fn uid(object: &Value) -> &str {
    text(object, "uid").unwrap_or_default()
}

/// `metadata.resourceVersion` (empty when absent).
pub fn resource_version(object: &Value) -> &str {
    text(object, "resourceVersion").unwrap_or_default()
}

/// `metadata`, created when missing or not an object.
pub fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.is_object() {
        *object = Value::Object(Map::new());
    }
    let metadata = object
        .as_object_mut()
        .expect("object")
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    metadata.as_object_mut().expect("metadata object")
}

/// `metadata.finalizers` as strings.
pub fn finalizers(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/finalizers")
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

/// Replaces `metadata.finalizers` (removing the field when empty, as the apiserver omits it).
pub fn set_finalizers(object: &mut Value, finalizers: &[String]) {
    let metadata = metadata_mut(object);
    if finalizers.is_empty() {
        metadata.remove("finalizers");
    } else {
        metadata.insert("finalizers".to_string(), Value::from(finalizers.to_vec()));
    }
}

/// Whether `metadata.deletionTimestamp` is set.
pub fn is_deleting(object: &Value) -> bool {
    object
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|value| !value.is_null())
}

/// The UIDs of `metadata.ownerReferences`.
pub fn owner_uids(object: &Value) -> Vec<&str> {
    owner_references(object)
        .iter()
        .filter_map(|owner| owner.get("uid").and_then(Value::as_str))
        .collect()
}

/// `metadata.ownerReferences` (empty when absent).
pub fn owner_references(object: &Value) -> &[Value] {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// A random suffix for `generateName`: five characters of the apiserver's alphabet (no vowels,
/// no confusable digits).
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let random = uuid::Uuid::new_v4().as_u128();
    (0..5)
        .map(|index| {
            let digit = (random >> (index * 8)) as usize % ALPHABET.len();
            ALPHABET[digit] as char
        })
        .collect()
}

/// The object without `metadata` (and without `status` when `ignore_status`): what must change
/// for `metadata.generation` to move.
pub fn spec_part(object: &Value, ignore_status: bool) -> Value {
    let mut copy = object.clone();
    if let Some(map) = copy.as_object_mut() {
        map.remove("metadata");
        map.remove("apiVersion");
        map.remove("kind");
        if ignore_status {
            map.remove("status");
        }
    }
    copy
}

/// The object with `resourceVersion` removed and `managedFields` timestamps blanked: two writes
/// that differ only there are the same write (the apiserver then skips the write).
pub fn comparable(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(metadata) = copy.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("resourceVersion");
        if let Some(entries) = metadata
            .get_mut("managedFields")
            .and_then(Value::as_array_mut)
        {
            for entry in entries {
                if let Some(entry) = entry.as_object_mut() {
                    entry.remove("time");
                }
            }
        }
    }
    copy
}

/// Whether a DNS-1123 subdomain (object names): lowercase alphanumerics, `-` and `.`, at most 253.
pub fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Whether a DNS-1123 label (namespace names): like a subdomain segment, at most 63.
pub fn is_dns_label(name: &str) -> bool {
    name.len() <= 63 && !name.contains('.') && is_dns_subdomain(name)
}

/// Whether anything still blocks removing a deleting object: its finalizers, or for a Namespace
/// also `spec.finalizers` (emptied by the namespace controller once the namespace is empty).
pub fn removal_blocked(object: &Value) -> bool {
    let namespace_finalizers = object.get("kind").and_then(Value::as_str) == Some("Namespace")
        && object
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|finalizers| !finalizers.is_empty());
    !finalizers(object).is_empty() || namespace_finalizers
}
