//! Apply: carry out a run's intents, in order, idempotently.
//!
//! - **Lock** first: a JSON merge patch of the Pipeline's stage-lock annotation carrying the
//!   `resourceVersion` observe read. A 409 means another run (or replica) changed the Pipeline in
//!   between: nothing else of this decision is applied and the reconcile is retried, so no child
//!   is created for a stage the run does not hold.
//! - **Create** (children, rollback runs): create-if-absent under the deterministic name; 409 is
//!   success (the next observe reads what is there, and tells a foreign object from ours). A
//!   child the API server refuses (400, 403, 422) fails its action with the server's message —
//!   the run shows it, instead of retrying a create that cannot succeed.
//! - **Stop**: a BuildRun's `spec.stop`, a rollout's `spec.control.stop` (with rollback), a Job's
//!   deletion (UID precondition, background propagation); gone or already stopping is done.
//! - **Jenkins** triggers and **rule evaluations** talk to the outside; what they learn is folded
//!   into the status written next.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, Preconditions, PropagationPolicy};
use kube::core::NamespaceResourceScope;
use kube::{Api, Client, Resource, ResourceExt};
use serde_json::json;

use crate::api::buildrun::BuildRun;
use crate::api::deployment::Deployment as Record;
use crate::api::execution::{
    ActionExecutionStatus, PipelineExecution, PipelineExecutionStatus, RuleResult,
};
use crate::api::pipeline::Pipeline;
use crate::pipeline::admission::{LockHolder, StageLocks, lock_patch, read_locks};
use crate::pipeline::children::deploy::abandon_stop;
use crate::pipeline::plan::{
    Child, ChildKind, ChildStop, Intent, fold_external_run, fold_rule_results,
};
use crate::pipeline::rules;
use crate::runtime::FIELD_MANAGER;

use super::jenkins_link::JenkinsLink;

/// Why applying failed (transient unless the class says otherwise).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The Pipeline changed since observe read its locks.
    #[error(
        "the Pipeline {pipeline} changed while run {run} was admitted to a stage; deciding again"
    )]
    LockConflict {
        /// The Pipeline.
        pipeline: String,
        /// The run.
        run: String,
    },
    /// A write failed.
    #[error("unable to {action} for PipelineExecution {namespace}/{run}: {source}")]
    Write {
        /// What was attempted.
        action: String,
        /// The run's namespace.
        namespace: String,
        /// The run.
        run: String,
        /// The API's answer.
        #[source]
        source: kube::Error,
    },
}

/// What apply works with.
pub struct ApplyContext<'a> {
    /// The client.
    pub client: &'a Client,
    /// The run.
    pub execution: &'a PipelineExecution,
    /// The Pipeline's locks and version as observe read them.
    pub locks: Option<(&'a StageLocks, &'a str)>,
    /// Jenkins.
    pub jenkins: &'a JenkinsLink,
}

/// Carries out `intents`, folding what it learns into `status`; returns the number of writes.
///
/// # Errors
/// [`ApplyError`]; a lock conflict stops before anything else is applied.
pub async fn apply(
    context: &ApplyContext<'_>,
    intents: &[Intent],
    status: &mut PipelineExecutionStatus,
) -> Result<usize, ApplyError> {
    let execution = context.execution;
    let namespace = execution.namespace().unwrap_or_default();
    let name = execution.name_any();
    let write_error = |action: String| {
        let (namespace, run) = (namespace.clone(), name.clone());
        move |source| ApplyError::Write {
            action,
            namespace,
            run,
            source,
        }
    };
    let mut writes = 0;
    for intent in intents {
        match intent {
            Intent::Lock(change) => {
                let Some((locks, version)) = context.locks else {
                    continue;
                };
                write_locks(context, change, locks, version).await?;
                writes += 1;
            }
            Intent::AdoptByPipeline {
                name: pipeline,
                uid,
            } => {
                let mut owners = execution.owner_references().to_vec();
                owners.push(
                    k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
                        api_version: Pipeline::api_version(&()).into_owned(),
                        kind: "Pipeline".into(),
                        name: pipeline.clone(),
                        uid: uid.clone(),
                        controller: Some(true),
                        block_owner_deletion: Some(false),
                    },
                );
                let api: Api<PipelineExecution> =
                    Api::namespaced(context.client.clone(), &namespace);
                let patch = json!({"metadata": {"ownerReferences": owners}});
                api.patch(&name, &patch_params(), &Patch::Merge(&patch))
                    .await
                    .map_err(write_error(format!("make Pipeline {pipeline} the owner")))?;
                writes += 1;
            }
            Intent::Create(child) => {
                let (kind, child_name, created) = match child.as_ref() {
                    Child::Build(build) => (
                        ChildKind::Build,
                        build.name_any(),
                        create(context.client, &namespace, build.as_ref()).await,
                    ),
                    Child::Deploy(record) => (
                        ChildKind::Deploy,
                        record.name_any(),
                        create(context.client, &namespace, record.as_ref()).await,
                    ),
                    Child::Job(job) => (
                        ChildKind::Job,
                        job.name_any(),
                        create(context.client, &namespace, job.as_ref()).await,
                    ),
                };
                match created {
                    Ok(uid) => {
                        writes += usize::from(uid.is_some());
                        // The UID from the create's answer, so the next reconcile needs no write for it.
                        if let Some(uid) = uid {
                            record_child_uid(status, &child_name, uid);
                        }
                    }
                    Err(kube::Error::Api(answer)) if matches!(answer.code, 400 | 403 | 422) => {
                        refuse_action(
                            status,
                            |_, action| action.child.as_ref().is_some_and(|c| c.name == child_name),
                            &format!(
                                "the API server refused {} {child_name}: {}",
                                kind.kind(),
                                answer.message
                            ),
                        );
                    }
                    Err(error) => {
                        return Err(write_error(format!("create {} {child_name}", kind.kind()))(
                            error,
                        ));
                    }
                }
            }
            Intent::Stop(stop) => {
                stop_child(context.client, &namespace, stop)
                    .await
                    .map_err(write_error(format!(
                        "stop {} {}",
                        stop.kind.kind(),
                        stop.name
                    )))?;
                writes += 1;
            }
            Intent::TriggerJenkins(trigger) => match context
                .jenkins
                .trigger(context.client, &namespace, trigger)
                .await
            {
                Ok(run) => fold_external_run(status, &trigger.stage, &trigger.action, run),
                Err(failure) if failure.permanent => refuse_action(
                    status,
                    |stage, action| stage == trigger.stage && action.name == trigger.action,
                    &failure.message,
                ),
                Err(failure) => {
                    tracing::warn!(action = %trigger.action, "unable to trigger the Jenkins job; trying again: {}", failure.message)
                }
            },
            Intent::EvaluateRules(evaluation) => {
                let mut results = Vec::new();
                for rule in &evaluation.rules {
                    let outcome =
                        rules::evaluate(rule, &evaluation.context, Timestamp::now()).await;
                    results.push(RuleResult {
                        condition: evaluation.condition,
                        rule: rule.name.clone(),
                        passed: outcome.passed,
                        message: Some(outcome.message),
                        time: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                            crate::runtime::whole_seconds(Timestamp::now()),
                        )),
                    });
                }
                fold_rule_results(status, &evaluation.stage, evaluation.condition, results);
            }
            Intent::CreateRollback(rollback) => {
                let wrote = create(context.client, &namespace, rollback.as_ref())
                    .await
                    .map_err(write_error(format!(
                        "create the rollback run {}",
                        rollback.name_any()
                    )))?;
                writes += usize::from(wrote.is_some());
            }
        }
    }
    Ok(writes)
}

/// Writes the stage locks `change` asks for over `locks` read at `version`. A conflict caused
/// by anything but the locks (the Pipeline's status, a label) is retried over a fresh read, since
/// the decision depended only on the locks; a conflict over changed locks is the caller's.
async fn write_locks(
    context: &ApplyContext<'_>,
    change: &crate::pipeline::admission::LockChange,
    locks: &StageLocks,
    version: &str,
) -> Result<(), ApplyError> {
    let execution = context.execution;
    let namespace = execution.namespace().unwrap_or_default();
    let pipeline = execution.spec.pipeline_ref.name.clone();
    let holder = LockHolder {
        execution: execution.name_any(),
        uid: execution.uid().unwrap_or_default(),
    };
    let next = change.applied_to(locks, &holder);
    let api: Api<Pipeline> = Api::namespaced(context.client.clone(), &namespace);
    let write_error = |source| ApplyError::Write {
        action: format!("write the stage locks of Pipeline {pipeline}"),
        namespace: namespace.clone(),
        run: execution.name_any(),
        source,
    };
    let mut version = version.to_owned();
    for _ in 0..3 {
        match api
            .patch(
                &pipeline,
                &patch_params(),
                &Patch::Merge(&lock_patch(&version, &next)),
            )
            .await
        {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(answer)) if answer.code == 409 => {
                let fresh = api.get(&pipeline).await.map_err(write_error)?;
                if read_locks(fresh.metadata.annotations.as_ref()) != *locks {
                    break;
                }
                version = fresh.resource_version().unwrap_or_default();
            }
            Err(error) => return Err(write_error(error)),
        }
    }
    Err(ApplyError::LockConflict {
        pipeline,
        run: execution.name_any(),
    })
}

/// Creates `object` unless it exists; the created object's UID (`None`: it existed).
async fn create<K>(
    client: &Client,
    namespace: &str,
    object: &K,
) -> Result<Option<String>, kube::Error>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let params = PostParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PostParams::default()
    };
    match api.create(&params, object).await {
        Ok(created) => Ok(Some(created.uid().unwrap_or_default())),
        Err(kube::Error::Api(answer)) if answer.code == 409 => Ok(None),
        Err(error) => Err(error),
    }
}

/// Records `uid` as the UID of the child named `child` in the action that asked for it.
fn record_child_uid(status: &mut PipelineExecutionStatus, child: &str, uid: String) {
    let reference = status
        .stages
        .iter_mut()
        .flat_map(|stage| stage.actions.iter_mut())
        .filter_map(|action| action.child.as_mut())
        .find(|reference| reference.name == child);
    if let Some(reference) = reference {
        reference.uid = Some(uid);
    }
}

/// Fails the in-progress action that `matches` (by stage and action status) with `message`.
fn refuse_action(
    status: &mut PipelineExecutionStatus,
    matches: impl Fn(&str, &crate::api::execution::ActionStatus) -> bool,
    message: &str,
) {
    let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(crate::runtime::whole_seconds(
        Timestamp::now(),
    ));
    for stage in &mut status.stages {
        for action in &mut stage.actions {
            if action.status == Some(ActionExecutionStatus::InProgress)
                && matches(&stage.name, action)
            {
                action.status = Some(ActionExecutionStatus::Failed);
                action.completion_time = Some(now.clone());
                action.message = Some(message.to_owned());
            }
        }
    }
}

async fn stop_child(client: &Client, namespace: &str, stop: &ChildStop) -> Result<(), kube::Error> {
    let params = patch_params();
    let guard = json!({"uid": stop.uid});
    let result = match stop.kind {
        ChildKind::Build => {
            let api: Api<BuildRun> = Api::namespaced(client.clone(), namespace);
            let patch =
                json!({"metadata": guard, "spec": {"stop": {"reason": reason(&stop.reason)}}});
            api.patch(&stop.name, &params, &Patch::Merge(&patch))
                .await
                .map(|_| ())
        }
        ChildKind::Deploy => {
            let api: Api<Record> = Api::namespaced(client.clone(), namespace);
            let patch = json!({"metadata": guard, "spec": {"control": {"stop": abandon_stop(&stop.reason)}}});
            api.patch(&stop.name, &params, &Patch::Merge(&patch))
                .await
                .map(|_| ())
        }
        ChildKind::Job => {
            let api: Api<Job> = Api::namespaced(client.clone(), namespace);
            let params = DeleteParams {
                propagation_policy: Some(PropagationPolicy::Background),
                preconditions: Some(Preconditions {
                    uid: Some(stop.uid.clone()),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            api.delete(&stop.name, &params).await.map(|_| ())
        }
    };
    match result {
        // Gone, replaced, or already stopping (a stop cannot be changed once set): done.
        Err(kube::Error::Api(answer)) if matches!(answer.code, 404 | 409 | 422) => Ok(()),
        other => other,
    }
}

fn reason(text: &str) -> String {
    text.chars().take(200).collect()
}

fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    }
}
