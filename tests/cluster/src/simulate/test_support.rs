//! Fixtures shared by the decision-function tests.

use std::time::Duration;

use serde_json::Value;

use super::intent::{Intent, Kind};
use super::time::{Timestamp, add};

/// A fixed instant plus `millis`.
pub fn at(millis: u64) -> Timestamp {
    let base: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
    add(base, Duration::from_millis(millis))
}

/// Parses a YAML-ish JSON fixture.
pub fn object(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// The status written by the single `UpdateStatus` intent of `kind`.
pub fn written_status(intents: &[Intent], kind: Kind) -> Value {
    let statuses: Vec<&Value> = intents
        .iter()
        .filter_map(|i| match i {
            Intent::UpdateStatus { kind: k, object } if *k == kind => Some(&object["status"]),
            _ => None,
        })
        .collect();
    assert_eq!(
        statuses.len(),
        1,
        "expected one status write of {kind:?} in {intents:#?}"
    );
    statuses[0].clone()
}

/// Objects created by the intents, of `kind`.
pub fn created(intents: &[Intent], kind: Kind) -> Vec<Value> {
    intents
        .iter()
        .filter_map(|i| match i {
            Intent::Create { kind: k, object } if *k == kind => Some(object.clone()),
            _ => None,
        })
        .collect()
}

/// Names deleted by the intents, of `kind`.
pub fn deleted(intents: &[Intent], kind: Kind) -> Vec<String> {
    intents
        .iter()
        .filter_map(|i| match i {
            Intent::Delete { kind: k, name, .. } if *k == kind => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// The recheck time, if any.
pub fn recheck(intents: &[Intent]) -> Option<Timestamp> {
    intents.iter().find_map(|i| match i {
        Intent::RecheckAt { at } => Some(*at),
        _ => None,
    })
}

/// Applies the status write of `kind` (if any) to `object`, as the cluster would.
pub fn apply_status(object: &mut Value, intents: &[Intent], kind: Kind) {
    for intent in intents {
        if let Intent::UpdateStatus {
            kind: k,
            object: updated,
        } = intent
            && *k == kind
        {
            object["status"] = updated["status"].clone();
        }
    }
}

/// The condition of `condition_type` in a status.
pub fn status_condition<'a>(status: &'a Value, condition_type: &str) -> &'a Value {
    status["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == condition_type))
        .unwrap_or_else(|| panic!("no {condition_type} condition in {status:#}"))
}
