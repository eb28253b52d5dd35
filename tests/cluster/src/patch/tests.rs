//! Behaviour tests of server-side apply and update bookkeeping, through the public functions.

use serde_json::{Value, json};

use super::*;

const T0: &str = "2026-11-26T02:53:00Z";
const T1: &str = "2026-11-26T02:54:00Z";
const T2: &str = "2026-11-26T02:55:00Z";

fn deployment_rules() -> MergeRules {
    MergeRules::builtin("apps", "v1", "Deployment")
}

fn request<'a>(manager: &'a str, now: &'a str) -> ApplyRequest<'a> {
    ApplyRequest {
        manager,
        force: false,
        api_version: "apps/v1",
        subresource: None,
        now,
    }
}

fn apply(
    live: Option<&Value>,
    applied: Value,
    request: &ApplyRequest<'_>,
    rules: &MergeRules,
) -> Value {
    server_side_apply(live, &applied, request, rules)
        .unwrap_or_else(|e| panic!("apply by {} failed: {e}", request.manager))
}

fn deployment(spec: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"}, "spec": spec})
}

fn entry<'a>(object: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    object["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
}

fn fields(object: &Value, manager: &str, operation: &str) -> Value {
    entry(object, manager, operation)
        .map(|e| e["fieldsV1"].clone())
        .unwrap_or(Value::Null)
}

fn without_managed_fields(object: &Value) -> Value {
    let mut object = object.clone();
    object["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    object
}

fn updated(
    old: &Value,
    change: impl FnOnce(&mut Value),
    manager: &str,
    now: &str,
    rules: &MergeRules,
) -> Value {
    let mut new = old.clone();
    change(&mut new);
    record_update(Some(old), &mut new, manager, "apps/v1", None, now, rules);
    new
}

#[test]
fn apply_on_a_missing_object_creates_it_with_an_apply_entry() {
    let rules = deployment_rules();
    let applied = deployment(json!({"replicas": 2, "template": {"spec": {"containers": [
        {"name": "web", "image": "nginx"}]}}}));
    let created = apply(None, applied.clone(), &request("slipway", T0), &rules);
    assert_eq!(without_managed_fields(&created), applied);
    assert_eq!(
        created["metadata"]["managedFields"],
        json!([{
            "manager": "slipway", "operation": "Apply", "apiVersion": "apps/v1", "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}}
        }])
    );
}

#[test]
fn reapplying_the_same_configuration_changes_nothing() {
    let rules = deployment_rules();
    let applied = deployment(json!({"replicas": 2, "paused": false}));
    let first = apply(None, applied.clone(), &request("slipway", T0), &rules);
    let second = apply(Some(&first), applied, &request("slipway", T1), &rules);
    assert_eq!(
        second, first,
        "same object and managedFields, time untouched"
    );
}

#[test]
fn fields_no_longer_applied_are_removed_unless_another_manager_owns_them() {
    let rules = deployment_rules();
    let first = apply(
        None,
        deployment(json!({"replicas": 2, "paused": true, "minReadySeconds": 5})),
        &request("slipway", T0),
        &rules,
    );
    // Another applier shares `minReadySeconds` with the same value.
    let shared = apply(
        Some(&first),
        deployment(json!({"minReadySeconds": 5})),
        &request("other", T1),
        &rules,
    );
    let second = apply(
        Some(&shared),
        deployment(json!({"replicas": 2})),
        &request("slipway", T2),
        &rules,
    );
    assert_eq!(second["spec"], json!({"replicas": 2, "minReadySeconds": 5}));
    assert_eq!(
        fields(&second, "slipway", "Apply"),
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert_eq!(
        fields(&second, "other", "Apply"),
        json!({"f:spec": {"f:minReadySeconds": {}}})
    );
    assert_eq!(entry(&second, "slipway", "Apply").unwrap()["time"], T2);
}

#[test]
fn fields_an_updater_changed_are_not_removed_by_the_applier() {
    let rules = deployment_rules();
    let first = apply(
        None,
        deployment(json!({"replicas": 2, "paused": true})),
        &request("slipway", T0),
        &rules,
    );
    let edited = updated(
        &first,
        |o| o["spec"]["paused"] = json!(false),
        "kubectl-edit",
        T1,
        &rules,
    );
    assert_eq!(
        fields(&edited, "slipway", "Apply"),
        json!({"f:spec": {"f:replicas": {}}})
    );
    let second = apply(
        Some(&edited),
        deployment(json!({"replicas": 2})),
        &request("slipway", T2),
        &rules,
    );
    assert_eq!(second["spec"], json!({"replicas": 2, "paused": false}));
}

#[test]
fn a_struct_the_applier_stops_applying_is_removed_whole() {
    let rules = deployment_rules();
    let first = apply(
        None,
        deployment(
            json!({"replicas": 1, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}),
        ),
        &request("slipway", T0),
        &rules,
    );
    let second = apply(
        Some(&first),
        deployment(json!({"replicas": 1})),
        &request("slipway", T1),
        &rules,
    );
    assert_eq!(second["spec"], json!({"replicas": 1}));
}

#[test]
fn conflicts_name_the_owner_and_field_as_the_apiserver_does() {
    let rules = deployment_rules();
    let first = apply(
        None,
        deployment(json!({"replicas": 2})),
        &request("slipway", T0),
        &rules,
    );
    let scaled = updated(
        &first,
        |o| o["spec"]["replicas"] = json!(5),
        "kubectl-scale",
        T1,
        &rules,
    );

    struct Case {
        name: &'static str,
        live: Value,
        applied: Value,
        manager: &'static str,
        message: &'static str,
        conflicts: Vec<(&'static str, &'static str)>,
    }
    let other_applier = apply(
        Some(&scaled),
        deployment(json!({"paused": true, "minReadySeconds": 3,
            "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1"}]}}})),
        &request("helm", T2),
        &rules,
    );
    for case in [
        Case {
            name: "one field owned by an updater",
            live: scaled.clone(),
            applied: deployment(json!({"replicas": 2})),
            manager: "slipway",
            message: "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas",
            conflicts: vec![("kubectl-scale", ".spec.replicas")],
        },
        Case {
            name: "several fields of several owners, grouped by manager",
            live: other_applier.clone(),
            applied: deployment(json!({"replicas": 3, "paused": false, "minReadySeconds": 1,
                "template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}})),
            manager: "slipway",
            message: "Apply failed with 4 conflicts: conflicts with \"helm\":\n- .spec.minReadySeconds\n- .spec.paused\n- .spec.template.spec.containers[name=\"web\"].image\nconflicts with \"kubectl-scale\" using apps/v1:\n- .spec.replicas",
            conflicts: vec![
                ("helm", ".spec.minReadySeconds"),
                ("helm", ".spec.paused"),
                ("helm", ".spec.template.spec.containers[name=\"web\"].image"),
                ("kubectl-scale", ".spec.replicas"),
            ],
        },
    ] {
        let error = server_side_apply(
            Some(&case.live),
            &case.applied,
            &request(case.manager, T2),
            &rules,
        )
        .expect_err(case.name);
        assert_eq!(error.to_string(), case.message, "{}", case.name);
        let ApplyError::Conflicts(conflicts) = error else {
            panic!("{}: not a conflict", case.name)
        };
        let listed: Vec<(&str, &str)> = conflicts
            .iter()
            .map(|c| (c.manager.as_str(), c.field.as_str()))
            .collect();
        assert_eq!(listed, case.conflicts, "{}", case.name);
    }
    let error = server_side_apply(
        Some(&scaled),
        &deployment(json!({"replicas": 2})),
        &request("slipway", T2),
        &rules,
    )
    .unwrap_err();
    let ApplyError::Conflicts(conflicts) = error else {
        unreachable!()
    };
    assert_eq!(
        conflicts[0].cause_message(),
        "conflict with \"kubectl-scale\" using apps/v1"
    );
}

#[test]
fn force_takes_ownership_from_the_other_managers() {
    let rules = deployment_rules();
    let first = apply(
        None,
        deployment(json!({"replicas": 2, "paused": true})),
        &request("slipway", T0),
        &rules,
    );
    let scaled = updated(
        &first,
        |o| o["spec"]["replicas"] = json!(5),
        "kubectl-scale",
        T1,
        &rules,
    );
    let forced = apply(
        Some(&scaled),
        deployment(json!({"replicas": 2, "paused": true})),
        &ApplyRequest {
            force: true,
            ..request("slipway", T2)
        },
        &rules,
    );
    assert_eq!(forced["spec"]["replicas"], 2);
    assert!(
        entry(&forced, "kubectl-scale", "Update").is_none(),
        "emptied entry dropped"
    );
    assert_eq!(
        fields(&forced, "slipway", "Apply"),
        json!({"f:spec": {"f:paused": {}, "f:replicas": {}}})
    );
}

#[test]
fn equal_values_are_co_owned_without_conflict() {
    let rules = deployment_rules();
    let first = apply(
        None,
        deployment(json!({"replicas": 2})),
        &request("slipway", T0),
        &rules,
    );
    let second = apply(
        Some(&first),
        deployment(json!({"replicas": 2})),
        &request("argo", T1),
        &rules,
    );
    assert_eq!(
        without_managed_fields(&second),
        without_managed_fields(&first)
    );
    for manager in ["slipway", "argo"] {
        assert_eq!(
            fields(&second, manager, "Apply"),
            json!({"f:spec": {"f:replicas": {}}})
        );
    }
    // The first applier walking away leaves the value to the co-owner.
    let mut nothing = deployment(json!({}));
    nothing.as_object_mut().unwrap().remove("spec");
    let third = apply(Some(&second), nothing, &request("slipway", T2), &rules);
    assert_eq!(third["spec"]["replicas"], 2);
    assert!(
        entry(&third, "slipway", "Apply").is_none(),
        "an entry with nothing left is dropped"
    );
    // An empty map applied is owned as a field of its own.
    let fourth = apply(
        Some(&third),
        deployment(json!({})),
        &request("slipway", T2),
        &rules,
    );
    assert_eq!(fields(&fourth, "slipway", "Apply"), json!({"f:spec": {}}));
}

#[test]
fn two_managers_each_own_their_container_in_a_deployment() {
    let rules = deployment_rules();
    let containers =
        |items: Value| deployment(json!({"template": {"spec": {"containers": items}}}));
    let first = apply(
        None,
        containers(json!([{"name": "web", "image": "nginx:1"}])),
        &request("slipway", T0),
        &rules,
    );
    let second = apply(
        Some(&first),
        containers(json!([{"name": "proxy", "image": "envoy:1"}])),
        &request("mesh", T1),
        &rules,
    );
    assert_eq!(
        second["spec"]["template"]["spec"]["containers"],
        json!([{"name": "web", "image": "nginx:1"}, {"name": "proxy", "image": "envoy:1"}])
    );
    assert_eq!(
        fields(&second, "mesh", "Apply"),
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"proxy\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
    );
    // Each updates its own container without conflict; dropping one's item removes only it.
    let third = apply(
        Some(&second),
        containers(json!([{"name": "web", "image": "nginx:2"}])),
        &request("slipway", T2),
        &rules,
    );
    let fourth = apply(
        Some(&third),
        containers(json!([])),
        &request("mesh", T2),
        &rules,
    );
    assert_eq!(
        fourth["spec"]["template"]["spec"]["containers"],
        json!([{"name": "web", "image": "nginx:2"}])
    );
}

#[test]
fn keyed_list_items_merge_by_key_and_unapplied_items_are_removed() {
    let rules = deployment_rules();
    let env = |items: Value| {
        deployment(json!({"template": {"spec": {"containers": [{"name": "web", "env": items}]}}}))
    };
    let first = apply(
        None,
        env(json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])),
        &request("slipway", T0),
        &rules,
    );
    // An updater adds a variable of its own and changes B.
    let edited = updated(
        &first,
        |o| {
            o["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]);
        },
        "kubectl-edit",
        T1,
        &rules,
    );
    let second = apply(
        Some(&edited),
        env(json!([{"name": "A", "value": "9"}])),
        &request("slipway", T2),
        &rules,
    );
    // B is still owned by the applier as an item (only its value moved to the editor): removed.
    // C belongs to the editor: kept.
    assert_eq!(
        second["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "A", "value": "9"}, {"name": "C", "value": "4"}])
    );
}

#[test]
fn atomic_lists_are_replaced_and_owned_whole() {
    let rules = deployment_rules();
    let tolerations =
        |items: Value| deployment(json!({"template": {"spec": {"tolerations": items}}}));
    let first = apply(
        None,
        tolerations(json!([{"key": "a"}, {"key": "b"}])),
        &request("slipway", T0),
        &rules,
    );
    assert_eq!(
        fields(&first, "slipway", "Apply"),
        json!({"f:spec": {"f:template": {"f:spec": {"f:tolerations": {}}}}})
    );
    let second = apply(
        Some(&first),
        tolerations(json!([{"key": "c"}])),
        &request("slipway", T1),
        &rules,
    );
    assert_eq!(
        second["spec"]["template"]["spec"]["tolerations"],
        json!([{"key": "c"}])
    );
    let error = server_side_apply(
        Some(&second),
        &tolerations(json!([{"key": "d"}])),
        &request("other", T2),
        &rules,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Apply failed with 1 conflict: conflict with \"slipway\": .spec.template.spec.tolerations"
    );
}

#[test]
fn status_is_separate_from_the_main_resource() {
    let rules = deployment_rules();
    let mut with_status = deployment(json!({"replicas": 1}));
    with_status["status"] = json!({"replicas": 7});
    let created = apply(None, with_status, &request("slipway", T0), &rules);
    assert!(
        created.get("status").is_none(),
        "main resource apply drops status"
    );

    let status_request = |manager| ApplyRequest {
        subresource: Some("status"),
        ..request(manager, T1)
    };
    let status = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"ignored": "yes"}},
        "spec": {"replicas": 9},
        "status": {"conditions": [{"type": "Available", "status": "True"}]}});
    let with_status = apply(
        Some(&created),
        status,
        &status_request("controller"),
        &rules,
    );
    assert_eq!(with_status["spec"], json!({"replicas": 1}));
    assert!(with_status["metadata"].get("labels").is_none());
    let controller = entry(&with_status, "controller", "Apply").unwrap();
    assert_eq!(controller["subresource"], "status");
    assert_eq!(
        controller["fieldsV1"],
        json!({"f:status": {"f:conditions": {"k:{\"type\":\"Available\"}": {
            ".": {}, "f:status": {}, "f:type": {}}}}})
    );
    // A second status writer owns its own condition; re-applying the main resource leaves status.
    let progressing = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "status": {"conditions": [{"type": "Progressing", "status": "True"}]}});
    let both = apply(
        Some(&with_status),
        progressing,
        &status_request("rollouts"),
        &rules,
    );
    assert_eq!(both["status"]["conditions"].as_array().unwrap().len(), 2);
    let reapplied = apply(
        Some(&both),
        deployment(json!({"replicas": 2})),
        &request("slipway", T2),
        &rules,
    );
    assert_eq!(reapplied["status"], both["status"]);
    // Updates of the main resource do not take status; status updates take only status.
    let mut new = reapplied.clone();
    new["status"]["observedGeneration"] = json!(3);
    new["spec"]["paused"] = json!(true);
    record_update(
        Some(&reapplied),
        &mut new,
        "kcm",
        "apps/v1",
        Some("status"),
        T2,
        &rules,
    );
    let kcm = entry(&new, "kcm", "Update").unwrap();
    assert_eq!(
        kcm["fieldsV1"],
        json!({"f:status": {"f:observedGeneration": {}}})
    );
    assert_eq!(kcm["subresource"], "status");
}

#[test]
fn malformed_applied_configurations_are_refused() {
    let rules = deployment_rules();
    let mut with_managed_fields = deployment(json!({}));
    with_managed_fields["metadata"]["managedFields"] = json!([]);
    let wrong_version =
        json!({"apiVersion": "apps/v1beta1", "kind": "Deployment", "metadata": {"name": "web"}});
    let missing_key = deployment(json!({"template": {"spec": {"containers": [{"image": "x"}]}}}));
    for (applied, message, code) in [
        (
            with_managed_fields,
            "metadata.managedFields must be nil",
            400,
        ),
        (
            wrong_version,
            "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1",
            400,
        ),
        (
            missing_key,
            "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field \"name\" (and doesn't have default value)",
            500,
        ),
    ] {
        let error = server_side_apply(None, &applied, &request("slipway", T0), &rules).unwrap_err();
        assert!(matches!(error, ApplyError::Invalid(_)));
        assert_eq!(error.to_string(), message);
        assert_eq!(error.status_code(), code);
    }
}

#[test]
fn objects_without_managed_fields_are_owned_by_before_first_apply() {
    let rules = deployment_rules();
    let live = deployment(json!({"replicas": 4}));
    let error = server_side_apply(
        Some(&live),
        &deployment(json!({"replicas": 2})),
        &request("slipway", T0),
        &rules,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using apps/v1: .spec.replicas"
    );
}

#[test]
fn updates_take_ownership_of_what_they_change() {
    let rules = deployment_rules();
    let applied = apply(
        None,
        deployment(json!({"replicas": 2, "paused": false})),
        &request("slipway", T0),
        &rules,
    );
    let scaled = updated(
        &applied,
        |o| o["spec"]["replicas"] = json!(3),
        "kubectl",
        T1,
        &rules,
    );
    assert_eq!(
        fields(&scaled, "slipway", "Apply"),
        json!({"f:spec": {"f:paused": {}}})
    );
    assert_eq!(
        fields(&scaled, "kubectl", "Update"),
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert_eq!(entry(&scaled, "kubectl", "Update").unwrap()["time"], T1);
    // Removing a field takes it from everyone; an entry left empty disappears.
    let cleared = updated(
        &scaled,
        |o| {
            o["spec"].as_object_mut().unwrap().remove("paused");
        },
        "kubectl",
        T2,
        &rules,
    );
    assert!(entry(&cleared, "slipway", "Apply").is_none());
    // An update that changes nothing records nothing and keeps the time.
    let same = updated(&cleared, |_| {}, "kubectl", T2, &rules);
    assert_eq!(same, cleared);
}

#[test]
fn creates_record_every_field_but_server_set_metadata() {
    let rules = MergeRules::builtin("", "v1", "ConfigMap");
    let mut created = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "default", "uid": "u", "resourceVersion": "1",
            "creationTimestamp": T0, "generation": 1, "labels": {"app": "x"}},
        "data": {"k": "v"}});
    record_update(None, &mut created, "kubectl-create", "v1", None, T0, &rules);
    assert_eq!(
        created["metadata"]["managedFields"],
        json!([{"manager": "kubectl-create", "operation": "Update", "apiVersion": "v1", "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {".": {}, "f:k": {}},
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}])
    );
}

#[test]
fn managed_fields_set_by_the_write_are_kept_and_the_reset_marker_clears_them() {
    let rules = MergeRules::builtin("", "v1", "ConfigMap");
    let old = apply(
        None,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}),
        &ApplyRequest {
            api_version: "v1",
            ..request("slipway", T0)
        },
        &rules,
    );
    // A PUT carrying the old managedFields and a change: the change is attributed on top.
    let mut new = old.clone();
    new["data"]["b"] = json!("2");
    record_update(Some(&old), &mut new, "kubectl", "v1", None, T1, &rules);
    assert!(entry(&new, "slipway", "Apply").is_some());
    assert_eq!(
        fields(&new, "kubectl", "Update"),
        json!({"f:data": {"f:b": {}}})
    );
    // `[{}]` resets ownership.
    let mut reset = new.clone();
    reset["metadata"]["managedFields"] = json!([{}]);
    record_update(Some(&new), &mut reset, "kubectl", "v1", None, T2, &rules);
    assert!(reset["metadata"].get("managedFields").is_none());
}

#[test]
fn custom_resources_merge_by_their_schema_list_types() {
    let schema = json!({"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "stages": {"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "image": {"type": "string"}}}},
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}}}},
        "status": {"type": "object"}}});
    let rules = MergeRules::from_openapi_schema(&schema).with_status_subresource(true);
    let pipeline = |spec: Value| json!({"apiVersion": "slipway.dev/v1alpha1", "kind": "Pipeline", "metadata": {"name": "p"}, "spec": spec});
    let request = |manager, now| ApplyRequest {
        manager,
        force: false,
        api_version: "slipway.dev/v1alpha1",
        subresource: None,
        now,
    };
    let first = apply(
        None,
        pipeline(json!({"stages": [{"name": "build"}, {"name": "deploy"}], "tags": ["a", "b"]})),
        &request("slipway", T0),
        &rules,
    );
    let second = apply(
        Some(&first),
        pipeline(json!({"tags": ["c"]})),
        &request("other", T1),
        &rules,
    );
    assert_eq!(second["spec"]["tags"], json!(["a", "b", "c"]));
    assert_eq!(
        fields(&second, "other", "Apply"),
        json!({"f:spec": {"f:tags": {"v:\"c\"": {}}}})
    );
    let third = apply(
        Some(&second),
        pipeline(json!({"stages": [{"name": "deploy", "image": "x"}], "tags": ["a"]})),
        &request("slipway", T2),
        &rules,
    );
    assert_eq!(
        third["spec"],
        json!({"stages": [{"name": "deploy", "image": "x"}], "tags": ["a", "c"]})
    );
}

#[test]
fn more_than_ten_updaters_merge_the_oldest_into_ancient_changes() {
    let rules = MergeRules::builtin("", "v1", "ConfigMap");
    let mut object =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}});
    for i in 0..12 {
        let now = format!("2026-11-26T03:{i:02}:00Z");
        object = {
            let old = object.clone();
            let mut new = old.clone();
            new["data"][format!("k{i}")] = json!("v");
            record_update(
                Some(&old),
                &mut new,
                &format!("m{i}"),
                "v1",
                None,
                &now,
                &rules,
            );
            new
        };
    }
    let managers: Vec<&str> = object["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers.len(), 10);
    assert_eq!(managers[0], "ancient-changes");
    assert_eq!(
        fields(&object, "ancient-changes", "Update"),
        json!({"f:data": {"f:k0": {}, "f:k1": {}, "f:k2": {}}})
    );
}

#[test]
fn strategic_merge_errors_carry_the_apiserver_status_codes() {
    let rules = MergeRules::builtin("", "v1", "Pod");
    let code = |original: Value, patch: Value| {
        strategic_merge(&original, &patch, &rules)
            .unwrap_err()
            .status_code()
    };
    let finalizers = json!({"metadata": {"finalizers": ["a"]}});
    assert_eq!(
        code(
            finalizers.clone(),
            json!({"metadata": {"$deleteFromPrimitiveListx": []}})
        ),
        400
    );
    assert_eq!(
        code(
            json!({"metadata": {"finalizers": [["a"]]}}),
            json!({"metadata": {"finalizers": [["x"]]}})
        ),
        422
    );
    assert_eq!(
        code(finalizers.clone(), json!({"metadata": {"finalizers": [1]}})),
        500
    );
    assert_eq!(code(finalizers, json!("x")), 400);
}

#[test]
fn httproute_rules_from_the_fixture_crd_are_owned_whole_by_their_applier() {
    let crd_path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/httproute-crd.yaml");
    let text = std::fs::read_to_string(crd_path).expect("fixtures/httproute-crd.yaml");
    let crd: Value = serde_saphyr::from_str(&text).expect("the fixture is YAML");
    let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let rules = MergeRules::from_openapi_schema(schema).with_status_subresource(true);
    let route = |weights: [u64; 2]| {
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"parentRefs": [{"name": "gateway"}], "rules": [{"backendRefs": [
                {"name": "web-stable", "port": 80, "weight": weights[0]},
                {"name": "web-canary", "port": 80, "weight": weights[1]}]}]}})
    };
    let request = |manager, now| ApplyRequest {
        manager,
        force: false,
        api_version: "gateway.networking.k8s.io/v1",
        subresource: None,
        now,
    };
    let first = apply(None, route([90, 10]), &request("slipway", T0), &rules);
    assert_eq!(
        fields(&first, "slipway", "Apply")["f:spec"]["f:rules"],
        json!({}),
        "rules are atomic upstream"
    );
    let shifted = apply(
        Some(&first),
        route([50, 50]),
        &request("slipway", T1),
        &rules,
    );
    assert_eq!(shifted["spec"]["rules"][0]["backendRefs"][1]["weight"], 50);
    let error = server_side_apply(
        Some(&shifted),
        &route([0, 100]),
        &request("kubectl", T2),
        &rules,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Apply failed with 1 conflict: conflict with \"slipway\": .spec.rules"
    );
    // Status conditions of a parent merge by type under the status subresource.
    let status = |condition: &str| {
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "web", "namespace": "default"},
            "status": {"parents": [{"controllerName": "c", "parentRef": {"name": "gateway"},
                "conditions": [{"type": condition, "status": "True"}]}]}})
    };
    let status_request = ApplyRequest {
        subresource: Some("status"),
        ..request("gateway", T2)
    };
    let with_status = apply(Some(&shifted), status("Accepted"), &status_request, &rules);
    assert_eq!(with_status["spec"], shifted["spec"]);
    assert_eq!(
        fields(&with_status, "gateway", "Apply"),
        json!({"f:status": {"f:parents": {}}}),
        "parents has no list type: atomic"
    );
}
