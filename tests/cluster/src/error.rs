//! API errors as kube-apiserver reports them: an HTTP code and a `Status` body with the
//! apiserver's wording (`k8s.io/apimachinery/pkg/api/errors`).

use serde_json::{Value, json};

use crate::gvr::GroupResource;
use crate::schema::FieldErrors;

/// A failed API call: the HTTP status code and the Kubernetes `Status` body sent with it.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status code (also `status.code`).
    pub code: u16,
    /// The `Status` object (`kind: Status`, `status: Failure`, `reason`, `message`, `details`).
    pub status: Value,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message(), self.code)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// A `Status` with the given code, reason and message, and optional `details`.
    pub fn new(
        code: u16,
        reason: &str,
        message: impl Into<String>,
        details: Option<Value>,
    ) -> Self {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message.into(),
            "reason": reason,
            "code": code,
        });
        if let Some(details) = details {
            status["details"] = details;
        }
        Self { code, status }
    }

    /// Wraps a ready `Status` body (e.g. the schema module's 422 bodies).
    pub fn from_status(status: Value) -> Self {
        let code = status
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|code| u16::try_from(code).ok())
            .unwrap_or(500);
        Self { code, status }
    }

    /// The `message` of the `Status`.
    pub fn message(&self) -> &str {
        self.status
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The `reason` of the `Status`.
    pub fn reason(&self) -> &str {
        self.status
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// 404 `pipelines.slipway.dev "demo" not found`.
    pub fn not_found(resource: &GroupResource, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{resource} \"{name}\" not found"),
            Some(details(resource, name)),
        )
    }

    /// 409 `pipelines.slipway.dev "demo" already exists`.
    pub fn already_exists(resource: &GroupResource, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{resource} \"{name}\" already exists"),
            Some(details(resource, name)),
        )
    }

    /// 409 `Operation cannot be fulfilled on …: <reason>`.
    pub fn conflict(resource: &GroupResource, name: &str, reason: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {resource} \"{name}\": {reason}"),
            Some(details(resource, name)),
        )
    }

    /// 409 for an update carrying a stale `resourceVersion`.
    pub fn stale(resource: &GroupResource, name: &str) -> Self {
        Self::conflict(
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message, None)
    }

    /// 403 Forbidden on a named object.
    pub fn forbidden(resource: &GroupResource, name: &str, reason: &str) -> Self {
        Self::new(
            403,
            "Forbidden",
            format!("{resource} \"{name}\" is forbidden: {reason}"),
            Some(details(resource, name)),
        )
    }

    /// 405 for a verb the resource does not support.
    pub fn method_not_supported(resource: &GroupResource, verb: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("{verb} is not supported on resources of kind \"{resource}\""),
            Some(json!({"group": resource.group, "kind": resource.resource})),
        )
    }

    /// 415 for a patch type the resource does not accept.
    pub fn unsupported_media_type(content_type: &str, accepted: &[&str]) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
            Some(
                json!({"causes": [{"reason": "UnexpectedServerResponse", "message": content_type}]}),
            ),
        )
    }

    /// 415 for a protobuf body the test cluster cannot decode: names the kind (when the
    /// envelope was readable) and the way around it, JSON.
    pub fn undecodable_protobuf(kind: Option<&str>, reason: &str) -> Self {
        let object = kind.map_or_else(|| "object".to_string(), |kind| format!("{kind} object"));
        let mut details =
            json!({"causes": [{"reason": "UnexpectedServerResponse", "message": reason}]});
        if let Some(kind) = kind {
            details["kind"] = json!(kind);
        }
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the protobuf request body could not be decoded: {reason}; send the {object} as JSON instead, e.g. with kubectl apply -f <file>"
            ),
            Some(details),
        )
    }

    /// 410 Expired (`too old resource version: 5 (10)` and the continue-token texts).
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message, None)
    }

    /// 429 TooManyRequests as API Priority and Fairness answers it.
    pub fn too_many_requests() -> Self {
        Self::new(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.",
            Some(json!({"retryAfterSeconds": 1})),
        )
    }

    /// 500 InternalError.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
            Some(json!({"causes": [{"message": message.to_string()}]})),
        )
    }

    /// 404 for a path that names no resource (`the server could not find the requested resource`).
    pub fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
            Some(json!({})),
        )
    }

    /// 422 Invalid from field errors (`Pipeline.slipway.dev "x" is invalid: …`).
    pub fn invalid(kind: &str, group: &str, name: &str, errors: &FieldErrors) -> Self {
        Self::from_status(errors.to_status(kind, group, name))
    }
}

/// `details` naming the object (`kind` holds the plural resource name, as the apiserver does).
fn details(resource: &GroupResource, name: &str) -> Value {
    json!({"name": name, "group": resource.group, "kind": resource.resource})
}
