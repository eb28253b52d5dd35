//! Scale benchmark of the test cluster (run with `cargo bench -p slipway-testcluster --bench scale`):
//! the latency of listing 1,000 / 5,000 / 10,000 custom resources through the real `kube::Client`,
//! and the process's resident memory per stored object at each size (it should stay flat: memory
//! proportional to the objects held). Prints one line per size; the target is a full list of
//! 10,000 objects well under a second.

use std::time::{Duration, Instant};

use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::json;
use slipway_testcluster::{Gvr, TestCluster};

/// Resident set size of this process in bytes (Linux `/proc/self/statm`, pages of 4 KiB).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn crd() -> serde_json::Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.bench.slipway.dev"},
        "spec": {
            "group": "bench.slipway.dev", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "size": {"type": "string", "enum": ["small", "large"]},
                        "replicas": {"type": "integer", "default": 1}}},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]
        }
    })
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let cluster = TestCluster::start().await;
    let crds = Gvr::new("apiextensions.k8s.io", "v1", "customresourcedefinitions");
    cluster
        .cluster()
        .create(&crds, crd(), "bench")
        .expect("the CRD is accepted");
    let widgets = Gvr::new("bench.slipway.dev", "v1", "widgets");
    let resource =
        ApiResource::from_gvk(&GroupVersionKind::gvk("bench.slipway.dev", "v1", "Widget"));
    let api: Api<DynamicObject> = Api::namespaced_with(cluster.client(), "default", &resource);
    api.list(&ListParams::default())
        .await
        .expect("the empty list answers");
    let baseline = resident_bytes();

    let mut stored = 0;
    for size in [1_000usize, 5_000, 10_000] {
        // Objects go in through the cluster's own write path (validation, defaulting, managed
        // fields, watch history): the benchmark measures reads, not the client's create loop.
        for index in stored..size {
            let object = json!({
                "apiVersion": "bench.slipway.dev/v1", "kind": "Widget",
                "metadata": {"name": format!("w{index:05}"), "namespace": "default",
                             "labels": {"shard": (index % 10).to_string()}},
                "spec": {"size": "small"}
            });
            cluster
                .cluster()
                .create(&widgets, object, "bench")
                .expect("the widget is accepted");
        }
        stored = size;
        let mut samples = Vec::new();
        for _ in 0..7 {
            let started = Instant::now();
            let list = api
                .list(&ListParams::default())
                .await
                .expect("the list answers");
            samples.push(started.elapsed());
            assert_eq!(list.items.len(), size);
        }
        let selected = Instant::now();
        let shard = api
            .list(&ListParams::default().labels("shard=3"))
            .await
            .expect("the list answers");
        let selected = selected.elapsed();
        let per_object = resident_bytes().saturating_sub(baseline) / size as u64;
        println!(
            "objects={size:>6} list_median={:>8.1?} list_selector_shard(1/10)={:>8.1?} ({} items) rss_growth_per_object={per_object} B",
            median(samples),
            selected,
            shard.items.len(),
        );
    }
    cluster.shutdown().await;
}
