//! The garbage collector and namespace controller, as a background task: owner-reference
//! cascading (background, foreground with `blockOwnerDeletion`, orphan) and emptying deleted
//! namespaces.
//!
//! Each pass takes a snapshot of every object and decides edits from it (pure: `plan`), then
//! performs them through the normal write path, so every edit is a watch event with a new
//! `resourceVersion`, as the real controllers' API calls are. Owners are matched by UID only.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::cluster::Cluster;
use crate::gvr::GroupResource;
use crate::meta;
use crate::ops::{self, DeleteOptions, Propagation, Target, WriteOptions};

const MANAGER: &str = "generic-garbage-collector";

/// One object of the snapshot.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub resource: GroupResource,
    pub key: String,
    pub object: Arc<Value>,
}

/// An edit the collector decided on.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Edit {
    /// Delete the object with this propagation.
    Delete(usize, Propagation),
    /// Keep only these owner references (dangling or orphaned ones dropped).
    SetOwners(usize, Vec<Value>),
    /// Remove a finalizer the collector owns (`orphan`, `foregroundDeletion`, or a namespace's).
    RemoveFinalizer(usize, &'static str),
    /// Remove a deleting namespace that is now empty.
    FinishNamespace(usize),
}

fn has_finalizer(object: &Value, finalizer: &str) -> bool {
    meta::finalizers(object)
        .iter()
        .any(|found| found == finalizer)
}

/// Decides this pass's edits from a snapshot.
pub(crate) fn plan(entries: &[Entry]) -> Vec<Edit> {
    let by_uid: HashMap<&str, &Entry> = entries
        .iter()
        .map(|entry| (meta::uid(&entry.object), entry))
        .collect();
    let mut edits = Vec::new();
    let mut referenced: HashSet<&str> = HashSet::new();
    let mut blocking: HashSet<&str> = HashSet::new();
    let deleting_namespaces: HashSet<&str> = entries
        .iter()
        .filter(|entry| entry.resource.group.is_empty() && entry.resource.resource == "namespaces")
        .filter(|entry| meta::is_deleting(&entry.object))
        .map(|entry| meta::name(&entry.object))
        .collect();
    let mut occupied: HashSet<&str> = HashSet::new();
    for (index, entry) in entries.iter().enumerate() {
        let object = &entry.object;
        if let Some(namespace) = meta::namespace(object) {
            occupied.insert(namespace);
            if deleting_namespaces.contains(namespace) && !meta::is_deleting(object) {
                edits.push(Edit::Delete(index, Propagation::Background));
                continue;
            }
        }
        let owners = meta::owner_references(object);
        if owners.is_empty() {
            continue;
        }
        let mut kept = Vec::new();
        let (mut alive, mut gone, mut foreground, mut block_foreground) = (0, 0, 0, false);
        for owner in owners {
            let uid = owner.get("uid").and_then(Value::as_str).unwrap_or_default();
            let blocks = owner.get("blockOwnerDeletion").and_then(Value::as_bool) == Some(true);
            match by_uid.get(uid) {
                None => gone += 1,
                Some(found)
                    if meta::is_deleting(&found.object)
                        && has_finalizer(&found.object, ops::ORPHAN) =>
                {
                    continue;
                }
                Some(found)
                    if meta::is_deleting(&found.object)
                        && has_finalizer(&found.object, ops::FOREGROUND) =>
                {
                    foreground += 1;
                    block_foreground |= blocks;
                    referenced.insert(uid);
                    if blocks {
                        blocking.insert(uid);
                    }
                    kept.push(owner.clone());
                    continue;
                }
                Some(_) => {
                    alive += 1;
                    referenced.insert(uid);
                    if blocks {
                        blocking.insert(uid);
                    }
                }
            }
            kept.push(owner.clone());
        }
        if alive == 0 && (gone > 0 || foreground > 0) {
            if !meta::is_deleting(object) {
                let policy = if block_foreground {
                    Propagation::Foreground
                } else {
                    Propagation::Background
                };
                edits.push(Edit::Delete(index, policy));
            }
        } else if (alive > 0 && gone > 0) || kept.len() != owners.len() {
            kept.retain(|owner| {
                by_uid.contains_key(owner.get("uid").and_then(Value::as_str).unwrap_or_default())
            });
            edits.push(Edit::SetOwners(index, kept));
        }
    }
    for (index, entry) in entries.iter().enumerate() {
        let object = &entry.object;
        if !meta::is_deleting(object) {
            continue;
        }
        let uid = meta::uid(object);
        if has_finalizer(object, ops::ORPHAN) && !referenced.contains(uid) {
            edits.push(Edit::RemoveFinalizer(index, ops::ORPHAN));
        }
        if has_finalizer(object, ops::FOREGROUND) && !blocking.contains(uid) {
            edits.push(Edit::RemoveFinalizer(index, ops::FOREGROUND));
        }
        let is_namespace =
            entry.resource.group.is_empty() && entry.resource.resource == "namespaces";
        if is_namespace && !occupied.contains(meta::name(object)) {
            edits.push(Edit::FinishNamespace(index));
        }
    }
    edits
}

fn snapshot(cluster: &Cluster) -> Vec<Entry> {
    let state = cluster.read();
    state
        .store
        .collections()
        .flat_map(|(resource, collection)| {
            collection.iter().map(move |(key, object)| Entry {
                resource: resource.clone(),
                key: key.clone(),
                object: object.clone(),
            })
        })
        .collect()
}

/// Performs one edit; failures (the object changed or went) are retried by the next pass.
fn perform(cluster: &Cluster, entry: &Entry, edit: &Edit) {
    let Some(resource) = cluster
        .read()
        .registry
        .versions_of(&entry.resource)
        .into_iter()
        .next()
    else {
        return;
    };
    let namespace = meta::namespace(&entry.object);
    let name = meta::name(&entry.object);
    let options = WriteOptions::manager(MANAGER);
    let edit_object = |change: &dyn Fn(&mut Value)| {
        let _ = ops::update_in(
            cluster,
            &resource,
            namespace,
            name,
            Target::Main,
            &options,
            |old| {
                let mut new = old.clone();
                change(&mut new);
                new
            },
        );
    };
    match edit {
        Edit::Delete(_, policy) => {
            let options = DeleteOptions {
                propagation: Some(*policy),
                uid: Some(meta::uid(&entry.object).to_string()),
                ..DeleteOptions::default()
            };
            let _ = ops::delete_in(cluster, &resource, namespace, name, &options);
        }
        Edit::SetOwners(_, owners) => edit_object(&|object| {
            let metadata = meta::metadata_mut(object);
            if owners.is_empty() {
                metadata.remove("ownerReferences");
            } else {
                metadata.insert("ownerReferences".to_string(), Value::Array(owners.clone()));
            }
        }),
        Edit::RemoveFinalizer(_, finalizer) => edit_object(&|object| {
            let kept: Vec<String> = meta::finalizers(object)
                .into_iter()
                .filter(|found| found != finalizer)
                .collect();
            meta::set_finalizers(object, &kept);
        }),
        Edit::FinishNamespace(_) => {
            edit_object(&|object| {
                if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
                    spec.remove("finalizers");
                }
            });
            ops::finish_if_unblocked(cluster, &entry.resource, &entry.key);
        }
    }
}

/// One collection pass; returns whether it changed anything.
pub(crate) fn collect_once(cluster: &Cluster) -> bool {
    let entries = snapshot(cluster);
    let edits = plan(&entries);
    for edit in &edits {
        let index = match edit {
            Edit::Delete(index, _)
            | Edit::SetOwners(index, _)
            | Edit::RemoveFinalizer(index, _)
            | Edit::FinishNamespace(index) => *index,
        };
        perform(cluster, &entries[index], edit);
    }
    !edits.is_empty()
}

/// Starts the collector; it stops once the cluster is dropped.
pub(crate) fn spawn(cluster: &Cluster) {
    let weak = Arc::downgrade(&cluster.inner);
    let wake = cluster.inner.gc_wake.clone();
    tokio::spawn(async move {
        loop {
            let _ = tokio::time::timeout(Duration::from_secs(1), wake.notified()).await;
            let Some(inner) = weak.upgrade() else { return };
            let cluster = Cluster { inner };
            for _ in 0..16 {
                if !collect_once(&cluster) {
                    break;
                }
            }
        }
    });
}
