//! Lists through the real `kube::Client`: label and field selectors, `limit`/`continue`
//! pagination over consistent snapshots, and expired continue tokens.

mod common;

use common::{api_error, create_small, widget, widget_cluster, widgets};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

#[tokio::test]
async fn label_selectors_filter_lists() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    for (name, tier) in [("a", "web"), ("b", "db"), ("c", "cache")] {
        let mut object = widget(name, json!({"size": "small"}));
        object.metadata.labels = Some([("tier".to_string(), tier.to_string())].into());
        api.create(&PostParams::default(), &object).await.unwrap();
    }
    create_small(&api, "d").await;
    let names = |list: kube::api::ObjectList<kube::api::DynamicObject>| -> Vec<String> {
        list.items
            .into_iter()
            .filter_map(|item| item.metadata.name)
            .collect()
    };
    let cases = [
        ("tier=web", vec!["a"]),
        ("tier==db", vec!["b"]),
        ("tier!=web", vec!["b", "c", "d"]),
        ("tier in (web,cache)", vec!["a", "c"]),
        ("tier notin (web,cache)", vec!["b", "d"]),
        ("tier", vec!["a", "b", "c"]),
        ("!tier", vec!["d"]),
    ];
    for (selector, expected) in cases {
        let listed = names(
            api.list(&ListParams::default().labels(selector))
                .await
                .unwrap(),
        );
        assert_eq!(listed, expected, "selector {selector}");
    }
}

#[tokio::test]
async fn field_selectors_filter_lists_and_unknown_fields_are_refused() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    for name in ["a", "b"] {
        api.create(
            &PostParams::default(),
            &widget(name, json!({"size": "small"})),
        )
        .await
        .unwrap();
    }
    let listed = api
        .list(&ListParams::default().fields("metadata.name=b"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    let status = api_error(
        api.list(&ListParams::default().fields("spec.size=small"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (status.code, status.message.as_str()),
        (400, "field label not supported: spec.size")
    );
    let pods: Api<Pod> = Api::default_namespaced(cluster.client());
    for name in ["p1", "p2"] {
        let pod: Pod = serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}})).unwrap();
        pods.create(&PostParams::default(), &pod).await.unwrap();
    }
    pods.patch_status(
        "p2",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"phase": "Running"}})),
    )
    .await
    .unwrap();
    let running = pods
        .list(&ListParams::default().fields("status.phase=Running"))
        .await
        .unwrap();
    assert_eq!(running.items.len(), 1);
    assert_eq!(running.items[0].metadata.name.as_deref(), Some("p2"));
}

#[tokio::test]
async fn pagination_serves_a_consistent_snapshot() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    for index in 0..7 {
        api.create(
            &PostParams::default(),
            &widget(&format!("w{index}"), json!({"size": "small"})),
        )
        .await
        .unwrap();
    }
    let first = api.list(&ListParams::default().limit(3)).await.unwrap();
    assert_eq!(first.items.len(), 3);
    assert_eq!(first.metadata.remaining_item_count, Some(4));
    let token = first.metadata.continue_.clone().expect("continue token");
    // Changes after the first page do not show up in later pages.
    api.delete("w5", &DeleteParams::default()).await.unwrap();
    create_small(&api, "w9").await;
    let second = api
        .list(&ListParams::default().limit(3).continue_token(&token))
        .await
        .unwrap();
    let third = api
        .list(
            &ListParams::default()
                .limit(3)
                .continue_token(second.metadata.continue_.as_deref().unwrap()),
        )
        .await
        .unwrap();
    let names: Vec<String> = [first.items, second.items, third.items]
        .into_iter()
        .flatten()
        .filter_map(|item| item.metadata.name)
        .collect();
    assert_eq!(names, ["w0", "w1", "w2", "w3", "w4", "w5", "w6"]);
    assert!(third.metadata.continue_.is_none());
    assert_eq!(
        third.metadata.resource_version,
        first.metadata.resource_version
    );
    cluster.cluster().compact_history();
    let status = api_error(
        api.list(&ListParams::default().limit(3).continue_token(&token))
            .await
            .unwrap_err(),
    );
    assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
    assert!(
        status
            .message
            .starts_with("The provided continue parameter is too old")
    );
}
