//! The HTTP face of the cluster: Kubernetes REST (JSON over HTTP/1.1), discovery, OpenAPI v3,
//! and the admin API under `/_testcluster/`. Every request is logged and may be faulted.
//! Handler panics (e.g. an unfinished patch module) become 500 `InternalError`, as the
//! apiserver's panic recovery answers.

mod admin;
mod discovery;
mod openapi;
mod request;
mod resource;
mod table;
mod watch;

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::FutureExt;
use serde_json::Value;

use crate::cluster::Cluster;
use crate::error::ApiError;
use crate::faults;
use crate::requests::RequestRecord;
pub use request::{Route, route};

/// Shared state of the handlers.
#[derive(Clone, Debug)]
pub struct Server {
    /// The cluster served.
    pub cluster: Cluster,
    /// `host:port` the server listens on (reported by `/api`).
    pub address: String,
}

/// The router serving a cluster.
pub fn router(server: Server) -> Router {
    Router::new().fallback(handle).with_state(server)
}

/// A JSON response.
pub(crate) fn json_response(code: u16, body: &Value) -> Response {
    bytes_response(
        code,
        Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
    )
}

pub(crate) fn bytes_response(code: u16, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The `Status` response of an error.
pub(crate) fn error_response(error: &ApiError) -> Response {
    let mut response = json_response(error.code, &error.status);
    if error.code == 429 {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// Adds `Warning: 299 - "…"` headers.
pub(crate) fn with_warnings(mut response: Response, warnings: &[String]) -> Response {
    for warning in warnings {
        let text = format!(
            "299 - {}",
            serde_json::to_string(warning).unwrap_or_default()
        );
        if let Ok(value) = HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    response
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(ToString::to_string)
}

async fn handle(State(server): State<Server>, request: Request) -> Response {
    let started = Instant::now();
    let time = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let query = request::parse_query(parts.uri.query());
    let route = route(&method, &path, &query);
    let mut record = RequestRecord {
        time,
        method: method.clone(),
        path: path.clone(),
        verb: "get".to_string(),
        user_agent: header_text(&parts.headers, header::USER_AGENT),
        field_manager: query.get("fieldManager").cloned(),
        dry_run: query.contains_key("dryRun"),
        received: Some(started),
        ..RequestRecord::default()
    };
    if let Route::Resource(resource) = &route {
        record.verb = resource.verb.to_string();
        record.group = resource.gvr.group.clone();
        record.version = resource.gvr.version.clone();
        record.resource = resource.gvr.resource.clone();
        record.namespace = resource.namespace.clone();
        record.name = resource.name.clone();
        record.subresource = resource.subresource.clone();
        if resource.verb == "patch" {
            record.patch_type = header_text(&parts.headers, header::CONTENT_TYPE);
        }
        let group_resource = resource.gvr.group_resource();
        let decision = server.cluster.faults().decide(&faults::Target {
            verb: resource.verb,
            resource: Some(&group_resource),
            subresource: resource.subresource.as_deref(),
            namespace: resource.namespace.as_deref(),
            name: resource.name.as_deref(),
        });
        if !decision.delay.is_zero() {
            tokio::time::sleep(decision.delay).await;
        }
        if let Some(error) = decision.error {
            return finish(&server, record, started, error_response(&error));
        }
    }
    let body = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(body) => body,
        Err(error) => {
            let error = ApiError::bad_request(format!("unable to read the request body: {error}"));
            return finish(&server, record, started, error_response(&error));
        }
    };
    let dispatched = AssertUnwindSafe(dispatch(
        &server,
        route,
        &method,
        &query,
        &parts.headers,
        body,
    ))
    .catch_unwind()
    .await;
    let response = match dispatched {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => error_response(&error),
        Err(panic) => {
            let text = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(ToString::to_string))
                .unwrap_or_else(|| "panic".to_string());
            error_response(&ApiError::internal(format!("the server panicked: {text}")))
        }
    };
    finish(&server, record, started, response)
}

/// The name of an object a create made (its path has none), for the request log.
#[derive(Clone, Debug)]
pub(crate) struct CreatedName(pub String);

fn finish(
    server: &Server,
    mut record: RequestRecord,
    started: Instant,
    response: Response,
) -> Response {
    record.code = response.status().as_u16();
    if let Some(CreatedName(name)) = response.extensions().get::<CreatedName>() {
        record.name = Some(name.clone());
    }
    record.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    server.cluster.requests().record(record);
    response
}

async fn dispatch(
    server: &Server,
    route: Route,
    method: &str,
    query: &std::collections::HashMap<String, String>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let cluster = &server.cluster;
    let found = |document: Option<Value>| {
        document
            .map(|document| json_response(200, &document))
            .ok_or_else(ApiError::no_route)
    };
    match route {
        Route::Resource(request) => resource::handle(cluster, request, query, headers, body).await,
        Route::Version => Ok(json_response(200, &discovery::version())),
        Route::Health => Ok(bytes_response(200, Bytes::from_static(b"ok"))),
        Route::CoreVersions => Ok(json_response(
            200,
            &discovery::core_versions(&server.address),
        )),
        Route::Groups => Ok(json_response(
            200,
            &discovery::groups(&cluster.read().registry),
        )),
        Route::Group(group) => found(discovery::group(&cluster.read().registry, &group)),
        Route::GroupVersion(group, version) => found(discovery::group_version(
            &cluster.read().registry,
            &group,
            &version,
        )),
        Route::OpenApiRoot => Ok(json_response(200, &openapi::root(&cluster.read().registry))),
        Route::OpenApiGroupVersion(group, version) => found(openapi::group_version_document(
            &cluster.read().registry,
            &group,
            &version,
        )),
        Route::Admin(path) => admin::handle(cluster, method, &path, &body),
        Route::Unknown => Err(ApiError::no_route()),
    }
}
