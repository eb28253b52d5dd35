//! Committing a computed object to the store: the preconditions checked under the lock, the
//! side effects that must be atomic with the write (CRD registration, completing a deletion
//! whose last finalizer went), and publishing the changes afterwards.

use std::sync::Arc;

use serde_json::Value;

use super::crds;
use crate::cluster::{Cluster, State};
use crate::error::ApiError;
use crate::gvr::GroupResource;
use crate::meta;
use crate::registry::ResourceType;
use crate::store::Change;

/// What the store must hold for the write to go ahead.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Expect<'a> {
    /// Nothing at the key (a create).
    Absent,
    /// The object at the key still has this `resourceVersion` (the one the write was computed
    /// from).
    Version(&'a str),
}

/// Why a commit did not happen.
#[derive(Debug)]
pub(crate) enum CommitError {
    /// The request fails.
    Api(ApiError),
    /// The object changed since it was read: recompute and try again.
    Changed,
}

impl From<ApiError> for CommitError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

fn namespaces() -> GroupResource {
    GroupResource {
        group: String::new(),
        resource: "namespaces".to_string(),
    }
}

/// Checks that a namespaced create may go into `namespace` (the NamespaceLifecycle admission).
fn check_namespace(
    state: &State,
    resource: &ResourceType,
    namespace: &str,
    name: &str,
) -> Result<(), ApiError> {
    match state.store.get(&namespaces(), namespace) {
        None => Err(ApiError::not_found(&namespaces(), namespace)),
        Some(found) if meta::is_deleting(&found) => Err(ApiError::forbidden(
            &resource.group_resource(),
            name,
            &format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            ),
        )),
        Some(_) => Ok(()),
    }
}

/// Writes `object` at `key` if `expect` holds; completes the deletion when the write removed the
/// last finalizer of a deleting object. Returns the stored object.
pub(crate) fn commit_put(
    cluster: &Cluster,
    resource: &ResourceType,
    key: &str,
    expect: Expect<'_>,
    object: Value,
) -> Result<Arc<Value>, CommitError> {
    let group_resource = resource.group_resource();
    let name = meta::name(&object).to_string();
    let mut changes = Vec::new();
    let stored = {
        let mut state = cluster.write();
        if state.registry.get(&resource.gvr).is_none() {
            return Err(ApiError::not_found(&group_resource, &name).into());
        }
        let current = state.store.get(&group_resource, key);
        match (expect, &current) {
            (Expect::Absent, Some(_)) => {
                return Err(ApiError::already_exists(&group_resource, &name).into());
            }
            (Expect::Absent, None) => {
                if resource.namespaced {
                    let namespace = meta::namespace(&object).unwrap_or_default();
                    check_namespace(&state, resource, namespace, &name)?;
                }
            }
            (Expect::Version(_), None) => {
                return Err(ApiError::not_found(&group_resource, &name).into());
            }
            (Expect::Version(version), Some(current)) => {
                if meta::resource_version(current) != version {
                    return Err(CommitError::Changed);
                }
            }
        }
        if crds::is_crd(resource) {
            crds::before_write(&mut state, &object)?;
        }
        let change = state.store.put(&group_resource, key, object);
        let stored = change.object.clone();
        changes.push(change);
        if meta::is_deleting(&stored) && !meta::removal_blocked(&stored) {
            changes.extend(remove_locked(&mut state, resource, key));
        }
        stored
    };
    cluster.publish(&changes);
    Ok(stored)
}

/// Removes the object at `key` if it still has `version`; returns its last state.
pub(crate) fn commit_remove(
    cluster: &Cluster,
    resource: &ResourceType,
    key: &str,
    version: &str,
) -> Result<Arc<Value>, CommitError> {
    let changes = {
        let mut state = cluster.write();
        match state.store.get(&resource.group_resource(), key) {
            None => return Err(CommitError::Changed),
            Some(current) if meta::resource_version(&current) != version => {
                return Err(CommitError::Changed);
            }
            Some(_) => remove_locked(&mut state, resource, key),
        }
    };
    let last = changes
        .first()
        .map(|change| change.object.clone())
        .unwrap_or_default();
    cluster.publish(&changes);
    Ok(last)
}

/// Removes an object whose deletion is no longer blocked (used by the garbage collector after
/// it edits finalizers). Returns whether it was removed.
pub(crate) fn finish_if_unblocked(
    cluster: &Cluster,
    group_resource: &GroupResource,
    key: &str,
) -> bool {
    let changes = {
        let mut state = cluster.write();
        let Some(current) = state.store.get(group_resource, key) else {
            return false;
        };
        if !meta::is_deleting(&current) || meta::removal_blocked(&current) {
            return false;
        }
        let Some(resource) = state
            .registry
            .versions_of(group_resource)
            .into_iter()
            .next()
        else {
            return false;
        };
        remove_locked(&mut state, &resource, key)
    };
    cluster.publish(&changes);
    !changes.is_empty()
}

/// Removes the object at `key`; a CRD takes its resource and objects with it.
fn remove_locked(state: &mut State, resource: &ResourceType, key: &str) -> Vec<Arc<Change>> {
    let Some(change) = state.store.remove(&resource.group_resource(), key) else {
        return Vec::new();
    };
    let mut changes = vec![change.clone()];
    if crds::is_crd(resource) {
        changes.extend(crds::after_remove(state, &change.object));
    }
    changes
}
