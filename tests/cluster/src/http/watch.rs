//! Watch responses: a chunked stream of newline-delimited JSON watch events.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::request::flag;
use super::table::{IncludeObject, table, wants_table};
use crate::cluster::Cluster;
use crate::error::ApiError;
use crate::registry::ResourceType;
use crate::selector::{FieldSelector, LabelSelector};
use crate::watch::{self, ObjectFilter, WatchItem, WatchRequest, bookmark_object};

/// How events are encoded.
#[derive(Clone, Copy, Debug)]
enum Format {
    Json,
    Table(IncludeObject),
}

fn line(kind: &str, object: &Value) -> Bytes {
    Bytes::from(format!("{}\n", json!({"type": kind, "object": object})))
}

fn encode(resource: &ResourceType, format: Format, item: &WatchItem) -> Bytes {
    match item {
        WatchItem::Event(kind, object, change) => match format {
            Format::Table(include) => {
                let metadata = json!({"resourceVersion": object.pointer("/metadata/resourceVersion").cloned().unwrap_or_default()});
                line(
                    kind.as_str(),
                    &table(resource, std::slice::from_ref(object), metadata, include),
                )
            }
            Format::Json => match change {
                // Reuse the encoding shared by every watch of this change.
                Some(change) => {
                    let encoded = change.encoded();
                    let mut buffer = Vec::with_capacity(encoded.len() + 32);
                    buffer.extend_from_slice(b"{\"type\":\"");
                    buffer.extend_from_slice(kind.as_str().as_bytes());
                    buffer.extend_from_slice(b"\",\"object\":");
                    buffer.extend_from_slice(&encoded);
                    buffer.extend_from_slice(b"}\n");
                    Bytes::from(buffer)
                }
                None => line(kind.as_str(), object),
            },
        },
        WatchItem::Bookmark(revision, initial_end) => line(
            "BOOKMARK",
            &bookmark_object(resource, *revision, *initial_end),
        ),
        WatchItem::Error(error) => line("ERROR", &error.status),
    }
}

/// Starts a watch and answers with its stream.
pub(crate) fn respond(
    cluster: &Cluster,
    resource: Arc<ResourceType>,
    namespace: Option<&str>,
    query: &HashMap<String, String>,
    accept: &str,
) -> Result<Response, ApiError> {
    let labels = LabelSelector::parse(
        query
            .get("labelSelector")
            .map(String::as_str)
            .unwrap_or_default(),
    )
    .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(
        query
            .get("fieldSelector")
            .map(String::as_str)
            .unwrap_or_default(),
        &resource.gvr.group,
        &resource.gvr.resource,
    )
    .map_err(ApiError::bad_request)?;
    let send_initial_events = query.get("sendInitialEvents").map(|value| value == "true");
    let format = if wants_table(accept) {
        Format::Table(IncludeObject::parse(
            query.get("includeObject").map(String::as_str),
        ))
    } else {
        Format::Json
    };
    let request = WatchRequest {
        resource: resource.clone(),
        filter: ObjectFilter {
            namespace: namespace.map(ToString::to_string),
            labels,
            fields,
        },
        resource_version: query.get("resourceVersion").cloned(),
        send_initial_events,
        allow_bookmarks: flag(query, "allowWatchBookmarks"),
        timeout: query
            .get("timeoutSeconds")
            .and_then(|seconds| seconds.parse().ok())
            .map(Duration::from_secs),
    };
    let receiver = watch::start(cluster, request)?;
    let stream = futures::stream::unfold(receiver, move |mut receiver| {
        let resource = resource.clone();
        async move {
            let item = receiver.recv().await?;
            Some((
                Ok::<_, std::convert::Infallible>(encode(&resource, format, &item)),
                receiver,
            ))
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
