//! Patch semantics of kube-apiserver: strategic merge patch for built-in kinds, and server-side
//! apply with `metadata.managedFields` bookkeeping for every write.
//!
//! JSON patch (RFC 6902) and JSON merge patch (RFC 7386) are plain `json_patch` calls in the REST
//! layer; they are not here.
//!
//! # Contract
//! - [`MergeRules`] say how lists and maps merge at each path: from a CRD's OpenAPI schema
//!   ([`MergeRules::from_openapi_schema`]) or from a table of the built-in kinds the test cluster
//!   serves ([`MergeRules::builtin`]). Lists without rules are atomic, maps granular.
//! - [`strategic_merge`] applies an `application/strategic-merge-patch+json` body the way
//!   apimachinery's `StrategicMergeMapPatch` does on the server (see `strategic.rs`).
//! - [`server_side_apply`] merges an applied configuration as structured-merge-diff v4 and the
//!   apiserver's field manager do (see `apply.rs`) and returns the new object with
//!   `metadata.managedFields` updated; [`record_update`] does the bookkeeping of every other
//!   write (create, update, merge/JSON/strategic patch).
//! - Ownership is kept as [`FieldSet`]s, encoded as `fieldsV1` (`fieldset.rs`); conflicts name
//!   fields as the apiserver prints them (`.spec.template.spec.containers[name="web"].image`).
//!
//! # What the REST layer does around these functions
//! - Pick the rules: `MergeRules::builtin(group, version, kind)` for built-ins;
//!   `MergeRules::from_openapi_schema(schema).with_status_subresource(declared)` for custom
//!   resources (`subresources.status` of the served version).
//! - Apply: check `fieldManager` is present (it is required) and the body's `kind`; pass
//!   `force`, the URL's `apiVersion`, `subresource` and the time. On `None` live the result is a
//!   new object: fill `uid`, `resourceVersion`, `creationTimestamp`, `generation`, namespace. On
//!   success run validation/defaulting and the usual update path (resourceVersion precondition if
//!   the applied body carried one, generation bump on spec change). [`ApplyError::Conflicts`] is a
//!   409 `Status` with reason `Conflict`, the error's text as message and one cause per conflict
//!   (`type: FieldManagerConflict`, `message:` [`Conflict::cause_message`], `field:`
//!   [`Conflict::field`]). [`ApplyError::status_code`] and [`PatchError::status_code`] give the
//!   apiserver's code for the other errors (a 500 carries an empty reason and the text as is).
//! - When the returned object equals the live one (managedFields included), the apiserver writes
//!   nothing: no new `resourceVersion`, no watch event.
//! - Every other write: compute the new object (for the main resource of a kind with a status
//!   subresource, reset `status` to the old one; for the status subresource, everything but
//!   `status`), then call [`record_update`] with the old object (`None` on create) and the
//!   request's `fieldManager` (or the user agent's first segment, as the apiserver does).
//! - Strategic merge patch is only for built-in kinds (custom resources answer 415).
//! - Deletions (`deletionTimestamp`, finalizer removal by the server) and garbage collection do
//!   not go through the field manager; writes by clients that remove finalizers do.
//!
//! # Known divergences from kube-apiserver / structured-merge-diff
//! - Rules for built-ins cover the kinds and paths listed in `rules.rs`, not the full OpenAPI
//!   schema: elsewhere lists are atomic and unknown fields are treated as struct fields. Unknown
//!   fields in an applied configuration are not refused ("field not declared in schema").
//! - Following upstream rather than intuition: Job `status.conditions` is `+listType=atomic` (owned
//!   whole by apply; strategic merge still merges by `type`), Pod `status.containerStatuses` is
//!   atomic, `spec.selector` of workloads (LabelSelector) and Service `spec.selector` are atomic,
//!   owner references and image pull secrets are atomic items.
//! - Objects are untyped JSON: a create records `spec` as an added node (`"f:spec":{".":{}}`)
//!   where the apiserver, decoding into Go structs with zero values, does not for built-ins.
//! - A `null` in an applied configuration removes the field and is owned; the apiserver keeps
//!   `null` for nullable custom resource fields.
//! - No version conversion: managedFields of other API versions are compared as they are.
//!   `kubectl.kubernetes.io/last-applied-configuration` is not upgraded into managedFields
//!   (`lastAppliedManager`/`lastAppliedUpdater`), and unions are not normalized.
//! - The time of an applier's entry moves when the object changed or the entry is new (the
//!   apiserver leaves a new entry of an unchanged object without a time).
//! - The status subresource's apply writes only `status`; for built-ins the apiserver also lets it
//!   change `metadata` other than labels.
//! - `fieldsV1` keys and managedFields entries serialise in `serde_json`'s key order (sorted),
//!   not structured-merge-diff's (fields, then keys, then values); keys compare the same.
//! - Strategic merge: directives inside values for fields the original lacks are interpreted
//!   (apimachinery stores them raw and drops them when decoding into Go types);
//!   `$patch: delete` on an absent map adds nothing.
//! - Go-formatted error texts (`map[...]`) are approximations of `fmt`'s `%v`.

mod apply;
mod fieldset;
mod managed;
mod rules;
mod strategic;
mod typed;

use serde_json::Value;

pub use fieldset::{FieldSet, Path, PathElement, path_to_string};
pub use rules::MergeRules;

/// A patch that cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The patch document is malformed or contradicts the object (HTTP 422 or 400, as the
    /// apiserver answers); the text is the apiserver's.
    #[error("{0}")]
    Invalid(String),
}

impl PatchError {
    /// The HTTP status the apiserver answers with (`interpretStrategicMergePatchError`): 400 for
    /// malformed documents and directives, 422 for lists of lists, 500 for the rest.
    pub fn status_code(&self) -> u16 {
        let Self::Invalid(message) = self;
        match message.as_str() {
            strategic::BAD_PRIMITIVE_LIST
            | strategic::BAD_RETAIN_KEYS
            | strategic::BAD_SET_ELEMENT_ORDER => 400,
            strategic::NO_LIST_OF_LISTS => 422,
            m if m.starts_with("json: ") => 400,
            _ => 500,
        }
    }
}

/// Strategic merge patch (`application/strategic-merge-patch+json`) of a built-in object,
/// including the `$patch`, `$retainKeys`, `$setElementOrder/…` and `$deleteFromPrimitiveList/…`
/// directives.
///
/// # Errors
/// [`PatchError::Invalid`] for malformed patches.
pub fn strategic_merge(
    original: &Value,
    patch: &Value,
    rules: &MergeRules,
) -> Result<Value, PatchError> {
    strategic::apply(original, patch, &rules.root).map_err(PatchError::Invalid)
}

/// What a server-side apply request says besides its body.
#[derive(Clone, Debug)]
pub struct ApplyRequest<'a> {
    /// `fieldManager` query parameter (required for apply).
    pub manager: &'a str,
    /// `force=true`: take ownership of conflicting fields instead of failing.
    pub force: bool,
    /// The request's `apiVersion` (recorded in managedFields).
    pub api_version: &'a str,
    /// `Some("status")` for the status subresource, `None` for the main resource.
    pub subresource: Option<&'a str>,
    /// The request time, RFC 3339 with seconds (`2026-11-26T02:53:00Z`).
    pub now: &'a str,
}

/// A field another manager owns with a different value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The manager that owns the field.
    pub manager: String,
    /// The owner as the apiserver prints it: `"name"` for an applier, `"name" using apps/v1` for
    /// an updater, with ` with subresource "status"` after the name for subresource entries.
    pub owner: String,
    /// The field, as the apiserver prints it (`.spec.replicas`,
    /// `.spec.template.spec.containers[name="web"].image`).
    pub field: String,
}

impl Conflict {
    /// The message of this conflict's `StatusCause` (`conflict with "name" using apps/v1`).
    pub fn cause_message(&self) -> String {
        format!("conflict with {}", self.printed_owner())
    }

    fn printed_owner(&self) -> String {
        if self.owner.is_empty() {
            Value::String(self.manager.clone()).to_string()
        } else {
            self.owner.clone()
        }
    }
}

/// Why a server-side apply failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Conflicts with other managers (HTTP 409); the message is the apiserver's
    /// `Apply failed with N conflict(s): conflict with "mgr": .spec.x`.
    #[error("{}", conflicts_message(.0))]
    Conflicts(Vec<Conflict>),
    /// The applied configuration is malformed (HTTP 422 or 400).
    #[error("{0}")]
    Invalid(String),
}

impl ApplyError {
    /// The HTTP status the apiserver answers with: 409 for conflicts, 400 (`BadRequest`) for
    /// `metadata.managedFields` in the body and a wrong `apiVersion`, 500 with an empty reason
    /// for configurations structured-merge-diff cannot type (the apiserver does not wrap those).
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Conflicts(_) => 409,
            Self::Invalid(message)
                if message == MANAGED_FIELDS_MUST_BE_NIL
                    || message.starts_with("Incorrect version specified")
                    || message.starts_with("the applied configuration") =>
            {
                400
            }
            Self::Invalid(_) => 500,
        }
    }
}

const MANAGED_FIELDS_MUST_BE_NIL: &str = "metadata.managedFields must be nil";

/// The apiserver's conflict message (`getConflictMessage`): one conflict on one line; several
/// grouped by owner (in the apiserver's manager order), one `- field` line each.
fn conflicts_message(conflicts: &[Conflict]) -> String {
    if let [conflict] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            conflict.printed_owner(),
            conflict.field
        );
    }
    let mut owners: Vec<String> = Vec::new();
    for conflict in conflicts {
        let owner = conflict.printed_owner();
        if !owners.contains(&owner) {
            owners.push(owner);
        }
    }
    let mut lines = Vec::new();
    for owner in owners {
        lines.push(format!("conflicts with {owner}:"));
        for conflict in conflicts.iter().filter(|c| c.printed_owner() == owner) {
            lines.push(format!("- {}", conflict.field));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// Server-side apply: merges the applied configuration into `live` (`None` creates), removes
/// fields this manager applied before but no longer applies (when no other manager owns them), and
/// returns the new object with `metadata.managedFields` updated.
///
/// The applied configuration is first reduced to what the request may write: on the main
/// resource of a kind whose status is a subresource, its `status` is dropped; on the status
/// subresource, everything but `status` (and `apiVersion`, `kind`, `metadata.name` and
/// `metadata.namespace`) is dropped.
///
/// # Errors
/// [`ApplyError::Conflicts`] unless `force`; [`ApplyError::Invalid`] for malformed input
/// (`metadata.managedFields must be nil`, an `apiVersion` other than the request's, keyed list
/// items without keys or duplicated, undecodable live managedFields).
pub fn server_side_apply(
    live: Option<&Value>,
    applied: &Value,
    request: &ApplyRequest<'_>,
    rules: &MergeRules,
) -> Result<Value, ApplyError> {
    apply::server_side_apply(live, applied, request, rules)
}

/// Records a non-apply write (create, update, merge/JSON/strategic patch) in `new`'s
/// `metadata.managedFields`: `manager` (operation `Update`) takes ownership of every field it set
/// or changed, and other managers lose those fields.
///
/// The entries start from `new`'s managedFields when the write set them (not empty, decodable, not
/// a subresource), else from `old`'s; `[{}]` resets them. Server-set metadata (`name`,
/// `namespace`, `uid`, `resourceVersion`, `generation`, `creationTimestamp`, `managedFields`) and
/// `apiVersion`/`kind` are never owned.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    api_version: &str,
    subresource: Option<&str>,
    now: &str,
    rules: &MergeRules,
) {
    let write = apply::UpdateWrite {
        manager,
        api_version,
        subresource,
        now,
    };
    apply::record_update(old, new, &write, rules);
}

#[cfg(test)]
mod tests;
