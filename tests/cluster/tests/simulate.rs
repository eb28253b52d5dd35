//! The simulated cluster behaviour seen through the real `kube::Client`: Deployments become
//! Available, Services get EndpointSlices, Jobs end (simulated, run locally, run in Docker).

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::api::{ListParams, LogParams, PostParams};
use kube::runtime::wait::await_condition;
use serde_json::json;
use slipway_testcluster::TestCluster;
use slipway_testcluster::simulate::test_images::busybox_image;
use slipway_testcluster::simulate::{PodScript, RunMode, Simulation, SimulationConfig, start};

async fn cluster() -> (TestCluster, Simulation) {
    let test_cluster = TestCluster::start().await;
    let simulation = start(test_cluster.cluster().clone(), SimulationConfig::default());
    (test_cluster, simulation)
}

fn condition_true(conditions: Option<Vec<(String, String)>>, wanted: &str) -> bool {
    conditions
        .unwrap_or_default()
        .iter()
        .any(|(kind, status)| kind == wanted && status == "True")
}

fn deployment_available(deployment: Option<&Deployment>) -> bool {
    let conditions = deployment
        .and_then(|d| d.status.as_ref())
        .and_then(|s| s.conditions.as_ref());
    condition_true(
        conditions.map(|c| {
            c.iter()
                .map(|c| (c.type_.clone(), c.status.clone()))
                .collect()
        }),
        "Available",
    )
}

fn job_condition(wanted: &'static str) -> impl Fn(Option<&Job>) -> bool {
    move |job| {
        let conditions = job
            .and_then(|j| j.status.as_ref())
            .and_then(|s| s.conditions.as_ref());
        condition_true(
            conditions.map(|c| {
                c.iter()
                    .map(|c| (c.type_.clone(), c.status.clone()))
                    .collect()
            }),
            wanted,
        )
    }
}

async fn wait<K, C>(api: Api<K>, name: &str, condition: C) -> K
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
    C: kube::runtime::wait::Condition<K>,
{
    tokio::time::timeout(
        Duration::from_secs(30),
        await_condition(api, name, condition),
    )
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {name}"))
    .expect("watch failed")
    .unwrap_or_else(|| panic!("{name} was deleted"))
}

fn web_deployment(name: &str, annotations: serde_json::Value) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "web", "image": "web:1", "ports": [{"name": "http", "containerPort": 8080}]}]}}
        }
    }))
    .unwrap()
}

fn job(name: &str, annotations: serde_json::Value, image: &str, command: serde_json::Value) -> Job {
    serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
                 "containers": [{"name": "main", "image": image, "command": command}]}}}
    }))
    .unwrap()
}

async fn job_pod(client: &kube::Client, job: &str) -> Pod {
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let list = pods
        .list(&ListParams::default().labels(&format!("job-name={job}")))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1, "one pod for job {job}");
    list.items.into_iter().next().unwrap()
}

fn terminated_message(pod: &Pod) -> (i32, String, Option<String>) {
    let status = &pod
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0];
    let terminated = status
        .state
        .as_ref()
        .unwrap()
        .terminated
        .as_ref()
        .expect("terminated");
    (
        terminated.exit_code,
        terminated.reason.clone().unwrap_or_default(),
        terminated.message.clone(),
    )
}

#[tokio::test]
async fn a_deployment_becomes_available_with_replica_sets_pods_and_endpoint_slices() {
    let (test_cluster, simulation) = cluster().await;
    let client = test_cluster.client();
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    deployments
        .create(&PostParams::default(), &web_deployment("web", json!({})))
        .await
        .unwrap();
    let service: Service = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}
    }))
    .unwrap();
    Api::<Service>::default_namespaced(client.clone())
        .create(&PostParams::default(), &service)
        .await
        .unwrap();

    let deployment = wait(deployments.clone(), "web", deployment_available).await;
    let status = deployment.status.unwrap();
    assert_eq!(status.replicas, Some(2));
    assert_eq!(
        deployment.metadata.annotations.unwrap()["deployment.kubernetes.io/revision"],
        "1"
    );

    let sets = Api::<ReplicaSet>::default_namespaced(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(sets.items.len(), 1);
    let hash = sets.items[0].metadata.labels.as_ref().unwrap()["pod-template-hash"].clone();
    let pods = Api::<Pod>::default_namespaced(client.clone())
        .list(&ListParams::default().labels(&format!("pod-template-hash={hash}")))
        .await
        .unwrap();
    assert_eq!(pods.items.len(), 2);

    let slices: Api<EndpointSlice> = Api::default_namespaced(client.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let list = slices
            .list(&ListParams::default().labels("kubernetes.io/service-name=web"))
            .await
            .unwrap();
        let ready = list.items.first().map(|s| {
            s.endpoints
                .iter()
                .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) == Some(true))
                .count()
        });
        if ready == Some(2) {
            assert_eq!(list.items[0].ports.as_ref().unwrap()[0].port, Some(8080));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no ready endpoints: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    simulation.stop().await;
}

#[tokio::test]
async fn a_never_ready_deployment_times_out_progressing() {
    let (test_cluster, simulation) = cluster().await;
    let client = test_cluster.client();
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    let mut deployment = web_deployment(
        "stuck",
        json!({"testcluster.slipway.dev/never-ready": "true"}),
    );
    deployment.spec.as_mut().unwrap().progress_deadline_seconds = Some(1);
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap();
    let timed_out = |d: Option<&Deployment>| {
        d.and_then(|d| {
            d.status
                .as_ref()?
                .conditions
                .as_ref()?
                .iter()
                .find(|c| c.type_ == "Progressing")
                .cloned()
        })
        .is_some_and(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded"))
    };
    let deployment = wait(deployments, "stuck", timed_out).await;
    assert!(!deployment_available(Some(&deployment)));
    assert_eq!(deployment.status.unwrap().unavailable_replicas, Some(2));
    simulation.stop().await;
}

#[tokio::test]
async fn a_simulated_job_fails_with_the_scripted_termination_message() {
    let (test_cluster, simulation) = cluster().await;
    let client = test_cluster.client();
    simulation.script(
        "default",
        "unit",
        PodScript::default().termination_message("3 tests failed"),
    );
    let annotations = json!({"testcluster.slipway.dev/job-outcome": "fail"});
    let jobs: Api<Job> = Api::default_namespaced(client.clone());
    jobs.create(
        &PostParams::default(),
        &job("unit", annotations, "busybox", json!(["true"])),
    )
    .await
    .unwrap();
    let finished = wait(jobs, "unit", job_condition("Failed")).await;
    let reason = finished
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Failed")
        .unwrap()
        .reason;
    assert_eq!(reason.as_deref(), Some("BackoffLimitExceeded"));
    let pod = job_pod(&client, "unit").await;
    assert_eq!(
        terminated_message(&pod),
        (1, "Error".into(), Some("3 tests failed".into()))
    );
    simulation.stop().await;
}

#[tokio::test]
async fn a_local_job_runs_its_command_and_completes_with_the_termination_message() {
    let (test_cluster, simulation) = cluster().await;
    let client = test_cluster.client();
    let annotations = json!({"testcluster.slipway.dev/run": "local"});
    let command = json!(["sh", "-c", "echo hi; echo done > /dev/termination-log"]);
    let jobs: Api<Job> = Api::default_namespaced(client.clone());
    jobs.create(
        &PostParams::default(),
        &job("build", annotations, "ignored", command),
    )
    .await
    .unwrap();
    let finished = wait(jobs, "build", job_condition("Complete")).await;
    assert_eq!(finished.status.unwrap().succeeded, Some(1));
    let pod = job_pod(&client, "build").await;
    assert_eq!(
        terminated_message(&pod),
        (0, "Completed".into(), Some("done\n".into()))
    );
    let name = pod.metadata.name.unwrap();
    assert_eq!(
        simulation
            .pod_log("default", &name, Some("main"))
            .as_deref(),
        Some("hi\n")
    );
    // The same log through the pod `log` endpoint, as `kubectl logs` and kube's `Api::logs` read it.
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    assert_eq!(
        pods.logs(&name, &LogParams::default()).await.unwrap(),
        "hi\n"
    );
    let wrong = LogParams {
        container: Some("nope".into()),
        ..LogParams::default()
    };
    let error = pods.logs(&name, &wrong).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("container nope is not valid for pod"),
        "{error}"
    );
    simulation.stop().await;
}

#[tokio::test]
async fn a_docker_job_runs_its_image_and_completes_with_the_termination_message() {
    let image = busybox_image();
    let (test_cluster, simulation) = cluster().await;
    let client = test_cluster.client();
    let annotations = json!({"testcluster.slipway.dev/run": "docker"});
    let command = json!([
        "/bin/busybox",
        "sh",
        "-c",
        "echo hi from docker; echo done > /dev/termination-log; exit 2"
    ]);
    let jobs: Api<Job> = Api::default_namespaced(client.clone());
    jobs.create(
        &PostParams::default(),
        &job("image", annotations, image, command),
    )
    .await
    .unwrap();
    wait(jobs, "image", job_condition("Failed")).await;
    let pod = job_pod(&client, "image").await;
    assert_eq!(
        terminated_message(&pod),
        (2, "Error".into(), Some("done\n".into()))
    );
    let name = pod.metadata.name.unwrap();
    assert_eq!(
        simulation.pod_log("default", &name, None).as_deref(),
        Some("hi from docker\n")
    );
    simulation.stop().await;
}

#[tokio::test]
async fn a_local_job_runs_its_init_containers_first_and_fails_when_one_fails() {
    let (test_cluster, simulation) = cluster().await;
    let client = test_cluster.client();
    let jobs: Api<Job> = Api::default_namespaced(client.clone());
    let with_init = |name: &str, init_command: &str| -> Job {
        serde_json::from_value(json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "annotations": {"testcluster.slipway.dev/run": "local"}},
            "spec": {"backoffLimit": 0, "template": {"spec": {
                "restartPolicy": "Never",
                "volumes": [{"name": "shared", "emptyDir": {}}],
                "initContainers": [{"name": "prepare", "image": "ignored", "command": ["sh", "-c", init_command],
                                    "volumeMounts": [{"name": "shared", "mountPath": "/shared"}]}],
                "containers": [{"name": "main", "image": "ignored",
                                "command": ["sh", "-c", "cat /shared/note > /dev/termination-log"],
                                "volumeMounts": [{"name": "shared", "mountPath": "/shared"}]}]}}}
        }))
        .unwrap()
    };
    jobs.create(
        &PostParams::default(),
        &with_init("prepared", "echo prepared > /shared/note"),
    )
    .await
    .unwrap();
    wait(jobs.clone(), "prepared", job_condition("Complete")).await;
    let pod = job_pod(&client, "prepared").await;
    assert_eq!(
        terminated_message(&pod),
        (0, "Completed".into(), Some("prepared\n".into())),
        "the init container ran first, on the same volume"
    );
    let init = &pod
        .status
        .as_ref()
        .unwrap()
        .init_container_statuses
        .as_ref()
        .unwrap()[0];
    assert_eq!(init.name, "prepare");
    assert_eq!(
        init.state
            .as_ref()
            .unwrap()
            .terminated
            .as_ref()
            .unwrap()
            .exit_code,
        0
    );

    jobs.create(
        &PostParams::default(),
        &with_init(
            "unprepared",
            "echo cannot prepare > /dev/termination-log; exit 3",
        ),
    )
    .await
    .unwrap();
    wait(jobs, "unprepared", job_condition("Failed")).await;
    let pod = job_pod(&client, "unprepared").await;
    let status = pod.status.as_ref().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Failed"));
    let init = status.init_container_statuses.as_ref().unwrap()[0]
        .state
        .as_ref()
        .unwrap()
        .terminated
        .clone()
        .expect("the init container terminated");
    assert_eq!(
        (init.exit_code, init.message.as_deref()),
        (3, Some("cannot prepare\n"))
    );
    let main = &status.container_statuses.as_ref().unwrap()[0];
    assert_eq!(
        main.state
            .as_ref()
            .unwrap()
            .waiting
            .as_ref()
            .unwrap()
            .reason
            .as_deref(),
        Some("PodInitializing"),
        "the container never started"
    );
    simulation.stop().await;
}

#[tokio::test]
async fn a_replaced_command_runs_instead_of_the_containers_own_with_its_paths_mapped() {
    let (test_cluster, simulation) = cluster().await;
    let client = test_cluster.client();
    // The daemon's own command cannot run here; the test's stand-in prepares what it would.
    simulation.script(
        "default",
        "daemon",
        PodScript::default()
            .run(RunMode::Local)
            .replace_command("daemon", ["sh", "-c", "echo up > /var/run/daemon/ready"]),
    );
    let job: Job = serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "daemon"},
        "spec": {"backoffLimit": 0, "template": {"spec": {
            "restartPolicy": "Never",
            "volumes": [{"name": "socket", "emptyDir": {}}],
            "initContainers": [{"name": "daemon", "image": "docker:dind", "restartPolicy": "Always",
                                "args": ["dockerd", "--host=unix:///var/run/daemon/docker.sock"],
                                "volumeMounts": [{"name": "socket", "mountPath": "/var/run/daemon"}]}],
            "containers": [{"name": "main", "image": "ignored",
                            "command": ["sh", "-c", "cat /var/run/daemon/ready > /dev/termination-log"],
                            "volumeMounts": [{"name": "socket", "mountPath": "/var/run/daemon"}]}]}}}
    }))
    .unwrap();
    let jobs: Api<Job> = Api::default_namespaced(client.clone());
    jobs.create(&PostParams::default(), &job).await.unwrap();
    wait(jobs, "daemon", job_condition("Complete")).await;
    let pod = job_pod(&client, "daemon").await;
    assert_eq!(
        terminated_message(&pod),
        (0, "Completed".into(), Some("up\n".into())),
        "the stand-in ran in the daemon's place, on the shared volume"
    );
    simulation.stop().await;
}
