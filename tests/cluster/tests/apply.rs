//! Server-side apply, strategic merge patch and managedFields through the real `kube::Client`.

mod common;

use common::{api_error, widget_cluster, widgets};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

fn applied(replicas: Option<i64>, color: Option<&str>) -> serde_json::Value {
    let mut spec = json!({"size": "small"});
    if let Some(replicas) = replicas {
        spec["replicas"] = json!(replicas);
    }
    if let Some(color) = color {
        spec["color"] = json!(color);
    }
    json!({"apiVersion": "test.slipway.dev/v1", "kind": "Widget", "metadata": {"name": "demo"}, "spec": spec})
}

#[tokio::test]
async fn server_side_apply_creates_updates_and_removes_fields() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let params = PatchParams::apply("alice");
    let created = api
        .patch(
            "demo",
            &params,
            &Patch::Apply(applied(Some(2), Some("red"))),
        )
        .await
        .unwrap();
    assert_eq!(created.data["spec"]["replicas"], 2);
    assert_eq!(created.metadata.generation, Some(1));
    let managers: Vec<_> = created
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .map(|entry| (entry.manager.unwrap(), entry.operation.unwrap()))
        .collect();
    assert_eq!(managers, [("alice".to_string(), "Apply".to_string())]);
    let updated = api
        .patch(
            "demo",
            &params,
            &Patch::Apply(applied(Some(3), Some("red"))),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            updated.data["spec"]["replicas"].clone(),
            updated.metadata.generation
        ),
        (json!(3), Some(2))
    );
    // alice stops applying color: it is removed, then defaulted again by the schema.
    let removed = api
        .patch("demo", &params, &Patch::Apply(applied(Some(3), None)))
        .await
        .unwrap();
    assert_eq!(removed.data["spec"]["color"], "blue");
}

#[tokio::test]
async fn server_side_apply_conflicts_unless_forced() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    api.patch(
        "demo",
        &PatchParams::apply("alice"),
        &Patch::Apply(applied(Some(2), None)),
    )
    .await
    .unwrap();
    let status = api_error(
        api.patch(
            "demo",
            &PatchParams::apply("bob"),
            &Patch::Apply(applied(Some(5), None)),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"alice\": .spec.replicas"
    );
    let forced = api
        .patch(
            "demo",
            &PatchParams::apply("bob").force(),
            &Patch::Apply(applied(Some(5), None)),
        )
        .await
        .unwrap();
    assert_eq!(forced.data["spec"]["replicas"], 5);
}

#[tokio::test]
async fn apply_needs_a_field_manager() {
    let cluster = widget_cluster().await;
    let client = cluster.client();
    let request = axum::http::Request::builder()
        .method("PATCH")
        .uri("/apis/test.slipway.dev/v1/namespaces/default/widgets/demo")
        .header("content-type", "application/apply-patch+yaml")
        .body(serde_json::to_vec(&applied(None, None)).unwrap())
        .unwrap();
    let error = client.request_text(request).await.unwrap_err();
    assert_eq!(api_error(error).code, 422);
}

#[tokio::test]
async fn updates_record_their_manager_in_managed_fields() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let params = PostParams {
        field_manager: Some("creator".into()),
        ..PostParams::default()
    };
    api.create(&params, &common::widget("demo", json!({"size": "small"})))
        .await
        .unwrap();
    let patched = api
        .patch(
            "demo",
            &PatchParams {
                field_manager: Some("scaler".into()),
                ..PatchParams::default()
            },
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .unwrap();
    let managers: Vec<String> = patched
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .filter_map(|entry| entry.manager)
        .collect();
    assert!(
        managers.contains(&"creator".to_string()) && managers.contains(&"scaler".to_string()),
        "{managers:?}"
    );
}

#[tokio::test]
async fn strategic_merge_patch_merges_containers_by_name() {
    let cluster = widget_cluster().await;
    let deployments: Api<Deployment> = Api::default_namespaced(cluster.client());
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1"}, {"name": "sidecar", "image": "envoy:1"}]}}}
    }))
    .unwrap();
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap();
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}});
    let patched = deployments
        .patch("web", &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .unwrap();
    let containers = patched.spec.unwrap().template.spec.unwrap().containers;
    let images: Vec<_> = containers
        .iter()
        .map(|container| (container.name.as_str(), container.image.as_deref().unwrap()))
        .collect();
    assert_eq!(images, [("web", "nginx:2"), ("sidecar", "envoy:1")]);
    assert_eq!(patched.metadata.generation, Some(2));
}
