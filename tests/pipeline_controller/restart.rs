//! The controller killed (SIGKILL, as a separate process) at arbitrary points of a run — between
//! a child's create and the status write included — leaves exactly one child per action attempt
//! and the run still reaches its end.

use std::process::{Child, Command, Stdio};

use super::*;

/// `slipway controller` as its own process against the test cluster.
fn controller_process(kubeconfig: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args([
            "controller",
            "--http-addr",
            "127.0.0.1:0",
            "--webhook-addr",
            "127.0.0.1:0",
            "--log-level",
            "warn",
        ])
        .env("KUBECONFIG", kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the controller process")
}

/// Three stages of two parallel Jobs each, so every reconcile creates children.
fn jobs_pipeline() -> Value {
    let job = |name: &str| json!({"name": name, "job": {"template": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}});
    json!({
        "source": {"git": {"url": "https://git.test/shop/web.git", "pollInterval": "0s"}},
        "executionMode": "Queued",
        "stages": [
            {"name": "One", "actions": [job("a"), job("b")]},
            {"name": "Two", "actions": [job("c"), job("d")]},
            {"name": "Three", "actions": [job("e"), job("f")]}
        ]
    })
}

#[tokio::test]
async fn killing_the_controller_at_random_points_leaves_one_child_per_action_attempt() {
    let harness = Harness::without_controller().await;
    // Jobs that take a while, so kills land while actions run and between their transitions.
    harness
        .simulation
        .set_defaults(slipway_testcluster::simulate::BehaviourDefaults {
            complete_after: Duration::from_millis(900),
            ..Default::default()
        });
    let kubeconfig = support::plugin::Kubeconfig::for_cluster(&harness.cluster, "pipeline-kills");
    harness.pipeline("jobs", jobs_pipeline()).await;
    harness
        .start_run("jobs", "jobs-1", "0123456789abcdef0123456789abcdef01234567")
        .await;
    // A fixed seed: the same kill points on every run of the test, spread over the reconciles.
    let mut seed: u64 = 0x5eed_1234;
    let mut kills = 0;
    for _ in 0..40 {
        let mut process = controller_process(&kubeconfig.path);
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay = 200 + (seed >> 33) % 1000;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        process.kill().expect("SIGKILL the controller");
        let _ = process.wait();
        kills += 1;
        let run = harness.runs().get("jobs-1").await.unwrap();
        if phase_of(&run).is_some_and(|phase| phase != ExecutionStatus::InProgress) {
            break;
        }
    }
    // Let a last controller finish what the kills left.
    let mut process = controller_process(&kubeconfig.path);
    let run = harness
        .wait_phase("jobs-1", ExecutionStatus::Succeeded, 60)
        .await;
    process.kill().expect("stop the controller");
    let _ = process.wait();
    let jobs = harness
        .jobs()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    let mut names: Vec<String> = jobs
        .iter()
        .map(|job| job.metadata.name.clone().unwrap())
        .collect();
    names.sort();
    let mut expected: Vec<String> = [
        ("One", "a"),
        ("One", "b"),
        ("Two", "c"),
        ("Two", "d"),
        ("Three", "e"),
        ("Three", "f"),
    ]
    .iter()
    .map(|(stage, action)| child_name("jobs-1", stage, action, 1))
    .collect();
    expected.sort();
    assert_eq!(
        names, expected,
        "exactly one Job per action after {kills} kills"
    );
    for job in &jobs {
        let owner = &job.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            Some(owner.uid.clone()),
            run.metadata.uid,
            "owned by the run, matched by UID"
        );
    }
    let status = run.status.unwrap();
    assert!(
        status.stages.iter().all(|stage| stage.attempt == 1),
        "no stage ran twice"
    );
    assert!(kills >= 3, "the kills happened while the run ran ({kills})");
    eprintln!("{kills} kills before the run ended");
}
