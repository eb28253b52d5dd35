//! Patch (PATCH): JSON patch, JSON merge patch, strategic merge patch and server-side apply.

use serde_json::Value;

use super::admission::Recording;
use super::create::create_in;
use super::update::read_modify_write;
use super::{Target, WriteOptions, Written, resolve};
use crate::cluster::Cluster;
use crate::error::ApiError;
use crate::gvr::Gvr;
use crate::meta;
use crate::patch::ApplyRequest;
use crate::patching;
use crate::registry::ResourceType;

/// A patch document by type.
#[derive(Clone, Debug)]
pub enum PatchBody {
    /// `application/json-patch+json` (RFC 6902).
    Json(Value),
    /// `application/merge-patch+json` (RFC 7386).
    Merge(Value),
    /// `application/strategic-merge-patch+json` (built-in kinds only).
    Strategic(Value),
    /// `application/apply-patch+yaml` (server-side apply), with `force`.
    Apply {
        /// The applied configuration.
        body: Value,
        /// Take over conflicting fields.
        force: bool,
    },
}

/// The patch types custom resources accept (in the 415 text).
const CUSTOM_PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
];

/// Applies `body` to the current object of one patch type.
fn patched(resource: &ResourceType, old: &Value, body: &PatchBody) -> Result<Value, ApiError> {
    let mut document = old.clone();
    match body {
        PatchBody::Json(operations) => {
            let operations: json_patch::Patch = serde_json::from_value(operations.clone())
                .map_err(|error| ApiError::bad_request(format!("error decoding patch: {error}")))?;
            json_patch::patch(&mut document, &operations)
                .map_err(|error| ApiError::new(422, "Invalid", error.to_string(), None))?;
            Ok(document)
        }
        PatchBody::Merge(patch) => {
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "error decoding patch: the patch is not a JSON object",
                ));
            }
            json_patch::merge(&mut document, patch);
            Ok(document)
        }
        PatchBody::Strategic(patch) => patching::strategic_merge(old, patch, &resource.merge_rules),
        PatchBody::Apply { .. } => unreachable!("apply is handled by apply()"),
    }
}

/// Patches an object (or its status); apply creates it when absent.
///
/// # Errors
/// 400 malformed patch or missing field manager, 404, 409 conflicts, 415 strategic merge on a
/// custom resource, 422 invalid result.
pub fn patch(
    cluster: &Cluster,
    gvr: &Gvr,
    namespace: Option<&str>,
    name: &str,
    body: PatchBody,
    target: Target,
    options: &WriteOptions,
) -> Result<Written, ApiError> {
    let resource = resolve(cluster, gvr)?;
    if target == Target::Status && !resource.status_subresource {
        return Err(ApiError::no_route());
    }
    if let PatchBody::Strategic(_) = body
        && resource.is_custom()
    {
        return Err(ApiError::unsupported_media_type(
            "application/strategic-merge-patch+json",
            CUSTOM_PATCH_TYPES,
        ));
    }
    if let PatchBody::Apply {
        body: applied,
        force,
    } = &body
    {
        return apply(
            cluster, &resource, namespace, name, applied, *force, target, options,
        );
    }
    read_modify_write(
        cluster,
        &resource,
        namespace,
        name,
        target,
        options,
        |old| Ok(Some((patched(&resource, old, &body)?, Recording::Update))),
    )
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site, each argument is a request part"
)]
fn apply(
    cluster: &Cluster,
    resource: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    applied: &Value,
    force: bool,
    target: Target,
    options: &WriteOptions,
) -> Result<Written, ApiError> {
    if options.manager.is_empty() {
        return Err(ApiError::new(
            422,
            "Invalid",
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            None,
        ));
    }
    if !applied.is_object() {
        return Err(ApiError::bad_request(
            "error decoding YAML: the applied configuration is not an object",
        ));
    }
    let applied_name = meta::name(applied);
    if !applied_name.is_empty() && applied_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({applied_name}) does not match the name on the URL ({name})"
        )));
    }
    if let Some(kind) = applied.get("kind").and_then(Value::as_str)
        && kind != resource.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            resource.kind
        )));
    }
    // The request's (URL's) version; the patch module refuses a body of another version.
    let api_version = resource.api_version();
    let group_resource = resource.group_resource();
    let now = meta::now();
    let request = ApplyRequest {
        manager: &options.manager,
        force,
        api_version: &api_version,
        subresource: target.subresource(),
        now: &now,
    };
    for _ in 0..2 {
        let exists = ops_get(cluster, resource, namespace, name);
        if !exists && target == Target::Main {
            let mut created = patching::server_side_apply(
                None,
                applied,
                &request,
                &resource.merge_rules,
                &group_resource,
                name,
            )?;
            meta::metadata_mut(&mut created)
                .insert("name".to_string(), Value::String(name.to_string()));
            match create_in(
                cluster,
                resource,
                namespace,
                created,
                options,
                Recording::Done,
            ) {
                Err(error) if error.reason() == "AlreadyExists" => continue,
                outcome => return outcome,
            }
        }
        return read_modify_write(cluster, resource, namespace, name, target, options, |old| {
            let merged = patching::server_side_apply(
                Some(old),
                applied,
                &request,
                &resource.merge_rules,
                &group_resource,
                name,
            )?;
            Ok(Some((merged, Recording::Done)))
        });
    }
    Err(ApiError::internal("apply raced with a concurrent create"))
}

fn ops_get(
    cluster: &Cluster,
    resource: &ResourceType,
    namespace: Option<&str>,
    name: &str,
) -> bool {
    let key = super::key_of(resource, namespace, name);
    cluster
        .read()
        .store
        .get(&resource.group_resource(), &key)
        .is_some()
}
