//! The `Cluster` handle: the state behind the REST layer and the internal API the in-cluster
//! simulators use. Internal calls take the same write path as HTTP requests (validation,
//! generation, managedFields, watch events, garbage collection); only HTTP decoding, faults and
//! the request log are skipped.

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{Notify, broadcast, watch};

use crate::error::ApiError;
use crate::faults::Faults;
use crate::gvr::Gvr;
use crate::ops::{self, DeleteOptions, Target, WriteOptions};
use crate::registry::Registry;
use crate::requests::RequestLog;
use crate::store::{Change, EventKind, Store};

/// Tunables of a cluster.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// How many changes the history retains for watch resumption and consistent pagination;
    /// older `resourceVersion`s answer 410 Gone.
    pub history_window: usize,
    /// How often watches that asked for bookmarks receive one.
    pub bookmark_interval: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            history_window: 100_000,
            bookmark_interval: Duration::from_secs(5),
        }
    }
}

/// A change, as the simulators see it: what happened, where, and the object after it.
#[derive(Clone, Debug)]
pub struct ClusterEvent {
    /// Added, Modified or Deleted.
    pub kind: EventKind,
    /// The resource (the version is the one the object was last written in).
    pub gvr: Gvr,
    /// The object after the change (for deletions, its last state).
    pub object: Value,
}

/// Registry and store, guarded together so a CRD and its objects change atomically.
#[derive(Debug)]
pub(crate) struct State {
    pub registry: Registry,
    pub store: Store,
}

pub(crate) struct Inner {
    state: RwLock<State>,
    pub revision: watch::Sender<u64>,
    pub events: broadcast::Sender<ClusterEvent>,
    pub watch_epoch: watch::Sender<u64>,
    pub gc_wake: Arc<Notify>,
    pub bookmark_interval: RwLock<Duration>,
    pub faults: Faults,
    pub requests: RequestLog,
    /// Container logs the simulation's runners write and the pod `log` endpoint serves.
    pub pod_logs: crate::simulate::PodLogs,
}

/// A cheap-to-clone handle on the cluster state.
#[derive(Clone)]
pub struct Cluster {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("revision", &*self.inner.revision.borrow())
            .finish()
    }
}

impl Cluster {
    /// A new cluster with the built-in kinds and the `default` and `kube-system` namespaces.
    /// Must be called inside a Tokio runtime: it spawns the garbage collector.
    pub fn new(config: ClusterConfig) -> Self {
        let (revision, _) = watch::channel(1);
        let (events, _) = broadcast::channel(65_536);
        let (watch_epoch, _) = watch::channel(0);
        let cluster = Self {
            inner: Arc::new(Inner {
                state: RwLock::new(State {
                    registry: Registry::with_builtins(),
                    store: Store::new(config.history_window),
                }),
                revision,
                events,
                watch_epoch,
                gc_wake: Arc::new(Notify::new()),
                bookmark_interval: RwLock::new(config.bookmark_interval),
                faults: Faults::default(),
                requests: RequestLog::default(),
                pod_logs: crate::simulate::PodLogs::default(),
            }),
        };
        let namespaces = Gvr::new("", "v1", "namespaces");
        for name in ["default", "kube-system", "kube-public"] {
            let namespace = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
            cluster
                .create(&namespaces, namespace, "kube-apiserver")
                .expect("initial namespaces");
        }
        crate::gc::spawn(&cluster);
        cluster
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, State> {
        self.inner
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.inner
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells watches, subscribers and the garbage collector about committed changes. Called
    /// after the state lock is released.
    pub(crate) fn publish(&self, changes: &[Arc<Change>]) {
        let Some(last) = changes.last() else { return };
        self.inner.revision.send_replace(last.revision);
        if self.inner.events.receiver_count() > 0 {
            for change in changes {
                let version = change
                    .object
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .map(|api_version| crate::gvr::split_api_version(api_version).1.to_string())
                    .unwrap_or_default();
                let _ = self.inner.events.send(ClusterEvent {
                    kind: change.kind,
                    gvr: Gvr {
                        group: change.resource.group.clone(),
                        version,
                        resource: change.resource.resource.clone(),
                    },
                    object: (*change.object).clone(),
                });
            }
        }
        self.inner.gc_wake.notify_one();
    }

    /// The current revision (the newest `resourceVersion`).
    pub fn revision(&self) -> u64 {
        self.read().store.revision()
    }

    /// One object, or `None`.
    pub fn get(&self, gvr: &Gvr, namespace: Option<&str>, name: &str) -> Option<Value> {
        ops::get(self, gvr, namespace, name)
            .ok()
            .map(|object| (*object).clone())
    }

    /// Every object of a resource, in one namespace or (with `None`) all of them.
    pub fn list(&self, gvr: &Gvr, namespace: Option<&str>) -> Vec<Value> {
        ops::list_all(self, gvr, namespace)
            .map(|items| items.into_iter().map(|object| (*object).clone()).collect())
            .unwrap_or_default()
    }

    /// Creates an object (its namespace comes from `metadata.namespace`).
    ///
    /// # Errors
    /// The [`ApiError`] the apiserver would answer (404 namespace, 409 exists, 422 invalid).
    pub fn create(&self, gvr: &Gvr, object: Value, manager: &str) -> Result<Value, ApiError> {
        let namespace = crate::meta::namespace(&object).map(ToString::to_string);
        ops::create(
            self,
            gvr,
            namespace.as_deref(),
            object,
            &WriteOptions::manager(manager),
        )
        .map(|written| (*written.object).clone())
    }

    /// Replaces an object (a PUT), checking `metadata.resourceVersion` when present; `status`
    /// is ignored where it is a subresource.
    ///
    /// # Errors
    /// 404, 409 on a stale `resourceVersion`, 422.
    pub fn update(&self, gvr: &Gvr, object: Value, manager: &str) -> Result<Value, ApiError> {
        self.put(gvr, object, manager, Target::Main)
    }

    /// Replaces an object's status (a PUT on `/status`).
    ///
    /// # Errors
    /// As [`Cluster::update`].
    pub fn update_status(
        &self,
        gvr: &Gvr,
        object: Value,
        manager: &str,
    ) -> Result<Value, ApiError> {
        self.put(gvr, object, manager, Target::Status)
    }

    fn put(
        &self,
        gvr: &Gvr,
        object: Value,
        manager: &str,
        target: Target,
    ) -> Result<Value, ApiError> {
        let namespace = crate::meta::namespace(&object).map(ToString::to_string);
        let name = crate::meta::name(&object).to_string();
        ops::update(
            self,
            gvr,
            namespace.as_deref(),
            &name,
            object,
            target,
            &WriteOptions::manager(manager),
        )
        .map(|written| (*written.object).clone())
    }

    /// Deletes an object (background propagation; finalizers are honoured).
    ///
    /// # Errors
    /// 404 when it does not exist.
    pub fn delete(&self, gvr: &Gvr, namespace: Option<&str>, name: &str) -> Result<(), ApiError> {
        ops::delete(self, gvr, namespace, name, &DeleteOptions::default()).map(|_| ())
    }

    /// Every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ClusterEvent> {
        self.inner.events.subscribe()
    }

    /// Fault injection rules (used by the REST layer).
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// The log of HTTP requests.
    pub fn requests(&self) -> &RequestLog {
        &self.inner.requests
    }

    /// Container logs of simulated pods (served on `GET …/pods/{name}/log`).
    pub fn pod_logs(&self) -> &crate::simulate::PodLogs {
        &self.inner.pod_logs
    }

    /// Ends every open watch stream (clients see the stream close and re-watch).
    pub fn drop_watches(&self) {
        self.inner.watch_epoch.send_modify(|epoch| *epoch += 1);
    }

    /// Forgets the change history: every `resourceVersion` older than now expires (410 Gone).
    pub fn compact_history(&self) {
        let mut state = self.write();
        let current = state.store.revision();
        state.store.history_mut().compact(current);
    }

    /// Sets how many changes the history retains.
    pub fn set_history_window(&self, window: usize) {
        self.write().store.history_mut().set_window(window);
    }

    /// Sets how often watches that asked for bookmarks receive one.
    pub fn set_bookmark_interval(&self, interval: Duration) {
        *self
            .inner
            .bookmark_interval
            .write()
            .unwrap_or_else(PoisonError::into_inner) = interval;
    }

    /// The bookmark interval.
    pub fn bookmark_interval(&self) -> Duration {
        *self
            .inner
            .bookmark_interval
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
