//! The Job controller (NonIndexed completion mode) as Kubernetes 1.33 runs it, plus the
//! TTL-after-finished controller.
//!
//! Pods are created up to `parallelism` while `completions` are missing; failed pods are
//! replaced after an exponential back-off until `failed > backoffLimit`. Finishing goes through
//! the interim condition first, as 1.33 does: `SuccessCriteriaMet` then `Complete`, or
//! `FailureTarget` then `Failed` once no pod is left running or terminating (both written in
//! one status update when nothing is left to stop).

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::intent::{Intent, Kind, earliest_recheck, status_update};
use super::object::{self, owner_reference};
use super::time::{Timestamp, add, format_time, time_at};

/// Condition reasons and messages, as the Job controller writes them.
pub mod reason {
    /// Complete / SuccessCriteriaMet.
    pub const COMPLETIONS_REACHED: &str = "CompletionsReached";
    /// Message of `COMPLETIONS_REACHED`.
    pub const COMPLETIONS_REACHED_MESSAGE: &str = "Reached expected number of succeeded pods";
    /// Failed / FailureTarget: too many failed pods.
    pub const BACKOFF_LIMIT_EXCEEDED: &str = "BackoffLimitExceeded";
    /// Message of `BACKOFF_LIMIT_EXCEEDED`.
    pub const BACKOFF_LIMIT_EXCEEDED_MESSAGE: &str = "Job has reached the specified backoff limit";
    /// Failed / FailureTarget: `activeDeadlineSeconds` passed.
    pub const DEADLINE_EXCEEDED: &str = "DeadlineExceeded";
    /// Message of `DEADLINE_EXCEEDED`.
    pub const DEADLINE_EXCEEDED_MESSAGE: &str = "Job was active longer than specified deadline";
    /// Suspended.
    pub const JOB_SUSPENDED: &str = "JobSuspended";
    /// Suspended false after a resume.
    pub const JOB_RESUMED: &str = "JobResumed";
}

/// Labels the Job controller puts on its pods.
pub const JOB_LABELS: [&str; 4] = [
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
    "controller-uid",
    "job-name",
];

/// Timing knobs of the Job controller.
#[derive(Debug, Clone, PartialEq)]
pub struct JobTiming {
    /// Back-off before replacing the first failed pod; doubles per failure (Kubernetes: 10s).
    pub backoff_base: Duration,
    /// Cap of the back-off (Kubernetes: 6 minutes).
    pub backoff_max: Duration,
}

impl Default for JobTiming {
    fn default() -> Self {
        JobTiming {
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(360),
        }
    }
}

/// Decides pod creations/deletions, the status of `job`, and its deletion after the TTL.
pub fn decide_job(job: &Value, pods: &[Value], timing: &JobTiming, now: Timestamp) -> Vec<Intent> {
    if object::is_deleting(job) {
        return Vec::new();
    }
    if let Some(finished_at) = finish_time(job) {
        return decide_ttl(job, finished_at, now);
    }
    let owned: Vec<&Value> = pods
        .iter()
        .filter(|p| object::is_controlled_by(p, job))
        .collect();
    let active: Vec<&Value> = owned
        .iter()
        .copied()
        .filter(|p| object::pod_is_active(p))
        .collect();
    let terminating = owned
        .iter()
        .filter(|p| object::is_deleting(p) && !object::pod_is_terminal(p))
        .count();
    let succeeded_pods = owned
        .iter()
        .filter(|p| object::pod_phase(p) == "Succeeded")
        .count() as i64;
    let failed_pods: Vec<&Value> = owned
        .iter()
        .copied()
        .filter(|p| object::pod_phase(p) == "Failed")
        .collect();
    // Counts never go down: a terminal pod deleted by someone stays counted.
    let succeeded = succeeded_pods.max(object::int_at(job, "/status/succeeded", 0));
    let failed = (failed_pods.len() as i64).max(object::int_at(job, "/status/failed", 0));

    let parallelism = object::int_at(job, "/spec/parallelism", 1).max(0);
    let completions = job.pointer("/spec/completions").and_then(Value::as_i64);
    let backoff_limit = object::int_at(job, "/spec/backoffLimit", 6);
    let suspended = job
        .pointer("/spec/suspend")
        .and_then(Value::as_bool)
        .unwrap_or(false);

    let old_conditions: Vec<Value> = job
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut conditions = old_conditions.clone();
    let mut intents = Vec::new();
    let mut rechecks = Vec::new();
    let mut start_time = job.pointer("/status/startTime").cloned();
    let mut completion_time = None;
    let mut active_count = active.len();

    // An interim condition already written decides the end; otherwise look for one.
    let interim = ["SuccessCriteriaMet", "FailureTarget"]
        .into_iter()
        .find_map(|kind| {
            old_conditions
                .iter()
                .find(|c| c["type"] == kind && c["status"] == "True")
                .cloned()
        });
    let finishing = interim.or_else(|| {
        let started = time_at(job, "/status/startTime");
        let deadline = job
            .pointer("/spec/activeDeadlineSeconds")
            .and_then(Value::as_i64);
        let past_deadline = started
            .zip(deadline)
            .is_some_and(|(s, d)| add(s, Duration::from_secs(d.max(0) as u64)) <= now);
        let complete = active.is_empty()
            && match completions {
                Some(c) => succeeded >= c,
                None => succeeded > 0,
            };
        if failed > backoff_limit {
            Some(job_condition(
                "FailureTarget",
                reason::BACKOFF_LIMIT_EXCEEDED,
                reason::BACKOFF_LIMIT_EXCEEDED_MESSAGE,
                now,
            ))
        } else if past_deadline && !suspended {
            Some(job_condition(
                "FailureTarget",
                reason::DEADLINE_EXCEEDED,
                reason::DEADLINE_EXCEEDED_MESSAGE,
                now,
            ))
        } else if complete {
            Some(job_condition(
                "SuccessCriteriaMet",
                reason::COMPLETIONS_REACHED,
                reason::COMPLETIONS_REACHED_MESSAGE,
                now,
            ))
        } else {
            if let (Some(s), Some(d), false) = (started, deadline, suspended) {
                rechecks.push(add(s, Duration::from_secs(d.max(0) as u64)));
            }
            None
        }
    });

    if let Some(interim) = finishing {
        if !conditions.iter().any(|c| c["type"] == interim["type"]) {
            conditions.push(interim.clone());
        }
        // Running pods of a failing Job are stopped; the terminal condition waits for them.
        for pod in &active {
            intents.push(Intent::delete(Kind::Pod, pod));
        }
        let still_running = active.len() + terminating;
        if still_running == 0 {
            let final_type = if interim["type"] == "SuccessCriteriaMet" {
                "Complete"
            } else {
                "Failed"
            };
            let reason = interim["reason"].as_str().unwrap_or("");
            let message = interim["message"].as_str().unwrap_or("");
            conditions.push(job_condition(final_type, reason, message, now));
            if final_type == "Complete" {
                completion_time = Some(json!(format_time(now)));
            }
        }
        active_count = 0;
    } else if suspended {
        for pod in &active {
            intents.push(Intent::delete(Kind::Pod, pod));
        }
        active_count = 0;
        start_time = None;
        if !object::condition_is_true(job, "Suspended") {
            set_job_condition(
                &mut conditions,
                job_condition("Suspended", reason::JOB_SUSPENDED, "Job suspended", now),
            );
        }
    } else {
        if start_time.is_none() {
            start_time = Some(json!(format_time(now)));
            if let Some(d) = job
                .pointer("/spec/activeDeadlineSeconds")
                .and_then(Value::as_i64)
            {
                rechecks.push(add(now, Duration::from_secs(d.max(0) as u64)));
            }
        }
        if object::condition_is_true(job, "Suspended") {
            let mut resumed = job_condition("Suspended", reason::JOB_RESUMED, "Job resumed", now);
            resumed["status"] = json!("False");
            set_job_condition(&mut conditions, resumed);
        }
        let wanted = match completions {
            Some(c) => parallelism.min((c - succeeded).max(0)),
            None if succeeded > 0 => 0,
            None => parallelism,
        };
        // Terminating pods still count until gone (podReplacementPolicy TerminatingOrFailed).
        let missing = wanted - active.len() as i64 - terminating as i64;
        if missing > 0 {
            let ready_at = backoff_until(&failed_pods, failed, timing);
            match ready_at {
                Some(at) if at > now => rechecks.push(at),
                _ => {
                    for _ in 0..missing {
                        intents.push(Intent::Create {
                            kind: Kind::Pod,
                            object: pod_from_template(job),
                        });
                    }
                }
            }
        }
    }

    let mut status = Map::new();
    if !conditions.is_empty() {
        status.insert("conditions".into(), Value::Array(conditions));
    }
    if let Some(start) = start_time {
        status.insert("startTime".into(), start);
    }
    if let Some(done) = completion_time {
        status.insert("completionTime".into(), done);
    }
    if active_count > 0 {
        status.insert("active".into(), json!(active_count));
    }
    if succeeded > 0 {
        status.insert("succeeded".into(), json!(succeeded));
    }
    if failed > 0 {
        status.insert("failed".into(), json!(failed));
    }
    let ready = if active_count > 0 {
        active.iter().filter(|p| object::pod_is_ready(p)).count()
    } else {
        0
    };
    status.insert("ready".into(), json!(ready));
    status.insert(
        "terminating".into(),
        json!(
            terminating
                + intents
                    .iter()
                    .filter(|i| matches!(i, Intent::Delete { .. }))
                    .count()
        ),
    );
    status.insert("uncountedTerminatedPods".into(), json!({}));
    intents.extend(status_update(Kind::Job, job, Value::Object(status)));
    intents.extend(earliest_recheck(now, rechecks));
    intents
}

/// When the Job finished (`Complete` or `Failed` true), if it did.
fn finish_time(job: &Value) -> Option<Timestamp> {
    ["Complete", "Failed"].into_iter().find_map(|kind| {
        let condition = object::condition(job, kind)?;
        (condition["status"] == "True")
            .then(|| time_at(condition, "/lastTransitionTime"))
            .flatten()
    })
}

/// The TTL-after-finished controller: delete the Job `ttlSecondsAfterFinished` after it finished.
fn decide_ttl(job: &Value, finished_at: Timestamp, now: Timestamp) -> Vec<Intent> {
    let Some(ttl) = job
        .pointer("/spec/ttlSecondsAfterFinished")
        .and_then(Value::as_i64)
    else {
        return Vec::new();
    };
    let expires = add(finished_at, Duration::from_secs(ttl.max(0) as u64));
    if expires <= now {
        vec![Intent::delete(Kind::Job, job)]
    } else {
        vec![Intent::RecheckAt { at: expires }]
    }
}

/// When the next pod may be created after `failed` failures (latest failure + back-off).
fn backoff_until(failed_pods: &[&Value], failed: i64, timing: &JobTiming) -> Option<Timestamp> {
    if failed == 0 {
        return None;
    }
    let last_failure = failed_pods.iter().filter_map(|p| failure_time(p)).max()?;
    let factor = 2u32.saturating_pow((failed - 1).clamp(0, 31) as u32);
    let delay = timing
        .backoff_base
        .saturating_mul(factor)
        .min(timing.backoff_max);
    Some(add(last_failure, delay))
}

fn failure_time(pod: &Value) -> Option<Timestamp> {
    let finished = pod
        .pointer("/status/containerStatuses")?
        .as_array()?
        .iter()
        .filter_map(|c| time_at(c, "/state/terminated/finishedAt"))
        .max();
    finished
        .or_else(|| object::condition(pod, "Ready").and_then(|c| time_at(c, "/lastTransitionTime")))
}

/// A pod for `job`: the template plus the Job's labels and a controller owner reference.
pub fn pod_from_template(job: &Value) -> Value {
    let template = job
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut labels = template
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let (uid, name) = (object::uid(job), object::name(job));
    for (key, value) in JOB_LABELS.iter().zip([uid, name, uid, name]) {
        labels.insert((*key).into(), json!(value));
    }
    let mut metadata = json!({
        "generateName": format!("{name}-"),
        "namespace": object::namespace(job),
        "labels": labels,
        "ownerReferences": [owner_reference(job, "batch/v1", "Job")],
    });
    if let Some(annotations) = template.pointer("/metadata/annotations") {
        metadata["annotations"] = annotations.clone();
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": template.get("spec").cloned().unwrap_or_else(|| json!({})),
    })
}

fn job_condition(kind: &str, reason: &str, message: &str, now: Timestamp) -> Value {
    json!({
        "type": kind,
        "status": "True",
        "lastProbeTime": format_time(now),
        "lastTransitionTime": format_time(now),
        "reason": reason,
        "message": message,
    })
}

fn set_job_condition(conditions: &mut Vec<Value>, condition: Value) {
    match conditions
        .iter_mut()
        .find(|c| c["type"] == condition["type"])
    {
        Some(existing) => *existing = condition,
        None => conditions.push(condition),
    }
}

#[cfg(test)]
#[path = "job_tests.rs"]
mod tests;
