//! Create (POST), also used by server-side apply and PUT when the object is absent.

use std::sync::Arc;

use serde_json::Value;

use super::admission::{Recording, prepare_create};
use super::commit::{CommitError, Expect, commit_put};
use super::{WriteOptions, Written, as_served, key_of, resolve};
use crate::cluster::Cluster;
use crate::error::ApiError;
use crate::gvr::Gvr;
use crate::meta;
use crate::registry::ResourceType;

/// Creates an object in `namespace` (or the body's namespace when `None`).
///
/// # Errors
/// 400 for a malformed body, 404 for a missing namespace, 409 when the name is taken, 422 for
/// an invalid object.
pub fn create(
    cluster: &Cluster,
    gvr: &Gvr,
    namespace: Option<&str>,
    object: Value,
    options: &WriteOptions,
) -> Result<Written, ApiError> {
    let resource = resolve(cluster, gvr)?;
    create_in(
        cluster,
        &resource,
        namespace,
        object,
        options,
        Recording::Update,
    )
}

/// Creates an object of a resolved resource.
pub(crate) fn create_in(
    cluster: &Cluster,
    resource: &ResourceType,
    namespace: Option<&str>,
    object: Value,
    options: &WriteOptions,
    recording: Recording,
) -> Result<Written, ApiError> {
    let now = meta::now();
    let prepared = prepare_create(resource, namespace, object, options, recording, &now)?;
    let key = key_of(
        resource,
        meta::namespace(&prepared.object),
        meta::name(&prepared.object),
    );
    if options.dry_run {
        if cluster
            .read()
            .store
            .get(&resource.group_resource(), &key)
            .is_some()
        {
            return Err(ApiError::already_exists(
                &resource.group_resource(),
                meta::name(&prepared.object),
            ));
        }
        return Ok(Written {
            object: Arc::new(prepared.object),
            warnings: prepared.warnings,
            created: true,
        });
    }
    match commit_put(cluster, resource, &key, Expect::Absent, prepared.object) {
        Ok(stored) => Ok(Written {
            object: as_served(resource, stored),
            warnings: prepared.warnings,
            created: true,
        }),
        Err(CommitError::Api(error)) => Err(error),
        Err(CommitError::Changed) => Err(ApiError::internal("create raced with itself")),
    }
}
