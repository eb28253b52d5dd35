//! The `pod-template-hash` of a Deployment's template and template comparison ignoring it.

use serde_json::Value;

/// Label that ties a ReplicaSet and its pods to one template of a Deployment.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// Hash of a pod template (plus the collision count), encoded like Kubernetes' `SafeEncodeString`.
///
/// Kubernetes hashes a Go-specific dump of the struct, which cannot be reproduced here; this is
/// FNV-32a over canonical JSON, so values differ from a real cluster's but have the same shape
/// and the same stability (same template → same hash).
pub fn pod_template_hash(template: &Value, collision_count: Option<i64>) -> String {
    let mut text = String::new();
    canonical_json(template, &mut text);
    if let Some(count) = collision_count {
        text.push_str(&count.to_string());
    }
    let mut hash: u32 = 0x811c_9dc5;
    for byte in text.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    // Vowels and look-alike digits are left out so the result never spells words.
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    hash.to_string()
        .bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

/// Whether two templates are equal once the `pod-template-hash` label is ignored.
pub fn templates_equal_ignoring_hash(a: &Value, b: &Value) -> bool {
    without_hash_label(a) == without_hash_label(b)
}

fn without_hash_label(template: &Value) -> Value {
    let mut template = template.clone();
    if let Some(labels) = template
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(POD_TEMPLATE_HASH);
        if labels.is_empty() {
            template["metadata"]
                .as_object_mut()
                .map(|m| m.remove("labels"));
        }
    }
    template
}

/// JSON with object keys sorted, so the hash does not depend on map order.
fn canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical_json(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn hash_is_stable_and_safe_encoded() {
        let a = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}});
        let b = json!({"spec": {"containers": [{"image": "i:1", "name": "c"}]}, "metadata": {"labels": {"app": "x"}}});
        assert_eq!(pod_template_hash(&a, None), pod_template_hash(&b, None));
        let hash = pod_template_hash(&a, None);
        assert!(
            hash.chars()
                .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)),
            "{hash}"
        );
        assert!((6..=10).contains(&hash.len()));
    }

    #[test]
    fn hash_changes_with_the_template_and_the_collision_count() {
        let a = json!({"spec": {"containers": [{"image": "i:1"}]}});
        let b = json!({"spec": {"containers": [{"image": "i:2"}]}});
        assert_ne!(pod_template_hash(&a, None), pod_template_hash(&b, None));
        assert_ne!(pod_template_hash(&a, None), pod_template_hash(&a, Some(1)));
    }

    #[test]
    fn templates_compare_without_the_hash_label() {
        let plain = json!({"metadata": {"labels": {"app": "x"}}, "spec": {}});
        let hashed =
            json!({"metadata": {"labels": {"app": "x", "pod-template-hash": "abc"}}, "spec": {}});
        assert!(templates_equal_ignoring_hash(&plain, &hashed));
        let only_hash = json!({"metadata": {"labels": {"pod-template-hash": "abc"}}, "spec": {}});
        assert!(templates_equal_ignoring_hash(
            &json!({"metadata": {}, "spec": {}}),
            &only_hash
        ));
    }
}
