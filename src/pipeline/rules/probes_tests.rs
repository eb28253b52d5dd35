//! HTTP and Prometheus rules against local servers, and the dispatch of [`evaluate`].

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::json;

use super::*;

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{address}")
}

fn rule(value: serde_json::Value) -> ConditionRule {
    serde_json::from_value(value).expect("a ConditionRule")
}

fn now() -> Timestamp {
    "2026-12-09T10:00:00Z".parse().unwrap()
}

fn run_context() -> RuleContext {
    RuleContext {
        execution: ExecutionContext {
            id: "web-7f3k2".into(),
            pipeline: "web".into(),
            trigger: "Manual".into(),
            namespace: "shop".into(),
            revision: "4f2a9c1".into(),
        },
        ..RuleContext::default()
    }
}

async fn http_server() -> String {
    serve(
        Router::new()
            .route("/ready", get(|| async { "ready" }))
            .route(
                "/secret-error",
                get(|| async {
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "password=hunter2 stack trace",
                    )
                }),
            )
            .route(
                "/teapot",
                get(|| async { (StatusCode::IM_A_TEAPOT, "short and stout") }),
            )
            .route(
                "/guarded",
                get(|headers: HeaderMap| async move {
                    if headers
                        .get("authorization")
                        .is_some_and(|v| v == "Bearer t0k3n")
                    {
                        (StatusCode::OK, "welcome")
                    } else {
                        (StatusCode::UNAUTHORIZED, "no")
                    }
                }),
            )
            .route(
                "/moved",
                get(|| async { (StatusCode::FOUND, [("location", "/ready")], "") }),
            )
            .route(
                "/large",
                get(|| async { "x".repeat(crate::rollout::http_call::BODY_LIMIT + 10) }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
                    "late"
                }),
            ),
    )
    .await
}

#[tokio::test]
async fn http_rules_pass_on_expected_statuses_and_report_only_status_and_size() {
    let base = http_server().await;
    let token = json!([{"name": "Authorization", "value": "Bearer t0k3n"}]);
    let cases = [
        (
            "any 2xx passes when no status is listed",
            json!({"url": format!("{base}/ready")}),
            true,
            format!("GET {base}/ready answered HTTP 200 (5 bytes); expected any 2xx"),
        ),
        (
            "a 5xx fails, and its body stays out of the message",
            json!({"url": format!("{base}/secret-error")}),
            false,
            format!("GET {base}/secret-error answered HTTP 500 (28 bytes); expected any 2xx"),
        ),
        (
            "a listed status passes",
            json!({"url": format!("{base}/teapot"), "expectedStatuses": [418, 503]}),
            true,
            format!("GET {base}/teapot answered HTTP 418 (15 bytes); expected 418, 503"),
        ),
        (
            "a 2xx fails when it is not listed",
            json!({"url": format!("{base}/ready"), "expectedStatuses": [204]}),
            false,
            format!("GET {base}/ready answered HTTP 200 (5 bytes); expected 204"),
        ),
        (
            "headers are sent and never quoted",
            json!({"url": format!("{base}/guarded"), "headers": token}),
            true,
            format!("GET {base}/guarded answered HTTP 200 (7 bytes); expected any 2xx"),
        ),
        (
            "a redirect is the answer, not followed",
            json!({"url": format!("{base}/moved")}),
            false,
            format!("GET {base}/moved answered HTTP 302 (0 bytes); expected any 2xx"),
        ),
        (
            "a body over the read limit is counted as more than it",
            json!({"url": format!("{base}/large")}),
            true,
            format!("GET {base}/large answered HTTP 200 (more than 65536 bytes); expected any 2xx"),
        ),
    ];
    for (behaviour, http, passed, detail) in cases {
        let outcome = evaluate(
            &rule(json!({"name": "probe", "http": http})),
            &run_context(),
            now(),
        )
        .await;
        assert_eq!(
            outcome,
            RuleOutcome {
                passed,
                message: format!("rule probe: {detail}"),
            },
            "{behaviour}"
        );
        assert!(!outcome.message.contains("hunter2"), "{behaviour}");
        assert!(!outcome.message.contains("t0k3n"), "{behaviour}");
    }
}

#[tokio::test]
async fn http_rules_fail_on_timeouts_and_unreachable_hosts() {
    let base = http_server().await;
    let started = std::time::Instant::now();
    let slow = evaluate(
        &rule(json!({"name": "slow", "http": {"url": format!("{base}/slow"), "timeout": "200ms"}})),
        &run_context(),
        now(),
    )
    .await;
    assert!(!slow.passed);
    assert!(
        slow.message.contains("no answer within 200ms"),
        "{}",
        slow.message
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let refused = evaluate(
        &rule(json!({"name": "down", "http": {"url": format!("http://{closed}/")}})),
        &run_context(),
        now(),
    )
    .await;
    assert!(!refused.passed);
    assert!(
        refused.message.starts_with("rule down: unable to call"),
        "{}",
        refused.message
    );
}

#[tokio::test]
async fn prometheus_rules_substitute_the_run_and_judge_the_first_sample() {
    let queries = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = queries.clone();
    let base = serve(Router::new().route(
        "/api/v1/query",
        get(move |RawQuery(raw): RawQuery| {
            let seen = seen.clone();
            async move {
                let query = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                    .find(|(name, _)| name == "query")
                    .map(|(_, value)| value.into_owned())
                    .unwrap_or_default();
                seen.lock().unwrap().push(query);
                axum::Json(json!({
                    "status": "success",
                    "data": {"resultType": "vector", "result": [
                        {"metric": {}, "value": [1_765_000_000, "0.02"]},
                        {"metric": {}, "value": [1_765_000_000, "0.07"]}
                    ]}
                }))
            }
        }),
    ))
    .await;
    let check = |condition: &str| {
        rule(json!({"name": "errors", "prometheus": {
            "address": base,
            "query": "rate(errors{namespace=\"{{namespace}}\", revision=\"{{revision}}\"}[5m])",
            "successCondition": condition
        }}))
    };
    let passed = evaluate(&check("result < 0.05"), &run_context(), now()).await;
    assert_eq!(
        passed,
        RuleOutcome {
            passed: true,
            message: "rule errors: result < 0.05 holds (result = 0.02, 2 samples)".into(),
        }
    );
    let failed = evaluate(&check("results.all(x, x < 0.05)"), &run_context(), now()).await;
    assert!(!failed.passed, "{failed:?}");
    assert_eq!(
        queries.lock().unwrap()[0],
        "rate(errors{namespace=\"shop\", revision=\"4f2a9c1\"}[5m])"
    );
}

#[tokio::test]
async fn evaluate_dispatches_and_evaluate_local_leaves_io_to_the_caller() {
    let expression = rule(json!({"name": "main", "expression": "execution.trigger == 'Manual'"}));
    let window = rule(json!({"name": "hours", "deploymentWindow": {
        "cron": "0 9 * * MON-FRI", "duration": "8h", "timeZone": "UTC"
    }}));
    let http = rule(json!({"name": "up", "http": {"url": "http://127.0.0.1:9/"}}));
    let none = rule(json!({"name": "empty"}));
    let both =
        rule(json!({"name": "two", "expression": "true", "http": {"url": "http://127.0.0.1:9/"}}));

    let local = |rule: &ConditionRule| evaluate_local(rule, &run_context(), now());
    assert_eq!(local(&expression).map(|o| o.passed), Some(true));
    assert_eq!(local(&window).map(|o| o.passed), Some(true));
    assert_eq!(local(&http), None, "HTTP rules need I/O");
    assert_eq!(
        local(&none),
        Some(RuleOutcome::fail(
            "empty",
            "sets none: set exactly one of expression, deploymentWindow, http or prometheus"
        ))
    );
    assert_eq!(
        local(&both).map(|o| o.message),
        Some("rule two: sets expression and http: set exactly one of expression, deploymentWindow, http or prometheus".into())
    );
    for pure in [&expression, &window, &none, &both] {
        assert_eq!(
            Some(evaluate(pure, &run_context(), now()).await),
            local(pure)
        );
    }
}
