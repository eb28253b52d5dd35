//! Pipelines and runs for the tests that drive them from outside the controller (the
//! `kubectl slipway` pipeline commands): Pipeline `web` with three stages, runs whose status the
//! test writes as the controller would, and a way to change an object while the plugin holds a
//! write to it.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use slipway::api::pipeline::Pipeline;
use slipway::api::{PipelineExecution, PipelineExecutionSpec, PipelineSpec};
use slipway_testcluster::{Fault, TestCluster};

use super::plugin::wait_for_request;

/// The namespace the tests work in.
pub const NAMESPACE: &str = "default";

/// Pipeline `web`'s spec: stages Build (a build), Approve (approval `Release`, then job
/// `Notify`) and Deploy (a deploy); variables `LOG_LEVEL` and `REGION`.
pub fn pipeline_spec() -> Value {
    json!({
        "source": {"git": {"url": "https://git.example.com/shop/web.git", "branch": "main"}},
        "variables": [{"name": "LOG_LEVEL", "default": "info"}, {"name": "REGION"}],
        "stages": [
            {"name": "Build", "actions": [
                {"name": "Image", "build": {"environment": {"image": "golang:1.23"}}}]},
            {"name": "Approve", "actions": [
                {"name": "Release", "approval": {"summary": "Ship it?"}},
                {"name": "Notify", "runOrder": 2, "job": {"template": {"template": {}}}}]},
            {"name": "Deploy", "actions": [
                {"name": "Web", "deploy": {
                    "target": {"service": "web", "workload": "web"},
                    "revision": {"images": [{"container": "web", "image": "shop/web:2"}]}}}]}
        ]
    })
}

/// The Pipelines of [`NAMESPACE`].
pub fn pipelines(cluster: &TestCluster) -> Api<Pipeline> {
    Api::namespaced(cluster.client(), NAMESPACE)
}

/// The PipelineExecutions of [`NAMESPACE`].
pub fn executions(cluster: &TestCluster) -> Api<PipelineExecution> {
    Api::namespaced(cluster.client(), NAMESPACE)
}

/// Creates Pipeline `web` with `spec`.
pub async fn create_pipeline(cluster: &TestCluster, spec: Value) -> Pipeline {
    let spec: PipelineSpec = serde_json::from_value(spec).expect("a valid pipeline spec");
    pipelines(cluster)
        .create(&PostParams::default(), &Pipeline::new("web", spec))
        .await
        .expect("the Pipeline is created")
}

/// Creates run `name` of Pipeline `web`, and writes `status` as the controller would have.
pub async fn create_run(cluster: &TestCluster, name: &str, status: Value) {
    let spec: PipelineExecutionSpec =
        serde_json::from_value(json!({"pipelineRef": {"name": "web"}})).unwrap();
    executions(cluster)
        .create(&PostParams::default(), &PipelineExecution::new(name, spec))
        .await
        .expect("the run is created");
    set_status(cluster, name, status).await;
}

/// Writes run `name`'s status through the status subresource.
pub async fn set_status(cluster: &TestCluster, name: &str, status: Value) {
    executions(cluster)
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": status })),
        )
        .await
        .expect("the status is written");
}

/// Run `name`'s `spec.control` as JSON.
pub async fn control(cluster: &TestCluster, name: &str) -> Value {
    let run = executions(cluster).get(name).await.expect("the run exists");
    serde_json::to_value(&run.spec.control).unwrap()
}

/// A run in stage Approve, attempt `attempt`, whose approval `Release` waits; its snapshot is
/// [`pipeline_spec`].
pub fn waiting_for_approval(attempt: i32) -> Value {
    json!({
        "phase": "InProgress", "currentStage": "Approve", "pipelineSpec": pipeline_spec(),
        "stages": [
            {"name": "Build", "status": "Succeeded", "attempt": 1},
            {"name": "Approve", "status": "InProgress", "attempt": attempt, "actions": [
                {"name": "Release", "status": "InProgress", "attempt": attempt}]}
        ]
    })
}

/// The field managers of an object's `managedFields`.
pub fn managers(managed: Option<&Vec<ManagedFieldsEntry>>) -> Vec<String> {
    managed
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.manager.clone())
        .collect()
}

/// Delays the plugin's next patch of `resource` so the test can change the object in between.
pub fn hold_next_patch(cluster: &TestCluster, resource: &str) {
    cluster.faults().inject(
        Fault::delay(Duration::from_secs(3))
            .verb("patch")
            .resource(resource)
            .times(1),
    );
}

/// Waits until the plugin has read `name`, then changes its labels (an update, not a patch,
/// so the held patch stays the plugin's).
pub async fn change_after_the_read<K>(
    cluster: &TestCluster,
    api: &Api<K>,
    resource: &str,
    name: &str,
) where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let wanted = name.to_owned();
    let what = resource.to_owned();
    wait_for_request(
        cluster,
        &format!("the plugin's read of {resource}/{name}"),
        move |record| {
            record.verb == "get"
                && record.resource == what
                && record.name.as_deref() == Some(&wanted)
        },
    )
    .await;
    let mut object = api.get(name).await.unwrap();
    object
        .meta_mut()
        .labels
        .get_or_insert_default()
        .insert("touched".into(), "yes".into());
    api.replace(name, &PostParams::default(), &object)
        .await
        .unwrap();
}
