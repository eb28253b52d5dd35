//! Deletion through the real `kube::Client`: finalizers and `deletionTimestamp`, owner-reference
//! garbage collection (background, foreground, orphan) and namespace deletion.

mod common;

use std::time::Duration;

use common::{api_error, create_small, eventually, widget, widget_cluster, widgets};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::wait::await_condition;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

fn owned_map(name: &str, owner: &kube::api::DynamicObject, block: bool) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "ownerReferences": [{
            "apiVersion": "test.slipway.dev/v1", "kind": "Widget",
            "name": owner.metadata.name, "uid": owner.metadata.uid,
            "controller": true, "blockOwnerDeletion": block,
        }]},
    }))
    .unwrap()
}

#[tokio::test]
async fn finalizers_hold_an_object_until_they_are_removed() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let mut object = widget("demo", json!({"size": "small"}));
    object.metadata.finalizers = Some(vec!["slipway.dev/cleanup".into()]);
    let created = api.create(&PostParams::default(), &object).await.unwrap();
    let version = created.metadata.resource_version.clone().unwrap();
    let deleting = api
        .delete("demo", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .expect("the object while finalizers remain");
    assert!(deleting.metadata.deletion_timestamp.is_some());
    assert_eq!(
        deleting.metadata.generation,
        Some(2),
        "graceful deletion bumps generation"
    );
    let added = api
        .patch(
            "demo",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": ["slipway.dev/cleanup", "other"]}})),
        )
        .await
        .unwrap_err();
    let status = api_error(added);
    assert_eq!(status.code, 422);
    assert!(
        status
            .message
            .contains("no new finalizers can be added if the object is being deleted")
    );
    let mut stream = api
        .watch(&WatchParams::default(), &version)
        .await
        .unwrap()
        .boxed();
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    let mut kinds = Vec::new();
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            WatchEvent::Modified(_) => kinds.push("MODIFIED"),
            WatchEvent::Deleted(_) => {
                kinds.push("DELETED");
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(kinds, ["MODIFIED", "MODIFIED", "DELETED"]);
    assert_eq!(api_error(api.get("demo").await.unwrap_err()).code, 404);
}

#[tokio::test]
async fn background_deletion_collects_dependents() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let owner = create_small(&api, "owner").await;
    let maps: Api<ConfigMap> = Api::default_namespaced(cluster.client());
    for name in ["a", "b"] {
        maps.create(&PostParams::default(), &owned_map(name, &owner, false))
            .await
            .unwrap();
    }
    api.delete("owner", &DeleteParams::background())
        .await
        .unwrap();
    eventually(WAIT, "dependents collected", || async {
        maps.list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn foreground_deletion_removes_blocking_dependents_first() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let owner = create_small(&api, "owner").await;
    let maps: Api<ConfigMap> = Api::default_namespaced(cluster.client());
    let mut dependent = owned_map("held", &owner, true);
    dependent.metadata.finalizers = Some(vec!["test/hold".into()]);
    maps.create(&PostParams::default(), &dependent)
        .await
        .unwrap();
    let deleting = api
        .delete("owner", &DeleteParams::foreground())
        .await
        .unwrap()
        .left()
        .unwrap();
    assert_eq!(
        deleting.metadata.finalizers,
        Some(vec!["foregroundDeletion".to_string()])
    );
    eventually(WAIT, "dependent marked for deletion", || async {
        maps.get("held")
            .await
            .unwrap()
            .metadata
            .deletion_timestamp
            .map(|_| ())
    })
    .await;
    assert!(
        api.get("owner").await.is_ok(),
        "the owner waits for its blocking dependent"
    );
    maps.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    eventually(WAIT, "owner removed", || async {
        api.get("owner").await.is_err().then_some(())
    })
    .await;
}

#[tokio::test]
async fn orphan_deletion_keeps_dependents_without_the_owner_reference() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let owner = create_small(&api, "owner").await;
    let maps: Api<ConfigMap> = Api::default_namespaced(cluster.client());
    maps.create(&PostParams::default(), &owned_map("kept", &owner, false))
        .await
        .unwrap();
    api.delete("owner", &DeleteParams::orphan()).await.unwrap();
    eventually(WAIT, "owner removed", || async {
        api.get("owner").await.is_err().then_some(())
    })
    .await;
    let kept = maps.get("kept").await.unwrap();
    assert!(
        kept.metadata
            .owner_references
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn deleting_a_namespace_removes_its_objects() {
    let cluster = widget_cluster().await;
    let namespaces: Api<Namespace> = Api::all(cluster.client());
    let namespace: Namespace =
        serde_json::from_value(json!({"metadata": {"name": "doomed"}})).unwrap();
    namespaces
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap();
    let maps: Api<ConfigMap> = Api::namespaced(cluster.client(), "doomed");
    maps.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap(),
    )
    .await
    .unwrap();
    namespaces
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    let gone = await_condition(
        namespaces.clone(),
        "doomed",
        |object: Option<&Namespace>| object.is_none(),
    );
    tokio::time::timeout(WAIT, gone)
        .await
        .expect("namespace removed")
        .unwrap();
    assert_eq!(api_error(maps.get("x").await.unwrap_err()).code, 404);
    let status = api_error(
        maps.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "y"}})).unwrap(),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(status.message, "namespaces \"doomed\" not found");
}

#[tokio::test]
async fn delete_preconditions_are_checked() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    create_small(&api, "demo").await;
    let params = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            uid: Some("other".into()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    let status = api_error(api.delete("demo", &params).await.unwrap_err());
    assert_eq!(status.code, 409);
    assert!(
        status
            .message
            .contains("Precondition failed: UID in precondition: other, UID in object meta: ")
    );
}
