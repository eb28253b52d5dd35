use serde_json::{Value, json};

use super::*;
use crate::simulate::test_support::*;

fn replica_set(replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-6d4b8", "namespace": "prod", "uid": "rs1", "generation": 3},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web", "pod-template-hash": "6d4b8"}},
            "template": {
                "metadata": {"labels": {"app": "web", "pod-template-hash": "6d4b8"}, "annotations": {"a": "b"}},
                "spec": {"containers": [{"name": "app", "image": "web:1"}]}
            }
        }
    })
}

fn pod(name: &str, phase: &str, ready: bool, created_second: u32) -> Value {
    json!({
        "metadata": {
            "name": name, "namespace": "prod", "uid": format!("uid-{name}"),
            "labels": {"app": "web", "pod-template-hash": "6d4b8"},
            "creationTimestamp": format!("2026-03-01T09:00:{created_second:02}Z"),
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-6d4b8", "uid": "rs1", "controller": true}]
        },
        "status": {"phase": phase, "conditions": [
            {"type": "Ready", "status": if ready { "True" } else { "False" }, "lastTransitionTime": "2026-03-01T09:59:00Z"}
        ]}
    })
}

#[test]
fn missing_pods_are_created_from_the_template_with_an_owner_reference() {
    let intents = decide_replica_set(&replica_set(2), &[], at(0));
    let pods = created(&intents, Kind::Pod);
    assert_eq!(pods.len(), 2);
    assert_eq!(pods[0]["metadata"]["generateName"], "web-6d4b8-");
    assert_eq!(pods[0]["metadata"]["namespace"], "prod");
    assert_eq!(pods[0]["metadata"]["labels"]["pod-template-hash"], "6d4b8");
    assert_eq!(pods[0]["metadata"]["annotations"]["a"], "b");
    assert_eq!(pods[0]["metadata"]["ownerReferences"][0]["uid"], "rs1");
    assert_eq!(
        pods[0]["metadata"]["ownerReferences"][0]["controller"],
        true
    );
    assert_eq!(pods[0]["spec"]["containers"][0]["image"], "web:1");
    let status = written_status(&intents, Kind::ReplicaSet);
    assert_eq!(status, json!({"replicas": 0, "observedGeneration": 3}));
}

#[test]
fn surplus_pods_are_deleted_unready_and_youngest_first() {
    let pods = vec![
        pod("old-ready", "Running", true, 1),
        pod("young-ready", "Running", true, 5),
        pod("unready", "Running", false, 2),
        pod("pending", "Pending", false, 3),
    ];
    let intents = decide_replica_set(&replica_set(1), &pods, at(0));
    assert_eq!(
        deleted(&intents, Kind::Pod),
        vec!["pending", "unready", "young-ready"]
    );
    assert!(created(&intents, Kind::Pod).is_empty());
}

#[test]
fn status_counts_ready_and_available_pods_and_ignores_foreign_and_terminal_ones() {
    let mut foreign = pod("foreign", "Running", true, 1);
    foreign["metadata"]["ownerReferences"][0]["uid"] = json!("other");
    let pods = vec![
        pod("a", "Running", true, 1),
        pod("b", "Running", false, 2),
        pod("done", "Succeeded", false, 3),
        foreign,
    ];
    let intents = decide_replica_set(&replica_set(2), &pods, at(0));
    assert!(created(&intents, Kind::Pod).is_empty());
    let status = written_status(&intents, Kind::ReplicaSet);
    assert_eq!(
        status,
        json!({"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 1, "availableReplicas": 1, "observedGeneration": 3})
    );
}

#[test]
fn min_ready_seconds_delays_availability_with_a_recheck() {
    let mut set = replica_set(1);
    set["spec"]["minReadySeconds"] = json!(120);
    // Ready since 09:59:00; `at(0)` is 10:00:00, so available at 10:01:00.
    let intents = decide_replica_set(&set, &[pod("a", "Running", true, 1)], at(0));
    let status = written_status(&intents, Kind::ReplicaSet);
    assert_eq!(status.get("availableReplicas"), None);
    assert_eq!(status["readyReplicas"], 1);
    assert_eq!(recheck(&intents), Some(at(60_000)));
}

#[test]
fn an_unchanged_replica_set_causes_no_writes() {
    let mut set = replica_set(1);
    set["status"] = json!({"replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": 1, "availableReplicas": 1, "observedGeneration": 3});
    assert!(decide_replica_set(&set, &[pod("a", "Running", true, 1)], at(0)).is_empty());
}

#[test]
fn a_deleting_replica_set_is_left_alone() {
    let mut set = replica_set(3);
    set["metadata"]["deletionTimestamp"] = json!("2026-03-01T10:00:00Z");
    assert!(decide_replica_set(&set, &[], at(0)).is_empty());
}
