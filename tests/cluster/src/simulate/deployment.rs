//! The Deployment controller: one ReplicaSet per pod template, rolled per strategy, and the
//! Deployment's status with the `Available` and `Progressing` conditions Kubernetes sets.
//!
//! Follows kube-controller-manager's `rolloutRolling` / `rolloutRecreate` / `sync` and
//! `syncRolloutStatus`: a pass either scales up the new ReplicaSet or scales down old ones (never
//! both), and progress is estimated against the previous status with `progressDeadlineSeconds`.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::intent::{Intent, Kind, earliest_recheck, status_update};
use super::object::{self, owner_reference};
use super::podtemplate::{POD_TEMPLATE_HASH, pod_template_hash, templates_equal_ignoring_hash};
use super::time::{Timestamp, add, format_time, time_at};

/// Annotation holding the rollout revision on Deployments and ReplicaSets.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// Annotation with the Deployment's replicas on its ReplicaSets.
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// Annotation with replicas + maxSurge on its ReplicaSets.
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";

/// Condition reasons, as kube-controller-manager spells them.
pub mod reason {
    /// Progressing: the new ReplicaSet was just created.
    pub const NEW_REPLICA_SET_CREATED: &str = "NewReplicaSetCreated";
    /// Progressing: an existing new ReplicaSet was adopted as the rollout target.
    pub const FOUND_NEW_REPLICA_SET: &str = "FoundNewReplicaSet";
    /// Progressing: the rollout made progress.
    pub const REPLICA_SET_UPDATED: &str = "ReplicaSetUpdated";
    /// Progressing: the rollout completed.
    pub const NEW_REPLICA_SET_AVAILABLE: &str = "NewReplicaSetAvailable";
    /// Progressing false: no progress within `progressDeadlineSeconds`.
    pub const PROGRESS_DEADLINE_EXCEEDED: &str = "ProgressDeadlineExceeded";
    /// Progressing unknown: paused.
    pub const DEPLOYMENT_PAUSED: &str = "DeploymentPaused";
    /// Progressing unknown: resumed.
    pub const DEPLOYMENT_RESUMED: &str = "DeploymentResumed";
    /// Available true.
    pub const MINIMUM_REPLICAS_AVAILABLE: &str = "MinimumReplicasAvailable";
    /// Available false.
    pub const MINIMUM_REPLICAS_UNAVAILABLE: &str = "MinimumReplicasUnavailable";
}

/// `kubectl.kubernetes.io/last-applied-configuration` and the controller's own annotations
/// are not copied from a Deployment to its ReplicaSets.
const NOT_COPIED: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    DESIRED_REPLICAS,
    MAX_REPLICAS,
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Strategy {
    Recreate,
    RollingUpdate {
        max_surge: i64,
        max_unavailable: i64,
    },
}

/// Decides ReplicaSet changes and the status of `deployment` from the namespace's ReplicaSets
/// and pods.
pub fn decide_deployment(
    deployment: &Value,
    replica_sets: &[Value],
    pods: &[Value],
    now: Timestamp,
) -> Vec<Intent> {
    if object::is_deleting(deployment) {
        return Vec::new();
    }
    let replicas = object::int_at(deployment, "/spec/replicas", 1).max(0);
    let paused = deployment
        .pointer("/spec/paused")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let strategy = strategy(deployment, replicas);
    let template = deployment
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let collision_count = deployment
        .pointer("/status/collisionCount")
        .and_then(Value::as_i64);
    let hash = pod_template_hash(&template, collision_count);

    let owned: Vec<&Value> = replica_sets
        .iter()
        .filter(|rs| object::is_controlled_by(rs, deployment) && !object::is_deleting(rs))
        .collect();
    let mut new_rs: Option<Value> = owned
        .iter()
        .find(|rs| {
            templates_equal_ignoring_hash(
                rs.pointer("/spec/template").unwrap_or(&Value::Null),
                &template,
            )
        })
        .map(|rs| (*rs).clone());
    let mut old: Vec<Value> = owned
        .iter()
        .filter(|rs| {
            new_rs
                .as_ref()
                .is_none_or(|n| object::uid(n) != object::uid(rs))
        })
        .map(|rs| (*rs).clone())
        .collect();
    old.sort_by_key(|rs| time_at(rs, "/metadata/creationTimestamp"));

    let mut intents = Vec::new();
    let mut status_base = deployment
        .get("status")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut conditions: Vec<Value> = status_base
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut created_new = false;
    let mut collided = false;
    let max_old_revision = old.iter().map(revision).max().unwrap_or(0);

    // Revision bookkeeping: the new ReplicaSet always carries the highest revision.
    if let Some(rs) = &new_rs
        && revision(rs) <= max_old_revision
    {
        let mut updated = rs.clone();
        set_annotation(&mut updated, REVISION, &(max_old_revision + 1).to_string());
        intents.push(Intent::Update {
            kind: Kind::ReplicaSet,
            object: updated.clone(),
        });
        new_rs = Some(updated);
    }

    let mut scaled_up = false;
    if !paused {
        let create_now = match strategy {
            Strategy::RollingUpdate { .. } => new_rs.is_none(),
            // Recreate creates the new ReplicaSet only once every old pod is gone.
            Strategy::Recreate => {
                new_rs.is_none()
                    && old.iter().all(|rs| spec_replicas(rs) == 0)
                    && !old_pods_running(&old, pods)
            }
        };
        if create_now {
            let name = format!("{}-{}", object::name(deployment), hash);
            if replica_sets.iter().any(|rs| object::name(rs) == name) {
                // Same name, different template: bump the collision count so the hash changes.
                collided = true;
                status_base["collisionCount"] = json!(collision_count.unwrap_or(0) + 1);
            } else {
                let all: Vec<&Value> = old.iter().collect();
                let initial = match strategy {
                    Strategy::Recreate => replicas,
                    Strategy::RollingUpdate { max_surge, .. } => {
                        new_replicas(replicas, max_surge, &all, 0)
                    }
                };
                let rs = new_replica_set(
                    deployment,
                    &template,
                    &hash,
                    initial,
                    max_old_revision + 1,
                    strategy,
                );
                intents.push(Intent::Create {
                    kind: Kind::ReplicaSet,
                    object: rs.clone(),
                });
                set_deployment_condition(
                    &mut conditions,
                    deployment_condition(
                        "Progressing",
                        "True",
                        reason::NEW_REPLICA_SET_CREATED,
                        &format!("Created new replica set \"{}\"", object::name(&rs)),
                        now,
                    ),
                );
                new_rs = Some(rs);
                created_new = true;
                scaled_up = initial > 0;
            }
        } else if let Some(rs) = &new_rs
            && object::condition(deployment, "Progressing").is_none()
        {
            set_deployment_condition(
                &mut conditions,
                deployment_condition(
                    "Progressing",
                    "True",
                    reason::FOUND_NEW_REPLICA_SET,
                    &format!("Found new replica set \"{}\"", object::name(rs)),
                    now,
                ),
            );
        }
    }

    // Planned `spec.replicas` per ReplicaSet: the new one (if it already existed) and the old ones.
    let mut scales: Vec<(Value, i64)> = Vec::new();
    if !paused && !created_new && !collided {
        match strategy {
            Strategy::RollingUpdate {
                max_surge,
                max_unavailable,
            } => {
                if let Some(rs) = &new_rs {
                    let current = spec_replicas(rs);
                    let target = if current > replicas {
                        replicas
                    } else {
                        let mut all: Vec<&Value> = old.iter().collect();
                        all.push(rs);
                        new_replicas(replicas, max_surge, &all, current)
                    };
                    if target != current {
                        scales.push((rs.clone(), target));
                        scaled_up = target > current;
                    }
                    if !scaled_up {
                        scales.extend(scale_down_old(replicas, max_unavailable, rs, &old));
                    }
                }
            }
            Strategy::Recreate => {
                let active_old: Vec<&Value> =
                    old.iter().filter(|rs| spec_replicas(rs) > 0).collect();
                if !active_old.is_empty() {
                    scales.extend(active_old.into_iter().map(|rs| (rs.clone(), 0)));
                } else if let Some(rs) = &new_rs
                    && !old_pods_running(&old, pods)
                    && spec_replicas(rs) != replicas
                {
                    scales.push((rs.clone(), replicas));
                }
            }
        }
    } else if paused
        && let Some(rs) = &new_rs
        && old.iter().all(|o| spec_replicas(o) == 0)
        && spec_replicas(rs) != replicas
    {
        // Paused: scaling still applies when no rollout is in flight.
        scales.push((rs.clone(), replicas));
    }
    let max_surge = match strategy {
        Strategy::RollingUpdate { max_surge, .. } => max_surge,
        Strategy::Recreate => 0,
    };
    for (rs, target) in scales {
        let mut updated = new_rs
            .as_ref()
            .filter(|n| object::uid(n) == object::uid(&rs))
            .cloned()
            .unwrap_or(rs);
        updated["spec"]["replicas"] = json!(target);
        set_annotation(&mut updated, DESIRED_REPLICAS, &replicas.to_string());
        set_annotation(
            &mut updated,
            MAX_REPLICAS,
            &(replicas + max_surge).to_string(),
        );
        intents.retain(|i| !matches!(i, Intent::Update { kind: Kind::ReplicaSet, object } if object::uid(object) == object::uid(&updated)));
        intents.push(Intent::Update {
            kind: Kind::ReplicaSet,
            object: updated,
        });
    }

    // The Deployment carries its new ReplicaSet's revision.
    if let Some(rs) = &new_rs {
        let rs_revision = revision(rs).to_string();
        if object::annotation(deployment, REVISION) != Some(rs_revision.as_str()) {
            let mut updated = deployment.clone();
            updated.as_object_mut().map(|o| o.remove("status"));
            set_annotation(&mut updated, REVISION, &rs_revision);
            intents.push(Intent::Update {
                kind: Kind::Deployment,
                object: updated,
            });
        }
    }

    // Status from observed ReplicaSet statuses (a just-created set counts as empty).
    let all: Vec<&Value> = old.iter().chain(new_rs.iter()).collect();
    let sum = |values: &[&Value], pointer: &str| {
        values
            .iter()
            .map(|rs| object::int_at(rs, pointer, 0))
            .sum::<i64>()
    };
    let total_spec: i64 = all.iter().map(|rs| spec_replicas(rs)).sum();
    let available = sum(&all, "/status/availableReplicas");
    let new_status_replicas = new_rs
        .as_ref()
        .map(|rs| object::int_at(rs, "/status/replicas", 0))
        .unwrap_or(0);
    let mut status = Map::new();
    status.insert(
        "observedGeneration".into(),
        json!(object::generation(deployment)),
    );
    status.insert("replicas".into(), json!(sum(&all, "/status/replicas")));
    status.insert("updatedReplicas".into(), json!(new_status_replicas));
    status.insert(
        "readyReplicas".into(),
        json!(sum(&all, "/status/readyReplicas")),
    );
    status.insert("availableReplicas".into(), json!(available));
    status.insert(
        "unavailableReplicas".into(),
        json!((total_spec - available).max(0)),
    );
    status.retain(|_, v| v != &json!(0));
    if let Some(count) = status_base.get("collisionCount") {
        status.insert("collisionCount".into(), count.clone());
    }

    let max_unavailable = match strategy {
        Strategy::RollingUpdate {
            max_unavailable, ..
        } => max_unavailable,
        Strategy::Recreate => 0,
    };
    if available >= replicas - max_unavailable {
        set_deployment_condition(
            &mut conditions,
            deployment_condition(
                "Available",
                "True",
                reason::MINIMUM_REPLICAS_AVAILABLE,
                "Deployment has minimum availability.",
                now,
            ),
        );
    } else {
        set_deployment_condition(
            &mut conditions,
            deployment_condition(
                "Available",
                "False",
                reason::MINIMUM_REPLICAS_UNAVAILABLE,
                "Deployment does not have minimum availability.",
                now,
            ),
        );
    }

    let current = object::condition(deployment, "Progressing").cloned();
    let current_reason = current
        .as_ref()
        .and_then(|c| c.get("reason"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut recheck = None;
    if paused {
        if current_reason != reason::PROGRESS_DEADLINE_EXCEEDED
            && current_reason != reason::DEPLOYMENT_PAUSED
        {
            set_deployment_condition(
                &mut conditions,
                deployment_condition(
                    "Progressing",
                    "Unknown",
                    reason::DEPLOYMENT_PAUSED,
                    "Deployment is paused",
                    now,
                ),
            );
        }
    } else {
        if current_reason == reason::DEPLOYMENT_PAUSED {
            set_deployment_condition(
                &mut conditions,
                deployment_condition(
                    "Progressing",
                    "Unknown",
                    reason::DEPLOYMENT_RESUMED,
                    "Deployment is resumed",
                    now,
                ),
            );
        }
        let deadline = deployment
            .pointer("/spec/progressDeadlineSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(600);
        let new_name = new_rs.as_ref().map(object::name).unwrap_or("");
        let status_value = Value::Object(status.clone());
        let count = |pointer: &str| object::int_at(&status_value, pointer, 0);
        let old_status = deployment
            .get("status")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let old_count = |pointer: &str| object::int_at(&old_status, pointer, 0);
        let is_complete_rollout = count("/replicas") == count("/updatedReplicas")
            && current_reason == reason::NEW_REPLICA_SET_AVAILABLE;
        if deadline != i64::from(i32::MAX) && !is_complete_rollout {
            let complete = count("/updatedReplicas") == replicas
                && count("/replicas") == replicas
                && count("/availableReplicas") == replicas;
            let progressing = count("/updatedReplicas") > old_count("/updatedReplicas")
                || count("/replicas") - count("/updatedReplicas")
                    < old_count("/replicas") - old_count("/updatedReplicas")
                || count("/readyReplicas") > old_count("/readyReplicas")
                || count("/availableReplicas") > old_count("/availableReplicas");
            let progressing_now = conditions
                .iter()
                .find(|c| c["type"] == "Progressing")
                .cloned();
            if complete {
                set_deployment_condition(
                    &mut conditions,
                    deployment_condition(
                        "Progressing",
                        "True",
                        reason::NEW_REPLICA_SET_AVAILABLE,
                        &format!("ReplicaSet \"{new_name}\" has successfully progressed."),
                        now,
                    ),
                );
            } else if progressing {
                // Progress refreshes lastUpdateTime even when the reason stays the same.
                let mut condition = deployment_condition(
                    "Progressing",
                    "True",
                    reason::REPLICA_SET_UPDATED,
                    &format!("ReplicaSet \"{new_name}\" is progressing."),
                    now,
                );
                if let Some(previous) = &progressing_now
                    && previous["status"] == "True"
                {
                    condition["lastTransitionTime"] = previous["lastTransitionTime"].clone();
                }
                conditions.retain(|c| c["type"] != "Progressing");
                conditions.push(condition);
            } else if let Some(previous) = &progressing_now {
                let previous_reason = previous["reason"].as_str().unwrap_or("");
                let timed_out = previous_reason == reason::PROGRESS_DEADLINE_EXCEEDED
                    || (previous_reason != reason::NEW_REPLICA_SET_AVAILABLE
                        && time_at(previous, "/lastUpdateTime").is_some_and(|t| {
                            add(t, Duration::from_secs(deadline.max(0) as u64)) < now
                        }));
                if timed_out {
                    set_deployment_condition(
                        &mut conditions,
                        deployment_condition(
                            "Progressing",
                            "False",
                            reason::PROGRESS_DEADLINE_EXCEEDED,
                            &format!("ReplicaSet \"{new_name}\" has timed out progressing."),
                            now,
                        ),
                    );
                } else if previous_reason != reason::NEW_REPLICA_SET_AVAILABLE {
                    // Look again just after the deadline (timestamps have whole seconds).
                    recheck = time_at(previous, "/lastUpdateTime")
                        .map(|t| add(t, Duration::from_secs(deadline.max(0) as u64 + 1)));
                }
            }
            if complete {
                intents.extend(cleanup_old(deployment, &old));
            }
        }
    }

    status.insert("conditions".into(), Value::Array(conditions));
    intents.extend(status_update(
        Kind::Deployment,
        deployment,
        Value::Object(status),
    ));
    intents.extend(earliest_recheck(now, recheck));
    intents
}

/// Strategy with maxSurge/maxUnavailable resolved against `replicas` like `ResolveFenceposts`.
fn strategy(deployment: &Value, replicas: i64) -> Strategy {
    let strategy = deployment.pointer("/spec/strategy");
    if strategy.and_then(|s| s.get("type")).and_then(Value::as_str) == Some("Recreate") {
        return Strategy::Recreate;
    }
    let rolling = strategy.and_then(|s| s.get("rollingUpdate"));
    let max_surge = resolve_int_or_percent(rolling.and_then(|r| r.get("maxSurge")), replicas, true);
    let mut max_unavailable = resolve_int_or_percent(
        rolling.and_then(|r| r.get("maxUnavailable")),
        replicas,
        false,
    );
    if max_surge == 0 && max_unavailable == 0 {
        max_unavailable = 1;
    }
    Strategy::RollingUpdate {
        max_surge,
        max_unavailable,
    }
}

/// An IntOrString (default 25%) as a count of `total`.
fn resolve_int_or_percent(value: Option<&Value>, total: i64, round_up: bool) -> i64 {
    match value {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) if s.ends_with('%') => {
            let percent: i64 = s.trim_end_matches('%').parse().unwrap_or(25);
            percent_of(percent, total, round_up)
        }
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => percent_of(25, total, round_up),
    }
}

fn percent_of(percent: i64, total: i64, round_up: bool) -> i64 {
    let scaled = percent * total;
    if round_up {
        (scaled + 99) / 100
    } else {
        scaled / 100
    }
}

fn spec_replicas(rs: &Value) -> i64 {
    object::int_at(rs, "/spec/replicas", 1)
}

fn revision(rs: &Value) -> i64 {
    object::annotation(rs, REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn set_annotation(object: &mut Value, key: &str, value: &str) {
    if !object["metadata"]["annotations"].is_object() {
        object["metadata"]["annotations"] = json!({});
    }
    object["metadata"]["annotations"][key] = json!(value);
}

/// `NewRSNewReplicas` for RollingUpdate: how far the new set may grow within maxSurge.
fn new_replicas(replicas: i64, max_surge: i64, all: &[&Value], new_current: i64) -> i64 {
    let current_total: i64 = all.iter().map(|rs| spec_replicas(rs)).sum();
    let max_total = replicas + max_surge;
    if current_total >= max_total {
        return new_current;
    }
    let scale_up = (max_total - current_total).min(replicas - new_current);
    new_current + scale_up.max(0)
}

/// `reconcileOldReplicaSets`: unhealthy old replicas first, then available ones, never below
/// `replicas - maxUnavailable` available pods.
fn scale_down_old(
    replicas: i64,
    max_unavailable: i64,
    new_rs: &Value,
    old: &[Value],
) -> Vec<(Value, i64)> {
    let old_total: i64 = old.iter().map(spec_replicas).sum();
    if old_total == 0 {
        return Vec::new();
    }
    let mut planned: Vec<i64> = old.iter().map(spec_replicas).collect();
    let all_total = old_total + spec_replicas(new_rs);
    let min_available = replicas - max_unavailable;
    let new_unavailable =
        spec_replicas(new_rs) - object::int_at(new_rs, "/status/availableReplicas", 0);
    let max_scaled_down = all_total - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return Vec::new();
    }
    let mut cleaned = 0;
    for (rs, target) in old.iter().zip(planned.iter_mut()) {
        if cleaned >= max_scaled_down {
            break;
        }
        let unhealthy = *target - object::int_at(rs, "/status/availableReplicas", 0);
        if *target == 0 || unhealthy <= 0 {
            continue;
        }
        let count = (max_scaled_down - cleaned).min(unhealthy);
        *target -= count;
        cleaned += count;
    }
    let available: i64 = old
        .iter()
        .chain(std::iter::once(new_rs))
        .map(|rs| object::int_at(rs, "/status/availableReplicas", 0))
        .sum();
    if available > min_available {
        let total_scale_down = available - min_available;
        let mut scaled = 0;
        for target in planned.iter_mut() {
            if scaled >= total_scale_down {
                break;
            }
            if *target == 0 {
                continue;
            }
            let count = (*target).min(total_scale_down - scaled);
            *target -= count;
            scaled += count;
        }
    }
    old.iter()
        .zip(planned)
        .filter(|(rs, target)| spec_replicas(rs) != *target)
        .map(|(rs, target)| (rs.clone(), target))
        .collect()
}

/// Whether any pod of an old ReplicaSet is still not terminal (Recreate waits for none).
fn old_pods_running(old: &[Value], pods: &[Value]) -> bool {
    pods.iter().any(|pod| {
        old.iter().any(|rs| object::is_controlled_by(pod, rs)) && !object::pod_is_terminal(pod)
    })
}

/// The new ReplicaSet for the current template.
fn new_replica_set(
    deployment: &Value,
    template: &Value,
    hash: &str,
    replicas: i64,
    revision: i64,
    strategy: Strategy,
) -> Value {
    let mut template = template.clone();
    if !template["metadata"]["labels"].is_object() {
        template["metadata"]["labels"] = json!({});
    }
    template["metadata"]["labels"][POD_TEMPLATE_HASH] = json!(hash);
    let mut selector = deployment
        .pointer("/spec/selector")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if !selector["matchLabels"].is_object() {
        selector["matchLabels"] = json!({});
    }
    selector["matchLabels"][POD_TEMPLATE_HASH] = json!(hash);
    let mut annotations: Map<String, Value> = deployment
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .map(|a| {
            a.iter()
                .filter(|(k, _)| !NOT_COPIED.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let desired = object::int_at(deployment, "/spec/replicas", 1);
    let surge = match strategy {
        Strategy::RollingUpdate { max_surge, .. } => max_surge,
        Strategy::Recreate => 0,
    };
    annotations.insert(REVISION.into(), json!(revision.to_string()));
    annotations.insert(DESIRED_REPLICAS.into(), json!(desired.to_string()));
    annotations.insert(MAX_REPLICAS.into(), json!((desired + surge).to_string()));
    let mut spec = json!({"replicas": replicas, "selector": selector, "template": template});
    if let Some(min_ready) = deployment.pointer("/spec/minReadySeconds") {
        spec["minReadySeconds"] = min_ready.clone();
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{}-{hash}", object::name(deployment)),
            "namespace": object::namespace(deployment),
            "labels": template["metadata"]["labels"],
            "annotations": annotations,
            "ownerReferences": [owner_reference(deployment, "apps/v1", "Deployment")],
        },
        "spec": spec,
    })
}

/// Deletes scaled-down old ReplicaSets beyond `revisionHistoryLimit` (default 10), oldest revision first.
fn cleanup_old(deployment: &Value, old: &[Value]) -> Vec<Intent> {
    let limit = object::int_at(deployment, "/spec/revisionHistoryLimit", 10).max(0) as usize;
    let mut idle: Vec<&Value> = old
        .iter()
        .filter(|rs| spec_replicas(rs) == 0 && object::int_at(rs, "/status/replicas", 0) == 0)
        .collect();
    if idle.len() <= limit {
        return Vec::new();
    }
    idle.sort_by_key(|rs| revision(rs));
    idle[..idle.len() - limit]
        .iter()
        .map(|rs| Intent::delete(Kind::ReplicaSet, rs))
        .collect()
}

fn deployment_condition(
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> Value {
    json!({
        "type": kind,
        "status": status,
        "lastUpdateTime": format_time(now),
        "lastTransitionTime": format_time(now),
        "reason": reason,
        "message": message,
    })
}

/// `SetDeploymentCondition`: same status and reason keeps the old condition; same status keeps
/// its transition time; otherwise the condition moves to the end.
fn set_deployment_condition(conditions: &mut Vec<Value>, mut condition: Value) {
    if let Some(current) = conditions.iter().find(|c| c["type"] == condition["type"]) {
        if current["status"] == condition["status"] && current["reason"] == condition["reason"] {
            return;
        }
        if current["status"] == condition["status"] {
            condition["lastTransitionTime"] = current["lastTransitionTime"].clone();
        }
    }
    conditions.retain(|c| c["type"] != condition["type"]);
    conditions.push(condition);
}

#[cfg(test)]
#[path = "deployment_tests.rs"]
mod tests;
