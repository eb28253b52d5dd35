//! Rollback latency of the `deployments.slipway.dev` controller against the test cluster.
//!
//! `cargo bench -j 2 -p slipway --bench rollback` measures, in one run:
//! 1. single PATCH round trips to the test cluster through the kube client, median of
//!    [`PATCHES`] each, of the restoring writes' patch types: a server-side apply of the
//!    Service, and a JSON patch of the HTTPRoute's two backend weights with `test` guards;
//! 2. the time from the health server's answer that makes an HTTP check cross its failure
//!    threshold (the server timestamps every answer; the crossing one is the
//!    `failureThreshold`-th failing answer after it flips) to production traffic restored, seen
//!    by a watch — median and p95 over N rollouts each (`ROLLBACK_BENCH_ROLLOUTS`, default 15),
//!    in both traffic modes:
//!    - **selector**: blue-green, the check fails while baking after the production Service was
//!      switched; restored = the Service selects the stable revision again;
//!    - **route**: canary held at 50/50 on an HTTPRoute; restored = weights back at 100/0;
//!
//!    "restored" is when the restoring write is committed (its arrival at the server plus the
//!    time to its response head, from the server's request log): production traffic follows
//!    the API object from then on, through the proxies' own watches. Also shown: when a watch
//!    in this process sees it (adds the stand-in's event delivery, which competes with the
//!    status write the controller sends right after). Each as a ratio to the PATCH of the same
//!    kind of object (the Service's for the selector, the route's for weights; target ≤ 2×),
//!    and for the route also to the Service PATCH;
//! 3. per rollout: reconciles (each observe starts with a GET of the target workload) and API
//!    writes by resource, and per step of one successful canary rollout.
//!
//! A plain `main` (no criterion), like the other benches. The ratio is reported, not enforced:
//! what dominates it is printed with it.

#[path = "support/mod.rs"]
mod support;

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
use slipway::runtime::labels::REVISION_LABEL;
use slipway::runtime::run_with_client;
use slipway_testcluster::{RequestRecord, TestCluster};
use support::{cluster_apart, free_address, percentile};

const NAMESPACE: &str = "default";
const PATCHES: usize = 50;
const FAILURE_THRESHOLD: usize = 2;

type Answers = Arc<Mutex<Vec<(Instant, bool)>>>;
/// What a watch saw of production traffic, with when: route weights `"100/0"`, or the revision
/// a Service selects.
type Seen = Arc<Mutex<Vec<(Instant, String)>>>;

fn main() {
    support::run_on_two_workers(run());
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

/// Records `summary` of every version of the objects `api` watches.
fn watch_into<K>(api: Api<K>, seen: Seen, summary: fn(&K) -> String)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    tokio::spawn(async move {
        let mut stream = watcher::watcher(api, watcher::Config::default()).boxed();
        while let Some(event) = stream.next().await {
            if let Ok(watcher::Event::Apply(object) | watcher::Event::InitApply(object)) = event {
                seen.lock()
                    .unwrap()
                    .push((Instant::now(), summary(&object)));
            }
        }
    });
}

fn selected_revision(service: &Service) -> String {
    service
        .spec
        .as_ref()
        .and_then(|spec| spec.selector.as_ref())
        .and_then(|selector| selector.get(REVISION_LABEL).cloned())
        .unwrap_or_default()
}

fn weights_summary(route: &DynamicObject) -> String {
    let (production, canary) = weights_of(route);
    format!("{production}/{canary}")
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

async fn wait_phase(records: &Api<Record>, name: &str, phase: DeploymentPhase) -> Record {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let record = records.get(name).await.unwrap();
        if record.status.as_ref().and_then(|status| status.phase) == Some(phase) {
            return record;
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

/// Median round trip of `patch` applied [`PATCHES`] times (`index` varies the change).
async fn median_round_trip<F, Fut>(patch: F) -> Duration
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::new();
    for index in 0..PATCHES {
        let started = Instant::now();
        patch(index).await;
        samples.push(started.elapsed());
    }
    percentile(&samples, 50)
}

/// How production traffic is restored.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// Blue-green: the production Service's selector.
    Selector,
    /// Canary on an HTTPRoute: the weights.
    Route,
}

/// One traffic mode's rollbacks.
struct Rollbacks {
    /// From the crossing answer to the restoring write committed (its response head sent).
    committed: Vec<Duration>,
    /// From the crossing answer to a watch seeing the restored traffic.
    seen: Vec<Duration>,
    /// From the crossing answer to the restoring write reaching the server: the controller's part.
    to_request: Vec<Duration>,
    /// Server-side handling time of each restoring write (from the request log).
    restore_server: Vec<Duration>,
    per_rollout: Vec<(usize, BTreeMap<String, usize>)>,
}

/// What every rollout in the run shares.
struct Bench {
    cluster: TestCluster,
    records: Api<Record>,
    healthy: Arc<AtomicBool>,
    answers: Answers,
    url: String,
    routes_seen: Seen,
    services_seen: Seen,
}

impl Bench {
    fn spec(&self, mode: Mode, image: &str, interval: &str) -> DeploymentSpec {
        let (target, strategy) = match mode {
            Mode::Route => (
                json!({"service": "web", "workload": "web", "httpRoute": {"name": "web"}}),
                json!({"canary": {"percent": 50, "interval": interval}, "blueGreen": {"terminationWait": "1s"}}),
            ),
            Mode::Selector => (
                json!({"service": "web", "workload": "web"}),
                json!({"blueGreen": {"terminationWait": "5m"}}),
            ),
        };
        serde_json::from_value(json!({
            "target": target,
            "revision": {"images": [{"container": "web", "image": image}]},
            "strategy": strategy,
            "healthChecks": [{"name": "api", "http": {"url": self.url}, "interval": "1s", "timeout": "1s",
                              "failureThreshold": FAILURE_THRESHOLD}]
        }))
        .unwrap()
    }

    /// Rolls out `rollouts` bad revisions in `mode` and times each restore.
    async fn rollbacks(&self, mode: Mode, rollouts: usize) -> Rollbacks {
        let mut result = Rollbacks {
            committed: Vec::new(),
            seen: Vec::new(),
            to_request: Vec::new(),
            restore_server: Vec::new(),
            per_rollout: Vec::new(),
        };
        for index in 0..rollouts {
            self.healthy.store(true, Ordering::SeqCst);
            self.cluster.requests().clear();
            let name = format!("web-{mode:?}-{index}").to_lowercase();
            let image = format!("shop/web:{name}");
            self.records
                .create(
                    &PostParams::default(),
                    &Record::new(&name, self.spec(mode, &image, "5m")),
                )
                .await
                .unwrap();
            // Armed: traffic on the new revision (half of it, or all of it), checks passing.
            let (seen, restored_summary) = match mode {
                Mode::Route => {
                    let deadline = Instant::now() + Duration::from_secs(60);
                    while self
                        .routes_seen
                        .lock()
                        .unwrap()
                        .last()
                        .map(|(_, w)| w.as_str())
                        != Some("50/50")
                    {
                        assert!(Instant::now() < deadline, "{name} never reached 50/50");
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    (&self.routes_seen, "100/0".to_owned())
                }
                Mode::Selector => {
                    let record = wait_phase(&self.records, &name, DeploymentPhase::Baking).await;
                    let stable = record
                        .status
                        .and_then(|status| status.stable_revision)
                        .expect("a stable revision")
                        .hash;
                    (&self.services_seen, stable)
                }
            };
            let flipped = Instant::now();
            self.healthy.store(false, Ordering::SeqCst);
            wait_phase(&self.records, &name, DeploymentPhase::Failed).await;
            let crossing = self
                .answers
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
                .find(|(when, summary)| *when >= crossing && *summary == restored_summary)
                .map(|(when, _)| *when)
                .expect("traffic restored");
            result.seen.push(restored.duration_since(crossing));
            let requests = self.cluster.requests().all();
            let resource = match mode {
                Mode::Route => "httproutes",
                Mode::Selector => "services",
            };
            let restore = requests
                .iter()
                .find(|r| {
                    r.verb == "patch"
                        && r.resource == resource
                        && r.name.as_deref() == Some("web")
                        && r.received.is_some_and(|received| received >= crossing)
                })
                .expect("the restoring write");
            let received = restore.received.expect("when it arrived");
            let handled = Duration::from_secs_f64(restore.duration_ms / 1e3);
            result.to_request.push(received.duration_since(crossing));
            result.restore_server.push(handled);
            result
                .committed
                .push(received.duration_since(crossing) + handled);
            result.per_rollout.push(tally(&requests));
        }
        result
    }
}

fn millis(value: Duration) -> f64 {
    value.as_secs_f64() * 1e3
}

fn report(mode: Mode, rollbacks: &Rollbacks, yardsticks: &[(&str, Duration)]) {
    let ratios = |value: Duration| {
        yardsticks
            .iter()
            .map(|(name, patch)| {
                format!("{:.2}x {name}", value.as_secs_f64() / patch.as_secs_f64())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let line = |what: &str, samples: &[Duration]| {
        let (median, p95) = (percentile(samples, 50), percentile(samples, 95));
        println!(
            "{mode:?}: threshold crossed -> {what} over {} rollbacks: median {:.2} ms ({}), p95 {:.2} ms ({})",
            samples.len(),
            millis(median),
            ratios(median),
            millis(p95),
            ratios(p95)
        );
    };
    line("restoring write committed", &rollbacks.committed);
    println!(
        "{mode:?}:   of which (medians) crossing answer -> restoring PATCH received by the server {:.2} ms (the probe's response, the decision, the request's transport), handled in {:.2} ms",
        millis(percentile(&rollbacks.to_request, 50)),
        millis(percentile(&rollbacks.restore_server, 50))
    );
    line("restored traffic seen by a watch", &rollbacks.seen);
    let rollouts = rollbacks.per_rollout.len() as f64;
    let reconciles: usize = rollbacks.per_rollout.iter().map(|(count, _)| count).sum();
    let mut writes: BTreeMap<String, usize> = BTreeMap::new();
    for (_, tally) in &rollbacks.per_rollout {
        for (key, count) in tally {
            *writes.entry(key.clone()).or_insert(0) += count;
        }
    }
    println!(
        "{mode:?}: per rolled-back rollout (mean): {:.1} reconciles, writes {}",
        reconciles as f64 / rollouts,
        writes
            .iter()
            .map(|(key, count)| format!("{key}: {:.1}", *count as f64 / rollouts))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

async fn run() {
    let rollouts: usize = std::env::var("ROLLBACK_BENCH_ROLLOUTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(15);
    let (cluster, _simulation) = cluster_apart();
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

    // 1. Single PATCH round trips, each of the restore's patch type on the same object: a
    // server-side apply of the Service (an annotation of the bench's own, so the selector's
    // ownership is left as the controller will find it).
    let service_patch = median_round_trip(|index| {
        let services = services.clone();
        async move {
            services
                .patch(
                    "web",
                    &PatchParams::apply("slipway-bench").force(),
                    &Patch::Apply(json!({
                        "apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": "web", "annotations": {"bench": index.to_string()}}
                    })),
                )
                .await
                .expect("patched");
        }
    })
    .await;
    // The restore's shape: guard both backends' names, set both weights (ends at 100/0).
    let route_patch = median_round_trip(|index| {
        let routes = routes.clone();
        async move {
            let (production, canary) = if index % 2 == 0 { (99, 1) } else { (100, 0) };
            let operations = json!([
                {"op": "test", "path": "/spec/rules/0/backendRefs/0/name", "value": "web"},
                {"op": "test", "path": "/spec/rules/0/backendRefs/1/name", "value": "web-canary"},
                {"op": "replace", "path": "/spec/rules/0/backendRefs/0/weight", "value": production},
                {"op": "replace", "path": "/spec/rules/0/backendRefs/1/weight", "value": canary}
            ]);
            routes
                .patch(
                    "web",
                    &PatchParams::default(),
                    &Patch::Json::<()>(serde_json::from_value(operations).unwrap()),
                )
                .await
                .expect("patched");
        }
    })
    .await;

    let bench = Bench {
        records,
        healthy: Arc::new(AtomicBool::new(true)),
        answers: Answers::default(),
        url: String::new(),
        routes_seen: Seen::default(),
        services_seen: Seen::default(),
        cluster,
    };
    let bench = Bench {
        url: health_server(bench.healthy.clone(), bench.answers.clone()).await,
        ..bench
    };
    watch_into(routes, bench.routes_seen.clone(), weights_summary);
    watch_into(services, bench.services_seen.clone(), selected_revision);
    let options = support::controller_options(free_address());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let controller = tokio::spawn(run_with_client(client.clone(), options, async {
        let _ = stopped.await;
    }));

    // 3a. One successful canary rollout: reconciles and writes per traffic step.
    bench.cluster.requests().clear();
    bench
        .records
        .create(
            &PostParams::default(),
            &Record::new("web-ok", bench.spec(Mode::Route, "shop/web:ok", "2s")),
        )
        .await
        .unwrap();
    wait_phase(&bench.records, "web-ok", DeploymentPhase::Succeeded).await;
    let (ok_reconciles, ok_writes) = tally(&bench.cluster.requests().all());

    // 2. N rollbacks in each mode.
    let selector = bench.rollbacks(Mode::Selector, rollouts).await;
    let route = bench.rollbacks(Mode::Route, rollouts).await;

    println!(
        "PATCH round trip (median of {PATCHES}): Service server-side apply {:.2} ms, HTTPRoute weights JSON patch {:.2} ms",
        millis(service_patch),
        millis(route_patch)
    );
    println!("target: restoring write committed <= 2x the PATCH of the same object");
    report(
        Mode::Selector,
        &selector,
        &[("Service PATCH", service_patch)],
    );
    report(
        Mode::Route,
        &route,
        &[
            ("route PATCH", route_patch),
            ("Service PATCH", service_patch),
        ],
    );
    println!(
        "successful canary (2 traffic steps): {ok_reconciles} reconciles, writes {ok_writes:?}; per step: {:.1} reconciles, {:.1} writes",
        ok_reconciles as f64 / 2.0,
        ok_writes.values().sum::<usize>() as f64 / 2.0
    );
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), controller).await;
}
