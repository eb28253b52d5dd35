//! The retained window of changes: what watches replay from a `resourceVersion` and what
//! paginated lists rewind through for a consistent snapshot.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde_json::Value;

use crate::gvr::GroupResource;

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Removed from storage.
    Deleted,
}

impl EventKind {
    /// The watch event `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One committed change (one revision).
#[derive(Debug)]
pub struct Change {
    /// The revision this change created (the object's new `resourceVersion`).
    pub revision: u64,
    /// The collection it happened in.
    pub resource: GroupResource,
    /// Storage key (`namespace/name` or `name`).
    pub key: String,
    /// What happened.
    pub kind: EventKind,
    /// The object after the change (for deletions: the last state, with the deletion revision).
    pub object: Arc<Value>,
    /// The object before the change (`None` for creations).
    pub previous: Option<Arc<Value>>,
    /// `object` serialised once, shared by every watch that sends it unchanged.
    encoded: OnceLock<Bytes>,
}

impl Change {
    /// A change record.
    pub fn new(
        revision: u64,
        resource: GroupResource,
        key: String,
        kind: EventKind,
        object: Arc<Value>,
        previous: Option<Arc<Value>>,
    ) -> Self {
        Self {
            revision,
            resource,
            key,
            kind,
            object,
            previous,
            encoded: OnceLock::new(),
        }
    }

    /// The object as JSON bytes, serialised on first use.
    pub fn encoded(&self) -> Bytes {
        self.encoded
            .get_or_init(|| Bytes::from(serde_json::to_vec(&*self.object).unwrap_or_default()))
            .clone()
    }
}

/// A version older than the retained window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expired {
    /// The newest revision no longer retained (the apiserver prints it in `too old resource
    /// version: 5 (10)`).
    pub compacted_through: u64,
}

/// The last `window` changes.
#[derive(Debug)]
pub struct History {
    changes: VecDeque<Arc<Change>>,
    window: usize,
    compacted_through: u64,
}

impl History {
    /// An empty history keeping at most `window` changes.
    pub fn new(window: usize) -> Self {
        Self {
            changes: VecDeque::new(),
            window,
            compacted_through: 0,
        }
    }

    /// Appends a change, dropping the oldest beyond the window.
    pub fn push(&mut self, change: Arc<Change>) {
        self.changes.push_back(change);
        self.trim();
    }

    /// Changes the window size (dropping what no longer fits).
    pub fn set_window(&mut self, window: usize) {
        self.window = window;
        self.trim();
    }

    /// The window size.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Drops every retained change: any older `resourceVersion` now expires.
    pub fn compact(&mut self, current: u64) {
        self.changes.clear();
        self.compacted_through = current;
    }

    fn trim(&mut self) {
        while self.changes.len() > self.window {
            if let Some(dropped) = self.changes.pop_front() {
                self.compacted_through = dropped.revision;
            }
        }
    }

    /// The newest revision no longer retained.
    pub fn compacted_through(&self) -> u64 {
        self.compacted_through
    }

    /// Changes with a revision above `revision`, oldest first.
    ///
    /// # Errors
    /// [`Expired`] when changes after `revision` were already dropped.
    pub fn since(&self, revision: u64) -> Result<Vec<Arc<Change>>, Expired> {
        if revision < self.compacted_through {
            return Err(Expired {
                compacted_through: self.compacted_through,
            });
        }
        let start = self
            .changes
            .partition_point(|change| change.revision <= revision);
        Ok(self.changes.range(start..).cloned().collect())
    }

    /// Whether a snapshot at `revision` can still be rebuilt.
    pub fn covers(&self, revision: u64) -> bool {
        revision >= self.compacted_through
    }

    /// Changes above `revision` (newest first), for rewinding; assumes [`History::covers`].
    pub fn newer_than_reversed(&self, revision: u64) -> impl Iterator<Item = &Arc<Change>> {
        let start = self
            .changes
            .partition_point(|change| change.revision <= revision);
        self.changes.range(start..).rev()
    }
}
