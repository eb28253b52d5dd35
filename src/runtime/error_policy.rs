//! One error policy for every controller.
//!
//! - **Transient** failures (the API server busy or unreachable, 409 conflicts, 429, 5xx, a
//!   registry or Docker daemon that did not answer) are retried with exponential back-off and
//!   jitter per object: 1 s, 2 s, 4 s … up to 5 minutes, each ±20 %, reset by the next success.
//! - **Permanent** failures (403 forbidden, 422 invalid, 400, a name taken by an object Slipway
//!   does not own, an invalid spec) are not retried on a timer: the reconcile records a status
//!   condition and a Warning Event naming the cause ([`report_permanent`]) and waits for a
//!   change (`Action::await_change`). Retrying them every few seconds forever would only load
//!   the API server and hide the message in logs.
//!
//! A controller's error type says which it is through [`ReconcileError`]; the category is the
//! Event reason and the `category` label of the controller's error counter.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Mutex;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::core::NamespaceResourceScope;
use kube::runtime::controller::Action;
use kube::{Client, Resource, ResourceExt};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::conditions::{ConditionStatus, Summary, set_summary};
use super::events::{EventIntent, EventPublisher};
use crate::api::common::Conditions;

/// First back-off after a transient failure.
const BACKOFF_BASE: Duration = Duration::from_secs(1);
/// Longest back-off.
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Whether waiting helps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// Retry with back-off.
    Transient,
    /// Report on the object and wait for a change.
    Permanent,
}

/// What a user can do about a permanent failure when nothing more specific is known.
pub const DEFAULT_REMEDY: &str = "fix the cause, then change the object to retry";

/// What the shared policy needs to know of a controller's error.
pub trait ReconcileError: std::error::Error {
    /// PascalCase category: the Event reason and the metric label.
    fn category(&self) -> &'static str;
    /// Transient or permanent.
    fn class(&self) -> ErrorClass;
    /// What a user can do about it (appended to a permanent failure's message).
    fn remedy(&self) -> &'static str {
        DEFAULT_REMEDY
    }
}

/// What a user can do about a permanent API answer: 403 names the missing permission, 400 and
/// 422 say that the object rendered from the spec was refused.
pub fn remedy_for_kube(error: &kube::Error) -> &'static str {
    match error {
        kube::Error::Api(status) if status.code == 403 => {
            "grant the controller's service account that permission (the chart's RBAC role), then change the object to retry"
        }
        kube::Error::Api(status) if status.code == 400 || status.code == 422 => {
            "the API server refused what Slipway rendered from the spec: fix the field it names, then change the object to retry"
        }
        _ => DEFAULT_REMEDY,
    }
}

/// The class of a kube client error: 400, 403 and 422 are permanent; not found, conflicts,
/// throttling, server errors and transport failures are transient (the object may appear, the
/// conflict resolve, the server recover).
pub fn classify_kube(error: &kube::Error) -> ErrorClass {
    match error {
        kube::Error::Api(status) => classify_status(status.code),
        _ => ErrorClass::Transient,
    }
}

/// The class of an HTTP status code answered by the API server.
pub fn classify_status(code: u16) -> ErrorClass {
    match code {
        400 | 403 | 422 => ErrorClass::Permanent,
        _ => ErrorClass::Transient,
    }
}

/// Labels of a controller's error counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// The error's category.
    pub category: String,
}

/// Per-object back-off state and the error counter of one controller.
pub struct ErrorPolicy {
    kind: &'static str,
    failures: Mutex<HashMap<String, u32>>,
    errors: Family<ErrorLabels, Counter>,
}

impl ErrorPolicy {
    /// A policy for `kind`, counting into `errors`.
    pub fn new(kind: &'static str, errors: Family<ErrorLabels, Counter>) -> Self {
        Self {
            kind,
            failures: Mutex::new(HashMap::new()),
            errors,
        }
    }

    /// What to do after `error` on `object`: count it, log it, and requeue with back-off
    /// (transient) or wait for a change (permanent; the reconcile reported it already).
    pub fn on_error<K, E>(&self, object: &K, error: &E) -> Action
    where
        K: Resource,
        E: ReconcileError,
    {
        let category = error.category();
        self.errors
            .get_or_create(&ErrorLabels {
                category: category.to_owned(),
            })
            .inc();
        let key = object_key(object);
        match error.class() {
            ErrorClass::Permanent => {
                tracing::warn!(%error, category, kind = self.kind, object = %key, "reconcile failed; waiting for a change");
                self.forget(&key);
                Action::await_change()
            }
            ErrorClass::Transient => {
                let failures = {
                    let mut failures = self
                        .failures
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let count = failures.entry(key.clone()).or_insert(0);
                    *count = count.saturating_add(1);
                    *count
                };
                let delay = backoff(failures, fastrand::f64());
                tracing::warn!(%error, category, kind = self.kind, object = %key, retry_in = ?delay, "reconcile failed; retrying");
                Action::requeue(delay)
            }
        }
    }

    /// Resets `object`'s back-off after a successful reconcile.
    pub fn on_success<K: Resource>(&self, object: &K) {
        self.forget(&object_key(object));
    }

    fn forget(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }
}

/// The back-off after the `failures`-th failure in a row, with `jitter` in [0, 1) spread ±20 %.
pub fn backoff(failures: u32, jitter: f64) -> Duration {
    let exponent = failures.saturating_sub(1).min(16);
    let base = BACKOFF_BASE
        .saturating_mul(1 << exponent)
        .min(BACKOFF_MAX)
        .as_secs_f64();
    let spread = base * 0.4 * (jitter.clamp(0.0, 1.0) - 0.5);
    Duration::from_secs_f64((base + spread).max(0.1))
}

fn object_key<K: Resource>(object: &K) -> String {
    format!(
        "{}/{}",
        object.meta().namespace.as_deref().unwrap_or(""),
        object.meta().name.as_deref().unwrap_or("")
    )
}

/// A kind's status as the permanent-error report edits it.
pub trait ReportableStatus: Clone + Default + PartialEq + Serialize {
    /// The status's conditions.
    fn conditions_mut(&mut self) -> &mut Conditions;
    /// Sets `observedGeneration` and the one-line message.
    fn set_observed(&mut self, generation: Option<i64>, message: &str);
    /// The stored message (to publish the Event once per message).
    fn message(&self) -> Option<&str>;
    /// The primary condition's status while a permanent failure blocks the object: `False`,
    /// or `Unknown` for a bounded run that has not ended (a blocked BuildRun has not failed;
    /// a pipeline reading `Succeeded=False` would take it for a failed build).
    fn blocked_primary_status(&self) -> ConditionStatus {
        ConditionStatus::False
    }
}

/// Records a permanent failure on `object`: its primary condition (`Ready` or `Succeeded`)
/// False (see [`ReportableStatus::blocked_primary_status`]), `Stalled` True and `Reconciling` False with `reason` and `message`, the message as
/// `status.message`, and — when the message is new — a Warning Event. One status write.
///
/// # Errors
/// When the status write fails (the caller then falls back to the back-off).
pub async fn report_permanent<K, S>(
    client: &Client,
    events: &EventPublisher,
    object: &K,
    stored: Option<&S>,
    primary: &'static str,
    reason: &'static str,
    message: &str,
) -> Result<(), super::StatusError>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + Debug
        + DeserializeOwned,
    S: ReportableStatus,
{
    let mut status = stored.cloned().unwrap_or_default();
    let first = status.message() != Some(message);
    let generation = object.meta().generation;
    let primary_status = status.blocked_primary_status();
    status.set_observed(generation, message);
    set_summary(
        status.conditions_mut(),
        &Summary {
            primary,
            status: primary_status,
            reconciling: false,
            stalled: true,
            reason,
            message,
        },
        generation,
        super::status::whole_seconds(Timestamp::now()),
    );
    super::write_status(client, object, stored, &status).await?;
    if first {
        events
            .publish(object, &EventIntent::warning(reason, message))
            .await;
        tracing::warn!(reason, kind = %K::kind(&()), name = %object.name_any(), "{message}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_five_minutes_with_a_bounded_spread() {
        assert_eq!(backoff(1, 0.5), Duration::from_secs(1));
        assert_eq!(backoff(2, 0.5), Duration::from_secs(2));
        assert_eq!(backoff(4, 0.5), Duration::from_secs(8));
        assert_eq!(backoff(30, 0.5), Duration::from_secs(300));
        assert_eq!(backoff(3, 0.0), Duration::from_secs_f64(3.2));
        assert_eq!(backoff(3, 1.0), Duration::from_secs_f64(4.8));
    }

    #[test]
    fn forbidden_and_invalid_are_permanent_the_rest_transient() {
        for code in [400, 403, 422] {
            assert_eq!(classify_status(code), ErrorClass::Permanent, "{code}");
        }
        for code in [404, 409, 429, 500, 503, 504] {
            assert_eq!(classify_status(code), ErrorClass::Transient, "{code}");
        }
    }
}
