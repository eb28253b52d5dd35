//! Resources through the real `kube::Client`: typed built-ins, namespaces, scale
//! subresources, CRD registration and discovery, the repository's CRDs and samples, and the
//! internal API the simulators use.

mod common;

use common::{api_error, create_small, widget_cluster, widgets};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

#[tokio::test]
async fn namespaced_creates_need_an_existing_namespace() {
    let cluster = widget_cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(cluster.client(), "missing");
    let status = api_error(
        api.create(
            &PostParams::default(),
            &ConfigMap {
                metadata: kube::api::ObjectMeta {
                    name: Some("x".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        (status.code, status.message.as_str()),
        (404, "namespaces \"missing\" not found")
    );
    let system: Api<ConfigMap> = Api::namespaced(cluster.client(), "kube-system");
    system
        .create(
            &PostParams::default(),
            &ConfigMap {
                metadata: kube::api::ObjectMeta {
                    name: Some("x".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn typed_builtin_objects_round_trip() {
    let cluster = widget_cluster().await;
    let configmaps: Api<ConfigMap> = Api::default_namespaced(cluster.client());
    let map = ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some("settings".into()),
            ..Default::default()
        },
        data: Some([("a".to_string(), "1".to_string())].into()),
        ..Default::default()
    };
    configmaps
        .create(&PostParams::default(), &map)
        .await
        .unwrap();
    let read = configmaps.get("settings").await.unwrap();
    assert_eq!(read.data.unwrap()["a"], "1");
    assert!(
        read.metadata.generation.is_none(),
        "configmaps have no generation"
    );
    let status = api_error(
        configmaps
            .create(
                &PostParams::default(),
                &ConfigMap {
                    metadata: kube::api::ObjectMeta {
                        name: Some("Bad_Name".into()),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(status.code, 422);
    assert!(status.message.starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"));
}

#[tokio::test]
async fn scale_subresources_read_and_write_replicas() {
    use k8s_openapi::api::apps::v1::Deployment;
    let cluster = widget_cluster().await;
    let deployments: Api<Deployment> = Api::default_namespaced(cluster.client());
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}
    }))
    .unwrap();
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap();
    let scale = deployments.get_scale("web").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(2));
    assert_eq!(scale.status.unwrap().selector.as_deref(), Some("app=web"));
    deployments
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
    let read = deployments.get("web").await.unwrap();
    assert_eq!(read.spec.unwrap().replicas, Some(5));
    assert_eq!(read.metadata.generation, Some(2));
    let api = widgets(&cluster);
    create_small(&api, "demo").await;
    api.patch_scale(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 3}})),
    )
    .await
    .unwrap();
    assert_eq!(api.get("demo").await.unwrap().data["spec"]["replicas"], 3);
}

#[tokio::test]
async fn crds_register_and_unregister_their_resources() {
    let cluster = widget_cluster().await;
    let client = cluster.client();
    let discovery = kube::Discovery::new(client.clone()).run().await.unwrap();
    let (resource, capabilities) = discovery
        .groups()
        .flat_map(|group| group.recommended_resources())
        .find(|(resource, _)| resource.plural == "widgets")
        .expect("widgets discovered");
    assert_eq!(resource.kind, "Widget");
    assert!(
        capabilities
            .subresources
            .iter()
            .any(|(sub, _)| sub.plural == "status")
    );
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    let crd = crds.get("widgets.test.slipway.dev").await.unwrap();
    let conditions = crd.status.unwrap().conditions.unwrap();
    assert!(
        conditions
            .iter()
            .any(|condition| condition.type_ == "Established" && condition.status == "True")
    );
    let api = widgets(&cluster);
    create_small(&api, "demo").await;
    crds.delete("widgets.test.slipway.dev", &DeleteParams::default())
        .await
        .unwrap();
    let status = api_error(api.get("demo").await.unwrap_err());
    assert_eq!(status.code, 404);
    assert_eq!(
        status.message,
        "the server could not find the requested resource"
    );
    assert!(
        cluster
            .cluster()
            .list(
                &slipway_testcluster::Gvr::new("test.slipway.dev", "v1", "widgets"),
                None
            )
            .is_empty()
    );
}

#[tokio::test]
async fn the_repositorys_crds_and_samples_are_accepted() {
    let cluster = slipway_testcluster::TestCluster::start().await;
    let names = cluster
        .apply_crds_from(common::repo().join("crds"))
        .unwrap();
    assert_eq!(names.len(), 4);
    cluster.install_httproute_crd();
    let client = cluster.client();
    for entry in std::fs::read_dir(common::repo().join("config/samples")).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .is_some_and(|name| name == "kustomization.yaml")
        {
            continue;
        }
        let object = common::yaml_file(&path);
        let api_version = object["apiVersion"].as_str().unwrap();
        let (group, version) = api_version.split_once('/').unwrap();
        let kind = object["kind"].as_str().unwrap();
        let discovered = kube::discovery::pinned_kind(
            &client,
            &kube::api::GroupVersionKind::gvk(group, version, kind),
        )
        .await
        .unwrap();
        let api: Api<kube::api::DynamicObject> =
            Api::namespaced_with(client.clone(), "default", &discovered.0);
        let object: kube::api::DynamicObject = serde_json::from_value(object).unwrap();
        api.create(&PostParams::default(), &object)
            .await
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    }
}

#[tokio::test]
async fn the_internal_api_takes_the_same_write_path() {
    let cluster = widget_cluster().await;
    let handle = cluster.cluster().clone();
    let gvr = slipway_testcluster::Gvr::new("test.slipway.dev", "v1", "widgets");
    let mut events = handle.subscribe();
    let object = json!({"apiVersion": "test.slipway.dev/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "default"}, "spec": {"size": "small"}});
    let created = handle.create(&gvr, object, "simulator").unwrap();
    assert_eq!(created["spec"]["replicas"], 1, "defaulted");
    let event = events.recv().await.unwrap();
    assert_eq!(
        (event.kind, event.gvr.resource.as_str()),
        (slipway_testcluster::EventKind::Added, "widgets")
    );
    let mut with_status = created.clone();
    with_status["status"] = json!({"phase": "Ready"});
    let updated = handle
        .update_status(&gvr, with_status, "simulator")
        .unwrap();
    assert_eq!(updated["status"]["phase"], "Ready");
    let stale = handle.update(&gvr, created, "simulator").unwrap_err();
    assert_eq!(stale.code, 409);
    let invalid = handle
        .create(&gvr, json!({"apiVersion": "test.slipway.dev/v1", "kind": "Widget", "metadata": {"name": "x", "namespace": "default"}, "spec": {}}), "simulator")
        .unwrap_err();
    assert_eq!(invalid.code, 422);
    handle.delete(&gvr, Some("default"), "w").unwrap();
    assert!(handle.get(&gvr, Some("default"), "w").is_none());
    let read_back = widgets(&cluster)
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(read_back.items.is_empty());
}
