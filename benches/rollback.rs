//! Rollback latency of the `deployments.slipway.dev` controller against the test cluster.
//!
//! `cargo bench -j 2 -p slipway --bench rollback` measures, in one run:
//! 1. a single PATCH round trip to the test cluster (merge patch of a Service annotation through
//!    the kube client), median of [`PATCHES`];
//! 2. for N canary rollouts on an HTTPRoute (`ROLLBACK_BENCH_ROLLOUTS`, default 8), the time from
//!    the health server's answer that makes an HTTP check cross its failure threshold (the
//!    server timestamps every answer; the crossing one is the `failureThreshold`-th failing
//!    answer after it flips) to the HTTPRoute's production/canary weights back at 100/0 (seen
//!    by a watch on the route) — median and p95, and their ratio to the PATCH (target ≤ 2×);
//! 3. per rollout: reconciles (each observe starts with a GET of the target workload) and API
//!    writes by resource, and per step of one successful canary rollout.
//!
//! A plain `main` (no criterion), like the other benches. The ratio is reported, not enforced:
//! what dominates it is printed with it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Service;
use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use serde_json::{Value, json};
use slipway::api::Deployment as Record;
use slipway::api::deployment::{DeploymentPhase, DeploymentSpec};
use slipway::rollout::traffic_apply::httproute_resource;
use slipway::runtime::{BuildOptions, ControllerOptions, LogFormat, run_with_client};
use slipway_testcluster::RequestRecord;
use slipway_testcluster::TestCluster;
use slipway_testcluster::simulate::SimulationConfig;

const NAMESPACE: &str = "default";
const PATCHES: usize = 50;
const FAILURE_THRESHOLD: usize = 2;

type Answers = Arc<Mutex<Vec<(Instant, bool)>>>;
/// Route weights `(production, canary)` as a watch saw them, with when.
type SeenWeights = Arc<Mutex<Vec<(Instant, (i64, i64))>>>;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run());
}

fn free_address() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound address")
}

fn percentile(samples: &[Duration], percent: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let index = ((sorted.len() * percent).div_ceil(100)).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

async fn create<K>(api: &Api<K>, value: Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    api.create(
        &PostParams::default(),
        &serde_json::from_value(value).unwrap(),
    )
    .await
    .expect("created");
}

async fn health_server(healthy: Arc<AtomicBool>, answers: Answers) -> String {
    let router = axum::Router::new().route(
        "/healthz",
        axum::routing::get(move || {
            let (healthy, answers) = (healthy.clone(), answers.clone());
            async move {
                let ok = healthy.load(Ordering::SeqCst);
                answers.lock().unwrap().push((Instant::now(), ok));
                if ok {
                    axum::http::StatusCode::OK
                } else {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{address}/healthz")
}

fn weights_of(route: &DynamicObject) -> (i64, i64) {
    let backends = route.data["spec"]["rules"][0]["backendRefs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let weight = |name: &str| {
        backends
            .iter()
            .find(|backend| backend["name"] == name)
            .and_then(|backend| backend["weight"].as_i64())
            .unwrap_or(1)
    };
    (weight("web"), weight("web-canary"))
}

async fn wait_phase(records: &Api<Record>, name: &str, phase: DeploymentPhase) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let record = records.get(name).await.unwrap();
        if record.status.as_ref().and_then(|status| status.phase) == Some(phase) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never {phase:?}: {:#?}",
            record.status
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reconciles and writes in `requests` (the controller's: its field manager, its Events).
fn tally(requests: &[RequestRecord]) -> (usize, BTreeMap<String, usize>) {
    let reconciles = requests
        .iter()
        .filter(|r| r.verb == "get" && r.group == "apps" && r.name.as_deref() == Some("web"))
        .count();
    let mut writes = BTreeMap::new();
    for request in requests.iter().filter(|r| r.is_write()) {
        let controller = request.field_manager.as_deref() == Some("slipway-controller")
            || request.resource == "events"
            || (request.resource == "deployments"
                && request.group == "apps"
                && request.verb == "create");
        if !controller {
            continue;
        }
        let key = match &request.subresource {
            Some(sub) => format!("{}/{sub}", request.resource),
            None if request.group == "apps" => format!("apps {}", request.resource),
            None => request.resource.clone(),
        };
        *writes.entry(key).or_insert(0) += 1;
    }
    (reconciles, writes)
}

async fn run() {
    let rollouts: usize = std::env::var("ROLLBACK_BENCH_ROLLOUTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(8);
    let cluster = TestCluster::start().await;
    cluster
        .apply_crds_from(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds"))
        .expect("the CRDs apply");
    cluster.install_httproute_crd();
    let _simulation = cluster.simulate(SimulationConfig::default());
    let client = cluster.client();
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), NAMESPACE);
    let services: Api<Service> = Api::namespaced(client.clone(), NAMESPACE);
    let routes: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), NAMESPACE, &httproute_resource());
    let records: Api<Record> = Api::namespaced(client.clone(), NAMESPACE);
    create(
        &deployments,
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "shop/web:1"}]}}}
        }),
    )
    .await;
    create(
        &services,
        json!({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}
        }),
    )
    .await;
    create(&routes, json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "web"},
        "spec": {"parentRefs": [{"name": "public"}], "rules": [{"backendRefs": [
            {"name": "web", "port": 80, "weight": 100}, {"name": "web-canary", "port": 80, "weight": 0}]}]}
    })).await;

    // 1. One PATCH round trip.
    let mut patches = Vec::new();
    for index in 0..PATCHES {
        let started = Instant::now();
        services
            .patch(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"annotations": {"bench": index.to_string()}}})),
            )
            .await
            .expect("patched");
        patches.push(started.elapsed());
    }
    let patch = percentile(&patches, 50);

    // The route's weights as a watch sees them, with when.
    let seen: SeenWeights = Arc::default();
    {
        let seen = seen.clone();
        let routes = routes.clone();
        tokio::spawn(async move {
            let mut stream = watcher::watcher(routes, watcher::Config::default()).boxed();
            while let Some(event) = stream.next().await {
                if let Ok(watcher::Event::Apply(route) | watcher::Event::InitApply(route)) = event {
                    seen.lock()
                        .unwrap()
                        .push((Instant::now(), weights_of(&route)));
                }
            }
        });
    }
    let options = ControllerOptions {
        http_addr: free_address(),
        webhook_addr: free_address(),
        namespaces: Vec::new(),
        leader_elect: false,
        leader_election_namespace: None,
        log_level: "warn".into(),
        log_format: LogFormat::Text,
        build: BuildOptions::default(),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let controller = tokio::spawn(run_with_client(client.clone(), options, async {
        let _ = stopped.await;
    }));

    let healthy = Arc::new(AtomicBool::new(true));
    let answers: Answers = Arc::default();
    let url = health_server(healthy.clone(), answers.clone()).await;
    let spec = |image: &str, interval: &str| -> DeploymentSpec {
        serde_json::from_value(json!({
            "target": {"service": "web", "workload": "web", "httpRoute": {"name": "web"}},
            "revision": {"images": [{"container": "web", "image": image}]},
            "strategy": {"canary": {"percent": 50, "interval": interval}, "blueGreen": {"terminationWait": "1s"}},
            "healthChecks": [{"name": "api", "http": {"url": url}, "interval": "1s", "timeout": "1s",
                              "failureThreshold": FAILURE_THRESHOLD}]
        }))
        .unwrap()
    };

    // 3a. One successful canary rollout: reconciles and writes per traffic step.
    cluster.requests().clear();
    records
        .create(
            &PostParams::default(),
            &Record::new("web-ok", spec("shop/web:ok", "2s")),
        )
        .await
        .unwrap();
    wait_phase(&records, "web-ok", DeploymentPhase::Succeeded).await;
    let (ok_reconciles, ok_writes) = tally(&cluster.requests().all());

    // 2. N rollbacks.
    let mut latencies = Vec::new();
    let mut per_rollout = Vec::new();
    // Server-side handling time of each restoring route PATCH (from the request log).
    let mut restore_server = Vec::new();
    for index in 0..rollouts {
        healthy.store(true, Ordering::SeqCst);
        cluster.requests().clear();
        let name = format!("web-bad-{index}");
        records
            .create(
                &PostParams::default(),
                &Record::new(&name, spec(&format!("shop/web:bad-{index}"), "5m")),
            )
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while seen.lock().unwrap().last().map(|(_, weights)| *weights) != Some((50, 50)) {
            assert!(
                Instant::now() < deadline,
                "rollout {name} never reached its canary step"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let flipped = Instant::now();
        healthy.store(false, Ordering::SeqCst);
        wait_phase(&records, &name, DeploymentPhase::Failed).await;
        let crossing = answers
            .lock()
            .unwrap()
            .iter()
            .filter(|(when, ok)| *when >= flipped && !ok)
            .nth(FAILURE_THRESHOLD - 1)
            .map(|(when, _)| *when)
            .expect("the crossing answer");
        let restored = seen
            .lock()
            .unwrap()
            .iter()
            .find(|(when, weights)| *when >= crossing && *weights == (100, 0))
            .map(|(when, _)| *when)
            .expect("weights restored");
        latencies.push(restored.duration_since(crossing));
        let requests = cluster.requests().all();
        if let Some(restore) = requests
            .iter()
            .rfind(|r| r.verb == "patch" && r.resource == "httproutes")
        {
            restore_server.push(Duration::from_secs_f64(restore.duration_ms / 1e3));
        }
        per_rollout.push(tally(&requests));
    }

    let median = percentile(&latencies, 50);
    let p95 = percentile(&latencies, 95);
    let ratio = |value: Duration| value.as_secs_f64() / patch.as_secs_f64();
    println!(
        "PATCH round trip (median of {PATCHES}): {:.2} ms",
        patch.as_secs_f64() * 1e3
    );
    println!(
        "threshold crossed -> weights restored over {rollouts} rollbacks: median {:.2} ms ({:.2}x PATCH), p95 {:.2} ms ({:.2}x PATCH); target <= 2x",
        median.as_secs_f64() * 1e3,
        ratio(median),
        p95.as_secs_f64() * 1e3,
        ratio(p95)
    );
    if !restore_server.is_empty() {
        println!(
            "of which the restoring HTTPRoute PATCH is handled by the server in {:.2} ms (median); the rest is the probe's response, the decision, the request's transport and the watch event",
            percentile(&restore_server, 50).as_secs_f64() * 1e3
        );
    }
    println!(
        "successful canary (2 traffic steps): {ok_reconciles} reconciles, writes {ok_writes:?}; per step: {:.1} reconciles, {:.1} writes",
        ok_reconciles as f64 / 2.0,
        ok_writes.values().sum::<usize>() as f64 / 2.0
    );
    let reconciles: usize = per_rollout.iter().map(|(count, _)| count).sum();
    let mut writes: BTreeMap<String, usize> = BTreeMap::new();
    for (_, tally) in &per_rollout {
        for (key, count) in tally {
            *writes.entry(key.clone()).or_insert(0) += count;
        }
    }
    println!(
        "per rolled-back rollout (mean): {:.1} reconciles, writes {:?}",
        reconciles as f64 / rollouts as f64,
        writes
            .iter()
            .map(|(key, count)| (key.clone(), *count as f64 / rollouts as f64))
            .collect::<BTreeMap<_, _>>()
    );
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), controller).await;
}
