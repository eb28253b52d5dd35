//! Observe: everything one run's decision needs, read once per reconcile.
//!
//! - **Pipeline**: a fresh GET (its stage-lock annotation must be read at the version the lock
//!   write will name; a cached copy would only make that write conflict more often).
//! - **Peers**: the other runs of the pipeline, from the controller's cache of executions.
//! - **Children**: BuildRuns, `deployments.slipway.dev` records and Jobs labelled with the run's
//!   UID and controlled by it (lists, only of the kinds the run's actions use); for an action
//!   whose child is not among them, a GET by name tells a foreign object from a missing one.
//!   Ended Jobs' pods give their containers' termination messages (output variables).
//! - **Source**: a run without a commit gets its branch head resolved (`ls-remote`).
//! - **Jenkins**: each Jenkins action in progress with a known queue item or build is read.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use kube::{Api, Client, Resource, ResourceExt};

use crate::api::buildrun::BuildRun;
use crate::api::deployment::Deployment as Record;
use crate::api::execution::{ActionExecutionStatus, PipelineExecution};
use crate::api::pipeline::Pipeline;
use crate::pipeline::admission::read_locks;
use crate::pipeline::plan::{
    BuildFacts, ChildFacts, DeployFacts, JobFacts, JobOutcome, LivePipeline, Observed, Peer, Run,
};
use crate::runtime::labels::EXECUTION_UID_LABEL;

use super::sources::SourceResolver;

/// Why the world could not be read.
#[derive(Debug, thiserror::Error)]
#[error("unable to read {what} for PipelineExecution {namespace}/{name}: {source}")]
pub struct ObserveError {
    /// What was read.
    pub what: String,
    /// The run's namespace.
    pub namespace: String,
    /// The run's name.
    pub name: String,
    /// The API's answer.
    #[source]
    pub source: kube::Error,
}

/// What observe read: the planner's input plus what apply needs again.
pub struct Observation {
    /// The run as plain data.
    pub run: Run,
    /// The rest of the planner's input.
    pub observed: Observed,
    /// The Pipeline's `resourceVersion` the locks were read at.
    pub pipeline_version: Option<String>,
}

/// Reads the world of `execution`; `peers` are the other runs in the controller's cache.
pub async fn observe(
    client: &Client,
    execution: &PipelineExecution,
    peers: Vec<Peer>,
    sources: &SourceResolver,
    jenkins: &super::jenkins_link::JenkinsLink,
) -> Result<Observation, ObserveError> {
    let namespace = execution.namespace().unwrap_or_default();
    let name = execution.name_any();
    let error = |what: String| {
        let (namespace, name) = (namespace.clone(), name.clone());
        move |source| ObserveError {
            what,
            namespace,
            name,
            source,
        }
    };
    let run = run_of(execution);
    let pipelines: Api<Pipeline> = Api::namespaced(client.clone(), &namespace);
    let pipeline_name = &execution.spec.pipeline_ref.name;
    let found = pipelines
        .get_opt(pipeline_name)
        .await
        .map_err(error(format!("Pipeline {pipeline_name}")))?;
    let pipeline_version = found.as_ref().and_then(|p| p.resource_version());
    let pipeline = found.map(|pipeline| LivePipeline {
        name: pipeline.name_any(),
        uid: pipeline.uid().unwrap_or_default(),
        generation: pipeline.metadata.generation,
        locks: read_locks(pipeline.metadata.annotations.as_ref()),
        spec: pipeline.spec,
    });
    let children = if run_needs_children(&run) {
        read_children(client, &run, pipeline.as_ref())
            .await
            .map_err(|(what, source)| ObserveError {
                what,
                namespace: namespace.clone(),
                name: name.clone(),
                source,
            })?
    } else {
        BTreeMap::new()
    };
    let resolved_source = match &pipeline {
        Some(pipeline)
            if crate::pipeline::plan::needs_source_resolution(&run.spec, &run.status) =>
        {
            Some(
                sources
                    .resolve(client, &namespace, &pipeline.spec, run.spec.source.as_ref())
                    .await
                    .map_err(|error| error.message),
            )
        }
        _ => None,
    };
    let jenkins = jenkins.observe(client, &run).await;
    Ok(Observation {
        run,
        observed: Observed {
            pipeline,
            peers,
            children,
            resolved_source,
            jenkins,
            now: Timestamp::now(),
        },
        pipeline_version,
    })
}

/// The run as the planner reads it.
pub fn run_of(execution: &PipelineExecution) -> Run {
    let uid = execution.uid().unwrap_or_default();
    Run {
        name: execution.name_any(),
        namespace: execution.namespace().unwrap_or_default(),
        created: execution
            .metadata
            .creation_timestamp
            .as_ref()
            .map_or_else(Timestamp::now, |time| time.0),
        generation: execution.metadata.generation,
        owned_by_pipeline: execution
            .owner_references()
            .iter()
            .any(|owner| owner.kind == "Pipeline" && owner.controller == Some(true)),
        spec: execution.spec.clone(),
        status: execution.status.clone().unwrap_or_default(),
        uid,
    }
}

/// A cached run as a peer of another.
pub fn peer_of(execution: &PipelineExecution) -> Peer {
    Peer {
        name: execution.name_any(),
        uid: execution.uid().unwrap_or_default(),
        created: execution
            .metadata
            .creation_timestamp
            .as_ref()
            .map_or_else(Timestamp::now, |time| time.0),
        rollback: execution.spec.rollback.is_some(),
        status: execution.status.clone().unwrap_or_default(),
    }
}

/// Whether the run may have children to follow (not before it starts, not once it ended).
fn run_needs_children(run: &Run) -> bool {
    run.status.phase.is_some() && !crate::pipeline::plan::is_terminal(run.status.phase)
        || !run.spec.control.retries.is_empty()
}

/// The kinds the run's actions create, by the spec it executes.
fn kinds_used(run: &Run, pipeline: Option<&LivePipeline>) -> BTreeSet<&'static str> {
    let spec = run
        .status
        .pipeline_spec
        .as_deref()
        .or(pipeline.map(|p| &p.spec));
    let mut kinds = BTreeSet::new();
    for action in spec
        .into_iter()
        .flat_map(|spec| spec.stages.iter())
        .flat_map(|stage| stage.actions.iter())
    {
        kinds.insert(crate::pipeline::validate::action_kind(action));
    }
    kinds
}

/// Whether any job action of the run's spec lists output variables.
fn wants_output_variables(run: &Run, pipeline: Option<&LivePipeline>) -> bool {
    let spec = run
        .status
        .pipeline_spec
        .as_deref()
        .or(pipeline.map(|p| &p.spec));
    spec.into_iter()
        .flat_map(|spec| spec.stages.iter())
        .flat_map(|stage| stage.actions.iter())
        .any(|action| {
            action
                .job
                .as_ref()
                .is_some_and(|job| !job.output_variables.is_empty())
        })
}

fn controlled_by<K: Resource>(object: &K, uid: &str) -> bool {
    object
        .meta()
        .owner_references
        .iter()
        .flatten()
        .any(|owner| owner.controller == Some(true) && owner.uid == uid)
}

fn controller_of<K: Resource>(object: &K) -> Option<String> {
    object
        .meta()
        .owner_references
        .iter()
        .flatten()
        .find(|owner| owner.controller == Some(true))
        .map(|owner| format!("{}/{}", owner.kind, owner.name))
}

async fn read_children(
    client: &Client,
    run: &Run,
    pipeline: Option<&LivePipeline>,
) -> Result<BTreeMap<String, ChildFacts>, (String, kube::Error)> {
    let kinds = kinds_used(run, pipeline);
    let selector = ListParams::default().labels(&format!("{EXECUTION_UID_LABEL}={}", run.uid));
    let mut children = BTreeMap::new();
    if kinds.contains("build") {
        let api: Api<BuildRun> = Api::namespaced(client.clone(), &run.namespace);
        let listed = api
            .list(&selector)
            .await
            .map_err(|e| ("BuildRuns".to_owned(), e))?;
        for build in listed
            .items
            .into_iter()
            .filter(|b| controlled_by(b, &run.uid))
        {
            children.insert(build.name_any(), ChildFacts::Build(build_facts(&build)));
        }
    }
    if kinds.contains("deploy") {
        let api: Api<Record> = Api::namespaced(client.clone(), &run.namespace);
        let listed = api
            .list(&selector)
            .await
            .map_err(|e| ("deployments.slipway.dev".to_owned(), e))?;
        for record in listed
            .items
            .into_iter()
            .filter(|r| controlled_by(r, &run.uid))
        {
            let status = record.status.clone().unwrap_or_default();
            children.insert(
                record.name_any(),
                ChildFacts::Deploy(DeployFacts {
                    uid: record.uid().unwrap_or_default(),
                    phase: status.phase,
                    message: status.message,
                    stop_requested: record.spec.control.stop.is_some(),
                }),
            );
        }
    }
    if kinds.contains("job") {
        let api: Api<Job> = Api::namespaced(client.clone(), &run.namespace);
        let listed = api
            .list(&selector)
            .await
            .map_err(|e| ("Jobs".to_owned(), e))?;
        let jobs: Vec<Job> = listed
            .items
            .into_iter()
            .filter(|j| controlled_by(j, &run.uid))
            .collect();
        let ended: Vec<&Job> = jobs
            .iter()
            .filter(|job| job_outcome(job) != JobOutcome::Running)
            .collect();
        // Termination messages matter only for output variables; skip the pod list otherwise.
        let pods = if ended.is_empty() || !wants_output_variables(run, pipeline) {
            Vec::new()
        } else {
            let api: Api<Pod> = Api::namespaced(client.clone(), &run.namespace);
            api.list(&selector)
                .await
                .map_err(|e| ("pods".to_owned(), e))?
                .items
        };
        for job in &jobs {
            let uid = job.uid().unwrap_or_default();
            let mut messages: Vec<(Option<Timestamp>, String)> = pods
                .iter()
                .filter(|pod| controlled_by(*pod, &uid))
                .flat_map(|pod| {
                    let created = pod.metadata.creation_timestamp.as_ref().map(|t| t.0);
                    pod.status
                        .iter()
                        .flat_map(|status| status.container_statuses.iter().flatten())
                        .filter_map(|container| {
                            container
                                .state
                                .as_ref()?
                                .terminated
                                .as_ref()?
                                .message
                                .clone()
                        })
                        .map(move |message| (created, message))
                })
                .collect();
            messages.sort_by_key(|(created, _)| std::cmp::Reverse(*created));
            children.insert(
                job.name_any(),
                ChildFacts::Job(JobFacts {
                    uid,
                    outcome: job_outcome(job),
                    termination_messages: messages.into_iter().map(|(_, m)| m).collect(),
                    deleting: job.metadata.deletion_timestamp.is_some(),
                }),
            );
        }
    }
    // An action in progress whose child is not listed: missing, or someone else's object.
    for stage in &run.status.stages {
        for action in &stage.actions {
            let (Some(ActionExecutionStatus::InProgress), Some(child)) =
                (action.status, &action.child)
            else {
                continue;
            };
            if children.contains_key(&child.name) {
                continue;
            }
            let owner = match child.kind.as_str() {
                "BuildRun" => foreign::<BuildRun>(client, run, &child.name).await?,
                "Deployment" => foreign::<Record>(client, run, &child.name).await?,
                "Job" => foreign::<Job>(client, run, &child.name).await?,
                _ => None,
            };
            if let Some(owner) = owner {
                children.insert(child.name.clone(), ChildFacts::Foreign { owner });
            }
        }
    }
    Ok(children)
}

/// `Some(controller)` when an object named `name` exists and is not the run's.
async fn foreign<K>(
    client: &Client,
    run: &Run,
    name: &str,
) -> Result<Option<Option<String>>, (String, kube::Error)>
where
    K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned,
{
    let api: Api<K> = Api::namespaced(client.clone(), &run.namespace);
    let found = api
        .get_opt(name)
        .await
        .map_err(|e| (format!("{} {name}", K::kind(&())), e))?;
    Ok(found
        .filter(|object| !controlled_by(object, &run.uid))
        .map(|object| controller_of(&object)))
}

fn build_facts(build: &BuildRun) -> BuildFacts {
    let status = build.status.clone().unwrap_or_default();
    BuildFacts {
        uid: build.uid().unwrap_or_default(),
        status: status.build_status,
        message: status.message,
        exported: status.exported_variables,
        images: status.images,
        artifacts: status.artifacts,
        stop_requested: build.spec.stop.is_some(),
    }
}

/// A Job's end by its conditions.
pub fn job_outcome(job: &Job) -> JobOutcome {
    let conditions = job
        .status
        .iter()
        .flat_map(|status| status.conditions.iter().flatten());
    for condition in conditions {
        if condition.status != "True" {
            continue;
        }
        match condition.type_.as_str() {
            "Complete" | "SuccessCriteriaMet" => return JobOutcome::Succeeded,
            "Failed" => {
                return JobOutcome::Failed(format!(
                    "{}: {}",
                    condition.reason.clone().unwrap_or_default(),
                    condition.message.clone().unwrap_or_default()
                ));
            }
            _ => {}
        }
    }
    JobOutcome::Running
}
