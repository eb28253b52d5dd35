//! Field sets as structured-merge-diff's `fieldpath.Set`: a trie of path elements whose members
//! are the paths in the set, with the `fieldsV1` encoding of `metadata.managedFields` and the path
//! printer of conflict messages.
//!
//! A path element is a field name (`f:name`), the key of an item of a `map` list
//! (`k:{"name":"web"}`), the value of an item of a `set` list (`v:"x"`), or an index (`i:0`, only
//! read, never produced: lists without keys are atomic here). `.` in `fieldsV1` marks a node that
//! is itself a member and also has members below it.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// One step of a path into an object.
#[derive(Clone, Debug)]
pub enum PathElement {
    /// A field of a map or struct (`f:name`).
    Field(String),
    /// An item of a list of type `map`, by its key fields sorted by name (`k:{…}`).
    Key(Vec<(String, Value)>),
    /// An item of a list of type `set`, by its value (`v:…`).
    Value(Value),
    /// An item of a list by position (`i:N`).
    Index(usize),
}

/// A path from the root of an object.
pub type Path = Vec<PathElement>;

impl PathElement {
    fn rank(&self) -> u8 {
        match self {
            Self::Field(_) => 0,
            Self::Key(_) => 1,
            Self::Value(_) => 2,
            Self::Index(_) => 3,
        }
    }

    /// The `fieldsV1` spelling (`f:x`, `k:{…}`, `v:…`, `i:N`).
    pub fn to_fields_v1_key(&self) -> String {
        match self {
            Self::Field(name) => format!("f:{name}"),
            Self::Key(fields) => {
                let object: Map<String, Value> = fields.iter().cloned().collect();
                format!("k:{}", Value::Object(object))
            }
            Self::Value(value) => format!("v:{value}"),
            Self::Index(index) => format!("i:{index}"),
        }
    }

    /// Parses a `fieldsV1` key.
    ///
    /// # Errors
    /// A text naming the malformed key.
    pub fn from_fields_v1_key(key: &str) -> Result<Self, String> {
        let bad = || format!("invalid path element {key:?}");
        let (prefix, rest) = key.split_at_checked(2).ok_or_else(bad)?;
        match prefix {
            "f:" => Ok(Self::Field(rest.to_owned())),
            "v:" => serde_json::from_str(rest)
                .map(Self::Value)
                .map_err(|_| bad()),
            "i:" => rest.parse().map(Self::Index).map_err(|_| bad()),
            "k:" => match serde_json::from_str(rest) {
                Ok(Value::Object(fields)) => {
                    let mut fields: Vec<(String, Value)> = fields.into_iter().collect();
                    fields.sort_by(|a, b| a.0.cmp(&b.0));
                    Ok(Self::Key(fields))
                }
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for PathElement {
    /// As structured-merge-diff prints it: `.name`, `[name="web"]`, `[=value]`, `[0]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Field(name) => write!(f, ".{name}"),
            Self::Key(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(name, value)| format!("{name}={}", value_to_string(value)))
                    .collect();
                write!(f, "[{}]", parts.join(","))
            }
            Self::Value(value) => write!(f, "[={}]", value_to_string(value)),
            Self::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// Prints a path as the apiserver does in conflict messages
/// (`.spec.template.spec.containers[name="web"].image`).
pub fn path_to_string(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

/// structured-merge-diff's `value.ToString`: strings quoted, maps as `k=v` pairs.
fn value_to_string(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(value_to_string).collect();
            format!("[{}]", parts.join(","))
        }
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| format!("{k}={}", value_to_string(v)))
            .collect(),
    }
}

/// structured-merge-diff's total order of values: numbers, strings, booleans, lists, maps, null.
pub(crate) fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => {
                let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (l, r) in x.iter().zip(y) {
                let c = compare_values(l, r);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            for ((lk, lv), (rk, rv)) in x.iter().zip(y) {
                let c = lk.cmp(rk).then_with(|| compare_values(lv, rv));
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Field(a), Self::Field(b)) => a.cmp(b),
            (Self::Key(a), Self::Key(b)) => {
                for ((an, av), (bn, bv)) in a.iter().zip(b) {
                    let c = an.cmp(bn).then_with(|| compare_values(av, bv));
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Self::Value(a), Self::Value(b)) => compare_values(a, b),
            (Self::Index(a), Self::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

/// A set of paths, stored as a trie: `members` are the paths ending at this node, `children` the
/// subtrees. Never holds empty children, so structural equality is set equality.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet {
    members: BTreeSet<PathElement>,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the set holds no path.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Adds `path` (the empty path, the root itself, is never a member).
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// Whether `path` is a member.
    pub fn contains(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.contains(rest)),
        }
    }

    /// Whether the element is a member at this level.
    pub fn has_member(&self, element: &PathElement) -> bool {
        self.members.contains(element)
    }

    /// The paths below `element`, relative to it (`WithPrefix`).
    pub fn child(&self, element: &PathElement) -> Option<&FieldSet> {
        self.children.get(element)
    }

    /// The members directly at this level.
    pub fn members(&self) -> impl Iterator<Item = &PathElement> {
        self.members.iter()
    }

    /// The subtrees directly below this level.
    pub fn children(&self) -> impl Iterator<Item = (&PathElement, &FieldSet)> {
        self.children.iter()
    }

    /// Paths in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (element, child) in &other.children {
            let merged = match out.children.get(element) {
                Some(mine) => mine.union(child),
                None => child.clone(),
            };
            out.children.insert(element.clone(), merged);
        }
        out
    }

    /// Paths in `self` but not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (element, child) in &self.children {
            let rest = match other.children.get(element) {
                Some(theirs) => child.difference(theirs),
                None => child.clone(),
            };
            if !rest.is_empty() {
                children.insert(element.clone(), rest);
            }
        }
        FieldSet { members, children }
    }

    /// Paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (element, child) in &self.children {
            if let Some(theirs) = other.children.get(element) {
                let both = child.intersection(theirs);
                if !both.is_empty() {
                    children.insert(element.clone(), both);
                }
            }
        }
        FieldSet { members, children }
    }

    /// Every member path, members of a level before the levels below it, each level in
    /// path-element order (structured-merge-diff's `Iterate`).
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Path, out: &mut Vec<Path>) {
        for member in &self.members {
            let mut path = prefix.clone();
            path.push(member.clone());
            out.push(path);
        }
        for (element, child) in &self.children {
            prefix.push(element.clone());
            child.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// Adds `subset` below `element`, as the children there (used by builders).
    pub(crate) fn insert_child(&mut self, element: PathElement, subset: FieldSet) {
        if subset.is_empty() {
            return;
        }
        let merged = match self.children.remove(&element) {
            Some(existing) => existing.union(&subset),
            None => subset,
        };
        self.children.insert(element, merged);
    }

    /// Adds a member at this level.
    pub(crate) fn insert_member(&mut self, element: PathElement) {
        self.members.insert(element);
    }

    /// Parses the `fieldsV1` encoding.
    ///
    /// # Errors
    /// A text naming the malformed part.
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, String> {
        let Value::Object(fields) = value else {
            return Err("fieldsV1 must be an object".to_owned());
        };
        let mut set = FieldSet::new();
        for (key, child) in fields {
            if key == "." {
                continue;
            }
            let element = PathElement::from_fields_v1_key(key)?;
            let Value::Object(grandchildren) = child else {
                return Err(format!("fieldsV1 entry {key:?} must be an object"));
            };
            if grandchildren.is_empty() || grandchildren.contains_key(".") {
                set.members.insert(element.clone());
            }
            let subset = FieldSet::from_fields_v1(child)?;
            set.insert_child(element, subset);
        }
        Ok(set)
    }

    /// The `fieldsV1` encoding (`{"f:metadata":{"f:labels":{"f:app":{}}}}`).
    pub fn to_fields_v1(&self) -> Value {
        self.encode(false)
    }

    fn encode(&self, include_self: bool) -> Value {
        let mut out = Map::new();
        if include_self && !self.is_empty() {
            out.insert(".".to_owned(), Value::Object(Map::new()));
        }
        // Members and children in path-element order, as structured-merge-diff writes them.
        let mut keys: BTreeSet<&PathElement> = self.members.iter().collect();
        keys.extend(self.children.keys());
        for element in keys {
            let member = self.members.contains(element);
            let encoded = match self.children.get(element) {
                Some(child) => child.encode(member),
                None => Value::Object(Map::new()),
            };
            out.insert(element.to_fields_v1_key(), encoded);
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(name: &str) -> PathElement {
        PathElement::Field(name.to_owned())
    }

    fn key(name: &str, value: Value) -> PathElement {
        PathElement::Key(vec![(name.to_owned(), value)])
    }

    #[test]
    fn fields_v1_round_trips_members_nodes_keys_and_values() {
        let encoded = json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}, "f:finalizers": {"v:\"a\"": {}}},
            "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}
        });
        let set = FieldSet::from_fields_v1(&encoded).unwrap();
        assert!(set.contains(&[field("metadata"), field("labels")]));
        assert!(set.contains(&[field("metadata"), field("labels"), field("app")]));
        assert!(!set.contains(&[field("metadata")]));
        assert!(set.contains(&[
            field("spec"),
            field("containers"),
            key("name", json!("web")),
            field("image")
        ]));
        assert!(set.contains(&[
            field("metadata"),
            field("finalizers"),
            PathElement::Value(json!("a"))
        ]));
        assert_eq!(set.to_fields_v1(), encoded);
    }

    #[test]
    fn multi_field_keys_are_sorted_by_name() {
        let element =
            PathElement::from_fields_v1_key("k:{\"protocol\":\"TCP\",\"containerPort\":80}")
                .unwrap();
        assert_eq!(
            element.to_fields_v1_key(),
            "k:{\"containerPort\":80,\"protocol\":\"TCP\"}"
        );
        assert_eq!(element.to_string(), "[containerPort=80,protocol=\"TCP\"]");
    }

    #[test]
    fn malformed_fields_v1_is_refused() {
        for bad in [
            json!([]),
            json!({"x:y": {}}),
            json!({"f:a": 1}),
            json!({"k:[1]": {}}),
        ] {
            assert!(FieldSet::from_fields_v1(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn path_printer_matches_the_apiserver() {
        let path = vec![
            field("spec"),
            field("template"),
            field("spec"),
            field("containers"),
            key("name", json!("web")),
            field("image"),
        ];
        assert_eq!(
            path_to_string(&path),
            ".spec.template.spec.containers[name=\"web\"].image"
        );
        assert_eq!(
            path_to_string(&[
                field("metadata"),
                field("finalizers"),
                PathElement::Value(json!("x"))
            ]),
            ".metadata.finalizers[=\"x\"]"
        );
        assert_eq!(
            path_to_string(&[field("a"), PathElement::Index(2)]),
            ".a[2]"
        );
    }

    #[test]
    fn set_operations_follow_path_semantics() {
        let mut a = FieldSet::new();
        a.insert(&[field("spec"), field("replicas")]);
        a.insert(&[field("spec"), field("paused")]);
        a.insert(&[field("spec")]);
        let mut b = FieldSet::new();
        b.insert(&[field("spec"), field("replicas")]);
        b.insert(&[field("status"), field("x")]);

        let union = a.union(&b);
        assert_eq!(union.paths().len(), 4);
        let difference = a.difference(&b);
        assert_eq!(
            difference.paths(),
            vec![vec![field("spec")], vec![field("spec"), field("paused")]]
        );
        let intersection = a.intersection(&b);
        assert_eq!(
            intersection.paths(),
            vec![vec![field("spec"), field("replicas")]]
        );
        assert!(a.difference(&a).is_empty());
        assert_eq!(a.difference(&a), FieldSet::new());
    }
}
