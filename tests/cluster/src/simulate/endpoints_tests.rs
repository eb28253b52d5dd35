use serde_json::{Value, json};

use super::*;
use crate::simulate::test_support::*;

fn service(target_port: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "prod", "uid": "s1", "labels": {"team": "a"}},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": target_port}]}
    })
}

fn pod(name: &str, ip: &str, ready: bool, container_port: Option<(&str, i64)>) -> Value {
    let ports = container_port
        .map(|(n, p)| json!([{"name": n, "containerPort": p}]))
        .unwrap_or(json!([]));
    json!({
        "metadata": {"name": name, "namespace": "prod", "uid": format!("uid-{name}"), "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "ports": ports}]},
        "status": {"phase": "Running", "podIP": ip, "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}
    })
}

fn slice_of(intents: &[Intent]) -> Value {
    let slices = created(intents, Kind::EndpointSlice);
    assert_eq!(slices.len(), 1, "{intents:#?}");
    slices[0].clone()
}

#[test]
fn ready_and_unready_pods_become_slice_endpoints_with_conditions() {
    let pods = vec![
        pod("b", "10.244.0.2", false, None),
        pod("a", "10.244.0.1", true, None),
    ];
    let intents = decide_endpoints(&service(json!(8080)), &pods, &[], None);
    let slice = slice_of(&intents);
    assert_eq!(slice["metadata"]["generateName"], "web-");
    assert_eq!(slice["metadata"]["labels"][SERVICE_NAME_LABEL], "web");
    assert_eq!(slice["metadata"]["labels"][MANAGED_BY_LABEL], MANAGED_BY);
    assert_eq!(slice["metadata"]["labels"]["team"], "a");
    assert_eq!(slice["metadata"]["ownerReferences"][0]["kind"], "Service");
    assert_eq!(slice["addressType"], "IPv4");
    assert_eq!(
        slice["ports"],
        json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
    );
    assert_eq!(slice["endpoints"][0]["addresses"], json!(["10.244.0.1"]));
    assert_eq!(
        slice["endpoints"][0]["conditions"],
        json!({"ready": true, "serving": true, "terminating": false})
    );
    assert_eq!(slice["endpoints"][0]["targetRef"]["name"], "a");
    assert_eq!(slice["endpoints"][1]["conditions"]["ready"], false);

    let endpoints = created(&intents, Kind::Endpoints);
    assert_eq!(endpoints[0]["metadata"]["name"], "web");
    assert_eq!(
        endpoints[0]["subsets"][0]["addresses"][0]["ip"],
        "10.244.0.1"
    );
    assert_eq!(
        endpoints[0]["subsets"][0]["notReadyAddresses"][0]["ip"],
        "10.244.0.2"
    );
    assert_eq!(
        endpoints[0]["subsets"][0]["ports"],
        json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
    );
}

#[test]
fn named_target_ports_resolve_per_pod_into_separate_slices() {
    let pods = vec![
        pod("a", "10.244.0.1", true, Some(("web", 8080))),
        pod("b", "10.244.0.2", true, Some(("web", 9090))),
    ];
    let intents = decide_endpoints(&service(json!("web")), &pods, &[], None);
    let slices = created(&intents, Kind::EndpointSlice);
    assert_eq!(slices.len(), 2);
    let ports: Vec<&Value> = slices.iter().map(|s| &s["ports"][0]["port"]).collect();
    assert_eq!(ports, vec![&json!(8080), &json!(9090)]);
}

#[test]
fn a_pod_without_the_named_port_has_no_port_for_it() {
    let intents = decide_endpoints(
        &service(json!("web")),
        &[pod("a", "10.244.0.1", true, None)],
        &[],
        None,
    );
    assert_eq!(slice_of(&intents)["ports"], json!([]));
}

#[test]
fn a_service_without_pods_gets_a_placeholder_slice_and_empty_endpoints() {
    let intents = decide_endpoints(&service(json!(80)), &[], &[], None);
    let slice = slice_of(&intents);
    assert_eq!(slice["endpoints"], json!([]));
    assert!(slice.get("ports").is_none());
    assert!(
        created(&intents, Kind::Endpoints)[0]
            .get("subsets")
            .is_none()
    );
}

#[test]
fn pods_without_ip_or_terminal_or_unselected_are_left_out() {
    let mut done = pod("done", "10.244.0.3", false, None);
    done["status"]["phase"] = json!("Succeeded");
    let mut other = pod("other", "10.244.0.4", true, None);
    other["metadata"]["labels"] = json!({"app": "db"});
    let mut no_ip = pod("new", "", false, None);
    no_ip["status"].as_object_mut().unwrap().remove("podIP");
    let intents = decide_endpoints(&service(json!(80)), &[done, other, no_ip], &[], None);
    assert_eq!(slice_of(&intents)["endpoints"], json!([]));
}

#[test]
fn terminating_pods_are_serving_but_not_ready_and_absent_from_endpoints() {
    let mut leaving = pod("a", "10.244.0.1", true, None);
    leaving["metadata"]["deletionTimestamp"] = json!("2026-03-01T10:00:00Z");
    let intents = decide_endpoints(&service(json!(80)), &[leaving], &[], None);
    assert_eq!(
        slice_of(&intents)["endpoints"][0]["conditions"],
        json!({"ready": false, "serving": true, "terminating": true})
    );
    assert!(
        created(&intents, Kind::Endpoints)[0]
            .get("subsets")
            .is_none()
    );
}

#[test]
fn existing_slices_are_updated_in_place_and_settle() {
    let intents = decide_endpoints(
        &service(json!(80)),
        &[pod("a", "10.244.0.1", false, None)],
        &[],
        None,
    );
    let mut slice = slice_of(&intents);
    slice["metadata"]["name"] = json!("web-abcde");
    let endpoints = created(&intents, Kind::Endpoints)[0].clone();

    let now_ready = [pod("a", "10.244.0.1", true, None)];
    let intents = decide_endpoints(
        &service(json!(80)),
        &now_ready,
        std::slice::from_ref(&slice),
        Some(&endpoints),
    );
    assert_eq!(intents.len(), 2, "{intents:#?}");
    let Intent::Update {
        object: updated, ..
    } = &intents[0]
    else {
        panic!("{intents:#?}")
    };
    assert_eq!(updated["metadata"]["name"], "web-abcde");
    assert_eq!(updated["endpoints"][0]["conditions"]["ready"], true);
    let Intent::Update {
        object: updated_endpoints,
        ..
    } = &intents[1]
    else {
        panic!("{intents:#?}")
    };

    let settled = decide_endpoints(
        &service(json!(80)),
        &now_ready,
        std::slice::from_ref(updated),
        Some(updated_endpoints),
    );
    assert!(settled.is_empty(), "{settled:#?}");
}

#[test]
fn surplus_slices_are_deleted_and_foreign_ones_ignored() {
    let managed = |name: &str| json!({"metadata": {"name": name, "namespace": "prod", "labels": {SERVICE_NAME_LABEL: "web", MANAGED_BY_LABEL: MANAGED_BY}}, "ports": [{"port": 1}]});
    let foreign = json!({"metadata": {"name": "mine", "labels": {SERVICE_NAME_LABEL: "web", MANAGED_BY_LABEL: "someone-else"}}});
    let intents = decide_endpoints(
        &service(json!(80)),
        &[],
        &[managed("web-1"), managed("web-2"), foreign],
        None,
    );
    assert_eq!(deleted(&intents, Kind::EndpointSlice), vec!["web-1"]);
    assert!(created(&intents, Kind::EndpointSlice).is_empty());
}

#[test]
fn services_without_selector_are_left_to_their_owners() {
    let mut svc = service(json!(80));
    svc["spec"].as_object_mut().unwrap().remove("selector");
    assert!(decide_endpoints(&svc, &[pod("a", "10.244.0.1", true, None)], &[], None).is_empty());
}

#[test]
fn publish_not_ready_addresses_makes_every_pod_ready() {
    let mut svc = service(json!(80));
    svc["spec"]["publishNotReadyAddresses"] = json!(true);
    let intents = decide_endpoints(&svc, &[pod("a", "10.244.0.1", false, None)], &[], None);
    assert_eq!(
        slice_of(&intents)["endpoints"][0]["conditions"]["ready"],
        true
    );
    assert_eq!(
        created(&intents, Kind::Endpoints)[0]["subsets"][0]["addresses"][0]["ip"],
        "10.244.0.1"
    );
}
