//! `slipway deploy …` (as a plugin, `kubectl slipway deploy …`): the user's side of a
//! `deployments.slipway.dev` rollout — promote, abort, stop, status (with `--watch`) and list.
//!
//! Requests are level-triggered fields in the record's `spec.control`, which the rollout
//! controller acts on; the commands only write those fields. Each request is decided from the
//! record as read ([`request`]) and written as a JSON merge patch of `spec.control` alone, with
//! field manager `kubectl-slipway` and the read `resourceVersion` as a precondition, so no other
//! spec field is touched and a record that changed in between is read and decided again.
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
mod watch;

use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::json;

use self::request::{ControlChange, PromoteRequest, RequestError, StopRequest};
use super::cluster::{ClusterOptions, Connection, connect, explain};
use crate::api::Deployment as Record;
use crate::api::common::DurationString;

/// The field manager of the commands' writes, so `managedFields` shows who asked.
pub const FIELD_MANAGER: &str = "kubectl-slipway";

/// Attempts at a request whose record keeps changing between read and write.
const CONFLICT_ATTEMPTS: usize = 3;

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

fn parse_duration(text: &str) -> Result<Duration, String> {
    DurationString::new(text)
        .to_duration()
        .map_err(|error| format!("{error}; write e.g. 90s, 10m or 1h"))
}

/// Runs `slipway deploy …`.
///
/// # Errors
/// When the cluster cannot be reached, the record does not exist, a request is refused, or a
/// watched rollout ends Failed or Stopped.
pub fn run(command: &DeployCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    runtime.block_on(run_async(command))
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
        DeployAction::Status(options) if options.watch => {
            watch::watch_status(&connection, &options.name, options.timeout).await
        }
        DeployAction::Status(options) => {
            let record = get_record(&connection, &options.name).await?;
            print!("{}", view::render_status(&record));
            Ok(())
        }
        DeployAction::List(options) => list(&connection, options.all_namespaces).await,
    }
}

/// Reads the record, decides the request and merge-patches `spec.control`, deciding again when
/// the record changed in between.
async fn request_control(
    connection: &Connection,
    name: &str,
    decide: impl Fn(&Record) -> Result<ControlChange, RequestError>,
) -> anyhow::Result<()> {
    let api: Api<Record> = Api::namespaced(connection.client.clone(), &connection.namespace);
    let parameters = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    };
    let mut attempt = 1;
    loop {
        let record = get_record(connection, name).await?;
        let (control, summary) = match decide(&record)? {
            ControlChange::Unchanged(message) => {
                println!("{message}");
                return Ok(());
            }
            ControlChange::Patch { control, summary } => (control, summary),
        };
        let patch = json!({
            "metadata": {"resourceVersion": record.metadata.resource_version},
            "spec": {"control": control}
        });
        match api.patch(name, &parameters, &Patch::Merge(&patch)).await {
            Ok(_) => {
                println!("{summary}");
                return Ok(());
            }
            Err(kube::Error::Api(status)) if status.code == 409 && attempt < CONFLICT_ATTEMPTS => {
                attempt += 1;
            }
            Err(error) => return Err(api_error(error, connection, name)),
        }
    }
}

/// Reads one record, with errors that name it and its namespace.
pub(super) async fn get_record(connection: &Connection, name: &str) -> anyhow::Result<Record> {
    let api: Api<Record> = Api::namespaced(connection.client.clone(), &connection.namespace);
    api.get(name)
        .await
        .map_err(|error| api_error(error, connection, name))
}

/// A kube error on record `name`: a missing record is named with its namespace, missing CRDs
/// with the command that installs them.
fn api_error(error: kube::Error, connection: &Connection, name: &str) -> anyhow::Error {
    let namespace = &connection.namespace;
    match &error {
        kube::Error::Api(status) if status.code == 404 => {
            let names_the_record = status
                .details
                .as_ref()
                .is_some_and(|details| details.name == name);
            if names_the_record {
                anyhow::anyhow!(
                    "deployments.slipway.dev {name:?} not found in namespace {namespace:?}: \
                     check the name and namespace (-n) with `kubectl slipway deploy list -n {namespace}`"
                )
            } else {
                anyhow::anyhow!(
                    "the cluster at {} does not serve deployments.slipway.dev: install the CRDs \
                     with `kubectl apply --server-side -f crds/`",
                    connection.server
                )
            }
        }
        _ => explain(error, &connection.server),
    }
}

async fn list(connection: &Connection, all_namespaces: bool) -> anyhow::Result<()> {
    let api: Api<Record> = if all_namespaces {
        Api::all(connection.client.clone())
    } else {
        Api::namespaced(connection.client.clone(), &connection.namespace)
    };
    let records = match api.list(&ListParams::default()).await {
        Ok(list) => list.items,
        Err(kube::Error::Api(status)) if status.code == 404 => anyhow::bail!(
            "the cluster at {} does not serve deployments.slipway.dev: install the CRDs with \
             `kubectl apply --server-side -f crds/`",
            connection.server
        ),
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
