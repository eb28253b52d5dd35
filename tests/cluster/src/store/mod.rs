//! Object storage: one ordered collection per group-resource, a global revision counter (as
//! etcd's), and the history of changes.
//!
//! The store knows nothing of API semantics; it stamps `metadata.resourceVersion` and records
//! changes. Keys sort as etcd keys do (`namespace/name`), which is the apiserver's list order.

mod history;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

pub use history::{Change, EventKind, Expired, History};

use crate::gvr::GroupResource;

/// Storage key of an object: `namespace/name`, or `name` when cluster-scoped.
pub fn object_key(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(namespace) if !namespace.is_empty() => format!("{namespace}/{name}"),
        _ => name.to_string(),
    }
}

/// The prefix of every key in a namespace.
pub fn namespace_prefix(namespace: &str) -> String {
    format!("{namespace}/")
}

/// All objects, the revision counter and the change history.
#[derive(Debug)]
pub struct Store {
    collections: HashMap<GroupResource, BTreeMap<String, Arc<Value>>>,
    revision: u64,
    history: History,
}

impl Store {
    /// An empty store retaining `window` changes.
    pub fn new(window: usize) -> Self {
        Self {
            collections: HashMap::new(),
            revision: 1,
            history: History::new(window),
        }
    }

    /// The current revision (the newest `resourceVersion`).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The change history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The change history, mutably (window size, compaction).
    pub fn history_mut(&mut self) -> &mut History {
        &mut self.history
    }

    /// One object.
    pub fn get(&self, resource: &GroupResource, key: &str) -> Option<Arc<Value>> {
        self.collections.get(resource)?.get(key).cloned()
    }

    /// A whole collection (empty when none was ever written).
    pub fn collection(&self, resource: &GroupResource) -> Option<&BTreeMap<String, Arc<Value>>> {
        self.collections.get(resource)
    }

    /// Every collection.
    pub fn collections(
        &self,
    ) -> impl Iterator<Item = (&GroupResource, &BTreeMap<String, Arc<Value>>)> {
        self.collections.iter()
    }

    /// Writes `object` at `key` with a new revision and records the change.
    pub fn put(&mut self, resource: &GroupResource, key: &str, mut object: Value) -> Arc<Change> {
        self.revision += 1;
        object["metadata"]["resourceVersion"] = Value::String(self.revision.to_string());
        let object = Arc::new(object);
        let previous = self
            .collections
            .entry(resource.clone())
            .or_default()
            .insert(key.to_string(), object.clone());
        let kind = if previous.is_some() {
            EventKind::Modified
        } else {
            EventKind::Added
        };
        self.record(resource, key, kind, object, previous)
    }

    /// Removes the object at `key` (if any) with a new revision and records the change.
    pub fn remove(&mut self, resource: &GroupResource, key: &str) -> Option<Arc<Change>> {
        let previous = self.collections.get_mut(resource)?.remove(key)?;
        self.revision += 1;
        let mut last = (*previous).clone();
        last["metadata"]["resourceVersion"] = Value::String(self.revision.to_string());
        Some(self.record(
            resource,
            key,
            EventKind::Deleted,
            Arc::new(last),
            Some(previous),
        ))
    }

    /// Drops a whole collection without recording changes (its resource is gone).
    pub fn drop_collection(&mut self, resource: &GroupResource) {
        self.collections.remove(resource);
    }

    fn record(
        &mut self,
        resource: &GroupResource,
        key: &str,
        kind: EventKind,
        object: Arc<Value>,
        previous: Option<Arc<Value>>,
    ) -> Arc<Change> {
        let change = Arc::new(Change::new(
            self.revision,
            resource.clone(),
            key.to_string(),
            kind,
            object,
            previous,
        ));
        self.history.push(change.clone());
        change
    }

    /// The collection as it was at `revision`, from `start` (inclusive) on, in key order.
    ///
    /// # Errors
    /// [`Expired`] when the history no longer reaches back to `revision`.
    pub fn snapshot(
        &self,
        resource: &GroupResource,
        revision: u64,
        start: &str,
    ) -> Result<Vec<(String, Arc<Value>)>, Expired> {
        let current = self.collections.get(resource);
        let range = || {
            current
                .into_iter()
                .flat_map(move |collection| collection.range(start.to_string()..))
        };
        if revision >= self.revision {
            return Ok(range()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect());
        }
        if !self.history.covers(revision) {
            return Err(Expired {
                compacted_through: self.history.compacted_through(),
            });
        }
        // Undo newer changes, newest first, so each key ends at its state as of `revision`.
        let mut rewound: HashMap<&str, Option<Arc<Value>>> = HashMap::new();
        for change in self.history.newer_than_reversed(revision) {
            if change.resource == *resource {
                let before = match change.kind {
                    EventKind::Added => None,
                    EventKind::Modified | EventKind::Deleted => change.previous.clone(),
                };
                rewound.insert(change.key.as_str(), before);
            }
        }
        let mut merged: BTreeMap<String, Arc<Value>> = range()
            .filter(|(key, _)| !rewound.contains_key(key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        for (key, before) in rewound {
            if let Some(before) = before
                && key >= start
            {
                merged.insert(key.to_string(), before);
            }
        }
        Ok(merged.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pods() -> GroupResource {
        GroupResource {
            group: String::new(),
            resource: "pods".to_string(),
        }
    }

    #[test]
    fn snapshots_rewind_creates_updates_and_deletes() {
        let mut store = Store::new(100);
        store.put(&pods(), "ns/a", json!({"metadata": {"name": "a"}, "v": 1}));
        store.put(&pods(), "ns/b", json!({"metadata": {"name": "b"}, "v": 1}));
        let at = store.revision();
        store.put(&pods(), "ns/a", json!({"metadata": {"name": "a"}, "v": 2}));
        store.remove(&pods(), "ns/b");
        store.put(&pods(), "ns/c", json!({"metadata": {"name": "c"}, "v": 1}));
        let snapshot = store.snapshot(&pods(), at, "").unwrap();
        let keys: Vec<_> = snapshot
            .iter()
            .map(|(key, value)| (key.as_str(), value["v"].clone()))
            .collect();
        assert_eq!(keys, vec![("ns/a", json!(1)), ("ns/b", json!(1))]);
        let tail = store.snapshot(&pods(), at, "ns/b").unwrap();
        assert_eq!(tail.len(), 1);
        let revision = store.revision();
        store.history_mut().compact(revision);
        assert!(store.snapshot(&pods(), at, "").is_err());
    }

    #[test]
    fn history_replays_from_a_revision_and_expires_beyond_the_window() {
        let mut store = Store::new(2);
        for name in ["a", "b", "c"] {
            store.put(&pods(), name, json!({"metadata": {"name": name}}));
        }
        assert_eq!(store.history().since(3).unwrap().len(), 1);
        assert_eq!(store.history().since(2).unwrap().len(), 2);
        assert_eq!(store.history().since(1).unwrap_err().compacted_through, 2);
    }
}
