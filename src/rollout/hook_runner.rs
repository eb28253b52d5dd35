//! Running lifecycle hooks: a Job (exit 0 = Succeeded) or an HTTP call (2xx = Succeeded), as
//! CodeDeploy runs its Lambda hooks at `BeforeInstall`, `AfterInstall`, `AfterAllowTestTraffic`,
//! `BeforeAllowTraffic` and `AfterAllowTraffic`.
//!
//! # Job hooks
//! [`render_hook_job`] renders the hook's `JobSpec` through [`crate::rollout::job_run`]: owned
//! by the record, named deterministically per (record UID, event, attempt) — so a controller
//! restarted mid-hook finds the running Job instead of starting another, and a retry (a new
//! attempt) gets a new Job — with `activeDeadlineSeconds` from the hook's timeout and the
//! environment [`ENV_DEPLOYMENT`], [`ENV_LIFECYCLE_EVENT`], [`ENV_REVISION`] on every container.
//! [`start_hook_job`] creates it (or finds it); [`hook_job_outcome`] maps the Job's conditions
//! onto the lifecycle event's state (a deadline passed is `Failed`, worded as the hook timing
//! out after the Job's `activeDeadlineSeconds`, as the controller words its own timeout).
//!
//! # HTTP hooks
//! [`call_http_hook`] sends the hook's method to its URL with its headers and, for POST and PUT,
//! a JSON body ([`HookPayload`]) naming the deployment, namespace, UID, revision, lifecycle
//! event and attempt. A 2xx answer is `Succeeded`; anything else, a transport error or no
//! answer within the timeout is `Failed`. The message holds the status and the response body's
//! first [`BODY_IN_MESSAGE`] characters (so a hook can say why it refused), never the request's
//! headers (they may carry tokens).
//!
//! # Caveats
//! - The HTTP call is bounded by the hook's timeout, which defaults to one hour (CodeDeploy's);
//!   the controller runs it in a task of its own rather than inside a reconcile, and records
//!   `InProgress` first so a restart calls again — an HTTP hook may be called more than once
//!   and should be idempotent (CodeDeploy's Lambda hooks have the same at-least-once rule).
//! - The outcome of a Job hook is read from the Job; a Job deleted before the outcome was
//!   recorded reads as missing, and the controller decides (it fails the event).

use std::time::Duration;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use serde::Serialize;

use crate::api::deployment::{HttpHook, HttpMethod, LifecycleEvent, LifecycleEventState};
use crate::rollout::http_call::{self, HttpRequest};
use crate::rollout::job_run::{self, JobOutcome, JobOwner, JobRequest, JobRunError};

/// Environment variable with the record's name.
pub const ENV_DEPLOYMENT: &str = "SLIPWAY_DEPLOYMENT";
/// Environment variable with the lifecycle event (`BeforeInstall`, …).
pub const ENV_LIFECYCLE_EVENT: &str = "SLIPWAY_LIFECYCLE_EVENT";
/// Environment variable with the revision hash being rolled out.
pub const ENV_REVISION: &str = "SLIPWAY_REVISION";
/// Characters of an HTTP hook's response body kept in the message.
pub const BODY_IN_MESSAGE: usize = 200;
/// The `slipway.dev/purpose` of hook Jobs.
pub const HOOK_PURPOSE: &str = "hook";

/// Which hook run this is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookRun<'a> {
    /// The record that runs it.
    pub owner: &'a JobOwner,
    /// The lifecycle event.
    pub event: LifecycleEvent,
    /// The revision hash being rolled out.
    pub revision: &'a str,
    /// 0 for the first run, +1 per retry.
    pub attempt: u32,
}

/// A hook's result, in the lifecycle event's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookOutcome {
    /// `InProgress`, `Succeeded` or `Failed`.
    pub state: LifecycleEventState,
    /// What happened, for `status.lifecycleEvents[].message`.
    pub message: String,
}

/// The JSON body an HTTP hook receives (POST and PUT).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookPayload {
    /// The record's name.
    pub deployment: String,
    /// Its namespace.
    pub namespace: String,
    /// Its UID (stable across retries: a key for idempotency).
    pub uid: String,
    /// The revision hash.
    pub revision: String,
    /// The lifecycle event.
    pub lifecycle_event: LifecycleEvent,
    /// The attempt number.
    pub attempt: u32,
}

/// The lifecycle event's name as CodeDeploy writes it.
pub fn event_name(event: LifecycleEvent) -> String {
    serde_json::to_value(event)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The deterministic name of the hook Job for `run`.
pub fn hook_job_name(run: &HookRun<'_>) -> String {
    job_run::job_name(run.owner, HOOK_PURPOSE, &hook_key(run))
}

fn hook_key(run: &HookRun<'_>) -> String {
    format!("{}/{}", event_name(run.event), run.attempt)
}

/// Renders the hook's Job.
pub fn render_hook_job(run: &HookRun<'_>, spec: &JobSpec, timeout: Duration) -> Job {
    let key = hook_key(run);
    job_run::render_job(&JobRequest {
        owner: run.owner,
        purpose: HOOK_PURPOSE,
        key: &key,
        spec,
        env: vec![
            (ENV_DEPLOYMENT.to_owned(), run.owner.name.clone()),
            (ENV_LIFECYCLE_EVENT.to_owned(), event_name(run.event)),
            (ENV_REVISION.to_owned(), run.revision.to_owned()),
        ],
        timeout,
    })
}

/// Creates the hook's Job, or finds the one a previous reconcile created.
///
/// # Errors
/// [`JobRunError`] from the API or a name taken by another object's Job.
pub async fn start_hook_job(
    client: &kube::Client,
    run: &HookRun<'_>,
    spec: &JobSpec,
    timeout: Duration,
) -> Result<Job, JobRunError> {
    job_run::ensure_job(client, run.owner, &render_hook_job(run, spec, timeout)).await
}

/// The lifecycle event's state from the hook Job.
pub fn hook_job_outcome(job: &Job) -> HookOutcome {
    let name = job.metadata.name.as_deref().unwrap_or("");
    match job_run::job_outcome(job) {
        JobOutcome::Running => HookOutcome {
            state: LifecycleEventState::InProgress,
            message: format!("hook Job {name} is running"),
        },
        JobOutcome::Succeeded { message } => HookOutcome {
            state: LifecycleEventState::Succeeded,
            message: format!("hook Job {name} succeeded ({message})"),
        },
        // Worded as the controller's own timeout is: whichever clock ends the hook first
        // (the Job's deadline or the controller's), the user reads the same cause.
        JobOutcome::Failed { message } => HookOutcome {
            state: LifecycleEventState::Failed,
            message: match job_run::deadline_exceeded(job) {
                Some(seconds) => {
                    format!("hook timed out after {seconds}s (hook Job {name}: {message})")
                }
                None => format!("hook Job {name} failed: {message}"),
            },
        },
    }
}

/// Calls an HTTP hook and waits at most `timeout` for its answer.
pub async fn call_http_hook(hook: &HttpHook, run: &HookRun<'_>, timeout: Duration) -> HookOutcome {
    let (method, body) = match hook.method {
        HttpMethod::Get => (hyper::Method::GET, None),
        HttpMethod::Post => (hyper::Method::POST, Some(payload_bytes(run))),
        HttpMethod::Put => (hyper::Method::PUT, Some(payload_bytes(run))),
    };
    let request = HttpRequest {
        method,
        url: hook.url.clone(),
        headers: hook
            .headers
            .iter()
            .map(|header| (header.name.clone(), header.value.clone()))
            .collect(),
        body: body.map(|bytes| ("application/json".to_owned(), bytes)),
        timeout,
        verify_certificates: true,
    };
    let event = event_name(run.event);
    match http_call::send(&request).await {
        Ok(response) => {
            let excerpt: String = response.body.chars().take(BODY_IN_MESSAGE).collect();
            let excerpt = excerpt.trim();
            let said = if excerpt.is_empty() {
                String::new()
            } else {
                format!(": {excerpt}")
            };
            if (200..300).contains(&response.status) {
                HookOutcome {
                    state: LifecycleEventState::Succeeded,
                    message: format!("{event} hook answered HTTP {}{said}", response.status),
                }
            } else {
                HookOutcome {
                    state: LifecycleEventState::Failed,
                    message: format!("{event} hook answered HTTP {}{said}", response.status),
                }
            }
        }
        Err(error) => HookOutcome {
            state: LifecycleEventState::Failed,
            message: format!("{event} hook failed: {error}"),
        },
    }
}

fn payload_bytes(run: &HookRun<'_>) -> Vec<u8> {
    let payload = HookPayload {
        deployment: run.owner.name.clone(),
        namespace: run.owner.namespace.clone(),
        uid: run.owner.uid.clone(),
        revision: run.revision.to_owned(),
        lifecycle_event: run.event,
        attempt: run.attempt,
    };
    // A struct of strings and integers always serializes.
    serde_json::to_vec(&payload).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> JobOwner {
        JobOwner {
            name: "web-rollout".into(),
            namespace: "shop".into(),
            uid: "u-1".into(),
        }
    }

    #[test]
    fn hook_jobs_are_named_per_event_and_attempt_and_carry_the_environment() {
        let owner = owner();
        let run = |event, attempt| HookRun {
            owner: &owner,
            event,
            revision: "abc123",
            attempt,
        };
        let first = hook_job_name(&run(LifecycleEvent::BeforeInstall, 0));
        assert_eq!(first, hook_job_name(&run(LifecycleEvent::BeforeInstall, 0)));
        assert_ne!(first, hook_job_name(&run(LifecycleEvent::BeforeInstall, 1)));
        assert_ne!(first, hook_job_name(&run(LifecycleEvent::AfterInstall, 0)));
        let spec: JobSpec = serde_json::from_value(serde_json::json!({
            "template": {"spec": {"containers": [{"name": "smoke", "image": "curl"}]}}
        }))
        .unwrap();
        let job = render_hook_job(
            &run(LifecycleEvent::AfterAllowTestTraffic, 2),
            &spec,
            Duration::from_secs(90),
        );
        let value = serde_json::to_value(&job).unwrap();
        assert_eq!(value["spec"]["activeDeadlineSeconds"], 90);
        assert_eq!(
            value["spec"]["template"]["spec"]["containers"][0]["env"],
            serde_json::json!([
                {"name": "SLIPWAY_DEPLOYMENT", "value": "web-rollout"},
                {"name": "SLIPWAY_LIFECYCLE_EVENT", "value": "AfterAllowTestTraffic"},
                {"name": "SLIPWAY_REVISION", "value": "abc123"}
            ])
        );
        assert_eq!(
            job.metadata.name.unwrap(),
            hook_job_name(&run(LifecycleEvent::AfterAllowTestTraffic, 2))
        );
    }

    #[test]
    fn a_hook_job_stopped_by_its_deadline_reads_as_timed_out() {
        let job = |reason: &str| -> Job {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "web-hook"},
                "spec": {"activeDeadlineSeconds": 2, "template": {}},
                "status": {"conditions": [{"type": "Failed", "status": "True", "reason": reason,
                    "message": "Job was active longer than specified deadline"}]}
            }))
            .unwrap()
        };
        let timed_out = hook_job_outcome(&job("DeadlineExceeded"));
        assert_eq!(timed_out.state, LifecycleEventState::Failed);
        assert!(
            timed_out
                .message
                .starts_with("hook timed out after 2s (hook Job web-hook: DeadlineExceeded"),
            "{}",
            timed_out.message
        );
        let failed = hook_job_outcome(&job("BackoffLimitExceeded"));
        assert!(
            failed
                .message
                .starts_with("hook Job web-hook failed: BackoffLimitExceeded"),
            "{}",
            failed.message
        );
    }

    #[test]
    fn payload_names_the_deployment_revision_and_event() {
        let owner = owner();
        let run = HookRun {
            owner: &owner,
            event: LifecycleEvent::BeforeAllowTraffic,
            revision: "abc",
            attempt: 1,
        };
        let payload: serde_json::Value = serde_json::from_slice(&payload_bytes(&run)).unwrap();
        assert_eq!(
            payload,
            serde_json::json!({"deployment": "web-rollout", "namespace": "shop", "uid": "u-1",
                "revision": "abc", "lifecycleEvent": "BeforeAllowTraffic", "attempt": 1})
        );
    }
}
