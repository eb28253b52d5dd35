use super::*;
use serde_json::json;

fn owner(name: &str, uid: &str) -> JobOwner {
    JobOwner {
        name: name.into(),
        namespace: "shop".into(),
        uid: uid.into(),
    }
}

fn spec(value: serde_json::Value) -> JobSpec {
    serde_json::from_value(value).unwrap()
}

fn smoke_test() -> JobSpec {
    spec(json!({"template": {"spec": {
        "initContainers": [{"name": "wait", "image": "busybox", "env": [{"name": "SLIPWAY_REVISION", "value": "stale"}]}],
        "containers": [{"name": "check", "image": "curl", "env": [{"name": "KEEP", "value": "1"}]}]
    }}}))
}

#[test]
fn job_names_are_deterministic_unique_per_key_and_owner_and_short() {
    let web = owner("web-rollout", "uid-1");
    let name = job_name(&web, "hook", "BeforeInstall/0");
    assert_eq!(name, job_name(&web, "hook", "BeforeInstall/0"));
    assert!(name.starts_with("web-rollout-hook-"), "{name}");
    let others = [
        job_name(&web, "hook", "BeforeInstall/1"),
        job_name(&web, "hook", "AfterInstall/0"),
        job_name(&owner("web-rollout", "uid-2"), "hook", "BeforeInstall/0"),
        job_name(&web, "health-check", "BeforeInstall/0"),
    ];
    for other in &others {
        assert_ne!(&name, other);
    }
    let long = job_name(&owner(&"x".repeat(200), "uid"), "health-check", "smoke/3");
    assert!(long.len() <= 63, "{long}");
    assert!(long.ends_with(&format!("-health-check-{}", &long[long.len() - 10..])));
}

#[test]
fn rendered_job_is_owned_bounded_and_carries_the_environment() {
    let web = owner("web-rollout", "uid-1");
    let user_spec = smoke_test();
    let job = render_job(&JobRequest {
        owner: &web,
        purpose: "hook",
        key: "BeforeInstall/0",
        spec: &user_spec,
        env: vec![
            ("SLIPWAY_REVISION".into(), "abc".into()),
            ("SLIPWAY_DEPLOYMENT".into(), "web-rollout".into()),
        ],
        timeout: Duration::from_secs(3600),
    });
    let value = serde_json::to_value(&job).unwrap();
    assert_eq!(
        value["metadata"]["ownerReferences"],
        json!([{"apiVersion": "slipway.dev/v1alpha1", "kind": "Deployment", "name": "web-rollout",
                "uid": "uid-1", "controller": true, "blockOwnerDeletion": true}])
    );
    assert_eq!(value["metadata"]["namespace"], "shop");
    assert_eq!(
        value["metadata"]["labels"],
        json!({DEPLOYMENT_LABEL: "web-rollout", PURPOSE_LABEL: "hook", MANAGED_BY_LABEL: "slipway"})
    );
    assert_eq!(value["spec"]["activeDeadlineSeconds"], 3600);
    assert_eq!(value["spec"]["backoffLimit"], 0);
    assert_eq!(value["spec"]["template"]["spec"]["restartPolicy"], "Never");
    assert_eq!(
        value["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "KEEP", "value": "1"}, {"name": "SLIPWAY_REVISION", "value": "abc"},
               {"name": "SLIPWAY_DEPLOYMENT", "value": "web-rollout"}])
    );
    assert_eq!(
        value["spec"]["template"]["spec"]["initContainers"][0]["env"],
        json!([{"name": "SLIPWAY_REVISION", "value": "abc"}, {"name": "SLIPWAY_DEPLOYMENT", "value": "web-rollout"}]),
        "a same-named variable is replaced"
    );
}

#[test]
fn the_users_own_limits_are_kept_when_stricter() {
    let cases = [
        (json!({}), Duration::from_secs(60), (60, 0, "Never")),
        (
            json!({"activeDeadlineSeconds": 30, "backoffLimit": 2}),
            Duration::from_secs(60),
            (30, 2, "Never"),
        ),
        (
            json!({"activeDeadlineSeconds": 300}),
            Duration::from_secs(60),
            (60, 0, "Never"),
        ),
        (json!({}), Duration::from_millis(10), (1, 0, "Never")),
    ];
    for (extra, timeout, (deadline, backoff, restart)) in cases {
        let mut value =
            json!({"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}});
        for (key, field) in extra.as_object().unwrap() {
            value[key] = field.clone();
        }
        let user_spec = spec(value);
        let job = render_job(&JobRequest {
            owner: &owner("r", "u"),
            purpose: "health-check",
            key: "k",
            spec: &user_spec,
            env: vec![],
            timeout,
        });
        let rendered = job.spec.unwrap();
        assert_eq!(rendered.active_deadline_seconds, Some(deadline), "{extra}");
        assert_eq!(rendered.backoff_limit, Some(backoff), "{extra}");
        assert_eq!(
            rendered.template.spec.unwrap().restart_policy.as_deref(),
            Some(restart),
            "{extra}"
        );
    }
    let on_failure = spec(
        json!({"template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "c"}]}}}),
    );
    let job = render_job(&JobRequest {
        owner: &owner("r", "u"),
        purpose: "hook",
        key: "k",
        spec: &on_failure,
        env: vec![],
        timeout: Duration::from_secs(5),
    });
    assert_eq!(
        job.spec
            .unwrap()
            .template
            .spec
            .unwrap()
            .restart_policy
            .as_deref(),
        Some("OnFailure")
    );
}

fn job_with(conditions: serde_json::Value) -> Job {
    serde_json::from_value(json!({"metadata": {"name": "j"}, "status": {"conditions": conditions}}))
        .unwrap()
}

#[test]
fn outcome_follows_the_final_or_interim_conditions() {
    let condition = |kind: &str, status: &str, reason: &str, message: &str| json!({"type": kind, "status": status, "reason": reason, "message": message});
    let cases = [
        ("no status", json!([]), JobOutcome::Running),
        (
            "suspended",
            json!([condition("Suspended", "True", "JobSuspended", "")]),
            JobOutcome::Running,
        ),
        (
            "complete",
            json!([
                condition(
                    "SuccessCriteriaMet",
                    "True",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods"
                ),
                condition(
                    "Complete",
                    "True",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods"
                )
            ]),
            JobOutcome::Succeeded {
                message: "CompletionsReached: Reached expected number of succeeded pods".into(),
            },
        ),
        (
            "interim success",
            json!([condition(
                "SuccessCriteriaMet",
                "True",
                "CompletionsReached",
                ""
            )]),
            JobOutcome::Succeeded {
                message: "CompletionsReached".into(),
            },
        ),
        (
            "deadline",
            json!([condition(
                "FailureTarget",
                "True",
                "DeadlineExceeded",
                "Job was active longer than specified deadline"
            )]),
            JobOutcome::Failed {
                message: "DeadlineExceeded: Job was active longer than specified deadline".into(),
            },
        ),
        (
            "failed",
            json!([condition(
                "Failed",
                "True",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit"
            )]),
            JobOutcome::Failed {
                message: "BackoffLimitExceeded: Job has reached the specified backoff limit".into(),
            },
        ),
        (
            "a false condition means nothing",
            json!([condition("Failed", "False", "X", "")]),
            JobOutcome::Running,
        ),
    ];
    for (case, conditions, expected) in cases {
        assert_eq!(job_outcome(&job_with(conditions)), expected, "{case}");
    }
}

#[test]
fn owners_need_a_name_namespace_and_uid() {
    let mut record: DeploymentRecord = serde_json::from_value(json!({
        "apiVersion": "slipway.dev/v1alpha1", "kind": "Deployment",
        "metadata": {"name": "web-rollout", "namespace": "shop", "uid": "u-9"},
        "spec": {"target": {"service": "web", "workload": "web"},
                 "revision": {"images": [{"container": "web", "image": "web:2"}]}}
    }))
    .unwrap();
    assert_eq!(JobOwner::of(&record).unwrap(), owner("web-rollout", "u-9"));
    record.metadata.uid = None;
    assert!(matches!(
        JobOwner::of(&record),
        Err(JobRunError::OwnerWithoutIdentity)
    ));
}
