use serde_json::{Value, json};

use super::*;
use crate::simulate::replicaset::decide_replica_set;
use crate::simulate::test_support::*;

fn deployment(replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "prod", "uid": "d1", "generation": 1,
                     "annotations": {"team": "a", "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": image}]}}
        }
    })
}

/// A tiny cluster: applies intents to stored objects, with pods Ready as soon as created
/// unless `pods_ready` is false.
struct World {
    deployment: Value,
    replica_sets: Vec<Value>,
    pods: Vec<Value>,
    next_uid: u32,
    pods_ready: bool,
}

impl World {
    fn new(deployment: Value) -> World {
        World {
            deployment,
            replica_sets: vec![],
            pods: vec![],
            next_uid: 0,
            pods_ready: true,
        }
    }

    fn apply(&mut self, intents: Vec<Intent>) {
        for intent in intents {
            match intent {
                Intent::Create { kind, mut object } => {
                    self.next_uid += 1;
                    object["metadata"]["uid"] = json!(format!("u{}", self.next_uid));
                    object["metadata"]["creationTimestamp"] =
                        json!(format!("2026-03-01T09:{:02}:00Z", self.next_uid % 60));
                    if object["metadata"]["name"].is_null() {
                        let name = format!(
                            "{}{:05}",
                            object["metadata"]["generateName"].as_str().unwrap(),
                            self.next_uid
                        );
                        object["metadata"]["name"] = json!(name);
                    }
                    match kind {
                        Kind::ReplicaSet => self.replica_sets.push(object),
                        Kind::Pod => {
                            object["status"] = if self.pods_ready {
                                json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-03-01T09:00:00Z"}]})
                            } else {
                                json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]})
                            };
                            self.pods.push(object)
                        }
                        other => panic!("unexpected create of {other:?}"),
                    }
                }
                Intent::Update {
                    kind: Kind::ReplicaSet,
                    object,
                }
                | Intent::UpdateStatus {
                    kind: Kind::ReplicaSet,
                    object,
                } => {
                    let slot = self
                        .replica_sets
                        .iter_mut()
                        .find(|rs| object::uid(rs) == object::uid(&object))
                        .unwrap();
                    *slot = object;
                }
                Intent::Update {
                    kind: Kind::Deployment,
                    object,
                } => {
                    self.deployment["metadata"] = object["metadata"].clone();
                }
                Intent::UpdateStatus {
                    kind: Kind::Deployment,
                    object,
                } => {
                    self.deployment["status"] = object["status"].clone();
                }
                Intent::Delete {
                    kind: Kind::Pod,
                    name,
                    ..
                } => self.pods.retain(|p| object::name(p) != name),
                Intent::Delete {
                    kind: Kind::ReplicaSet,
                    name,
                    ..
                } => self.replica_sets.retain(|p| object::name(p) != name),
                Intent::RecheckAt { .. } => {}
                other => panic!("unexpected intent {other:?}"),
            }
        }
    }

    /// One round of every controller; returns whether anything was written.
    fn round(&mut self, now: Timestamp) -> bool {
        let before = (
            self.deployment.clone(),
            self.replica_sets.clone(),
            self.pods.len(),
        );
        let intents = decide_deployment(&self.deployment, &self.replica_sets, &self.pods, now);
        self.apply(intents);
        for rs in self.replica_sets.clone() {
            let intents = decide_replica_set(&rs, &self.pods, now);
            self.apply(intents);
        }
        before
            != (
                self.deployment.clone(),
                self.replica_sets.clone(),
                self.pods.len(),
            )
    }

    fn settle(&mut self, now: Timestamp) {
        for _ in 0..100 {
            if !self.round(now) {
                return;
            }
            self.check_bounds();
        }
        panic!("world did not settle: {:#}", self.deployment);
    }

    /// Rolling-update invariants: never more than replicas + maxSurge pods (25% of 4 → 1).
    fn check_bounds(&self) {
        let replicas = object::int_at(&self.deployment, "/spec/replicas", 1);
        let total: i64 = self
            .replica_sets
            .iter()
            .map(|rs| object::int_at(rs, "/spec/replicas", 0))
            .sum();
        assert!(
            total <= replicas + 1,
            "surged past maxSurge: {total} > {replicas} + 1"
        );
    }

    fn images(&self) -> Vec<String> {
        let mut images: Vec<String> = self
            .pods
            .iter()
            .map(|p| {
                p["spec"]["containers"][0]["image"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        images.sort();
        images
    }
}

#[test]
fn a_new_deployment_gets_a_hashed_replica_set_with_revision_one() {
    let intents = decide_deployment(&deployment(3, "web:1"), &[], &[], at(0));
    let sets = created(&intents, Kind::ReplicaSet);
    assert_eq!(sets.len(), 1);
    let rs = &sets[0];
    let hash = rs["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap();
    assert_eq!(rs["metadata"]["name"], format!("web-{hash}"));
    assert_eq!(rs["spec"]["replicas"], 3);
    assert_eq!(
        rs["spec"]["selector"]["matchLabels"],
        json!({"app": "web", "pod-template-hash": hash})
    );
    assert_eq!(
        rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"],
        hash
    );
    assert_eq!(rs["metadata"]["annotations"][REVISION], "1");
    assert_eq!(rs["metadata"]["annotations"][DESIRED_REPLICAS], "3");
    assert_eq!(rs["metadata"]["annotations"][MAX_REPLICAS], "4");
    assert_eq!(rs["metadata"]["annotations"]["team"], "a");
    assert!(
        rs["metadata"]["annotations"]
            .get("kubectl.kubernetes.io/last-applied-configuration")
            .is_none()
    );
    assert_eq!(rs["metadata"]["ownerReferences"][0]["kind"], "Deployment");
    let status = written_status(&intents, Kind::Deployment);
    assert_eq!(
        status_condition(&status, "Progressing")["reason"],
        reason::NEW_REPLICA_SET_CREATED
    );
    assert_eq!(status_condition(&status, "Available")["status"], "False");
    assert_eq!(status["unavailableReplicas"], 3);
}

#[test]
fn a_deployment_becomes_available_and_complete_once_its_pods_are_ready() {
    let mut world = World::new(deployment(3, "web:1"));
    world.settle(at(0));
    let status = &world.deployment["status"];
    assert_eq!(status["replicas"], 3);
    assert_eq!(status["updatedReplicas"], 3);
    assert_eq!(status["readyReplicas"], 3);
    assert_eq!(status["availableReplicas"], 3);
    assert!(status.get("unavailableReplicas").is_none());
    assert_eq!(status["observedGeneration"], 1);
    let available = status_condition(status, "Available");
    assert_eq!(
        (available["status"].as_str(), available["reason"].as_str()),
        (Some("True"), Some(reason::MINIMUM_REPLICAS_AVAILABLE))
    );
    let progressing = status_condition(status, "Progressing");
    assert_eq!(progressing["reason"], reason::NEW_REPLICA_SET_AVAILABLE);
    assert!(
        progressing["message"]
            .as_str()
            .unwrap()
            .ends_with("has successfully progressed.")
    );
    assert_eq!(world.deployment["metadata"]["annotations"][REVISION], "1");
}

#[test]
fn a_template_change_rolls_within_max_surge_and_scales_the_old_set_to_zero() {
    let mut world = World::new(deployment(4, "web:1"));
    world.settle(at(0));
    world.deployment["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:2");
    world.deployment["metadata"]["generation"] = json!(2);
    world.settle(at(1000));
    assert_eq!(world.images(), vec!["web:2"; 4]);
    assert_eq!(world.replica_sets.len(), 2);
    let old = world
        .replica_sets
        .iter()
        .find(|rs| rs["spec"]["template"]["spec"]["containers"][0]["image"] == "web:1")
        .unwrap();
    assert_eq!(old["spec"]["replicas"], 0);
    let new = world
        .replica_sets
        .iter()
        .find(|rs| rs["spec"]["template"]["spec"]["containers"][0]["image"] == "web:2")
        .unwrap();
    assert_eq!(new["metadata"]["annotations"][REVISION], "2");
    assert_eq!(world.deployment["metadata"]["annotations"][REVISION], "2");
    assert_eq!(
        status_condition(&world.deployment["status"], "Progressing")["reason"],
        reason::NEW_REPLICA_SET_AVAILABLE
    );
}

#[test]
fn a_rollback_to_an_old_template_reuses_its_replica_set_with_a_new_revision() {
    let mut world = World::new(deployment(2, "web:1"));
    world.settle(at(0));
    world.deployment["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:2");
    world.settle(at(1000));
    world.deployment["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:1");
    world.settle(at(2000));
    assert_eq!(world.replica_sets.len(), 2);
    assert_eq!(world.images(), vec!["web:1"; 2]);
    assert_eq!(world.deployment["metadata"]["annotations"][REVISION], "3");
}

#[test]
fn unready_new_pods_stall_the_rollout_within_max_unavailable() {
    let mut world = World::new(deployment(4, "web:1"));
    world.settle(at(0));
    world.pods_ready = false;
    world.deployment["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:2");
    world.settle(at(1000));
    // maxSurge 1 and maxUnavailable 1: one surge pod plus one old pod replaced, then stuck.
    let old_available: i64 = world
        .pods
        .iter()
        .filter(|p| p["spec"]["containers"][0]["image"] == "web:1")
        .count() as i64;
    assert_eq!(old_available, 3);
    let status = &world.deployment["status"];
    assert_eq!(status["updatedReplicas"], 2);
    assert_eq!(status_condition(status, "Available")["status"], "True");
    assert_eq!(
        status_condition(status, "Progressing")["reason"],
        reason::REPLICA_SET_UPDATED
    );
}

#[test]
fn no_progress_past_the_deadline_sets_progress_deadline_exceeded() {
    let mut d = deployment(1, "web:1");
    d["spec"]["progressDeadlineSeconds"] = json!(30);
    let mut world = World::new(d);
    world.pods_ready = false;
    world.settle(at(0));
    let intents = decide_deployment(
        &world.deployment,
        &world.replica_sets,
        &world.pods,
        at(5_000),
    );
    assert!(
        intents
            .iter()
            .all(|i| matches!(i, Intent::RecheckAt { .. })),
        "{intents:#?}"
    );
    assert_eq!(recheck(&intents), Some(at(31_000)));
    world.settle(at(31_000));
    let progressing = status_condition(&world.deployment["status"], "Progressing");
    assert_eq!(progressing["status"], "False");
    assert_eq!(progressing["reason"], reason::PROGRESS_DEADLINE_EXCEEDED);
    assert!(
        progressing["message"]
            .as_str()
            .unwrap()
            .ends_with("has timed out progressing.")
    );
    assert_eq!(
        status_condition(&world.deployment["status"], "Available")["reason"],
        reason::MINIMUM_REPLICAS_UNAVAILABLE
    );
}

#[test]
fn recreate_scales_old_pods_away_before_creating_the_new_set() {
    let mut d = deployment(2, "web:1");
    d["spec"]["strategy"] = json!({"type": "Recreate"});
    let mut world = World::new(d);
    world.settle(at(0));
    world.deployment["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:2");
    let intents = decide_deployment(
        &world.deployment,
        &world.replica_sets,
        &world.pods,
        at(1000),
    );
    assert!(
        created(&intents, Kind::ReplicaSet).is_empty(),
        "old pods still run"
    );
    world.apply(intents);
    // Old pods still exist until their ReplicaSet deletes them: still no new set.
    let intents = decide_deployment(
        &world.deployment,
        &world.replica_sets,
        &world.pods,
        at(1000),
    );
    assert!(created(&intents, Kind::ReplicaSet).is_empty());
    world.settle(at(1000));
    assert_eq!(world.images(), vec!["web:2"; 2]);
}

#[test]
fn a_paused_deployment_does_not_roll_and_says_so() {
    let mut world = World::new(deployment(2, "web:1"));
    world.settle(at(0));
    world.deployment["spec"]["paused"] = json!(true);
    world.deployment["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:2");
    world.settle(at(1000));
    assert_eq!(world.images(), vec!["web:1"; 2]);
    let progressing = status_condition(&world.deployment["status"], "Progressing");
    assert_eq!(
        (
            progressing["status"].as_str(),
            progressing["reason"].as_str()
        ),
        (Some("Unknown"), Some(reason::DEPLOYMENT_PAUSED))
    );
    world.deployment["spec"]["paused"] = json!(false);
    world.settle(at(2000));
    assert_eq!(world.images(), vec!["web:2"; 2]);
    assert_eq!(
        status_condition(&world.deployment["status"], "Progressing")["reason"],
        reason::NEW_REPLICA_SET_AVAILABLE
    );
}

#[test]
fn scaling_changes_the_replica_set_without_a_new_revision() {
    let mut world = World::new(deployment(2, "web:1"));
    world.settle(at(0));
    world.deployment["spec"]["replicas"] = json!(5);
    world.settle(at(1000));
    assert_eq!(world.pods.len(), 5);
    world.deployment["spec"]["replicas"] = json!(1);
    world.settle(at(2000));
    assert_eq!(world.pods.len(), 1);
    assert_eq!(world.replica_sets.len(), 1);
    assert_eq!(
        world.replica_sets[0]["metadata"]["annotations"][DESIRED_REPLICAS],
        "1"
    );
}

#[test]
fn an_unready_pod_after_completion_drops_availability_but_keeps_progress_complete() {
    let mut world = World::new(deployment(1, "web:1"));
    world.settle(at(0));
    world.pods[0]["status"]["conditions"][0]["status"] = json!("False");
    world.settle(at(1000));
    let status = &world.deployment["status"];
    assert_eq!(status_condition(status, "Available")["status"], "False");
    assert_eq!(
        status_condition(status, "Progressing")["reason"],
        reason::NEW_REPLICA_SET_AVAILABLE
    );
}

#[test]
fn old_replica_sets_beyond_the_history_limit_are_deleted() {
    let mut d = deployment(1, "web:1");
    d["spec"]["revisionHistoryLimit"] = json!(1);
    let mut world = World::new(d);
    for (i, image) in ["web:1", "web:2", "web:3", "web:4"].iter().enumerate() {
        world.deployment["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
        world.settle(at(i as u64 * 1000));
    }
    assert_eq!(
        world.replica_sets.len(),
        2,
        "the current set and one old one"
    );
}

#[test]
fn a_deleting_deployment_is_left_alone() {
    let mut d = deployment(1, "web:1");
    d["metadata"]["deletionTimestamp"] = json!("2026-03-01T10:00:00Z");
    assert!(decide_deployment(&d, &[], &[], at(0)).is_empty());
}

#[test]
fn percentages_resolve_like_kubernetes_fenceposts() {
    assert_eq!(resolve_int_or_percent(Some(&json!("25%")), 10, true), 3);
    assert_eq!(resolve_int_or_percent(Some(&json!("25%")), 10, false), 2);
    assert_eq!(resolve_int_or_percent(Some(&json!(2)), 10, false), 2);
    assert_eq!(resolve_int_or_percent(None, 1, false), 0);
    let d = json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}}});
    assert_eq!(
        strategy(&d, 3),
        Strategy::RollingUpdate {
            max_surge: 0,
            max_unavailable: 1
        }
    );
}
