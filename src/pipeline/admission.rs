//! Stage admission: which run may enter a stage, serialized through the API.
//!
//! In the `Superseded` and `Queued` execution modes a stage holds one run at a time. The holder of
//! each stage is written in one annotation on the Pipeline, [`STAGE_LOCKS_ANNOTATION`], a JSON
//! object `{"<stage>": {"execution": "<name>", "uid": "<uid>"}}`. A run changes it with a JSON
//! merge patch carrying the `resourceVersion` of the Pipeline it decided on, so of two runs (or two
//! replicas, or a run and its own restarted controller) deciding on the same Pipeline only one
//! write lands; the other gets 409, reads again and decides again. Entering the next stage and
//! leaving the current one is one write, so a run never holds two stages or none in between.
//!
//! # Guarantees
//! - No two runs are admitted into one stage: admission needs a write that names the run as the
//!   holder, over a version in which the stage was free or its holder was stale.
//! - A crash at any point resumes: a run that holds a stage (per the annotation) but whose status
//!   does not say so yet is still the holder after a restart and carries on.
//!
//! # Staleness
//! A holder is **stale** — its entry may be replaced — only when it can no longer be in the stage:
//! the run is gone, has ended, or its status shows the stage finished. A run that has not yet
//! written that it entered (it acquired and then crashed) is live. Independently of the
//! annotation, a stage in which any run's status shows `InProgress` is occupied, so an annotation
//! wiped by a `kubectl replace` of the Pipeline cannot admit a second run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::runtime::labels::STAGE_LOCKS_ANNOTATION;

/// The run holding a stage.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct LockHolder {
    /// The execution's name.
    pub execution: String,
    /// The execution's UID.
    pub uid: String,
}

/// Stage name → holder, as the annotation holds it.
pub type StageLocks = BTreeMap<String, LockHolder>;

/// The locks written on a Pipeline; an unreadable annotation reads as no locks (and the
/// occupancy of stages by run status still applies).
pub fn read_locks(annotations: Option<&BTreeMap<String, String>>) -> StageLocks {
    annotations
        .and_then(|annotations| annotations.get(STAGE_LOCKS_ANNOTATION))
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// A change of the locks one run asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockChange {
    /// The stage to take.
    pub acquire: Option<String>,
    /// The stages to give up.
    pub release: Vec<String>,
}

impl LockChange {
    /// Whether the change changes nothing in `locks` for `holder`.
    pub fn is_noop(&self, locks: &StageLocks, holder: &LockHolder) -> bool {
        self.acquire
            .as_ref()
            .is_none_or(|stage| locks.get(stage) == Some(holder))
            && self
                .release
                .iter()
                .all(|stage| locks.get(stage) != Some(holder))
    }

    /// `locks` after the change (a release only drops entries `holder` holds).
    pub fn applied_to(&self, locks: &StageLocks, holder: &LockHolder) -> StageLocks {
        let mut next = locks.clone();
        for stage in &self.release {
            if next.get(stage) == Some(holder) {
                next.remove(stage);
            }
        }
        if let Some(stage) = &self.acquire {
            next.insert(stage.clone(), holder.clone());
        }
        next
    }
}

/// The merge patch writing `locks` on a Pipeline read at `resource_version` (409 when it changed).
pub fn lock_patch(resource_version: &str, locks: &StageLocks) -> serde_json::Value {
    let value = if locks.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::Value::String(serde_json::to_string(locks).unwrap_or_default())
    };
    json!({
        "metadata": {
            "resourceVersion": resource_version,
            "annotations": { STAGE_LOCKS_ANNOTATION: value }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(name: &str) -> LockHolder {
        LockHolder {
            execution: name.into(),
            uid: format!("{name}-uid"),
        }
    }

    #[test]
    fn moving_to_the_next_stage_takes_it_and_gives_up_the_last_in_one_change() {
        let locks = StageLocks::from([("Build".into(), holder("a"))]);
        let change = LockChange {
            acquire: Some("Deploy".into()),
            release: vec!["Build".into()],
        };
        let next = change.applied_to(&locks, &holder("a"));
        assert_eq!(next, StageLocks::from([("Deploy".into(), holder("a"))]));
        assert!(!change.is_noop(&locks, &holder("a")));
        assert!(
            change.is_noop(&next, &holder("a")),
            "idempotent once applied"
        );
    }

    #[test]
    fn a_release_never_drops_another_runs_lock() {
        let locks = StageLocks::from([("Build".into(), holder("b"))]);
        let change = LockChange {
            acquire: None,
            release: vec!["Build".into()],
        };
        assert_eq!(change.applied_to(&locks, &holder("a")), locks);
        assert!(change.is_noop(&locks, &holder("a")));
    }

    #[test]
    fn the_annotation_round_trips_and_garbage_reads_as_no_locks() {
        let locks = StageLocks::from([("Build".into(), holder("a"))]);
        let patch = lock_patch("42", &locks);
        assert_eq!(patch["metadata"]["resourceVersion"], "42");
        let text = patch["metadata"]["annotations"][STAGE_LOCKS_ANNOTATION]
            .as_str()
            .unwrap()
            .to_owned();
        let annotations = BTreeMap::from([(STAGE_LOCKS_ANNOTATION.to_owned(), text)]);
        assert_eq!(read_locks(Some(&annotations)), locks);
        let garbage = BTreeMap::from([(STAGE_LOCKS_ANNOTATION.to_owned(), "{oops".to_owned())]);
        assert!(read_locks(Some(&garbage)).is_empty());
        assert!(
            lock_patch("1", &StageLocks::new())["metadata"]["annotations"][STAGE_LOCKS_ANNOTATION]
                .is_null()
        );
    }
}
