//! A CRD's OpenAPI v3 schema parsed once into a tree the validators walk.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use super::SchemaError;
use super::cel::{self, CelRule};
use super::formats;

/// `additionalProperties`: a boolean or a schema for every key not in `properties`.
pub(crate) enum AdditionalProperties {
    /// `true` allows any key (values are pruned like a schema-less subtree); `false` forbids them.
    Allows(bool),
    /// Each extra key's value must match this schema.
    Schema(Box<Node>),
}

/// A `pattern` with its source kept for the error text.
pub(crate) struct Pattern {
    pub(crate) source: String,
    pub(crate) regex: Regex,
}

/// One schema node; field names follow the OpenAPI keywords.
#[derive(Default)]
pub(crate) struct Node {
    /// Allowed JSON types; `["integer","string"]` for `x-kubernetes-int-or-string`.
    pub(crate) types: Vec<String>,
    /// The `type` keyword as written ("" when absent): CEL errors show it as the bad value.
    pub(crate) type_name: String,
    pub(crate) nullable: bool,
    /// A format the apiserver enforces ("" when absent or stripped).
    pub(crate) format: String,
    pub(crate) enum_values: Option<Vec<Value>>,
    pub(crate) pattern: Option<Pattern>,
    pub(crate) min_length: Option<i64>,
    pub(crate) max_length: Option<i64>,
    pub(crate) minimum: Option<f64>,
    pub(crate) maximum: Option<f64>,
    pub(crate) exclusive_minimum: bool,
    pub(crate) exclusive_maximum: bool,
    pub(crate) multiple_of: Option<f64>,
    pub(crate) min_items: Option<i64>,
    pub(crate) max_items: Option<i64>,
    pub(crate) unique_items: bool,
    pub(crate) min_properties: Option<i64>,
    pub(crate) max_properties: Option<i64>,
    pub(crate) required: Vec<String>,
    /// Ordered by name, which fixes the order of errors the apiserver leaves to Go map iteration.
    pub(crate) properties: BTreeMap<String, Node>,
    pub(crate) additional_properties: Option<AdditionalProperties>,
    pub(crate) items: Option<Box<Node>>,
    pub(crate) all_of: Vec<Node>,
    pub(crate) one_of: Vec<Node>,
    pub(crate) any_of: Vec<Node>,
    pub(crate) not: Option<Box<Node>>,
    pub(crate) default: Option<Value>,
    pub(crate) preserve_unknown_fields: bool,
    pub(crate) embedded_resource: bool,
    pub(crate) list_type: Option<String>,
    pub(crate) list_map_keys: Vec<String>,
    pub(crate) map_type: Option<String>,
    /// CEL rules of this node, then those of its `allOf` entries (evaluated against this node).
    pub(crate) rules: Vec<CelRule>,
    /// Whether this node or a structural descendant carries CEL rules.
    pub(crate) has_rules: bool,
}

/// Where in the schema tree a node sits: only the structural spine carries CEL rules.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spine {
    /// properties / items / additionalProperties from the root.
    Structural,
    /// Inside `allOf`, `oneOf`, `anyOf` or `not`: value validation only.
    Junctor,
}

impl Node {
    /// Parses `raw`, compiling CEL rules on the structural spine; problems go to `problems`.
    pub(crate) fn parse(
        raw: &Value,
        location: &str,
        spine: Spine,
        problems: &mut Vec<SchemaError>,
    ) -> Node {
        let Some(object) = raw.as_object() else {
            problems.push(SchemaError::Invalid {
                location: location.to_string(),
                detail: "must be an object".into(),
            });
            return Node::default();
        };
        let mut node = Node::default();
        let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_string);
        let flag = |key: &str| object.get(key).and_then(Value::as_bool).unwrap_or(false);
        let integer = |key: &str| {
            object
                .get(key)
                .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
        };
        let number = |key: &str| object.get(key).and_then(Value::as_f64);

        node.type_name = text("type").unwrap_or_default();
        if flag("x-kubernetes-int-or-string") {
            node.types = vec!["integer".into(), "string".into()];
        } else if !node.type_name.is_empty() {
            node.types = vec![node.type_name.clone()];
        }
        node.nullable = flag("nullable");
        node.format = text("format")
            .and_then(|format| formats::supported(&format))
            .unwrap_or_default();
        node.enum_values = object.get("enum").and_then(Value::as_array).cloned();
        if let Some(source) = text("pattern") {
            match Regex::new(&formats::go_pattern(&source)) {
                Ok(regex) => node.pattern = Some(Pattern { source, regex }),
                Err(error) => problems.push(SchemaError::Invalid {
                    location: format!("{location}.pattern"),
                    detail: format!("must be a valid regular expression: {error}"),
                }),
            }
        }
        node.min_length = integer("minLength");
        node.max_length = integer("maxLength");
        node.minimum = number("minimum");
        node.maximum = number("maximum");
        node.exclusive_minimum = flag("exclusiveMinimum");
        node.exclusive_maximum = flag("exclusiveMaximum");
        node.multiple_of = number("multipleOf");
        node.min_items = integer("minItems");
        node.max_items = integer("maxItems");
        node.unique_items = flag("uniqueItems");
        node.min_properties = integer("minProperties");
        node.max_properties = integer("maxProperties");
        node.required = object
            .get("required")
            .and_then(Value::as_array)
            .map(|names| {
                names
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        node.default = object.get("default").cloned();
        node.preserve_unknown_fields = flag("x-kubernetes-preserve-unknown-fields");
        node.embedded_resource = flag("x-kubernetes-embedded-resource");
        node.list_type = text("x-kubernetes-list-type");
        node.list_map_keys = object
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .map(|keys| {
                keys.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        node.map_type = text("x-kubernetes-map-type");

        if let Some(properties) = object.get("properties").and_then(Value::as_object) {
            for (name, child) in properties {
                let child_location = format!("{location}.properties[{name}]");
                node.properties.insert(
                    name.clone(),
                    Node::parse(child, &child_location, spine, problems),
                );
            }
        }
        node.additional_properties = match object.get("additionalProperties") {
            Some(Value::Bool(allows)) => Some(AdditionalProperties::Allows(*allows)),
            Some(child @ Value::Object(_)) => {
                Some(AdditionalProperties::Schema(Box::new(Node::parse(
                    child,
                    &format!("{location}.additionalProperties"),
                    spine,
                    problems,
                ))))
            }
            _ => None,
        };
        if let Some(items) = object.get("items") {
            node.items = Some(Box::new(Node::parse(
                items,
                &format!("{location}.items"),
                spine,
                problems,
            )));
        }
        let junctors = |keyword: &str, problems: &mut Vec<SchemaError>| -> Vec<Node> {
            object
                .get(keyword)
                .and_then(Value::as_array)
                .map(|entries| {
                    entries
                        .iter()
                        .enumerate()
                        .map(|(i, entry)| {
                            Node::parse(
                                entry,
                                &format!("{location}.{keyword}[{i}]"),
                                Spine::Junctor,
                                problems,
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        node.all_of = junctors("allOf", problems);
        node.one_of = junctors("oneOf", problems);
        node.any_of = junctors("anyOf", problems);
        if let Some(not) = object.get("not") {
            node.not = Some(Box::new(Node::parse(
                not,
                &format!("{location}.not"),
                Spine::Junctor,
                problems,
            )));
        }

        if spine == Spine::Structural {
            // The apiserver evaluates allOf rules against the node's own structure, after its rules.
            let mut rule_sources: Vec<(&Value, String)> = Vec::new();
            if let Some(rules) = object.get("x-kubernetes-validations") {
                rule_sources.push((rules, format!("{location}.x-kubernetes-validations")));
            }
            for (i, entry) in object
                .get("allOf")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(rules) = entry.get("x-kubernetes-validations") {
                    rule_sources.push((
                        rules,
                        format!("{location}.allOf[{i}].x-kubernetes-validations"),
                    ));
                }
            }
            for (rules, rules_location) in rule_sources {
                node.rules
                    .extend(cel::compile_rules(raw, rules, &rules_location, problems));
            }
        }
        node.has_rules = !node.rules.is_empty()
            || node.properties.values().any(|child| child.has_rules)
            || node.items.as_ref().is_some_and(|items| items.has_rules)
            || matches!(&node.additional_properties, Some(AdditionalProperties::Schema(child)) if child.has_rules);
        node
    }

    /// The schema of the value under `key` of an object this node describes.
    pub(crate) fn field(&self, key: &str) -> Option<&Node> {
        self.properties
            .get(key)
            .or(match &self.additional_properties {
                Some(AdditionalProperties::Schema(child)) => Some(child),
                _ => None,
            })
    }

    /// Whether `null` values of this node survive (pruning and defaulting keep them).
    pub(crate) fn is_nullable(&self) -> bool {
        self.nullable
    }
}
