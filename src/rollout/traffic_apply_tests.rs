use super::*;
use crate::api::deployment::TrafficSplit;

fn selector(pairs: &[(&str, &str)]) -> Selector {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

fn revision(hash: &str) -> SelectorTarget {
    SelectorTarget::Revision { hash: hash.into() }
}

fn spanning(stable: &str, canary: &str) -> SelectorTarget {
    SelectorTarget::Spanning {
        stable: stable.into(),
        canary: canary.into(),
    }
}

#[test]
fn selectors_target_one_revision_or_span_both() {
    let user = selector(&[("app", "web"), ("tier", "frontend")]);
    let on_blue = selector(&[
        ("app", "web"),
        ("tier", "frontend"),
        (TARGET_LABEL, "web"),
        (REVISION_LABEL, "blue"),
    ]);
    let spanning_selector =
        selector(&[("app", "web"), ("tier", "frontend"), (TARGET_LABEL, "web")]);
    let cases: [(&str, &Selector, SelectorTarget, Selector); 6] = [
        (
            "user's selector to a revision",
            &user,
            revision("blue"),
            on_blue.clone(),
        ),
        (
            "one revision to another",
            &on_blue,
            revision("green"),
            selector(&[
                ("app", "web"),
                ("tier", "frontend"),
                (TARGET_LABEL, "web"),
                (REVISION_LABEL, "green"),
            ]),
        ),
        (
            "a revision to itself",
            &on_blue,
            revision("blue"),
            on_blue.clone(),
        ),
        (
            "spanning two revisions drops the revision label",
            &on_blue,
            spanning("blue", "green"),
            spanning_selector.clone(),
        ),
        (
            "spanning from the user's selector still excludes the user's pods",
            &user,
            spanning("blue", "green"),
            spanning_selector.clone(),
        ),
        (
            "spanning one revision is that revision",
            &spanning_selector,
            spanning("blue", "blue"),
            on_blue.clone(),
        ),
    ];
    for (case, current, to, expected) in cases {
        assert_eq!(desired_selector(current, "web", &to), expected, "{case}");
    }
}

#[test]
fn spanning_keeps_only_shared_pairs_and_matches_both_revisions() {
    let blue = revision_selector(&selector(&[("app", "web")]), "web", "blue");
    let green = revision_selector(&selector(&[("app", "web")]), "web", "green");
    let both = spanning_selector(&blue, &green);
    assert_eq!(both, selector(&[("app", "web"), (TARGET_LABEL, "web")]));
    let blue_pod = selector(&[
        ("app", "web"),
        (TARGET_LABEL, "web"),
        (REVISION_LABEL, "blue"),
        ("x", "1"),
    ]);
    let green_pod = selector(&[
        ("app", "web"),
        (TARGET_LABEL, "web"),
        (REVISION_LABEL, "green"),
    ]);
    let user_pod = selector(&[("app", "web"), ("pod-template-hash", "abc")]);
    for (pod, matches_both, matches_blue) in [
        (&blue_pod, true, true),
        (&green_pod, true, false),
        (&user_pod, false, false),
    ] {
        assert_eq!(selector_matches(&both, pod), matches_both, "{pod:?}");
        assert_eq!(selector_matches(&blue, pod), matches_blue, "{pod:?}");
    }
}

fn route(value: serde_json::Value) -> HttpRouteSpec {
    serde_json::from_value(value).expect("a route spec")
}

fn two_rules() -> HttpRouteSpec {
    route(json!({"rules": [
        {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
         "backendRefs": [
            {"name": "web-stable", "port": 80, "weight": 100},
            {"name": "web-canary", "port": 80, "weight": 0},
            {"name": "mirror", "port": 80, "weight": 5}
        ]},
        {"backendRefs": [{"name": "static", "port": 80}]},
        {"backendRefs": [
            {"name": "web-canary", "port": 80},
            {"name": "web-stable", "port": 80, "kind": "Service", "group": ""}
        ]}
    ]}))
}

fn reference(rule: Option<i32>) -> HttpRouteReference {
    HttpRouteReference {
        name: "web".into(),
        rule,
    }
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

#[test]
fn weight_patch_tests_names_and_adds_only_changed_weights() {
    // Case, rule, desired weights, expected operations.
    type Case = (&'static str, Option<i32>, Vec<BackendWeight>, Vec<Value>);
    let cases: [Case; 4] = [
        ("nothing to change", Some(0), weights(100, 0), vec![]),
        (
            "one rule",
            Some(0),
            weights(90, 10),
            vec![
                json!({"op": "test", "path": "/spec/rules/0/backendRefs/0/name", "value": "web-stable"}),
                json!({"op": "add", "path": "/spec/rules/0/backendRefs/0/weight", "value": 90}),
                json!({"op": "test", "path": "/spec/rules/0/backendRefs/1/name", "value": "web-canary"}),
                json!({"op": "add", "path": "/spec/rules/0/backendRefs/1/weight", "value": 10}),
            ],
        ),
        (
            "every rule naming the services, absent weights included",
            None,
            weights(100, 0),
            vec![
                json!({"op": "test", "path": "/spec/rules/2/backendRefs/1/name", "value": "web-stable"}),
                json!({"op": "add", "path": "/spec/rules/2/backendRefs/1/weight", "value": 100}),
                json!({"op": "test", "path": "/spec/rules/2/backendRefs/0/name", "value": "web-canary"}),
                json!({"op": "add", "path": "/spec/rules/2/backendRefs/0/weight", "value": 0}),
            ],
        ),
        (
            "only the canary moves",
            Some(0),
            weights(100, 20),
            vec![
                json!({"op": "test", "path": "/spec/rules/0/backendRefs/1/name", "value": "web-canary"}),
                json!({"op": "add", "path": "/spec/rules/0/backendRefs/1/weight", "value": 20}),
            ],
        ),
    ];
    for (case, rule, desired, expected) in cases {
        let operations = weight_patch(&two_rules(), "shop", &reference(rule), &desired).unwrap();
        assert_eq!(operations, expected, "{case}");
        // The operations decode as a JSON patch.
        let _: Patch<()> = Patch::Json(serde_json::from_value(Value::Array(operations)).unwrap());
    }
}

#[test]
fn weights_read_back_with_the_gateway_default() {
    let read = route_weights(
        &two_rules(),
        "shop",
        &reference(None),
        &["web-stable", "web-canary"],
    )
    .unwrap();
    let backend = |service: &str, weight| BackendWeight {
        service: service.into(),
        weight,
    };
    assert_eq!(
        read,
        [
            RuleWeights {
                rule: 0,
                backends: vec![backend("web-stable", 100), backend("web-canary", 0)],
            },
            RuleWeights {
                rule: 2,
                backends: vec![backend("web-canary", 1), backend("web-stable", 1)],
            },
        ]
    );
}

#[test]
fn backends_match_services_of_the_routes_namespace_only() {
    let cases = [
        (json!({"name": "web"}), true),
        (json!({"name": "web", "kind": "Service", "group": ""}), true),
        (json!({"name": "web", "namespace": "shop"}), true),
        (json!({"name": "web", "namespace": "other"}), false),
        (
            json!({"name": "web", "kind": "ServiceImport", "group": "multicluster.x-k8s.io"}),
            false,
        ),
        (json!({"name": "web", "group": "example.com"}), false),
        (json!({"name": "api"}), false),
    ];
    for (backend, expected) in cases {
        let parsed: HttpBackendRef = serde_json::from_value(backend.clone()).unwrap();
        assert_eq!(parsed.is_service("shop", "web"), expected, "{backend}");
    }
}

#[test]
fn unusable_routes_are_refused_with_the_field_named() {
    let cases: [(&str, Option<i32>, Vec<BackendWeight>, &str); 4] = [
        (
            "rule past the end",
            Some(3),
            weights(90, 10),
            "unable to weight HTTPRoute web: spec.target.httpRoute.rule is 3 but the route has 3 rule(s)",
        ),
        (
            "rule without the canary",
            Some(1),
            weights(90, 10),
            "unable to weight HTTPRoute web: spec.rules[1].backendRefs has no entry for Service web-stable; add one (with its port) to the route",
        ),
        (
            "no rule names the services",
            None,
            vec![BackendWeight {
                service: "api".into(),
                weight: 1,
            }],
            "unable to weight HTTPRoute web: no rule has a backendRef to api",
        ),
        (
            "a rule that names only one of them",
            None,
            vec![
                BackendWeight {
                    service: "web-stable".into(),
                    weight: 1,
                },
                BackendWeight {
                    service: "static".into(),
                    weight: 1,
                },
            ],
            "unable to weight HTTPRoute web: spec.rules[0].backendRefs has no entry for Service static; add one (with its port) to the route",
        ),
    ];
    for (case, rule, desired, message) in cases {
        let error = weight_patch(&two_rules(), "shop", &reference(rule), &desired).unwrap_err();
        assert_eq!(error.to_string(), message, "{case}");
    }
}

#[test]
fn traffic_split_is_the_percent_every_rule_agrees_on() {
    let rule = |index, stable, canary| RuleWeights {
        rule: index,
        backends: weights(stable, canary),
    };
    let split = |stable, canary| Some(TrafficSplit { stable, canary });
    let cases: [(&str, Vec<RuleWeights>, Option<TrafficSplit>); 7] = [
        ("percent weights", vec![rule(0, 90, 10)], split(90, 10)),
        ("relative weights", vec![rule(0, 3, 1)], split(75, 25)),
        ("rounding", vec![rule(0, 2, 1)], split(67, 33)),
        (
            "two agreeing rules",
            vec![rule(0, 50, 50), rule(2, 1, 1)],
            split(50, 50),
        ),
        (
            "disagreeing rules",
            vec![rule(0, 90, 10), rule(2, 1, 1)],
            None,
        ),
        ("both zero", vec![rule(0, 0, 0)], None),
        (
            "canary missing",
            vec![RuleWeights {
                rule: 0,
                backends: weights(1, 1)[..1].to_vec(),
            }],
            None,
        ),
    ];
    for (case, rules, expected) in cases {
        assert_eq!(
            traffic_split(&rules, "web-stable", "web-canary"),
            expected,
            "{case}"
        );
    }
}
