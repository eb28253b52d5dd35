//! What a reconcile ran outside the API and later reconciles report, per record UID: HTTP hook
//! answers (from apply's tasks) and probe results (from observe, see [`super::probing`]).
//!
//! # Why probe results are kept
//! The reconcile that runs a probe folds its result, but the next reconcile may start from the
//! controller's cache before that status write reached it. Over such a stale status the
//! result would be lost (the failure counted once, not twice, so a crossing threshold acts one
//! interval late) and the probe would look due again. Kept results are folded again (once: a
//! result no newer than the persisted `lastProbeTime` is not counted) and make the probe not due.
//!
//! # Why memory is enough (restart safety)
//! Nothing here changes an outcome after a restart; it only carries results until the decision
//! folds them into status, which is what persists:
//! - A probe result is folded into `status.healthChecks[]` (counts, `lastProbeTime`) by the very
//!   reconcile that ran the probe and written in its status write. A restart before that write
//!   loses the result; the status still asks for the same probe number, so it is probed again —
//!   never counted twice, never lost as a verdict.
//! - An HTTP hook's answer is folded into `status.lifecycleEvents[]` by the next reconcile. A
//!   restart while the call is in flight calls again (HTTP hooks are at-least-once, as the
//!   `hooks` module documents); a Job hook lives in the API and runs once.
//!
//! Result times are whole seconds (what `metav1.Time` stores), so a result kept here is never
//! newer than its own persisted `lastProbeTime` and cannot be folded twice.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::rollout::health::ProbeResult;
use crate::rollout::hooks::{HookObservation, HookOutcome};

/// HTTP hook answers and probe results per record UID.
#[derive(Debug, Default)]
pub struct Memory {
    inner: Mutex<BTreeMap<String, Entry>>,
}

#[derive(Debug, Default)]
struct Entry {
    hooks: BTreeMap<String, HookOutcome>,
    probes: Vec<ProbeResult>,
}

/// Probe results kept per check (older ones are folded already).
const KEPT_PER_CHECK: usize = 4;

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

    /// Keeps a probe result for later reconciles.
    pub fn add_probe(&self, uid: &str, result: ProbeResult) {
        self.with(uid, |entry| {
            entry.probes.push(result.clone());
            let same: Vec<usize> = entry
                .probes
                .iter()
                .enumerate()
                .filter(|(_, kept)| kept.check == result.check)
                .map(|(index, _)| index)
                .collect();
            if same.len() > KEPT_PER_CHECK {
                entry.probes.remove(same[0]);
            }
        });
    }

    /// The kept probe results.
    pub fn probes(&self, uid: &str) -> Vec<ProbeResult> {
        self.with(uid, |entry| entry.probes.clone())
    }

    /// Forgets a record (it ended or was deleted).
    pub fn forget(&self, uid: &str) {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(uid);
    }
}
