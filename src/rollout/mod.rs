//! The rollout capability: CodeDeploy's semantics on Kubernetes.
//!
//! A `deployments.slipway.dev` object (short name `sdeploy`) is one CodeDeploy deployment: it
//! rolls a revision onto a target — a production Service and the apps/v1 workload used as the
//! template — with a strategy, lifecycle hooks, health checks and automatic rollback.
//!
//! - [`appspec`] — CodeDeploy's `appspec.yaml`: model, parser and the mapping to what a
//!   Deployment rolls out ([`appspec::rollout_from_revision`]).
//! - [`strategy`] — `spec.strategy` (every `CodeDeployDefault.*` name, custom canary, linear,
//!   steps, blue-green gate, rolling) resolved into a [`strategy::RolloutPlan`].
//! - [`traffic`] — traffic modes, the split, replica math and the routing rule.
//! - [`health`] / [`hooks`] — pure bookkeeping of probes and lifecycle hooks.
//! - [`revision`] — a revision's apps/v1 Deployment rendered from the target workload and the
//!   new images (pod template, hash, labels, name; owned by nothing).
//! - [`traffic_apply`] — Service selector switches and HTTPRoute weight changes (the only
//!   writes to traffic), and reading them back.
//! - [`probes`] / [`hook_runner`] — health-check probes (HTTP, Prometheus, readiness, Job) and
//!   lifecycle hooks (Job, HTTP), with [`job_run`] and [`http_call`] beneath them.
//! - [`state`] — the plain-data input and output of the decision; [`decide()`] — the state
//!   machine, one pure function (with its stages in `progress`, `shift` and `rollback`);
//!   [`reasons`] — the kind's condition and Event reasons.
//!
//! - [`controller`] — the driver around them (observe → decide → apply → status), the only part
//!   holding the kube client with the I/O blocks; `strategy`, `traffic`, `health`, `hooks`,
//!   `state`, `decide` and `revision` do no I/O.
//!
//! # Mechanics
//! - **A revision is its own apps/v1 Deployment**, derived from the target workload's pod
//!   template with the new images, named after the target and the revision hash, labelled
//!   `slipway.dev/target=<workload>` and `slipway.dev/revision=<hash>` (on the object, its
//!   selector and its pods). The hash is of the resulting pod template, so the same revision
//!   always maps to the same object and is never created twice.
//! - **Takeover.** On the first rollout the production Service carries the user's own selector.
//!   Slipway copies the user's workload into a *stable* revision (same template), waits until it
//!   is Ready at full size, points the Service at it, and only then scales the user's workload to
//!   zero (`spec.target.scaleDownWorkload`, default true; with false it keeps running but no
//!   longer receives production traffic). Later rollouts find the Service selecting a revision.
//! - **Deleting a `deployments.slipway.dev` record never takes production down**: revision
//!   workloads and the canary Service are not owned by the record (the apply step owns them by
//!   the target workload, or not at all), so garbage collection leaves the serving revision and
//!   the Service selector in place. Hook Jobs are owned by the record.
//! - **Traffic modes** ([`traffic::TrafficMode`]): a selector switch (all-at-once, blue-green);
//!   a replica ratio behind a selector spanning both revisions (canary/linear/steps without an
//!   HTTPRoute); exact `backendRefs[].weight`s on a Gateway API HTTPRoute (production Service →
//!   stable, `<service>-canary` → new revision; only weights are written); rolling (pods
//!   replaced within maxSurge/maxUnavailable while the Service spans both revisions).
//! - **One active rollout per target**: later ones are Queued (`status.waitingFor`).
//!
//! # The state machine
//! ```text
//!  Pending ──(admitted)──▶ [TakeOver] ──▶ BeforeInstall ──▶ Install ──▶ AfterInstall
//!     │ (queued: stays)     first rollout only     hook          revision Ready     hook
//!     ▼
//!  AllowTestTraffic ──▶ AfterAllowTestTraffic ──▶ [AwaitPromote] ──▶ BeforeAllowTraffic
//!  test Service → new      hook                     blue-green Wait:        hook
//!  (probes from here)                               promote or timeout
//!       ──▶ AllowTraffic ──▶ AfterAllowTraffic ──▶ TerminationWait ──▶ Finalize ──▶ Done (Succeeded)
//!           steps: pods Ready → route → bake      old revision kept     new revision stable,
//!           + health pass → next step              checks keep running  old scaled to zero
//!
//!  any stage ──(hook failed or timed out, deadline, health check failed, stop, wait timeout)──▶
//!      RollingBack (when autoRollback covers the event, or stop.rollback) ──▶ Done (Failed/Stopped)
//!      or straight to Done (Failed/Stopped) leaving traffic where it is
//! ```
//! `status.stage` holds the state; `status.phase` shows CodeDeploy's coarser names (Created,
//! Queued, InProgress, Ready = waiting for a promote, Baking = termination wait, Succeeded,
//! Failed, Stopped). Every fact needed to continue — stage, step, step and stage start times,
//! the stable and new revision hashes, the replica count, hook child names, probe counts, the
//! rollback record — is in status, so calling [`decide()`] again after a restart with the same
//! observed world gives the same intents, and derived names make their apply idempotent.
//!
//! # What observe and apply do for each intent
//! Observe fills [`ObservedWorld`]: the target workload (replicas, ready, template hash), the new
//! revision (hash and images from `spec.revision`, appspec hooks), every revision workload of
//! the target (desired/ready), what the production, test and canary Services select
//! (parsed back into [`traffic::Selection`]; `None` for a foreign selector), the HTTPRoute's
//! two weights, missing or unusable references, hook children by name, the results of the
//! probes [`decide::probes_due`] names (observe runs them: readiness from the new pods, HTTP,
//! Prometheus; a Job check's Job is created there and read back), and the other rollouts on
//! the target. Apply executes, in order:
//! - `CreateRevision` — create the revision Deployment (AlreadyExists is success);
//! - `ScaleRevision` — set `spec.replicas` (0 keeps the object);
//! - `ScaleDownUserWorkload` — set the user's workload to 0 replicas;
//! - `SetServiceSelector` — write the workload's selector + target label (+ revision label for
//!   `Revision`) on the Service (creating the canary Service for `ServiceRole::Canary`);
//! - `SetRouteWeights` — server-side apply of only the two `backendRefs` weights;
//! - `StartHook` — create the Job named `child_name` (AlreadyExists is success) or start the HTTP
//!   call once per name, reporting its answer to observe; `StopHook` — delete that Job;
//! - `RequeueAfter` — requeue; `Event` — record an Event on the record.
//!
//! Then the returned status is written once (when it differs).
//!
//! # Caveats
//! - Replica-ratio splits are only as fine as the replica count allows (see [`traffic`]).
//! - HTTP hooks are at-least-once across a controller restart (see [`hooks`]).
//! - The user must not scale their own workload back up while Slipway manages the target.
pub mod appspec;
pub mod controller;
pub mod decide;
pub mod health;
pub mod hook_runner;
pub mod hooks;
pub mod http_call;
pub mod job_run;
pub mod probes;
mod progress;
pub mod reasons;
pub mod revision;
mod rollback;
mod shift;
pub mod state;
pub mod strategy;
pub mod traffic;
pub mod traffic_apply;

pub use decide::decide;
pub use state::{DecideInput, Decision, Intent, ObservedWorld};

#[cfg(test)]
mod blocked_tests;
#[cfg(test)]
mod decide_tests;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod rollback_tests;
#[cfg(test)]
mod simulation;
