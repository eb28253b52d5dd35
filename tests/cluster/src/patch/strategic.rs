//! Strategic merge patch as apimachinery's `strategicpatch.StrategicMergeMapPatch` applies it on
//! the server (`MergeParallelList` and `IgnoreUnmatchedNulls` on): maps merge recursively, `null`
//! deletes, lists with `patchStrategy: merge` merge (objects by their `patchMergeKey`, scalars as
//! a set), other lists are replaced; directives `$patch` (`replace`, `delete`, in maps and as list
//! items), `$retainKeys`, `$setElementOrder/<field>` and `$deleteFromPrimitiveList/<field>`.
//! Error texts are apimachinery's (`mergepatch` errors, Go `%v` formatting of maps).

use serde_json::{Map, Value};

use super::rules::Node;
use super::typed::{json_equal, without_nulls};

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

pub(crate) const BAD_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
pub(crate) const BAD_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
pub(crate) const BAD_SET_ELEMENT_ORDER: &str = "invalid patch format of setElementOrder list";
pub(crate) const NO_LIST_OF_LISTS: &str = "lists of lists are not supported";

type Result<T> = std::result::Result<T, String>;

/// Applies `patch` to `original` under `node`'s strategic rules.
pub(crate) fn apply(original: &Value, patch: &Value, node: &Node) -> Result<Value> {
    let patch = match patch {
        Value::Object(patch) => patch.clone(),
        Value::Null => Map::new(),
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(other)
            ));
        }
    };
    let original = match original {
        Value::Object(original) => original.clone(),
        _ => Map::new(),
    };
    merge_map(original, patch, node).map(Value::Object)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    node: &Node,
) -> Result<Map<String, Value>> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        return match directive.as_str() {
            Some("replace") => {
                patch.remove(DIRECTIVE);
                Ok(patch)
            }
            Some("delete") => Ok(Map::new()),
            _ => Err(bad_patch_type(directive, &patch)),
        };
    }
    apply_retain_keys(&mut original, &mut patch)?;
    merge_set_element_order(&mut original, &mut patch, node)?;

    for (key, patch_value) in patch {
        let (key, is_delete_list) = match key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            Some(rest) => match rest.strip_prefix('/') {
                Some(field) => (field.to_owned(), true),
                None => return Err(BAD_PRIMITIVE_LIST.to_owned()),
            },
            None => (key, false),
        };
        if patch_value.is_null() {
            original.remove(&key);
            continue;
        }
        let child = node.child(&key);
        match original.remove(&key) {
            None => {
                if !is_delete_list && let Some(value) = fresh(patch_value, child)? {
                    original.insert(key, value);
                }
            }
            Some(Value::Object(existing)) if patch_value.is_object() => {
                let Value::Object(patch_value) = patch_value else {
                    unreachable!()
                };
                original.insert(key, Value::Object(merge_map(existing, patch_value, child)?));
            }
            Some(Value::Array(existing)) if patch_value.is_array() => {
                let Value::Array(patch_value) = patch_value else {
                    unreachable!()
                };
                let merged = if child.strategic_merge || is_delete_list {
                    merge_list(existing, patch_value, child, &key, is_delete_list)?
                } else {
                    without_nulls(&Value::Array(patch_value))
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                };
                original.insert(key, Value::Array(merged));
            }
            Some(existing) => {
                if is_delete_list {
                    original.insert(key, existing);
                } else if let Some(value) = fresh(patch_value, child)? {
                    original.insert(key, value);
                }
            }
        }
    }
    Ok(original)
}

/// A patch value for a field the original lacks (or holds with another type): taken as is,
/// without its `null`s, with its directives interpreted against nothing.
fn fresh(value: Value, node: &Node) -> Result<Option<Value>> {
    match value {
        Value::Object(patch) => {
            if patch.get(DIRECTIVE).and_then(Value::as_str) == Some("delete") {
                return Ok(None);
            }
            merge_map(Map::new(), patch, node).map(|m| Some(Value::Object(m)))
        }
        Value::Array(items) if node.strategic_merge => {
            merge_list(Vec::new(), items, node, "", false).map(|l| Some(Value::Array(l)))
        }
        other => Ok(Some(without_nulls(&other))),
    }
}

fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<()> {
    let Some(retain) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(BAD_RETAIN_KEYS.to_owned());
    };
    let retained = |key: &str| retain.iter().any(|k| k.as_str() == Some(key));
    for (key, value) in patch.iter() {
        if value.is_null()
            || key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            || key.starts_with(SET_ELEMENT_ORDER)
        {
            continue;
        }
        if !retained(key) {
            return Err(BAD_RETAIN_KEYS.to_owned());
        }
    }
    original.retain(|key, _| retained(key));
    Ok(())
}

/// Element kinds of a list as Go's `reflect.TypeOf` tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Map,
    String,
    Number,
    Bool,
    Null,
}

fn element_kind(lists: &[&[Value]]) -> Result<Kind> {
    let mut kind = None;
    for item in lists.iter().flat_map(|l| l.iter()) {
        let this = match item {
            Value::Array(_) if kind.is_none() => return Err(NO_LIST_OF_LISTS.to_owned()),
            Value::Array(_) => None,
            Value::Object(_) => Some(Kind::Map),
            Value::String(_) => Some(Kind::String),
            Value::Number(_) => Some(Kind::Number),
            Value::Bool(_) => Some(Kind::Bool),
            Value::Null => Some(Kind::Null),
        };
        match kind {
            None => kind = this,
            Some(k) if Some(k) == this => {}
            Some(_) => {
                let shown: Vec<String> = lists
                    .iter()
                    .map(|l| go_format(&Value::Array(l.to_vec())))
                    .collect();
                return Err(format!(
                    "list element types are not identical: [{}]",
                    shown.join(" ")
                ));
            }
        }
    }
    kind.ok_or_else(|| "no elements in any of the given slices".to_owned())
}

/// `mergeSlice`: merges a list with `patchStrategy: merge` (or a `$deleteFromPrimitiveList`).
fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    node: &Node,
    field: &str,
    is_delete_list: bool,
) -> Result<Vec<Value>> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = element_kind(&[&original, &patch])?;
    if kind != Kind::Map {
        if is_delete_list {
            return Ok(original
                .into_iter()
                .filter(|v| !patch.iter().any(|d| d == v))
                .collect());
        }
        let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
        for value in original.iter().chain(&patch) {
            if !merged.contains(value) {
                merged.push(value.clone());
            }
        }
        let (patch_items, server_only) = partition_scalars(merged, &patch);
        return normalize_element_order(patch_items, server_only, &patch, &original, None);
    }
    let Some(merge_key) = node.merge_key.as_deref() else {
        return Err(format!("cannot merge lists without merge key for {field}"));
    };
    let (original, patch) = merge_special_elements(original, patch, merge_key)?;
    let merged = merge_plain_elements(original.clone(), &patch, merge_key, node.item())?;
    let (patch_items, server_only) = partition_maps(merged, &patch, merge_key)?;
    normalize_element_order(patch_items, server_only, &patch, &original, Some(merge_key))
}

/// Handles list items carrying `$patch` (`delete` removes the matching items, `replace` makes
/// the rest of the patch list the whole list); returns the new original and the plain items.
fn merge_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let Value::Object(fields) = &item else {
            return Err(bad_arg_type("map[string]interface {}", &item));
        };
        match fields.get(DIRECTIVE) {
            None => plain.push(item),
            Some(directive) => match directive.as_str() {
                Some("delete") => {
                    let Some(key_value) = fields.get(merge_key) else {
                        return Err(no_merge_key(&item, merge_key));
                    };
                    for existing in &original {
                        if !existing.is_object() {
                            return Err("value for key 0 is not a map.".to_owned());
                        }
                    }
                    original.retain(|existing| {
                        !existing
                            .get(merge_key)
                            .is_some_and(|v| json_equal(v, key_value))
                    });
                }
                Some("replace") => replace = true,
                Some("merge") => {
                    return Err("merging lists cannot yet be specified in the patch".to_owned());
                }
                _ => return Err(bad_patch_type(directive, fields)),
            },
        }
    }
    if replace {
        Ok((plain, Vec::new()))
    } else {
        Ok((original, plain))
    }
}

/// Merges each plain patch item into the original item with the same merge key, or appends it.
fn merge_plain_elements(
    mut original: Vec<Value>,
    patch: &[Value],
    merge_key: &str,
    item_node: &Node,
) -> Result<Vec<Value>> {
    for item in patch {
        let Value::Object(fields) = item else {
            return Err(bad_arg_type("map[string]interface {}", item));
        };
        let Some(key_value) = fields.get(merge_key) else {
            return Err(no_merge_key(item, merge_key));
        };
        let mut found = None;
        for (index, existing) in original.iter().enumerate() {
            let Value::Object(existing) = existing else {
                return Err(format!("value for key {index} is not a map."));
            };
            if existing
                .get(merge_key)
                .is_some_and(|v| json_equal(v, key_value))
            {
                found = Some(index);
                break;
            }
        }
        match found {
            Some(index) => {
                let Value::Object(existing) = std::mem::take(&mut original[index]) else {
                    unreachable!()
                };
                original[index] = Value::Object(merge_map(existing, fields.clone(), item_node)?);
            }
            None => {
                if let Some(value) = fresh(item.clone(), item_node)? {
                    original.push(value);
                }
            }
        }
    }
    Ok(original)
}

fn partition_scalars(merged: Vec<Value>, by: &[Value]) -> (Vec<Value>, Vec<Value>) {
    merged
        .into_iter()
        .partition(|v| by.iter().any(|b| json_equal(b, v)))
}

fn partition_maps(
    merged: Vec<Value>,
    by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut in_patch = Vec::new();
    let mut server_only = Vec::new();
    for item in merged {
        let Some(key_value) = item.get(merge_key) else {
            return Err(no_merge_key(&item, merge_key));
        };
        let found = by
            .iter()
            .any(|b| b.get(merge_key).is_some_and(|v| json_equal(v, key_value)));
        if found {
            in_patch.push(item)
        } else {
            server_only.push(item)
        }
    }
    Ok((in_patch, server_only))
}

/// Position of `item` in `list` (by merge key for objects, by value for scalars).
fn index_of(list: &[Value], item: &Value, merge_key: Option<&str>) -> Option<usize> {
    list.iter().position(|candidate| match merge_key {
        Some(key) => match (candidate.get(key), item.get(key)) {
            (Some(a), Some(b)) => json_equal(a, b),
            (None, None) => true,
            _ => false,
        },
        None => json_equal(candidate, item),
    })
}

/// Sorts `to_sort` by positions in `order` (a stable insertion sort with apimachinery's
/// comparator; items marked `$patch: delete` go last).
fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: Option<&str>,
) -> Result<Vec<Value>> {
    let (mut to_sort, to_delete): (Vec<Value>, Vec<Value>) = match merge_key {
        Some(key) => {
            for item in to_sort.iter().chain(order) {
                if !item.is_object() {
                    return Err(bad_arg_type("map[string]interface {}", item));
                }
                if item.get(key).is_none() {
                    return Err(no_merge_key(item, key));
                }
            }
            to_sort
                .into_iter()
                .partition(|item| item.get(DIRECTIVE).and_then(Value::as_str) != Some("delete"))
        }
        None => (to_sort, Vec::new()),
    };
    let less =
        |a: &Value, b: &Value| match (index_of(order, a, merge_key), index_of(order, b, merge_key))
        {
            (Some(i), Some(j)) => i < j,
            _ => true,
        };
    for i in 1..to_sort.len() {
        let mut j = i;
        while j > 0 && less(&to_sort[j], &to_sort[j - 1]) {
            to_sort.swap(j, j - 1);
            j -= 1;
        }
    }
    to_sort.extend(to_delete);
    Ok(to_sort)
}

/// Orders patch items by `patch_order` and server-only items by `server_order`, then interleaves
/// them keeping server-only items before patch items that follow them on the server.
fn normalize_element_order(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: Option<&str>,
) -> Result<Vec<Value>> {
    let right = normalize_slice_order(patch_items, patch_order, merge_key)?;
    let left = normalize_slice_order(server_only, server_order, merge_key)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut left, mut right) = (left.into_iter().peekable(), right.into_iter().peekable());
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!(
                (index_of(server_order, l, merge_key), index_of(server_order, r, merge_key)),
                (Some(i), Some(j)) if i < j
            ),
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    Ok(out)
}

/// `$setElementOrder/<field>`: merges the field's list (if patched) and orders it by the
/// directive, then the patch, then the server.
fn merge_set_element_order(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    node: &Node,
) -> Result<()> {
    let directives: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for directive in directives {
        let order = patch.remove(&directive).unwrap_or_default();
        let Value::Array(order) = order else {
            return Err(bad_arg_type("[]interface {}", &order));
        };
        let Some(field) = directive
            .strip_prefix(SET_ELEMENT_ORDER)
            .and_then(|rest| rest.strip_prefix('/'))
            .map(str::to_owned)
        else {
            return Err(BAD_SET_ELEMENT_ORDER.to_owned());
        };
        let original_list = match original.get(&field) {
            None => None,
            Some(Value::Array(list)) => Some(list.clone()),
            Some(other) => return Err(bad_arg_type("[]interface {}", other)),
        };
        let patch_list = match patch.get(&field) {
            None => None,
            Some(Value::Array(list)) => Some(list.clone()),
            Some(other) => return Err(bad_arg_type("[]interface {}", other)),
        };
        let child = node.child(&field);
        let merge_key = child.merge_key.as_deref();
        validate_patch_with_order(patch_list.as_deref().unwrap_or(&[]), &order, merge_key)?;
        let merged = match (&original_list, patch_list) {
            (None, None) => continue,
            (Some(list), None) => list.clone(),
            (None, Some(list)) => match fresh(Value::Array(list), child)? {
                Some(Value::Array(list)) => list,
                _ => Vec::new(),
            },
            (Some(existing), Some(list)) => {
                if child.strategic_merge {
                    merge_list(existing.clone(), list, child, &field, false)?
                } else {
                    without_nulls(&Value::Array(list))
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                }
            }
        };
        patch.remove(&field);
        let server_order = original_list.unwrap_or_default();
        let ordered = if merged.is_empty() || (merged[0].is_object() && merge_key.is_none()) {
            merged
        } else {
            let (patch_items, server_only) = match merge_key {
                Some(key) => partition_maps(merged, &order, key)?,
                None => partition_scalars(merged, &order),
            };
            normalize_element_order(patch_items, server_only, &order, &server_order, merge_key)?
        };
        original.insert(field, Value::Array(ordered));
    }
    Ok(())
}

/// The patch list's items (deletions aside) must appear in the `$setElementOrder` list in the
/// same relative order.
fn validate_patch_with_order(
    patch_list: &[Value],
    order: &[Value],
    merge_key: Option<&str>,
) -> Result<()> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete: Vec<&Value> = match merge_key {
        Some(_) => {
            let mut kept = Vec::new();
            for item in patch_list {
                let Value::Object(fields) = item else {
                    return Err(bad_arg_type("map[string]interface {}", item));
                };
                if fields.get(DIRECTIVE).and_then(Value::as_str) != Some("delete") {
                    kept.push(item);
                }
            }
            kept
        }
        None => patch_list.iter().collect(),
    };
    let (mut patch_index, mut order_index) = (0, 0);
    while patch_index < non_delete.len() && order_index < order.len() {
        let item = non_delete[patch_index];
        if item.get(DIRECTIVE).is_some() {
            patch_index += 1;
            continue;
        }
        let equal = match merge_key {
            None => json_equal(item, &order[order_index]),
            Some(key) => {
                let ordered = &order[order_index];
                if !ordered.is_object() {
                    return Err(bad_arg_type("map[string]interface {}", ordered));
                }
                let left = item.get(key).ok_or_else(|| no_merge_key(item, key))?;
                let right = ordered.get(key).ok_or_else(|| no_merge_key(ordered, key))?;
                json_equal(left, right)
            }
        };
        if equal {
            patch_index += 1;
        }
        order_index += 1;
    }
    if patch_index < non_delete.len() && order_index >= order.len() {
        return Err(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER} list:\n{}\n",
            go_format(&Value::Array(patch_list.to_vec())),
            go_format(&Value::Array(order.to_vec()))
        ));
    }
    Ok(())
}

fn no_merge_key(map: &Value, key: &str) -> String {
    format!(
        "map: {} does not contain declared merge key: {key}",
        go_format(map)
    )
}

fn bad_patch_type(directive: &Value, map: &Map<String, Value>) -> String {
    format!(
        "unknown patch type: {} in map: {}",
        go_format(directive),
        go_format(&Value::Object(map.clone()))
    )
}

fn bad_arg_type(expected: &str, actual: &Value) -> String {
    let actual = match actual {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    };
    format!("expected a {expected}, but received a {actual}")
}

/// Go's `%v` of a decoded JSON value: `map[k:v]` with sorted keys, `[a b]`, `<nil>`, floats as
/// `%g` with an exponent from 1e+06 on.
pub(crate) fn go_format(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => go_float(n.as_f64().unwrap_or(0.0)),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_format).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(fields) => {
            let mut keys: Vec<&String> = fields.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", go_format(&fields[k.as_str()])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

fn go_float(f: f64) -> String {
    let exponent = if f == 0.0 {
        0
    } else {
        f.abs().log10().floor() as i32
    };
    if f == 0.0 || (-4..6).contains(&exponent) {
        let mut text = format!("{f}");
        if text.ends_with(".0") {
            text.truncate(text.len() - 2);
        }
        return text;
    }
    let text = format!("{f:e}");
    let (mantissa, power) = text.split_once('e').unwrap_or((&text, "0"));
    let power: i32 = power.parse().unwrap_or(0);
    let sign = if power < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", power.abs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::rules::MergeRules;
    use serde_json::json;

    fn pod() -> Node {
        MergeRules::builtin("", "v1", "Pod").root
    }

    fn deployment() -> Node {
        MergeRules::builtin("apps", "v1", "Deployment").root
    }

    struct Case {
        name: &'static str,
        original: Value,
        patch: Value,
        expected: std::result::Result<Value, &'static str>,
    }

    fn run(cases: Vec<Case>, node: &Node) {
        for case in cases {
            let got = apply(&case.original, &case.patch, node);
            match (&got, &case.expected) {
                (Ok(got), Ok(expected)) => assert_eq!(got, expected, "{}", case.name),
                (Err(got), Err(expected)) => assert_eq!(got, expected, "{}", case.name),
                _ => panic!("{}: got {got:?}, expected {:?}", case.name, case.expected),
            }
        }
    }

    #[test]
    fn maps_merge_recursively_and_null_deletes() {
        run(
            vec![
                Case {
                    name: "labels merge and null deletes",
                    original: json!({"metadata": {"labels": {"a": "1", "b": "2"}}}),
                    patch: json!({"metadata": {"labels": {"b": null, "c": "3"}}}),
                    expected: Ok(json!({"metadata": {"labels": {"a": "1", "c": "3"}}})),
                },
                Case {
                    name: "null for an absent field is dropped",
                    original: json!({"spec": {}}),
                    patch: json!({"spec": {"nodeName": null, "hostname": "h"}}),
                    expected: Ok(json!({"spec": {"hostname": "h"}})),
                },
                Case {
                    name: "new nested values lose their nulls",
                    original: json!({}),
                    patch: json!({"metadata": {"labels": {"a": "1", "b": null}}}),
                    expected: Ok(json!({"metadata": {"labels": {"a": "1"}}})),
                },
                Case {
                    name: "a scalar replaces a map",
                    original: json!({"spec": {"x": {"y": 1}}}),
                    patch: json!({"spec": {"x": 2}}),
                    expected: Ok(json!({"spec": {"x": 2}})),
                },
            ],
            &pod(),
        );
    }

    #[test]
    fn lists_with_a_merge_key_merge_by_key() {
        run(
            vec![
                Case {
                    name: "containers merge by name, new ones appended",
                    original: json!({"spec": {"containers": [
                        {"name": "web", "image": "nginx:1", "env": [{"name": "A", "value": "1"}]},
                        {"name": "side", "image": "busybox"}]}}),
                    patch: json!({"spec": {"containers": [
                        {"name": "web", "image": "nginx:2", "env": [{"name": "B", "value": "2"}]},
                        {"name": "new", "image": "alpine"}]}}),
                    // apimachinery's order: patched items, then server-only items that followed
                    // them on the server; new items precede those.
                    expected: Ok(json!({"spec": {"containers": [
                        {"name": "web", "image": "nginx:2",
                            "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]},
                        {"name": "new", "image": "alpine"},
                        {"name": "side", "image": "busybox"}]}})),
                },
                Case {
                    name: "$patch delete removes the item",
                    original: json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}),
                    patch: json!({"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}),
                    expected: Ok(json!({"spec": {"containers": [{"name": "b"}]}})),
                },
                Case {
                    name: "$patch replace on a list replaces it",
                    original: json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b"}]}}),
                    patch: json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "c"}]}}),
                    expected: Ok(json!({"spec": {"containers": [{"name": "c"}]}})),
                },
                Case {
                    name: "owner references merge by uid",
                    original: json!({"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}]}}),
                    patch: json!({"metadata": {"ownerReferences": [{"uid": "2", "name": "b"}]}}),
                    expected: Ok(json!({"metadata": {"ownerReferences": [
                        {"uid": "2", "name": "b"}, {"uid": "1", "name": "a"}]}})),
                },
                Case {
                    name: "patch item without the merge key is refused",
                    original: json!({"spec": {"containers": [{"name": "a"}]}}),
                    patch: json!({"spec": {"containers": [{"image": "x"}]}}),
                    expected: Err("map: map[image:x] does not contain declared merge key: name"),
                },
                Case {
                    name: "unknown $patch in a list item is refused",
                    original: json!({"spec": {"containers": [{"name": "a"}]}}),
                    patch: json!({"spec": {"containers": [{"name": "a", "$patch": "bogus"}]}}),
                    expected: Err("unknown patch type: bogus in map: map[$patch:bogus name:a]"),
                },
                Case {
                    name: "$patch merge in a list is refused",
                    original: json!({"spec": {"containers": [{"name": "a"}]}}),
                    patch: json!({"spec": {"containers": [{"$patch": "merge"}]}}),
                    expected: Err("merging lists cannot yet be specified in the patch"),
                },
            ],
            &pod(),
        );
    }

    #[test]
    fn lists_without_a_merge_key_are_replaced() {
        run(
            vec![
                Case {
                    name: "tolerations replaced",
                    original: json!({"spec": {"tolerations": [{"key": "a"}, {"key": "b"}]}}),
                    patch: json!({"spec": {"tolerations": [{"key": "c"}]}}),
                    expected: Ok(json!({"spec": {"tolerations": [{"key": "c"}]}})),
                },
                Case {
                    name: "command replaced",
                    original: json!({"spec": {"containers": [{"name": "a", "command": ["x", "y"]}]}}),
                    patch: json!({"spec": {"containers": [{"name": "a", "command": ["z"]}]}}),
                    expected: Ok(
                        json!({"spec": {"containers": [{"name": "a", "command": ["z"]}]}}),
                    ),
                },
                Case {
                    name: "lists of lists are refused when merging",
                    original: json!({"metadata": {"finalizers": [["a"]]}}),
                    patch: json!({"metadata": {"finalizers": [["b"]]}}),
                    expected: Err(NO_LIST_OF_LISTS),
                },
            ],
            &pod(),
        );
    }

    #[test]
    fn primitive_merge_lists_merge_and_delete_from_primitive_list_removes() {
        run(
            vec![
                Case {
                    name: "finalizers merge as a set, patch items first when new",
                    original: json!({"metadata": {"finalizers": ["a", "b"]}}),
                    patch: json!({"metadata": {"finalizers": ["b", "c"]}}),
                    expected: Ok(json!({"metadata": {"finalizers": ["a", "b", "c"]}})),
                },
                Case {
                    name: "$deleteFromPrimitiveList removes",
                    original: json!({"metadata": {"finalizers": ["a", "b", "c"]}}),
                    patch: json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}),
                    expected: Ok(json!({"metadata": {"finalizers": ["a", "c"]}})),
                },
                Case {
                    name: "$deleteFromPrimitiveList of an absent list does nothing",
                    original: json!({"metadata": {}}),
                    patch: json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}),
                    expected: Ok(json!({"metadata": {}})),
                },
                Case {
                    name: "malformed $deleteFromPrimitiveList key",
                    original: json!({"metadata": {"finalizers": ["a"]}}),
                    patch: json!({"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}}),
                    expected: Err(BAD_PRIMITIVE_LIST),
                },
            ],
            &pod(),
        );
    }

    #[test]
    fn set_element_order_orders_merged_lists() {
        run(
            vec![
                Case {
                    name: "kubectl-style patch with order and deletion",
                    original: json!({"metadata": {"finalizers": ["a", "b"]}}),
                    patch: json!({"metadata": {
                        "$setElementOrder/finalizers": ["c", "b"],
                        "$deleteFromPrimitiveList/finalizers": ["a"],
                        "finalizers": ["c"]}}),
                    expected: Ok(json!({"metadata": {"finalizers": ["c", "b"]}})),
                },
                Case {
                    name: "containers reordered by the directive",
                    original: json!({"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b"}]}}),
                    patch: json!({"spec": {
                        "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                        "containers": [{"name": "a", "image": "2"}]}}),
                    expected: Ok(
                        json!({"spec": {"containers": [{"name": "b"}, {"name": "a", "image": "2"}]}}),
                    ),
                },
                Case {
                    name: "order list contradicting the patch list",
                    original: json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}),
                    patch: json!({"spec": {
                        "$setElementOrder/containers": [{"name": "a"}],
                        "containers": [{"name": "b"}]}}),
                    expected: Err(
                        "The order in patch list:\n[map[name:b]]\n doesn't match $setElementOrder list:\n[map[name:a]]\n",
                    ),
                },
                Case {
                    name: "order directive that is not a list",
                    original: json!({"spec": {}}),
                    patch: json!({"spec": {"$setElementOrder/containers": "a"}}),
                    expected: Err("expected a []interface {}, but received a string"),
                },
            ],
            &pod(),
        );
    }

    #[test]
    fn retain_keys_and_map_directives() {
        run(
            vec![
                Case {
                    name: "$retainKeys clears other keys of a union",
                    original: json!({"spec": {"strategy": {"type": "RollingUpdate",
                        "rollingUpdate": {"maxSurge": 1}}}}),
                    patch: json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
                    expected: Ok(json!({"spec": {"strategy": {"type": "Recreate"}}})),
                },
                Case {
                    name: "$retainKeys must list every patched key",
                    original: json!({"spec": {"strategy": {"type": "Recreate"}}}),
                    patch: json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}),
                    expected: Err(BAD_RETAIN_KEYS),
                },
                Case {
                    name: "$patch replace on a map replaces it",
                    original: json!({"spec": {"template": {"metadata": {"labels": {"a": "1"}}}}}),
                    patch: json!({"spec": {"template": {"metadata": {"labels": {"$patch": "replace", "b": "2"}}}}}),
                    expected: Ok(
                        json!({"spec": {"template": {"metadata": {"labels": {"b": "2"}}}}}),
                    ),
                },
                Case {
                    name: "$patch delete on a map empties it",
                    original: json!({"spec": {"selector": {"matchLabels": {"a": "1"}}}}),
                    patch: json!({"spec": {"selector": {"$patch": "delete"}}}),
                    expected: Ok(json!({"spec": {"selector": {}}})),
                },
                Case {
                    name: "unknown $patch on a map",
                    original: json!({"spec": {}}),
                    patch: json!({"spec": {"$patch": "merge"}}),
                    expected: Err("unknown patch type: merge in map: map[$patch:merge]"),
                },
                Case {
                    name: "a patch that is not an object",
                    original: json!({}),
                    patch: json!([1]),
                    expected: Err(
                        "json: cannot unmarshal array into Go value of type map[string]interface {}",
                    ),
                },
            ],
            &deployment(),
        );
    }

    #[test]
    fn service_ports_merge_by_port() {
        let service = MergeRules::builtin("", "v1", "Service").root;
        run(
            vec![Case {
                name: "ports merge by port",
                original: json!({"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}}),
                patch: json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}]}}),
                expected: Ok(json!({"spec": {"ports": [
                    {"port": 80, "name": "http", "targetPort": 8080}, {"port": 443, "name": "https"}]}})),
            }],
            &service,
        );
    }

    #[test]
    fn go_formatting_matches_fmt_v() {
        assert_eq!(
            go_format(&json!({"b": [1, 2.5], "a": null})),
            "map[a:<nil> b:[1 2.5]]"
        );
        assert_eq!(go_float(1_000_000.0), "1e+06");
        assert_eq!(go_float(123_456.0), "123456");
        assert_eq!(go_float(0.5), "0.5");
    }
}
