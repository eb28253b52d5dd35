//! The adapter: subscribes to the cluster's changes, runs the decision functions for the
//! objects a change affects, and applies their intents through the [`Cluster`] handle, under
//! the real components' field managers (`kube-controller-manager`, `kubelet`).
//!
//! One Tokio task owns all state (kubelet memory, timers, runs), so decisions never race each
//! other. Changes are coalesced into a queue of object keys; each key is decided from the
//! store's current state (never a stale cache), so no "expectations" are needed. A 409 puts the
//! key back after a short delay; a lagging subscription triggers a full resync.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::deployment::decide_deployment;
use super::endpoints::{ENDPOINTS_MANAGED_BY_LABEL, SERVICE_NAME_LABEL, decide_endpoints};
use super::intent::{Intent, Kind};
use super::job::decide_job;
use super::kubelet::{ContainerRun, PodRuntime, decide_pod};
use super::object;
use super::podspec::{ObjectSource, plan_run};
use super::replicaset::decide_replica_set;
use super::runner::{RunContext, RunEvent};
use super::script::{PodBehaviour, PodScript, RunMode};
use super::simulation::{Command, Shared, SimulationConfig};
use super::time::Timestamp;
use super::workspace::PodWorkspace;
use super::{runner_docker, runner_local};
use crate::{ApiError, Cluster, ClusterEvent, EventKind, Gvr};

/// Field manager of the controllers.
pub const CONTROLLER_MANAGER: &str = "kube-controller-manager";
/// Field manager of pod status writes.
pub const KUBELET: &str = "kubelet";
/// Delay before retrying a key after a 409.
const CONFLICT_RETRY: Duration = Duration::from_millis(20);

/// Spawns the task that simulates on `cluster` until stopped.
pub(super) fn spawn(
    cluster: Cluster,
    config: SimulationConfig,
    shared: Arc<Shared>,
    commands: mpsc::UnboundedReceiver<Command>,
) -> JoinHandle<()> {
    let (run_tx, run_rx) = mpsc::unbounded_channel();
    // Subscribe before the first resync so no change falls between the two.
    let events = cluster.subscribe();
    let simulator = Simulator {
        cluster,
        config,
        shared,
        queue: BTreeSet::new(),
        timers: BTreeMap::new(),
        pods: HashMap::new(),
        next_ip: 2,
        run_tx,
        reported: HashSet::new(),
    };
    tokio::spawn(simulator.run(events, commands, run_rx))
}

type Key = (Kind, String, String);

/// The kubelet's memory of one pod.
struct PodState {
    namespace: String,
    name: String,
    runtime: PodRuntime,
    cancel: Option<watch::Sender<bool>>,
    run: Option<JoinHandle<()>>,
}

struct Simulator {
    cluster: Cluster,
    config: SimulationConfig,
    shared: Arc<Shared>,
    queue: BTreeSet<Key>,
    timers: BTreeMap<Timestamp, BTreeSet<Key>>,
    pods: HashMap<String, PodState>,
    next_ip: u32,
    run_tx: mpsc::UnboundedSender<RunEvent>,
    /// Pods whose malformed annotations were already reported.
    reported: HashSet<String>,
}

fn gvr(kind: Kind) -> Gvr {
    let (group, version, resource) = kind.group_version_resource();
    Gvr::new(group, version, resource)
}

fn namespace_option(namespace: &str) -> Option<&str> {
    (!namespace.is_empty()).then_some(namespace)
}

impl Simulator {
    async fn run(
        mut self,
        mut events: tokio::sync::broadcast::Receiver<ClusterEvent>,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut runs: mpsc::UnboundedReceiver<RunEvent>,
    ) {
        self.resync();
        self.drain_queue();
        loop {
            let next_timer = self.timers.first_key_value().map(|(at, _)| *at);
            let sleep = async {
                match next_timer {
                    Some(at) => tokio::time::sleep(until(at)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => self.on_event(&event),
                    Err(RecvError::Lagged(_)) => self.resync(),
                    Err(RecvError::Closed) => break,
                },
                Some(event) = runs.recv() => self.on_run_event(event),
                command = commands.recv() => match command {
                    Some(Command::Rescan) => self.enqueue_all(Kind::Pod),
                    Some(Command::Stop(done)) => {
                        self.stop_runs().await;
                        let _ = done.send(());
                        return;
                    }
                    None => break,
                },
                () = sleep => self.fire_timers(),
            }
            // Coalesce whatever else already happened before deciding.
            loop {
                match events.try_recv() {
                    Ok(event) => self.on_event(&event),
                    Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => self.resync(),
                    Err(_) => break,
                }
            }
            while let Ok(event) = runs.try_recv() {
                self.on_run_event(event);
            }
            self.drain_queue();
        }
        self.stop_runs().await;
    }

    fn fire_timers(&mut self) {
        let now = Timestamp::now();
        while let Some(entry) = self.timers.first_entry() {
            if *entry.key() > now {
                break;
            }
            self.queue.extend(entry.remove());
        }
    }

    fn schedule(&mut self, at: Timestamp, key: Key) {
        self.timers.entry(at).or_default().insert(key);
    }

    fn resync(&mut self) {
        for kind in [
            Kind::Deployment,
            Kind::ReplicaSet,
            Kind::Job,
            Kind::Pod,
            Kind::Service,
        ] {
            self.enqueue_all(kind);
        }
    }

    fn enqueue_all(&mut self, kind: Kind) {
        for object in self.cluster.list(&gvr(kind), None) {
            self.queue.insert((
                kind,
                object::namespace(&object).to_owned(),
                object::name(&object).to_owned(),
            ));
        }
    }

    /// Keys whose decisions depend on a changed object.
    fn on_event(&mut self, event: &ClusterEvent) {
        let Some(kind) = Kind::from_group_resource(&event.gvr.group, &event.gvr.resource) else {
            return;
        };
        let object = &event.object;
        let namespace = object::namespace(object).to_owned();
        let key = |kind: Kind, name: &str| (kind, namespace.clone(), name.to_owned());
        let owner = object::controller_ref(object).and_then(|r| {
            Some((
                r.get("kind")?.as_str()?.to_owned(),
                r.get("name")?.as_str()?.to_owned(),
            ))
        });
        match kind {
            Kind::Pod => {
                if event.kind == EventKind::Deleted {
                    self.forget_pod(object::uid(object));
                }
                self.queue.insert(key(Kind::Pod, object::name(object)));
                match owner.as_ref().map(|(k, n)| (k.as_str(), n)) {
                    Some(("ReplicaSet", name)) => {
                        self.queue.insert(key(Kind::ReplicaSet, name));
                    }
                    Some(("Job", name)) => {
                        self.queue.insert(key(Kind::Job, name));
                    }
                    _ => {}
                }
                for service in self
                    .cluster
                    .list(&gvr(Kind::Service), namespace_option(&namespace))
                {
                    if service.pointer("/spec/selector").is_some() {
                        self.queue
                            .insert(key(Kind::Service, object::name(&service)));
                    }
                }
            }
            Kind::ReplicaSet => {
                self.queue
                    .insert(key(Kind::ReplicaSet, object::name(object)));
                if let Some(("Deployment", name)) = owner.as_ref().map(|(k, n)| (k.as_str(), n)) {
                    self.queue.insert(key(Kind::Deployment, name));
                }
            }
            Kind::Deployment | Kind::Job | Kind::Service => {
                self.queue.insert(key(kind, object::name(object)));
            }
            Kind::EndpointSlice => {
                if let Some(service) = object::labels(object).get(SERVICE_NAME_LABEL) {
                    self.queue.insert(key(Kind::Service, service));
                }
            }
            Kind::Endpoints => {
                self.queue.insert(key(Kind::Service, object::name(object)));
            }
            Kind::ConfigMap | Kind::Secret => {}
        }
    }

    fn on_run_event(&mut self, event: RunEvent) {
        if let Some(state) = self.pods.get_mut(&event.pod_uid) {
            state
                .runtime
                .containers
                .insert(event.container, event.state);
            self.queue
                .insert((Kind::Pod, state.namespace.clone(), state.name.clone()));
        }
    }

    fn drain_queue(&mut self) {
        // Bounded so a decision loop cannot starve the event channel.
        for _ in 0..100_000 {
            let Some(key) = self.queue.pop_first() else {
                return;
            };
            self.reconcile(&key);
        }
    }

    fn reconcile(&mut self, key: &Key) {
        let (kind, namespace, name) = key;
        let ns = namespace_option(namespace);
        let now = Timestamp::now();
        let Some(object) = self.cluster.get(&gvr(*kind), ns, name) else {
            if *kind == Kind::Service {
                self.remove_orphan_endpoints(namespace, name);
            }
            return;
        };
        let pods = || self.cluster.list(&gvr(Kind::Pod), ns);
        let (intents, manager) = match kind {
            Kind::Deployment => {
                let sets = self.cluster.list(&gvr(Kind::ReplicaSet), ns);
                (
                    decide_deployment(&object, &sets, &pods(), now),
                    CONTROLLER_MANAGER,
                )
            }
            Kind::ReplicaSet => (
                decide_replica_set(&object, &pods(), now),
                CONTROLLER_MANAGER,
            ),
            Kind::Job => (
                decide_job(&object, &pods(), &self.config.job_timing, now),
                CONTROLLER_MANAGER,
            ),
            Kind::Service => {
                let slices = self.cluster.list(&gvr(Kind::EndpointSlice), ns);
                let endpoints = self.cluster.get(&gvr(Kind::Endpoints), ns, name);
                (
                    decide_endpoints(&object, &pods(), &slices, endpoints.as_ref()),
                    CONTROLLER_MANAGER,
                )
            }
            Kind::Pod => (self.decide_pod(&object, now), KUBELET),
            Kind::EndpointSlice | Kind::Endpoints | Kind::ConfigMap | Kind::Secret => return,
        };
        self.apply(key, intents, manager);
    }

    fn decide_pod(&mut self, pod: &Value, now: Timestamp) -> Vec<Intent> {
        let uid = object::uid(pod).to_owned();
        let behaviour = self.behaviour(pod);
        if !self.pods.contains_key(&uid) {
            // A pod recreated under the same name replaces the old one's memory.
            let (namespace, name) = (
                object::namespace(pod).to_owned(),
                object::name(pod).to_owned(),
            );
            let stale: Vec<String> = self
                .pods
                .iter()
                .filter(|(_, s)| s.namespace == namespace && s.name == name)
                .map(|(u, _)| u.clone())
                .collect();
            for old in stale {
                self.forget_pod(&old);
            }
            // Containers first: the first one is the default of `kubectl logs`.
            let containers: Vec<String> = ["/spec/containers", "/spec/initContainers"]
                .iter()
                .filter_map(|pointer| pod.pointer(pointer).and_then(Value::as_array))
                .flatten()
                .filter_map(|c| c.get("name")?.as_str().map(str::to_owned))
                .collect();
            self.shared.logs.start_pod(&namespace, &name, &containers);
            if behaviour.run == RunMode::Simulated && !behaviour.log.is_empty() {
                for container in &containers {
                    self.shared
                        .logs
                        .append(&namespace, &name, container, &behaviour.log);
                }
            }
            let ip = format!(
                "127.244.{}.{}",
                (self.next_ip >> 8) & 0xff,
                self.next_ip & 0xff
            );
            self.next_ip = self.next_ip.wrapping_add(1);
            let runtime = PodRuntime {
                started_at: now,
                pod_ip: ip,
                host_ip: self.config.host_ip.clone(),
                run_started: false,
                containers: BTreeMap::new(),
            };
            self.pods.insert(
                uid.clone(),
                PodState {
                    namespace,
                    name,
                    runtime,
                    cancel: None,
                    run: None,
                },
            );
        }
        let runtime = self.pods[&uid].runtime.clone();
        let mut intents = decide_pod(pod, &behaviour, &runtime, now);
        if intents.contains(&Intent::StartRun) {
            intents.retain(|i| *i != Intent::StartRun);
            self.start_run(pod, &uid, &behaviour);
            // Decide again with the runner's first state (e.g. a configuration error).
            let runtime = self.pods[&uid].runtime.clone();
            intents = decide_pod(pod, &behaviour, &runtime, now);
            intents.retain(|i| *i != Intent::StartRun);
        }
        intents
    }

    /// Resolves a pod's behaviour: Rust scripts (pod, then owners), then annotations (pod,
    /// then owners), then the pod scripts file's rules, then the defaults.
    fn behaviour(&mut self, pod: &Value) -> PodBehaviour {
        let namespace = object::namespace(pod);
        let mut chain = vec![pod.clone()];
        let mut current = pod.clone();
        // Pod → ReplicaSet → Deployment, or Pod → Job.
        for _ in 0..2 {
            let Some(owner) = object::controller_ref(&current).cloned() else {
                break;
            };
            let kind = match owner.get("kind").and_then(Value::as_str) {
                Some("ReplicaSet") => Kind::ReplicaSet,
                Some("Deployment") => Kind::Deployment,
                Some("Job") => Kind::Job,
                _ => break,
            };
            let name = owner.get("name").and_then(Value::as_str).unwrap_or("");
            match self
                .cluster
                .get(&gvr(kind), namespace_option(namespace), name)
            {
                Some(found) => {
                    chain.push(found.clone());
                    current = found;
                }
                None => break,
            }
        }
        let scripts = self
            .shared
            .scripts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut layers: Vec<PodScript> = chain
            .iter()
            .filter_map(|o| {
                scripts
                    .get(&(namespace.to_owned(), object::name(o).to_owned()))
                    .cloned()
            })
            .collect();
        for object in &chain {
            let annotations = object::string_map(object.pointer("/metadata/annotations"));
            let (script, errors) = PodScript::from_annotations(&annotations);
            if !errors.is_empty() && self.reported.insert(object::uid(object).to_owned()) {
                eprintln!(
                    "testcluster simulation: {}/{}: ignoring {}",
                    namespace,
                    object::name(object),
                    errors.join("; ")
                );
            }
            layers.push(script);
        }
        let names: Vec<&str> = chain.iter().map(object::name).collect();
        layers.extend(self.config.pod_scripts.layers(namespace, &names));
        let defaults = self
            .shared
            .defaults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| self.config.defaults.clone());
        PodBehaviour::resolve(&layers, &defaults)
    }

    fn start_run(&mut self, pod: &Value, uid: &str, behaviour: &PodBehaviour) {
        let Some(state) = self.pods.get_mut(uid) else {
            return;
        };
        state.runtime.run_started = true;
        let mut resolved = pod.clone();
        resolved["status"]["podIP"] = state.runtime.pod_ip.clone().into();
        resolved["status"]["hostIP"] = state.runtime.host_ip.clone().into();
        let containers: Vec<String> = state.runtime_container_names(pod);
        let mut plan = match plan_run(&resolved, &ClusterObjects(&self.cluster)) {
            Ok(plan) => plan,
            Err(error) => {
                for container in containers
                    .iter()
                    .filter(|c| error.container.is_empty() || **c == error.container)
                {
                    state.runtime.containers.insert(
                        container.clone(),
                        ContainerRun::Waiting {
                            reason: "CreateContainerConfigError".into(),
                            message: error.message.clone(),
                        },
                    );
                }
                return;
            }
        };
        let unknown = plan.replace_commands(&behaviour.commands);
        if !unknown.is_empty() {
            eprintln!(
                "testcluster simulation: {}/{}: no container named {} to replace the command of",
                plan.namespace,
                plan.pod,
                unknown.join(", ")
            );
        }
        let workspace = match PodWorkspace::create(&self.config.workspace_root, &plan) {
            Ok(workspace) => Arc::new(workspace),
            Err(error) => {
                let now = Timestamp::now();
                for container in containers {
                    let message = format!("failed to prepare the pod's directories: {error}");
                    state.runtime.containers.insert(
                        container,
                        ContainerRun::Terminated {
                            exit_code: 128,
                            reason: "StartError".into(),
                            message,
                            started_at: now,
                            finished_at: now,
                        },
                    );
                }
                return;
            }
        };
        let (cancel, cancelled) = watch::channel(false);
        let context = RunContext {
            plan,
            workspace,
            logs: self.shared.logs.clone(),
            events: self.run_tx.clone(),
            cancel: cancelled,
        };
        let task = match behaviour.run {
            RunMode::Docker => tokio::spawn(async move {
                let docker = runner_docker::connect().await;
                runner_docker::run_docker(context, docker).await;
            }),
            _ => tokio::spawn(runner_local::run_local(context)),
        };
        state.cancel = Some(cancel);
        state.run = Some(task);
    }

    fn forget_pod(&mut self, uid: &str) {
        if let Some(state) = self.pods.remove(uid) {
            if let Some(cancel) = state.cancel {
                let _ = cancel.send(true);
            }
            self.shared.logs.remove_pod(&state.namespace, &state.name);
        }
    }

    async fn stop_runs(&mut self) {
        let runs: Vec<JoinHandle<()>> = self
            .pods
            .values_mut()
            .filter_map(|state| {
                if let Some(cancel) = state.cancel.take() {
                    let _ = cancel.send(true);
                }
                state.run.take()
            })
            .collect();
        for run in runs {
            // Runners clean up (kill processes, remove containers) on cancel; wait for that.
            let _ = tokio::time::timeout(Duration::from_secs(10), run).await;
        }
    }

    /// The legacy `Endpoints` of a deleted Service go with it (they have no owner reference).
    fn remove_orphan_endpoints(&mut self, namespace: &str, name: &str) {
        let ns = namespace_option(namespace);
        if let Some(endpoints) = self.cluster.get(&gvr(Kind::Endpoints), ns, name)
            && object::labels(&endpoints).contains_key(ENDPOINTS_MANAGED_BY_LABEL)
        {
            let _ = self.cluster.delete(&gvr(Kind::Endpoints), ns, name);
        }
    }

    fn apply(&mut self, key: &Key, intents: Vec<Intent>, manager: &str) {
        // A write bumps the resourceVersion; later writes of the same object in this batch
        // carry the new one instead of conflicting with ourselves.
        let mut written: HashMap<String, Value> = HashMap::new();
        let fresh = |object: &mut Value, written: &HashMap<String, Value>| {
            if let Some(version) = written.get(object::uid(object)) {
                object["metadata"]["resourceVersion"] = version.clone();
            }
        };
        for intent in intents {
            let result = match intent {
                Intent::Create { kind, object } => {
                    self.cluster.create(&gvr(kind), object, manager).map(Some)
                }
                Intent::Update { kind, mut object } => {
                    fresh(&mut object, &written);
                    self.cluster.update(&gvr(kind), object, manager).map(Some)
                }
                Intent::UpdateStatus { kind, mut object } => {
                    fresh(&mut object, &written);
                    self.cluster
                        .update_status(&gvr(kind), object, manager)
                        .map(Some)
                }
                Intent::Delete {
                    kind,
                    namespace,
                    name,
                } => self
                    .cluster
                    .delete(&gvr(kind), namespace_option(&namespace), &name)
                    .map(|()| None),
                Intent::RecheckAt { at } => {
                    self.schedule(at, key.clone());
                    Ok(None)
                }
                Intent::StartRun => Ok(None),
            };
            match result {
                Ok(Some(object)) => {
                    if let Some(version) = object.pointer("/metadata/resourceVersion") {
                        written.insert(object::uid(&object).to_owned(), version.clone());
                    }
                }
                Ok(None) => {}
                Err(error) => self.on_error(key, &error),
            }
        }
    }

    fn on_error(&mut self, key: &Key, error: &ApiError) {
        match error.code {
            // Someone wrote first: decide again from the new state.
            409 => self.schedule(retry_at(), key.clone()),
            // Already gone, or its namespace is being deleted.
            404 | 403 => {}
            _ => {
                eprintln!(
                    "testcluster simulation: {:?} {}/{}: {error}",
                    key.0, key.1, key.2
                );
                self.schedule(retry_at(), key.clone());
            }
        }
    }
}

impl PodState {
    fn runtime_container_names(&self, pod: &Value) -> Vec<String> {
        ["/spec/initContainers", "/spec/containers"]
            .iter()
            .filter_map(|pointer| pod.pointer(pointer).and_then(Value::as_array))
            .flatten()
            .filter_map(|c| c.get("name")?.as_str().map(str::to_owned))
            .collect()
    }
}

fn retry_at() -> Timestamp {
    super::time::add(Timestamp::now(), CONFLICT_RETRY)
}

/// Time from now until `at` (zero when past).
fn until(at: Timestamp) -> Duration {
    let span = at.duration_since(Timestamp::now());
    Duration::try_from(span).unwrap_or(Duration::ZERO)
}

/// ConfigMaps and Secrets for env and volumes, read from the cluster.
struct ClusterObjects<'a>(&'a Cluster);

impl ObjectSource for ClusterObjects<'_> {
    fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<Value> {
        self.0.get(&gvr(kind), namespace_option(namespace), name)
    }
}

#[cfg(test)]
#[path = "adapter_tests.rs"]
mod tests;
