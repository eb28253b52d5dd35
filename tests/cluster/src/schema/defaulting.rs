//! Defaulting and null pruning, as `apiextensions-apiserver/pkg/apiserver/schema/defaulting`.

use serde_json::Value;

use super::node::{AdditionalProperties, Node};

/// `PruneNonNullableNullsWithoutDefaults`: drops `null` fields that are neither nullable nor
/// defaulted (defaulted ones are replaced by their default later).
pub(crate) fn prune_nulls(value: &mut Value, node: Option<&Node>) {
    match value {
        Value::Object(fields) => {
            fields.retain(|key, field| {
                let schema = node.and_then(|node| node.field(key));
                !(field.is_null()
                    && schema
                        .is_some_and(|schema| !schema.is_nullable() && schema.default.is_none()))
            });
            for (key, field) in fields.iter_mut() {
                prune_nulls(field, node.and_then(|node| node.field(key)));
            }
        }
        Value::Array(items) => {
            let item_node = node.and_then(|node| node.items.as_deref());
            for item in items {
                prune_nulls(item, item_node);
            }
        }
        _ => {}
    }
}

fn is_non_nullable_null(value: &Value, node: &Node) -> bool {
    value.is_null() && !node.is_nullable()
}

/// `structuraldefaulting.Default`: fills absent (and non-nullable null) fields from `default`,
/// then descends, so defaults inside a freshly defaulted object apply too.
pub(crate) fn apply(value: &mut Value, node: &Node) {
    match value {
        Value::Object(fields) => {
            for (name, property) in &node.properties {
                let Some(default) = &property.default else {
                    continue;
                };
                let missing = fields
                    .get(name)
                    .is_none_or(|field| is_non_nullable_null(field, property));
                if missing {
                    fields.insert(name.clone(), default.clone());
                }
            }
            for (key, field) in fields.iter_mut() {
                if let Some(property) = node.properties.get(key) {
                    apply(field, property);
                } else if let Some(AdditionalProperties::Schema(child)) =
                    &node.additional_properties
                {
                    if is_non_nullable_null(field, child)
                        && let Some(default) = &child.default
                    {
                        *field = default.clone();
                    }
                    apply(field, child);
                }
            }
        }
        Value::Array(items) => {
            let Some(item_node) = node.items.as_deref() else {
                return;
            };
            for item in items {
                if is_non_nullable_null(item, item_node)
                    && let Some(default) = &item_node.default
                {
                    *item = default.clone();
                }
                apply(item, item_node);
            }
        }
        _ => {}
    }
}
