//! The rollout capability: CodeDeploy's semantics on Kubernetes.
//!
//! A `deployments.slipway.dev` object (short name `sdeploy`) is one CodeDeploy deployment: it
//! rolls a revision onto a target — a production Service and the apps/v1 workload used as the
//! template — with a strategy, lifecycle hooks, health checks and automatic rollback. This folder
//! will hold everything that makes that happen:
//!
//! - [`appspec`] — CodeDeploy's `appspec.yaml` (YAML or JSON): the typed model, its parser with
//!   `file:line:column` diagnostics, and the pure mapping from an ECS appspec to what a
//!   Deployment rolls out (images, target container and port, hooks). `slipway appspec check
//!   FILE...` (in [`crate::cli`]) is the parser's command-line face.
//! - *(later)* the Deployment controller: observe → decide (a pure state machine) → apply →
//!   status; strategies (blue-green, canary, linear, all-at-once, rolling), traffic (Service
//!   selectors, HTTPRoute weights), hooks, health checks and rollback. When a Deployment's
//!   `spec.revision.appSpec` is set, the controller reads the revision through
//!   [`appspec::rollout_from_revision`] and never looks at the appspec text again.
pub mod appspec;
pub mod hook_runner;
pub mod http_call;
pub mod job_run;
pub mod probes;
pub mod revision;
pub mod traffic_apply;
