//! Fault injection: chosen requests answer 409/429/500 (or any code) or are delayed, by verb,
//! resource, namespace and name, a number of times or with a probability. Applies to HTTP
//! requests only (the simulators' internal calls are not faulted).

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::ApiError;
use crate::gvr::GroupResource;

/// One fault rule. Unset filters match everything.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    /// Verb: get, list, watch, create, update, patch, delete, deletecollection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<String>,
    /// Resource: plural (`pipelines`) or plural.group (`pipelines.slipway.dev`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Subresource (`status`, `scale`); unset matches any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Object name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The HTTP code to answer (409, 429, 500, …); unset for a pure delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Delay before the request is handled, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// How many more requests it hits; unset for unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Chance (0–1) that a matching request is hit; unset for always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
}

impl Fault {
    /// A fault answering `code`.
    pub fn error(code: u16) -> Self {
        Self {
            code: Some(code),
            ..Self::default()
        }
    }

    /// A fault delaying requests.
    pub fn delay(delay: Duration) -> Self {
        Self {
            delay_ms: Some(delay.as_millis() as u64),
            ..Self::default()
        }
    }

    /// Only this verb.
    pub fn verb(mut self, verb: &str) -> Self {
        self.verb = Some(verb.to_string());
        self
    }

    /// Only this resource (`pipelines` or `pipelines.slipway.dev`).
    pub fn resource(mut self, resource: &str) -> Self {
        self.resource = Some(resource.to_string());
        self
    }

    /// Only this subresource.
    pub fn subresource(mut self, subresource: &str) -> Self {
        self.subresource = Some(subresource.to_string());
        self
    }

    /// Only this namespace.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_string());
        self
    }

    /// Only this object.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// At most `count` times.
    pub fn times(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    /// With this probability.
    pub fn probability(mut self, probability: f64) -> Self {
        self.probability = Some(probability);
        self
    }
}

/// What a request is, for matching.
#[derive(Clone, Debug, Default)]
pub struct Target<'a> {
    /// Verb.
    pub verb: &'a str,
    /// Group and resource, for resource requests.
    pub resource: Option<&'a GroupResource>,
    /// Subresource.
    pub subresource: Option<&'a str>,
    /// Namespace.
    pub namespace: Option<&'a str>,
    /// Name.
    pub name: Option<&'a str>,
}

/// What to do to one request.
#[derive(Clone, Debug, Default)]
pub struct Decision {
    /// Wait this long first.
    pub delay: Duration,
    /// Then answer this error instead of handling the request.
    pub error: Option<ApiError>,
}

/// The active fault rules.
#[derive(Debug)]
pub struct Faults {
    rules: Mutex<Vec<(u64, Fault)>>,
    next_id: Mutex<u64>,
    random: Mutex<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        let seed = uuid::Uuid::new_v4().as_u128() as u64 | 1;
        Self {
            rules: Mutex::default(),
            next_id: Mutex::new(1),
            random: Mutex::new(seed),
        }
    }
}

fn matches(fault: &Fault, target: &Target<'_>) -> bool {
    let resource_matches = match (&fault.resource, target.resource) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(wanted), Some(resource)) => {
            *wanted == resource.resource || *wanted == resource.to_string()
        }
    };
    resource_matches
        && fault.verb.as_deref().is_none_or(|verb| verb == target.verb)
        && fault
            .subresource
            .as_deref()
            .is_none_or(|sub| Some(sub) == target.subresource)
        && fault
            .namespace
            .as_deref()
            .is_none_or(|ns| Some(ns) == target.namespace)
        && fault
            .name
            .as_deref()
            .is_none_or(|name| Some(name) == target.name)
}

fn error_for(code: u16, target: &Target<'_>) -> ApiError {
    match (code, target.resource, target.name) {
        (409, Some(resource), Some(name)) => ApiError::stale(resource, name),
        (409, _, _) => ApiError::new(409, "Conflict", "injected conflict", None),
        (429, _, _) => ApiError::too_many_requests(),
        (500, _, _) => ApiError::internal("injected fault"),
        (503, _, _) => ApiError::new(503, "ServiceUnavailable", "injected fault", None),
        (404, Some(resource), Some(name)) => ApiError::not_found(resource, name),
        _ => ApiError::new(
            code,
            "InternalError",
            format!("injected fault ({code})"),
            Some(json!({})),
        ),
    }
}

impl Faults {
    /// Adds a rule; returns its id.
    pub fn inject(&self, fault: Fault) -> u64 {
        let mut next = self
            .next_id
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = *next;
        *next += 1;
        self.lock_rules().push((id, fault));
        id
    }

    /// Removes one rule.
    pub fn remove(&self, id: u64) {
        self.lock_rules().retain(|(rule, _)| *rule != id);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock_rules().clear();
    }

    /// The active rules with their ids.
    pub fn list(&self) -> Vec<(u64, Fault)> {
        self.lock_rules().clone()
    }

    fn lock_rules(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Fault)>> {
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A uniform number in [0, 1) (xorshift; tests need no better).
    fn roll(&self) -> f64 {
        let mut state = self
            .random
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        (*state >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Decides the fate of one request, spending counts of the rules that hit it.
    pub fn decide(&self, target: &Target<'_>) -> Decision {
        let mut decision = Decision::default();
        let mut rules = self.lock_rules();
        for (_, fault) in rules.iter_mut() {
            if !matches(fault, target) || fault.count == Some(0) {
                continue;
            }
            if let Some(probability) = fault.probability
                && self.roll() >= probability
            {
                continue;
            }
            if let Some(count) = fault.count.as_mut() {
                *count -= 1;
            }
            decision.delay += Duration::from_millis(fault.delay_ms.unwrap_or(0));
            if decision.error.is_none()
                && let Some(code) = fault.code
            {
                decision.error = Some(error_for(code, target));
            }
        }
        rules.retain(|(_, fault)| fault.count != Some(0));
        decision
    }
}
