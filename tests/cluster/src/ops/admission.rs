//! What the apiserver does to an object between decoding and storage: the strategies'
//! `PrepareForCreate`/`PrepareForUpdate` (system metadata, status split, generation), custom
//! resource schema admission, and managedFields. Pure functions: no store access.

use serde_json::{Value, json};

use super::{FieldValidation, Target, WriteOptions, crds};
use crate::error::ApiError;
use crate::gvr::split_api_version;
use crate::meta;
use crate::patching::{self, WriteContext};
use crate::registry::{ResourceType, crd_status};
use crate::schema::{FieldError, FieldErrors};

/// How managedFields are brought up to date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Recording {
    /// A non-apply write: `record_update`.
    Update,
    /// Server-side apply already set them.
    Done,
}

/// A prepared object and the warnings to send back.
pub(crate) struct Prepared {
    pub object: Value,
    pub warnings: Vec<String>,
}

const DNS_SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS_LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

fn invalid(resource: &ResourceType, name: &str, errors: Vec<FieldError>) -> ApiError {
    let errors = FieldErrors::from_vec(errors).expect("at least one error");
    ApiError::invalid(&resource.kind, &resource.gvr.group, name, &errors)
}

/// Checks the body is an object of this resource's kind and fills `apiVersion` and `kind`.
fn check_type(resource: &ResourceType, object: &mut Value) -> Result<(), ApiError> {
    if !object.is_object() {
        return Err(ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {})",
            resource.kind
        )));
    }
    let expected = resource.api_version();
    if let Some(api_version) = object.get("apiVersion").and_then(Value::as_str)
        && !api_version.is_empty()
    {
        let (group, _) = split_api_version(api_version);
        if group != resource.gvr.group {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({api_version}) does not match the expected API version ({expected})"
            )));
        }
    }
    if let Some(kind) = object.get("kind").and_then(Value::as_str)
        && !kind.is_empty()
        && kind != resource.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            resource.kind
        )));
    }
    object["apiVersion"] = Value::String(expected);
    object["kind"] = Value::String(resource.kind.clone());
    Ok(())
}

/// Prunes, defaults and validates a custom resource; refuses unknown fields under `Strict`.
fn admit_custom(
    resource: &ResourceType,
    object: &mut Value,
    old: Option<&Value>,
    validation: FieldValidation,
) -> Result<Vec<String>, ApiError> {
    let Some(schema) = &resource.schema else {
        return Ok(Vec::new());
    };
    let unknown = schema.prune(object);
    let texts: Vec<String> = unknown
        .iter()
        .map(|path| format!("unknown field {path:?}"))
        .collect();
    if validation == FieldValidation::Strict && !texts.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{kind} in version {version:?} cannot be handled as a {kind}: strict decoding error: {}",
            texts.join(", "),
            kind = resource.kind,
            version = resource.gvr.version,
        )));
    }
    schema.admit(object, old).map_err(|errors| {
        ApiError::invalid(
            &resource.kind,
            &resource.gvr.group,
            meta::name(object),
            &errors,
        )
    })?;
    Ok(if validation == FieldValidation::Warn {
        texts
    } else {
        Vec::new()
    })
}

/// The status a new object starts with (the strategies reset what clients send).
fn initial_status(resource: &ResourceType, object: &Value, now: &str) -> Option<Value> {
    match (resource.gvr.group.as_str(), resource.gvr.resource.as_str()) {
        ("", "pods") => Some(json!({"phase": "Pending"})),
        ("", "namespaces") => Some(json!({"phase": "Active"})),
        ("apiextensions.k8s.io", "customresourcedefinitions") => Some(crd_status(object, now)),
        _ if resource.is_custom() => None,
        _ => Some(json!({})),
    }
}

/// `PrepareForCreate` and create validation.
pub(crate) fn prepare_create(
    resource: &ResourceType,
    namespace: Option<&str>,
    mut object: Value,
    options: &WriteOptions,
    recording: Recording,
    now: &str,
) -> Result<Prepared, ApiError> {
    check_type(resource, &mut object)?;
    let metadata = meta::metadata_mut(&mut object);
    if resource.namespaced {
        let body_namespace = metadata
            .get("namespace")
            .and_then(Value::as_str)
            .filter(|ns| !ns.is_empty());
        let namespace = match (namespace, body_namespace) {
            (Some(path), Some(body)) if path != body => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            (Some(path), _) => path.to_string(),
            (None, Some(body)) => body.to_string(),
            (None, None) => {
                return Err(ApiError::bad_request(
                    "an empty namespace may not be set during creation",
                ));
            }
        };
        metadata.insert("namespace".to_string(), Value::String(namespace));
    } else {
        metadata.remove("namespace");
    }
    let name = metadata
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let generate = metadata
        .get("generateName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let name = if name.is_empty() && !generate.is_empty() {
        format!("{generate}{}", meta::random_suffix())
    } else {
        name
    };
    if name.is_empty() {
        return Err(invalid(
            resource,
            "",
            vec![FieldError::required(
                "metadata.name",
                "name or generateName is required",
            )],
        ));
    }
    metadata.insert("name".to_string(), Value::String(name.clone()));
    metadata.insert(
        "uid".to_string(),
        Value::String(uuid::Uuid::new_v4().to_string()),
    );
    metadata.insert(
        "creationTimestamp".to_string(),
        Value::String(now.to_string()),
    );
    for field in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    ] {
        metadata.remove(field);
    }
    if resource.generation {
        metadata.insert("generation".to_string(), json!(1));
    } else {
        metadata.remove("generation");
    }
    if !resource.is_custom() {
        let (valid, text) = if resource.gvr.resource == "namespaces" {
            (meta::is_dns_label(&name), DNS_LABEL)
        } else {
            (meta::is_dns_subdomain(&name), DNS_SUBDOMAIN)
        };
        if !valid {
            return Err(invalid(
                resource,
                &name,
                vec![FieldError::invalid(
                    "metadata.name",
                    Value::String(name.clone()),
                    text,
                )],
            ));
        }
    }
    if resource.status_subresource {
        match initial_status(resource, &object, now) {
            Some(status) => object["status"] = status,
            None => {
                object.as_object_mut().expect("object").remove("status");
            }
        }
    }
    if resource.gvr.group.is_empty() && resource.gvr.resource == "namespaces" {
        object["spec"] = json!({"finalizers": ["kubernetes"]});
    }
    let warnings = admit_custom(resource, &mut object, None, options.validation)?;
    if crds::is_crd(resource) {
        crds::validate(&object)?;
    }
    if recording == Recording::Update {
        let api_version = resource.api_version();
        let context = WriteContext {
            manager: &options.manager,
            api_version: &api_version,
            subresource: None,
            now,
        };
        patching::record_update(None, &mut object, context, &resource.merge_rules);
    }
    Ok(Prepared { object, warnings })
}

/// Metadata only the system sets: kept from the stored object whatever the client sends.
const SYSTEM_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generateName",
    "resourceVersion",
];

/// `PrepareForUpdate` and update validation; `None` when the write changes nothing (the
/// apiserver then skips it and the resourceVersion stays).
pub(crate) fn prepare_update(
    resource: &ResourceType,
    old: &Value,
    mut incoming: Value,
    target: Target,
    options: &WriteOptions,
    recording: Recording,
    now: &str,
) -> Result<Option<Prepared>, ApiError> {
    check_type(resource, &mut incoming)?;
    let name = meta::name(old).to_string();
    let incoming_version = meta::resource_version(&incoming);
    if !incoming_version.is_empty() && incoming_version != meta::resource_version(old) {
        return Err(ApiError::stale(&resource.group_resource(), &name));
    }
    let incoming_fields = incoming.pointer("/metadata/managedFields").cloned();
    let mut new = match target {
        Target::Main => {
            let mut new = incoming.clone();
            let metadata = meta::metadata_mut(&mut new);
            for field in SYSTEM_METADATA {
                match old.pointer(&format!("/metadata/{field}")) {
                    Some(value) => metadata.insert((*field).to_string(), value.clone()),
                    None => metadata.remove(*field),
                };
            }
            if resource.status_subresource {
                match old.get("status") {
                    Some(status) => new["status"] = status.clone(),
                    None => {
                        new.as_object_mut().expect("object").remove("status");
                    }
                }
            }
            new
        }
        Target::Status => {
            // Only status moves; metadata (labels and annotations included) stays.
            let mut new = old.clone();
            match incoming.get("status") {
                Some(status) => new["status"] = status.clone(),
                None => {
                    new.as_object_mut().expect("object").remove("status");
                }
            }
            new
        }
    };
    check_finalizers(resource, old, &new)?;
    set_generation(resource, old, &mut new);
    let warnings = admit_custom(resource, &mut new, Some(old), options.validation)?;
    if crds::is_crd(resource) {
        crds::validate(&new)?;
    }
    let metadata = meta::metadata_mut(&mut new);
    match (
        recording,
        incoming_fields,
        old.pointer("/metadata/managedFields"),
    ) {
        (Recording::Update, None, Some(fields)) => {
            metadata.insert("managedFields".to_string(), fields.clone());
        }
        (Recording::Update, None, None) => {
            metadata.remove("managedFields");
        }
        _ => {}
    }
    if recording == Recording::Update {
        let api_version = resource.api_version();
        let context = WriteContext {
            manager: &options.manager,
            api_version: &api_version,
            subresource: target.subresource(),
            now,
        };
        patching::record_update(Some(old), &mut new, context, &resource.merge_rules);
    }
    if meta::comparable(&new) == meta::comparable(old) {
        return Ok(None);
    }
    Ok(Some(Prepared {
        object: new,
        warnings,
    }))
}

/// A deleting object may lose finalizers but not gain any.
fn check_finalizers(resource: &ResourceType, old: &Value, new: &Value) -> Result<(), ApiError> {
    if !meta::is_deleting(old) {
        return Ok(());
    }
    let before = meta::finalizers(old);
    let added: Vec<String> = meta::finalizers(new)
        .into_iter()
        .filter(|finalizer| !before.contains(finalizer))
        .collect();
    if added.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = added
        .iter()
        .map(|finalizer| format!("{finalizer:?}"))
        .collect();
    Err(invalid(
        resource,
        meta::name(old),
        vec![FieldError::forbidden(
            "metadata.finalizers",
            format!(
                "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                listed.join(", ")
            ),
        )],
    ))
}

/// Bumps `metadata.generation` when the spec (everything but metadata, and status where it is a
/// subresource) changed; apps/v1 Deployments also count annotation changes, as their strategy
/// does.
fn set_generation(resource: &ResourceType, old: &Value, new: &mut Value) {
    let metadata_generation = old.pointer("/metadata/generation").and_then(Value::as_i64);
    if !resource.generation {
        match metadata_generation {
            Some(generation) => {
                meta::metadata_mut(new).insert("generation".to_string(), json!(generation))
            }
            None => meta::metadata_mut(new).remove("generation"),
        };
        return;
    }
    let generation = metadata_generation.unwrap_or(1);
    let spec_changed = meta::spec_part(old, resource.status_subresource)
        != meta::spec_part(new, resource.status_subresource);
    let annotations_changed = resource.gvr.group == "apps"
        && resource.gvr.resource == "deployments"
        && old.pointer("/metadata/annotations") != new.pointer("/metadata/annotations");
    let next = if spec_changed || annotations_changed {
        generation + 1
    } else {
        generation
    };
    meta::metadata_mut(new).insert("generation".to_string(), json!(next));
}
