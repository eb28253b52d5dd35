//! The kubelet's part: a pod's phase, container states, conditions and IPs over its scripted
//! timeline, or over the reports of a runner that really runs it.
//!
//! Timeline of a simulated pod started at `S`: Running from `S`; Ready at `S + ready_after`
//! (never when scripted so); unready for good at `ready + unready_after`. A run-to-completion pod
//! (`restartPolicy` Never or OnFailure) terminates at `S + complete_after` with the scripted
//! outcome. A really-run pod reports whatever its runner reports, with the same Ready timeline
//! while its containers run.
//!
//! Init containers run one after the other before the containers: the pod stays `Pending`
//! (`Initialized=False`, the containers waiting with `PodInitializing`) until every init
//! container exited 0, and a failing init container fails the pod (run-to-completion pods; any
//! pod here, as restarts are not simulated) with its termination state in
//! `status.initContainerStatuses`. Simulated init containers succeed at the pod's start.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::intent::{Intent, Kind, earliest_recheck, status_update};
use super::object::{self, keep_transition_times, pod_condition};
use super::script::{PodBehaviour, RunMode};
use super::time::{Timestamp, add, format_time};

/// One container's state as a runner (or the simulated timeline) reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum ContainerRun {
    /// Not started: `ContainerCreating`, `ErrImagePull`, `CreateContainerConfigError`, …
    Waiting { reason: String, message: String },
    /// Running since `started_at`.
    Running { started_at: Timestamp },
    /// Exited.
    Terminated {
        exit_code: i32,
        reason: String,
        message: String,
        started_at: Timestamp,
        finished_at: Timestamp,
    },
}

impl ContainerRun {
    /// A terminated state with Kubernetes' reason for the exit code (`Completed` or `Error`).
    pub fn exited(
        exit_code: i32,
        message: String,
        started_at: Timestamp,
        finished_at: Timestamp,
    ) -> ContainerRun {
        let reason = if exit_code == 0 { "Completed" } else { "Error" };
        ContainerRun::Terminated {
            exit_code,
            reason: reason.into(),
            message,
            started_at,
            finished_at,
        }
    }
}

/// What the kubelet remembers about a pod it admitted (in memory, like the real kubelet).
#[derive(Debug, Clone, PartialEq)]
pub struct PodRuntime {
    /// When the kubelet started the pod (precise; the API shows whole seconds).
    pub started_at: Timestamp,
    /// The pod's IP.
    pub pod_ip: String,
    /// The node's IP.
    pub host_ip: String,
    /// Whether a runner was started for the pod.
    pub run_started: bool,
    /// The runner's latest report per container name (really-run pods only).
    pub containers: BTreeMap<String, ContainerRun>,
}

/// Whether a pod runs to completion (Jobs) rather than being restarted forever.
pub fn runs_to_completion(pod: &Value) -> bool {
    matches!(
        pod.pointer("/spec/restartPolicy").and_then(Value::as_str),
        Some("Never" | "OnFailure")
    )
}

/// Decides the pod's status at `now`.
pub fn decide_pod(
    pod: &Value,
    behaviour: &PodBehaviour,
    runtime: &PodRuntime,
    now: Timestamp,
) -> Vec<Intent> {
    if object::is_deleting(pod) {
        // The kubelet confirms a graceful deletion once the containers are stopped.
        return vec![Intent::delete(Kind::Pod, pod)];
    }
    if object::pod_is_terminal(pod) {
        return Vec::new();
    }
    let mut intents = Vec::new();
    let started = runtime.started_at;
    let ready_at = behaviour.ready_after.map(|d| add(started, d));
    let unready_at = ready_at
        .zip(behaviour.unready_after)
        .map(|(at, d)| add(at, d));
    let mut rechecks = vec![];
    rechecks.extend(ready_at);
    rechecks.extend(unready_at);

    let containers = names_and_images(pod, "/spec/containers");
    let init_containers = names_and_images(pod, "/spec/initContainers");
    let simulated = behaviour.run == RunMode::Simulated;
    if !simulated && !runtime.run_started {
        intents.push(Intent::StartRun);
    }
    // Init containers run one after the other before the others; simulated ones succeed at once.
    let init_states: Vec<ContainerRun> = init_containers
        .iter()
        .map(|(name, _)| {
            if simulated {
                return ContainerRun::exited(0, String::new(), started, started);
            }
            runtime
                .containers
                .get(*name)
                .cloned()
                .unwrap_or(ContainerRun::Waiting {
                    reason: "PodInitializing".into(),
                    message: String::new(),
                })
        })
        .collect();
    let init_failed = init_states
        .iter()
        .any(|s| matches!(s, ContainerRun::Terminated { exit_code, .. } if *exit_code != 0));
    let initialized = init_states
        .iter()
        .all(|s| matches!(s, ContainerRun::Terminated { exit_code: 0, .. }));

    let states: Vec<ContainerRun> = if !initialized {
        containers
            .iter()
            .map(|(name, _)| match runtime.containers.get(*name) {
                Some(reported @ ContainerRun::Waiting { .. }) => reported.clone(),
                _ => ContainerRun::Waiting {
                    reason: "PodInitializing".into(),
                    message: String::new(),
                },
            })
            .collect()
    } else if simulated {
        let finished_at = add(started, behaviour.complete_after);
        let simulated_end = runs_to_completion(pod).then_some(finished_at);
        rechecks.extend(simulated_end);
        containers
            .iter()
            .map(|_| match simulated_end {
                Some(end) if end <= now => {
                    let message = behaviour.termination_message.clone();
                    ContainerRun::exited(behaviour.exit_code, message, started, end)
                }
                _ => ContainerRun::Running {
                    started_at: started,
                },
            })
            .collect()
    } else {
        containers
            .iter()
            .map(|(name, _)| {
                runtime
                    .containers
                    .get(*name)
                    .cloned()
                    .unwrap_or(ContainerRun::Waiting {
                        reason: "ContainerCreating".into(),
                        message: String::new(),
                    })
            })
            .collect()
    };

    let all_terminated = !states.is_empty()
        && states
            .iter()
            .all(|s| matches!(s, ContainerRun::Terminated { .. }));
    let any_waiting = states
        .iter()
        .any(|s| matches!(s, ContainerRun::Waiting { .. }));
    let all_running = !states.is_empty()
        && states
            .iter()
            .all(|s| matches!(s, ContainerRun::Running { .. }));
    let phase = if init_failed {
        // restartPolicy Never/OnFailure: a failed init container fails the pod.
        "Failed"
    } else if !initialized {
        "Pending"
    } else if all_terminated {
        let all_succeeded = states
            .iter()
            .all(|s| matches!(s, ContainerRun::Terminated { exit_code: 0, .. }));
        if all_succeeded { "Succeeded" } else { "Failed" }
    } else if any_waiting {
        "Pending"
    } else {
        "Running"
    };
    let ready =
        all_running && ready_at.is_some_and(|at| at <= now) && unready_at.is_none_or(|at| at > now);

    let uid = object::uid(pod);
    let container_statuses: Vec<Value> = containers
        .iter()
        .zip(&states)
        .map(|((name, image), state)| container_status(uid, name, image, state, ready))
        .collect();

    let unready_names: Vec<&str> = containers.iter().map(|(name, _)| *name).collect();
    let (ready_reason, ready_message) = match phase {
        "Succeeded" => (Some("PodCompleted"), None),
        "Failed" => (Some("PodFailed"), None),
        _ if ready => (None, None),
        _ => (
            Some("ContainersNotReady"),
            Some(format!(
                "containers with unready status: [{}]",
                unready_names.join(" ")
            )),
        ),
    };
    let terminal = matches!(phase, "Succeeded" | "Failed");
    let incomplete: Vec<&str> = init_containers
        .iter()
        .zip(&init_states)
        .filter(|(_, s)| !matches!(s, ContainerRun::Terminated { exit_code: 0, .. }))
        .map(|((name, _), _)| *name)
        .collect();
    let init_message = format!(
        "containers with incomplete status: [{}]",
        incomplete.join(" ")
    );
    let (init_reason, init_message) = if initialized {
        (None, None)
    } else {
        (
            Some("ContainersNotInitialized"),
            Some(init_message.as_str()),
        )
    };
    let mut conditions = vec![
        pod_condition("PodReadyToStartContainers", !terminal, None, None, now),
        pod_condition("Initialized", initialized, init_reason, init_message, now),
        pod_condition("Ready", ready, ready_reason, ready_message.as_deref(), now),
        pod_condition(
            "ContainersReady",
            ready,
            ready_reason,
            ready_message.as_deref(),
            now,
        ),
        pod_condition("PodScheduled", true, None, None, now),
    ];
    keep_transition_times(pod.pointer("/status/conditions"), &mut conditions);

    let mut status = json!({
        "phase": phase,
        "conditions": conditions,
        "hostIP": runtime.host_ip,
        "hostIPs": [{"ip": runtime.host_ip}],
        "podIP": runtime.pod_ip,
        "podIPs": [{"ip": runtime.pod_ip}],
        "startTime": format_time(started),
        "containerStatuses": container_statuses,
        "qosClass": "BestEffort",
    });
    if !init_containers.is_empty() {
        let init_statuses: Vec<Value> = init_containers
            .iter()
            .zip(&init_states)
            .map(|((name, image), state)| {
                let mut entry = container_status(uid, name, image, state, false);
                entry["ready"] = json!(matches!(
                    state,
                    ContainerRun::Terminated { exit_code: 0, .. }
                ));
                entry
            })
            .collect();
        status["initContainerStatuses"] = json!(init_statuses);
    }
    intents.extend(status_update(Kind::Pod, pod, status));
    if !terminal {
        intents.extend(earliest_recheck(now, rechecks));
    }
    intents
}

/// `(name, image)` of the containers listed at `pointer`.
fn names_and_images<'a>(pod: &'a Value, pointer: &str) -> Vec<(&'a str, &'a str)> {
    pod.pointer(pointer)
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|c| {
                    (
                        c.get("name").and_then(Value::as_str).unwrap_or(""),
                        c.get("image").and_then(Value::as_str).unwrap_or(""),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One `status.containerStatuses` (or `initContainerStatuses`) entry.
fn container_status(
    pod_uid: &str,
    name: &str,
    image: &str,
    state: &ContainerRun,
    pod_ready: bool,
) -> Value {
    let container_id = format!("testcluster://{pod_uid}/{name}");
    let (state_json, started, ready) = match state {
        ContainerRun::Waiting { reason, message } => {
            let mut waiting = json!({"reason": reason});
            if !message.is_empty() {
                waiting["message"] = json!(message);
            }
            (json!({"waiting": waiting}), false, false)
        }
        ContainerRun::Running { started_at } => (
            json!({"running": {"startedAt": format_time(*started_at)}}),
            true,
            pod_ready,
        ),
        ContainerRun::Terminated {
            exit_code,
            reason,
            message,
            started_at,
            finished_at,
        } => {
            let mut terminated = json!({
                "exitCode": exit_code,
                "reason": reason,
                "startedAt": format_time(*started_at),
                "finishedAt": format_time(*finished_at),
                "containerID": container_id,
            });
            if !message.is_empty() {
                terminated["message"] = json!(message);
            }
            (json!({"terminated": terminated}), false, false)
        }
    };
    let mut status = json!({
        "name": name,
        "image": image,
        "imageID": "",
        "ready": ready,
        "started": started,
        "restartCount": 0,
        "lastState": {},
        "state": state_json,
    });
    if !matches!(state, ContainerRun::Waiting { .. }) {
        status["containerID"] = json!(container_id);
    }
    status
}

#[cfg(test)]
#[path = "kubelet_tests.rs"]
mod tests;
