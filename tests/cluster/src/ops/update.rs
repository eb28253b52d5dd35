//! Update (PUT) of the main resource or the status subresource, and the retry loop every
//! read-modify-write (update, patch, apply, scale, finalizer edits) shares.

use std::sync::Arc;

use serde_json::Value;

use super::admission::{Recording, prepare_update};
use super::commit::{CommitError, Expect, commit_put};
use super::{Target, WriteOptions, Written, as_served, key_of, resolve};
use crate::cluster::Cluster;
use crate::error::ApiError;
use crate::gvr::Gvr;
use crate::meta;
use crate::registry::ResourceType;

/// How many times a write is recomputed when the object changes under it.
const MAX_ATTEMPTS: usize = 32;

/// Replaces an object (or its status).
///
/// # Errors
/// 400 when the body names another object, 404, 409 on a stale `resourceVersion`, 422.
pub fn update(
    cluster: &Cluster,
    gvr: &Gvr,
    namespace: Option<&str>,
    name: &str,
    object: Value,
    target: Target,
    options: &WriteOptions,
) -> Result<Written, ApiError> {
    let resource = resolve(cluster, gvr)?;
    if target == Target::Status && !resource.status_subresource {
        return Err(ApiError::no_route());
    }
    let body_name = meta::name(&object);
    if !body_name.is_empty() && body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    if resource.namespaced
        && let (Some(body), Some(path)) = (meta::namespace(&object), namespace)
        && body != path
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    read_modify_write(cluster, &resource, namespace, name, target, options, |_| {
        Ok(Some((object.clone(), Recording::Update)))
    })
}

/// Reads the object, computes the incoming version with `compute` (which may answer `None`
/// when the object is absent to let the caller create it), prepares and commits it, retrying
/// when the object changed meanwhile.
pub(crate) fn read_modify_write(
    cluster: &Cluster,
    resource: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    target: Target,
    options: &WriteOptions,
    mut compute: impl FnMut(&Value) -> Result<Option<(Value, Recording)>, ApiError>,
) -> Result<Written, ApiError> {
    let key = key_of(resource, namespace, name);
    let group_resource = resource.group_resource();
    for _ in 0..MAX_ATTEMPTS {
        let old = cluster
            .read()
            .store
            .get(&group_resource, &key)
            .ok_or_else(|| ApiError::not_found(&group_resource, name))?;
        let old_served = as_served(resource, old.clone());
        let Some((incoming, recording)) = compute(&old_served)? else {
            return Err(ApiError::not_found(&group_resource, name));
        };
        let now = meta::now();
        let prepared = prepare_update(
            resource,
            &old_served,
            incoming,
            target,
            options,
            recording,
            &now,
        )?;
        let Some(prepared) = prepared else {
            return Ok(Written {
                object: old_served,
                warnings: Vec::new(),
                created: false,
            });
        };
        if options.dry_run {
            return Ok(Written {
                object: Arc::new(prepared.object),
                warnings: prepared.warnings,
                created: false,
            });
        }
        match commit_put(
            cluster,
            resource,
            &key,
            Expect::Version(meta::resource_version(&old)),
            prepared.object,
        ) {
            Ok(stored) => {
                return Ok(Written {
                    object: as_served(resource, stored),
                    warnings: prepared.warnings,
                    created: false,
                });
            }
            Err(CommitError::Changed) => {}
            Err(CommitError::Api(error)) => return Err(error),
        }
    }
    Err(ApiError::conflict(
        &group_resource,
        name,
        "the object has been modified; please apply your changes to the latest version and try again",
    ))
}

/// Rewrites an object with `change` (used by the controllers inside the cluster).
pub(crate) fn update_in(
    cluster: &Cluster,
    resource: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    target: Target,
    options: &WriteOptions,
    change: impl Fn(&Value) -> Value,
) -> Result<Written, ApiError> {
    read_modify_write(cluster, resource, namespace, name, target, options, |old| {
        Ok(Some((change(old), Recording::Update)))
    })
}
