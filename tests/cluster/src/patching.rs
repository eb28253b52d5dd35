//! The one place the REST layer calls the patch module (`crate::patch`), translating its
//! outcomes into API errors the way the apiserver does.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::patch::{self, ApplyError, ApplyRequest, MergeRules, PatchError};

/// Merge rules of a built-in kind.
pub fn builtin_rules(group: &str, version: &str, kind: &str) -> MergeRules {
    MergeRules::builtin(group, version, kind)
}

/// Merge rules from a CRD version's `openAPIV3Schema`.
pub fn schema_rules(schema: &Value, status_subresource: bool) -> MergeRules {
    MergeRules::from_openapi_schema(schema).with_status_subresource(status_subresource)
}

/// What a write says about itself, for `managedFields`.
#[derive(Clone, Copy, Debug)]
pub struct WriteContext<'a> {
    /// The field manager.
    pub manager: &'a str,
    /// The request's `apiVersion`.
    pub api_version: &'a str,
    /// `Some("status")` for the status subresource.
    pub subresource: Option<&'a str>,
    /// The request time (RFC 3339, seconds).
    pub now: &'a str,
}

/// Records a non-apply write in `new`'s `managedFields`.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    context: WriteContext<'_>,
    rules: &MergeRules,
) {
    patch::record_update(
        old,
        new,
        context.manager,
        context.api_version,
        context.subresource,
        context.now,
        rules,
    );
}

/// Strategic merge patch of a built-in object.
///
/// # Errors
/// The apiserver's answer to a bad patch (400, 422 or 500, by [`PatchError::status_code`]).
pub fn strategic_merge(
    original: &Value,
    patch_body: &Value,
    rules: &MergeRules,
) -> Result<Value, ApiError> {
    patch::strategic_merge(original, patch_body, rules).map_err(|error| {
        let code = error.status_code();
        let PatchError::Invalid(message) = error;
        match code {
            400 => ApiError::bad_request(message),
            422 => ApiError::new(422, "Invalid", message, None),
            _ => ApiError::internal(message),
        }
    })
}

/// Server-side apply.
///
/// # Errors
/// 409 with one `FieldManagerConflict` cause per conflict, or 400 for a malformed
/// configuration.
pub fn server_side_apply(
    live: Option<&Value>,
    applied: &Value,
    request: &ApplyRequest<'_>,
    rules: &MergeRules,
    group_resource: &crate::gvr::GroupResource,
    name: &str,
) -> Result<Value, ApiError> {
    patch::server_side_apply(live, applied, request, rules).map_err(|error| match &error {
        ApplyError::Conflicts(conflicts) => {
            let causes: Vec<Value> = conflicts
                .iter()
                .map(|conflict| {
                    json!({"reason": "FieldManagerConflict", "message": conflict.cause_message(), "field": conflict.field})
                })
                .collect();
            ApiError::new(
                409,
                "Conflict",
                error.to_string(),
                Some(json!({"name": name, "group": group_resource.group, "kind": group_resource.resource, "causes": causes})),
            )
        }
        ApplyError::Invalid(message) => ApiError::bad_request(message.clone()),
    })
}
