//! The adapter against the core's `Cluster` (the internal API, no HTTP).

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::ClusterConfig;
use crate::simulate::object::condition_is_true;
use crate::simulate::{SimulationConfig, start};

fn deployments() -> Gvr {
    gvr(Kind::Deployment)
}

async fn eventually(what: &str, mut check: impl FnMut() -> Option<Value>) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn deployment(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": "web:1", "ports": [{"name": "http", "containerPort": 8080}]}]}}}
    })
}

fn job(name: &str, annotations: Value, command: Value) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": "default", "annotations": annotations},
        "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
                 "containers": [{"name": "main", "image": "busybox", "command": command}]}}}
    })
}

#[tokio::test]
async fn a_deployment_becomes_available_with_endpoints_for_its_pods() {
    let cluster = Cluster::new(ClusterConfig::default());
    let simulation = start(cluster.clone(), SimulationConfig::default());
    cluster
        .create(&deployments(), deployment("web"), "test")
        .unwrap();
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
                         "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}});
    cluster
        .create(&gvr(Kind::Service), service, "test")
        .unwrap();
    let status = eventually("Available", || {
        let d = cluster.get(&deployments(), Some("default"), "web")?;
        (condition_is_true(&d, "Available") && d["status"]["availableReplicas"] == 2)
            .then(|| d["status"].clone())
    })
    .await;
    assert_eq!(status["updatedReplicas"], 2);
    let slice = eventually("two ready endpoints", || {
        let slices = cluster.list(&gvr(Kind::EndpointSlice), Some("default"));
        let slice = slices.first()?;
        let endpoints = slice["endpoints"].as_array()?;
        (endpoints.len() == 2 && endpoints.iter().all(|e| e["conditions"]["ready"] == true))
            .then(|| slice.clone())
    })
    .await;
    assert_eq!(slice["ports"][0]["port"], 8080);
    let pods = cluster.list(&gvr(Kind::Pod), Some("default"));
    assert!(pods.iter().all(|p| {
        p["status"]["podIP"]
            .as_str()
            .unwrap()
            .starts_with("127.244.")
    }));
    simulation.stop().await;
}

#[tokio::test]
async fn a_rust_script_keeps_a_deployment_unavailable() {
    let cluster = Cluster::new(ClusterConfig::default());
    let simulation = start(cluster.clone(), SimulationConfig::default());
    simulation.script("default", "stuck", PodScript::default().never_ready(true));
    cluster
        .create(&deployments(), deployment("stuck"), "test")
        .unwrap();
    let status = eventually("pods running", || {
        let d = cluster.get(&deployments(), Some("default"), "stuck")?;
        (d["status"]["replicas"] == 2).then(|| d["status"].clone())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let d = cluster
        .get(&deployments(), Some("default"), "stuck")
        .unwrap();
    assert!(!condition_is_true(&d, "Available"), "{status:#}");
    assert_eq!(d["status"]["unavailableReplicas"], 2);
    simulation.stop().await;
}

#[tokio::test]
async fn a_simulated_job_fails_with_the_scripted_message() {
    let cluster = Cluster::new(ClusterConfig::default());
    let simulation = start(cluster.clone(), SimulationConfig::default());
    let annotations = json!({"testcluster.slipway.dev/job-outcome": "fail", "testcluster.slipway.dev/termination-message": "tests failed"});
    cluster
        .create(
            &gvr(Kind::Job),
            job("unit", annotations, json!(["true"])),
            "test",
        )
        .unwrap();
    let job = eventually("Failed", || {
        let j = cluster.get(&gvr(Kind::Job), Some("default"), "unit")?;
        condition_is_true(&j, "Failed").then_some(j)
    })
    .await;
    assert_eq!(job["status"]["failed"], 1);
    let pods = cluster.list(&gvr(Kind::Pod), Some("default"));
    assert_eq!(
        pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]["message"],
        "tests failed"
    );
    assert_eq!(pods[0]["metadata"]["labels"]["job-name"], "unit");
    simulation.stop().await;
}

#[tokio::test]
async fn a_pod_scripts_file_scripts_jobs_by_glob_below_their_annotations() {
    let file = crate::simulate::PodScriptFile::parse(
        "default:\n  \"*-build\":\n    outcome: fail\n    exitCode: 3\n    terminationMessage: from the file\n",
        "pod-scripts.yaml",
    )
    .unwrap();
    let cluster = Cluster::new(ClusterConfig::default());
    let simulation = start(
        cluster.clone(),
        SimulationConfig {
            pod_scripts: file,
            ..SimulationConfig::default()
        },
    );
    let annotated = json!({"testcluster.slipway.dev/termination-message": "from the annotation"});
    for (name, annotations) in [
        ("web-1-build", json!({})),
        ("web-2-build", annotated),
        ("web-1-test", json!({})),
    ] {
        cluster
            .create(
                &gvr(Kind::Job),
                job(name, annotations, json!(["true"])),
                "test",
            )
            .unwrap();
    }
    let ended = |name: &'static str, condition: &'static str| {
        let cluster = cluster.clone();
        move || {
            let job = cluster.get(&gvr(Kind::Job), Some("default"), name)?;
            condition_is_true(&job, condition).then_some(job)
        }
    };
    eventually("web-1-build Failed", ended("web-1-build", "Failed")).await;
    eventually("web-2-build Failed", ended("web-2-build", "Failed")).await;
    eventually("web-1-test Complete", ended("web-1-test", "Complete")).await;
    let terminated = |job: &str| {
        let pods = cluster.list(&gvr(Kind::Pod), Some("default"));
        let pod = pods
            .iter()
            .find(|pod| pod["metadata"]["labels"]["job-name"] == job)
            .unwrap();
        pod["status"]["containerStatuses"][0]["state"]["terminated"].clone()
    };
    assert_eq!(terminated("web-1-build")["message"], "from the file");
    assert_eq!(terminated("web-1-build")["exitCode"], 3);
    assert_eq!(terminated("web-2-build")["message"], "from the annotation");
    assert_eq!(terminated("web-2-build")["exitCode"], 3);
    assert_eq!(terminated("web-1-test")["exitCode"], 0);
    simulation.stop().await;
}

#[tokio::test]
async fn a_local_job_really_runs_and_completes_with_its_message_and_log() {
    let cluster = Cluster::new(ClusterConfig::default());
    let simulation = start(cluster.clone(), SimulationConfig::default());
    let annotations = json!({"testcluster.slipway.dev/run": "local"});
    let command = json!(["sh", "-c", "echo hi; echo done > /dev/termination-log"]);
    cluster
        .create(&gvr(Kind::Job), job("build", annotations, command), "test")
        .unwrap();
    eventually("Complete", || {
        let j = cluster.get(&gvr(Kind::Job), Some("default"), "build")?;
        condition_is_true(&j, "Complete").then_some(j)
    })
    .await;
    let pod = cluster.list(&gvr(Kind::Pod), Some("default")).remove(0);
    let terminated = &pod["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(terminated["message"], "done\n");
    assert_eq!(terminated["reason"], "Completed");
    assert_eq!(
        simulation
            .pod_log("default", object::name(&pod), None)
            .as_deref(),
        Some("hi\n")
    );
    simulation.stop().await;
}

#[tokio::test]
async fn deleting_a_running_local_pod_kills_it_and_forgets_its_log() {
    let cluster = Cluster::new(ClusterConfig::default());
    let simulation = start(cluster.clone(), SimulationConfig::default());
    let annotations = json!({"testcluster.slipway.dev/run": "local"});
    cluster
        .create(
            &gvr(Kind::Job),
            job(
                "sleepy",
                annotations,
                json!(["sh", "-c", "echo started; sleep 30"]),
            ),
            "test",
        )
        .unwrap();
    let pod = eventually("running pod with log", || {
        let pod = cluster.list(&gvr(Kind::Pod), Some("default")).pop()?;
        (simulation.pod_log("default", object::name(&pod), None)? == "started\n").then_some(pod)
    })
    .await;
    cluster
        .delete(&gvr(Kind::Job), Some("default"), "sleepy")
        .unwrap();
    eventually("log forgotten", || {
        simulation
            .pod_log("default", object::name(&pod), None)
            .is_none()
            .then_some(Value::Null)
    })
    .await;
    simulation.stop().await;
}

#[tokio::test]
async fn a_template_change_rolls_the_deployment_to_new_pods() {
    let cluster = Cluster::new(ClusterConfig::default());
    let simulation = start(cluster.clone(), SimulationConfig::default());
    cluster
        .create(&deployments(), deployment("roll"), "test")
        .unwrap();
    eventually("revision 1 available", || {
        let d = cluster.get(&deployments(), Some("default"), "roll")?;
        (d["status"]["availableReplicas"] == 2).then_some(d)
    })
    .await;
    let mut d = cluster
        .get(&deployments(), Some("default"), "roll")
        .unwrap();
    d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:2");
    cluster.update(&deployments(), d, "test").unwrap();
    let rolled = eventually("revision 2 complete", || {
        let d = cluster.get(&deployments(), Some("default"), "roll")?;
        let progressing = d["status"]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == "Progressing")?
            .clone();
        (d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
            && progressing["reason"] == "NewReplicaSetAvailable"
            && d["status"]["updatedReplicas"] == 2
            && d["status"]["replicas"] == 2)
            .then_some(d)
    })
    .await;
    assert_eq!(rolled["status"]["availableReplicas"], 2);
    let images: Vec<Value> = eventually("old pods gone", || {
        let pods = cluster.list(&gvr(Kind::Pod), Some("default"));
        (pods.len() == 2).then(|| json!(pods))
    })
    .await
    .as_array()
    .unwrap()
    .iter()
    .map(|p| p["spec"]["containers"][0]["image"].clone())
    .collect();
    assert_eq!(images, vec![json!("web:2"), json!("web:2")]);
    simulation.stop().await;
}

#[tokio::test]
async fn a_pod_scripted_unready_later_makes_the_deployment_unavailable() {
    let cluster = Cluster::new(ClusterConfig::default());
    let simulation = start(cluster.clone(), SimulationConfig::default());
    simulation.script(
        "default",
        "flaky",
        PodScript::default()
            .ready_after(Duration::from_millis(100))
            .unready_after(Duration::from_millis(700)),
    );
    cluster
        .create(&deployments(), deployment("flaky"), "test")
        .unwrap();
    eventually("available", || {
        let d = cluster.get(&deployments(), Some("default"), "flaky")?;
        condition_is_true(&d, "Available").then_some(d)
    })
    .await;
    // The two pods turn unready a few milliseconds apart: Available flips at the first one, and
    // the count reaches 2 at the second.
    let d = eventually("both pods unavailable", || {
        let d = cluster.get(&deployments(), Some("default"), "flaky")?;
        (d["status"]["unavailableReplicas"] == 2).then_some(d)
    })
    .await;
    assert!(!condition_is_true(&d, "Available"), "{d}");
    simulation.stop().await;
}

#[tokio::test]
async fn the_active_deadline_kills_a_local_run_and_fails_the_job() {
    let cluster = Cluster::new(ClusterConfig::default());
    let simulation = start(cluster.clone(), SimulationConfig::default());
    let mut sleeper = job(
        "deadline",
        json!({"testcluster.slipway.dev/run": "local"}),
        json!(["sleep", "30"]),
    );
    sleeper["spec"]["activeDeadlineSeconds"] = json!(1);
    cluster.create(&gvr(Kind::Job), sleeper, "test").unwrap();
    let failed = eventually("Failed", || {
        let j = cluster.get(&gvr(Kind::Job), Some("default"), "deadline")?;
        condition_is_true(&j, "Failed").then_some(j)
    })
    .await;
    let reason = failed["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Failed")
        .unwrap()["reason"]
        .clone();
    assert_eq!(reason, "DeadlineExceeded");
    assert!(cluster.list(&gvr(Kind::Pod), Some("default")).is_empty());
    simulation.stop().await;
}

#[tokio::test]
async fn a_finished_job_is_deleted_after_its_ttl_with_its_pods() {
    let cluster = Cluster::new(ClusterConfig::default());
    let simulation = start(cluster.clone(), SimulationConfig::default());
    let mut short = job("short", json!({}), json!(["true"]));
    short["spec"]["ttlSecondsAfterFinished"] = json!(0);
    cluster.create(&gvr(Kind::Job), short, "test").unwrap();
    eventually("job and pods deleted", || {
        let gone = cluster
            .get(&gvr(Kind::Job), Some("default"), "short")
            .is_none()
            && cluster.list(&gvr(Kind::Pod), Some("default")).is_empty();
        gone.then_some(Value::Null)
    })
    .await;
    simulation.stop().await;
}

#[tokio::test]
async fn a_settled_cluster_sees_no_more_writes() {
    let cluster = Cluster::new(ClusterConfig::default());
    let simulation = start(cluster.clone(), SimulationConfig::default());
    cluster
        .create(&deployments(), deployment("calm"), "test")
        .unwrap();
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "calm", "namespace": "default"},
                         "spec": {"selector": {"app": "calm"}, "ports": [{"port": 80, "targetPort": "http"}]}});
    cluster
        .create(&gvr(Kind::Service), service, "test")
        .unwrap();
    let mut finished = job("calm-job", json!({}), json!(["true"]));
    finished["metadata"]["namespace"] = json!("default");
    cluster.create(&gvr(Kind::Job), finished, "test").unwrap();
    eventually("everything settled", || {
        let d = cluster.get(&deployments(), Some("default"), "calm")?;
        let j = cluster.get(&gvr(Kind::Job), Some("default"), "calm-job")?;
        let slices = cluster.list(&gvr(Kind::EndpointSlice), Some("default"));
        let ready = slices.first()?["endpoints"].as_array()?.len() == 2;
        (ready && condition_is_true(&d, "Available") && condition_is_true(&j, "Complete"))
            .then_some(Value::Null)
    })
    .await;
    // Let scheduled rechecks (progress estimation) fire, then count writes.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut events = cluster.subscribe();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut writes = Vec::new();
    while let Ok(event) = events.try_recv() {
        writes.push(format!(
            "{:?} {} {}",
            event.kind,
            event.gvr.resource,
            object::name(&event.object)
        ));
    }
    assert!(writes.is_empty(), "writes after settling: {writes:#?}");
    simulation.stop().await;
}
