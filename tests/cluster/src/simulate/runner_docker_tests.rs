//! Real Docker Engine tests: they build a `FROM scratch` image holding Debian's static busybox
//! and fail (never skip) when the engine or busybox is missing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use super::*;
use crate::simulate::intent::Kind;
use crate::simulate::logs::PodLogs;
use crate::simulate::podspec::{ObjectSource, plan_run};
use crate::simulate::runner::RunEvent;
use crate::simulate::test_images::busybox_image;

struct NoObjects;
impl ObjectSource for NoObjects {
    fn get(&self, _: Kind, _: &str, _: &str) -> Option<Value> {
        None
    }
}

async fn run_pod(
    name: &str,
    containers: Value,
    volumes: Value,
    stop_after: Option<Duration>,
) -> (Vec<RunEvent>, PodLogs) {
    run_pod_with_init(name, json!([]), containers, volumes, stop_after).await
}

async fn run_pod_with_init(
    name: &str,
    init: Value,
    containers: Value,
    volumes: Value,
    stop_after: Option<Duration>,
) -> (Vec<RunEvent>, PodLogs) {
    let pod = json!({
        "metadata": {"name": name, "namespace": "test", "uid": format!("uid-docker-{name}")},
        "spec": {"restartPolicy": "Never", "initContainers": init, "containers": containers, "volumes": volumes},
    });
    let plan = plan_run(&pod, &NoObjects).unwrap();
    let base: PathBuf = std::env::temp_dir().join(format!(
        "slipway-runner-docker-{}-{name}",
        std::process::id()
    ));
    let workspace =
        Arc::new(crate::simulate::workspace::PodWorkspace::create(&base, &plan).unwrap());
    let logs = PodLogs::default();
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let (stop, cancel) = watch::channel(false);
    let context = RunContext {
        plan,
        workspace,
        logs: logs.clone(),
        events: events_tx,
        cancel,
    };
    if let Some(delay) = stop_after {
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = stop.send(true);
        });
    } else {
        std::mem::forget(stop);
    }
    let docker = connect().await;
    assert!(
        docker.is_ok(),
        "these tests need the local Docker Engine: {}",
        docker.as_ref().err().unwrap()
    );
    tokio::time::timeout(Duration::from_secs(60), run_docker(context, docker))
        .await
        .expect("docker run timed out");
    let mut events = Vec::new();
    while let Ok(event) = events_rx.try_recv() {
        events.push(event);
    }
    let _ = std::fs::remove_dir_all(base);
    (events, logs)
}

fn terminated(events: &[RunEvent], container: &str) -> (i32, String, String) {
    events
        .iter()
        .find_map(|e| match &e.state {
            ContainerRun::Terminated {
                exit_code,
                reason,
                message,
                ..
            } if e.container == container => Some((*exit_code, reason.clone(), message.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{container} did not terminate: {events:#?}"))
}

#[tokio::test]
async fn a_container_runs_with_env_volumes_and_a_termination_message() {
    let image = busybox_image();
    let (events, logs) = run_pod(
        "hello",
        json!([
            {"name": "main", "image": image, "command": ["/bin/busybox", "sh", "-c"],
             "args": ["echo hi $GREETING; echo err >&2; cat /data/seed; echo done > /dev/termination-log; exit 4"],
             "env": [{"name": "GREETING", "value": "there"}], "workingDir": "/data",
             "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
            {"name": "seeder", "image": image, "command": ["/bin/busybox", "sh", "-c", "echo seeded > /data/seed"],
             "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
        ]),
        json!([{"name": "data", "emptyDir": {}}]),
        None,
    )
    .await;
    assert_eq!(
        terminated(&events, "main"),
        (4, "Error".into(), "done\n".into())
    );
    assert_eq!(
        terminated(&events, "seeder"),
        (0, "Completed".into(), String::new())
    );
    let log = logs.get("test", "hello", Some("main")).unwrap();
    assert!(log.contains("hi there\n") && log.contains("err\n"), "{log}");
}

#[tokio::test]
async fn a_missing_image_waits_with_err_image_never_pull() {
    let (events, _) = run_pod(
        "noimage",
        json!([{"name": "main", "image": "slipway-testcluster-absent:never"}]),
        json!([]),
        None,
    )
    .await;
    assert!(
        matches!(&events[0].state, ContainerRun::Waiting { reason, .. } if reason == "ErrImageNeverPull"),
        "{events:#?}"
    );
}

#[tokio::test]
async fn cancelling_removes_the_running_container() {
    let image = busybox_image();
    let (events, _) = run_pod(
        "slow",
        json!([{"name": "main", "image": image, "command": ["/bin/busybox", "sleep", "60"]}]),
        json!([]),
        Some(Duration::from_secs(2)),
    )
    .await;
    assert!(
        events
            .iter()
            .all(|e| matches!(e.state, ContainerRun::Running { .. })),
        "{events:#?}"
    );
    let docker = connect().await.unwrap();
    let name = "testcluster_test_slow_main_uiddockerslo";
    assert!(
        docker.inspect_container(name, None).await.is_err(),
        "container {name} was left behind"
    );
}

#[tokio::test]
async fn init_containers_run_to_completion_first_and_a_failure_stops_the_pod() {
    let image = busybox_image();
    let mount = json!([{"name": "data", "mountPath": "/data"}]);
    let (events, _) = run_pod_with_init(
        "init-ok",
        json!([{"name": "prepare", "image": image, "command": ["/bin/busybox", "sh", "-c", "sleep 0.3; echo ready > /data/state"],
                "volumeMounts": mount}]),
        json!([{"name": "main", "image": image, "command": ["/bin/busybox", "sh", "-c", "cat /data/state > /dev/termination-log"],
                "volumeMounts": mount}]),
        json!([{"name": "data", "emptyDir": {}}]),
        None,
    )
    .await;
    assert_eq!(terminated(&events, "prepare").0, 0);
    assert_eq!(
        terminated(&events, "main"),
        (0, "Completed".into(), "ready\n".into())
    );

    let (events, _) = run_pod_with_init(
        "init-fails",
        json!([{"name": "prepare", "image": image, "command": ["/bin/busybox", "sh", "-c", "exit 5"]}]),
        json!([{"name": "main", "image": image, "command": ["/bin/busybox", "true"]}]),
        json!([]),
        None,
    )
    .await;
    assert_eq!(terminated(&events, "prepare").0, 5);
    assert!(
        events.iter().all(|e| e.container == "prepare"),
        "{events:#?}"
    );
}
