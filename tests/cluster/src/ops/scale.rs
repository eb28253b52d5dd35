//! The `scale` subresource (autoscaling/v1 `Scale`) of apps/v1 Deployments and ReplicaSets and
//! of CRDs that declare it.

use serde_json::{Map, Value, json};

use super::admission::Recording;
use super::update::read_modify_write;
use super::{Target, WriteOptions, Written, get, resolve};
use crate::cluster::Cluster;
use crate::error::ApiError;
use crate::gvr::Gvr;
use crate::meta;
use crate::registry::{ResourceType, ScalePaths};
use crate::selector::label_selector_text;

/// `.spec.replicas` → `/spec/replicas`.
fn pointer(path: &str) -> String {
    path.replace('.', "/")
}

fn set_at(object: &mut Value, path: &str, value: Value) {
    let mut current = object;
    let parts: Vec<&str> = path.split('.').filter(|part| !part.is_empty()).collect();
    for (index, part) in parts.iter().enumerate() {
        if !current.is_object() {
            *current = Value::Object(Map::new());
        }
        let map = current.as_object_mut().expect("object");
        if index + 1 == parts.len() {
            map.insert((*part).to_string(), value);
            return;
        }
        current = map
            .entry((*part).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

fn paths(resource: &ResourceType) -> Result<&ScalePaths, ApiError> {
    resource.scale.as_ref().ok_or_else(ApiError::no_route)
}

/// The `Scale` view of an object.
fn scale_of(resource: &ResourceType, paths: &ScalePaths, object: &Value) -> Value {
    let replicas = |path: &str| object.pointer(&pointer(path)).cloned().unwrap_or(json!(0));
    let selector = paths
        .label_selector
        .as_deref()
        .and_then(|path| object.pointer(&pointer(path)))
        .map(|selector| match selector {
            Value::String(text) => text.clone(),
            other => label_selector_text(other),
        });
    let mut status = json!({"replicas": replicas(&paths.status_replicas)});
    if let Some(selector) = selector {
        status["selector"] = Value::String(selector);
    }
    let metadata = object.get("metadata").cloned().unwrap_or_default();
    let mut scale_metadata = Map::new();
    for field in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(value) = metadata.get(field) {
            scale_metadata.insert(field.to_string(), value.clone());
        }
    }
    let _ = resource;
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_metadata,
        "spec": {"replicas": replicas(&paths.spec_replicas)},
        "status": status,
    })
}

/// Reads the scale subresource.
///
/// # Errors
/// 404 when the resource has no scale subresource or the object is absent.
pub fn get_scale(
    cluster: &Cluster,
    gvr: &Gvr,
    namespace: Option<&str>,
    name: &str,
) -> Result<Value, ApiError> {
    let resource = resolve(cluster, gvr)?;
    let paths = paths(&resource)?;
    let object = get(cluster, gvr, namespace, name)?;
    Ok(scale_of(&resource, paths, &object))
}

/// Writes `spec.replicas` of a `Scale` to the object (checking its `resourceVersion` when set).
///
/// # Errors
/// 404, 409 on a stale `resourceVersion`, 422 for a negative replica count.
pub fn update_scale(
    cluster: &Cluster,
    gvr: &Gvr,
    namespace: Option<&str>,
    name: &str,
    scale: &Value,
    options: &WriteOptions,
) -> Result<Value, ApiError> {
    let resource = resolve(cluster, gvr)?;
    let paths = paths(&resource)?.clone();
    let replicas = scale.pointer("/spec/replicas").cloned().unwrap_or(json!(0));
    if replicas.as_i64().is_none_or(|count| count < 0) {
        let errors =
            crate::schema::FieldErrors::from_vec(vec![crate::schema::FieldError::invalid(
                "spec.replicas",
                replicas.clone(),
                "must be greater than or equal to 0",
            )])
            .expect("one error");
        return Err(ApiError::invalid("Scale", "autoscaling", name, &errors));
    }
    let version = meta::resource_version(scale).to_string();
    let Written { object, .. } = read_modify_write(
        cluster,
        &resource,
        namespace,
        name,
        Target::Main,
        options,
        |old| {
            let mut new = old.clone();
            if !version.is_empty() {
                new["metadata"]["resourceVersion"] = Value::String(version.clone());
            }
            set_at(&mut new, &paths.spec_replicas, replicas.clone());
            Ok(Some((new, Recording::Update)))
        },
    )?;
    Ok(scale_of(&resource, &paths, &object))
}
