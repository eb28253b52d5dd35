//! `slipway start|approve|reject|retry|stop|transitions|get` (as a plugin, `kubectl slipway …`):
//! the user's side of Pipelines and their runs.
//!
//! `start` creates a PipelineExecution ([`start`]). The other requests are level-triggered
//! fields the pipeline controller acts on: approvals, retries and a stop in an execution's
//! `spec.control`, a stage's `transition` in a Pipeline's spec. Each is decided from the object as
//! read ([`approval`], [`request`], [`transition`]) and written through the plugin's one write path ([`crate::cli::write`]:
//! field manager `kubectl-slipway`, the read `resourceVersion` as a precondition, up to three
//! re-reads when the object changed in between), touching no other field.
//!
//! # Exit codes
//! 0 on success (and for `get execution --watch`, when the run Succeeded); 1 on any error, a
//! refused request, or a watched run that ended Failed, Stopped, Superseded or Cancelled.

pub mod approval;
#[cfg(test)]
mod approval_tests;
pub mod request;
#[cfg(test)]
mod request_tests;
pub mod start;
#[cfg(test)]
mod start_tests;
pub mod transition;
#[cfg(test)]
mod transition_tests;
pub mod view;
#[cfg(test)]
mod view_tests;

use std::time::Duration;

use clap::{Args, Subcommand};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::Api;
use kube::api::PostParams;

use self::approval::ApprovalRequest;
use self::start::StartRequest;
use self::transition::TransitionRequest;
use super::cluster::{ClusterOptions, Connection, block_on, connect, explain};
use super::identity::caller;
use super::watch::{View, parse_duration, watch_until};
use super::write::{FIELD_MANAGER, Kind, get, not_served, read_decide_write};
use crate::api::PipelineExecution;
use crate::api::execution::{ApprovalResult, StopRequest};
use crate::api::pipeline::{Pipeline, PipelineSpec, RetryMode};

/// How messages name Pipelines and where to list them.
const PIPELINE: Kind = Kind {
    label: "Pipeline",
    resource: "pipelines.slipway.dev",
    list_command: "kubectl get pipe",
};

/// How messages name PipelineExecutions and where to list them.
const EXECUTION: Kind = Kind {
    label: "PipelineExecution",
    resource: "pipelineexecutions.slipway.dev",
    list_command: "kubectl get pexec",
};

/// The commands that drive pipelines and their runs.
#[derive(Debug, Subcommand)]
pub enum PipelineCommand {
    /// Start a run of a Pipeline; prints the new PipelineExecution's name.
    ///
    /// The run's trigger.actor is the caller as the API server names them (SelfSubjectReview);
    /// where the server does not serve that, the kubeconfig context's user name, which is
    /// self-reported.
    Start(StartOptions),
    /// Approve a waiting approval action of a run.
    ///
    /// approvedBy is the caller as the API server names them (SelfSubjectReview); where the
    /// server does not serve that, the kubeconfig context's user name, which is self-reported.
    Approve(AnswerOptions),
    /// Reject a waiting approval action of a run: the action fails, and with it the stage.
    ///
    /// approvedBy is the caller as the API server names them (SelfSubjectReview); where the
    /// server does not serve that, the kubeconfig context's user name, which is self-reported.
    Reject(AnswerOptions),
    /// Retry a Failed or Stopped stage of a run (its failed actions, or --all-actions).
    Retry(RetryOptions),
    /// Stop a run: running actions finish first, or are abandoned at once with --abandon.
    Stop(StopOptions),
    /// Disable or enable the transition into a Pipeline's stage (runs wait before a disabled one).
    Transitions(TransitionsCommand),
    /// Show a Pipeline, or a run with its stages and actions (--watch follows it to its end).
    Get(GetCommand),
}

/// Options of `start`.
#[derive(Debug, Args)]
pub struct StartOptions {
    /// Which cluster and namespace.
    #[command(flatten)]
    pub cluster: ClusterOptions,
    /// The Pipeline to run.
    pub pipeline: String,
    /// Override a variable the Pipeline declares in spec.variables, for this run (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub variables: Vec<String>,
    /// Run this revision: a commit id (7–64 lowercase hex digits) or else a branch, whose head
    /// commit the controller resolves. Without it, the head of the Pipeline's branch.
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,
}

/// Options of `approve` and `reject`.
#[derive(Debug, Args)]
pub struct AnswerOptions {
    /// Which cluster and namespace.
    #[command(flatten)]
    pub cluster: ClusterOptions,
    /// The PipelineExecution.
    pub execution: String,
    /// The stage of the approval action.
    #[arg(long)]
    pub stage: String,
    /// The approval action.
    #[arg(long)]
    pub action: String,
    /// Why (at most 512 characters).
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
}

/// Options of `retry`.
#[derive(Debug, Args)]
pub struct RetryOptions {
    /// Which cluster and namespace.
    #[command(flatten)]
    pub cluster: ClusterOptions,
    /// The PipelineExecution.
    pub execution: String,
    /// The Failed or Stopped stage.
    #[arg(long)]
    pub stage: String,
    /// Run all the stage's actions again, not only the failed ones.
    #[arg(long)]
    pub all_actions: bool,
}

/// Options of `stop`.
#[derive(Debug, Args)]
pub struct StopOptions {
    /// Which cluster and namespace.
    #[command(flatten)]
    pub cluster: ClusterOptions,
    /// The PipelineExecution.
    pub execution: String,
    /// Abandon running actions at once (their children are stopped too) instead of letting
    /// them finish; escalates an earlier stop that waits.
    #[arg(long)]
    pub abandon: bool,
    /// Why (at most 200 characters).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

/// Options of `transitions`.
#[derive(Debug, Args)]
pub struct TransitionsCommand {
    /// Which cluster and namespace.
    #[command(flatten)]
    pub cluster: ClusterOptions,
    /// Disable or enable.
    #[command(subcommand)]
    pub action: TransitionAction,
}

/// The `transitions` subcommands.
#[derive(Debug, Subcommand)]
pub enum TransitionAction {
    /// Hold runs before a stage until the transition is enabled again.
    Disable(DisableOptions),
    /// Let runs enter a stage again.
    Enable(EnableOptions),
}

/// Options of `transitions disable`.
#[derive(Debug, Args)]
pub struct DisableOptions {
    /// The Pipeline.
    pub pipeline: String,
    /// The stage whose inbound transition to disable.
    #[arg(long)]
    pub stage: String,
    /// Why runs are held, shown to whoever finds them waiting (required, at most 300 characters).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

/// Options of `transitions enable`.
#[derive(Debug, Args)]
pub struct EnableOptions {
    /// The Pipeline.
    pub pipeline: String,
    /// The stage whose inbound transition to enable.
    #[arg(long)]
    pub stage: String,
}

/// Options of `get`.
#[derive(Debug, Args)]
pub struct GetCommand {
    /// Which cluster and namespace.
    #[command(flatten)]
    pub cluster: ClusterOptions,
    /// What to show.
    #[command(subcommand)]
    pub what: GetWhat,
}

/// The `get` subcommands.
#[derive(Debug, Subcommand)]
pub enum GetWhat {
    /// A Pipeline: source, mode, variables, stages with their transitions and actions, last run.
    #[command(visible_alias = "pipe", alias = "pipelines")]
    Pipeline(GetPipelineOptions),
    /// A run: phase, trigger, revision, where it waits, stages and actions, how to answer a
    /// waiting approval.
    #[command(
        visible_alias = "pexec",
        alias = "executions",
        alias = "pipelineexecution",
        alias = "pipelineexecutions"
    )]
    Execution(GetExecutionOptions),
}

/// Options of `get pipeline`.
#[derive(Debug, Args)]
pub struct GetPipelineOptions {
    /// The Pipeline.
    pub name: String,
}

/// Options of `get execution`.
#[derive(Debug, Args)]
pub struct GetExecutionOptions {
    /// The PipelineExecution.
    pub name: String,
    /// Reprint on every change until the run ends; exit 0 when it Succeeded, 1 otherwise.
    #[arg(short, long)]
    pub watch: bool,
    /// With --watch: give up (exit 1) after this long, e.g. `90s`, `10m`.
    #[arg(long, value_name = "DURATION", requires = "watch", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
}

/// Runs one of the pipeline commands.
///
/// # Errors
/// When the cluster cannot be reached, an object does not exist, a request is refused, or a
/// watched run ends unsuccessfully.
pub fn run(command: &PipelineCommand) -> anyhow::Result<()> {
    block_on(run_async(command))
}

async fn run_async(command: &PipelineCommand) -> anyhow::Result<()> {
    match command {
        PipelineCommand::Start(options) => start(options).await,
        PipelineCommand::Approve(options) => answer(options, ApprovalResult::Approved).await,
        PipelineCommand::Reject(options) => answer(options, ApprovalResult::Rejected).await,
        PipelineCommand::Retry(options) => {
            let connection = connect(&options.cluster).await?;
            let mode = if options.all_actions {
                RetryMode::AllActions
            } else {
                RetryMode::FailedActions
            };
            let line = read_decide_write(
                &connection,
                &EXECUTION,
                &options.execution,
                async |execution: &PipelineExecution| {
                    let spec = run_spec(&connection, execution).await?;
                    Ok(request::decide_retry(
                        execution,
                        &spec,
                        &options.stage,
                        mode,
                    )?)
                },
            )
            .await?;
            println!("{line}");
            Ok(())
        }
        PipelineCommand::Stop(options) => {
            let connection = connect(&options.cluster).await?;
            let stop = StopRequest {
                abandon: options.abandon,
                reason: options.reason.clone(),
            };
            let line = read_decide_write(
                &connection,
                &EXECUTION,
                &options.execution,
                async |execution: &PipelineExecution| Ok(request::decide_stop(execution, &stop)?),
            )
            .await?;
            println!("{line}");
            Ok(())
        }
        PipelineCommand::Transitions(command) => transitions(command).await,
        PipelineCommand::Get(command) => show(command).await,
    }
}

/// Creates the run and prints its name alone, so scripts can capture it.
async fn start(options: &StartOptions) -> anyhow::Result<()> {
    let connection = connect(&options.cluster).await?;
    let pipeline: Pipeline = get(&connection, &PIPELINE, &options.pipeline).await?;
    let request = StartRequest {
        variables: options.variables.clone(),
        revision: options.revision.clone(),
        actor: caller(&connection).await?.map(|caller| caller.name),
    };
    let execution = start::execution_for(&pipeline, &request)?;
    let executions: Api<PipelineExecution> =
        Api::namespaced(connection.client.clone(), &connection.namespace);
    let parameters = PostParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PostParams::default()
    };
    let created =
        executions
            .create(&parameters, &execution)
            .await
            .map_err(|error| match &error {
                kube::Error::Api(status) if status.code == 404 => {
                    not_served(&connection, &EXECUTION)
                }
                _ => explain(error, &connection.server),
            })?;
    println!("{}", created.metadata.name.unwrap_or_default());
    Ok(())
}

async fn answer(options: &AnswerOptions, result: ApprovalResult) -> anyhow::Result<()> {
    let connection = connect(&options.cluster).await?;
    let request = ApprovalRequest {
        stage: options.stage.clone(),
        action: options.action.clone(),
        result,
        comment: options.comment.clone(),
        approved_by: caller(&connection).await?.map(|caller| caller.name),
    };
    let line = read_decide_write(
        &connection,
        &EXECUTION,
        &options.execution,
        async |execution: &PipelineExecution| {
            let spec = run_spec(&connection, execution).await?;
            Ok(approval::decide_approval(execution, &spec, &request)?)
        },
    )
    .await?;
    println!("{line}");
    Ok(())
}

async fn transitions(command: &TransitionsCommand) -> anyhow::Result<()> {
    let connection = connect(&command.cluster).await?;
    let (pipeline, stage, request) = match &command.action {
        TransitionAction::Disable(options) => (
            &options.pipeline,
            &options.stage,
            TransitionRequest::Disable {
                reason: options.reason.clone(),
            },
        ),
        TransitionAction::Enable(options) => {
            (&options.pipeline, &options.stage, TransitionRequest::Enable)
        }
    };
    let line = read_decide_write(
        &connection,
        &PIPELINE,
        pipeline,
        async |pipeline: &Pipeline| Ok(transition::decide_transition(pipeline, stage, &request)?),
    )
    .await?;
    println!("{line}");
    Ok(())
}

async fn show(command: &GetCommand) -> anyhow::Result<()> {
    let connection = connect(&command.cluster).await?;
    let options = match &command.what {
        GetWhat::Pipeline(options) => {
            let pipeline: Pipeline = get(&connection, &PIPELINE, &options.name).await?;
            print!("{}", view::render_pipeline(&pipeline));
            return Ok(());
        }
        GetWhat::Execution(options) => options,
    };
    let execution: PipelineExecution = get(&connection, &EXECUTION, &options.name).await?;
    // Stages not reached yet come from the run's snapshot; before it has one, from the live
    // Pipeline (a run whose Pipeline is gone still shows what its status says).
    let live = match view::run_spec(&execution) {
        Some(_) => None,
        None => {
            let pipelines: Api<Pipeline> =
                Api::namespaced(connection.client.clone(), &connection.namespace);
            pipelines
                .get_opt(&execution.spec.pipeline_ref.name)
                .await
                .ok()
                .flatten()
                .map(|pipeline| pipeline.spec)
        }
    };
    let render = |execution: &PipelineExecution| {
        let now = Time(k8s_openapi::jiff::Timestamp::now());
        view::render_execution(execution, live.as_ref(), &now)
    };
    if !options.watch {
        print!("{}", render(&execution));
        return Ok(());
    }
    let view = View {
        render,
        outcome: view::watch_outcome,
    };
    watch_until(
        &connection,
        &EXECUTION,
        &options.name,
        &execution,
        options.timeout,
        &view,
    )
    .await
}

/// The spec a run executes: its snapshot, or the live Pipeline's before it has one.
async fn run_spec(
    connection: &Connection,
    execution: &PipelineExecution,
) -> anyhow::Result<PipelineSpec> {
    if let Some(spec) = view::run_spec(execution) {
        return Ok(spec.clone());
    }
    let pipeline: Pipeline = get(connection, &PIPELINE, &execution.spec.pipeline_ref.name).await?;
    Ok(pipeline.spec)
}
