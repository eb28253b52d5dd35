//! REST verbs on resources: decoding requests into `ops` calls and encoding their results
//! (objects, lists, tables, `Status` bodies).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::request::{ResourceRequest, flag};
use super::table::{IncludeObject, table, wants_table};
use super::{error_response, json_response, watch, with_warnings};
use crate::cluster::Cluster;
use crate::error::ApiError;
use crate::ops::{
    self, DeleteOptions, FieldValidation, ListOptions, PatchBody, Propagation, Target, WriteOptions,
};
use crate::registry::ResourceType;

/// Decodes a JSON (or, by content type, YAML or Kubernetes protobuf) body.
pub(crate) fn decode_body(body: &Bytes, content_type: &str) -> Result<Value, ApiError> {
    if content_type == crate::protobuf::MEDIA_TYPE {
        // kubectl's typed commands (`kubectl create secret …`) send built-in kinds as protobuf.
        return crate::protobuf::decode_object(body)
            .map_err(|error| ApiError::undecodable_protobuf(error.kind(), &error.to_string()));
    }
    if content_type.contains("protobuf") || content_type.contains("cbor") {
        return Err(ApiError::unsupported_media_type(
            content_type,
            &[
                "application/json",
                "application/yaml",
                crate::protobuf::MEDIA_TYPE,
            ],
        ));
    }
    if body.is_empty() {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    match serde_json::from_slice(body) {
        Ok(value) => Ok(value),
        Err(json_error) if content_type.contains("yaml") => {
            let text = std::str::from_utf8(body)
                .map_err(|error| ApiError::bad_request(error.to_string()))?;
            serde_saphyr::from_str::<Value>(text).map_err(|error| {
                ApiError::bad_request(format!(
                    "error decoding YAML: {error} (as JSON: {json_error})"
                ))
            })
        }
        Err(error) => Err(ApiError::bad_request(format!(
            "the object provided is unrecognized: couldn't decode the body as JSON: {error}"
        ))),
    }
}

fn write_options(query: &HashMap<String, String>, headers: &HeaderMap) -> WriteOptions {
    let manager = query.get("fieldManager").cloned().unwrap_or_else(|| {
        // The apiserver names the manager after the user agent's program name.
        headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .and_then(|agent| agent.split('/').next())
            .filter(|program| !program.is_empty())
            .unwrap_or("unknown")
            .to_string()
    });
    let validation = match query.get("fieldValidation").map(String::as_str) {
        Some("Strict") => FieldValidation::Strict,
        Some("Ignore") => FieldValidation::Ignore,
        _ => FieldValidation::Warn,
    };
    WriteOptions {
        manager,
        dry_run: query.get("dryRun").is_some_and(|value| value == "All"),
        validation,
    }
}

fn list_options(query: &HashMap<String, String>) -> ListOptions {
    ListOptions {
        label_selector: query.get("labelSelector").cloned(),
        field_selector: query.get("fieldSelector").cloned(),
        limit: query.get("limit").and_then(|limit| limit.parse().ok()),
        continue_token: query.get("continue").cloned(),
        resource_version: query.get("resourceVersion").cloned(),
        resource_version_match: query.get("resourceVersionMatch").cloned(),
    }
}

fn accept(headers: &HeaderMap) -> String {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Kinds whose delete answers with the deleted object rather than a success `Status`.
fn returns_deleted_object(resource: &ResourceType) -> bool {
    resource.is_custom() || (resource.gvr.group.is_empty() && resource.gvr.resource == "pods")
}

/// Handles one resource request.
pub(crate) async fn handle(
    cluster: &Cluster,
    request: ResourceRequest,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let resource = cluster
        .read()
        .registry
        .get(&request.gvr)
        .ok_or_else(ApiError::no_route)?;
    let namespace = request.namespace.as_deref();
    if !resource.namespaced && namespace.is_some() {
        return Err(ApiError::no_route());
    }
    if resource.namespaced && namespace.is_none() && !matches!(request.verb, "list" | "watch") {
        return Err(ApiError::no_route());
    }
    let target = match request.subresource.as_deref() {
        None => Target::Main,
        Some("status") if resource.status_subresource => Target::Status,
        Some("scale") if resource.scale.is_some() => {
            return scale(cluster, &resource, &request, query, headers, &body);
        }
        Some("log") if resource.gvr.group.is_empty() && resource.gvr.resource == "pods" => {
            return pod_log(cluster, &resource, &request, query);
        }
        Some(_) => return Err(ApiError::no_route()),
    };
    let gvr = &resource.gvr;
    let name = request.name.as_deref().unwrap_or_default();
    let options = write_options(query, headers);
    match request.verb {
        "get" => {
            let object = ops::get(cluster, gvr, namespace, name)?;
            if wants_table(&accept(headers)) {
                let include = IncludeObject::parse(query.get("includeObject").map(String::as_str));
                let metadata = json!({"resourceVersion": object.pointer("/metadata/resourceVersion").cloned().unwrap_or_default()});
                return Ok(json_response(
                    200,
                    &table(&resource, &[object], metadata, include),
                ));
            }
            Ok(json_response(200, &object))
        }
        "list" => {
            let page = ops::list(cluster, gvr, namespace, &list_options(query))?;
            let mut metadata = json!({"resourceVersion": page.resource_version.to_string()});
            if let Some(token) = &page.continue_token {
                metadata["continue"] = json!(token);
            }
            if let Some(remaining) = page.remaining {
                metadata["remainingItemCount"] = json!(remaining);
            }
            if wants_table(&accept(headers)) {
                let include = IncludeObject::parse(query.get("includeObject").map(String::as_str));
                return Ok(json_response(
                    200,
                    &table(&resource, &page.items, metadata, include),
                ));
            }
            Ok(json_response(
                200,
                &list_body(&resource, metadata, &page.items),
            ))
        }
        "watch" => watch::respond(
            cluster,
            resource.clone(),
            namespace,
            query,
            &accept(headers),
        ),
        "create" => {
            if target != Target::Main || request.name.is_some() {
                return Err(ApiError::method_not_supported(
                    &resource.group_resource(),
                    "create",
                ));
            }
            let object = decode_body(&body, &content_type(headers))?;
            let written = ops::create(cluster, gvr, namespace, object, &options)?;
            let mut response =
                with_warnings(json_response(201, &written.object), &written.warnings);
            let name = crate::meta::name(&written.object).to_string();
            response.extensions_mut().insert(super::CreatedName(name));
            Ok(response)
        }
        "update" => {
            let object = decode_body(&body, &content_type(headers))?;
            let written = ops::update(cluster, gvr, namespace, name, object, target, &options)?;
            let code = if written.created { 201 } else { 200 };
            Ok(with_warnings(
                json_response(code, &written.object),
                &written.warnings,
            ))
        }
        "patch" => {
            let patch = patch_body(&body, &content_type(headers), query)?;
            let mut options = options;
            if matches!(patch, PatchBody::Apply { .. }) && !query.contains_key("fieldManager") {
                // Apply never derives a manager from the user agent.
                options.manager.clear();
            }
            let written = ops::patch(cluster, gvr, namespace, name, patch, target, &options)?;
            let code = if written.created { 201 } else { 200 };
            Ok(with_warnings(
                json_response(code, &written.object),
                &written.warnings,
            ))
        }
        "delete" => {
            let delete = delete_options(&body, query)?;
            let deleted = ops::delete(cluster, gvr, namespace, name, &delete)?;
            if deleted.removed && !returns_deleted_object(&resource) {
                return Ok(json_response(
                    200,
                    &json!({
                        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                        "details": {"name": name, "group": gvr.group, "kind": gvr.resource,
                                    "uid": deleted.object.pointer("/metadata/uid").cloned().unwrap_or_default()},
                    }),
                ));
            }
            Ok(json_response(200, &deleted.object))
        }
        "deletecollection" => {
            let delete = delete_options(&body, query)?;
            let deleted =
                ops::delete_collection(cluster, gvr, namespace, &list_options(query), &delete)?;
            let metadata = json!({"resourceVersion": cluster.revision().to_string()});
            Ok(json_response(
                200,
                &list_body(&resource, metadata, &deleted),
            ))
        }
        verb => Err(ApiError::method_not_supported(
            &resource.group_resource(),
            verb,
        )),
    }
}

fn list_body(resource: &ResourceType, metadata: Value, items: &[Arc<Value>]) -> Value {
    json!({
        "kind": resource.list_kind,
        "apiVersion": resource.api_version(),
        "metadata": metadata,
        "items": items,
    })
}

fn patch_body(
    body: &Bytes,
    content_type: &str,
    query: &HashMap<String, String>,
) -> Result<PatchBody, ApiError> {
    let accepted = [
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
    ];
    if !accepted.contains(&content_type) {
        return Err(ApiError::unsupported_media_type(content_type, &accepted));
    }
    let document = decode_body(body, content_type)?;
    Ok(match content_type {
        "application/json-patch+json" => PatchBody::Json(document),
        "application/merge-patch+json" => PatchBody::Merge(document),
        "application/strategic-merge-patch+json" => PatchBody::Strategic(document),
        _ => PatchBody::Apply {
            body: document,
            force: flag(query, "force"),
        },
    })
}

fn delete_options(
    body: &Bytes,
    query: &HashMap<String, String>,
) -> Result<DeleteOptions, ApiError> {
    let document = if body.is_empty() {
        json!({})
    } else {
        decode_body(body, "application/json")?
    };
    let policy = query.get("propagationPolicy").cloned().or_else(|| {
        document
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .map(ToString::to_string)
    });
    let orphan = document.get("orphanDependents").and_then(Value::as_bool);
    let propagation = match (policy.as_deref(), orphan) {
        (Some("Foreground"), _) => Some(Propagation::Foreground),
        (Some("Orphan"), _) | (None, Some(true)) => Some(Propagation::Orphan),
        (Some("Background"), _) | (None, _) => Some(Propagation::Background),
        (Some(other), _) => {
            return Err(ApiError::bad_request(format!(
                "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
            )));
        }
    };
    let dry_run = query.get("dryRun").is_some_and(|value| value == "All")
        || document
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|values| values.iter().any(|value| value == "All"));
    Ok(DeleteOptions {
        propagation,
        uid: document
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(ToString::to_string),
        resource_version: document
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(ToString::to_string),
        dry_run,
    })
}

fn scale(
    cluster: &Cluster,
    resource: &ResourceType,
    request: &ResourceRequest,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let namespace = request.namespace.as_deref();
    let name = request.name.as_deref().ok_or_else(ApiError::no_route)?;
    let gvr = &resource.gvr;
    let options = write_options(query, headers);
    let scale = match request.verb {
        "get" => ops::get_scale(cluster, gvr, namespace, name)?,
        "update" => {
            let scale = decode_body(body, &content_type(headers))?;
            ops::update_scale(cluster, gvr, namespace, name, &scale, &options)?
        }
        "patch" => {
            let mut scale = ops::get_scale(cluster, gvr, namespace, name)?;
            match patch_body(body, &content_type(headers), query)? {
                PatchBody::Json(operations) => {
                    let operations: json_patch::Patch = serde_json::from_value(operations)
                        .map_err(|error| ApiError::bad_request(error.to_string()))?;
                    json_patch::patch(&mut scale, &operations)
                        .map_err(|error| ApiError::new(422, "Invalid", error.to_string(), None))?;
                }
                PatchBody::Merge(patch)
                | PatchBody::Strategic(patch)
                | PatchBody::Apply { body: patch, .. } => {
                    json_patch::merge(&mut scale, &patch);
                }
            }
            // A patch addresses the latest version unless it names one.
            ops::update_scale(cluster, gvr, namespace, name, &scale, &options)?
        }
        verb => {
            return Ok(error_response(&ApiError::method_not_supported(
                &resource.group_resource(),
                verb,
            )));
        }
    };
    Ok(json_response(200, &scale))
}

/// `GET …/pods/{name}/log`: what the simulation's runners captured (`container`, `tailLines`,
/// `limitBytes` honoured; `follow` answers the log so far and closes, unlike the kubelet).
fn pod_log(
    cluster: &Cluster,
    resource: &ResourceType,
    request: &ResourceRequest,
    query: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    if request.verb != "get" {
        return Err(ApiError::method_not_supported(
            &resource.group_resource(),
            request.verb,
        ));
    }
    let namespace = request.namespace.as_deref().unwrap_or_default();
    let name = request.name.as_deref().unwrap_or_default();
    let pod = ops::get(cluster, &resource.gvr, Some(namespace), name)?;
    let containers: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let container = match query.get("container") {
        Some(container) if !containers.contains(container) => {
            return Err(ApiError::bad_request(format!(
                "container {container} is not valid for pod {name}"
            )));
        }
        Some(container) => container.clone(),
        None if containers.len() > 1 => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            )));
        }
        None => containers.first().cloned().unwrap_or_default(),
    };
    let mut log = cluster
        .pod_logs()
        .get(namespace, name, Some(&container))
        .unwrap_or_default();
    if let Some(lines) = query
        .get("tailLines")
        .and_then(|value| value.parse::<usize>().ok())
    {
        let kept: Vec<&str> = log.lines().rev().take(lines).collect();
        let trailing_newline = log.ends_with('\n');
        log = kept.into_iter().rev().collect::<Vec<_>>().join("\n");
        if trailing_newline && !log.is_empty() {
            log.push('\n');
        }
    }
    if let Some(limit) = query
        .get("limitBytes")
        .and_then(|value| value.parse::<usize>().ok())
    {
        let mut cut = limit.min(log.len());
        while !log.is_char_boundary(cut) {
            cut -= 1;
        }
        log.truncate(cut);
    }
    let mut response = super::bytes_response(200, Bytes::from(log));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/plain"),
    );
    Ok(response)
}
