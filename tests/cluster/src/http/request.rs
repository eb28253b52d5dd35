//! Turning a request path and method into what it addresses, as the apiserver's
//! `RequestInfoFactory` does (pure).

use std::collections::HashMap;

use crate::gvr::Gvr;

/// What a resource request addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRequest {
    /// API verb (get, list, watch, create, update, patch, delete, deletecollection).
    pub verb: &'static str,
    /// Group, version and plural.
    pub gvr: Gvr,
    /// Namespace from the path.
    pub namespace: Option<String>,
    /// Object name.
    pub name: Option<String>,
    /// Subresource (`status`, `scale`).
    pub subresource: Option<String>,
}

/// What a path is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// An API resource.
    Resource(ResourceRequest),
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`.
    GroupVersion(String, String),
    /// `/version`.
    Version,
    /// `/openapi/v3`.
    OpenApiRoot,
    /// `/openapi/v3/api/v1` or `/openapi/v3/apis/{group}/{version}`.
    OpenApiGroupVersion(String, String),
    /// `/healthz`, `/readyz`, `/livez`.
    Health,
    /// `/_testcluster/...`: the admin API (the rest of the path).
    Admin(String),
    /// Anything else.
    Unknown,
}

/// Query parameters, decoded.
pub fn parse_query(query: Option<&str>) -> HashMap<String, String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// Whether a query flag is set (`true` or `1`).
pub fn flag(query: &HashMap<String, String>, name: &str) -> bool {
    query
        .get(name)
        .is_some_and(|value| value == "true" || value == "1")
}

/// Classifies a request.
pub fn route(method: &str, path: &str, query: &HashMap<String, String>) -> Route {
    let parts: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|part| !part.is_empty())
        .collect();
    match parts.as_slice() {
        ["version"] => Route::Version,
        ["healthz" | "readyz" | "livez", ..] => Route::Health,
        ["_testcluster", rest @ ..] => Route::Admin(rest.join("/")),
        ["openapi", "v3"] => Route::OpenApiRoot,
        ["openapi", "v3", "api", version] => {
            Route::OpenApiGroupVersion(String::new(), (*version).to_string())
        }
        ["openapi", "v3", "apis", group, version] => {
            Route::OpenApiGroupVersion((*group).to_string(), (*version).to_string())
        }
        ["api"] => Route::CoreVersions,
        ["apis"] => Route::Groups,
        ["apis", group] => Route::Group((*group).to_string()),
        ["api", version] => Route::GroupVersion(String::new(), (*version).to_string()),
        ["apis", group, version] => {
            Route::GroupVersion((*group).to_string(), (*version).to_string())
        }
        ["api", version, rest @ ..] => resource_route(method, "", version, rest, query),
        ["apis", group, version, rest @ ..] => resource_route(method, group, version, rest, query),
        _ => Route::Unknown,
    }
}

fn resource_route(
    method: &str,
    group: &str,
    version: &str,
    rest: &[&str],
    query: &HashMap<String, String>,
) -> Route {
    let (watch_path, mut parts) = match rest {
        ["watch", tail @ ..] => (true, tail),
        _ => (false, rest),
    };
    let mut namespace = None;
    if parts.first() == Some(&"namespaces") && parts.len() > 1 {
        namespace = Some(parts[1].to_string());
        if parts.len() > 2 && !matches!(parts[2], "status" | "finalize") {
            parts = &parts[2..];
        }
    }
    let (resource, name, subresource) = match parts {
        [resource] => (*resource, None, None),
        [resource, name] => (*resource, Some(*name), None),
        [resource, name, subresource] => (*resource, Some(*name), Some(*subresource)),
        _ => return Route::Unknown,
    };
    // `/api/v1/namespaces/{name}` names the namespace itself.
    let (namespace, name) = if resource == "namespaces"
        && parts.len() <= 3
        && namespace.is_some()
        && parts[0] == "namespaces"
    {
        (None, name.map(ToString::to_string))
    } else {
        (namespace, name.map(ToString::to_string))
    };
    let watching = watch_path || flag(query, "watch");
    let verb = match (method, name.is_some()) {
        ("GET" | "HEAD", _) if watching => "watch",
        ("GET" | "HEAD", true) => "get",
        ("GET" | "HEAD", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unknown",
    };
    Route::Resource(ResourceRequest {
        verb,
        gvr: Gvr::new(group, version, resource),
        namespace,
        name,
        subresource: subresource.map(ToString::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(method: &str, path: &str) -> ResourceRequest {
        match route(method, path, &HashMap::new()) {
            Route::Resource(request) => request,
            other => panic!("{path} is {other:?}"),
        }
    }

    #[test]
    fn paths_resolve_like_the_apiservers_request_info() {
        let pods = resource("GET", "/api/v1/namespaces/default/pods");
        assert_eq!(
            (pods.verb, pods.namespace.as_deref(), pods.name),
            ("list", Some("default"), None)
        );
        let status = resource(
            "PUT",
            "/apis/slipway.dev/v1alpha1/namespaces/ns/pipelines/demo/status",
        );
        assert_eq!(status.gvr, Gvr::new("slipway.dev", "v1alpha1", "pipelines"));
        assert_eq!(
            (status.verb, status.subresource.as_deref()),
            ("update", Some("status"))
        );
        let namespace = resource("GET", "/api/v1/namespaces/default");
        assert_eq!(
            (
                namespace.gvr.resource.as_str(),
                namespace.name.as_deref(),
                namespace.namespace
            ),
            ("namespaces", Some("default"), None)
        );
        let namespace_status = resource("PUT", "/api/v1/namespaces/default/status");
        assert_eq!(namespace_status.subresource.as_deref(), Some("status"));
        assert_eq!(namespace_status.name.as_deref(), Some("default"));
        let watch = resource("GET", "/apis/apps/v1/watch/namespaces/x/deployments");
        assert_eq!(watch.verb, "watch");
        assert_eq!(
            resource("DELETE", "/api/v1/namespaces/x/pods").verb,
            "deletecollection"
        );
        let all = resource("GET", "/api/v1/pods");
        assert_eq!((all.namespace, all.verb), (None, "list"));
    }
}
