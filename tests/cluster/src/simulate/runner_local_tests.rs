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

struct NoObjects;
impl ObjectSource for NoObjects {
    fn get(&self, _: Kind, _: &str, _: &str) -> Option<Value> {
        None
    }
}

struct Harness {
    context: RunContext,
    events: mpsc::UnboundedReceiver<RunEvent>,
    stop: watch::Sender<bool>,
    base: PathBuf,
}

fn harness(name: &str, containers: Value, volumes: Value) -> Harness {
    harness_with_init(name, json!([]), containers, volumes)
}

fn harness_with_init(name: &str, init: Value, containers: Value, volumes: Value) -> Harness {
    let pod = json!({
        "metadata": {"name": name, "namespace": "test", "uid": format!("uid-{name}")},
        "spec": {"restartPolicy": "Never", "initContainers": init, "containers": containers, "volumes": volumes},
        "status": {"podIP": "10.244.0.5"}
    });
    let plan = plan_run(&pod, &NoObjects).unwrap();
    let base = std::env::temp_dir().join(format!(
        "slipway-runner-local-{}-{name}",
        std::process::id()
    ));
    let workspace =
        Arc::new(crate::simulate::workspace::PodWorkspace::create(&base, &plan).unwrap());
    let logs = PodLogs::default();
    logs.start_pod(
        "test",
        name,
        &plan
            .containers
            .iter()
            .chain(&plan.init_containers)
            .map(|c| c.name.clone())
            .collect::<Vec<_>>(),
    );
    let (events_tx, events) = mpsc::unbounded_channel();
    let (stop, cancel) = watch::channel(false);
    Harness {
        context: RunContext {
            plan,
            workspace,
            logs,
            events: events_tx,
            cancel,
        },
        events,
        stop,
        base,
    }
}

impl Harness {
    async fn run(mut self) -> (Vec<RunEvent>, PodLogs) {
        tokio::time::timeout(Duration::from_secs(20), run_local(self.context.clone()))
            .await
            .expect("run timed out");
        drop(self.stop);
        let mut events = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            events.push(event);
        }
        let logs = self.context.logs.clone();
        drop(self.context);
        let _ = std::fs::remove_dir_all(&self.base);
        (events, logs)
    }
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
async fn a_command_runs_with_env_and_writes_the_termination_message() {
    let harness = harness(
        "hello",
        json!([{"name": "main", "command": ["sh", "-c"],
                "args": ["echo hi $GREETING; echo oops >&2; echo done > /dev/termination-log; exit 3"],
                "env": [{"name": "GREETING", "value": "there"}]}]),
        json!([]),
    );
    let (events, logs) = harness.run().await;
    assert!(
        matches!(events[0].state, ContainerRun::Running { .. }),
        "{events:#?}"
    );
    assert_eq!(
        terminated(&events, "main"),
        (3, "Error".into(), "done\n".into())
    );
    let log = logs.get("test", "hello", Some("main")).unwrap();
    assert!(
        log.contains("hi there\n") && log.contains("oops\n"),
        "{log}"
    );
}

#[tokio::test]
async fn containers_share_empty_dir_volumes_and_use_mapped_working_dirs() {
    let harness = harness(
        "shared",
        json!([
            {"name": "writer", "command": ["sh", "-c", "echo payload > /data/file; pwd > /data/pwd"],
             "workingDir": "/data", "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
            {"name": "reader", "command": ["sh", "-c", "while [ ! -s /in/pwd ]; do sleep 0.05; done; cat /in/file; cp /in/pwd /in/result"],
             "terminationMessagePath": "/in/result",
             "volumeMounts": [{"name": "data", "mountPath": "/in"}]}
        ]),
        json!([{"name": "data", "emptyDir": {}}]),
    );
    let volume = harness
        .context
        .workspace
        .volume("data")
        .unwrap()
        .to_path_buf();
    let (events, logs) = harness.run().await;
    assert_eq!(terminated(&events, "writer").0, 0);
    // The writer ran in the volume's directory: its `pwd` is the reader's termination message.
    let pwd = format!("{}\n", volume.display());
    assert_eq!(terminated(&events, "reader"), (0, "Completed".into(), pwd));
    assert_eq!(
        logs.get("test", "shared", Some("reader")).unwrap(),
        "payload\n"
    );
}

#[tokio::test]
async fn a_termination_message_path_inside_a_volume_is_read_from_the_volume() {
    let harness = harness(
        "inside",
        json!([{"name": "main", "command": ["sh", "-c", "printf ok > /out/msg"], "terminationMessagePath": "/out/msg",
                "volumeMounts": [{"name": "out", "mountPath": "/out"}]}]),
        json!([{"name": "out", "emptyDir": {}}]),
    );
    let (events, _) = harness.run().await;
    assert_eq!(
        terminated(&events, "main"),
        (0, "Completed".into(), "ok".into())
    );
}

#[tokio::test]
async fn fallback_to_logs_on_error_uses_the_log_tail() {
    let harness = harness(
        "fallback",
        json!([{"name": "main", "command": ["sh", "-c", "echo first; echo last line; exit 1"],
                "terminationMessagePolicy": "FallbackToLogsOnError"}]),
        json!([]),
    );
    let (events, _) = harness.run().await;
    assert_eq!(
        terminated(&events, "main"),
        (1, "Error".into(), "first\nlast line\n".into())
    );
}

#[tokio::test]
async fn a_missing_program_or_command_is_a_start_error() {
    let harness = harness(
        "missing",
        json!([{"name": "absent", "command": ["/no/such/program"]}, {"name": "nocommand", "image": "busybox"}]),
        json!([]),
    );
    let (events, _) = harness.run().await;
    let (code, reason, message) = terminated(&events, "absent");
    assert_eq!((code, reason.as_str()), (128, "StartError"));
    assert!(message.contains("/no/such/program"), "{message}");
    assert!(
        terminated(&events, "nocommand")
            .2
            .contains("needs spec.containers[].command")
    );
}

#[tokio::test]
async fn cancelling_kills_the_process_group_without_a_report() {
    let harness = harness(
        "slow",
        json!([{"name": "main", "command": ["sh", "-c", "sleep 30 & sleep 30"]}]),
        json!([]),
    );
    let stop = harness.stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = stop.send(true);
    });
    let started = std::time::Instant::now();
    let (events, _) = harness.run().await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        events
            .iter()
            .all(|e| matches!(e.state, ContainerRun::Running { .. })),
        "{events:#?}"
    );
}

#[test]
fn paths_are_rewritten_only_as_whole_paths() {
    let map = PathMap::new(vec![
        ("/data".into(), PathBuf::from("/tmp/ws/volumes/data")),
        (
            "/dev/termination-log".into(),
            PathBuf::from("/tmp/ws/c/termination-log"),
        ),
        ("/data/cache".into(), PathBuf::from("/tmp/ws/volumes/cache")),
    ]);
    assert_eq!(
        map.rewrite("echo x > /dev/termination-log; cat /data/a /data/cache/b /database '/data'"),
        "echo x > /tmp/ws/c/termination-log; cat /tmp/ws/volumes/data/a /tmp/ws/volumes/cache/b /database '/tmp/ws/volumes/data'"
    );
    assert_eq!(map.rewrite("DIR=/data"), "DIR=/tmp/ws/volumes/data");
    assert_eq!(
        map.map("/data/x/y"),
        Some(PathBuf::from("/tmp/ws/volumes/data/x/y"))
    );
    assert_eq!(map.map("/datax"), None);
}

#[test]
fn a_path_right_after_a_url_scheme_is_rewritten() {
    let map = PathMap::new(vec![(
        "/var/run/d".into(),
        PathBuf::from("/tmp/ws/volumes/socket"),
    )]);
    assert_eq!(
        map.rewrite("unix:///var/run/d/docker.sock"),
        "unix:///tmp/ws/volumes/socket/docker.sock"
    );
    assert_eq!(
        map.rewrite("http://var/run/d/x"),
        "http://var/run/d/x",
        "a host name is not a path"
    );
    assert_eq!(
        map.rewrite("unix:///var/run/docker.sock"),
        "unix:///var/run/docker.sock"
    );
}

#[tokio::test]
async fn a_directory_above_mounts_that_this_machine_lacks_holds_the_mounts() {
    let parent = format!("/testcluster-absent-{}", std::process::id());
    assert!(!std::path::Path::new(&parent).exists());
    let mount = format!("{parent}/credentials/image-web");
    let harness = harness_with_init(
        "parents",
        json!([{"name": "writer", "command": ["sh", "-c", format!("printf token > {mount}/secret")],
                "volumeMounts": [{"name": "creds", "mountPath": mount}]}]),
        json!([{"name": "main", "command": ["sh", "-c", "cat \"$CREDENTIALS/image-web/secret\" > /dev/termination-log; test -d /var/run"],
                "env": [{"name": "CREDENTIALS", "value": format!("{parent}/credentials")}],
                "volumeMounts": [{"name": "creds", "mountPath": mount, "readOnly": true},
                                 {"name": "socket", "mountPath": "/var/run/testcluster-socket"}]}]),
        json!([{"name": "creds", "emptyDir": {}}, {"name": "socket", "emptyDir": {}}]),
    );
    let (events, _) = harness.run().await;
    assert_eq!(
        terminated(&events, "main"),
        (0, "Completed".into(), "token".into()),
        "the parent lists the mount, and the machine's /var/run stays visible"
    );
    assert!(
        !std::path::Path::new(&parent).exists(),
        "nothing written outside the pod"
    );
}

#[tokio::test]
async fn init_containers_run_in_order_to_completion_before_the_containers() {
    let harness = harness_with_init(
        "init-order",
        json!([
            {"name": "first", "command": ["sh", "-c", "sleep 0.2; echo one > /data/order"],
             "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
            {"name": "second", "command": ["sh", "-c", "echo two >> /data/order"],
             "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
        ]),
        json!([{"name": "main", "command": ["sh", "-c", "cat /data/order > /dev/termination-log"],
                "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]),
        json!([{"name": "data", "emptyDir": {}}]),
    );
    let (events, _) = harness.run().await;
    let order: Vec<(&str, bool)> = events
        .iter()
        .map(|e| {
            (
                e.container.as_str(),
                matches!(e.state, ContainerRun::Running { .. }),
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![
            ("first", true),
            ("first", false),
            ("second", true),
            ("second", false),
            ("main", true),
            ("main", false)
        ]
    );
    assert_eq!(
        terminated(&events, "main"),
        (0, "Completed".into(), "one\ntwo\n".into())
    );
}

#[tokio::test]
async fn a_failing_init_container_keeps_the_containers_from_starting() {
    let harness = harness_with_init(
        "init-fails",
        json!([{"name": "fetch", "command": ["sh", "-c", "echo no such repository > /dev/termination-log; exit 4"]},
               {"name": "never", "command": ["true"]}]),
        json!([{"name": "main", "command": ["true"]}]),
        json!([]),
    );
    let (events, _) = harness.run().await;
    assert_eq!(
        terminated(&events, "fetch"),
        (4, "Error".into(), "no such repository\n".into())
    );
    assert!(
        events.iter().all(|e| e.container == "fetch"),
        "nothing after the failed init container runs: {events:#?}"
    );
}
