//! Observe's probe step: run the health-check probes the pure core says are due
//! ([`probes_due`], from the persisted status) and read finished Job checks, so the decision of
//! the same reconcile folds and judges the results.
//!
//! # Why probes run in observe
//! A reconcile is one observe, one decide, one apply. A probe that crosses its failure
//! threshold is seen by this reconcile's decision, which restores the stable selector and
//! weights, and apply writes them right away: the immediate rollback path needs no second
//! decision.
//!
//! # Probes
//! - **HTTP, Prometheus, readiness**: run here, inline, each bounded by its check's timeout
//!   (5 s when unreadable), against the new revision recorded in status (its pods, listed once).
//! - **Job**: the probe is its Job, named per check and probe number. When the Job for a due
//!   probe does not exist yet it is created here (create-if-absent by name — the one write
//!   observe makes, because the probe runs where it is due); its outcome is read from the Job
//!   by this and later observes, for the next two probe numbers.
//!
//! The status write of the reconcile that took a result folds it (`status.healthChecks[]`).
//! Results are also kept in [`Memory`] and reported again: a later reconcile may start from a
//! cached status that lacks them, and must neither lose a failure nor probe again (see that
//! module). If the write is lost and the controller restarts, the probe is due again and runs
//! again; a result is never counted twice (see [`crate::rollout::health`]).

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};

use super::memory::Memory;
use super::observe::{ObserveError, api_error};
use crate::api::Deployment as DeploymentRecord;
use crate::api::deployment::{DeploymentStatus, HealthCheck};
use crate::rollout::decide::probes_due;
use crate::rollout::health::ProbeResult;
use crate::rollout::job_run::{JobOwner, job_name};
use crate::rollout::probes::{self, CHECK_PURPOSE, CheckRun, check_job_outcome};
use crate::runtime::labels::{REVISION_LABEL, TARGET_LABEL};
use crate::runtime::whole_seconds;

/// Probe timeout when the check's text is empty, zero or unreadable.
const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the probe step needs to know of the record.
pub struct ProbeScope<'a> {
    /// The client.
    pub client: &'a Client,
    /// The record.
    pub record: &'a DeploymentRecord,
    /// The record as the owner of its Jobs.
    pub owner: &'a JobOwner,
    /// The `slipway.dev/target` value of the target.
    pub target: &'a str,
    /// The persisted status (stage, probe counts, the new revision).
    pub status: &'a DeploymentStatus,
    /// The record's Jobs, as observe listed them.
    pub jobs: &'a [Job],
    /// Probe results kept from earlier reconciles.
    pub memory: &'a Memory,
    /// The target's revision workloads, as observe read them.
    pub revisions: &'a [crate::rollout::state::RevisionWorkload],
}

/// Runs the probes due now and reads finished Job checks; returns their results with the
/// results kept from earlier reconciles.
///
/// # Errors
/// [`ObserveError`] when listing the new revision's pods or starting a check Job fails.
pub async fn probe(scope: &ProbeScope<'_>) -> Result<Vec<ProbeResult>, ObserveError> {
    let mut results = scope.memory.probes(&scope.owner.uid);
    results.extend(job_check_results(scope));
    let now = Time(whole_seconds(Timestamp::now()));
    let due = probes_due(&scope.record.spec, scope.status, &results, &now);
    let mut pods: Option<Vec<Pod>> = None;
    for probe in due {
        let Some(check) = scope
            .record
            .spec
            .template
            .health_checks
            .iter()
            .find(|candidate| candidate.name == probe.check)
        else {
            continue;
        };
        if let Some(result) = run_probe(scope, check, probe.sequence, &mut pods).await? {
            scope.memory.add_probe(&scope.owner.uid, result.clone());
            results.push(result);
        }
    }
    Ok(results)
}

/// Runs probe `sequence` of `check`; `None` for a Job check (its Job reports later).
async fn run_probe(
    scope: &ProbeScope<'_>,
    check: &HealthCheck,
    sequence: i32,
    pods: &mut Option<Vec<Pod>>,
) -> Result<Option<ProbeResult>, ObserveError> {
    let namespace = scope.owner.namespace.as_str();
    let canary = canary_hash(scope.status);
    let timeout = check
        .timeout
        .to_duration()
        .ok()
        .filter(|timeout| !timeout.is_zero())
        .unwrap_or(DEFAULT_PROBE_TIMEOUT);
    if let Some(spec) = &check.job {
        let run = CheckRun {
            owner: scope.owner,
            check: &check.name,
            revision: canary,
            probe: u32::try_from(sequence).unwrap_or(0),
        };
        let name = job_name(
            scope.owner,
            CHECK_PURPOSE,
            &check_key(&check.name, sequence),
        );
        if !scope.jobs.iter().any(|job| job.name_any() == name) {
            probes::start_check_job(scope.client, &run, spec, timeout).await?;
        }
        return Ok(None);
    }
    let outcome = if let Some(prometheus) = &check.prometheus {
        probes::prometheus_probe(prometheus, canary, namespace, timeout).await
    } else {
        if pods.is_none() {
            *pods = Some(canary_pods(scope, canary).await?);
        }
        let pods = pods.as_deref().unwrap_or_default();
        if let Some(http) = &check.http {
            let targets = probes::pod_targets(pods);
            let port = scope.record.spec.template.target.port;
            probes::http_probe(http, &targets, port, timeout).await
        } else if let Some(readiness) = &check.readiness {
            // The new revision's own desired pods: with a replica-ratio split it runs only its share
            // of `targetReplicas` (1 of 3 at 10 %), and all of those must be Ready.
            let required = scope
                .revisions
                .iter()
                .find(|revision| revision.hash == canary)
                .map_or(1, |revision| revision.replicas.max(1));
            let now = Time(whole_seconds(Timestamp::now()));
            probes::readiness_probe(readiness, pods, required, now)
        } else {
            return Ok(None);
        }
    };
    Ok(Some(ProbeResult {
        check: check.name.clone(),
        time: Time(whole_seconds(outcome.observed_at.0)),
        healthy: outcome.passed,
        message: Some(outcome.message),
    }))
}

/// The new revision's hash, as status records it.
fn canary_hash(status: &DeploymentStatus) -> &str {
    status
        .canary_revision
        .as_ref()
        .map_or("", |revision| revision.hash.as_str())
}

/// The key a Job check's probe is named after.
fn check_key(check: &str, sequence: i32) -> String {
    format!("{check}/{sequence}")
}

/// The new revision's pods.
async fn canary_pods(scope: &ProbeScope<'_>, canary: &str) -> Result<Vec<Pod>, ObserveError> {
    let namespace = scope.owner.namespace.as_str();
    let pods: Api<Pod> = Api::namespaced(scope.client.clone(), namespace);
    let selector = format!("{TARGET_LABEL}={},{REVISION_LABEL}={canary}", scope.target);
    Ok(pods
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(api_error(format!(
            "list pods of revision {canary} in {namespace}"
        )))?
        .items)
}

/// Results of Job health checks, read from the Jobs of the next two probe numbers.
fn job_check_results(scope: &ProbeScope<'_>) -> Vec<ProbeResult> {
    let by_name: BTreeMap<String, &Job> =
        scope.jobs.iter().map(|job| (job.name_any(), job)).collect();
    let mut results = Vec::new();
    for check in scope
        .record
        .spec
        .template
        .health_checks
        .iter()
        .filter(|check| check.job.is_some())
    {
        let probes = scope
            .status
            .health_checks
            .iter()
            .find(|status| status.name == check.name)
            .map_or(0, |status| status.probes);
        for sequence in probes + 1..=probes + 2 {
            let name = job_name(
                scope.owner,
                CHECK_PURPOSE,
                &check_key(&check.name, sequence),
            );
            let Some(job) = by_name.get(&name) else {
                continue;
            };
            if let Some(outcome) = check_job_outcome(job, job_end_time(job)) {
                results.push(ProbeResult {
                    check: check.name.clone(),
                    time: outcome.observed_at,
                    healthy: outcome.passed,
                    message: Some(outcome.message),
                });
            }
        }
    }
    results
}

/// When a Job ended: its completion time, else its last condition's transition, else now.
fn job_end_time(job: &Job) -> Time {
    let status = job.status.as_ref();
    status
        .and_then(|status| status.completion_time.clone())
        .or_else(|| {
            status
                .and_then(|status| status.conditions.as_ref())
                .and_then(|conditions| {
                    conditions
                        .iter()
                        .filter(|condition| condition.status == "True")
                        .filter_map(|condition| condition.last_transition_time.clone())
                        .max_by_key(|time| time.0)
                })
        })
        .unwrap_or_else(|| Time(whole_seconds(Timestamp::now())))
}
