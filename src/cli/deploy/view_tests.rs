//! The status view, the list table and how a watch ends.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::json;

use super::request_tests::record;
use super::view::{render_list, render_status, watch_outcome};

fn time(text: &str) -> Time {
    Time(text.parse().expect("an RFC 3339 time"))
}

#[test]
fn status_shows_steps_traffic_revisions_hooks_checks_and_the_last_condition() {
    let mut canary = record(
        json!({"canary": {"percent": 50, "interval": "5m"}}),
        json!({}),
        json!({
            "phase": "InProgress", "stage": "AllowTraffic",
            "message": "step 0: 50% of traffic, baking until 2025-05-01T10:05:00Z",
            "currentStep": 0, "totalSteps": 2,
            "trafficSplit": {"stable": 50, "canary": 50},
            "stableRevision": {"hash": "5d8f", "replicas": 2, "readyReplicas": 2,
                "workload": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web-5d8f"},
                "images": [{"container": "web", "image": "shop/web:1"}]},
            "canaryRevision": {"hash": "7c1a", "replicas": 2, "readyReplicas": 1,
                "workload": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web-7c1a"},
                "images": [{"container": "web", "image": "shop/web:2"}]},
            "lifecycleEvents": [
                {"name": "BeforeInstall", "status": "Succeeded",
                 "child": {"apiVersion": "batch/v1", "kind": "Job", "name": "web-v2-beforeinstall"}},
                {"name": "Install", "status": "Succeeded"}
            ],
            "healthChecks": [{"name": "ok", "result": "Healthy", "probes": 4,
                              "consecutiveSuccesses": 4, "message": "200 OK"}],
            "conditions": [
                {"type": "Ready", "status": "False", "reason": "Progressing", "message": "rolling out",
                 "lastTransitionTime": "2025-05-01T10:00:00Z"},
                {"type": "Reconciling", "status": "True", "reason": "Shifting", "message": "50% on 7c1a",
                 "lastTransitionTime": "2025-05-01T10:00:30Z"}
            ]
        }),
    );
    canary.spec.template.target.http_route =
        Some(serde_json::from_value(json!({"name": "web"})).unwrap());
    canary.spec.template.health_checks = vec![
        serde_json::from_value(json!({"name": "ok", "http": {"port": 8080, "path": "/healthz"}}))
            .unwrap(),
    ];
    assert_eq!(
        render_status(&canary),
        "\
Name:         web-v2 (namespace shop)
Phase:        InProgress (stage AllowTraffic)
Message:      step 0: 50% of traffic, baking until 2025-05-01T10:05:00Z
Strategy:     canary: 50%, the rest after 5m via weights on HTTPRoute web
Steps:        [step 0 (50% of traffic, bake 300s)] → step 1 (100% of traffic)
Traffic:      50% stable, 50% new
Stable:       5d8f  2/2 Ready  deployment web-5d8f  shop/web:1
New:          7c1a  1/2 Ready  deployment web-7c1a  shop/web:2
Lifecycle:
  BeforeInstall          Succeeded  job web-v2-beforeinstall
  Install                Succeeded
Health checks:
  ok                     http       Healthy  4 probes, 0 failing in a row (fails at 3)  200 OK
Condition:    Reconciling=True Shifting: 50% on 7c1a
"
    );
}

#[test]
fn a_blue_green_wait_tells_how_to_promote_and_a_rollback_says_why() {
    let waiting = record(
        json!({"blueGreen": {"readyOption": {"action": "Wait", "waitTimeout": "1h"}}}),
        json!({}),
        json!({"phase": "Ready", "stage": "AwaitPromote", "currentStep": 0,
               "message": "new revision Ready; waiting for a promote before rerouting"}),
    );
    let text = render_status(&waiting);
    assert!(
        text.contains(
            "Strategy:     all at once via Service web selector, waits for a promote (up to 1h)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("Steps:        [step 0 (the blue-green wait)] → step 1 (100% of traffic)\n"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "Next:         waiting for a promote: kubectl slipway deploy promote web-v2 -n shop\n"
        ),
        "{text}"
    );

    let rolled_back = record(
        json!({}),
        json!({"stop": {"rollback": true, "reason": "bad metrics"}}),
        json!({"phase": "Stopped", "stage": "Done", "message": "stopped: bad metrics",
               "rollback": {"reason": "DeploymentStopOnRequest", "message": "bad metrics",
                            "startTime": "2025-05-01T10:00:00Z", "completionTime": "2025-05-01T10:00:04Z"}}),
    );
    let text = render_status(&rolled_back);
    assert!(
        text.starts_with("Name:         web-v2 (namespace shop)\nPhase:        Stopped\n"),
        "{text}"
    );
    assert!(
        text.contains("Rollback:     DeploymentStopOnRequest: bad metrics (traffic restored at 2025-05-01T10:00:04Z)\n"),
        "{text}"
    );
    assert!(!text.contains("Next:"), "{text}");
}

#[test]
fn a_watch_ends_with_the_rollout_and_fails_unless_it_succeeded() {
    let cases = [
        ("InProgress", None),
        ("Ready", None),
        ("Baking", None),
        ("Succeeded", Some(Ok(()))),
        (
            "Failed",
            Some(Err(
                "deployments.slipway.dev web-v2 ended Failed: the last word".to_owned(),
            )),
        ),
        (
            "Stopped",
            Some(Err(
                "deployments.slipway.dev web-v2 ended Stopped: the last word".to_owned(),
            )),
        ),
    ];
    for (phase, outcome) in cases {
        let watched = record(
            json!({}),
            json!({}),
            json!({"phase": phase, "message": "the last word"}),
        );
        assert_eq!(watch_outcome(&watched), outcome, "for {phase}");
    }
}

#[test]
fn list_prints_a_kubectl_style_table() {
    let mut first = record(
        json!({}),
        json!({}),
        json!({"phase": "InProgress", "currentStep": 1, "totalSteps": 3,
               "trafficSplit": {"stable": 90, "canary": 10}, "canaryRevision": {"hash": "7c1a"},
               "message": "step 1: 10% of traffic"}),
    );
    first.metadata.creation_timestamp = Some(time("2025-05-01T10:00:00Z"));
    let mut second = record(json!({}), json!({}), json!(null));
    second.metadata.name = Some("api-v10".into());
    second.metadata.namespace = Some("api".into());
    let now = time("2025-05-01T10:03:30Z");
    assert_eq!(
        render_list(&[first.clone(), second.clone()], &now, false),
        "\
NAME      PHASE        STEP   WEIGHT   REVISION   AGE   MESSAGE
web-v2    InProgress   1/3    10       7c1a       3m    step 1: 10% of traffic
api-v10   -            -      -        -          -
"
    );
    assert!(
        render_list(&[first, second], &now, true).starts_with(
            "NAMESPACE   NAME      PHASE        STEP   WEIGHT   REVISION   AGE   MESSAGE\nshop        web-v2 "
        )
    );
}
