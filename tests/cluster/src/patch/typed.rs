//! Walks over objects guided by [`Node`] rules, as structured-merge-diff's `typed` package:
//! the field set of a value (`ToFieldSet`), comparison of two values (`Compare`), the apply merge
//! (`Merge`), removal of paths (`RemoveItems`) and `EnsureNamedFieldsAreMembers`.

use serde_json::{Map, Value};

use super::fieldset::{FieldSet, Path, PathElement, path_to_string};
use super::rules::{ListType, Node};

/// The path element of item `index` of a list under `node`'s rules.
///
/// # Errors
/// structured-merge-diff's texts for items of `map` lists that are not objects or omit a key.
pub(crate) fn item_element(node: &Node, index: usize, item: &Value) -> Result<PathElement, String> {
    match &node.list {
        ListType::Atomic => Ok(PathElement::Index(index)),
        ListType::Set => Ok(PathElement::Value(item.clone())),
        ListType::Map(keys) => {
            let Value::Object(fields) = item else {
                return Err(if item.is_null() {
                    "associative list with keys may not have a null element".to_owned()
                } else {
                    "associative list with keys may not have non-map elements".to_owned()
                });
            };
            let mut key = Vec::with_capacity(keys.len());
            for name in keys {
                match fields.get(name).or_else(|| node.key_defaults.get(name)) {
                    Some(value) => key.push((name.clone(), value.clone())),
                    None => {
                        return Err(format!(
                            "associative list with keys has an element that omits key field {name:?} (and doesn't have default value)"
                        ));
                    }
                }
            }
            key.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(PathElement::Key(key))
        }
    }
}

/// The items of a non-atomic list with their path elements. In lenient mode (live objects),
/// items that cannot be keyed fall back to their index and later duplicates are skipped; in strict
/// mode (applied configurations) both are errors.
fn indexed_items<'v>(
    node: &Node,
    items: &'v [Value],
    path: &Path,
    strict: bool,
) -> Result<Vec<(PathElement, &'v Value)>, String> {
    let mut out: Vec<(PathElement, &Value)> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let element = match item_element(node, index, item) {
            Ok(element) => element,
            Err(error) if strict => {
                return Err(format!(
                    "{}: element {index}: {error}",
                    path_to_string(path)
                ));
            }
            Err(_) => PathElement::Index(index),
        };
        if out.iter().any(|(seen, _)| *seen == element) {
            if strict {
                return Err(format!(
                    "{}: duplicate entries for key {element}",
                    path_to_string(path)
                ));
            }
            continue;
        }
        out.push((element, item));
    }
    Ok(out)
}

fn is_empty_map(value: &Value) -> bool {
    value.as_object().is_some_and(Map::is_empty)
}

/// The set of fields `value` sets (`ToFieldSet`): leaves, list items (`.`), atomic lists and
/// maps, null and empty-map fields, and non-leaf entries of maps (not named fields).
///
/// # Errors
/// In strict mode, items of keyed lists without keys, and duplicates.
pub(crate) fn field_set(value: &Value, node: &Node, strict: bool) -> Result<FieldSet, String> {
    let mut set = FieldSet::new();
    let mut path = Vec::new();
    walk_field_set(value, node, strict, &mut path, &mut set)?;
    Ok(set)
}

fn walk_field_set(
    value: &Value,
    node: &Node,
    strict: bool,
    path: &mut Path,
    set: &mut FieldSet,
) -> Result<(), String> {
    match value {
        Value::Object(fields) => {
            if node.map_atomic {
                set.insert(path);
                return Ok(());
            }
            for (key, child) in fields {
                path.push(PathElement::Field(key.clone()));
                walk_field_set(child, node.child(key), strict, path, set)?;
                if child.is_null() || is_empty_map(child) || !node.is_named_field(key) {
                    set.insert(path);
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            if node.list == ListType::Atomic {
                set.insert(path);
                return Ok(());
            }
            for (element, item) in indexed_items(node, items, path, strict)? {
                path.push(element);
                walk_field_set(item, node.item(), strict, path, set)?;
                set.insert(path);
                path.pop();
            }
        }
        _ => set.insert(path),
    }
    Ok(())
}

/// What changed between two versions of an object (`typed.Comparison`).
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    pub added: FieldSet,
    pub modified: FieldSet,
    pub removed: FieldSet,
}

impl Comparison {
    pub fn is_same(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }

    /// Drops (or keeps only) the paths below the top-level field `field`.
    pub fn scope(&mut self, field: &str, keep_only: bool) {
        for set in [&mut self.added, &mut self.modified, &mut self.removed] {
            *set = scope_set(set, field, keep_only);
        }
    }
}

/// `set` without the paths under top-level `field`, or with only those.
pub(crate) fn scope_set(set: &FieldSet, field: &str, keep_only: bool) -> FieldSet {
    let element = PathElement::Field(field.to_owned());
    let mut under = FieldSet::new();
    if set.has_member(&element) {
        under.insert_member(element.clone());
    }
    if let Some(child) = set.child(&element) {
        under.insert_child(element.clone(), child.clone());
    }
    if keep_only {
        under
    } else {
        set.difference(&under)
    }
}

/// Compares `old` and `new` (either may be absent) under `node`'s rules.
pub(crate) fn compare(old: &Value, new: &Value, node: &Node) -> Comparison {
    let mut comparison = Comparison::default();
    walk_compare(Some(old), Some(new), node, &mut Vec::new(), &mut comparison);
    comparison
}

fn leaf(old: Option<&Value>, new: Option<&Value>, path: &Path, out: &mut Comparison) {
    match (old, new) {
        (None, None) => {}
        (None, Some(_)) => out.added.insert(path),
        (Some(_), None) => out.removed.insert(path),
        (Some(a), Some(b)) => {
            if !json_equal(a, b) {
                out.modified.insert(path);
            }
        }
    }
}

fn walk_compare(
    old: Option<&Value>,
    new: Option<&Value>,
    node: &Node,
    path: &mut Path,
    out: &mut Comparison,
) {
    let is_map = |v: Option<&Value>| v.is_none_or(Value::is_object);
    let is_list = |v: Option<&Value>| v.is_none_or(Value::is_array);
    if old.is_none() && new.is_none() {
        return;
    }
    if is_map(old) && is_map(new) {
        let (l, r) = (
            old.and_then(Value::as_object),
            new.and_then(Value::as_object),
        );
        let empty = l.is_none_or(Map::is_empty) && r.is_none_or(Map::is_empty);
        if node.map_atomic || empty {
            return leaf(old, new, path, out);
        }
        let mut keys: Vec<&String> = l.into_iter().flat_map(Map::keys).collect();
        for key in r.into_iter().flat_map(Map::keys) {
            if !l.is_some_and(|l| l.contains_key(key)) {
                keys.push(key);
            }
        }
        for key in keys {
            path.push(PathElement::Field(key.clone()));
            walk_compare(
                l.and_then(|m| m.get(key)),
                r.and_then(|m| m.get(key)),
                node.child(key),
                path,
                out,
            );
            path.pop();
        }
    } else if is_list(old) && is_list(new) {
        let (l, r) = (old.and_then(Value::as_array), new.and_then(Value::as_array));
        let empty = l.is_none_or(Vec::is_empty) && r.is_none_or(Vec::is_empty);
        if node.list == ListType::Atomic || empty {
            return leaf(old, new, path, out);
        }
        let left =
            indexed_items(node, l.map_or(&[], Vec::as_slice), path, false).unwrap_or_default();
        let right =
            indexed_items(node, r.map_or(&[], Vec::as_slice), path, false).unwrap_or_default();
        let mut elements: Vec<&PathElement> = left.iter().map(|(e, _)| e).collect();
        for (element, _) in &right {
            if !left.iter().any(|(e, _)| e == element) {
                elements.push(element);
            }
        }
        for element in elements {
            let lv = left.iter().find(|(e, _)| e == element).map(|(_, v)| *v);
            let rv = right.iter().find(|(e, _)| e == element).map(|(_, v)| *v);
            path.push(element.clone());
            walk_compare(lv, rv, node.item(), path, out);
            path.pop();
        }
    } else {
        return leaf(old, new, path, out);
    }
    if old.is_none() {
        out.added.insert(path);
    } else if new.is_none() {
        out.removed.insert(path);
    }
}

/// JSON equality with numbers compared by value (`80` equals `80.0`).
pub(crate) fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || (x.as_f64().is_some() && x.as_f64() == y.as_f64())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// Server-side apply's merge of an applied configuration into the live object: granular maps
/// merge per key, `set` and `map` lists per item (shared items in the configuration's order, live
/// items kept in place), everything else is replaced. A `null` in the configuration removes the
/// field.
///
/// # Errors
/// Items of keyed lists without keys, and duplicates, in the configuration.
pub(crate) fn merge(live: &Value, config: &Value, node: &Node) -> Result<Value, String> {
    merge_at(live, config, node, &mut Vec::new())
}

fn merge_at(live: &Value, config: &Value, node: &Node, path: &mut Path) -> Result<Value, String> {
    match (live, config) {
        (Value::Object(l), Value::Object(r)) if !node.map_atomic => {
            let mut out = l.clone();
            for (key, value) in r {
                if value.is_null() {
                    out.remove(key);
                    continue;
                }
                path.push(PathElement::Field(key.clone()));
                let merged = match l.get(key) {
                    Some(existing) => merge_at(existing, value, node.child(key), path)?,
                    None => without_nulls(value),
                };
                path.pop();
                out.insert(key.clone(), merged);
            }
            Ok(Value::Object(out))
        }
        (Value::Array(l), Value::Array(r)) if node.list != ListType::Atomic => {
            merge_list(l, r, node, path)
        }
        _ => Ok(without_nulls(config)),
    }
}

/// Drops `null` fields of maps (the apiserver does not store them).
pub(crate) fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// structured-merge-diff's associative list merge: walks both lists; live-only items stay where
/// they are, items of the configuration come in its order, shared items merge.
fn merge_list(
    live: &[Value],
    config: &[Value],
    node: &Node,
    path: &mut Path,
) -> Result<Value, String> {
    let rhs = indexed_items(node, config, path, true)?;
    let lhs = indexed_items(node, live, path, false)?;
    let in_lhs = |e: &PathElement| lhs.iter().find(|(x, _)| x == e).map(|(_, v)| *v);
    let in_rhs = |e: &PathElement| rhs.iter().find(|(x, _)| x == e).map(|(_, v)| *v);
    let mut shared = rhs.iter().map(|(e, _)| e).filter(|e| in_lhs(e).is_some());
    let mut next_shared = shared.next();
    let mut merged_rhs: Vec<&PathElement> = Vec::new();
    let mut out = Vec::with_capacity(live.len().max(config.len()));
    let (mut li, mut ri) = (0, 0);
    while li < lhs.len() || ri < rhs.len() {
        if li < lhs.len() && ri < rhs.len() {
            let (element, _) = &lhs[li];
            if *element == rhs[ri].0 {
                merged_rhs.push(element);
                path.push(element.clone());
                out.push(merge_item(in_lhs(element), in_rhs(element), node, path)?);
                path.pop();
                li += 1;
                ri += 1;
                next_shared = shared.next();
                continue;
            }
            if in_rhs(element).is_some() && next_shared.is_some_and(|next| next != element) {
                li += 1;
                continue;
            }
        }
        if li < lhs.len() {
            let (element, item) = &lhs[li];
            if in_rhs(element).is_none() {
                out.push((*item).clone());
                li += 1;
                continue;
            } else if merged_rhs.contains(&element) {
                li += 1;
                continue;
            }
        }
        if ri < rhs.len() {
            let (element, _) = &rhs[ri];
            merged_rhs.push(element);
            path.push(element.clone());
            out.push(merge_item(in_lhs(element), in_rhs(element), node, path)?);
            path.pop();
            ri += 1;
            if next_shared.is_some_and(|next| next == element) {
                next_shared = shared.next();
            }
        }
    }
    Ok(Value::Array(out))
}

fn merge_item(
    live: Option<&Value>,
    config: Option<&Value>,
    node: &Node,
    path: &mut Path,
) -> Result<Value, String> {
    match (live, config) {
        (Some(l), Some(r)) => merge_at(l, r, node.item(), path),
        (None, Some(r)) => Ok(without_nulls(r)),
        (Some(l), None) => Ok(l.clone()),
        (None, None) => Ok(Value::Null),
    }
}

/// `value` without the paths of `set` (a member removes its whole subtree). Atomic lists and maps
/// are kept whole, as structured-merge-diff's `RemoveItems`.
pub(crate) fn remove_items(value: &Value, set: &FieldSet, node: &Node) -> Value {
    if set.is_empty() {
        return value.clone();
    }
    match value {
        Value::Object(fields) if !node.map_atomic => {
            let mut out = Map::new();
            for (key, child) in fields {
                let element = PathElement::Field(key.clone());
                if set.has_member(&element) {
                    continue;
                }
                let kept = match set.child(&element) {
                    Some(subset) => remove_items(child, subset, node.child(key)),
                    None => child.clone(),
                };
                out.insert(key.clone(), kept);
            }
            Value::Object(out)
        }
        Value::Array(items) if node.list != ListType::Atomic => {
            let mut out = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                let element = item_element(node, index, item).unwrap_or(PathElement::Index(index));
                if set.has_member(&element) {
                    continue;
                }
                out.push(match set.child(&element) {
                    Some(subset) => remove_items(item, subset, node.item()),
                    None => item.clone(),
                });
            }
            Value::Array(out)
        }
        other => other.clone(),
    }
}

/// `set` plus every named field that has members below it (`EnsureNamedFieldsAreMembers`), so
/// that removing a struct a manager stopped applying removes it whole.
pub(crate) fn ensure_named_fields_are_members(set: &FieldSet, node: &Node) -> FieldSet {
    let mut out = FieldSet::new();
    for member in set.members() {
        out.insert_member(member.clone());
    }
    for (element, child) in set.children() {
        let child_node = match element {
            PathElement::Field(key) => {
                if node.is_named_field(key) {
                    out.insert_member(element.clone());
                }
                node.child(key)
            }
            _ => node.item(),
        };
        out.insert_child(
            element.clone(),
            ensure_named_fields_are_members(child, child_node),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::rules::MergeRules;
    use serde_json::json;

    fn deployment_rules() -> MergeRules {
        MergeRules::builtin("apps", "v1", "Deployment")
    }

    #[test]
    fn field_set_of_an_applied_deployment_matches_the_apiserver_encoding() {
        let rules = deployment_rules();
        let applied = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"spec": {"containers": [{"name": "web", "image": "nginx",
                    "ports": [{"containerPort": 80}]}]}}}
        });
        let set = field_set(&applied, &rules.root, true).unwrap();
        assert_eq!(
            set.to_fields_v1(),
            json!({
                "f:apiVersion": {}, "f:kind": {},
                "f:metadata": {"f:name": {}, "f:labels": {"f:app": {}}},
                "f:spec": {"f:replicas": {}, "f:selector": {},
                    "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {
                        ".": {}, "f:name": {}, "f:image": {},
                        "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                            ".": {}, "f:containerPort": {}}}}}}}}
            })
        );
    }

    #[test]
    fn keyed_items_without_keys_and_duplicates_are_refused() {
        let rules = deployment_rules();
        for (applied, message) in [
            (
                json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
                ".spec.template.spec.containers: element 0: associative list with keys has an element that omits key field \"name\" (and doesn't have default value)",
            ),
            (
                json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "a"}]}}}}),
                ".spec.template.spec.containers: duplicate entries for key [name=\"a\"]",
            ),
            (
                json!({"metadata": {"finalizers": ["a", "a"]}}),
                ".metadata.finalizers: duplicate entries for key [=\"a\"]",
            ),
        ] {
            assert_eq!(field_set(&applied, &rules.root, true).unwrap_err(), message);
        }
    }

    #[test]
    fn comparison_marks_added_nodes_and_changed_leaves() {
        let rules = deployment_rules();
        let old = json!({"metadata": {"name": "a"}, "spec": {"replicas": 1}});
        let new = json!({"metadata": {"name": "a", "labels": {"x": "y"}}, "spec": {"replicas": 2}});
        let comparison = compare(&old, &new, &rules.root);
        assert_eq!(
            comparison.added.to_fields_v1(),
            json!({"f:metadata": {"f:labels": {".": {}, "f:x": {}}}})
        );
        assert_eq!(
            comparison.modified.to_fields_v1(),
            json!({"f:spec": {"f:replicas": {}}})
        );
        assert!(comparison.removed.is_empty());
        assert!(compare(&new, &new, &rules.root).is_same());
    }

    #[test]
    fn apply_merge_keeps_live_only_items_in_place_and_orders_shared_items_by_config() {
        let node = MergeRules::builtin("", "v1", "Pod").root;
        let live = json!({"spec": {"containers": [
            {"name": "a", "image": "1"}, {"name": "x", "image": "live"}, {"name": "b", "image": "2"}]}});
        let config = json!({"spec": {"containers": [{"name": "b", "image": "3"}, {"name": "a"}, {"name": "c"}]}});
        let merged = merge(&live, &config, &node).unwrap();
        assert_eq!(
            merged,
            json!({"spec": {"containers": [
                {"name": "x", "image": "live"}, {"name": "b", "image": "3"},
                {"name": "a", "image": "1"}, {"name": "c"}]}})
        );
    }
}
