//! The `deployments.slipway.dev` controller against the test cluster, through the real kube
//! client: every strategy, hook and health-check outcome that ends a rollout, rollback triggers,
//! queueing, stop, and a controller restart in the middle of a rollout. Each scenario asserts
//! what users see — the Service selector, HTTPRoute weights, revision Deployments and their
//! replicas, hook Jobs, the record's phase, conditions and Events — and API write counts.

mod errors;
mod health;
mod hooks;
mod lifecycle;
mod rollback;
mod strategies;
#[path = "../support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment as AppsDeployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use slipway::api::Deployment as Record;
use slipway::api::deployment::{DeploymentPhase, DeploymentSpec, HealthResult};
use slipway::rollout::revision::{render_revision, revision_name};
use slipway::rollout::traffic_apply::httproute_resource;
use slipway_testcluster::TestCluster;
use slipway_testcluster::simulate::Simulation;
pub use support::rollout::{Controller, STABLE_IMAGE};
use support::rollout::{cluster_with_crds, workload};

pub const NAMESPACE: &str = "default";

/// The revision hash of a revision Deployment's name (`<workload>-<hash>`).
pub fn hash_of(revision: &str) -> String {
    revision.rsplit('-').next().unwrap().to_owned()
}

/// A test cluster with the CRDs, the HTTPRoute CRD, the simulation and a running controller.
pub struct Harness {
    pub cluster: TestCluster,
    pub simulation: Simulation,
    pub controller: Option<Controller>,
}

impl Harness {
    pub async fn start() -> Self {
        let harness = Self::without_controller().await;
        Self {
            controller: Some(Controller::start(&harness.cluster)),
            ..harness
        }
    }

    pub async fn without_controller() -> Self {
        let (cluster, simulation) = cluster_with_crds().await;
        cluster.install_httproute_crd();
        Harness {
            cluster,
            simulation,
            controller: None,
        }
    }

    pub fn records(&self) -> Api<Record> {
        Api::namespaced(self.cluster.client(), NAMESPACE)
    }

    pub fn deployments(&self) -> Api<AppsDeployment> {
        Api::namespaced(self.cluster.client(), NAMESPACE)
    }

    pub fn services(&self) -> Api<Service> {
        Api::namespaced(self.cluster.client(), NAMESPACE)
    }

    pub fn jobs(&self) -> Api<Job> {
        Api::namespaced(self.cluster.client(), NAMESPACE)
    }

    pub fn routes(&self) -> Api<DynamicObject> {
        Api::namespaced_with(self.cluster.client(), NAMESPACE, &route_resource())
    }

    /// The user's workload `web` (`app: web`, container `web`) at `replicas`, and Service `web`
    /// selecting it (and `web-preview`, the test Service, selecting it too).
    pub async fn application(&self, replicas: i32) {
        self.deployments()
            .create(
                &PostParams::default(),
                &serde_json::from_value(workload(replicas)).unwrap(),
            )
            .await
            .expect("the workload is created");
        for name in ["web", "web-preview"] {
            let service = json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name},
                "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
            });
            self.services()
                .create(
                    &PostParams::default(),
                    &serde_json::from_value(service).unwrap(),
                )
                .await
                .expect("the Service is created");
        }
        self.eventually("the workload is Ready", 10, || async {
            ready_replicas(&self.deployments().get("web").await.unwrap()) == replicas
        })
        .await;
    }

    /// HTTPRoute `web` sending all traffic to Service `web` (with `web-canary` at 0).
    pub async fn route(&self) {
        let route = json!({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "web"},
            "spec": {
                "parentRefs": [{"name": "public"}],
                "rules": [{"backendRefs": [
                    {"name": "web", "port": 80, "weight": 100},
                    {"name": "web-canary", "port": 80, "weight": 0}
                ]}]
            }
        });
        self.routes()
            .create(
                &PostParams::default(),
                &serde_json::from_value(route).unwrap(),
            )
            .await
            .expect("the HTTPRoute is created");
    }

    /// A one-replica application behind HTTPRoute `web`, and record `web-v2` rolling `shop/web:2`
    /// out as a 50% canary with a long bake (plus `extra` spec fields), held at 50/50.
    pub async fn canary_held_at_half(&self, extra: Value) {
        self.application(1).await;
        self.route().await;
        let mut spec = json!({
            "target": {"service": "web", "workload": "web", "httpRoute": {"name": "web"}},
            "strategy": {"canary": {"percent": 50, "interval": "5m"}}
        });
        if let (Some(spec), Value::Object(extra)) = (spec.as_object_mut(), extra) {
            spec.extend(extra);
        }
        self.rollout("web-v2", "shop/web:2", spec).await;
        self.eventually("the canary step", 20, || async {
            self.weights().await == (50, 50)
        })
        .await;
    }

    /// Creates the record `name` rolling `image` out with `spec` (target and revision filled in).
    pub async fn rollout(&self, name: &str, image: &str, mut spec: Value) {
        let object = spec.as_object_mut().unwrap();
        object
            .entry("target")
            .or_insert(json!({"service": "web", "workload": "web"}));
        object.insert(
            "revision".into(),
            json!({"images": [{"container": "web", "image": image}]}),
        );
        let spec: DeploymentSpec = serde_json::from_value(spec).expect("a valid spec");
        self.records()
            .create(&PostParams::default(), &Record::new(name, spec))
            .await
            .expect("the record is created");
    }

    /// Waits until record `name`'s first health check has reported Healthy (it really probed).
    pub async fn first_check_healthy(&self, name: &str, seconds: u64) {
        self.eventually("a healthy first health check", seconds, || async {
            self.record(name)
                .await
                .status
                .and_then(|status| status.health_checks.into_iter().next())
                .is_some_and(|check| check.result == HealthResult::Healthy)
        })
        .await;
    }

    /// Asserts that production's Service `web` selects the stable revision again.
    pub async fn assert_production_on_stable(&self) {
        let stable = hash_of(&self.revision_of(STABLE_IMAGE).await);
        assert_eq!(
            self.selector("web").await.get("slipway.dev/revision"),
            Some(&stable),
            "production is back on the stable revision"
        );
    }

    /// The name of the revision Deployment that runs `image` on the workload.
    pub async fn revision_of(&self, image: &str) -> String {
        let workload = self.deployments().get("web").await.unwrap();
        let images = vec![slipway::api::deployment::ContainerImage {
            container: "web".into(),
            image: image.into(),
        }];
        let hash = render_revision(&workload, &images, 1).unwrap().hash;
        revision_name("web", &hash)
    }

    pub async fn record(&self, name: &str) -> Record {
        self.records().get(name).await.expect("the record exists")
    }

    /// Waits until record `name` is in `phase`.
    pub async fn wait_phase(&self, name: &str, phase: DeploymentPhase, seconds: u64) -> Record {
        support::rollout::wait_phase(&self.cluster.client(), NAMESPACE, name, phase, seconds).await
    }

    pub async fn eventually<F, Fut>(&self, what: &str, seconds: u64, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
        while !check().await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The selector of Service `name`.
    pub async fn selector(&self, name: &str) -> std::collections::BTreeMap<String, String> {
        self.services()
            .get(name)
            .await
            .unwrap()
            .spec
            .and_then(|spec| spec.selector)
            .unwrap_or_default()
    }

    /// The `web` and `web-canary` weights on the route's rule.
    pub async fn weights(&self) -> (i64, i64) {
        let route = self.routes().get("web").await.unwrap();
        let backends = route.data["spec"]["rules"][0]["backendRefs"]
            .as_array()
            .unwrap()
            .clone();
        let weight = |name: &str| {
            backends
                .iter()
                .find(|backend| backend["name"] == name)
                .and_then(|backend| backend["weight"].as_i64())
                .unwrap_or(1)
        };
        (weight("web"), weight("web-canary"))
    }

    /// Revision Deployments: name → desired replicas.
    pub async fn revisions(&self) -> std::collections::BTreeMap<String, i32> {
        self.deployments()
            .list(&ListParams::default().labels("app.kubernetes.io/managed-by=slipway"))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|deployment| {
                let replicas = deployment
                    .spec
                    .as_ref()
                    .and_then(|spec| spec.replicas)
                    .unwrap_or(1);
                (deployment.metadata.name.unwrap_or_default(), replicas)
            })
            .collect()
    }

    /// Event reasons recorded on record `name`, in order.
    pub async fn event_reasons(&self, name: &str) -> Vec<String> {
        let events: Api<Event> = Api::namespaced(self.cluster.client(), NAMESPACE);
        let mut listed = events.list(&ListParams::default()).await.unwrap().items;
        listed
            .retain(|event| event.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name));
        listed.sort_by_key(|event| event.metadata.creation_timestamp.clone().map(|time| time.0));
        listed
            .into_iter()
            .filter_map(|event| event.reason)
            .collect()
    }

    /// Merge-patches record `name`'s spec (promote, stop).
    pub async fn control(&self, name: &str, control: Value) {
        self.records()
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"control": control}})),
            )
            .await
            .expect("the control request is accepted");
    }

    /// Writes to `resource` recorded so far.
    pub fn writes(&self, resource: &str) -> usize {
        self.cluster
            .requests()
            .matching(|record| record.is_write() && record.resource == resource)
            .len()
    }
}

pub fn route_resource() -> ApiResource {
    httproute_resource()
}

pub fn phase_of(record: &Record) -> Option<DeploymentPhase> {
    record.status.as_ref().and_then(|status| status.phase)
}

pub fn ready_replicas(deployment: &AppsDeployment) -> i32 {
    deployment
        .status
        .as_ref()
        .and_then(|status| status.ready_replicas)
        .unwrap_or(0)
}

pub fn condition(record: &Record, type_: &str) -> Option<(String, String)> {
    record
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone()))
}

/// A health endpoint the test flips between 200 and 503; it remembers when it last answered
/// each way.
#[derive(Clone)]
pub struct HealthServer {
    pub url: String,
    healthy: Arc<AtomicBool>,
    answers: Arc<std::sync::Mutex<Vec<(std::time::Instant, bool)>>>,
}

impl HealthServer {
    pub async fn start() -> Self {
        let healthy = Arc::new(AtomicBool::new(true));
        let answers: Arc<std::sync::Mutex<Vec<(std::time::Instant, bool)>>> = Arc::default();
        let (flag, log) = (healthy.clone(), answers.clone());
        let router = axum::Router::new().route(
            "/healthz",
            axum::routing::get(move || {
                let (flag, log) = (flag.clone(), log.clone());
                async move {
                    let ok = flag.load(Ordering::SeqCst);
                    log.lock().unwrap().push((std::time::Instant::now(), ok));
                    if ok {
                        (axum::http::StatusCode::OK, "ok")
                    } else {
                        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "failing")
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        HealthServer {
            url: format!("http://{address}/healthz"),
            healthy,
            answers,
        }
    }

    pub fn set_healthy(&self, healthy: bool) {
        self.healthy.store(healthy, Ordering::SeqCst);
    }

    /// Answers so far: (when, healthy).
    pub fn answers(&self) -> Vec<(std::time::Instant, bool)> {
        self.answers.lock().unwrap().clone()
    }
}
