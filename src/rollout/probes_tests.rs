use super::*;
use serde_json::json;

/// Case, check, pods, default port, expected URLs.
type UrlCase<'a> = (
    &'a str,
    Value,
    &'a [PodTarget],
    Option<i32>,
    Result<Vec<(String, String, bool)>, String>,
);
/// Case, response body, expected values.
type SampleCase = (&'static str, String, Result<Vec<f64>, String>);
/// Case, check, pods, required Ready, passed, message.
type ReadinessCase<'a> = (&'a str, &'a ReadinessCheck, Vec<Pod>, i32, bool, &'a str);

fn now() -> Time {
    Time("2026-11-26T05:00:00Z".parse().unwrap())
}

fn check(value: Value) -> HttpCheck {
    serde_json::from_value(value).unwrap()
}

fn pods(ips: &[(&str, &str)]) -> Vec<PodTarget> {
    ips.iter()
        .map(|(name, ip)| PodTarget {
            name: (*name).into(),
            ip: (*ip).into(),
        })
        .collect()
}

#[test]
fn http_probes_target_the_url_or_each_pod() {
    let two = pods(&[("web-a", "10.0.0.1"), ("web-b", "fd00::2")]);
    let cases: [UrlCase; 5] = [
        (
            "a URL, verified",
            json!({"url": "https://shop.example.com/health"}),
            &two,
            None,
            Ok(vec![(
                "https://shop.example.com/health".into(),
                "https://shop.example.com/health".into(),
                true,
            )]),
        ),
        (
            "pods at the check's port",
            json!({"port": 9090, "path": "/ready"}),
            &two,
            Some(8080),
            Ok(vec![
                (
                    "pod web-a".into(),
                    "http://10.0.0.1:9090/ready".into(),
                    false,
                ),
                (
                    "pod web-b".into(),
                    "http://[fd00::2]:9090/ready".into(),
                    false,
                ),
            ]),
        ),
        (
            "pods at the target port over HTTPS",
            json!({"scheme": "HTTPS"}),
            &two[..1],
            Some(8443),
            Ok(vec![(
                "pod web-a".into(),
                "https://10.0.0.1:8443/".into(),
                false,
            )]),
        ),
        (
            "no port",
            json!({}),
            &two,
            None,
            Err("no port to probe: set the health check's http.port or spec.target.port".into()),
        ),
        (
            "no pods",
            json!({}),
            &[],
            Some(80),
            Err("no pods of the new revision to probe".into()),
        ),
    ];
    for (case, value, targets, port, expected) in cases {
        assert_eq!(
            http_probe_urls(&check(value), targets, port),
            expected,
            "{case}"
        );
    }
}

#[test]
fn expected_statuses_default_to_any_2xx() {
    let any = check(json!({}));
    let listed = check(json!({"expectedStatuses": [200, 418]}));
    for (status, by_default, by_list) in [
        (200, true, true),
        (204, true, false),
        (301, false, false),
        (418, false, true),
        (500, false, false),
    ] {
        assert_eq!(status_expected(&any, status), by_default, "{status}");
        assert_eq!(status_expected(&listed, status), by_list, "{status}");
    }
}

#[test]
fn prometheus_results_read_as_doubles() {
    let vector = |values: &[&str]| {
        json!({"status": "success", "data": {"resultType": "vector", "result":
            values.iter().map(|v| json!({"metric": {"pod": "x"}, "value": [1_700_000_000.5, v]})).collect::<Vec<_>>()}})
        .to_string()
    };
    let cases: [SampleCase; 7] = [
        ("one series", vector(&["0.97"]), Ok(vec![0.97])),
        ("two series", vector(&["1", "0.5"]), Ok(vec![1.0, 0.5])),
        ("no series", vector(&[]), Ok(vec![])),
        (
            "infinities",
            vector(&["+Inf", "-Inf"]),
            Ok(vec![f64::INFINITY, f64::NEG_INFINITY]),
        ),
        (
            "a scalar",
            json!({"status": "success", "data": {"resultType": "scalar", "result": [1.0, "42"]}})
                .to_string(),
            Ok(vec![42.0]),
        ),
        (
            "a range vector",
            json!({"status": "success", "data": {"resultType": "matrix", "result": []}})
                .to_string(),
            Err(
                "the query returned a matrix; use a query that returns an instant vector or scalar"
                    .into(),
            ),
        ),
        (
            "an error",
            json!({"status": "error", "errorType": "bad_data", "error": "parse error at char 4"})
                .to_string(),
            Err("Prometheus answered bad_data: parse error at char 4".into()),
        ),
    ];
    for (case, body, expected) in cases {
        assert_eq!(sample_values(&body), expected, "{case}");
    }
    let nan = sample_values(&vector(&["NaN"])).unwrap();
    assert!(nan[0].is_nan());
    assert!(
        sample_values("<html>")
            .unwrap_err()
            .starts_with("the answer is not Prometheus JSON")
    );
}

#[test]
fn success_conditions_are_cel_over_result_and_results() {
    let cases: [(&str, &[f64], Result<bool, &str>); 11] = [
        ("result >= 0.95", &[0.97], Ok(true)),
        ("result >= 0.95", &[0.90], Ok(false)),
        ("result < 0.05", &[0.01, 0.9], Ok(true)),
        ("result > 0", &[0.5], Ok(true)),
        ("results.all(x, x < 0.05)", &[0.01, 0.9], Ok(false)),
        (
            "size(results) == 2 && results[1] == 0.9",
            &[0.01, 0.9],
            Ok(true),
        ),
        ("result == result", &[f64::NAN], Ok(false)),
        ("result < 0.05", &[], Err("the query returned no samples")),
        (
            "result + 1.0",
            &[1.0],
            Err("successCondition gave Float(2.0), not a boolean"),
        ),
        (
            "result >=",
            &[1.0],
            Err("successCondition does not compile"),
        ),
        (
            "missing > 1.0",
            &[1.0],
            Err("successCondition failed to evaluate"),
        ),
    ];
    for (condition, values, expected) in cases {
        let got = evaluate_success_condition(condition, values);
        match expected {
            Ok(passed) => assert_eq!(got, Ok(passed), "{condition} over {values:?}"),
            Err(start) => {
                let message = got.expect_err(condition);
                assert!(message.starts_with(start), "{condition}: {message}");
            }
        }
    }
}

#[test]
fn prometheus_queries_are_substituted_and_encoded() {
    let check = PrometheusCheck {
        address: "http://prometheus:9090/".into(),
        query: r#"sum(rate(http_requests_total{revision="{{revision}}",namespace="{{namespace}}",code!~"5.."}[1m]))"#.into(),
        success_condition: "result > 0".into(),
    };
    assert_eq!(
        prometheus_query_url(&check, "abc123", "shop"),
        "http://prometheus:9090/api/v1/query?query=sum%28rate%28http_requests_total%7Brevision%3D%22abc123%22%2Cnamespace%3D%22shop%22%2Ccode%21%7E%225..%22%7D%5B1m%5D%29%29"
    );
}

fn pod(name: &str, ready: bool, restarts: &[i32], waiting: Option<&str>, terminating: bool) -> Pod {
    let statuses: Vec<Value> = restarts
        .iter()
        .enumerate()
        .map(|(index, count)| {
            let state = match waiting {
                Some(reason) if index == 0 => json!({"waiting": {"reason": reason}}),
                _ => json!({"running": {}}),
            };
            json!({"name": format!("c{index}"), "image": "i", "imageID": "", "ready": ready,
                   "restartCount": count, "state": state})
        })
        .collect();
    let mut value = json!({
        "metadata": {"name": name},
        "status": {
            "podIP": "10.0.0.1",
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "containerStatuses": statuses
        }
    });
    if terminating {
        value["metadata"]["deletionTimestamp"] = json!("2026-11-26T04:59:00Z");
    }
    serde_json::from_value(value).unwrap()
}

#[test]
fn readiness_counts_ready_pods_restarts_and_stuck_containers() {
    let tolerant = ReadinessCheck { max_restarts: 2 };
    let strict = ReadinessCheck { max_restarts: 0 };
    let cases: [ReadinessCase; 7] = [
        (
            "all ready",
            &strict,
            vec![
                pod("a", true, &[0], None, false),
                pod("b", true, &[0, 0], None, false),
            ],
            2,
            true,
            "2/2 pods Ready, 0 restart(s)",
        ),
        (
            "too few ready",
            &strict,
            vec![
                pod("a", true, &[0], None, false),
                pod("b", false, &[0], None, false),
            ],
            2,
            false,
            "1/2 pods Ready, 0 restart(s)",
        ),
        (
            "terminating pods do not count",
            &strict,
            vec![
                pod("a", true, &[0], None, false),
                pod("b", true, &[5], None, true),
            ],
            2,
            false,
            "1/2 pods Ready, 0 restart(s)",
        ),
        (
            "restarts within the tolerance",
            &tolerant,
            vec![
                pod("a", true, &[1], None, false),
                pod("b", true, &[1], None, false),
            ],
            2,
            true,
            "2/2 pods Ready, 2 restart(s)",
        ),
        (
            "restarts past the tolerance",
            &tolerant,
            vec![
                pod("a", true, &[1], None, false),
                pod("b", true, &[0, 2], None, false),
            ],
            1,
            false,
            "3 container restart(s), more than the 2 tolerated; pod b container c1 restarted 2 time(s)",
        ),
        (
            "crash looping",
            &tolerant,
            vec![pod("a", false, &[0], Some("CrashLoopBackOff"), false)],
            0,
            false,
            "pod a container c0 is in CrashLoopBackOff",
        ),
        (
            "creating is not stuck",
            &strict,
            vec![pod("a", false, &[0], Some("ContainerCreating"), false)],
            0,
            true,
            "0/0 pods Ready, 0 restart(s)",
        ),
    ];
    for (case, check, pods, required, passed, message) in cases {
        let outcome = readiness_probe(check, &pods, required, now());
        assert_eq!(
            (outcome.passed, outcome.message.as_str()),
            (passed, message),
            "{case}"
        );
        assert_eq!(outcome.observed_at, now(), "{case}");
    }
}

#[test]
fn probe_targets_skip_terminating_pods_and_pods_without_ip() {
    let mut no_ip = pod("c", false, &[0], None, false);
    no_ip.status.as_mut().unwrap().pod_ip = None;
    let targets = pod_targets(&[
        pod("a", true, &[0], None, false),
        pod("b", true, &[0], None, true),
        no_ip,
    ]);
    assert_eq!(targets, pods(&[("a", "10.0.0.1")]));
}

#[test]
fn check_jobs_are_named_per_probe_and_read_from_conditions() {
    let owner = JobOwner {
        name: "web-rollout".into(),
        namespace: "shop".into(),
        uid: "u-1".into(),
    };
    let run = |probe| CheckRun {
        owner: &owner,
        check: "smoke",
        revision: "abc",
        probe,
    };
    let spec: JobSpec = serde_json::from_value(
        json!({"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}),
    )
    .unwrap();
    let first = render_check_job(&run(0), &spec, Duration::from_secs(5));
    let second = render_check_job(&run(1), &spec, Duration::from_secs(5));
    assert_ne!(first.metadata.name, second.metadata.name);
    let value = serde_json::to_value(&first).unwrap();
    assert_eq!(value["spec"]["activeDeadlineSeconds"], 5);
    assert_eq!(
        value["metadata"]["labels"][crate::runtime::labels::PURPOSE_LABEL],
        "health-check"
    );
    assert_eq!(
        value["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "SLIPWAY_DEPLOYMENT", "value": "web-rollout"},
               {"name": "SLIPWAY_HEALTH_CHECK", "value": "smoke"},
               {"name": "SLIPWAY_REVISION", "value": "abc"}])
    );
    assert_eq!(check_job_outcome(&first, now()), None);
    let mut failed = first.clone();
    failed.status = Some(serde_json::from_value(json!({"conditions": [
        {"type": "Failed", "status": "True", "reason": "DeadlineExceeded", "message": "Job was active longer than specified deadline"}
    ]})).unwrap());
    let outcome = check_job_outcome(&failed, now()).unwrap();
    assert!(!outcome.passed);
    assert!(
        outcome
            .message
            .ends_with("failed: DeadlineExceeded: Job was active longer than specified deadline")
    );
}
