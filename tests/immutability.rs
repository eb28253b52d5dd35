//! Transition rules: what a user may change on an object that exists, checked like the API server
//! does on update (CEL rules with `oldSelf`).

use serde_json::{Value, json};
use slipway::api::crd;
use slipway_testcluster::schema::CrdSchema;

fn schema(kind: &str) -> CrdSchema {
    let crd = crd::all()
        .into_iter()
        .find(|crd| crd.spec.names.kind == kind)
        .expect("kind exists");
    CrdSchema::from_crd(&serde_json::to_value(&crd).unwrap(), "v1alpha1").expect("schema compiles")
}

/// Validates `new` as an update of `old`, after defaulting both as the API server would.
fn update(kind: &str, old: &Value, new: &Value) -> Result<(), String> {
    let schema = schema(kind);
    let (mut old, mut new) = (old.clone(), new.clone());
    schema.default_object(&mut old);
    schema.default_object(&mut new);
    schema
        .validate(&old, None)
        .map_err(|errors| format!("old object invalid: {errors}"))?;
    schema
        .validate(&new, Some(&old))
        .map_err(|errors| errors.to_string())
}

fn build_run() -> Value {
    json!({
        "apiVersion": "slipway.dev/v1alpha1", "kind": "BuildRun", "metadata": {"name": "b1"},
        "spec": {
            "source": {"git": {"url": "https://git.example.com/team/app.git", "revision": "main"}},
            "environment": {"image": "alpine:3.20"}
        }
    })
}

#[test]
fn a_build_run_may_be_stopped() {
    let old = build_run();
    let mut new = old.clone();
    new["spec"]["stop"] = json!({"reason": "wrong branch"});
    update("BuildRun", &old, &new).expect("stop is allowed");
}

#[test]
fn a_build_run_source_cannot_change() {
    let old = build_run();
    let mut new = old.clone();
    new["spec"]["source"]["git"]["revision"] = json!("release");
    let error = update("BuildRun", &old, &new).expect_err("revision change refused");
    assert!(error.contains("immutable except spec.stop"), "{error}");
}

#[test]
fn a_build_run_cannot_gain_image_outputs_later() {
    let old = build_run();
    let mut new = old.clone();
    new["spec"]["images"] = json!([{"repository": "registry.example.com/team/app"}]);
    let error = update("BuildRun", &old, &new).expect_err("new outputs refused");
    assert!(error.contains("immutable except spec.stop"), "{error}");
}

#[test]
fn a_stop_request_cannot_be_withdrawn() {
    let mut old = build_run();
    old["spec"]["stop"] = json!({});
    let mut new = old.clone();
    new["spec"].as_object_mut().unwrap().remove("stop");
    let error = update("BuildRun", &old, &new).expect_err("withdrawing stop refused");
    assert!(error.contains("spec.stop cannot be removed"), "{error}");
}

fn deployment() -> Value {
    json!({
        "apiVersion": "slipway.dev/v1alpha1", "kind": "Deployment", "metadata": {"name": "d1"},
        "spec": {
            "target": {"service": "web", "workload": "web"},
            "revision": {"images": [{"container": "web", "image": "registry.example.com/web@sha256:1111"}]},
            "strategy": {"configName": "CodeDeployDefault.ECSCanary10Percent5Minutes"}
        }
    })
}

#[test]
fn a_rollout_may_be_promoted_and_stopped() {
    let old = deployment();
    let mut new = old.clone();
    new["spec"]["control"] = json!({"promote": {"full": true}, "stop": {"reason": "bad metrics"}});
    update("Deployment", &old, &new).expect("control requests are allowed");
}

#[test]
fn a_rollout_stop_cannot_be_changed_or_withdrawn() {
    let mut old = deployment();
    old["spec"]["control"] = json!({"stop": {"rollback": true, "reason": "bad metrics"}});
    let mut promoted = old.clone();
    promoted["spec"]["control"]["promote"] = json!({"full": true});
    update("Deployment", &old, &promoted).expect("a promote beside a stop is allowed");
    let mut flipped = old.clone();
    flipped["spec"]["control"]["stop"]["rollback"] = json!(false);
    let mut withdrawn = old.clone();
    withdrawn["spec"]["control"]
        .as_object_mut()
        .unwrap()
        .remove("stop");
    let mut no_control = old.clone();
    no_control["spec"]
        .as_object_mut()
        .unwrap()
        .remove("control");
    for new in [flipped, withdrawn, no_control] {
        let error = update("Deployment", &old, &new).expect_err("changing a stop is refused");
        assert!(
            error.contains("spec.control.stop cannot be changed or withdrawn once set"),
            "{error}"
        );
    }
}

#[test]
fn a_rollout_revision_cannot_change() {
    let old = deployment();
    let mut new = old.clone();
    new["spec"]["revision"]["images"][0]["image"] = json!("registry.example.com/web@sha256:2222");
    let error = update("Deployment", &old, &new).expect_err("revision change refused");
    assert!(
        error.contains("spec.target and spec.revision are immutable"),
        "{error}"
    );
}

fn execution() -> Value {
    json!({
        "apiVersion": "slipway.dev/v1alpha1", "kind": "PipelineExecution", "metadata": {"name": "e1"},
        "spec": {"pipelineRef": {"name": "web"}}
    })
}

#[test]
fn an_execution_may_receive_approvals_retries_and_stop() {
    let old = execution();
    let mut new = old.clone();
    new["spec"]["control"] = json!({
        "approvals": [{"stage": "Approve", "action": "Manager", "result": "Approved"}],
        "retries": [{"stage": "Deploy", "mode": "AllActions"}],
        "stop": {"abandon": true}
    });
    update("PipelineExecution", &old, &new).expect("control requests are allowed");
}

#[test]
fn an_execution_cannot_move_to_another_pipeline() {
    let old = execution();
    let mut new = old.clone();
    new["spec"]["pipelineRef"]["name"] = json!("other");
    let error = update("PipelineExecution", &old, &new).expect_err("pipelineRef change refused");
    assert!(error.contains("spec.pipelineRef is immutable"), "{error}");
}

#[test]
fn an_execution_source_may_be_resolved_once_but_not_changed() {
    let old = execution();
    let mut resolved = old.clone();
    resolved["spec"]["source"] = json!({"commitId": "0123456789abcdef0123456789abcdef01234567"});
    update("PipelineExecution", &old, &resolved).expect("setting the source once is allowed");
    let mut changed = resolved.clone();
    changed["spec"]["source"]["commitId"] = json!("fedcba9876543210fedcba9876543210fedcba98");
    let error =
        update("PipelineExecution", &resolved, &changed).expect_err("changing it is refused");
    assert!(
        error.contains("spec.source is immutable once set"),
        "{error}"
    );
}
