//! API semantics through the real `kube::Client`: CRUD, conflicts, generation, status split,
//! patches, validation and defaulting, unknown fields, generateName and dry runs.

mod common;

use common::{api_error, create_small, widget, widget_cluster, widgets};
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, ValidationDirective,
};
use serde_json::{Value, json};

#[tokio::test]
async fn objects_round_trip_through_create_get_list_replace_and_delete() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let created = create_small(&api, "demo").await;
    let metadata = &created.metadata;
    assert!(metadata.uid.is_some() && metadata.creation_timestamp.is_some());
    assert_eq!(metadata.generation, Some(1));
    let fetched = api.get("demo").await.unwrap();
    assert_eq!(fetched.metadata.resource_version, metadata.resource_version);
    let list = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert!(list.metadata.resource_version.is_some());
    let mut changed = fetched.clone();
    changed.data["spec"]["size"] = json!("large");
    let replaced = api
        .replace("demo", &PostParams::default(), &changed)
        .await
        .unwrap();
    assert_eq!(replaced.data["spec"]["size"], "large");
    let before: u64 = metadata
        .resource_version
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    let after: u64 = replaced
        .metadata
        .resource_version
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert!(after > before, "resourceVersion grows");
    api.delete("demo", &DeleteParams::default()).await.unwrap();
    let status = api_error(api.get("demo").await.unwrap_err());
    assert_eq!((status.code, status.reason.as_str()), (404, "NotFound"));
    assert_eq!(
        status.message,
        "widgets.test.slipway.dev \"demo\" not found"
    );
}

#[tokio::test]
async fn stale_updates_and_duplicate_creates_are_conflicts() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let created = create_small(&api, "demo").await;
    let mut first = created.clone();
    first.data["spec"]["replicas"] = json!(2);
    api.replace("demo", &PostParams::default(), &first)
        .await
        .unwrap();
    let mut stale = created.clone();
    stale.data["spec"]["replicas"] = json!(3);
    let status = api_error(
        api.replace("demo", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        status.message,
        "Operation cannot be fulfilled on widgets.test.slipway.dev \"demo\": the object has been modified; please apply your changes to the latest version and try again"
    );
    let status = api_error(
        api.create(
            &PostParams::default(),
            &widget("demo", json!({"size": "small"})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        (status.code, status.reason.as_str()),
        (409, "AlreadyExists")
    );
    assert_eq!(
        status.message,
        "widgets.test.slipway.dev \"demo\" already exists"
    );
}

#[tokio::test]
async fn generation_moves_only_when_the_spec_changes() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    create_small(&api, "demo").await;
    let patch = |value: Value| Patch::Merge(value);
    let labelled = api
        .patch(
            "demo",
            &PatchParams::default(),
            &patch(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap();
    assert_eq!(labelled.metadata.generation, Some(1));
    let status = api
        .patch_status(
            "demo",
            &PatchParams::default(),
            &patch(json!({"status": {"phase": "Running"}})),
        )
        .await
        .unwrap();
    assert_eq!(status.metadata.generation, Some(1));
    let spec = api
        .patch(
            "demo",
            &PatchParams::default(),
            &patch(json!({"spec": {"replicas": 2}})),
        )
        .await
        .unwrap();
    assert_eq!(spec.metadata.generation, Some(2));
    // A write that changes nothing is not a write: same resourceVersion.
    let same = api
        .patch(
            "demo",
            &PatchParams::default(),
            &patch(json!({"spec": {"replicas": 2}})),
        )
        .await
        .unwrap();
    assert_eq!(
        same.metadata.resource_version,
        spec.metadata.resource_version
    );
}

#[tokio::test]
async fn status_is_a_separate_subresource_both_ways() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let mut object = widget("demo", json!({"size": "small"}));
    object.data["status"] = json!({"phase": "Ignored"});
    let created = api.create(&PostParams::default(), &object).await.unwrap();
    assert!(
        created.data.get("status").is_none(),
        "status is dropped on create"
    );
    let main = api
        .patch(
            "demo",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 2}, "status": {"phase": "Main"}})),
        )
        .await
        .unwrap();
    assert!(
        main.data.get("status").is_none(),
        "main resource writes ignore status"
    );
    assert_eq!(main.data["spec"]["replicas"], 2);
    let status = api
        .patch_status(
            "demo",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}, "metadata": {"labels": {"x": "y"}}, "status": {"phase": "Running"}})),
        )
        .await
        .unwrap();
    assert_eq!(status.data["status"]["phase"], "Running");
    assert_eq!(
        status.data["spec"]["replicas"], 2,
        "status writes ignore spec"
    );
    assert!(
        status.metadata.labels.is_none(),
        "status writes ignore labels"
    );
}

#[tokio::test]
async fn without_a_status_subresource_status_is_part_of_the_object() {
    let cluster = widget_cluster().await;
    let resource = kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("test.slipway.dev", "v1", "Gadget"),
        "gadgets",
    );
    let api: Api<kube::api::DynamicObject> = Api::all_with(cluster.client(), &resource);
    let gadget = serde_json::from_value(json!({"apiVersion": "test.slipway.dev/v1", "kind": "Gadget", "metadata": {"name": "g"}, "status": {"on": true}})).unwrap();
    let created = api.create(&PostParams::default(), &gadget).await.unwrap();
    assert_eq!(created.data["status"]["on"], true);
    let patched = api
        .patch(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"on": false}})),
        )
        .await
        .unwrap();
    assert_eq!(
        patched.metadata.generation,
        Some(2),
        "every non-metadata change counts"
    );
    let status = api_error(api.get_status("g").await.unwrap_err());
    assert_eq!(status.code, 404);
}

#[tokio::test]
async fn merge_and_json_patches_apply_and_report_failures() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    api.create(
        &PostParams::default(),
        &widget("demo", json!({"size": "small", "tags": ["a"]})),
    )
    .await
    .unwrap();
    let merged = api
        .patch(
            "demo",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"color": null, "replicas": 2}})),
        )
        .await
        .unwrap();
    assert_eq!(merged.data["spec"]["replicas"], 2);
    assert_eq!(
        merged.data["spec"]["color"], "blue",
        "removed defaulted fields come back defaulted"
    );
    let operations: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/spec/size", "value": "small"},
        {"op": "add", "path": "/spec/tags/-", "value": "b"}
    ]))
    .unwrap();
    let patched = api
        .patch(
            "demo",
            &PatchParams::default(),
            &Patch::Json::<()>(operations),
        )
        .await
        .unwrap();
    assert_eq!(patched.data["spec"]["tags"], json!(["a", "b"]));
    let failing: json_patch::Patch =
        serde_json::from_value(json!([{"op": "test", "path": "/spec/size", "value": "large"}]))
            .unwrap();
    let status = api_error(
        api.patch("demo", &PatchParams::default(), &Patch::Json::<()>(failing))
            .await
            .unwrap_err(),
    );
    assert_eq!(status.code, 422);
}

#[tokio::test]
async fn strategic_merge_patch_is_refused_for_custom_resources() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    create_small(&api, "demo").await;
    let status = api_error(
        api.patch(
            "demo",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"replicas": 2}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        (status.code, status.reason.as_str()),
        (415, "UnsupportedMediaType")
    );
}

#[tokio::test]
async fn protobuf_bodies_of_kinds_without_a_decoder_answer_415_naming_the_kind() {
    let cluster = widget_cluster().await;
    // magic, then runtime.Unknown { typeMeta: {apiVersion: v1, kind: Pod}, raw: {metadata: {name: p}} }
    let mut body = b"k8s\0".to_vec();
    body.extend([
        0x0a, 0x09, 0x0a, 0x02, b'v', b'1', 0x12, 0x03, b'P', b'o', b'd',
    ]);
    body.extend([0x12, 0x05, 0x0a, 0x03, 0x0a, 0x01, b'p']);
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/namespaces/default/pods")
        .header("content-type", "application/vnd.kubernetes.protobuf")
        .body(body)
        .unwrap();
    let status = api_error(cluster.client().request_text(request).await.unwrap_err());
    assert_eq!(
        (status.code, status.reason.as_str()),
        (415, "UnsupportedMediaType")
    );
    assert_eq!(
        status.message,
        "the protobuf request body could not be decoded: the test cluster has no protobuf decoder for v1 Pod; send the Pod object as JSON instead, e.g. with kubectl apply -f <file>"
    );
}

#[tokio::test]
async fn schema_violations_are_422_with_the_field_named() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let status = api_error(
        api.create(
            &PostParams::default(),
            &widget("bad", json!({"size": "huge"})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        status.message,
        "Widget.test.slipway.dev \"bad\" is invalid: [spec.size: Unsupported value: \"huge\": supported values: \"small\", \"large\", <nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]"
    );
    let details = status.details.expect("details");
    assert_eq!(details.causes[0].field, "spec.size");
    assert_eq!(details.causes[0].reason, "FieldValueNotSupported");
    let status = api_error(
        api.create(
            &PostParams::default(),
            &widget("big", json!({"size": "large", "replicas": 5})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        status.message,
        "Widget.test.slipway.dev \"big\" is invalid: spec: Invalid value: \"object\": large widgets run at most 3 replicas"
    );
}

#[tokio::test]
async fn schema_defaults_are_visible_on_read_back() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    create_small(&api, "demo").await;
    let read = api.get("demo").await.unwrap();
    assert_eq!(read.data["spec"]["replicas"], 1);
    assert_eq!(read.data["spec"]["color"], "blue");
}

#[tokio::test]
async fn unknown_fields_are_refused_when_strict_and_pruned_otherwise() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    api.create(
        &PostParams::default(),
        &widget("demo", json!({"size": "small", "bogus": 1})),
    )
    .await
    .unwrap();
    assert!(
        api.get("demo").await.unwrap().data["spec"]
            .get("bogus")
            .is_none(),
        "pruned"
    );
    let strict = PatchParams {
        field_validation: Some(ValidationDirective::Strict),
        ..PatchParams::default()
    };
    let status = api_error(
        api.patch(
            "demo",
            &strict,
            &Patch::Merge(json!({"spec": {"bogus": 1}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(status.code, 400);
    assert_eq!(
        status.message,
        "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: unknown field \"spec.bogus\""
    );
}

#[tokio::test]
async fn generate_name_and_dry_run_behave_like_the_apiserver() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let mut object = widget("", json!({"size": "small"}));
    object.metadata.name = None;
    object.metadata.generate_name = Some("auto-".into());
    let first = api.create(&PostParams::default(), &object).await.unwrap();
    let second = api.create(&PostParams::default(), &object).await.unwrap();
    let (first, second) = (first.metadata.name.unwrap(), second.metadata.name.unwrap());
    assert!(first.starts_with("auto-") && first.len() == 10 && first != second);
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let created = api
        .create(&dry, &widget("ghost", json!({"size": "small"})))
        .await
        .unwrap();
    assert_eq!(
        created.data["spec"]["color"], "blue",
        "a dry run still defaults"
    );
    assert_eq!(api_error(api.get("ghost").await.unwrap_err()).code, 404);
}
