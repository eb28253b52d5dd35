//! What every kind's controller reports about its watch, shared so each controller does not
//! carry its own copy: the namespaces it watches ([`ControllerContext::scopes`]), `/readyz` once
//! its store has listed ([`report_ready_when_synced`]), and the watched-objects gauge summed over
//! namespaces ([`ObjectCounts`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::core::NamespaceResourceScope;
use kube::runtime::reflector::Store;
use kube::{Api, Client, Resource};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{ControllerContext, KindLabels};

/// An `Api` in one namespace, or across all.
pub fn scoped<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    }
}

impl ControllerContext {
    /// The scopes a controller runs one watch for: each watched namespace, or `None` for all.
    pub fn scopes(&self) -> Vec<Option<String>> {
        if self.namespaces.is_empty() {
            vec![None]
        } else {
            self.namespaces.iter().cloned().map(Some).collect()
        }
    }
}

/// The readiness part of one kind's watch in one scope (`BuildRun in team-a`).
pub fn readiness_part(kind: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(namespace) => format!("{kind} in {namespace}"),
        None => kind.to_owned(),
    }
}

/// Marks `part` ready (and the kind's watch synced) once `store` has listed.
///
/// The store's readiness signal wakes only its last waiter — the controller itself waits on it —
/// so this looks at it on a short timer instead of awaiting it.
pub fn report_ready_when_synced<K>(
    store: Store<K>,
    context: &ControllerContext,
    part: String,
    kind: &str,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()>
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    let (readiness, metrics) = (context.readiness.clone(), context.metrics.clone());
    let labels = KindLabels {
        kind: kind.to_owned(),
    };
    tokio::spawn(async move {
        loop {
            if let Some(ready) = futures::FutureExt::now_or_never(store.wait_until_ready()) {
                if ready.is_ok() {
                    readiness.set(&part, true);
                    metrics.watch_synced.get_or_create(&labels).set(1);
                }
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
        }
    })
}

/// One kind's watched-object gauge, summed over the scopes its watches cover.
#[derive(Clone)]
pub struct ObjectCounts {
    context: ControllerContext,
    labels: KindLabels,
    counts: Arc<Mutex<BTreeMap<Option<String>, i64>>>,
}

impl ObjectCounts {
    /// An empty count for `kind`.
    pub fn new(context: &ControllerContext, kind: &str) -> Self {
        Self {
            context: context.clone(),
            labels: KindLabels {
                kind: kind.to_owned(),
            },
            counts: Arc::default(),
        }
    }

    /// Records that the watch of `namespace` holds `objects`, and updates the gauge.
    pub fn record(&self, namespace: &Option<String>, objects: usize) {
        let total = {
            let mut counts = self
                .counts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            counts.insert(
                namespace.clone(),
                i64::try_from(objects).unwrap_or(i64::MAX),
            );
            counts.values().sum()
        };
        self.context
            .metrics
            .watched_objects
            .get_or_create(&self.labels)
            .set(total);
    }
}

/// Polls a watch stream in a task of its own and hands its items to a controller through a
/// bounded channel. Why: a watched object is deserialized where its stream is polled, and
/// Slipway's kinds with embedded pod and Job templates take a deep stack to deserialize; polled
/// inside a controller's nested streams they overflowed a 2 MiB thread stack in debug builds. In
/// a task of its own the stream starts from the top of the stack.
pub fn forwarded<T, S>(
    stream: S,
    stop: &watch::Receiver<bool>,
) -> (
    futures::channel::mpsc::Receiver<Result<T, kube::runtime::watcher::Error>>,
    JoinHandle<()>,
)
where
    T: Send + 'static,
    S: futures::Stream<Item = Result<T, kube::runtime::watcher::Error>> + Send + 'static,
{
    use futures::StreamExt;
    let (mut sender, receiver) = futures::channel::mpsc::channel(64);
    let mut stop = stop.clone();
    let task = tokio::spawn(async move {
        let mut stream = Box::pin(stream);
        loop {
            let item = tokio::select! {
                item = stream.next() => item,
                () = async { let _ = stop.wait_for(|stop| *stop).await; } => None,
            };
            let Some(item) = item else { return };
            if futures::SinkExt::send(&mut sender, item).await.is_err() {
                return;
            }
        }
    });
    (receiver, task)
}

/// The touched objects of a label-selected watch of `K` in one scope, polled in a task of its
/// own (see [`forwarded`]): the shape of every child and related-object watch.
pub fn watched<K>(
    client: &Client,
    namespace: Option<&str>,
    config: kube::runtime::watcher::Config,
    stop: &watch::Receiver<bool>,
) -> (
    futures::channel::mpsc::Receiver<Result<K, kube::runtime::watcher::Error>>,
    JoinHandle<()>,
)
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + 'static,
{
    use kube::runtime::WatchStreamExt;
    forwarded(
        kube::runtime::watcher::watcher(scoped::<K>(client, namespace), config)
            .default_backoff()
            .touched_objects(),
        stop,
    )
}

/// Runs one reconcile in a task of its own, because observing Slipway's kinds deserializes and
/// clones deep objects (see [`forwarded`]) and must not run nested in the controller's streams.
/// A panic carries on as a panic; a cancelled task (the runtime shutting down) asks to come back
/// after `recheck`.
pub async fn in_own_task<F, E>(
    reconcile: F,
    recheck: Duration,
) -> Result<kube::runtime::controller::Action, E>
where
    F: std::future::Future<Output = Result<kube::runtime::controller::Action, E>> + Send + 'static,
    E: Send + 'static,
{
    match tokio::spawn(reconcile).await {
        Ok(result) => result,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => Ok(kube::runtime::controller::Action::requeue(recheck)),
    }
}

/// Drives a controller's outcome stream in a task: logs its errors at debug (each failure is
/// already counted, evented and logged by the controller's error policy) and keeps `counts` in
/// step with the store of `namespace`'s watch.
pub fn drive<S, T, E, K>(
    outcomes: S,
    kind: &'static str,
    counts: ObjectCounts,
    namespace: Option<String>,
    store: Store<K>,
) -> JoinHandle<()>
where
    S: futures::Stream<Item = Result<T, E>> + Send + 'static,
    E: std::fmt::Display,
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    use futures::StreamExt;
    tokio::spawn(outcomes.for_each(move |outcome| {
        if let Err(error) = &outcome {
            tracing::debug!(%error, kind, "controller event");
        }
        counts.record(&namespace, store.state().len());
        futures::future::ready(())
    }))
}

/// A controller's primary watch of `K` in one scope: its store and its applied objects, both
/// fed by a reflector polled in a task of its own (see [`forwarded`]).
///
/// The task ends on `stop` and drops the store's writer. Why: a controller reconciles only once
/// its store has listed, and a writer that stays alive unpolled (as `Controller::new` keeps its
/// own once shutdown begins) leaves it waiting for that list forever when `stop` comes first; a
/// dropped writer ends the wait.
pub fn reflected<K>(
    client: &Client,
    namespace: Option<&str>,
    stop: &watch::Receiver<bool>,
) -> (
    Store<K>,
    futures::channel::mpsc::Receiver<Result<K, kube::runtime::watcher::Error>>,
    JoinHandle<()>,
)
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    use kube::runtime::WatchStreamExt;
    let (store, writer) = kube::runtime::reflector::store();
    let watch = kube::runtime::watcher::watcher(
        scoped::<K>(client, namespace),
        kube::runtime::watcher::Config::default(),
    )
    .default_backoff();
    let (events, task) = forwarded(
        kube::runtime::reflector::reflector(writer, watch).applied_objects(),
        stop,
    );
    (store, events, task)
}
