//! Field errors and the 422 `Status` body, rendered exactly as kube-apiserver 1.33 renders them
//! (`k8s.io/apimachinery/pkg/util/validation/field` and `apierrors.NewInvalid`).

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Value, json};

use super::gofmt;

/// Why a field was rejected; each kind is one `field.ErrorType` of kube-apiserver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldErrorKind {
    /// `FieldValueNotFound`: a referenced value does not exist.
    NotFound,
    /// `FieldValueRequired`: a required value is missing.
    Required,
    /// `FieldValueDuplicate`: a value that must be unique is repeated.
    Duplicate,
    /// `FieldValueInvalid`: a malformed or out-of-range value.
    Invalid,
    /// `FieldValueNotSupported`: a value outside an enumeration.
    NotSupported,
    /// `FieldValueForbidden`: a value not permitted here.
    Forbidden,
    /// `FieldValueTooLong`: a string longer than allowed.
    TooLong,
    /// `FieldValueTooMany`: a list or map with too many entries.
    TooMany,
    /// `InternalError`: a failure unrelated to the input.
    Internal,
    /// `FieldValueTypeInvalid`: a value of the wrong JSON type or string format.
    TypeInvalid,
}

impl FieldErrorKind {
    /// The `reason` of a `StatusCause` (Go's `field.ErrorType` value).
    pub fn reason(self) -> &'static str {
        match self {
            Self::NotFound => "FieldValueNotFound",
            Self::Required => "FieldValueRequired",
            Self::Duplicate => "FieldValueDuplicate",
            Self::Invalid => "FieldValueInvalid",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Forbidden => "FieldValueForbidden",
            Self::TooLong => "FieldValueTooLong",
            Self::TooMany => "FieldValueTooMany",
            Self::Internal => "InternalError",
            Self::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    /// The human text that starts an error body (Go's `ErrorType.String()`).
    pub fn text(self) -> &'static str {
        match self {
            Self::NotFound => "Not found",
            Self::Required => "Required value",
            Self::Duplicate => "Duplicate value",
            Self::Invalid | Self::TypeInvalid => "Invalid value",
            Self::NotSupported => "Unsupported value",
            Self::Forbidden => "Forbidden",
            Self::TooLong => "Too long",
            Self::TooMany => "Too many",
            Self::Internal => "Internal error",
        }
    }

    /// Whether the apiserver skips CEL rules once an error of this kind exists (`hasBlockingErr`).
    pub fn blocks_cel(self) -> bool {
        matches!(
            self,
            Self::NotSupported | Self::Required | Self::TooLong | Self::TooMany | Self::TypeInvalid
        )
    }
}

/// One rejected field, printed by `Display` as kube-apiserver prints it (`path: body`).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// Field path as the apiserver writes it, e.g. `spec.stages[1].name`; `<nil>` for the object.
    pub path: String,
    /// The error type.
    pub kind: FieldErrorKind,
    /// The bad value shown in the text; `None` when the apiserver omits it.
    pub value: Option<Value>,
    /// Text after the value (may be empty).
    pub detail: String,
}

impl FieldError {
    /// An error of any kind.
    pub fn new(
        path: impl Into<String>,
        kind: FieldErrorKind,
        value: Option<Value>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            path: path.into(),
            kind,
            value,
            detail: detail.into(),
        }
    }

    /// `field.Required(path, detail)`.
    pub fn required(path: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(path, FieldErrorKind::Required, None, detail)
    }

    /// `field.Invalid(path, value, detail)`.
    pub fn invalid(path: impl Into<String>, value: Value, detail: impl Into<String>) -> Self {
        Self::new(path, FieldErrorKind::Invalid, Some(value), detail)
    }

    /// `field.Forbidden(path, detail)`.
    pub fn forbidden(path: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(path, FieldErrorKind::Forbidden, None, detail)
    }

    /// `field.Duplicate(path, value)`.
    pub fn duplicate(path: impl Into<String>, value: Value) -> Self {
        Self::new(path, FieldErrorKind::Duplicate, Some(value), "")
    }

    /// The error without its path, as in a `StatusCause.message` (Go's `ErrorBody()`).
    pub fn body(&self) -> String {
        let mut body = self.kind.text().to_string();
        let shows_value = !matches!(
            self.kind,
            FieldErrorKind::Required
                | FieldErrorKind::Forbidden
                | FieldErrorKind::TooLong
                | FieldErrorKind::Internal
        );
        if shows_value && let Some(value) = &self.value {
            body.push_str(": ");
            body.push_str(&gofmt::bad_value(value));
        }
        if !self.detail.is_empty() {
            body.push_str(": ");
            body.push_str(&self.detail);
        }
        body
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.body())
    }
}

impl std::error::Error for FieldError {}

/// A non-empty list of field errors: the reason an object is rejected with 422.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Wraps a list, or `None` when it is empty.
    pub fn from_vec(errors: Vec<FieldError>) -> Option<Self> {
        if errors.is_empty() {
            None
        } else {
            Some(Self(errors))
        }
    }

    /// The errors in the order the apiserver reports them.
    pub fn as_slice(&self) -> &[FieldError] {
        &self.0
    }

    /// The errors, owned.
    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }

    /// Iterates the errors.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// Number of errors (at least one).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: kept for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether any error has the given path.
    pub fn has_path(&self, path: &str) -> bool {
        self.0.iter().any(|error| error.path == path)
    }

    /// The `Status` body of the 422 response, as `apierrors.NewInvalid` builds it.
    pub fn to_status(&self, kind: &str, group: &str, name: &str) -> Value {
        let qualified_kind = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let causes: Vec<Value> = self
            .0
            .iter()
            .map(|error| json!({"reason": error.kind.reason(), "message": error.body(), "field": error.path}))
            .collect();
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": format!("{qualified_kind} {} is invalid: {self}", gofmt::quote(name)),
            "reason": "Invalid",
            "details": {"name": name, "group": group, "kind": kind, "causes": causes},
            "code": 422,
        })
    }
}

/// Go's `ErrorList.ToAggregate().Error()`: duplicates dropped, brackets around two or more.
impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut seen = BTreeSet::new();
        let messages: Vec<String> = self
            .0
            .iter()
            .map(ToString::to_string)
            .filter(|message| seen.insert(message.clone()))
            .collect();
        if messages.len() == 1 {
            write!(f, "{}", messages[0])
        } else {
            write!(f, "[{}]", messages.join(", "))
        }
    }
}

impl std::error::Error for FieldErrors {}

impl<'a> IntoIterator for &'a FieldErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Go's `field.Path` rendering: `a.b`, `a[0]`, `a[key]`; the empty path is the object itself.
pub(crate) mod path {
    /// `path.Child(name)`.
    pub(crate) fn child(parent: &str, name: &str) -> String {
        if parent.is_empty() {
            name.to_string()
        } else {
            format!("{parent}.{name}")
        }
    }

    /// `path.Index(index)`.
    pub(crate) fn index(parent: &str, index: usize) -> String {
        format!("{parent}[{index}]")
    }

    /// `path.Key(key)`.
    pub(crate) fn key(parent: &str, key: &str) -> String {
        format!("{parent}[{key}]")
    }

    /// `(*field.Path)(nil).String()` for errors about the whole object.
    pub(crate) fn or_nil(path: &str) -> String {
        if path.is_empty() {
            "<nil>".to_string()
        } else {
            path.to_string()
        }
    }
}
