//! Simulated cluster behaviour: the parts of kube-controller-manager and the kubelet that the
//! test cluster plays, so controllers under test see a living cluster.
//!
//! Pure decision functions — [`deployment`], [`replicaset`], [`kubelet`], [`endpoints`],
//! [`job`] — map observed objects and `now` to [`Intent`]s; runners ([`runner_local`],
//! [`runner_docker`]) really run pods; the [`adapter`] subscribes to the cluster's changes and
//! applies intents through the [`Cluster`](crate::Cluster) handle. Start it with [`start`]; the
//! [`Simulation`] handle scripts it.
//!
//! # Scripting
//! Per object with annotations (on a Pod or its ReplicaSet, Deployment or Job), from Rust with
//! [`Simulation::script`] (by namespace and name of the same objects), or from a file of name
//! globs per namespace ([`script_file`]: `slipway-testcluster serve --pod-scripts FILE`).
//! Rust beats annotations, which beat the file; a pod beats its owners:
//!
//! | annotation (`testcluster.slipway.dev/…`) | file field | meaning | default |
//! | --- | --- | --- | --- |
//! | `ready-after: 2s` | `readyAfter` | start → Ready (Go duration) | 200ms |
//! | `never-ready: "true"` | `neverReady` | never Ready | |
//! | `unready-after: 5s` | `unreadyAfter` | Ready → unready for good | |
//! | `job-outcome: succeed\|fail` | `outcome` | end of a simulated run-to-completion pod | succeed |
//! | `termination-message: …` | `terminationMessage` | its containers' termination message | empty |
//! | `exit-code: "3"` | `exitCode` | exit code of a simulated failure | 1 |
//! | `complete-after: 1s` | `completeAfter` | how long a simulated run-to-completion pod runs | 300ms |
//! | `run: simulated\|local\|docker` | `run` | really run the pod's containers | simulated |
//! | `log: …` | `log` | log text of a simulated pod | empty |
//!
//! "Run-to-completion" means `restartPolicy` Never or OnFailure (Job pods). Malformed
//! annotation values are reported on stderr and ignored; a malformed file stops `serve` at start.
//!
//! From Rust only, [`PodScript::replace_command`] runs a test's argv instead of one container's
//! `command` and `args` when the pod really runs — a stand-in for what cannot run on this
//! machine, such as a second Docker daemon (see [`script`]); a name matching no container is
//! reported on stderr.
//!
//! # Divergences from a real cluster
//! * One node, no scheduler: pods go straight from `Pending` to `Running`; `spec.nodeName` is
//!   never set; pod IPs come from `127.244.0.0/16` and the host IP is `127.0.0.1` (loopback, so
//!   nothing dialled can leave the machine); no probes (readiness is the scripted timeline);
//!   no restarts (`OnFailure` behaves like `Never`; a really-run
//!   `restartPolicy: Always` container that exits leaves its pod `Succeeded`/`Failed`); no
//!   resource accounting; `imageID` is empty and `containerID` is `testcluster://<uid>/<name>`.
//! * Init containers run one after the other to completion before the containers (the pod is
//!   `Pending` meanwhile) and a failing one fails the pod, whatever its `restartPolicy`;
//!   simulated init containers succeed at once. Native sidecars (init containers with
//!   `restartPolicy: Always`) are not special: they are run to completion like the others.
//!   Really-run pods resolve every container's environment before anything runs, so a missing
//!   Secret key of a later container holds the pod before its init containers start (the
//!   kubelet would run the init containers first).
//! * Deployments: `pod-template-hash` is FNV-32a over canonical JSON (Kubernetes hashes a Go
//!   dump), so values differ from a real cluster's; proportional scaling of several active
//!   ReplicaSets during a rollout is not done (scaling goes through the rolling-update math);
//!   no `DeploymentRollback`, no `ReplicaFailure` conditions.
//! * ReplicaSets do not adopt or release pods by selector (only pods they own count).
//! * Jobs: NonIndexed only; no `podFailurePolicy`, `successPolicy`, `podReplacementPolicy:
//!   Failed`, `managedBy` or `maxFailedIndexes`; no `batch.kubernetes.io/job-tracking`
//!   finalizers (counts come from the pods and never decrease); the retry back-off starts at
//!   [`job::JobTiming::backoff_base`] (1s; Kubernetes: 10s).
//! * EndpointSlices: IPv4 only, at most one slice per port set (no 100-endpoint split), no
//!   `hints`/`zone`/`hostname`; `Endpoints` carry no `last-change-trigger-time` annotation.
//! * Really-run pods: see [`runner_local`] (path mapping) and [`runner_docker`] (no pulls,
//!   host network). Logs are kept in memory ([`Simulation::pod_log`]) and forgotten with the pod.

pub mod adapter;
pub mod deployment;
pub mod endpoints;
pub mod intent;
pub mod job;
pub mod kubelet;
pub mod logs;
pub mod object;
pub mod podspec;
pub mod podtemplate;
pub mod replicaset;
pub mod runner;
pub mod runner_docker;
pub mod runner_local;
pub mod script;
pub mod script_file;
pub mod simulation;
pub mod test_images;
#[cfg(test)]
mod test_support;
pub mod time;
pub mod workspace;

pub use intent::{Intent, Kind};
pub use logs::PodLogs;
pub use script::{BehaviourDefaults, PodBehaviour, PodOutcome, PodScript, RunMode};
pub use script_file::{PodScriptFile, PodScriptFileError};
pub use simulation::{Simulation, SimulationConfig, start};
