//! `slipway deploy …` (as a plugin, `kubectl slipway deploy …`): the user's side of a
//! `deployments.slipway.dev` rollout — promote, abort, stop, status (with `--watch`) and list.
//!
//! Requests are level-triggered fields in the record's `spec.control`, which the rollout
//! controller acts on; the commands only write those fields. Each request is decided from the
//! record as read ([`request`]) and written as a JSON merge patch of `spec.control` alone through
//! the plugin's one write path ([`crate::cli::write`]: field manager `kubectl-slipway`, the read
//! `resourceVersion` as a precondition), so no other spec field is touched and a record that
//! changed in between is read and decided again.
//!
//! # Exit codes
//! 0 on success (and for `status --watch`, when the rollout Succeeded); 1 on any error, a
//! refused request, or a watched rollout that ended Failed or Stopped.

pub mod request;
#[cfg(test)]
mod request_tests;
pub mod view;
#[cfg(test)]
mod view_tests;

use std::time::Duration;

use clap::{Args, Subcommand};
use kube::Api;
use kube::api::ListParams;
use serde_json::json;

use self::request::{ControlChange, PromoteRequest, RequestError, StopRequest};
use super::cluster::{ClusterOptions, Connection, block_on, connect, explain};
use super::watch::{View, parse_duration, watch_until};
use super::write::{Change, Kind, PatchBody, get, not_served, read_decide_write};
use crate::api::Deployment as Record;

/// How messages name the records and where to list them.
const RECORD: Kind = Kind {
    label: "deployments.slipway.dev",
    resource: "deployments.slipway.dev",
    list_command: "kubectl slipway deploy list",
};

/// Options of `slipway deploy`.
#[derive(Debug, Args)]
pub struct DeployCommand {
    /// Which cluster and namespace.
    #[command(flatten)]
    pub cluster: ClusterOptions,
    /// What to do.
    #[command(subcommand)]
    pub action: DeployAction,
}

/// The `slipway deploy` subcommands.
#[derive(Debug, Subcommand)]
pub enum DeployAction {
    /// Let a waiting rollout continue: releases the step it is at now (the blue-green wait, a
    /// canary's bake), or every step with --full.
    Promote(PromoteOptions),
    /// Stop a rollout and restore all traffic to the stable revision (Argo Rollouts' abort).
    Abort(AbortOptions),
    /// Stop a rollout: traffic goes back to the stable revision unless --no-rollback.
    Stop(StopOptions),
    /// Show a rollout: phase, strategy and steps, traffic, revisions, hooks, health checks,
    /// rollback; --watch reprints on change until it ends.
    #[command(alias = "get")]
    Status(StatusOptions),
    /// List the rollouts of the namespace.
    #[command(alias = "ls")]
    List(ListOptions),
}

/// Options of `slipway deploy promote`.
#[derive(Debug, Args)]
pub struct PromoteOptions {
    /// The deployments.slipway.dev record.
    pub name: String,
    /// Skip all remaining steps and pauses and shift all traffic now (health checks still apply).
    #[arg(long, conflicts_with = "through_step")]
    pub full: bool,
    /// Release steps up to and including this index (the blue-green wait is step 0).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(0..=i64::from(request::MAX_THROUGH_STEP)))]
    pub through_step: Option<i32>,
}

/// Options of `slipway deploy abort`.
#[derive(Debug, Args)]
pub struct AbortOptions {
    /// The deployments.slipway.dev record.
    pub name: String,
    /// Why, recorded in the record and its Events (at most 200 characters).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

/// Options of `slipway deploy stop`.
#[derive(Debug, Args)]
pub struct StopOptions {
    /// The deployments.slipway.dev record.
    pub name: String,
    /// Leave traffic where it is instead of restoring it to the stable revision.
    #[arg(long)]
    pub no_rollback: bool,
    /// Why, recorded in the record and its Events (at most 200 characters).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

/// Options of `slipway deploy status`.
#[derive(Debug, Args)]
pub struct StatusOptions {
    /// The deployments.slipway.dev record.
    pub name: String,
    /// Reprint on every change until the rollout ends; exit 0 when it Succeeded, 1 otherwise.
    #[arg(short, long)]
    pub watch: bool,
    /// With --watch: give up (exit 1) after this long, e.g. `90s`, `10m`.
    #[arg(long, value_name = "DURATION", requires = "watch", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
}

/// Options of `slipway deploy list`.
#[derive(Debug, Args)]
pub struct ListOptions {
    /// List the rollouts of every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
}

/// Runs `slipway deploy …`.
///
/// # Errors
/// When the cluster cannot be reached, the record does not exist, a request is refused, or a
/// watched rollout ends Failed or Stopped.
pub fn run(command: &DeployCommand) -> anyhow::Result<()> {
    block_on(run_async(command))
}

async fn run_async(command: &DeployCommand) -> anyhow::Result<()> {
    let connection = connect(&command.cluster).await?;
    match &command.action {
        DeployAction::Promote(options) => {
            let promote = PromoteRequest {
                full: options.full,
                through_step: options.through_step,
            };
            request_control(&connection, &options.name, |record| {
                request::decide_promote(record, &promote)
            })
            .await
        }
        DeployAction::Abort(options) => {
            let stop = StopRequest {
                rollback: true,
                reason: options.reason.clone(),
            };
            request_control(&connection, &options.name, |record| {
                request::decide_stop(record, &stop)
            })
            .await
        }
        DeployAction::Stop(options) => {
            let stop = StopRequest {
                rollback: !options.no_rollback,
                reason: options.reason.clone(),
            };
            request_control(&connection, &options.name, |record| {
                request::decide_stop(record, &stop)
            })
            .await
        }
        DeployAction::Status(options) => {
            let record: Record = get(&connection, &RECORD, &options.name).await?;
            if !options.watch {
                print!("{}", view::render_status(&record));
                return Ok(());
            }
            let view = View {
                render: view::render_status,
                outcome: view::watch_outcome,
            };
            watch_until(
                &connection,
                &RECORD,
                &options.name,
                &record,
                options.timeout,
                &view,
            )
            .await
        }
        DeployAction::List(options) => list(&connection, options.all_namespaces).await,
    }
}

/// Decides the request from the record as read and merge-patches `spec.control`.
async fn request_control(
    connection: &Connection,
    name: &str,
    decide: impl Fn(&Record) -> Result<ControlChange, RequestError>,
) -> anyhow::Result<()> {
    let line = read_decide_write(connection, &RECORD, name, async |record: &Record| {
        Ok(match decide(record)? {
            ControlChange::Unchanged(message) => Change::Unchanged(message),
            ControlChange::Patch { control, summary } => Change::Patch {
                patch: PatchBody::Merge(json!({"spec": {"control": control}})),
                summary,
            },
        })
    })
    .await?;
    println!("{line}");
    Ok(())
}

async fn list(connection: &Connection, all_namespaces: bool) -> anyhow::Result<()> {
    let api: Api<Record> = if all_namespaces {
        Api::all(connection.client.clone())
    } else {
        Api::namespaced(connection.client.clone(), &connection.namespace)
    };
    let records = match api.list(&ListParams::default()).await {
        Ok(list) => list.items,
        Err(kube::Error::Api(status)) if status.code == 404 => {
            return Err(not_served(connection, &RECORD));
        }
        Err(error) => return Err(explain(error, &connection.server)),
    };
    if records.is_empty() {
        let scope = if all_namespaces {
            "any namespace".to_owned()
        } else {
            format!("namespace {:?}", connection.namespace)
        };
        println!("no deployments.slipway.dev records in {scope}");
        return Ok(());
    }
    let now =
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now());
    print!("{}", view::render_list(&records, &now, all_namespaces));
    Ok(())
}
