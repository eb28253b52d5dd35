//! What the apply step ran outside the API and the next observe reports: HTTP hook answers,
//! per record UID. (Probe results need no memory: observe runs the probes and the same
//! reconcile's decision folds them; see [`super::probing`].)
//!
//! # Why memory is enough (restart safety)
//! Nothing here changes an outcome after a restart; it only carries an answer until the
//! decision folds it into status, which is what persists: an HTTP hook's answer is folded into
//! `status.lifecycleEvents[]` by the next reconcile. A restart while the call is in flight calls
//! again (HTTP hooks are at-least-once, as the `hooks` module documents); a Job hook lives in
//! the API and runs once.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::rollout::hooks::{HookObservation, HookOutcome};

/// HTTP hook answers per record UID.
#[derive(Debug, Default)]
pub struct Memory {
    inner: Mutex<BTreeMap<String, Entry>>,
}

#[derive(Debug, Default)]
struct Entry {
    hooks: BTreeMap<String, HookOutcome>,
}

impl Memory {
    fn with<T>(&self, uid: &str, work: impl FnOnce(&mut Entry) -> T) -> T {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        work(inner.entry(uid.to_owned()).or_default())
    }

    /// Marks HTTP hook `child` as started; false when it was started already.
    pub fn start_hook(&self, uid: &str, child: &str) -> bool {
        self.with(uid, |entry| {
            if entry.hooks.contains_key(child) {
                return false;
            }
            entry.hooks.insert(child.to_owned(), HookOutcome::Running);
            true
        })
    }

    /// Records the end of HTTP hook `child`.
    pub fn finish_hook(&self, uid: &str, child: &str, outcome: HookOutcome) {
        self.with(uid, |entry| {
            entry.hooks.insert(child.to_owned(), outcome);
        });
    }

    /// HTTP hook children and how they are doing.
    pub fn hooks(&self, uid: &str) -> Vec<HookObservation> {
        self.with(uid, |entry| {
            entry
                .hooks
                .iter()
                .map(|(child, outcome)| HookObservation {
                    child_name: child.clone(),
                    outcome: outcome.clone(),
                })
                .collect()
        })
    }

    /// Forgets a record (it ended or was deleted).
    pub fn forget(&self, uid: &str) {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(uid);
    }
}
