//! Cost and latency of the PipelineExecution controller against the test cluster.
//!
//! `cargo bench -j 2 -p slipway --bench pipeline` runs N executions (`PIPELINE_BENCH_RUNS`, default
//! 10) of a 3-stage pipeline, one Job action per stage (the simulated kubelet completes each Job's
//! pod in ~300 ms), one after another, with every controller running, and prints:
//! 1. **reconciles per execution** and per stage: each reconcile of a run starts with one GET of
//!    its Pipeline (observe reads the stage locks fresh), so the request log counts them;
//! 2. **API writes per stage transition** by resource (status, stage-lock patches, child creates,
//!    Events), a transition being a stage entered (so a 3-stage run has 3);
//! 3. **hand-off latency**: from one stage's Job completing (its `Complete` condition, seen by a
//!    watch in this process) to the next stage's Job created (seen by the same kind of watch),
//!    median and p95, as a ratio to one Job create round trip through the kube client, measured in
//!    the same run (median of 50).
//!
//! Targets from the issue: ≤ 10 reconciles per stage, ≤ 5 writes per transition. Reported, not
//! enforced; a plain `main` like the other benches.

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use kube::runtime::watcher;
use serde_json::json;
use slipway::api::execution::{ExecutionStatus, PipelineExecution};
use slipway::api::pipeline::Pipeline;
use slipway::pipeline::children::child_name;
use slipway::runtime::run_with_client;
use support::{cluster_apart, free_address, percentile};

const NAMESPACE: &str = "default";
const STAGES: [&str; 3] = ["One", "Two", "Three"];

/// When each Job was first seen, and when it was first seen complete.
#[derive(Default)]
struct JobTimes {
    created: BTreeMap<String, Instant>,
    completed: BTreeMap<String, Instant>,
}

fn main() {
    support::run_on_two_workers(run());
}

async fn run() {
    let runs: usize = std::env::var("PIPELINE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let (cluster, _simulation) = cluster_apart();
    let client = cluster.client();
    let jobs: Api<Job> = Api::namespaced(client.clone(), NAMESPACE);

    let mut round_trips = Vec::new();
    for index in 0..50 {
        let job: Job = serde_json::from_value(json!({
            "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": format!("yardstick-{index}")},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}
        }))
        .unwrap();
        let started = Instant::now();
        jobs.create(&PostParams::default(), &job)
            .await
            .expect("a Job");
        round_trips.push(started.elapsed());
        let _ = jobs
            .delete(&format!("yardstick-{index}"), &DeleteParams::background())
            .await;
    }
    let create = percentile(&round_trips, 50);

    let times = Arc::new(Mutex::new(JobTimes::default()));
    watch_jobs(jobs.clone(), times.clone());
    let pipelines: Api<Pipeline> = Api::namespaced(client.clone(), NAMESPACE);
    let job = |name: &str| json!({"name": name, "job": {"template": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}});
    let stages: Vec<_> = STAGES
        .iter()
        .map(|stage| json!({"name": stage, "actions": [job("work")]}))
        .collect();
    let pipeline: Pipeline = serde_json::from_value(json!({
        "apiVersion": "slipway.dev/v1alpha1", "kind": "Pipeline", "metadata": {"name": "bench"},
        "spec": {"source": {"git": {"url": "https://git.test/bench.git", "pollInterval": "0s"}}, "executionMode": "Queued", "stages": stages}
    }))
    .unwrap();
    let pipeline = pipelines
        .create(&PostParams::default(), &pipeline)
        .await
        .expect("the Pipeline");
    // Owned by the Pipeline from the start, as `kubectl slipway start` creates runs, so no
    // adoption write is counted.
    let owner = json!([{"apiVersion": "slipway.dev/v1alpha1", "kind": "Pipeline", "name": "bench",
        "uid": pipeline.metadata.uid.clone().unwrap_or_default(), "controller": true, "blockOwnerDeletion": false}]);

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options = support::controller_options(free_address());
    let controller = tokio::spawn(run_with_client(client.clone(), options, async {
        let _ = stopped.await;
    }));

    let executions: Api<PipelineExecution> = Api::namespaced(client.clone(), NAMESPACE);
    let mut reconciles = Vec::new();
    let mut writes: BTreeMap<String, usize> = BTreeMap::new();
    let mut handoffs = Vec::new();
    let mut durations = Vec::new();
    for index in 0..runs {
        let name = format!("bench-{index}");
        cluster.requests().clear();
        let started = Instant::now();
        let run: PipelineExecution = serde_json::from_value(json!({
            "apiVersion": "slipway.dev/v1alpha1", "kind": "PipelineExecution", "metadata": {"name": name, "ownerReferences": owner},
            "spec": {"pipelineRef": {"name": "bench"}, "source": {"commitId": format!("{index:040x}")}}
        }))
        .unwrap();
        executions
            .create(&PostParams::default(), &run)
            .await
            .expect("the run");
        wait_succeeded(&executions, &name).await;
        durations.push(started.elapsed());
        // Let the last writes (Events, the Pipeline's status) land before counting.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let requests = cluster.requests().all();
        reconciles.push(
            requests
                .iter()
                .filter(|r| {
                    r.verb == "get"
                        && r.resource == "pipelines"
                        && r.name.as_deref() == Some("bench")
                })
                .count(),
        );
        for request in requests.iter().filter(|r| r.is_write()) {
            let ours = request.field_manager.as_deref() == Some("slipway-controller")
                || request.resource == "events";
            if !ours || (request.resource == "pipelines" && request.subresource.is_some()) {
                continue;
            }
            let key = match (&request.subresource, request.resource.as_str()) {
                (Some(sub), resource) => format!("{resource}/{sub}"),
                (None, "pipelines") => "pipelines (stage locks)".to_owned(),
                (None, resource) => format!("{resource} {}", request.verb),
            };
            *writes.entry(key).or_insert(0) += 1;
        }
        let times = times.lock().unwrap();
        for pair in STAGES.windows(2) {
            let done = child_name(&name, pair[0], "work", 1);
            let next = child_name(&name, pair[1], "work", 1);
            if let (Some(done), Some(next)) = (times.completed.get(&done), times.created.get(&next))
            {
                handoffs.push(next.saturating_duration_since(*done));
            }
        }
    }
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(15), controller).await;

    let transitions = (runs * STAGES.len()) as f64;
    let total_writes: usize = writes.values().sum();
    let event_writes: usize = writes
        .iter()
        .filter(|(key, _)| key.starts_with("events"))
        .map(|(_, n)| n)
        .sum();
    println!(
        "pipeline bench: {runs} runs of a {}-stage pipeline (one Job per stage)",
        STAGES.len()
    );
    println!(
        "run duration: median {:?}, p95 {:?}",
        percentile(&durations, 50),
        percentile(&durations, 95)
    );
    let mean_reconciles = reconciles.iter().sum::<usize>() as f64 / runs as f64;
    println!(
        "reconciles per execution: mean {mean_reconciles:.1} (min {}, max {}); per stage {:.1}",
        reconciles.iter().min().unwrap_or(&0),
        reconciles.iter().max().unwrap_or(&0),
        mean_reconciles / STAGES.len() as f64
    );
    println!(
        "API writes per stage transition: {:.2} in all, {:.2} without Events",
        total_writes as f64 / transitions,
        (total_writes - event_writes) as f64 / transitions
    );
    for (key, count) in &writes {
        println!("  {key}: {:.2} per transition", *count as f64 / transitions);
    }
    println!("Job create round trip (yardstick): median {create:?}");
    if !handoffs.is_empty() {
        let median = percentile(&handoffs, 50);
        let p95 = percentile(&handoffs, 95);
        println!(
            "hand-off (a stage's Job complete → the next stage's Job created, both seen by a watch): median {median:?} = {:.2}× a create round trip, p95 {p95:?} = {:.2}×",
            median.as_secs_f64() / create.as_secs_f64(),
            p95.as_secs_f64() / create.as_secs_f64()
        );
    }
}

fn watch_jobs(jobs: Api<Job>, times: Arc<Mutex<JobTimes>>) {
    tokio::spawn(async move {
        let mut stream = watcher::watcher(jobs, watcher::Config::default()).boxed();
        while let Some(event) = stream.next().await {
            let Ok(watcher::Event::Apply(job) | watcher::Event::InitApply(job)) = event else {
                continue;
            };
            let now = Instant::now();
            let name = job.metadata.name.clone().unwrap_or_default();
            let complete = job
                .status
                .as_ref()
                .and_then(|status| status.conditions.as_ref())
                .is_some_and(|conditions| {
                    conditions
                        .iter()
                        .any(|c| c.type_ == "Complete" && c.status == "True")
                });
            let mut times = times.lock().unwrap();
            times.created.entry(name.clone()).or_insert(now);
            if complete {
                times.completed.entry(name).or_insert(now);
            }
        }
    });
}

async fn wait_succeeded(executions: &Api<PipelineExecution>, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let run = executions.get(name).await.expect("the run");
        let phase = run.status.as_ref().and_then(|status| status.phase);
        if phase == Some(ExecutionStatus::Succeeded) {
            return;
        }
        assert!(
            Instant::now() < deadline
                && !matches!(
                    phase,
                    Some(ExecutionStatus::Failed | ExecutionStatus::Stopped)
                ),
            "run {name} did not succeed: {:#?}",
            run.status
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
