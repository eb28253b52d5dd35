//! The API verbs on the cluster state, independent of HTTP: the apiserver's registry layer
//! (strategies, admission, preconditions) over the store.
//!
//! Writes follow the apiserver's `GuaranteedUpdate`: read the current object, compute the new
//! one without holding the lock (patches, schema admission and managedFields can be slow), then
//! commit only if the object has not changed meanwhile, otherwise recompute.

mod admission;
mod commit;
mod crds;
mod create;
mod delete;
mod list;
mod patch;
mod scale;
mod update;

use std::sync::Arc;

use serde_json::Value;

pub(crate) use commit::finish_if_unblocked;
pub use create::create;
pub use delete::{DeleteOptions, Deleted, Propagation, delete, delete_collection};
pub(crate) use delete::{FOREGROUND, ORPHAN, delete_in};
pub use list::{ListOptions, ListPage, list, list_all};
pub use patch::{PatchBody, patch};
pub use scale::{get_scale, update_scale};
pub use update::update;
pub(crate) use update::update_in;

use crate::cluster::Cluster;
use crate::error::ApiError;
use crate::gvr::Gvr;
use crate::registry::ResourceType;
use crate::store::object_key;

/// What the request does about fields the schema does not know (`fieldValidation`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldValidation {
    /// Drop them silently.
    Ignore,
    /// Drop them and return warnings (the apiserver's default).
    #[default]
    Warn,
    /// Refuse the request (400), kubectl's default.
    Strict,
}

/// Options common to writes.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// `fieldManager` (the apiserver derives one from the user agent when absent).
    pub manager: String,
    /// `dryRun=All`: run everything but the commit.
    pub dry_run: bool,
    /// `fieldValidation`.
    pub validation: FieldValidation,
}

impl WriteOptions {
    /// Options naming only the field manager.
    pub fn manager(manager: &str) -> Self {
        Self {
            manager: manager.to_string(),
            ..Self::default()
        }
    }
}

/// Which part of an object a write addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The main resource (status ignored where status is a subresource).
    Main,
    /// The `status` subresource (only status changes).
    Status,
}

impl Target {
    /// The subresource name recorded in managedFields.
    pub fn subresource(self) -> Option<&'static str> {
        match self {
            Self::Main => None,
            Self::Status => Some("status"),
        }
    }
}

/// A successful write.
#[derive(Clone, Debug)]
pub struct Written {
    /// The object as stored (or as it would be, for a dry run).
    pub object: Arc<Value>,
    /// Warnings for the `Warning` response header (unknown fields under `Warn`).
    pub warnings: Vec<String>,
    /// Whether the write created the object (201 rather than 200).
    pub created: bool,
}

/// The served resource at `gvr`, or 404.
pub(crate) fn resolve(cluster: &Cluster, gvr: &Gvr) -> Result<Arc<ResourceType>, ApiError> {
    cluster
        .read()
        .registry
        .get(gvr)
        .ok_or_else(ApiError::no_route)
}

/// The storage key of `name` for this resource, ignoring a namespace on cluster-scoped kinds.
pub(crate) fn key_of(resource: &ResourceType, namespace: Option<&str>, name: &str) -> String {
    if resource.namespaced {
        object_key(namespace, name)
    } else {
        object_key(None, name)
    }
}

/// The object as a client of `resource`'s version sees it (`apiVersion` of the request).
pub(crate) fn as_served(resource: &ResourceType, object: Arc<Value>) -> Arc<Value> {
    let api_version = resource.api_version();
    if object.get("apiVersion").and_then(Value::as_str) == Some(api_version.as_str()) {
        object
    } else {
        let mut copy = (*object).clone();
        copy["apiVersion"] = Value::String(api_version);
        copy["kind"] = Value::String(resource.kind.clone());
        Arc::new(copy)
    }
}

/// Reads one object.
///
/// # Errors
/// 404 when the resource or object does not exist.
pub fn get(
    cluster: &Cluster,
    gvr: &Gvr,
    namespace: Option<&str>,
    name: &str,
) -> Result<Arc<Value>, ApiError> {
    let resource = resolve(cluster, gvr)?;
    let key = key_of(&resource, namespace, name);
    let found = cluster.read().store.get(&resource.group_resource(), &key);
    found
        .map(|object| as_served(&resource, object))
        .ok_or_else(|| ApiError::not_found(&resource.group_resource(), name))
}
