//! Merge rules: per path, how lists and maps merge under server-side apply (list type, map type,
//! associative keys) and under strategic merge patch (patch strategy and merge key).
//!
//! Custom resources get them from the CRD's `openAPIV3Schema` (`x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`, `x-kubernetes-map-type` on structs,
//! through `properties`, `items` and `additionalProperties`); built-in kinds from a table of the
//! `+listType`, `+listMapKey`, `+mapType`/`+structType` markers and `patchStrategy` /
//! `patchMergeKey` tags of the Kubernetes API types the test cluster serves (Kubernetes 1.33).
//! Anything not covered gets the defaults: lists atomic, maps granular, strategic lists replaced.

use std::collections::BTreeMap;

use serde_json::Value;

/// How the items of a list are identified.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum ListType {
    /// The list is one value, replaced and owned whole (the default).
    #[default]
    Atomic,
    /// A list of unique scalars, each item owned on its own (`v:`).
    Set,
    /// A list of objects identified by these key fields (`k:`).
    Map(Vec<String>),
}

/// The rules at one path.
#[derive(Clone, Debug, Default)]
pub(crate) struct Node {
    /// Declared fields (`properties`, or the fields of a built-in struct).
    pub fields: BTreeMap<String, Node>,
    /// Rules of the entries of a map (`additionalProperties`); entries are not named fields.
    pub values: Option<Box<Node>>,
    /// Rules of the items of a list.
    pub items: Option<Box<Node>>,
    /// Server-side apply list type.
    pub list: ListType,
    /// `x-kubernetes-map-type: atomic` (or `+structType=atomic`): the map is one value.
    pub map_atomic: bool,
    /// Defaults of key fields of a `map` list, used when an item omits them (e.g. `protocol`).
    pub key_defaults: BTreeMap<String, Value>,
    /// Strategic merge: the list merges (`patchStrategy: merge`) instead of being replaced.
    pub strategic_merge: bool,
    /// Strategic merge: the `patchMergeKey` of a merging list of objects.
    pub merge_key: Option<String>,
}

static EMPTY: Node = Node {
    fields: BTreeMap::new(),
    values: None,
    items: None,
    list: ListType::Atomic,
    map_atomic: false,
    key_defaults: BTreeMap::new(),
    strategic_merge: false,
    merge_key: None,
};

impl Node {
    /// The rules of field or map entry `key` of this object.
    pub fn child(&self, key: &str) -> &Node {
        match self.fields.get(key) {
            Some(node) => node,
            None => self.values.as_deref().unwrap_or(&EMPTY),
        }
    }

    /// The rules of the items of this list.
    pub fn item(&self) -> &Node {
        self.items.as_deref().unwrap_or(&EMPTY)
    }

    /// Whether `key` is a named field (struct field) rather than an entry of a map. Unknown keys of
    /// objects without `additionalProperties` count as named fields.
    pub fn is_named_field(&self, key: &str) -> bool {
        self.fields.contains_key(key) || self.values.is_none()
    }

    fn with(mut self, key: &str, child: Node) -> Self {
        self.fields.insert(key.to_owned(), child);
        self
    }

    fn at(self, path: &[&str], child: Node) -> Self {
        match path {
            [] => child,
            [key, rest @ ..] => {
                let mut this = self;
                let existing = this.fields.remove(*key).unwrap_or_default();
                this.fields
                    .insert((*key).to_owned(), existing.at(rest, child));
                this
            }
        }
    }

    fn string_map() -> Self {
        Node {
            values: Some(Box::default()),
            ..Node::default()
        }
    }

    fn atomic_map() -> Self {
        Node {
            map_atomic: true,
            ..Node::default()
        }
    }

    fn atomic_list() -> Self {
        Node::default()
    }

    /// A `+listType=map` list keyed by `keys` that strategic merge merges by `merge_key`.
    fn keyed(keys: &[&str], merge_key: Option<&str>, item: Node) -> Self {
        Node {
            list: ListType::Map(keys.iter().map(|k| (*k).to_owned()).collect()),
            items: Some(Box::new(item)),
            strategic_merge: merge_key.is_some(),
            merge_key: merge_key.map(str::to_owned),
            ..Node::default()
        }
    }

    fn default_key(mut self, key: &str, value: &str) -> Self {
        self.key_defaults
            .insert(key.to_owned(), Value::String(value.to_owned()));
        self
    }

    /// A `+listType=set` list of scalars; `merge` when strategic merge merges it too.
    fn set(merge: bool) -> Self {
        Node {
            list: ListType::Set,
            strategic_merge: merge,
            ..Node::default()
        }
    }

    /// A `+listType=atomic` list that strategic merge still merges by `merge_key`.
    fn atomic_merging(merge_key: &str) -> Self {
        Node {
            strategic_merge: true,
            merge_key: Some(merge_key.to_owned()),
            ..Node::default()
        }
    }
}

/// `metav1.ObjectMeta` (also used for pod templates).
fn object_meta() -> Node {
    Node::default()
        .with("labels", Node::string_map())
        .with("annotations", Node::string_map())
        // OwnerReference is `+structType=atomic`: items are owned whole.
        .with(
            "ownerReferences",
            Node::keyed(&["uid"], Some("uid"), Node::atomic_map()),
        )
        .with("finalizers", Node::set(true))
        .with("managedFields", Node::atomic_list())
}

fn conditions_by_type() -> Node {
    Node::keyed(&["type"], Some("type"), Node::default())
}

fn resource_requirements() -> Node {
    Node::default()
        .with("limits", Node::string_map())
        .with("requests", Node::string_map())
        .with("claims", Node::keyed(&["name"], None, Node::default()))
}

fn container() -> Node {
    Node::default()
        .with(
            "ports",
            Node::keyed(
                &["containerPort", "protocol"],
                Some("containerPort"),
                Node::default(),
            )
            .default_key("protocol", "TCP"),
        )
        .with("env", Node::keyed(&["name"], Some("name"), Node::default()))
        .with(
            "volumeMounts",
            Node::keyed(&["mountPath"], Some("mountPath"), Node::default()),
        )
        .with(
            "volumeDevices",
            Node::keyed(&["devicePath"], Some("devicePath"), Node::default()),
        )
        .with("resizePolicy", Node::atomic_list())
        .with("resources", resource_requirements())
}

/// `core/v1 PodSpec`.
fn pod_spec() -> Node {
    let containers = || Node::keyed(&["name"], Some("name"), container());
    Node::default()
        .with("containers", containers())
        .with("initContainers", containers())
        .with("ephemeralContainers", containers())
        .with(
            "volumes",
            Node::keyed(&["name"], Some("name"), Node::default()),
        )
        // LocalObjectReference is `+structType=atomic`.
        .with(
            "imagePullSecrets",
            Node::keyed(&["name"], Some("name"), Node::atomic_map()),
        )
        .with("tolerations", Node::atomic_list())
        .with(
            "hostAliases",
            Node::keyed(&["ip"], Some("ip"), Node::default()),
        )
        .with("nodeSelector", Node::string_map())
        .with("overhead", Node::string_map())
        .with(
            "topologySpreadConstraints",
            Node::keyed(
                &["topologyKey", "whenUnsatisfiable"],
                Some("topologyKey"),
                Node::default(),
            ),
        )
        .with(
            "schedulingGates",
            Node::keyed(&["name"], Some("name"), Node::default()),
        )
        .with(
            "resourceClaims",
            Node::keyed(&["name"], Some("name"), Node::default()),
        )
        .with("readinessGates", Node::atomic_list())
        .with("resources", resource_requirements())
}

fn pod_template() -> Node {
    Node::default()
        .with("metadata", object_meta())
        .with("spec", pod_spec())
}

fn workload(job: bool) -> Node {
    // LabelSelector is `+structType=atomic`.
    let spec = Node::default()
        .with("selector", Node::atomic_map())
        .with("template", pod_template());
    // Job conditions are `+listType=atomic` with strategic merge by `type`; the others are
    // `+listType=map` keyed by `type`.
    let conditions = if job {
        Node::atomic_merging("type")
    } else {
        conditions_by_type()
    };
    Node::default()
        .with("spec", spec)
        .with("status", Node::default().with("conditions", conditions))
}

fn builtin_kind(group: &str, kind: &str) -> Option<(Node, bool)> {
    let rules = match (group, kind) {
        ("", "Pod") => Node::default().with("spec", pod_spec()).with(
            "status",
            Node::default()
                .with("conditions", conditions_by_type())
                .with("containerStatuses", Node::atomic_list())
                .with("initContainerStatuses", Node::atomic_list())
                .with("ephemeralContainerStatuses", Node::atomic_list())
                .with("podIPs", Node::keyed(&["ip"], Some("ip"), Node::default()))
                .with("hostIPs", Node::keyed(&["ip"], Some("ip"), Node::default())),
        ),
        ("", "Service") => Node::default()
            .at(
                &["spec", "ports"],
                Node::keyed(&["port", "protocol"], Some("port"), Node::default())
                    .default_key("protocol", "TCP"),
            )
            // `+mapType=atomic`.
            .at(
                &["spec", "selector"],
                Node {
                    map_atomic: true,
                    ..Node::string_map()
                },
            )
            .at(&["status", "conditions"], conditions_by_type()),
        ("", "Namespace") => Node::default().at(&["status", "conditions"], conditions_by_type()),
        ("", "ConfigMap") => Node::default()
            .with("data", Node::string_map())
            .with("binaryData", Node::string_map()),
        ("", "Secret") => Node::default()
            .with("data", Node::string_map())
            .with("stringData", Node::string_map()),
        ("", "ServiceAccount") => Node::default().with(
            "secrets",
            Node::keyed(&["name"], Some("name"), Node::default()),
        ),
        ("apps", "Deployment" | "ReplicaSet") => workload(false),
        ("batch", "Job") => workload(true),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            Node::default().at(&["status", "conditions"], conditions_by_type())
        }
        ("", "Endpoints" | "Event")
        | ("coordination.k8s.io", "Lease")
        | ("events.k8s.io", "Event")
        | ("discovery.k8s.io", "EndpointSlice") => Node::default(),
        _ => return None,
    };
    let status_subresource = matches!(
        (group, kind),
        ("", "Pod" | "Service" | "Namespace")
            | ("apps", "Deployment" | "ReplicaSet")
            | ("batch", "Job")
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
    );
    Some((rules, status_subresource))
}

/// Reads one schema node (and its descendants) of an OpenAPI v3 schema.
fn from_schema(schema: &Value) -> Node {
    let mut node = Node::default();
    let Value::Object(schema) = schema else {
        return node;
    };
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for (name, property) in properties {
            node.fields.insert(name.clone(), from_schema(property));
        }
    }
    match schema.get("additionalProperties") {
        Some(additional @ Value::Object(_)) => {
            node.values = Some(Box::new(from_schema(additional)));
        }
        Some(Value::Bool(true)) => node.values = Some(Box::default()),
        _ => {
            // An object without declared fields (e.g. `x-kubernetes-preserve-unknown-fields`) is
            // a map of deduced values, as structured-merge-diff treats it.
            let is_object = schema.get("type").and_then(Value::as_str) == Some("object");
            if is_object && node.fields.is_empty() {
                node.values = Some(Box::default());
            }
        }
    }
    if let Some(items) = schema.get("items") {
        node.items = Some(Box::new(from_schema(items)));
    }
    node.list = match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("set") => ListType::Set,
        Some("map") => {
            let keys: Vec<String> = schema
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|keys| {
                    keys.iter()
                        .filter_map(|k| k.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            if keys.is_empty() {
                ListType::Atomic
            } else {
                ListType::Map(keys)
            }
        }
        _ => ListType::Atomic,
    };
    if let ListType::Map(keys) = &node.list
        && let Some(item) = schema.get("items")
    {
        for key in keys {
            if let Some(default) = item.pointer(&format!("/properties/{key}/default")) {
                node.key_defaults.insert(key.clone(), default.clone());
            }
        }
    }
    node.map_atomic = schema.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic");
    node
}

/// How lists and maps merge at each path of an object: `x-kubernetes-list-type` (`atomic`, `set`,
/// `map` with keys) and `x-kubernetes-map-type` (`atomic`, `granular`) for custom resources, and
/// the patch-merge-keys and list types of the built-in kinds.
#[derive(Clone, Debug, Default)]
pub struct MergeRules {
    pub(crate) root: Node,
    pub(crate) status_subresource: bool,
}

impl MergeRules {
    /// Rules read from a CRD version's `openAPIV3Schema`.
    ///
    /// `metadata` always gets `ObjectMeta`'s rules (labels, annotations, owner references by
    /// `uid`, finalizers as a set). Whether `status` is a subresource is guessed from the schema
    /// declaring a `status` property; set it from the CRD version's `subresources` with
    /// [`MergeRules::with_status_subresource`].
    pub fn from_openapi_schema(schema: &Value) -> Self {
        let mut root = from_schema(schema);
        root.fields.insert("metadata".to_owned(), object_meta());
        root.values = None;
        let status_subresource = schema
            .pointer("/properties/status")
            .is_some_and(Value::is_object);
        MergeRules {
            root,
            status_subresource,
        }
    }

    /// Rules of a built-in kind the test cluster serves (e.g. `("apps", "v1", "Deployment")`;
    /// the core group is `""`). Unknown kinds get rules that treat every list as atomic.
    pub fn builtin(group: &str, _version: &str, kind: &str) -> Self {
        let (root, status_subresource) = builtin_kind(group, kind).unwrap_or_default();
        MergeRules {
            root: root.with("metadata", object_meta()),
            status_subresource,
        }
    }

    /// Declares whether the kind's `status` is a subresource (`subresources.status` of a CRD
    /// version). When it is, apply and update on the main resource neither write nor take
    /// ownership of `status`, and on the `status` subresource only `status`.
    #[must_use]
    pub fn with_status_subresource(mut self, enabled: bool) -> Self {
        self.status_subresource = enabled;
        self
    }

    /// Whether `status` is a subresource of this kind.
    pub fn has_status_subresource(&self) -> bool {
        self.status_subresource
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn crd_schema_markers_become_rules() {
        let schema = json!({
            "type": "object",
            "properties": {
                "spec": {"type": "object", "properties": {
                    "stages": {"type": "array", "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {"type": "object", "properties": {
                            "name": {"type": "string"},
                            "protocol": {"type": "string", "default": "TCP"}}}},
                    "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                    "args": {"type": "array", "items": {"type": "string"}},
                    "selector": {"type": "object", "x-kubernetes-map-type": "atomic",
                        "additionalProperties": {"type": "string"}},
                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                }},
                "status": {"type": "object"}
            }
        });
        let rules = MergeRules::from_openapi_schema(&schema);
        let spec = rules.root.child("spec");
        assert_eq!(
            spec.child("stages").list,
            ListType::Map(vec!["name".to_owned()])
        );
        assert_eq!(spec.child("tags").list, ListType::Set);
        assert_eq!(spec.child("args").list, ListType::Atomic);
        assert!(spec.child("selector").map_atomic);
        assert!(!spec.child("selector").is_named_field("app"));
        assert!(!spec.child("extra").is_named_field("anything"));
        assert!(spec.is_named_field("unknown"));
        assert_eq!(
            rules.root.child("metadata").child("finalizers").list,
            ListType::Set
        );
        assert!(rules.has_status_subresource());
        assert!(
            !rules
                .with_status_subresource(false)
                .has_status_subresource()
        );
    }

    #[test]
    fn builtin_pod_templates_share_pod_spec_rules() {
        for (group, kind, path) in [
            ("", "Pod", &["spec"][..]),
            ("apps", "Deployment", &["spec", "template", "spec"][..]),
            ("apps", "ReplicaSet", &["spec", "template", "spec"][..]),
            ("batch", "Job", &["spec", "template", "spec"][..]),
        ] {
            let rules = MergeRules::builtin(group, "v1", kind);
            let mut node = &rules.root;
            for key in path {
                node = node.child(key);
            }
            let containers = node.child("containers");
            assert_eq!(
                containers.list,
                ListType::Map(vec!["name".to_owned()]),
                "{kind}"
            );
            assert_eq!(containers.merge_key.as_deref(), Some("name"));
            let ports = containers.item().child("ports");
            assert_eq!(
                ports.list,
                ListType::Map(vec!["containerPort".to_owned(), "protocol".to_owned()])
            );
            assert_eq!(ports.merge_key.as_deref(), Some("containerPort"));
            assert_eq!(node.child("tolerations").list, ListType::Atomic);
            assert!(rules.has_status_subresource());
        }
        let unknown = MergeRules::builtin("example.com", "v1", "Widget");
        assert_eq!(
            unknown.root.child("spec").child("items").list,
            ListType::Atomic
        );
        assert!(!unknown.has_status_subresource());
    }
}
