//! Helpers shared by the test cluster's integration tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde_json::{Value, json};
use slipway_testcluster::TestCluster;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A small CRD exercising status and scale subresources, defaults, enums, list types and a CEL
/// rule, independent of Slipway's own CRDs.
pub fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.test.slipway.dev"},
        "spec": {
            "group": "test.slipway.dev",
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "shortNames": ["wd"], "categories": ["testing"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas", "labelSelectorPath": ".status.selector"}},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "string", "jsonPath": ".spec.size"},
                    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
                ],
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {
                            "type": "object",
                            "required": ["size"],
                            "properties": {
                                "size": {"type": "string", "enum": ["small", "large"]},
                                "replicas": {"type": "integer", "minimum": 0, "default": 1},
                                "color": {"type": "string", "default": "blue"},
                                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"}
                            },
                            "x-kubernetes-validations": [{"rule": "self.size != 'large' || self.replicas <= 3", "message": "large widgets run at most 3 replicas"}]
                        },
                        "status": {
                            "type": "object",
                            "properties": {
                                "replicas": {"type": "integer"},
                                "selector": {"type": "string"},
                                "phase": {"type": "string"},
                                "conditions": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
                            }
                        }
                    }
                }}
            }]
        }
    })
}

/// A CRD without a status subresource (status is part of the main resource).
pub fn gadget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.test.slipway.dev"},
        "spec": {
            "group": "test.slipway.dev",
            "scope": "Cluster",
            "names": {"kind": "Gadget", "plural": "gadgets"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
            }]
        }
    })
}

/// A started cluster with the widget CRD.
pub async fn widget_cluster() -> TestCluster {
    let cluster = TestCluster::start().await;
    let crds =
        slipway_testcluster::Gvr::new("apiextensions.k8s.io", "v1", "customresourcedefinitions");
    cluster
        .cluster()
        .create(&crds, widget_crd(), "test")
        .expect("widget CRD");
    cluster
        .cluster()
        .create(&crds, gadget_crd(), "test")
        .expect("gadget CRD");
    cluster
}

/// The widget resource for `Api<DynamicObject>`.
pub fn widget_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("test.slipway.dev", "v1", "Widget"),
        "widgets",
    )
}

/// Widgets in `default`.
pub fn widgets(cluster: &TestCluster) -> Api<DynamicObject> {
    Api::namespaced_with(cluster.client(), "default", &widget_resource())
}

/// A widget object.
pub fn widget(name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "test.slipway.dev/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": spec,
    }))
    .expect("widget")
}

/// Creates a small, valid widget named `name` (the starting point of most tests).
pub async fn create_small(api: &Api<DynamicObject>, name: &str) -> DynamicObject {
    api.create(
        &kube::api::PostParams::default(),
        &widget(name, json!({"size": "small"})),
    )
    .await
    .expect("a small widget is accepted")
}

/// Reads a YAML file as JSON.
pub fn yaml_file(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).expect("readable fixture");
    serde_saphyr::from_str(&text).expect("YAML")
}

/// The `Status` of a kube API error.
pub fn api_error(error: kube::Error) -> kube::core::Status {
    match error {
        kube::Error::Api(status) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Polls `check` until it answers `Some`, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
