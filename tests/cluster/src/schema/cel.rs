//! CEL `x-kubernetes-validations`: compiled once per rule through kube's client-side CEL
//! (`kube::core::cel`, the `kube-cel` crate), evaluated node by node like the apiserver's
//! `apiextensions-apiserver/pkg/apiserver/schema/cel` validator.
//!
//! Each rule is compiled against a copy of its node's schema with every other rule, default and
//! junctor stripped, so `kube-cel` evaluates exactly that rule with the node's formats (timestamps,
//! durations, bytes, int-or-string, embedded resources) while this module decides which values
//! and old values it sees, which error it becomes, and what ratcheting forgives.

use kube::core::cel::{CompiledSchema, ErrorKind, compile_schema, validate_compiled};
use serde::Deserialize;
use serde_json::Value;

use super::SchemaError;
use super::errors::{FieldError, FieldErrorKind, path};
use super::node::{AdditionalProperties, Node};

/// One compiled `x-kubernetes-validations` entry.
pub(crate) struct CelRule {
    rule: String,
    message: Option<String>,
    message_expression: Option<String>,
    reason: Option<String>,
    /// `fieldPath` normalised to Go's `field.Path` form, relative to the node.
    field_path: Option<String>,
    optional_old_self: bool,
    uses_old_self: bool,
    program: CompiledSchema,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRule {
    rule: String,
    message: Option<String>,
    message_expression: Option<String>,
    reason: Option<String>,
    field_path: Option<String>,
    optional_old_self: Option<bool>,
}

const REASONS: [&str; 4] = [
    "FieldValueInvalid",
    "FieldValueForbidden",
    "FieldValueRequired",
    "FieldValueDuplicate",
];

/// Compiles the rules in `rules` for the node `node_schema`; a CRD with a bad rule is rejected.
pub(crate) fn compile_rules(
    node_schema: &Value,
    rules: &Value,
    location: &str,
    problems: &mut Vec<SchemaError>,
) -> Vec<CelRule> {
    let Some(entries) = rules.as_array() else {
        problems.push(SchemaError::Invalid {
            location: location.to_string(),
            detail: "must be a list".into(),
        });
        return Vec::new();
    };
    let mut structure = node_schema.clone();
    strip_rules(&mut structure);
    let mut compiled = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let location = format!("{location}[{i}]");
        let raw: RawRule = match serde_json::from_value(entry.clone()) {
            Ok(raw) => raw,
            Err(error) => {
                problems.push(SchemaError::Invalid {
                    location,
                    detail: error.to_string(),
                });
                continue;
            }
        };
        if let Some(reason) = &raw.reason
            && !REASONS.contains(&reason.as_str())
        {
            problems.push(SchemaError::Invalid {
                location: format!("{location}.reason"),
                detail: format!(
                    "unsupported reason {reason:?}, supported: {}",
                    REASONS.join(", ")
                ),
            });
        }
        let field_path = match raw
            .field_path
            .as_deref()
            .map(|field_path| normalize_field_path(field_path, node_schema))
        {
            Some(Ok(normalized)) => Some(normalized),
            Some(Err(detail)) => {
                problems.push(SchemaError::Invalid {
                    location: format!("{location}.fieldPath"),
                    detail,
                });
                None
            }
            None => None,
        };
        let mut single = structure.clone();
        if let Some(object) = single.as_object_mut() {
            object.insert(
                "x-kubernetes-validations".into(),
                Value::Array(vec![entry.clone()]),
            );
        }
        let program = compile_schema(&single);
        let uses_old_self = match program.validations.first() {
            Some(Ok(result)) => result.is_transition_rule,
            Some(Err(error)) => {
                problems.push(SchemaError::Cel {
                    location,
                    rule: raw.rule.clone(),
                    detail: error.to_string(),
                });
                continue;
            }
            None => false,
        };
        compiled.push(CelRule {
            rule: raw.rule,
            message: raw.message,
            message_expression: raw.message_expression,
            reason: raw.reason,
            field_path,
            optional_old_self: raw.optional_old_self.unwrap_or(false),
            uses_old_self,
            program,
        });
    }
    compiled
}

/// Removes what `kube-cel` would otherwise evaluate or apply below the rule being compiled.
fn strip_rules(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            for keyword in [
                "x-kubernetes-validations",
                "default",
                "allOf",
                "oneOf",
                "anyOf",
                "not",
            ] {
                object.remove(keyword);
            }
            object.values_mut().for_each(strip_rules);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_rules),
        _ => {}
    }
}

/// The apiserver's `ValidFieldPath`: `.a.b`, `['a.b']` and map keys, checked against the schema.
fn normalize_field_path(field_path: &str, schema: &Value) -> Result<String, String> {
    let mut normalized = String::new();
    let mut current = schema;
    let mut rest = field_path;
    while !rest.is_empty() {
        let name;
        if let Some(after) = rest.strip_prefix("['") {
            let end = after
                .find("']")
                .ok_or_else(|| "expected single quoted string".to_string())?;
            name = after[..end].replace("\\'", "'").replace("\\\\", "\\");
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return Err("unexpected end of JSON path".into());
            }
            name = after[..end].to_string();
            rest = &after[end..];
        } else {
            return Err(format!("expected [ or . but got: {rest}"));
        }
        if let Some(child) = current
            .get("properties")
            .and_then(|properties| properties.get(&name))
        {
            normalized = path::child(&normalized, &name);
            current = child;
        } else if current.get("properties").is_none()
            && let Some(child) = current
                .get("additionalProperties")
                .filter(|child| child.is_object())
        {
            normalized = path::key(&normalized, &name);
            current = child;
        } else {
            return Err("does not refer to a valid field".into());
        }
    }
    Ok(normalized)
}

/// Where a node stands for transition rules and ratcheting on update.
#[derive(Clone, Copy)]
pub(crate) struct Cursor<'a> {
    /// The correlated old value (by field name, or by key for `x-kubernetes-list-type: map`).
    old: Option<&'a Value>,
    /// False for items of lists that are not list-type map: they have no old value.
    correlated: bool,
    /// Whether the nearest correlated ancestor is unchanged (ratchets uncorrelated nodes).
    ancestor_unchanged: bool,
    /// True on update: errors on unchanged values become warnings (dropped here).
    ratcheting: bool,
}

impl<'a> Cursor<'a> {
    /// The cursor of the object root.
    pub(crate) fn root(old: Option<&'a Value>) -> Self {
        Self {
            old,
            correlated: true,
            ancestor_unchanged: false,
            ratcheting: old.is_some(),
        }
    }

    fn unchanged(&self, value: &Value) -> bool {
        if self.correlated {
            self.old == Some(value)
        } else {
            self.ancestor_unchanged
        }
    }

    fn field(&self, value: &Value, key: &str) -> Self {
        if !self.correlated {
            return *self;
        }
        Self {
            old: self.old.and_then(|old| old.get(key)),
            correlated: true,
            ancestor_unchanged: self.old == Some(value),
            ratcheting: self.ratcheting,
        }
    }

    fn item(&self, list_node: &Node, list: &Value, item: &Value) -> Self {
        let ancestor_unchanged = self.unchanged(list);
        let old_item = match (self.correlated, list_node.list_type.as_deref()) {
            (true, Some("map")) => self
                .old
                .and_then(|old| map_list_match(&list_node.list_map_keys, old, item)),
            _ => None,
        };
        let correlated = self.correlated && list_node.list_type.as_deref() == Some("map");
        Self {
            old: old_item,
            correlated,
            ancestor_unchanged,
            ratcheting: self.ratcheting,
        }
    }
}

/// The item of `old` (a list-type map) with the same key values as `item`.
pub(crate) fn map_list_match<'a>(
    keys: &[String],
    old: &'a Value,
    item: &Value,
) -> Option<&'a Value> {
    let item = item.as_object()?;
    old.as_array()?.iter().find(|candidate| {
        candidate
            .as_object()
            .is_some_and(|candidate| keys.iter().all(|key| candidate.get(key) == item.get(key)))
    })
}

/// Evaluates every rule under `node` against `value`, appending failures to `errors`.
pub(crate) fn validate(
    node: &Node,
    at: &str,
    value: &Value,
    cursor: Cursor<'_>,
    errors: &mut Vec<FieldError>,
) {
    // Rules never see null: a rule that cares about null checks it from the parent.
    if !node.has_rules || value.is_null() {
        return;
    }
    for rule in &node.rules {
        evaluate(node, rule, at, value, cursor, errors);
    }
    match value {
        Value::Array(items) => {
            if let Some(item_node) = &node.items {
                for (i, item) in items.iter().enumerate() {
                    validate(
                        item_node,
                        &path::index(at, i),
                        item,
                        cursor.item(node, value, item),
                        errors,
                    );
                }
            }
        }
        Value::Object(fields) => {
            if let Some(AdditionalProperties::Schema(child)) = &node.additional_properties {
                for (key, field) in fields {
                    validate(
                        child,
                        &path::key(at, key),
                        field,
                        cursor.field(value, key),
                        errors,
                    );
                }
            }
            for (key, field) in fields {
                if let Some(child) = node.properties.get(key) {
                    validate(
                        child,
                        &path::child(at, key),
                        field,
                        cursor.field(value, key),
                        errors,
                    );
                }
            }
        }
        _ => {}
    }
}

fn evaluate(
    node: &Node,
    rule: &CelRule,
    at: &str,
    value: &Value,
    cursor: Cursor<'_>,
    errors: &mut Vec<FieldError>,
) {
    // Transition rules run only when there is an old value to compare with.
    if rule.uses_old_self && cursor.old.is_none() && !rule.optional_old_self {
        return;
    }
    let Err(failures) = validate_compiled(&rule.program, value, cursor.old) else {
        return;
    };
    let type_name = Value::String(node.type_name.clone());
    for failure in failures.into_vec() {
        let error = match failure.kind {
            ErrorKind::ValidationFailure => {
                if !rule.uses_old_self && cursor.ratcheting && cursor.unchanged(value) {
                    continue;
                }
                let at = match &rule.field_path {
                    Some(field_path) => path::child(at, field_path),
                    None => at.to_string(),
                };
                let detail = detail(rule, &failure.message);
                match rule.reason.as_deref() {
                    Some("FieldValueForbidden") => FieldError::forbidden(path::or_nil(&at), detail),
                    Some("FieldValueRequired") => FieldError::required(path::or_nil(&at), detail),
                    Some("FieldValueDuplicate") => {
                        FieldError::duplicate(path::or_nil(&at), type_name.clone())
                    }
                    _ => FieldError::invalid(path::or_nil(&at), type_name.clone(), detail),
                }
            }
            _ => {
                let cause = failure
                    .message
                    .strip_prefix("rule evaluation error: ")
                    .unwrap_or(&failure.message);
                FieldError::new(
                    path::or_nil(at),
                    FieldErrorKind::Invalid,
                    Some(type_name.clone()),
                    format!("{cause} evaluating rule: {}", rule_error_string(rule)),
                )
            }
        };
        errors.push(error);
    }
}

/// The error detail: the `messageExpression` result when usable, else `message`, else the rule.
fn detail(rule: &CelRule, evaluated: &str) -> String {
    if rule.message_expression.is_some() {
        let candidate = evaluated.trim();
        let fallback_from_kube_cel = candidate == format!("failed rule: {}", rule.rule)
            || rule
                .message
                .as_deref()
                .is_some_and(|message| message == evaluated);
        if !candidate.is_empty() && !candidate.contains('\n') && !fallback_from_kube_cel {
            return candidate.to_string();
        }
    }
    match rule.message.as_deref().map(str::trim) {
        Some(message) if !message.is_empty() => message.to_string(),
        _ => format!("failed rule: {}", rule.rule.trim()),
    }
}

fn rule_error_string(rule: &CelRule) -> String {
    match rule.message.as_deref().map(str::trim) {
        Some(message) if !message.is_empty() => message.to_string(),
        _ => rule.rule.trim().to_string(),
    }
}
