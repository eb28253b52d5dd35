//! Real kubectl (`/usr/bin/kubectl`) against the test cluster through a written kubeconfig.
//! These tests fail (never skip) when kubectl is missing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{create_small, repo, widget, widget_cluster, widgets};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use slipway_testcluster::TestCluster;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const KUBECTL: &str = "/usr/bin/kubectl";

/// A kubeconfig and a private discovery cache for one cluster.
struct Kubectl {
    _directory: tempfile::TempDir,
    kubeconfig: PathBuf,
    cache: PathBuf,
}

impl Kubectl {
    fn new(cluster: &TestCluster) -> Self {
        assert!(
            Path::new(KUBECTL).exists(),
            "kubectl is missing: install kubectl 1.32 at {KUBECTL} (e.g. the Debian/Ubuntu kubectl package)"
        );
        let directory = tempfile::tempdir().unwrap();
        let kubeconfig = directory.path().join("kubeconfig");
        cluster.write_kubeconfig(&kubeconfig).unwrap();
        let cache = directory.path().join("cache");
        Self {
            _directory: directory,
            kubeconfig,
            cache,
        }
    }

    fn command(&self, arguments: &[&str]) -> Command {
        let mut command = Command::new(KUBECTL);
        command
            .env("KUBECONFIG", &self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(arguments)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// Runs kubectl; returns (success, stdout, stderr).
    async fn run(&self, arguments: &[&str]) -> (bool, String, String) {
        let output =
            tokio::time::timeout(Duration::from_secs(60), self.command(arguments).output())
                .await
                .expect("kubectl finished in time")
                .expect("kubectl runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Runs kubectl and expects success; returns stdout.
    async fn ok(&self, arguments: &[&str]) -> String {
        let (success, stdout, stderr) = self.run(arguments).await;
        assert!(success, "kubectl {arguments:?} failed:\n{stdout}\n{stderr}");
        stdout
    }

    /// Runs kubectl with `input` on stdin.
    async fn with_input(&self, arguments: &[&str], input: &str) -> (bool, String, String) {
        let mut command = self.command(arguments);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("kubectl runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .await
            .unwrap();
        let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

fn path(relative: &str) -> String {
    repo().join(relative).display().to_string()
}

#[tokio::test]
async fn kubectl_applies_the_repository_crds_and_samples_and_reads_them_back() {
    let cluster = TestCluster::start().await;
    let kubectl = Kubectl::new(&cluster);
    // Every manifest of crds/ (its kustomization.yaml is no Kubernetes object: a real apiserver
    // refuses it too, so it is left out, as `kubectl apply -k crds` would).
    let mut arguments = vec!["apply".to_string()];
    for entry in std::fs::read_dir(repo().join("crds")).unwrap() {
        let file = entry.unwrap().path();
        if file
            .file_name()
            .is_some_and(|name| name != "kustomization.yaml")
        {
            arguments.extend(["-f".to_string(), file.display().to_string()]);
        }
    }
    let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
    let applied = kubectl.ok(&arguments).await;
    assert!(
        applied.contains(
            "customresourcedefinition.apiextensions.k8s.io/pipelines.slipway.dev created"
        ),
        "{applied}"
    );
    let (success, _, stderr) = kubectl
        .with_input(
            &["apply", "-f", "-"],
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: slipway-samples\n",
        )
        .await;
    assert!(success, "{stderr}");
    let samples = kubectl
        .ok(&[
            "apply",
            "-n",
            "slipway-samples",
            "-k",
            &path("config/samples"),
        ])
        .await;
    assert!(
        samples.contains("pipeline.slipway.dev/payments-api created"),
        "{samples}"
    );
    let table = kubectl
        .ok(&["get", "pipelines", "-n", "slipway-samples"])
        .await;
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header.first(), Some(&"NAME"));
    assert!(
        header.contains(&"PHASE") && header.contains(&"AGE"),
        "printer columns: {table}"
    );
    assert!(table.contains("payments-api"));
    let everything = kubectl
        .ok(&["get", "slipway", "-n", "slipway-samples"])
        .await;
    for kind in [
        "pipeline.slipway.dev/",
        "pipelineexecution.slipway.dev/",
        "buildrun.slipway.dev/",
        "deployment.slipway.dev/",
    ] {
        assert!(
            everything.contains(kind),
            "{kind} missing from {everything}"
        );
    }
    let short = kubectl
        .ok(&["get", "sdeploy", "-n", "slipway-samples", "-o", "name"])
        .await;
    assert!(short.starts_with("deployment.slipway.dev/"), "{short}");
    let json: Value = serde_json::from_str(
        &kubectl
            .ok(&[
                "get",
                "pipe",
                "payments-api",
                "-n",
                "slipway-samples",
                "-o",
                "json",
            ])
            .await,
    )
    .unwrap();
    assert_eq!(json["kind"], "Pipeline");
    assert_eq!(json["metadata"]["generation"], 1);
}

#[tokio::test]
async fn kubectl_patches_applies_server_side_and_deletes() {
    let cluster = widget_cluster().await;
    let kubectl = Kubectl::new(&cluster);
    widgets(&cluster)
        .create(
            &PostParams::default(),
            &widget("demo", json!({"size": "small"})),
        )
        .await
        .unwrap();
    kubectl
        .ok(&[
            "patch",
            "widget",
            "demo",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"replicas":2}}"#,
        ])
        .await;
    kubectl
        .ok(&[
            "patch",
            "wd",
            "demo",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/spec/size","value":"large"}]"#,
        ])
        .await;
    let read = widgets(&cluster).get("demo").await.unwrap();
    assert_eq!(
        (
            read.data["spec"]["replicas"].clone(),
            read.data["spec"]["size"].clone()
        ),
        (json!(2), json!("large"))
    );
    let manifest = "apiVersion: test.slipway.dev/v1\nkind: Widget\nmetadata:\n  name: applied\nspec:\n  size: small\n  replicas: 3\n";
    let (success, stdout, stderr) = kubectl
        .with_input(&["apply", "--server-side", "-f", "-"], manifest)
        .await;
    assert!(success, "{stdout}{stderr}");
    assert!(
        stdout.contains("widget.test.slipway.dev/applied serverside-applied"),
        "{stdout}"
    );
    let applied = widgets(&cluster).get("applied").await.unwrap();
    let managers: Vec<String> = applied
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .filter_map(|entry| entry.manager)
        .collect();
    assert_eq!(managers, ["kubectl"]);
    let deleted = kubectl.ok(&["delete", "widget", "demo"]).await;
    assert!(
        deleted.contains("widget.test.slipway.dev \"demo\" deleted"),
        "{deleted}"
    );
    assert!(widgets(&cluster).get("demo").await.is_err());
}

#[tokio::test]
async fn kubectl_get_watch_receives_events() {
    let cluster = widget_cluster().await;
    let kubectl = Kubectl::new(&cluster);
    let mut child = kubectl
        .command(&[
            "get",
            "widgets",
            "--watch",
            "-o",
            "name",
            "--request-timeout",
            "30s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Wait for the watch to be open before creating.
    common::eventually(
        Duration::from_secs(20),
        "kubectl to open its watch",
        || async { (cluster.requests().count("watch", "widgets") > 0).then_some(()) },
    )
    .await;
    widgets(&cluster)
        .create(
            &PostParams::default(),
            &widget("seen", json!({"size": "small"})),
        )
        .await
        .unwrap();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("an event line in time")
        .unwrap();
    assert_eq!(line.as_deref(), Some("widget.test.slipway.dev/seen"));
    child.kill().await.unwrap();
}

#[tokio::test]
async fn kubectl_waits_for_a_condition_set_through_the_status_subresource() {
    let cluster = widget_cluster().await;
    let kubectl = Kubectl::new(&cluster);
    let api = widgets(&cluster);
    create_small(&api, "demo").await;
    let waiting = kubectl
        .command(&[
            "wait",
            "--for=condition=Ready",
            "widget/demo",
            "--timeout=30s",
        ])
        .output();
    let waiter = tokio::spawn(waiting);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let condition = json!({"type": "Ready", "status": "True", "reason": "Done", "message": "ready", "lastTransitionTime": "2026-01-01T00:00:00Z"});
    api.patch_status(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"conditions": [condition]}})),
    )
    .await
    .unwrap();
    let output = waiter.await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("condition met"), "{stdout}");
}

#[tokio::test]
async fn kubectl_explains_custom_resource_fields() {
    let cluster = TestCluster::start().await;
    cluster.apply_crds_from(repo().join("crds")).unwrap();
    let kubectl = Kubectl::new(&cluster);
    let explained = kubectl
        .ok(&["explain", "pipelines.spec.executionMode"])
        .await;
    assert!(explained.contains("KIND:       Pipeline"), "{explained}");
    assert!(explained.contains("Superseded"), "{explained}");
}

#[tokio::test]
async fn kubectl_names_the_invalid_field() {
    let cluster = widget_cluster().await;
    let kubectl = Kubectl::new(&cluster);
    let manifest = "apiVersion: test.slipway.dev/v1\nkind: Widget\nmetadata:\n  name: bad\nspec:\n  size: huge\n";
    let (success, stdout, stderr) = kubectl.with_input(&["apply", "-f", "-"], manifest).await;
    assert!(!success, "{stdout}");
    assert!(stderr.contains("The Widget \"bad\" is invalid"), "{stderr}");
    assert!(
        stderr.contains("spec.size: Unsupported value: \"huge\""),
        "{stderr}"
    );
    let unknown = "apiVersion: test.slipway.dev/v1\nkind: Widget\nmetadata:\n  name: odd\nspec:\n  size: small\n  shape: round\n";
    let (success, _, stderr) = kubectl.with_input(&["apply", "-f", "-"], unknown).await;
    assert!(!success);
    assert!(stderr.contains("unknown field \"spec.shape\""), "{stderr}");
}

/// The README's commands (`examples/webapp/README.md`, steps 1 and 2) as written: kubectl
/// sends these bodies as protobuf.
#[tokio::test]
async fn kubectl_creates_the_readme_namespace_and_secrets() {
    let cluster = TestCluster::start().await;
    let kubectl = Kubectl::new(&cluster);
    let created = kubectl.ok(&["create", "namespace", "webapp"]).await;
    assert_eq!(created.trim(), "namespace/webapp created");
    let namespaces: Api<Namespace> = Api::all(cluster.client());
    assert!(namespaces.get("webapp").await.is_ok());
    kubectl
        .ok(&[
            "-n",
            "webapp",
            "create",
            "secret",
            "generic",
            "webapp-webhook",
            "--from-literal=secret=9f86d081884c7d65",
        ])
        .await;
    kubectl
        .ok(&[
            "-n",
            "webapp",
            "create",
            "secret",
            "docker-registry",
            "registry-credentials",
            "--docker-server=registry.example.com",
            "--docker-username=robot",
            "--docker-password=t0ken",
        ])
        .await;
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), "webapp");
    let webhook = secrets.get("webapp-webhook").await.unwrap();
    let data = webhook.data.expect("data");
    assert_eq!(data["secret"].0, b"9f86d081884c7d65");
    let registry = secrets.get("registry-credentials").await.unwrap();
    assert_eq!(
        registry.type_.as_deref(),
        Some("kubernetes.io/dockerconfigjson")
    );
    let config: Value =
        serde_json::from_slice(&registry.data.expect("data")[".dockerconfigjson"].0).unwrap();
    assert_eq!(
        config,
        json!({"auths": {"registry.example.com": {"username": "robot", "password": "t0ken", "auth": "cm9ib3Q6dDBrZW4="}}})
    );
}

#[tokio::test]
async fn kubectl_create_configmap_stores_the_literals() {
    let cluster = TestCluster::start().await;
    let kubectl = Kubectl::new(&cluster);
    let created = kubectl
        .ok(&[
            "create",
            "configmap",
            "settings",
            "--from-literal=mode=fast",
            "--from-literal=level=3",
        ])
        .await;
    assert_eq!(created.trim(), "configmap/settings created");
    let configmaps: Api<ConfigMap> = Api::default_namespaced(cluster.client());
    let data = configmaps.get("settings").await.unwrap().data.unwrap();
    assert_eq!(
        (data["mode"].as_str(), data["level"].as_str()),
        ("fast", "3")
    );
}

#[tokio::test]
async fn kubectl_creates_workloads_services_and_service_accounts() {
    let cluster = TestCluster::start().await;
    let kubectl = Kubectl::new(&cluster);
    for arguments in [
        &["create", "serviceaccount", "builder"][..],
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx:1.27",
            "--replicas=0",
            "--port=8080",
        ],
        &[
            "create",
            "job",
            "once",
            "--image=busybox",
            "--",
            "echo",
            "hello",
        ],
        &["create", "service", "nodeport", "web", "--tcp=80:http"],
    ] {
        kubectl.ok(arguments).await;
    }
    let client = cluster.client();
    let accounts: Api<ServiceAccount> = Api::default_namespaced(client.clone());
    assert!(accounts.get("builder").await.is_ok());
    let deployment = Api::<Deployment>::default_namespaced(client.clone())
        .get("web")
        .await
        .unwrap()
        .spec
        .unwrap();
    assert_eq!(deployment.replicas, Some(0));
    let container = &deployment.template.spec.unwrap().containers[0];
    assert_eq!(
        (
            container.image.as_deref(),
            container.ports.as_ref().unwrap()[0].container_port
        ),
        (Some("nginx:1.27"), 8080)
    );
    let job = Api::<Job>::default_namespaced(client.clone())
        .get("once")
        .await
        .unwrap();
    let pod = job.spec.unwrap().template.spec.unwrap();
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    assert_eq!(
        pod.containers[0].command,
        Some(vec!["echo".to_string(), "hello".to_string()])
    );
    let service = Api::<Service>::default_namespaced(client)
        .get("web")
        .await
        .unwrap()
        .spec
        .unwrap();
    let port = &service.ports.unwrap()[0];
    assert_eq!(
        (
            service.type_.as_deref(),
            port.port,
            port.target_port.clone()
        ),
        (
            Some("NodePort"),
            80,
            Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("http".into()))
        )
    );
}

#[tokio::test]
async fn the_binary_serves_until_sigterm() {
    let directory = tempfile::tempdir().unwrap();
    let kubeconfig = directory.path().join("kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_slipway-testcluster"))
        .args(["serve", "--addr", "127.0.0.1:0", "--kubeconfig"])
        .arg(&kubeconfig)
        .arg("--crds")
        .arg(repo().join("crds"))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let output = Command::new(KUBECTL)
        .env("KUBECONFIG", &kubeconfig)
        .args(["--cache-dir"])
        .arg(directory.path().join("cache"))
        .args(["get", "crds", "-o", "name"])
        .output()
        .await
        .expect("kubectl runs (install kubectl if this fails)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("pipelines.slipway.dev"), "{stdout}");
    let pid = child.id().expect("running");
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits on SIGTERM")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn a_malformed_pod_scripts_file_stops_the_binary_before_it_serves() {
    let directory = tempfile::tempdir().unwrap();
    let kubeconfig = directory.path().join("kubeconfig");
    let scripts = directory.path().join("pod-scripts.yaml");
    std::fs::write(&scripts, "shop:\n  \"*-build\":\n    completeAfter: soon\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_slipway-testcluster"))
        .args(["serve", "--simulate", "--kubeconfig"])
        .arg(&kubeconfig)
        .arg("--pod-scripts")
        .arg(&scripts)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(20), output)
        .await
        .expect("exits at once")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(r#"shop → "*-build" → completeAfter: invalid duration "soon""#),
        "{stderr}"
    );
    assert!(
        !kubeconfig.exists(),
        "no kubeconfig for a server that never ran"
    );
}
