//! Pipeline variables: `#{Namespace.Name}` references, the table a run resolves them from, and
//! their substitution into every string of an action's configuration.
//!
//! # Namespaces
//! - `variables` — the Pipeline's `spec.variables` (defaults, overridden per run);
//! - `slipway` — built-ins: `PipelineExecutionId`, `PipelineName`;
//! - the source's namespace (`SourceVariables` by default) — `CommitId`, `BranchName`,
//!   `CommitMessage`, `AuthorDate`, `FullRepositoryName` (git), `ImageDigest`, `ImageTag`,
//!   `ImageURI` (image sources), `ObjectVersion` (object sources);
//! - each action's `namespace` — a build's exported variables and pushed images
//!   (`IMAGE_<NAME>_URI`, `_DIGEST`, `_TAG`), a job's output variables — once it succeeded.
//!
//! # Syntax
//! `#{` namespace `.` name `}`; namespace and name are `[A-Za-z0-9@_-]+` (the schema's pattern for
//! both). Text that merely looks similar (`#{x}` without a dot, a `#` alone) is left as written,
//! so shell text in a build's environment is never mangled. A reference to a name the table does
//! not hold is an error naming the reference: an action never starts with a half-substituted
//! configuration.

use std::collections::BTreeMap;

use serde_json::Value;

/// Resolved variables: namespace → name → value (what `status.variables` holds).
pub type VariableTable = BTreeMap<String, BTreeMap<String, String>>;

/// The built-in namespace.
pub const SLIPWAY_NAMESPACE: &str = "slipway";
/// The pipeline-variable namespace.
pub const PIPELINE_VARIABLES_NAMESPACE: &str = "variables";

/// A reference `#{namespace.name}` found in text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reference {
    /// The namespace.
    pub namespace: String,
    /// The name.
    pub name: String,
}

impl std::fmt::Display for Reference {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "#{{{}.{}}}", self.namespace, self.name)
    }
}

/// A reference the table cannot resolve.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown variable {reference}{}", hint(.known_names))]
pub struct UnknownVariable {
    /// The reference.
    pub reference: Reference,
    /// The names its namespace holds (empty when the namespace itself is unknown).
    pub known_names: Vec<String>,
}

fn hint(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!(" (its namespace has {})", known.join(", "))
    }
}

fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '@' | '_' | '-')
}

/// Every reference in `text`, in order (duplicates kept).
pub fn references(text: &str) -> Vec<Reference> {
    scan(text)
        .into_iter()
        .map(|(_, _, reference)| reference)
        .collect()
}

/// `(start, end, reference)` of every well-formed reference in `text` (byte offsets).
fn scan(text: &str) -> Vec<(usize, usize, Reference)> {
    let mut found = Vec::new();
    let mut rest = 0;
    while let Some(offset) = text[rest..].find("#{") {
        let start = rest + offset;
        let body_start = start + 2;
        let Some(close) = text[body_start..].find('}') else {
            break;
        };
        let body = &text[body_start..body_start + close];
        let end = body_start + close + 1;
        match body.split_once('.') {
            Some((namespace, name))
                if !namespace.is_empty()
                    && !name.is_empty()
                    && namespace.chars().all(is_identifier_char)
                    && name.chars().all(is_identifier_char) =>
            {
                found.push((
                    start,
                    end,
                    Reference {
                        namespace: namespace.to_owned(),
                        name: name.to_owned(),
                    },
                ));
                rest = end;
            }
            _ => rest = body_start,
        }
    }
    found
}

/// `text` with every reference replaced from `table`.
///
/// # Errors
/// The first reference the table does not hold.
pub fn substitute(text: &str, table: &VariableTable) -> Result<String, UnknownVariable> {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end, reference) in scan(text) {
        let value = lookup(&reference, table)?;
        out.push_str(&text[copied..start]);
        out.push_str(value);
        copied = end;
    }
    out.push_str(&text[copied..]);
    Ok(out)
}

fn lookup<'a>(reference: &Reference, table: &'a VariableTable) -> Result<&'a str, UnknownVariable> {
    let names = table.get(&reference.namespace);
    names
        .and_then(|names| names.get(&reference.name))
        .map(String::as_str)
        .ok_or_else(|| UnknownVariable {
            reference: reference.clone(),
            known_names: names
                .map(|names| names.keys().cloned().collect())
                .unwrap_or_default(),
        })
}

/// Substitutes every string (not object keys) inside `value`, in place.
///
/// # Errors
/// The first reference the table does not hold; `value` is then partly substituted and must
/// be thrown away.
pub fn substitute_value(value: &mut Value, table: &VariableTable) -> Result<(), UnknownVariable> {
    match value {
        Value::String(text) => {
            if text.contains("#{") {
                *text = substitute(text, table)?;
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|item| substitute_value(item, table)),
        Value::Object(fields) => fields
            .values_mut()
            .try_for_each(|field| substitute_value(field, table)),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

/// Every reference inside the strings of `value`.
pub fn value_references(value: &Value) -> Vec<Reference> {
    let mut found = Vec::new();
    collect(value, &mut found);
    found
}

fn collect(value: &Value, found: &mut Vec<Reference>) {
    match value {
        Value::String(text) => found.extend(references(text)),
        Value::Array(items) => items.iter().for_each(|item| collect(item, found)),
        Value::Object(fields) => fields.values().for_each(|field| collect(field, found)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Serializes `config`, substitutes its strings and reads it back as the same type.
///
/// # Errors
/// An unknown variable; or (never for the API's own types) a configuration that does not read back.
pub fn substitute_config<T>(config: &T, table: &VariableTable) -> Result<T, String>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let mut value = serde_json::to_value(config).map_err(|error| error.to_string())?;
    substitute_value(&mut value, table).map_err(|error| error.to_string())?;
    serde_json::from_value(value).map_err(|error| {
        format!("the configuration does not read back after substituting variables: {error}")
    })
}

/// The variable names a build's image outputs export: `IMAGE_<NAME>_URI`, `_DIGEST`, `_TAG`.
pub fn image_variable_prefix(image_name: &str) -> String {
    format!(
        "IMAGE_{}",
        image_name.to_ascii_uppercase().replace('-', "_")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> VariableTable {
        let mut table = VariableTable::new();
        table.insert(
            "SourceVariables".into(),
            BTreeMap::from([
                ("CommitId".into(), "abc123".into()),
                ("BranchName".into(), "main".into()),
            ]),
        );
        table.insert(
            "variables".into(),
            BTreeMap::from([("TITLE".into(), "Hello #{not.resolved}".into())]),
        );
        table
    }

    #[test]
    fn references_are_replaced_wherever_they_stand() {
        assert_eq!(
            substitute("#{SourceVariables.CommitId}", &table()).unwrap(),
            "abc123"
        );
        assert_eq!(
            substitute(
                "img:#{SourceVariables.BranchName}-#{SourceVariables.CommitId}!",
                &table()
            )
            .unwrap(),
            "img:main-abc123!"
        );
    }

    #[test]
    fn substituted_values_are_not_substituted_again() {
        assert_eq!(
            substitute("#{variables.TITLE}", &table()).unwrap(),
            "Hello #{not.resolved}"
        );
    }

    #[test]
    fn text_that_is_not_a_reference_is_left_as_written() {
        for text in [
            "${SHELL}",
            "#{nodot}",
            "#{a b.c}",
            "# {a.b}",
            "#{unclosed.ref",
            "#{.name}",
            "#{ns.}",
            "echo '#'",
        ] {
            assert_eq!(substitute(text, &table()).unwrap(), text, "{text}");
        }
    }

    #[test]
    fn a_malformed_reference_does_not_hide_a_later_one() {
        assert_eq!(
            substitute("#{x #{SourceVariables.CommitId}", &table()).unwrap(),
            "#{x abc123"
        );
    }

    #[test]
    fn an_unknown_name_is_named_with_what_its_namespace_holds() {
        let error = substitute("#{SourceVariables.Commit}", &table()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown variable #{SourceVariables.Commit} (its namespace has BranchName, CommitId)"
        );
        let error = substitute("#{BuildVariables.IMAGE_TAG}", &table()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown variable #{BuildVariables.IMAGE_TAG}"
        );
    }

    #[test]
    fn every_string_of_a_nested_value_is_substituted_and_keys_are_not() {
        let mut value = serde_json::json!({
            "#{SourceVariables.CommitId}": ["#{SourceVariables.BranchName}", 3, {"x": "#{SourceVariables.CommitId}"}],
            "flag": true
        });
        substitute_value(&mut value, &table()).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "#{SourceVariables.CommitId}": ["main", 3, {"x": "abc123"}],
                "flag": true
            })
        );
        assert_eq!(
            value_references(&serde_json::json!(["#{a.b}", {"c": "#{d.e} #{a.b}"}])).len(),
            3
        );
    }

    #[test]
    fn image_outputs_export_upper_case_names() {
        assert_eq!(image_variable_prefix("my-web"), "IMAGE_MY_WEB");
    }
}
