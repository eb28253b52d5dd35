//! Health-check probes: one probe of one check, returning a plain [`ProbeOutcome`]. Thresholds,
//! intervals and what a failure means for the rollout belong to the state machine; a probe only
//! says what it saw.
//!
//! # Probes
//! - **HTTP** ([`http_probe`]): with `url`, one GET of that URL (certificates verified); without,
//!   one GET per pod of the new revision at `scheme://<pod IP>:<port><path>` — `port` from the
//!   check, else the target port the caller passes — with certificates not verified (pod IPs
//!   are in no certificate, as for the kubelet's probes). Passes when every answer's status is
//!   in `expectedStatuses` (any 2xx when empty). No pods to probe is a failure: a revision with
//!   nothing serving is not healthy.
//! - **Prometheus** ([`prometheus_probe`]): an instant query, `GET <address>/api/v1/query`, with
//!   `{{revision}}` and `{{namespace}}` substituted in the query. The `successCondition` is a CEL
//!   expression (the `cel` crate) with two variables: `result`, the first sample's value as a
//!   double (as the CRD documents: `result < 0.05`), and `results`, every sample's value in the
//!   order Prometheus returned them (`results.all(x, x < 0.05)`). A vector gives one value per
//!   series, a scalar one value; `NaN` and `±Inf` are doubles like any other. An empty result,
//!   a range vector or string result, a Prometheus error, a condition that does not compile, does
//!   not evaluate or is not a boolean: all fail the probe with the reason.
//! - **Readiness** ([`readiness_probe`], pure): over the new revision's pods (terminating ones
//!   ignored) — fails when the container restarts summed over all pods exceed `maxRestarts`,
//!   when a container waits in a state that does not heal by itself (`CrashLoopBackOff`, image
//!   pull errors, bad config), or when fewer pods are Ready than the step requires.
//! - **Job** ([`start_check_job`], [`check_job_outcome`]): a Job rendered from the check's
//!   `JobSpec` through [`crate::rollout::job_run`] (owned by the record, named per check and
//!   probe number, `activeDeadlineSeconds` from the check's timeout, `SLIPWAY_DEPLOYMENT`,
//!   `SLIPWAY_HEALTH_CHECK` and `SLIPWAY_REVISION` in its environment); its outcome comes from
//!   the Job's conditions, `None` while it runs.
//!
//! # Guarantees
//! The HTTP and Prometheus probes end within their timeout (the whole call is bounded, pods are
//! probed concurrently); they never return an error — an unreachable endpoint is a failed probe
//! with the reason in the message. Request headers are never put into messages.

use std::time::Duration;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::api::deployment::{HttpCheck, PrometheusCheck, ReadinessCheck, Scheme};
use crate::rollout::http_call::{self, HttpRequest};
use crate::rollout::job_run::{self, JobOutcome, JobOwner, JobRequest, JobRunError};

/// Environment variable with the health check's name, in Job checks.
pub const ENV_HEALTH_CHECK: &str = "SLIPWAY_HEALTH_CHECK";
/// The `slipway.dev/purpose` of health-check Jobs.
pub const CHECK_PURPOSE: &str = "health-check";
/// Characters of a response body kept in a failure message.
const BODY_IN_MESSAGE: usize = 200;
/// Waiting reasons that do not heal by themselves.
const STUCK_REASONS: [&str; 6] = [
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
];

/// What one probe saw.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeOutcome {
    /// Whether the probe passed.
    pub passed: bool,
    /// What it saw, one line.
    pub message: String,
    /// When it saw it.
    pub observed_at: Time,
}

impl ProbeOutcome {
    fn at(passed: bool, message: impl Into<String>, observed_at: Time) -> Self {
        Self {
            passed,
            message: message.into(),
            observed_at,
        }
    }

    fn now(passed: bool, message: impl Into<String>) -> Self {
        Self::at(passed, message, Time(Timestamp::now()))
    }
}

/// A pod to probe: its name and IP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodTarget {
    /// The pod's name.
    pub name: String,
    /// Its IP (v4 or v6).
    pub ip: String,
}

/// The probe targets among `pods`: not terminating, with an IP.
pub fn pod_targets(pods: &[Pod]) -> Vec<PodTarget> {
    pods.iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .filter_map(|pod| {
            let ip = pod.status.as_ref()?.pod_ip.clone()?;
            Some(PodTarget {
                name: pod.metadata.name.clone().unwrap_or_default(),
                ip,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

/// The URLs one HTTP probe calls, each with what it names in messages and whether certificates
/// are verified.
///
/// # Errors
/// A message when there is nothing to probe or no port.
pub fn http_probe_urls(
    check: &HttpCheck,
    pods: &[PodTarget],
    default_port: Option<i32>,
) -> Result<Vec<(String, String, bool)>, String> {
    if let Some(url) = &check.url {
        return Ok(vec![(url.clone(), url.clone(), true)]);
    }
    let port = check.port.or(default_port).ok_or_else(|| {
        "no port to probe: set the health check's http.port or spec.target.port".to_owned()
    })?;
    if pods.is_empty() {
        return Err("no pods of the new revision to probe".into());
    }
    let scheme = match check.scheme {
        Scheme::Http => "http",
        Scheme::Https => "https",
    };
    Ok(pods
        .iter()
        .map(|pod| {
            let host = if pod.ip.contains(':') {
                format!("[{}]", pod.ip)
            } else {
                pod.ip.clone()
            };
            (
                format!("pod {}", pod.name),
                format!("{scheme}://{host}:{port}{}", check.path),
                false,
            )
        })
        .collect())
}

/// Whether `status` is healthy for `check`.
pub fn status_expected(check: &HttpCheck, status: u16) -> bool {
    status_in(&check.expected_statuses, status)
}

/// Whether `status` is one of `expected`, or any 2xx when `expected` is empty (HTTP checks and
/// HTTP stage rules read `expectedStatuses` alike).
pub fn status_in(expected: &[i32], status: u16) -> bool {
    if expected.is_empty() {
        (200..300).contains(&status)
    } else {
        expected
            .iter()
            .any(|expected| i64::from(*expected) == i64::from(status))
    }
}

/// Probes an HTTP check once (see the module docs).
pub async fn http_probe(
    check: &HttpCheck,
    pods: &[PodTarget],
    default_port: Option<i32>,
    timeout: Duration,
) -> ProbeOutcome {
    let urls = match http_probe_urls(check, pods, default_port) {
        Ok(urls) => urls,
        Err(message) => return ProbeOutcome::now(false, message),
    };
    let headers: Vec<(String, String)> = check
        .headers
        .iter()
        .map(|header| (header.name.clone(), header.value.clone()))
        .collect();
    let calls = urls.iter().map(|(what, url, verify)| {
        let mut request = HttpRequest::get(url.clone(), timeout);
        request.headers = headers.clone();
        request.verify_certificates = *verify;
        async move {
            match http_call::send(&request).await {
                Ok(response) if status_expected(check, response.status) => {
                    Ok(format!("{what} answered HTTP {}", response.status))
                }
                Ok(response) => Err(format!(
                    "{what} answered HTTP {}{}",
                    response.status,
                    excerpt(&response.body)
                )),
                Err(error) => Err(format!("{what}: {error}")),
            }
        }
    });
    let results = futures::future::join_all(calls).await;
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    match (failures.first(), results.len()) {
        (None, 1) => ProbeOutcome::now(true, results[0].clone().unwrap_or_default()),
        (None, total) => {
            ProbeOutcome::now(true, format!("{total}/{total} pods answered as expected"))
        }
        (Some(first), 1) => ProbeOutcome::now(false, (*first).clone()),
        (Some(first), total) => ProbeOutcome::now(
            false,
            format!("{} of {total} pods failed; {first}", failures.len()),
        ),
    }
}

fn excerpt(body: &str) -> String {
    let text: String = body.chars().take(BODY_IN_MESSAGE).collect();
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

// ---------------------------------------------------------------------------------------------
// Prometheus
// ---------------------------------------------------------------------------------------------

/// The instant-query URL for `check`, with `{{revision}}` and `{{namespace}}` substituted.
pub fn prometheus_query_url(check: &PrometheusCheck, revision: &str, namespace: &str) -> String {
    let query = check
        .query
        .replace("{{revision}}", revision)
        .replace("{{namespace}}", namespace);
    let encoded: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("query", &query)
        .finish();
    format!(
        "{}/api/v1/query?{encoded}",
        check.address.trim_end_matches('/')
    )
}

/// The sample values of a Prometheus query response, in order.
///
/// # Errors
/// A message for an error response, an unusable result type or an undecodable body.
pub fn sample_values(body: &str) -> Result<Vec<f64>, String> {
    let document: Value = serde_json::from_str(body).map_err(|error| {
        format!(
            "the answer is not Prometheus JSON: {error}{}",
            excerpt(body)
        )
    })?;
    if document["status"] != "success" {
        return Err(format!(
            "Prometheus answered {}: {}",
            document["errorType"].as_str().unwrap_or("an error"),
            document["error"].as_str().unwrap_or("no error text")
        ));
    }
    let data = &document["data"];
    let sample = |pair: &Value| -> Result<f64, String> {
        let text = pair[1]
            .as_str()
            .ok_or_else(|| format!("a sample is not [time, \"value\"]: {pair}"))?;
        parse_sample(text)
    };
    match data["resultType"].as_str() {
        Some("vector") => data["result"]
            .as_array()
            .ok_or("a vector result without a result list")?
            .iter()
            .map(|series| sample(&series["value"]))
            .collect(),
        Some("scalar") => Ok(vec![sample(&data["result"])?]),
        Some(other) => Err(format!(
            "the query returned a {other}; use a query that returns an instant vector or scalar"
        )),
        None => Err("the answer has no data.resultType".into()),
    }
}

/// A sample value as Prometheus writes it (`"0.97"`, `"NaN"`, `"+Inf"`, `"-Inf"`).
fn parse_sample(text: &str) -> Result<f64, String> {
    match text {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => text
            .parse()
            .map_err(|_| format!("sample value {text:?} is not a number")),
    }
}

/// Evaluates a success condition with `result` (the first value) and `results` bound.
///
/// # Errors
/// A message when the condition does not compile, fails to evaluate, is not a boolean, or there
/// are no values.
pub fn evaluate_success_condition(condition: &str, values: &[f64]) -> Result<bool, String> {
    let Some(first) = values.first() else {
        return Err("the query returned no samples".into());
    };
    let described = |error: ConditionError| match error {
        ConditionError::Compile(error) => format!("successCondition does not compile: {error}"),
        ConditionError::Evaluate(error) => format!("successCondition failed to evaluate: {error}"),
        ConditionError::NotBoolean(value) => {
            format!("successCondition gave {value}, not a boolean")
        }
    };
    let program = compile_condition(condition).map_err(described)?;
    let mut context = cel::Context::default();
    context.add_variable_from_value("result", cel::Value::Float(*first));
    context.add_variable_from_value(
        "results",
        values
            .iter()
            .map(|v| cel::Value::Float(*v))
            .collect::<Vec<_>>(),
    );
    run_condition(&program, &context).map_err(described)
}

/// Why a CEL condition gave no boolean; each caller words it for the field it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConditionError {
    /// The text is not CEL (the parser's errors).
    Compile(String),
    /// Evaluation failed: an unknown identifier or key, no matching overload, a division by zero.
    Evaluate(String),
    /// The result, written as `cel` debug-prints it, is not a boolean.
    NotBoolean(String),
}

/// Compiles a CEL condition for the standard environment (the macros `has`, `all`, `exists`,
/// `exists_one`, `map` and `filter` included).
///
/// # Errors
/// [`ConditionError::Compile`] with the parser's errors.
pub fn compile_condition(source: &str) -> Result<cel::Program, ConditionError> {
    cel::Program::compile(source).map_err(|error| ConditionError::Compile(error.to_string()))
}

/// Runs a compiled condition over `context`; only a boolean is an answer.
///
/// # Errors
/// [`ConditionError::Evaluate`] or [`ConditionError::NotBoolean`].
pub fn run_condition(
    program: &cel::Program,
    context: &cel::Context,
) -> Result<bool, ConditionError> {
    match program.execute(context) {
        Ok(cel::Value::Bool(passed)) => Ok(passed),
        Ok(other) => Err(ConditionError::NotBoolean(format!("{other:?}"))),
        Err(error) => Err(ConditionError::Evaluate(error.to_string())),
    }
}

/// Probes a Prometheus check once (see the module docs).
pub async fn prometheus_probe(
    check: &PrometheusCheck,
    revision: &str,
    namespace: &str,
    timeout: Duration,
) -> ProbeOutcome {
    let url = prometheus_query_url(check, revision, namespace);
    let response = match http_call::send(&HttpRequest::get(url, timeout)).await {
        Ok(response) => response,
        Err(error) => return ProbeOutcome::now(false, error.to_string()),
    };
    let outcome = sample_values(&response.body).and_then(|values| {
        evaluate_success_condition(&check.success_condition, &values).map(|passed| (passed, values))
    });
    match outcome {
        Ok((passed, values)) => ProbeOutcome::now(
            passed,
            format!(
                "{} {} (result = {}{})",
                check.success_condition,
                if passed { "holds" } else { "does not hold" },
                values[0],
                if values.len() > 1 {
                    format!(", {} samples", values.len())
                } else {
                    String::new()
                }
            ),
        ),
        Err(message) => ProbeOutcome::now(false, message),
    }
}

// ---------------------------------------------------------------------------------------------
// Readiness
// ---------------------------------------------------------------------------------------------

/// Judges the new revision's `pods` against `check`, needing `required_ready` Ready pods.
pub fn readiness_probe(
    check: &ReadinessCheck,
    pods: &[Pod],
    required_ready: i32,
    now: Time,
) -> ProbeOutcome {
    let live: Vec<&Pod> = pods
        .iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .collect();
    let mut restarts: i64 = 0;
    let mut worst: Option<(String, String, i32)> = None;
    for pod in &live {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let statuses = pod.status.iter().flat_map(|status| {
            status
                .container_statuses
                .iter()
                .flatten()
                .chain(status.init_container_statuses.iter().flatten())
        });
        for container in statuses {
            restarts += i64::from(container.restart_count);
            if worst
                .as_ref()
                .is_none_or(|(_, _, most)| container.restart_count > *most)
            {
                worst = Some((
                    name.clone(),
                    container.name.clone(),
                    container.restart_count,
                ));
            }
            let waiting = container
                .state
                .as_ref()
                .and_then(|state| state.waiting.as_ref())
                .and_then(|waiting| waiting.reason.as_deref());
            if let Some(reason) = waiting.filter(|reason| STUCK_REASONS.contains(reason)) {
                return ProbeOutcome::at(
                    false,
                    format!("pod {name} container {} is in {reason}", container.name),
                    now,
                );
            }
        }
    }
    if restarts > i64::from(check.max_restarts) {
        let detail = worst
            .map(|(pod, container, count)| {
                format!("; pod {pod} container {container} restarted {count} time(s)")
            })
            .unwrap_or_default();
        return ProbeOutcome::at(
            false,
            format!(
                "{restarts} container restart(s), more than the {} tolerated{detail}",
                check.max_restarts
            ),
            now,
        );
    }
    let ready = live.iter().filter(|pod| is_ready(pod)).count();
    let ready = i32::try_from(ready).unwrap_or(i32::MAX);
    let message = format!("{ready}/{required_ready} pods Ready, {restarts} restart(s)");
    ProbeOutcome::at(ready >= required_ready, message, now)
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|condition| condition.type_ == "Ready" && condition.status == "True")
        })
}

// ---------------------------------------------------------------------------------------------
// Job
// ---------------------------------------------------------------------------------------------

/// Which Job check run this is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckRun<'a> {
    /// The record that runs it.
    pub owner: &'a JobOwner,
    /// The health check's name.
    pub check: &'a str,
    /// The revision hash being checked.
    pub revision: &'a str,
    /// The probe's sequence number for this check (one Job per probe).
    pub probe: u32,
}

/// Renders the Job of one Job-check probe.
pub fn render_check_job(run: &CheckRun<'_>, spec: &JobSpec, timeout: Duration) -> Job {
    let key = format!("{}/{}", run.check, run.probe);
    job_run::render_job(&JobRequest {
        owner: run.owner,
        purpose: CHECK_PURPOSE,
        key: &key,
        spec,
        env: vec![
            (
                crate::rollout::hook_runner::ENV_DEPLOYMENT.to_owned(),
                run.owner.name.clone(),
            ),
            (ENV_HEALTH_CHECK.to_owned(), run.check.to_owned()),
            (
                crate::rollout::hook_runner::ENV_REVISION.to_owned(),
                run.revision.to_owned(),
            ),
        ],
        timeout,
    })
}

/// Creates the Job of one Job-check probe, or finds the one created before.
///
/// # Errors
/// [`JobRunError`].
pub async fn start_check_job(
    client: &kube::Client,
    run: &CheckRun<'_>,
    spec: &JobSpec,
    timeout: Duration,
) -> Result<Job, JobRunError> {
    job_run::ensure_job(client, run.owner, &render_check_job(run, spec, timeout)).await
}

/// The probe's outcome from its Job; `None` while the Job runs.
pub fn check_job_outcome(job: &Job, now: Time) -> Option<ProbeOutcome> {
    let name = job.metadata.name.as_deref().unwrap_or("");
    match job_run::job_outcome(job) {
        JobOutcome::Running => None,
        JobOutcome::Succeeded { message } => Some(ProbeOutcome::at(
            true,
            format!("check Job {name} succeeded ({message})"),
            now,
        )),
        JobOutcome::Failed { message } => Some(ProbeOutcome::at(
            false,
            format!("check Job {name} failed: {message}"),
            now,
        )),
    }
}

#[cfg(test)]
#[path = "probes_tests.rs"]
mod tests;
