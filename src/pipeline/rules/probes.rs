//! HTTP and Prometheus rules: one call each, through the rollout probes' HTTP client
//! ([`crate::rollout::http_call`]).
//!
//! # HTTP
//! One GET of `http.url` with `http.headers`, certificates verified, redirects not followed (a
//! 3xx is the answer), the whole call bounded by `http.timeout`. It passes when the status is in
//! `expectedStatuses`, or is any 2xx when that list is empty. The message gives the status code
//! and the body's size only: bodies (and request headers, which may carry tokens) are never
//! copied into messages, since messages end up in the execution's status.
//!
//! # Prometheus
//! Exactly a rollout's Prometheus health check ([`crate::rollout::probes::prometheus_probe`]):
//! an instant query with `{{namespace}}` and `{{revision}}` substituted from the execution, the
//! first sample as `result` and all samples as `results` in the `successCondition`, bounded by
//! [`PROMETHEUS_TIMEOUT`].

use std::time::Duration;

use super::{RuleContext, RuleOutcome};
use crate::api::deployment::PrometheusCheck;
use crate::api::pipeline::HttpRule;
use crate::rollout::http_call::{self, BODY_LIMIT, HttpRequest};
use crate::rollout::probes::{prometheus_probe, status_in};

/// Bound on a Prometheus rule's query (the check has no timeout field of its own).
pub const PROMETHEUS_TIMEOUT: Duration = Duration::from_secs(10);

/// Judges the HTTP rule `rule` with one GET.
pub async fn http_rule(rule: &str, http: &HttpRule) -> RuleOutcome {
    let timeout = match http.timeout.to_duration() {
        Ok(timeout) => timeout,
        Err(reason) => {
            return RuleOutcome::fail(
                rule,
                format!("http.timeout {reason}: write a duration such as `10s`"),
            );
        }
    };
    let mut request = HttpRequest::get(http.url.clone(), timeout);
    request.headers = http
        .headers
        .iter()
        .map(|header| (header.name.clone(), header.value.clone()))
        .collect();
    match http_call::send(&request).await {
        Ok(response) => {
            let size = if response.truncated {
                format!("more than {BODY_LIMIT} bytes")
            } else {
                format!("{} bytes", response.body_bytes)
            };
            let passed = status_in(&http.expected_statuses, response.status);
            let expected = if http.expected_statuses.is_empty() {
                "any 2xx".to_owned()
            } else {
                let listed: Vec<String> =
                    http.expected_statuses.iter().map(i32::to_string).collect();
                listed.join(", ")
            };
            RuleOutcome::of(
                passed,
                rule,
                format!(
                    "GET {} answered HTTP {} ({size}); expected {expected}",
                    http.url, response.status
                ),
            )
        }
        Err(error) => RuleOutcome::fail(rule, error),
    }
}

/// Judges the Prometheus rule `rule` with one instant query.
pub async fn prometheus_rule(
    rule: &str,
    check: &PrometheusCheck,
    context: &RuleContext,
) -> RuleOutcome {
    let probe = prometheus_probe(
        check,
        &context.execution.revision,
        &context.execution.namespace,
        PROMETHEUS_TIMEOUT,
    )
    .await;
    RuleOutcome::of(probe.passed, rule, probe.message)
}
