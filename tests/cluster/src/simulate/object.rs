//! Accessors over plain JSON objects: metadata, owner references, label selectors, conditions.
//!
//! The simulation works on `serde_json::Value` rather than typed structs so that status writes
//! start from the stored object and never drop fields a typed model does not know.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::time::{Timestamp, format_time};

/// `metadata.name`, or `""`.
pub fn name(object: &Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `metadata.namespace`, or `""` for cluster-scoped objects.
pub fn namespace(object: &Value) -> &str {
    object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `metadata.uid`, or `""`.
pub fn uid(object: &Value) -> &str {
    object
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `metadata.generation`, or 0.
pub fn generation(object: &Value) -> i64 {
    object
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// Whether `metadata.deletionTimestamp` is set.
pub fn is_deleting(object: &Value) -> bool {
    object
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// `metadata.labels` as a map.
pub fn labels(object: &Value) -> BTreeMap<String, String> {
    string_map(object.pointer("/metadata/labels"))
}

/// One `metadata.annotations` value.
pub fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.pointer("/metadata/annotations")?.get(key)?.as_str()
}

/// A JSON object of strings as a map (non-string values are skipped).
pub fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// The controller owner reference, if any.
pub fn controller_ref(object: &Value) -> Option<&Value> {
    object
        .pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
}

/// Whether `object`'s controller owner reference points at `owner` (matched by UID).
pub fn is_controlled_by(object: &Value, owner: &Value) -> bool {
    let owner_uid = uid(owner);
    !owner_uid.is_empty()
        && controller_ref(object)
            .and_then(|r| r.get("uid"))
            .and_then(Value::as_str)
            == Some(owner_uid)
}

/// A controller owner reference to `owner`, as controllers set it.
pub fn owner_reference(owner: &Value, api_version: &str, kind: &str) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": kind,
        "name": name(owner),
        "uid": uid(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Whether a `LabelSelector` (`matchLabels` + `matchExpressions`) selects `labels`.
///
/// A missing or empty selector selects nothing here, as the workload controllers treat it.
pub fn label_selector_matches(selector: Option<&Value>, labels: &BTreeMap<String, String>) -> bool {
    let Some(selector) = selector.and_then(Value::as_object) else {
        return false;
    };
    let match_labels = string_map(selector.get("matchLabels"));
    let expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if match_labels.is_empty() && expressions.is_empty() {
        return false;
    }
    if !map_selector_matches(&match_labels, labels) {
        return false;
    }
    expressions.iter().all(|expression| {
        let key = expression.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let actual = labels.get(key).map(String::as_str);
        match expression
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or("")
        {
            "In" => actual.is_some_and(|a| values.contains(&a)),
            "NotIn" => actual.is_none_or(|a| !values.contains(&a)),
            "Exists" => actual.is_some(),
            "DoesNotExist" => actual.is_none(),
            _ => false,
        }
    })
}

/// Whether an equality selector (a Service's `spec.selector`) selects `labels`.
pub fn map_selector_matches(
    selector: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The condition of `condition_type` in `status.conditions`.
pub fn condition<'a>(object: &'a Value, condition_type: &str) -> Option<&'a Value> {
    object
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(condition_type))
}

/// Whether the condition of `condition_type` has status `"True"`.
pub fn condition_is_true(object: &Value, condition_type: &str) -> bool {
    condition(object, condition_type)
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        == Some("True")
}

/// A pod-style condition (`lastProbeTime: null`, `lastTransitionTime`).
pub fn pod_condition(
    condition_type: &str,
    status: bool,
    reason: Option<&str>,
    message: Option<&str>,
    at: Timestamp,
) -> Value {
    let mut condition = Map::new();
    condition.insert("type".into(), json!(condition_type));
    condition.insert(
        "status".into(),
        json!(if status { "True" } else { "False" }),
    );
    condition.insert("lastProbeTime".into(), Value::Null);
    condition.insert("lastTransitionTime".into(), json!(format_time(at)));
    if let Some(reason) = reason {
        condition.insert("reason".into(), json!(reason));
    }
    if let Some(message) = message {
        condition.insert("message".into(), json!(message));
    }
    Value::Object(condition)
}

/// Keeps `lastTransitionTime` (and `lastProbeTime`) of conditions whose status did not change,
/// so a recomputed status equals the stored one and causes no write.
pub fn keep_transition_times(old: Option<&Value>, new: &mut [Value]) {
    let old = old.and_then(Value::as_array).cloned().unwrap_or_default();
    for condition in new {
        let kind = condition.get("type").cloned();
        if let Some(previous) = old.iter().find(|c| c.get("type") == kind.as_ref())
            && previous.get("status") == condition.get("status")
            && let Some(time) = previous.get("lastTransitionTime")
        {
            condition["lastTransitionTime"] = time.clone();
        }
    }
}

/// Whether a pod's `Ready` condition is true.
pub fn pod_is_ready(pod: &Value) -> bool {
    condition_is_true(pod, "Ready")
}

/// `status.phase` of a pod, or `""` before the kubelet wrote one.
pub fn pod_phase(pod: &Value) -> &str {
    pod.pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Whether a pod reached `Succeeded` or `Failed`.
pub fn pod_is_terminal(pod: &Value) -> bool {
    matches!(pod_phase(pod), "Succeeded" | "Failed")
}

/// Whether a pod counts as active for its controller (not terminal, not being deleted).
pub fn pod_is_active(pod: &Value) -> bool {
    !pod_is_terminal(pod) && !is_deleting(pod)
}

/// An integer at `pointer`, or `default`.
pub fn int_at(object: &Value, pointer: &str, default: i64) -> i64 {
    object
        .pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels_of(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selector_combines_match_labels_and_expressions() {
        let selector = json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "edge"]},
                {"key": "canary", "operator": "DoesNotExist"}
            ]
        });
        assert!(label_selector_matches(
            Some(&selector),
            &labels_of(&[("app", "web"), ("tier", "edge")])
        ));
        assert!(!label_selector_matches(
            Some(&selector),
            &labels_of(&[("app", "web"), ("tier", "back")])
        ));
        assert!(!label_selector_matches(
            Some(&selector),
            &labels_of(&[("app", "web"), ("tier", "edge"), ("canary", "1")])
        ));
    }

    #[test]
    fn empty_selector_selects_nothing() {
        assert!(!label_selector_matches(
            Some(&json!({})),
            &labels_of(&[("a", "b")])
        ));
        assert!(!label_selector_matches(None, &labels_of(&[("a", "b")])));
    }

    #[test]
    fn unchanged_conditions_keep_their_transition_time() {
        let old = json!([{"type": "Ready", "status": "True", "lastTransitionTime": "2020-01-01T00:00:00Z"}]);
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut new = vec![
            pod_condition("Ready", true, None, None, now),
            pod_condition("Other", true, None, None, now),
        ];
        keep_transition_times(Some(&old), &mut new);
        assert_eq!(new[0]["lastTransitionTime"], "2020-01-01T00:00:00Z");
        assert_eq!(new[1]["lastTransitionTime"], "2026-01-01T00:00:00Z");
    }

    #[test]
    fn controller_ownership_is_matched_by_uid() {
        let owner = json!({"metadata": {"name": "rs", "uid": "u1"}});
        let child = json!({"metadata": {"ownerReferences": [owner_reference(&owner, "apps/v1", "ReplicaSet")]}});
        assert!(is_controlled_by(&child, &owner));
        assert!(!is_controlled_by(
            &child,
            &json!({"metadata": {"name": "rs", "uid": "u2"}})
        ));
    }
}
