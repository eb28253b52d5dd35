//! `slipway deploy …` (the `kubectl slipway deploy` plugin) end to end: the real binary, given
//! a kubeconfig for the test cluster, against deployments.slipway.dev records — the spec it
//! writes, its output and exit codes — and, with the controller running, a blue-green rollout
//! promoted (or aborted) by the command while `status --watch` follows it to the end.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use slipway::api::Deployment as Record;
use slipway::api::deployment::{DeploymentPhase, DeploymentSpec};
use slipway_testcluster::TestCluster;
use support::Scratch;
use support::rollout::{Controller, application, cluster_with_crds, wait_phase};

const NAMESPACE: &str = "default";

/// The test cluster's kubeconfig in a scratch folder.
struct Kubeconfig {
    _folder: Scratch,
    path: PathBuf,
}

impl Kubeconfig {
    fn for_cluster(cluster: &TestCluster, test: &str) -> Self {
        let folder = Scratch::new(test);
        let path = folder.0.join("kubeconfig");
        cluster
            .write_kubeconfig(&path)
            .expect("write the kubeconfig");
        Kubeconfig {
            _folder: folder,
            path,
        }
    }
}

/// Runs `slipway deploy ARGS --kubeconfig FILE` on a blocking thread (the test cluster serves
/// from this process's runtime meanwhile).
async fn deploy(kubeconfig: &Path, args: &[&str]) -> Output {
    let mut command = deploy_command(kubeconfig, args);
    tokio::task::spawn_blocking(move || command.output().expect("run the slipway binary"))
        .await
        .expect("the command thread")
}

fn deploy_command(kubeconfig: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slipway"));
    command
        .arg("deploy")
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env_remove("KUBECONFIG");
    command
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn records(cluster: &TestCluster) -> Api<Record> {
    Api::namespaced(cluster.client(), NAMESPACE)
}

/// Creates record `name` rolling `shop/web:2` onto `web` with `strategy`.
async fn create_record(cluster: &TestCluster, name: &str, strategy: Value) {
    let spec: DeploymentSpec = serde_json::from_value(json!({
        "target": {"service": "web", "workload": "web"},
        "revision": {"images": [{"container": "web", "image": "shop/web:2"}]},
        "strategy": strategy
    }))
    .expect("a valid spec");
    records(cluster)
        .create(&PostParams::default(), &Record::new(name, spec))
        .await
        .expect("the record is created");
}

/// Sets record `name`'s status as a controller would have written it.
async fn set_status(cluster: &TestCluster, name: &str, status: Value) {
    records(cluster)
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": status })),
        )
        .await
        .expect("the status is written");
}

fn control(record: &Record) -> Value {
    serde_json::to_value(&record.spec.control).unwrap()
}

fn canary_steps() -> Value {
    json!({"steps": [{"weight": 10}, {"weight": 50}, {"weight": 100}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_releases_the_current_step_and_writes_only_spec_control() {
    let (cluster, _simulation) = cluster_with_crds().await;
    let kubeconfig = Kubeconfig::for_cluster(&cluster, "deploy-promote");
    create_record(&cluster, "web-v2", canary_steps()).await;
    set_status(
        &cluster,
        "web-v2",
        json!({"phase": "InProgress", "stage": "AllowTraffic", "currentStep": 1, "totalSteps": 3,
               "message": "step 1: 50% of traffic, waiting for a promote"}),
    )
    .await;
    let before = records(&cluster).get("web-v2").await.unwrap();

    let promoted = deploy(&kubeconfig.path, &["promote", "web-v2"]).await;
    assert!(promoted.status.success(), "{}", stderr(&promoted));
    assert_eq!(
        stdout(&promoted),
        "promoted web-v2 through step 1 (50% of traffic, until promoted): it proceeds now\n"
    );
    let after = records(&cluster).get("web-v2").await.unwrap();
    assert_eq!(control(&after), json!({"promote": {"throughStep": 1}}));
    assert_eq!(
        after.spec.template, before.spec.template,
        "nothing else in the spec changed"
    );
    let managers: Vec<_> = after
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|entry| entry.manager.as_deref())
        .collect();
    assert!(managers.contains(&"kubectl-slipway"), "{managers:?}");

    // Again: nothing to write, and it says what the rollout waits for.
    let again = deploy(&kubeconfig.path, &["promote", "web-v2", "-n", NAMESPACE]).await;
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        stdout(&again),
        "web-v2 is already promoted through step 1; the controller says: step 1: 50% of traffic, \
         waiting for a promote\n"
    );

    let full = deploy(&kubeconfig.path, &["promote", "web-v2", "--full"]).await;
    assert!(full.status.success(), "{}", stderr(&full));
    assert_eq!(
        control(&records(&cluster).get("web-v2").await.unwrap()),
        json!({"promote": {"throughStep": 1, "full": true}})
    );

    let behind = deploy(
        &kubeconfig.path,
        &["promote", "web-v2", "--through-step", "0"],
    )
    .await;
    assert_eq!(behind.status.code(), Some(1));
    assert_eq!(
        stderr(&behind),
        "error: --through-step 0 is behind the rollout's current step 1: nothing there to \
         release; leave --through-step out to release step 1\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_is_written_once_and_ended_or_missing_records_are_named() {
    let (cluster, _simulation) = cluster_with_crds().await;
    let kubeconfig = Kubeconfig::for_cluster(&cluster, "deploy-stop");
    create_record(&cluster, "web-v2", canary_steps()).await;
    set_status(
        &cluster,
        "web-v2",
        json!({"phase": "InProgress", "stage": "AllowTraffic", "currentStep": 0,
               "trafficSplit": {"stable": 90, "canary": 10}}),
    )
    .await;

    let stopped = deploy(
        &kubeconfig.path,
        &["stop", "web-v2", "--no-rollback", "--reason", "bad metrics"],
    )
    .await;
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    assert_eq!(
        stdout(&stopped),
        "stopping web-v2 without rollback: traffic stays where it is (90% stable, 10% new)\n"
    );
    assert_eq!(
        control(&records(&cluster).get("web-v2").await.unwrap()),
        json!({"stop": {"rollback": false, "reason": "bad metrics"}})
    );

    let abort = deploy(&kubeconfig.path, &["abort", "web-v2"]).await;
    assert_eq!(abort.status.code(), Some(1));
    assert_eq!(
        stderr(&abort),
        "error: deployments.slipway.dev web-v2 already has a stop request without rollback: a \
         stop cannot be changed or withdrawn once made\n"
    );
    assert_eq!(
        control(&records(&cluster).get("web-v2").await.unwrap()),
        json!({"stop": {"rollback": false, "reason": "bad metrics"}}),
        "the refused abort changed nothing"
    );

    create_record(&cluster, "web-v1", canary_steps()).await;
    set_status(
        &cluster,
        "web-v1",
        json!({"phase": "Succeeded", "stage": "Done"}),
    )
    .await;
    let ended = deploy(&kubeconfig.path, &["promote", "web-v1"]).await;
    assert_eq!(ended.status.code(), Some(1));
    assert_eq!(
        stderr(&ended),
        "error: deployments.slipway.dev web-v1 has ended (Succeeded): nothing is left to \
         promote; to roll out another revision, create a new record\n"
    );

    let missing = deploy(&kubeconfig.path, &["abort", "web-v3", "-n", "shop"]).await;
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        stderr(&missing),
        "error: deployments.slipway.dev \"web-v3\" not found in namespace \"shop\": check the \
         name and namespace (-n) with `kubectl slipway deploy list -n shop`\n"
    );

    let listed = deploy(&kubeconfig.path, &["list"]).await;
    assert!(listed.status.success(), "{}", stderr(&listed));
    let table = stdout(&listed);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("NAME     PHASE"), "{table}");
    assert!(lines[1].starts_with("web-v1   Succeeded"), "{table}");
    assert!(lines[2].starts_with("web-v2   InProgress"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_cluster_is_named() {
    // A port nothing listens on: bound, then released.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let folder = Scratch::new("deploy-unreachable");
    let kubeconfig = folder.write(
        "kubeconfig",
        &slipway_testcluster::kubeconfig::kubeconfig(&format!("http://{address}")),
    );
    let output = deploy(&kubeconfig, &["status", "web-v2"]).await;
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.starts_with(&format!(
            "error: unable to reach the Kubernetes API server at http://{address}/: is the \
             cluster running, and do --kubeconfig/--context point at it?"
        )),
        "{message}"
    );
}

/// Starts `status --watch` on record `name` in the background.
fn watch(kubeconfig: &Path, name: &str) -> std::process::Child {
    deploy_command(kubeconfig, &["status", name, "--watch", "--timeout", "60s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the watch")
}

/// Waits for a background command to end.
async fn finish(child: std::process::Child) -> Output {
    tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || child.wait_with_output().expect("the watch output")),
    )
    .await
    .expect("the watch ends with the rollout")
    .expect("the waiting thread")
}

/// The user's application and a blue-green record `web-v2` that waits for a promote, with
/// the controller running; returns once the rollout waits.
async fn blue_green_waiting(cluster: &TestCluster) -> Controller {
    application(&cluster.client(), NAMESPACE, 1).await;
    let controller = Controller::start(cluster);
    create_record(
        cluster,
        "web-v2",
        json!({"blueGreen": {"readyOption": {"action": "Wait"}, "terminationWait": "1s"}}),
    )
    .await;
    wait_phase(
        &cluster.client(),
        NAMESPACE,
        "web-v2",
        DeploymentPhase::Ready,
        20,
    )
    .await;
    controller
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promoted_blue_green_succeeds_and_the_watch_exits_zero() {
    let (cluster, _simulation) = cluster_with_crds().await;
    let kubeconfig = Kubeconfig::for_cluster(&cluster, "deploy-watch-promote");
    let controller = blue_green_waiting(&cluster).await;

    let status = deploy(&kubeconfig.path, &["get", "web-v2"]).await;
    assert!(status.status.success(), "{}", stderr(&status));
    let view = stdout(&status);
    assert!(
        view.contains("Phase:        Ready (stage AwaitPromote)\n"),
        "{view}"
    );
    assert!(
        view.contains("Next:         waiting for a promote: kubectl slipway deploy promote web-v2 -n default\n"),
        "{view}"
    );

    let watching = watch(&kubeconfig.path, "web-v2");
    let promoted = deploy(&kubeconfig.path, &["promote", "web-v2"]).await;
    assert!(promoted.status.success(), "{}", stderr(&promoted));
    assert_eq!(
        stdout(&promoted),
        "promoted web-v2 through step 0 (the blue-green wait): it proceeds now\n"
    );

    let watched = finish(watching).await;
    assert_eq!(watched.status.code(), Some(0), "{}", stderr(&watched));
    let views = stdout(&watched);
    assert!(
        views.starts_with("Name:         web-v2 (namespace default)\nPhase:        Ready"),
        "{views}"
    );
    assert!(views.contains("\nPhase:        Succeeded\n"), "{views}");
    assert!(
        views.contains("Traffic:      0% stable, 100% new\n"),
        "{views}"
    );
    controller.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_rollout_ends_stopped_and_the_watch_exits_non_zero() {
    let (cluster, _simulation) = cluster_with_crds().await;
    let kubeconfig = Kubeconfig::for_cluster(&cluster, "deploy-watch-abort");
    let controller = blue_green_waiting(&cluster).await;

    let watching = watch(&kubeconfig.path, "web-v2");
    let aborted = deploy(
        &kubeconfig.path,
        &["abort", "web-v2", "--reason", "not today"],
    )
    .await;
    assert!(aborted.status.success(), "{}", stderr(&aborted));
    assert!(
        stdout(&aborted)
            .starts_with("stopping web-v2: all traffic goes back to the stable revision "),
        "{}",
        stdout(&aborted)
    );

    let watched = finish(watching).await;
    assert_eq!(watched.status.code(), Some(1));
    let views = stdout(&watched);
    assert!(views.contains("\nPhase:        Stopped\n"), "{views}");
    assert!(
        views.contains("Rollback:     DeploymentStopOnRequest: not today"),
        "{views}"
    );
    assert!(
        stderr(&watched).starts_with("error: deployments.slipway.dev web-v2 ended Stopped: "),
        "{}",
        stderr(&watched)
    );
    controller.stop().await;
}

#[test]
fn installed_as_kubectl_slipway_the_help_says_kubectl_slipway() {
    let folder = Scratch::new("deploy-plugin-name");
    let plugin = folder.0.join("kubectl-slipway");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_slipway"), &plugin).expect("link the plugin");
    let help = Command::new(&plugin)
        .args(["deploy", "promote", "--help"])
        .output()
        .expect("run the plugin");
    assert!(help.status.success(), "{}", stderr(&help));
    assert!(
        stdout(&help).contains("Usage: kubectl slipway deploy promote [OPTIONS] <NAME>"),
        "{}",
        stdout(&help)
    );
}
