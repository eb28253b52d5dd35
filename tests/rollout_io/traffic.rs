//! Service selector switching and HTTPRoute weights against the test cluster.

use k8s_openapi::api::core::v1::Service;
use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use slipway::api::deployment::{HttpRouteReference, TrafficSplit};
use slipway::rollout::traffic_apply::{
    BackendWeight, FIELD_MANAGER, KnownSelector, RuleWeights, SelectorTarget, TrafficApplyError,
    httproute_resource, read_route_weights, read_service_selector, set_route_weights,
    switch_service_selector, switch_service_selector_from, traffic_split,
};
use slipway::runtime::labels::{REVISION_LABEL, TARGET_LABEL};
use slipway_testcluster::{Fault, TestCluster};

const NAMESPACE: &str = "default";

/// Applies `object` with server-side apply as `manager` (how a user's `kubectl apply
/// --server-side` or a GitOps tool writes).
async fn apply_as(api: &Api<DynamicObject>, name: &str, manager: &str, object: Value) {
    api.patch(name, &PatchParams::apply(manager), &Patch::Apply(object))
        .await
        .unwrap_or_else(|error| panic!("{manager} applies {name}: {error}"));
}

fn services(cluster: &TestCluster) -> Api<DynamicObject> {
    let resource = kube::core::ApiResource::erase::<Service>(&());
    Api::namespaced_with(cluster.client(), NAMESPACE, &resource)
}

async fn user_service(cluster: &TestCluster, selector: Option<Value>) {
    let mut spec = json!({
        "type": "ClusterIP",
        "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
        "sessionAffinity": "None"
    });
    if let Some(selector) = selector {
        spec["selector"] = selector;
    }
    apply_as(
        &services(cluster),
        "web",
        "user",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": spec}),
    )
    .await;
}

fn managers_of_selector(object: &DynamicObject) -> Vec<String> {
    object
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter(|entry| {
            entry
                .fields_v1
                .as_ref()
                .and_then(|fields| fields.0.pointer("/f:spec/f:selector"))
                .is_some()
        })
        .filter_map(|entry| entry.manager.clone())
        .collect()
}

#[tokio::test]
async fn selector_switch_moves_only_the_selector_and_takes_it_over() {
    let cluster = TestCluster::start().await;
    user_service(&cluster, Some(json!({"app": "web"}))).await;
    let client = cluster.client();
    let revision = |hash: &str| SelectorTarget::Revision { hash: hash.into() };

    let switched = switch_service_selector(&client, NAMESPACE, "web", "web", &revision("blue"))
        .await
        .unwrap();
    assert!(switched.changed);
    assert_eq!(
        switched.previous,
        [("app".to_owned(), "web".to_owned())].into()
    );
    let after = services(&cluster).get("web").await.unwrap();
    assert_eq!(
        after.data["spec"]["selector"],
        json!({"app": "web", TARGET_LABEL: "web", REVISION_LABEL: "blue"})
    );
    assert_eq!(
        after.data["spec"]["ports"],
        json!([{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]),
        "ports stay as the user wrote them"
    );
    assert_eq!(after.data["spec"]["type"], "ClusterIP");
    assert_eq!(managers_of_selector(&after), [FIELD_MANAGER]);

    // Spanning both revisions drops the revision key (the atomic map is replaced whole).
    let spanning = SelectorTarget::Spanning {
        stable: "blue".into(),
        canary: "green".into(),
    };
    switch_service_selector(&client, NAMESPACE, "web", "web", &spanning)
        .await
        .unwrap();
    assert_eq!(
        read_service_selector(&client, NAMESPACE, "web")
            .await
            .unwrap(),
        [
            ("app".to_owned(), "web".to_owned()),
            (TARGET_LABEL.to_owned(), "web".to_owned())
        ]
        .into()
    );

    // The same target again writes nothing.
    let version = services(&cluster)
        .get("web")
        .await
        .unwrap()
        .metadata
        .resource_version;
    cluster.requests().clear();
    let again = switch_service_selector(&client, NAMESPACE, "web", "web", &spanning)
        .await
        .unwrap();
    assert!(!again.changed);
    assert_eq!(
        cluster
            .requests()
            .writes_to("services", Some(NAMESPACE), "web"),
        0
    );
    assert_eq!(
        services(&cluster)
            .get("web")
            .await
            .unwrap()
            .metadata
            .resource_version,
        version
    );

    // The user's own apply of another selector now reports the conflict instead of rerouting.
    let conflict = services(&cluster)
        .patch(
            "web",
            &PatchParams::apply("user"),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}})),
        )
        .await
        .unwrap_err();
    assert!(matches!(conflict, kube::Error::Api(status) if status.code == 409));
}

#[tokio::test]
async fn selector_switch_refuses_services_without_selector_and_missing_ones() {
    let cluster = TestCluster::start().await;
    user_service(&cluster, None).await;
    let client = cluster.client();
    let to = SelectorTarget::Revision {
        hash: "blue".into(),
    };
    let error = switch_service_selector(&client, NAMESPACE, "web", "web", &to)
        .await
        .unwrap_err();
    assert!(
        matches!(error, TrafficApplyError::ServiceWithoutSelector { .. }),
        "{error}"
    );
    assert_eq!(
        cluster
            .requests()
            .writes_to("services", Some(NAMESPACE), "web"),
        1,
        "only the user's apply"
    );
    let missing = switch_service_selector(&client, NAMESPACE, "absent", "web", &to)
        .await
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .starts_with("unable to read Service default/absent"),
        "{missing}"
    );
    assert!(
        services(&cluster)
            .get_opt("absent")
            .await
            .unwrap()
            .is_none(),
        "nothing created"
    );
}

/// The Service's selector and resourceVersion, as observe keeps them.
async fn known_selector(cluster: &TestCluster) -> KnownSelector {
    let object = services(cluster).get("web").await.unwrap();
    KnownSelector {
        selector: serde_json::from_value(object.data["spec"]["selector"].clone()).unwrap(),
        resource_version: object.metadata.resource_version,
    }
}

#[tokio::test]
async fn selector_switch_from_an_observed_service_writes_without_a_read_and_never_over_a_newer_one()
{
    let cluster = TestCluster::start().await;
    user_service(&cluster, Some(json!({"app": "web"}))).await;
    let client = cluster.client();
    let revision = |hash: &str| SelectorTarget::Revision { hash: hash.into() };
    let gets = |cluster: &TestCluster| {
        cluster
            .requests()
            .matching(|r| r.verb == "get" && r.resource == "services")
            .len()
    };

    // Current knowledge: one apply, no read.
    let known = known_selector(&cluster).await;
    cluster.requests().clear();
    let switched =
        switch_service_selector_from(&client, NAMESPACE, "web", "web", &revision("blue"), &known)
            .await
            .unwrap();
    assert!(switched.changed);
    assert_eq!(gets(&cluster), 0, "no read before the write");
    assert_eq!(
        cluster
            .requests()
            .writes_to("services", Some(NAMESPACE), "web"),
        1
    );
    assert_eq!(
        read_service_selector(&client, NAMESPACE, "web")
            .await
            .unwrap()
            .get(REVISION_LABEL)
            .map(String::as_str),
        Some("blue")
    );

    // Stale knowledge (the user added a key since): the 409 falls back to a fresh read, and the
    // user's key survives.
    let stale = known_selector(&cluster).await;
    let mut edited = stale.selector.clone();
    edited.insert("tier".into(), "front".into());
    services(&cluster)
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"selector": edited}})),
        )
        .await
        .unwrap();
    cluster.requests().clear();
    let switched =
        switch_service_selector_from(&client, NAMESPACE, "web", "web", &revision("green"), &stale)
            .await
            .unwrap();
    assert!(switched.changed);
    assert_eq!(gets(&cluster), 1, "one fresh read after the conflict");
    let now = read_service_selector(&client, NAMESPACE, "web")
        .await
        .unwrap();
    assert_eq!(now.get(REVISION_LABEL).map(String::as_str), Some("green"));
    assert_eq!(
        now.get("tier").map(String::as_str),
        Some("front"),
        "a change made after the observation is kept"
    );

    // Knowledge that says "already there" is confirmed by a read, not trusted: here the Service
    // moved back to blue since, so green is written again.
    let green = known_selector(&cluster).await;
    switch_service_selector(&client, NAMESPACE, "web", "web", &revision("blue"))
        .await
        .unwrap();
    let again =
        switch_service_selector_from(&client, NAMESPACE, "web", "web", &revision("green"), &green)
            .await
            .unwrap();
    assert!(again.changed);
    assert_eq!(
        read_service_selector(&client, NAMESPACE, "web")
            .await
            .unwrap()
            .get(REVISION_LABEL)
            .map(String::as_str),
        Some("green")
    );
}

fn routes(cluster: &TestCluster) -> Api<DynamicObject> {
    Api::namespaced_with(cluster.client(), NAMESPACE, &httproute_resource())
}

/// The route as its author applies it: two weighted rules, matches, hostnames, parents.
fn authored_route() -> Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web"},
        "spec": {
            "parentRefs": [{"name": "public", "sectionName": "https"}],
            "hostnames": ["shop.example.com"],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/api"},
                                 "headers": [{"name": "x-beta", "value": "1"}]}],
                    "backendRefs": [
                        {"name": "web-stable", "port": 80, "weight": 100},
                        {"name": "web-canary", "port": 8080, "weight": 0},
                        {"name": "mirror", "port": 80, "weight": 3}
                    ]
                },
                {
                    "matches": [{"path": {"type": "Exact", "value": "/health"}}],
                    "backendRefs": [{"name": "health", "port": 81}]
                }
            ]
        }
    })
}

fn weights(stable: i32, canary: i32) -> Vec<BackendWeight> {
    vec![
        BackendWeight {
            service: "web-stable".into(),
            weight: stable,
        },
        BackendWeight {
            service: "web-canary".into(),
            weight: canary,
        },
    ]
}

/// The spec with every `weight` of web-stable/web-canary removed, to compare the rest.
fn without_our_weights(mut spec: Value) -> Value {
    for rule in spec["rules"].as_array_mut().unwrap() {
        for backend in rule["backendRefs"].as_array_mut().unwrap() {
            if backend["name"] == "web-stable" || backend["name"] == "web-canary" {
                backend.as_object_mut().unwrap().remove("weight");
            }
        }
    }
    spec
}

#[tokio::test]
async fn route_weights_change_and_everything_else_stays() {
    let cluster = TestCluster::start().await;
    cluster.install_httproute_crd();
    apply_as(&routes(&cluster), "web", "route-author", authored_route()).await;
    // Another manager owns a label and an annotation.
    routes(&cluster)
        .patch(
            "web",
            &PatchParams::apply("gitops-labels"),
            &Patch::Apply(json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                "metadata": {"name": "web", "labels": {"team": "shop"}, "annotations": {"note": "keep"}}})),
        )
        .await
        .unwrap();
    let before = routes(&cluster).get("web").await.unwrap();
    let client = cluster.client();
    let reference = HttpRouteReference {
        name: "web".into(),
        rule: Some(0),
    };

    let change = set_route_weights(&client, NAMESPACE, &reference, &weights(90, 10))
        .await
        .unwrap();
    assert!(change.changed);
    let expected = |stable, canary| {
        vec![RuleWeights {
            rule: 0,
            backends: weights(stable, canary),
        }]
    };
    assert_eq!(change.weights, expected(90, 10));

    let after = routes(&cluster).get("web").await.unwrap();
    let backends = &after.data["spec"]["rules"][0]["backendRefs"];
    assert_eq!(
        backends[0],
        json!({"group": "", "kind": "Service", "name": "web-stable", "port": 80, "weight": 90})
    );
    assert_eq!(backends[1]["weight"], 10);
    assert_eq!(
        backends[2]["weight"], 3,
        "other backendRefs keep their weight"
    );
    assert_eq!(
        without_our_weights(after.data["spec"].clone()),
        without_our_weights(before.data["spec"].clone()),
        "matches, hostnames, parents and the other rule stay"
    );
    assert_eq!(after.metadata.labels, before.metadata.labels);
    assert_eq!(after.metadata.annotations, before.metadata.annotations);
    let managers: Vec<_> = after
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|entry| entry.manager.clone())
        .collect();
    assert!(managers.contains(&FIELD_MANAGER.to_owned()), "{managers:?}");
    assert!(
        managers.contains(&"gitops-labels".to_owned()),
        "{managers:?}"
    );

    // Observe reads the same weights back; asking for them again writes nothing.
    let read = read_route_weights(
        &client,
        NAMESPACE,
        &reference,
        &["web-stable", "web-canary"],
    )
    .await
    .unwrap();
    assert_eq!(read, expected(90, 10));
    assert_eq!(
        traffic_split(&read, "web-stable", "web-canary"),
        Some(TrafficSplit {
            stable: 90,
            canary: 10
        })
    );
    cluster.requests().clear();
    let again = set_route_weights(&client, NAMESPACE, &reference, &weights(90, 10))
        .await
        .unwrap();
    assert!(!again.changed);
    assert_eq!(
        cluster
            .requests()
            .writes_to("httproutes", Some(NAMESPACE), "web"),
        0
    );

    // Full shift.
    set_route_weights(&client, NAMESPACE, &reference, &weights(0, 100))
        .await
        .unwrap();
    assert_eq!(
        read_route_weights(
            &client,
            NAMESPACE,
            &reference,
            &["web-stable", "web-canary"]
        )
        .await
        .unwrap(),
        expected(0, 100)
    );
}

#[tokio::test]
async fn route_weights_follow_rules_that_moved_since_the_read() {
    let cluster = TestCluster::start().await;
    cluster.install_httproute_crd();
    apply_as(&routes(&cluster), "web", "route-author", authored_route()).await;
    let client = cluster.client();
    let reference = HttpRouteReference {
        name: "web".into(),
        rule: None,
    };
    // One refused patch (as if the route changed between read and write): read again, retry.
    cluster.faults().inject(
        Fault::error(409)
            .verb("patch")
            .resource("httproutes")
            .times(1),
    );
    let change = set_route_weights(&client, NAMESPACE, &reference, &weights(50, 50))
        .await
        .unwrap();
    assert!(change.changed);
    assert_eq!(
        cluster.requests().count("patch", "httproutes"),
        3,
        "the author's apply, the refused patch, the retry"
    );

    // The author reorders the backends. `spec.rules` is atomic and Slipway's write made it the
    // owner, so the author's apply conflicts (the documented caveat) until forced.
    let mut reordered = authored_route();
    let backends = reordered["spec"]["rules"][0]["backendRefs"]
        .as_array_mut()
        .unwrap();
    backends.reverse();
    let conflict = routes(&cluster)
        .patch(
            "web",
            &PatchParams::apply("route-author"),
            &Patch::Apply(reordered.clone()),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&conflict, kube::Error::Api(status) if status.code == 409 && status.message.contains(".spec.rules")),
        "{conflict}"
    );
    routes(&cluster)
        .patch(
            "web",
            &PatchParams::apply("route-author").force(),
            &Patch::Apply(reordered),
        )
        .await
        .unwrap();
    // A reorder that lands while Slipway's patch is in flight: the patch's `test` of the name at
    // the old index fails (422) instead of weighting the wrong backend; it reads again and
    // retries at the new indexes.
    let mut swapped = authored_route();
    swapped["spec"]["rules"][0]["backendRefs"]
        .as_array_mut()
        .unwrap()
        .swap(1, 2);
    cluster.faults().inject(
        Fault::delay(std::time::Duration::from_millis(1000))
            .verb("patch")
            .resource("httproutes")
            .times(1),
    );
    cluster.requests().clear();
    let in_flight = tokio::spawn({
        let client = client.clone();
        let reference = reference.clone();
        async move { set_route_weights(&client, NAMESPACE, &reference, &weights(20, 80)).await }
    });
    // The fault is spent when Slipway's patch arrives: from then on it is held in flight.
    crate::eventually("Slipway's patch to be in flight", 10, || async {
        cluster.faults().list().is_empty()
    })
    .await;
    routes(&cluster)
        .patch(
            "web",
            &PatchParams::apply("route-author").force(),
            &Patch::Apply(swapped),
        )
        .await
        .unwrap();
    let change = in_flight.await.unwrap().unwrap();
    assert!(change.changed);
    assert_eq!(
        cluster.requests().count("patch", "httproutes"),
        3,
        "the refused patch, the author's apply, the retry"
    );
    let after = routes(&cluster).get("web").await.unwrap();
    let names_and_weights: Vec<(Value, Value)> = after.data["spec"]["rules"][0]["backendRefs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|backend| (backend["name"].clone(), backend["weight"].clone()))
        .collect();
    assert_eq!(
        names_and_weights,
        [
            (json!("web-stable"), json!(20)),
            (json!("mirror"), json!(3)),
            (json!("web-canary"), json!(80)),
        ]
    );
}

#[tokio::test]
async fn route_weight_refused_by_the_schema_is_reported_not_retried() {
    let cluster = TestCluster::start().await;
    cluster.install_httproute_crd();
    apply_as(&routes(&cluster), "web", "route-author", authored_route()).await;
    let reference = HttpRouteReference {
        name: "web".into(),
        rule: Some(0),
    };
    cluster.requests().clear();
    let error = set_route_weights(
        &cluster.client(),
        NAMESPACE,
        &reference,
        &weights(0, 2_000_000),
    )
    .await
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("unable to patch backendRefs weights of HTTPRoute default/web"),
        "{error}"
    );
    assert_eq!(cluster.requests().count("patch", "httproutes"), 1);
    let missing = set_route_weights(
        &cluster.client(),
        NAMESPACE,
        &HttpRouteReference {
            name: "web".into(),
            rule: Some(1),
        },
        &weights(90, 10),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(missing, TrafficApplyError::BackendMissing { rule: 1, .. }),
        "{missing}"
    );
}

#[tokio::test]
async fn selector_switch_refuses_to_overwrite_a_service_changed_since_its_read() {
    let cluster = TestCluster::start().await;
    user_service(&cluster, Some(json!({"app": "web"}))).await;
    let client = cluster.client();
    // Hold Slipway's apply in flight while the user changes the selector underneath it.
    cluster.faults().inject(
        Fault::delay(std::time::Duration::from_millis(1000))
            .verb("patch")
            .resource("services")
            .times(1),
    );
    let in_flight = tokio::spawn({
        let client = client.clone();
        async move {
            switch_service_selector(
                &client,
                NAMESPACE,
                "web",
                "web",
                &SelectorTarget::Revision {
                    hash: "blue".into(),
                },
            )
            .await
        }
    });
    crate::eventually("Slipway's apply to be in flight", 10, || async {
        cluster.faults().list().is_empty()
    })
    .await;
    services(&cluster)
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"selector": {"app": "web", "tier": "frontend"}}})),
        )
        .await
        .unwrap();
    let error = in_flight.await.unwrap().unwrap_err();
    assert!(
        matches!(&error, TrafficApplyError::Api { source: kube::Error::Api(status), .. } if status.code == 409),
        "{error}"
    );
    assert_eq!(
        read_service_selector(&client, NAMESPACE, "web")
            .await
            .unwrap(),
        [
            ("app".to_owned(), "web".to_owned()),
            ("tier".to_owned(), "frontend".to_owned())
        ]
        .into(),
        "the user's change stands; the next reconcile computes from it"
    );
}
