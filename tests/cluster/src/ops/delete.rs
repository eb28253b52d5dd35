//! Delete and deletecollection: preconditions, finalizers, `deletionTimestamp`, and the
//! propagation policy recorded as the `orphan` / `foregroundDeletion` finalizers the garbage
//! collector acts on.

use std::sync::Arc;

use serde_json::{Value, json};

use super::commit::{CommitError, Expect, commit_put, commit_remove};
use super::list::{ListOptions, list};
use super::{key_of, resolve};
use crate::cluster::Cluster;
use crate::error::ApiError;
use crate::gvr::Gvr;
use crate::meta;
use crate::registry::ResourceType;

/// `propagationPolicy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Propagation {
    /// Delete the owner now, dependents afterwards (the default).
    #[default]
    Background,
    /// Delete dependents first; the owner waits with the `foregroundDeletion` finalizer.
    Foreground,
    /// Keep dependents, removing their owner references (the `orphan` finalizer).
    Orphan,
}

/// `DeleteOptions`.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    /// The propagation policy (Background when unset).
    pub propagation: Option<Propagation>,
    /// `preconditions.uid`.
    pub uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub resource_version: Option<String>,
    /// `dryRun=All`.
    pub dry_run: bool,
}

/// The outcome of a delete.
#[derive(Clone, Debug)]
pub struct Deleted {
    /// The object: its last state when removed, or with `deletionTimestamp` while finalizers
    /// remain.
    pub object: Arc<Value>,
    /// Whether it is gone from storage.
    pub removed: bool,
}

/// The finalizers the garbage collector owns.
pub(crate) const ORPHAN: &str = "orphan";
/// The finalizer of foreground deletion.
pub(crate) const FOREGROUND: &str = "foregroundDeletion";

fn precondition_failed(
    resource: &ResourceType,
    name: &str,
    what: &str,
    wanted: &str,
    found: &str,
) -> ApiError {
    ApiError::conflict(
        &resource.group_resource(),
        name,
        &format!(
            "Precondition failed: {what} in precondition: {wanted}, {what} in object meta: {found}"
        ),
    )
}

/// Deletes an object.
///
/// # Errors
/// 404 when absent, 409 when a precondition fails.
pub fn delete(
    cluster: &Cluster,
    gvr: &Gvr,
    namespace: Option<&str>,
    name: &str,
    options: &DeleteOptions,
) -> Result<Deleted, ApiError> {
    let resource = resolve(cluster, gvr)?;
    delete_in(cluster, &resource, namespace, name, options)
}

pub(crate) fn delete_in(
    cluster: &Cluster,
    resource: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    options: &DeleteOptions,
) -> Result<Deleted, ApiError> {
    let key = key_of(resource, namespace, name);
    let group_resource = resource.group_resource();
    loop {
        let old = cluster
            .read()
            .store
            .get(&group_resource, &key)
            .ok_or_else(|| ApiError::not_found(&group_resource, name))?;
        if let Some(uid) = &options.uid
            && uid != meta::uid(&old)
        {
            return Err(precondition_failed(
                resource,
                name,
                "UID",
                uid,
                meta::uid(&old),
            ));
        }
        if let Some(version) = &options.resource_version
            && version != meta::resource_version(&old)
        {
            return Err(precondition_failed(
                resource,
                name,
                "ResourceVersion",
                version,
                meta::resource_version(&old),
            ));
        }
        let mut finalizers = meta::finalizers(&old);
        let wanted = match options.propagation {
            Some(Propagation::Foreground) => Some(FOREGROUND),
            Some(Propagation::Orphan) => Some(ORPHAN),
            _ => None,
        };
        if let Some(wanted) = wanted
            && !finalizers.iter().any(|finalizer| finalizer == wanted)
        {
            finalizers.push(wanted.to_string());
        }
        let is_namespace = resource.gvr.group.is_empty() && resource.gvr.resource == "namespaces";
        let graceful = !finalizers.is_empty() || is_namespace;
        if options.dry_run {
            return Ok(Deleted {
                object: super::as_served(resource, old),
                removed: !graceful,
            });
        }
        if !graceful {
            match commit_remove(cluster, resource, &key, meta::resource_version(&old)) {
                Ok(last) => {
                    return Ok(Deleted {
                        object: super::as_served(resource, last),
                        removed: true,
                    });
                }
                Err(CommitError::Changed) => continue,
                Err(CommitError::Api(error)) => return Err(error),
            }
        }
        if meta::is_deleting(&old) && finalizers == meta::finalizers(&old) {
            return Ok(Deleted {
                object: super::as_served(resource, old),
                removed: false,
            });
        }
        let mut new = (*old).clone();
        mark_deleting(&mut new, &finalizers, is_namespace);
        match commit_put(
            cluster,
            resource,
            &key,
            Expect::Version(meta::resource_version(&old)),
            new,
        ) {
            Ok(stored) => {
                return Ok(Deleted {
                    object: super::as_served(resource, stored),
                    removed: false,
                });
            }
            Err(CommitError::Changed) => continue,
            Err(CommitError::Api(error)) => return Err(error),
        }
    }
}

/// Sets `deletionTimestamp` (once), the finalizers, and bumps `generation` as `BeforeDelete`
/// does for graceful deletion.
fn mark_deleting(object: &mut Value, finalizers: &[String], is_namespace: bool) {
    let first_time = !meta::is_deleting(object);
    meta::set_finalizers(object, finalizers);
    let metadata = meta::metadata_mut(object);
    if first_time {
        metadata.insert("deletionTimestamp".to_string(), Value::String(meta::now()));
        metadata.insert("deletionGracePeriodSeconds".to_string(), json!(0));
        if let Some(generation) = metadata.get("generation").and_then(Value::as_i64) {
            metadata.insert("generation".to_string(), json!(generation + 1));
        }
    }
    if is_namespace {
        object["status"]["phase"] = Value::String("Terminating".to_string());
    }
}

/// Deletes every object a list with `list_options` returns; answers with the objects as the
/// deletes left them.
///
/// # Errors
/// As [`delete`] and the list's errors.
pub fn delete_collection(
    cluster: &Cluster,
    gvr: &Gvr,
    namespace: Option<&str>,
    list_options: &ListOptions,
    options: &DeleteOptions,
) -> Result<Vec<Arc<Value>>, ApiError> {
    let resource = resolve(cluster, gvr)?;
    let page = list(cluster, gvr, namespace, list_options)?;
    let mut deleted = Vec::new();
    for object in page.items {
        match delete_in(
            cluster,
            &resource,
            meta::namespace(&object),
            meta::name(&object),
            options,
        ) {
            Ok(outcome) => deleted.push(outcome.object),
            Err(error) if error.code == 404 => {}
            Err(error) => return Err(error),
        }
    }
    Ok(deleted)
}
