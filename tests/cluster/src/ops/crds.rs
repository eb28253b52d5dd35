//! What writing a `CustomResourceDefinition` does to the served API: registering its versions,
//! and on removal, deleting its objects and unserving it.

use std::sync::Arc;

use serde_json::Value;

use crate::cluster::State;
use crate::error::ApiError;
use crate::gvr::GroupResource;
use crate::meta;
use crate::registry::{ResourceType, resource_types_of_crd};
use crate::store::Change;

/// Whether `resource` is `customresourcedefinitions.apiextensions.k8s.io`.
pub(crate) fn is_crd(resource: &ResourceType) -> bool {
    resource.gvr.group == "apiextensions.k8s.io"
        && resource.gvr.resource == "customresourcedefinitions"
}

/// Checks a CRD the way the apiserver's validation does before it is stored.
///
/// # Errors
/// 422 with the field errors.
pub(crate) fn validate(crd: &Value) -> Result<(), ApiError> {
    resource_types_of_crd(crd).map(|_| ()).map_err(|error| {
        ApiError::invalid(
            "CustomResourceDefinition",
            "apiextensions.k8s.io",
            meta::name(crd),
            &error.0,
        )
    })
}

/// Serves (or re-serves) the CRD's versions; called under the state lock with the CRD about
/// to be stored.
///
/// # Errors
/// 422 when the CRD cannot be served.
pub(crate) fn before_write(state: &mut State, crd: &Value) -> Result<(), ApiError> {
    let served = resource_types_of_crd(crd).map_err(|error| {
        ApiError::invalid(
            "CustomResourceDefinition",
            "apiextensions.k8s.io",
            meta::name(crd),
            &error.0,
        )
    })?;
    state.registry.remove_crd(meta::name(crd));
    for resource in served {
        state.registry.insert(resource);
    }
    Ok(())
}

/// Deletes every object of a removed CRD (each a DELETED event, as the CRD finalizer's cleanup
/// does) and stops serving it.
pub(crate) fn after_remove(state: &mut State, crd: &Value) -> Vec<Arc<Change>> {
    let group_resource = GroupResource {
        group: crd
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        resource: crd
            .pointer("/spec/names/plural")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    };
    let keys: Vec<String> = state
        .store
        .collection(&group_resource)
        .map(|collection| collection.keys().cloned().collect())
        .unwrap_or_default();
    let changes = keys
        .iter()
        .filter_map(|key| state.store.remove(&group_resource, key))
        .collect();
    state.store.drop_collection(&group_resource);
    state.registry.remove_crd(meta::name(crd));
    changes
}
