//! Status conditions with the Kubernetes shape, shared by every kind: the type constants, one
//! [`set_condition`], and [`set_summary`] for the kstatus trio every controller writes.
//!
//! # Why one place
//! kstatus (Flux, kpt) and Argo CD read `Ready` (long-lived kinds) or `Succeeded` (bounded
//! runs) together with `Reconciling` and `Stalled`; a controller that sets one of them in a way
//! another does not confuses those tools. `lastTransitionTime` moves only when a condition's
//! status moves, so a reconcile over an unchanged world computes an equal status and writes
//! nothing (see [`super::status`]).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

/// Condition of long-lived kinds (Pipeline, Deployment): the object is what its spec asks.
pub const READY: &str = "Ready";
/// Condition of bounded runs (PipelineExecution, BuildRun): Unknown while running, then True/False.
pub const SUCCEEDED: &str = "Succeeded";
/// Condition (kstatus): the controller is still working towards the spec.
pub const RECONCILING: &str = "Reconciling";
/// Condition (kstatus): only a user can unblock the object (or it ended in failure).
pub const STALLED: &str = "Stalled";

/// A condition's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionStatus {
    /// `True`.
    True,
    /// `False`.
    False,
    /// `Unknown`.
    Unknown,
}

impl ConditionStatus {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }
}

impl From<bool> for ConditionStatus {
    fn from(value: bool) -> Self {
        if value {
            ConditionStatus::True
        } else {
            ConditionStatus::False
        }
    }
}

/// Sets condition `type_`, keeping `lastTransitionTime` while its status stays; conditions are
/// kept sorted by type so the same facts always serialize the same.
pub fn set_condition(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: impl Into<ConditionStatus>,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: Timestamp,
) {
    let status = status.into().as_str();
    let transition = conditions
        .iter()
        .find(|condition| condition.type_ == type_ && condition.status == status)
        .map_or(Time(now), |condition| {
            condition.last_transition_time.clone()
        });
    conditions.retain(|condition| condition.type_ != type_);
    conditions.push(Condition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: reason.to_owned(),
        message: message.to_owned(),
        observed_generation: generation,
        last_transition_time: transition,
    });
    conditions.sort_by(|left, right| left.type_.cmp(&right.type_));
}

/// The condition of `type_`, if set.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|condition| condition.type_ == type_)
}

/// Whether condition `type_` is `True`.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    find(conditions, type_).is_some_and(|condition| condition.status == "True")
}

/// The kstatus view of an object at one moment: its primary condition and whether work is in
/// flight or only a user can help, with one reason and message for all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary<'a> {
    /// [`READY`] or [`SUCCEEDED`].
    pub primary: &'static str,
    /// The primary condition's status.
    pub status: ConditionStatus,
    /// `Reconciling`: work is in flight.
    pub reconciling: bool,
    /// `Stalled`: only a user can unblock it.
    pub stalled: bool,
    /// One CamelCase word.
    pub reason: &'a str,
    /// One line for people.
    pub message: &'a str,
}

/// Sets the primary condition, `Reconciling` and `Stalled` from `summary`.
pub fn set_summary(
    conditions: &mut Vec<Condition>,
    summary: &Summary<'_>,
    generation: Option<i64>,
    now: Timestamp,
) {
    let Summary {
        primary,
        status,
        reconciling,
        stalled,
        reason,
        message,
    } = *summary;
    set_condition(
        conditions, primary, status, reason, message, generation, now,
    );
    set_condition(
        conditions,
        RECONCILING,
        reconciling,
        reason,
        message,
        generation,
        now,
    );
    set_condition(
        conditions, STALLED, stalled, reason, message, generation, now,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn the_transition_time_stays_while_the_status_stays() {
        let mut conditions = Vec::new();
        set_condition(&mut conditions, READY, true, "Fine", "ok", Some(1), at(10));
        set_condition(
            &mut conditions,
            READY,
            true,
            "StillFine",
            "ok",
            Some(2),
            at(20),
        );
        assert_eq!(conditions[0].last_transition_time, Time(at(10)));
        assert_eq!(conditions[0].reason, "StillFine");
        assert_eq!(conditions[0].observed_generation, Some(2));
        set_condition(
            &mut conditions,
            READY,
            false,
            "Broken",
            "no",
            Some(2),
            at(30),
        );
        assert_eq!(conditions[0].last_transition_time, Time(at(30)));
        assert_eq!(conditions.len(), 1);
    }

    #[test]
    fn conditions_are_sorted_by_type() {
        let mut conditions = Vec::new();
        set_summary(
            &mut conditions,
            &Summary {
                primary: SUCCEEDED,
                status: ConditionStatus::Unknown,
                reconciling: true,
                stalled: false,
                reason: "Running",
                message: "running",
            },
            None,
            at(1),
        );
        let types: Vec<&str> = conditions.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, [RECONCILING, STALLED, SUCCEEDED]);
        assert_eq!(find(&conditions, SUCCEEDED).unwrap().status, "Unknown");
        assert!(is_true(&conditions, RECONCILING));
        assert!(!is_true(&conditions, STALLED));
    }
}
