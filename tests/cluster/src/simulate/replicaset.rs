//! The ReplicaSet controller: keeps `spec.replicas` active pods and counts them in status.
//!
//! Pods are created from the template with a controller owner reference and
//! `generateName: <replicaset>-`; surplus pods are deleted least valuable first (pending, then
//! unready, then the youngest), as kube-controller-manager ranks them.

use serde_json::{Value, json};

use super::intent::{Intent, Kind, earliest_recheck, status_update};
use super::object::{self, owner_reference};
use super::time::{Timestamp, add, time_at};

/// Decides pod creations/deletions and the status of `replica_set` from the namespace's pods.
pub fn decide_replica_set(replica_set: &Value, pods: &[Value], now: Timestamp) -> Vec<Intent> {
    if object::is_deleting(replica_set) {
        return Vec::new();
    }
    let desired = object::int_at(replica_set, "/spec/replicas", 1).max(0) as usize;
    let min_ready = object::int_at(replica_set, "/spec/minReadySeconds", 0).max(0) as u64;
    let mut active: Vec<&Value> = pods
        .iter()
        .filter(|p| object::is_controlled_by(p, replica_set) && object::pod_is_active(p))
        .collect();

    let mut intents = Vec::new();
    if active.len() < desired {
        for _ in active.len()..desired {
            intents.push(Intent::Create {
                kind: Kind::Pod,
                object: pod_from_template(replica_set),
            });
        }
    } else if active.len() > desired {
        active.sort_by_key(|p| deletion_rank(p));
        for pod in active.drain(..active.len() - desired) {
            intents.push(Intent::delete(Kind::Pod, pod));
        }
    }

    let template_labels = object::string_map(replica_set.pointer("/spec/template/metadata/labels"));
    let fully_labeled = active
        .iter()
        .filter(|p| object::map_selector_matches(&template_labels, &object::labels(p)))
        .count();
    let ready = active.iter().filter(|p| object::pod_is_ready(p)).count();
    let mut available = 0;
    let mut rechecks = Vec::new();
    for pod in active.iter().filter(|p| object::pod_is_ready(p)) {
        let since = object::condition(pod, "Ready")
            .and_then(|c| c.get("lastTransitionTime"))
            .and_then(Value::as_str)
            .and_then(super::time::parse_time);
        match since.map(|s| add(s, std::time::Duration::from_secs(min_ready))) {
            Some(available_at) if available_at > now => rechecks.push(available_at),
            _ => available += 1,
        }
    }
    let mut status = json!({
        "replicas": active.len(),
        "fullyLabeledReplicas": fully_labeled,
        "readyReplicas": ready,
        "availableReplicas": available,
        "observedGeneration": object::generation(replica_set),
    });
    // Kubernetes omits zero counts (omitempty) except `replicas`.
    for key in ["fullyLabeledReplicas", "readyReplicas", "availableReplicas"] {
        if status[key] == 0 {
            status.as_object_mut().unwrap().remove(key);
        }
    }
    if let Some(conditions) = replica_set.pointer("/status/conditions") {
        status["conditions"] = conditions.clone();
    }
    intents.extend(status_update(Kind::ReplicaSet, replica_set, status));
    intents.extend(earliest_recheck(now, rechecks));
    intents
}

/// Sort key: the pods to delete first sort first.
fn deletion_rank(pod: &Value) -> (bool, bool, std::cmp::Reverse<Option<Timestamp>>) {
    (
        object::pod_phase(pod) == "Running",
        object::pod_is_ready(pod),
        std::cmp::Reverse(time_at(pod, "/metadata/creationTimestamp")),
    )
}

/// A pod for `replica_set`: the template's labels, annotations and spec, owned by the set.
pub fn pod_from_template(replica_set: &Value) -> Value {
    let template = replica_set
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut metadata = json!({
        "generateName": format!("{}-", object::name(replica_set)),
        "namespace": object::namespace(replica_set),
        "ownerReferences": [owner_reference(replica_set, "apps/v1", "ReplicaSet")],
    });
    for key in ["labels", "annotations"] {
        if let Some(value) = template.pointer(&format!("/metadata/{key}")) {
            metadata[key] = value.clone();
        }
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": template.get("spec").cloned().unwrap_or_else(|| json!({})),
    })
}

#[cfg(test)]
#[path = "replicaset_tests.rs"]
mod tests;
