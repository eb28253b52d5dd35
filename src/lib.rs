//! Slipway: AWS CodePipeline, CodeBuild and CodeDeploy semantics for any Kubernetes cluster.
//!
//! ```text
//! Pipeline ──creates──▶ PipelineExecution ──creates──▶ BuildRun ──▶ batch/v1 Job ──▶ Pod (executor)
//!    ▲  triggers: webhook, git poll,          │                     images pushed via Docker Engine API
//!    │  image poll, manual                    ├──creates──▶ Deployment ──▶ apps/v1 Deployments per revision,
//!    │                                        │                          Service selectors, HTTPRoute weights,
//!    │                                        │                          hook Jobs, health checks, rollback
//!    │                                        └──creates──▶ Job (invoke / test actions)
//! ```
//!
//! One binary holds the controllers (`slipway controller`), the in-pod build executor
//! (`slipway executor`) and the user's command line (`kubectl slipway`). This library is that
//! binary's body; `main.rs` only parses arguments and hands over.
#![forbid(unsafe_code)]

pub mod api;
pub mod build;
pub mod cli;
pub mod notify;
pub mod pipeline;
pub mod rollout;
pub mod runtime;
pub mod tls;
pub mod trigger;
pub mod yaml;
