//! OpenAPI v3 (`/openapi/v3`, `/openapi/v3/apis/{group}/{version}`), as far as kubectl uses it:
//! a PATCH operation per kind that lists the `fieldValidation` parameter (so kubectl leaves
//! field validation to the server instead of downloading OpenAPI v2), and the CRDs' schemas with
//! `x-kubernetes-group-version-kind` (so `kubectl explain` works for custom resources).
//! Built-in kinds get a skeleton schema only; strategic merge content types are not advertised,
//! so `kubectl apply` computes strategic patches from its compiled-in types, as it does for an
//! apiserver without OpenAPI v3.

use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{Map, Value, json};

use crate::gvr::api_version;
use crate::registry::{Registry, ResourceType};

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// The schema name of a kind: reversed group, version, kind (`dev.slipway.v1alpha1.Pipeline`).
fn schema_name(resource: &ResourceType) -> String {
    let group = match resource.gvr.group.as_str() {
        "" => "io.k8s.api.core".to_string(),
        group if group.ends_with(".k8s.io") => {
            format!("io.k8s.api.{}", group.trim_end_matches(".k8s.io"))
        }
        "apps" | "batch" => format!("io.k8s.api.{}", resource.gvr.group),
        group => group.split('.').rev().collect::<Vec<_>>().join("."),
    };
    format!("{group}.{}.{}", resource.gvr.version, resource.kind)
}

fn object_meta() -> Value {
    let text = |description: &str| json!({"type": "string", "description": description});
    json!({
        "description": "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
        "type": "object",
        "properties": {
            "name": text("Name must be unique within a namespace."),
            "generateName": text("GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided."),
            "namespace": text("Namespace defines the space within which each name must be unique."),
            "uid": text("UID is the unique in time and space value for this object."),
            "resourceVersion": text("An opaque value that represents the internal version of this object."),
            "generation": {"type": "integer", "format": "int64", "description": "A sequence number representing a specific generation of the desired state."},
            "creationTimestamp": {"type": "string", "format": "date-time", "description": "CreationTimestamp is a timestamp representing the server time when this object was created."},
            "deletionTimestamp": {"type": "string", "format": "date-time", "description": "DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted."},
            "deletionGracePeriodSeconds": {"type": "integer", "format": "int64", "description": "Number of seconds allowed for this object to gracefully terminate."},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Map of string keys and values that can be used to organize and categorize objects."},
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Annotations is an unstructured key value map stored with a resource."},
            "finalizers": {"type": "array", "items": {"type": "string"}, "description": "Must be empty before the object is deleted from the registry."},
            "ownerReferences": {"type": "array", "items": {"type": "object"}, "description": "List of objects depended by this object."},
            "managedFields": {"type": "array", "items": {"type": "object"}, "description": "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow."},
        },
    })
}

/// The schema served for one kind.
fn kind_schema(resource: &ResourceType) -> Value {
    let mut schema = resource
        .openapi_schema
        .clone()
        .unwrap_or_else(|| json!({"type": "object", "properties": {"spec": {"type": "object"}, "status": {"type": "object"}}}));
    if !schema.is_object() {
        schema = json!({"type": "object"});
    }
    let properties = schema
        .as_object_mut()
        .expect("object")
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(properties) = properties.as_object_mut() {
        properties.insert("apiVersion".to_string(), json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."}));
        properties.insert("kind".to_string(), json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents."}));
        properties.insert("metadata".to_string(), json!({
            "allOf": [{"$ref": format!("#/components/schemas/{OBJECT_META}")}],
            "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
        }));
    }
    schema["x-kubernetes-group-version-kind"] = json!([{
        "group": resource.gvr.group, "version": resource.gvr.version, "kind": resource.kind,
    }]);
    schema
}

fn query_parameter(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

/// The item path of one resource, with its PATCH operation.
fn item_path(resource: &ResourceType) -> (String, Value) {
    let prefix = if resource.gvr.group.is_empty() {
        format!("/api/{}", resource.gvr.version)
    } else {
        format!("/apis/{}/{}", resource.gvr.group, resource.gvr.version)
    };
    let namespace = if resource.namespaced {
        "/namespaces/{namespace}"
    } else {
        ""
    };
    let path = format!("{prefix}{namespace}/{}/{{name}}", resource.gvr.resource);
    let reference =
        json!({"schema": {"$ref": format!("#/components/schemas/{}", schema_name(resource))}});
    let body = json!({"schema": {"type": "object"}});
    let mut parameters = vec![
        json!({"name": "name", "in": "path", "required": true, "description": "name of the resource", "schema": {"type": "string", "uniqueItems": true}}),
    ];
    if resource.namespaced {
        parameters.push(json!({"name": "namespace", "in": "path", "required": true, "description": "object name and auth scope", "schema": {"type": "string", "uniqueItems": true}}));
    }
    let operation = json!({
        "description": format!("partially update the specified {}", resource.kind),
        "operationId": format!("patch{}", resource.kind),
        "parameters": [
            query_parameter("dryRun", "When present, indicates that modifications should not be persisted."),
            query_parameter("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
            query_parameter("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields."),
            {"name": "force", "in": "query", "description": "Force is going to \"force\" Apply requests.", "schema": {"type": "boolean", "uniqueItems": true}},
        ],
        "requestBody": {"content": {
            "application/json-patch+json": body,
            "application/merge-patch+json": body,
            "application/apply-patch+yaml": body,
        }, "required": true},
        "responses": {"200": {"description": "OK", "content": {"application/json": reference}}},
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": {"group": resource.gvr.group, "version": resource.gvr.version, "kind": resource.kind},
    });
    (path, json!({"patch": operation, "parameters": parameters}))
}

/// The document of one group version, or `None` when not served.
pub fn group_version_document(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let resources = registry.resources_in(group, version);
    if resources.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    let mut schemas = Map::new();
    schemas.insert(OBJECT_META.to_string(), object_meta());
    for resource in &resources {
        let (path, item) = item_path(resource);
        paths.insert(path, item);
        schemas.insert(schema_name(resource), kind_schema(resource));
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

fn content_hash(document: &Value) -> String {
    let mut hasher = DefaultHasher::new();
    document.to_string().hash(&mut hasher);
    format!("{:016X}", hasher.finish())
}

/// `/openapi/v3`: every group version with a content-hashed URL.
pub fn root(registry: &Registry) -> Value {
    let mut paths = Map::new();
    for (group, versions) in registry.groups() {
        for version in versions {
            let Some(document) = group_version_document(registry, group, version) else {
                continue;
            };
            let key = if group.is_empty() {
                format!("api/{version}")
            } else {
                format!("apis/{}", api_version(group, version))
            };
            let url = format!("/openapi/v3/{key}?hash={}", content_hash(&document));
            paths.insert(key, json!({"serverRelativeURL": url}));
        }
    }
    json!({"paths": paths})
}
