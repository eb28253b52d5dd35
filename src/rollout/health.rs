//! Health-check bookkeeping: fold probe results into `status.healthChecks`, judge them against
//! their thresholds, and say which probes are due.
//!
//! Pure: the observe step reports [`ProbeResult`]s (readiness from the new revision's pods, HTTP
//! and Prometheus answers, Job outcomes) with the time each was taken; the decision keeps, per
//! check, the consecutive failures and successes and the time of the last folded probe. A
//! result no newer than that time has been counted already and is ignored, so reporting the
//! same results again (after a restart, or a stale cache) never counts a probe twice.
//!
//! # When
//! The decision folds and judges results once per reconcile from the new revision's install
//! until the termination wait ends (a readiness check sees the new pods from the start); the
//! observe step runs the probes due from test traffic until the termination wait ends
//! ([`super::decide::probes_due`]). Counters run across
//! steps (they are not reset when a step starts): a step advances when every check's latest
//! run of successes meets its threshold.
//!
//! # Verdicts
//! - A check with `consecutiveFailures >= failureThreshold` fails the rollout ([`HealthVerdict::Failing`]).
//! - Otherwise every check with `consecutiveSuccesses >= successThreshold` passes; until then the
//!   verdict is [`HealthVerdict::Pending`] and steps wait.
//! - No checks: always [`HealthVerdict::Passing`].
//!
//! # Due probes
//! A probe is due when the check was never probed or `interval` has passed since its last
//! probe. Each due probe carries its sequence number (`probes + 1`), so the observe step runs
//! it at most once per number (a Job probe is named after it) even when a reconcile is
//! repeated.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::api::deployment::{HealthCheck, HealthCheckStatus, HealthResult};

/// One probe's outcome, as the observe step saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeResult {
    /// The health check's name.
    pub check: String,
    /// When the probe was taken.
    pub time: Time,
    /// Whether it passed.
    pub healthy: bool,
    /// What it saw (status code, query value, Job message); never secret material.
    pub message: Option<String>,
}

/// The combined judgement of all health checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HealthVerdict {
    /// Every check met its success threshold (or there are none).
    Passing,
    /// No check failed, but some have not yet met their success threshold.
    Pending,
    /// A check crossed its failure threshold.
    Failing {
        /// The check's name.
        check: String,
        /// Its last message.
        message: String,
    },
}

/// A probe to run now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueProbe {
    /// The health check's name.
    pub check: String,
    /// The probe's sequence number for this check, from 1.
    pub sequence: i32,
}

/// Folds `results` newer than each check's last probe into `statuses`, in time order; returns
/// the statuses for exactly the checks in `checks` (in their order).
pub fn fold_results(
    checks: &[HealthCheck],
    statuses: &[HealthCheckStatus],
    results: &[ProbeResult],
) -> Vec<HealthCheckStatus> {
    checks
        .iter()
        .map(|check| {
            let mut status = statuses
                .iter()
                .find(|status| status.name == check.name)
                .cloned()
                .unwrap_or_else(|| HealthCheckStatus {
                    name: check.name.clone(),
                    result: HealthResult::Unknown,
                    consecutive_failures: 0,
                    consecutive_successes: 0,
                    probes: 0,
                    last_probe_time: None,
                    message: None,
                });
            let mut fresh: Vec<&ProbeResult> = results
                .iter()
                .filter(|result| result.check == check.name)
                .filter(|result| {
                    status
                        .last_probe_time
                        .as_ref()
                        .is_none_or(|last| result.time.0 > last.0)
                })
                .collect();
            fresh.sort_by_key(|result| result.time.0);
            for result in fresh {
                status.probes += 1;
                status.last_probe_time = Some(result.time.clone());
                status.message.clone_from(&result.message);
                if result.healthy {
                    status.consecutive_successes += 1;
                    status.consecutive_failures = 0;
                } else {
                    status.consecutive_failures += 1;
                    status.consecutive_successes = 0;
                }
                status.result = if result.healthy {
                    HealthResult::Healthy
                } else {
                    HealthResult::Unhealthy
                };
            }
            status
        })
        .collect()
}

/// Judges folded statuses against the checks' thresholds.
pub fn verdict(checks: &[HealthCheck], statuses: &[HealthCheckStatus]) -> HealthVerdict {
    let mut pending = false;
    for check in checks {
        let Some(status) = statuses.iter().find(|status| status.name == check.name) else {
            pending = true;
            continue;
        };
        if status.consecutive_failures >= check.failure_threshold.max(1) {
            return HealthVerdict::Failing {
                check: check.name.clone(),
                message: status
                    .message
                    .clone()
                    .unwrap_or_else(|| "probe failed".to_owned()),
            };
        }
        if status.consecutive_successes < check.success_threshold.max(1) {
            pending = true;
        }
    }
    if pending {
        HealthVerdict::Pending
    } else {
        HealthVerdict::Passing
    }
}

/// The check's probe interval (10 s when unreadable; the schema rejects such text).
pub fn interval(check: &HealthCheck) -> Duration {
    check
        .interval
        .to_duration()
        .ok()
        .filter(|interval| !interval.is_zero())
        .unwrap_or(Duration::from_secs(10))
}

/// Probes due at `now`, and the earliest time a further probe falls due.
pub fn due_probes(
    checks: &[HealthCheck],
    statuses: &[HealthCheckStatus],
    now: &Time,
) -> (Vec<DueProbe>, Option<Duration>) {
    let mut due = Vec::new();
    let mut next: Option<Duration> = None;
    for check in checks {
        let status = statuses.iter().find(|status| status.name == check.name);
        let probes = status.map_or(0, |status| status.probes);
        let wait = match status.and_then(|status| status.last_probe_time.as_ref()) {
            None => Duration::ZERO,
            Some(last) => interval(check).saturating_sub(elapsed(last, now)),
        };
        if wait.is_zero() {
            due.push(DueProbe {
                check: check.name.clone(),
                sequence: probes + 1,
            });
            // Its result is awaited; look again one interval later at the latest.
            next = Some(next.map_or(interval(check), |next| next.min(interval(check))));
        } else {
            next = Some(next.map_or(wait, |next| next.min(wait)));
        }
    }
    (due, next)
}

/// Time from `since` to `now`, zero when `now` is earlier.
pub fn elapsed(since: &Time, now: &Time) -> Duration {
    let span = now.0.duration_since(since.0);
    Duration::try_from(span).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::common::DurationString;

    fn check(name: &str, failures: i32, successes: i32) -> HealthCheck {
        HealthCheck {
            name: name.into(),
            interval: DurationString::new("10s"),
            timeout: DurationString::new("5s"),
            failure_threshold: failures,
            success_threshold: successes,
            ..Default::default()
        }
    }

    fn at(seconds: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(1_800_000_000 + seconds).unwrap())
    }

    fn result(name: &str, seconds: i64, healthy: bool) -> ProbeResult {
        ProbeResult {
            check: name.into(),
            time: at(seconds),
            healthy,
            message: Some(if healthy { "200" } else { "503" }.into()),
        }
    }

    #[test]
    fn failures_below_threshold_keep_the_verdict_pending() {
        let checks = [check("web", 3, 1)];
        let statuses = fold_results(
            &checks,
            &[],
            &[result("web", 1, false), result("web", 2, false)],
        );
        assert_eq!(statuses[0].consecutive_failures, 2);
        assert_eq!(verdict(&checks, &statuses), HealthVerdict::Pending);
    }

    #[test]
    fn failure_threshold_crossed_fails_with_the_last_message() {
        let checks = [check("web", 2, 1)];
        let statuses = fold_results(
            &checks,
            &[],
            &[result("web", 2, false), result("web", 1, false)],
        );
        assert_eq!(
            verdict(&checks, &statuses),
            HealthVerdict::Failing {
                check: "web".into(),
                message: "503".into()
            }
        );
    }

    #[test]
    fn a_success_resets_consecutive_failures() {
        let checks = [check("web", 2, 2)];
        let results = [
            result("web", 1, false),
            result("web", 2, true),
            result("web", 3, false),
        ];
        let statuses = fold_results(&checks, &[], &results);
        assert_eq!(statuses[0].consecutive_failures, 1);
        assert_eq!(statuses[0].probes, 3);
        assert_eq!(verdict(&checks, &statuses), HealthVerdict::Pending);
    }

    #[test]
    fn success_threshold_must_be_met_by_every_check() {
        let checks = [check("a", 3, 2), check("b", 3, 1)];
        let once = fold_results(&checks, &[], &[result("a", 1, true), result("b", 1, true)]);
        assert_eq!(verdict(&checks, &once), HealthVerdict::Pending);
        let twice = fold_results(&checks, &once, &[result("a", 2, true)]);
        assert_eq!(verdict(&checks, &twice), HealthVerdict::Passing);
        assert_eq!(verdict(&[], &[]), HealthVerdict::Passing);
    }

    #[test]
    fn reported_results_are_counted_once() {
        let checks = [check("web", 3, 1)];
        let results = [result("web", 1, false), result("web", 2, false)];
        let first = fold_results(&checks, &[], &results);
        let again = fold_results(&checks, &first, &results);
        assert_eq!(first, again);
    }

    #[test]
    fn probes_fall_due_one_interval_after_the_last() {
        let checks = [check("web", 3, 1)];
        let (due, next) = due_probes(&checks, &[], &at(0));
        assert_eq!(
            due,
            vec![DueProbe {
                check: "web".into(),
                sequence: 1
            }]
        );
        assert_eq!(next, Some(Duration::from_secs(10)));
        let statuses = fold_results(&checks, &[], &[result("web", 0, true)]);
        let (due, next) = due_probes(&checks, &statuses, &at(4));
        assert!(due.is_empty());
        assert_eq!(next, Some(Duration::from_secs(6)));
        let (due, _) = due_probes(&checks, &statuses, &at(10));
        assert_eq!(due[0].sequence, 2);
    }
}
