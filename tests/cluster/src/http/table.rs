//! `Table` output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), what `kubectl get`
//! prints: the name, a CRD's `additionalPrinterColumns` (or `Created At` for built-ins), with
//! cells computed as the apiserver's CRD table convertor computes them.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::registry::{PrinterColumn, ResourceType};

/// What each row carries besides its cells (`includeObject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncludeObject {
    /// Nothing.
    None,
    /// `PartialObjectMetadata` (the default).
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// From the `includeObject` query parameter.
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            Some("None") => Self::None,
            Some("Object") => Self::Object,
            _ => Self::Metadata,
        }
    }
}

/// Whether the `Accept` header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

fn columns(resource: &ResourceType) -> Vec<PrinterColumn> {
    if resource.is_custom() {
        return resource.printer_columns.clone();
    }
    vec![PrinterColumn {
        name: "Created At".to_string(),
        column_type: "date".to_string(),
        format: String::new(),
        description: "CreationTimestamp is a timestamp representing the server time when this object was created.".to_string(),
        priority: 0,
        json_path: ".metadata.creationTimestamp".to_string(),
    }]
}

/// Follows a simple JSON path (`.status.images[0].uri`).
pub fn find(object: &Value, path: &str) -> Option<Value> {
    let mut current = object;
    for segment in path
        .trim_start_matches('.')
        .split('.')
        .filter(|segment| !segment.is_empty())
    {
        let (field, indexes) = match segment.find('[') {
            Some(at) => (&segment[..at], &segment[at..]),
            None => (segment, ""),
        };
        if !field.is_empty() {
            current = current.get(field)?;
        }
        for index in indexes.split(']').filter(|part| !part.is_empty()) {
            let index: usize = index.trim_start_matches('[').parse().ok()?;
            current = current.get(index)?;
        }
    }
    Some(current.clone())
}

/// Kubernetes' `duration.HumanDuration`: `45s`, `3m20s`, `5h`, `2d3h`, `3y20d`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    let seconds = seconds.max(0);
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    let years = days / 365;
    match () {
        () if seconds < 120 => format!("{seconds}s"),
        () if minutes < 10 && seconds % 60 == 0 => format!("{minutes}m"),
        () if minutes < 10 => format!("{minutes}m{}s", seconds % 60),
        () if minutes < 180 => format!("{minutes}m"),
        () if hours < 8 && minutes % 60 == 0 => format!("{hours}h"),
        () if hours < 8 => format!("{hours}h{}m", minutes % 60),
        () if hours < 48 => format!("{hours}h"),
        () if hours < 192 && hours % 24 == 0 => format!("{days}d"),
        () if hours < 192 => format!("{days}d{}h", hours % 24),
        () if years < 2 => format!("{days}d"),
        () if years < 8 => format!("{years}y{}d", days % 365),
        () => format!("{years}y"),
    }
}

fn age(timestamp: &str) -> Value {
    match timestamp.parse::<jiff::Timestamp>() {
        Ok(then) => {
            let seconds = jiff::Timestamp::now().as_second() - then.as_second();
            Value::String(human_duration(seconds))
        }
        Err(_) => Value::String("<invalid>".to_string()),
    }
}

/// One cell, as `cellForJSONValue` converts it.
fn cell(column: &PrinterColumn, object: &Value, custom: bool) -> Value {
    let Some(value) = find(object, &column.json_path) else {
        return Value::Null;
    };
    match (column.column_type.as_str(), &value) {
        ("date", Value::String(text)) if custom => age(text),
        ("date", Value::String(text)) => Value::String(text.clone()),
        ("integer", Value::Number(number)) => number
            .as_i64()
            .or_else(|| number.as_f64().map(|float| float as i64))
            .map_or(Value::Null, Value::from),
        ("number", Value::Number(_))
        | ("boolean", Value::Bool(_))
        | ("string", Value::String(_)) => value,
        ("string", other) if !other.is_null() => Value::String(other.to_string()),
        _ => Value::Null,
    }
}

fn row(
    resource: &ResourceType,
    columns: &[PrinterColumn],
    object: &Value,
    include: IncludeObject,
) -> Value {
    let mut cells = vec![
        object
            .pointer("/metadata/name")
            .cloned()
            .unwrap_or_default(),
    ];
    cells.extend(
        columns
            .iter()
            .map(|column| cell(column, object, resource.is_custom())),
    );
    let mut row = json!({"cells": cells});
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            row["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": object.get("metadata").cloned().unwrap_or_default(),
            });
        }
        IncludeObject::Object => row["object"] = object.clone(),
    }
    row
}

/// A `Table` of `items` with the list's `metadata`.
pub fn table(
    resource: &ResourceType,
    items: &[Arc<Value>],
    list_metadata: Value,
    include: IncludeObject,
) -> Value {
    let columns = columns(resource);
    let mut definitions = vec![json!({
        "name": "Name", "type": "string", "format": "name", "description": NAME_DESCRIPTION, "priority": 0,
    })];
    definitions.extend(columns.iter().map(|column| {
        json!({
            "name": column.name,
            "type": column.column_type,
            "format": column.format,
            "description": column.description,
            "priority": column.priority,
        })
    }));
    let rows: Vec<Value> = items
        .iter()
        .map(|object| row(resource, &columns, object, include))
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_metadata,
        "columnDefinitions": definitions,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_kubectl() {
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(200), "3m20s");
        assert_eq!(human_duration(3600 * 5), "5h");
        assert_eq!(human_duration(3600 * 51), "2d3h");
    }

    #[test]
    fn simple_json_paths_reach_list_items() {
        let object = json!({"status": {"images": [{"uri": "x"}]}});
        assert_eq!(find(&object, ".status.images[0].uri"), Some(json!("x")));
        assert_eq!(find(&object, ".status.missing"), None);
    }
}
