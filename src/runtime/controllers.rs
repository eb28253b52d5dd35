//! Where controllers plug in. Each controller is a task started with the shared
//! [`ControllerContext`] and a stop signal; [`Controllers::join`] waits for all of them after the
//! signal fires.
//!
//! BuildRuns and `deployments.slipway.dev` records have their controllers
//! ([`crate::build::controller`], [`crate::rollout::controller`]), which report their own
//! readiness and object counts. Until the other kind-specific controllers land, the runtime keeps
//! one watch per remaining kind (and per watched namespace) so `/readyz` reflects a real sync with
//! the API server and `/metrics` shows what the controller sees. Watches read objects through `DeserializeGuard`, so one object that does not
//! deserialize is logged and counted instead of stalling the watch.

use std::fmt::Debug;

use futures::StreamExt;
use kube::core::{DeserializeGuard, NamespaceResourceScope};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::kind_watch::{ObjectCounts, readiness_part, scoped};
use super::metrics::KindLabels;
use super::{ControllerOptions, Leadership, Metrics, Readiness};
use crate::api::{Pipeline, PipelineExecution};

/// What every controller shares: the client, the watched namespaces, metrics and readiness.
#[derive(Clone)]
pub struct ControllerContext {
    /// The Kubernetes client.
    pub client: Client,
    /// Namespaces to watch; all namespaces when empty.
    pub namespaces: Vec<String>,
    /// The process's metrics.
    pub metrics: Metrics,
    /// What `/readyz` waits for.
    pub readiness: Readiness,
    /// Whether this replica may act (holds the leader Lease, or runs without election).
    pub leadership: Leadership,
}

impl ControllerContext {
    /// Builds the context from the controller's options.
    pub fn new(
        client: Client,
        options: &ControllerOptions,
        metrics: Metrics,
        readiness: Readiness,
        leadership: Leadership,
    ) -> Self {
        Self {
            client,
            namespaces: options.watched_namespaces(),
            metrics,
            readiness,
            leadership,
        }
    }
}

/// The running controller tasks.
pub struct Controllers {
    tasks: Vec<JoinHandle<()>>,
}

impl Controllers {
    /// Starts every controller; they run until `stop` turns true.
    pub fn start(
        context: ControllerContext,
        build: crate::build::controller::BuildSettings,
        stop: watch::Receiver<bool>,
    ) -> Self {
        let mut tasks = Vec::new();
        tasks.extend(watch_kind::<Pipeline>(&context, &stop));
        tasks.extend(watch_kind::<PipelineExecution>(&context, &stop));
        tasks.extend(crate::build::controller::start(&context, build, &stop));
        tasks.extend(crate::rollout::controller::start(&context, &stop));
        Self { tasks }
    }

    /// Waits for every task to end (after the stop signal).
    pub async fn join(self) {
        for task in self.tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, "controller task panicked");
            }
        }
    }
}

fn watch_kind<K>(context: &ControllerContext, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + Debug
        + DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let kind = K::kind(&()).into_owned();
    let counts = ObjectCounts::new(context, &kind);
    context
        .scopes()
        .into_iter()
        .map(|namespace| {
            let api = scoped::<DeserializeGuard<K>>(&context.client, namespace.as_deref());
            let part = readiness_part(&kind, namespace.as_deref());
            context.readiness.register(&part);
            let context = context.clone();
            let counts = counts.clone();
            let kind = kind.clone();
            let mut stop = stop.clone();
            tokio::spawn(async move {
                let watch = run_watch(api, &context, &part, &kind, namespace, counts);
                tokio::select! {
                    () = watch => {}
                    _ = stop.wait_for(|stop| *stop) => {}
                }
            })
        })
        .collect()
}

async fn run_watch<K>(
    api: Api<DeserializeGuard<K>>,
    context: &ControllerContext,
    part: &str,
    kind: &str,
    namespace: Option<String>,
    counts: ObjectCounts,
) where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
{
    let labels = KindLabels {
        kind: kind.to_owned(),
    };
    let mut known: std::collections::BTreeSet<String> = Default::default();
    let mut listing: std::collections::BTreeSet<String> = Default::default();
    let mut events = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::Init) => listing.clear(),
            Ok(Event::InitApply(object)) => {
                listing.insert(key(&object));
                log_invalid(&object, kind);
            }
            Ok(Event::InitDone) => {
                known = std::mem::take(&mut listing);
                context.readiness.set(part, true);
                context.metrics.watch_synced.get_or_create(&labels).set(1);
            }
            Ok(Event::Apply(object)) => {
                log_invalid(&object, kind);
                known.insert(key(&object));
            }
            Ok(Event::Delete(object)) => {
                known.remove(&key(&object));
            }
            Err(error) => tracing::warn!(%error, kind, "watch error; retrying with backoff"),
        }
        counts.record(&namespace, known.len());
    }
}

fn key<K: Resource>(object: &DeserializeGuard<K>) -> String {
    let meta = object.meta();
    format!(
        "{}/{}",
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or("")
    )
}

fn log_invalid<K>(object: &DeserializeGuard<K>, kind: &str) {
    if let Err(invalid) = &object.0 {
        tracing::warn!(kind, error = %invalid.error, "unable to read an object; it is skipped until it is fixed");
    }
}
