//! Apply: execute a decision's intents in order, each idempotent, under the field manager
//! [`FIELD_MANAGER`] (`slipway-controller`).
//!
//! | intent | write |
//! | --- | --- |
//! | `CreateRevision` | create the rendered revision Deployment (AlreadyExists is success) |
//! | `ScaleRevision` / `ScaleDownUserWorkload` | merge patch of `spec.replicas` |
//! | `SetServiceSelector` | [`switch_service_selector_from`] the Service observe read (server-side apply of `spec.selector` only at that `resourceVersion`, nothing when equal; a changed Service falls back to a fresh read); the canary Service is created first when missing (ports copied from the production Service) |
//! | `SetRouteWeights` | [`set_route_weights_from`] the route observe read (JSON patch of the two weights only; a moved route falls back to a fresh read) |
//! | `StartHook` | a Job named `child_name` (create-if-absent) or one HTTP call in its own task |
//! | `StopHook` | delete that Job (background propagation; 404 is success) |
//! | `Event` | publish through [`EventPublisher`] after every other intent (failures are logged) |
//!
//! # Errors
//! The first failing write stops the list ([`ApplyError`]); the status is not written, so the
//! next reconcile decides the same intents again and the ones already done are no-ops.

use std::sync::Arc;
use std::time::Duration;

use futures::channel::mpsc::UnboundedSender;
use k8s_openapi::api::apps::v1::Deployment as AppsDeployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, PropagationPolicy};
use kube::core::DeserializeGuard;
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Client};
use serde_json::json;

use super::memory::Memory;
use super::observe::Observation;
use super::selection::selector_target;
use crate::api::Deployment as DeploymentRecord;
use crate::api::deployment::HttpRouteReference;
use crate::rollout::hook_runner::{self, HookRun};
use crate::rollout::hooks::HookOutcome;
use crate::rollout::job_run::{self, JobRunError};
use crate::rollout::revision::{render_revision, revision_name};
use crate::rollout::state::{Intent, ServiceRole};
use crate::rollout::traffic::{Selection, canary_service_name};
use crate::rollout::traffic_apply::{
    BackendWeight, FIELD_MANAGER, TrafficApplyError, base_selector, revision_selector,
    set_route_weights, set_route_weights_from, switch_service_selector,
    switch_service_selector_from,
};
use crate::runtime::events::EventPublisher;
use crate::runtime::labels::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, TARGET_LABEL};

/// Wakes the controller for a record (an HTTP hook answered).
pub type Trigger = UnboundedSender<ObjectRef<DeserializeGuard<DeploymentRecord>>>;

/// Why applying an intent failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A write was refused or failed.
    #[error("unable to {action}: {source}")]
    Api {
        /// What was attempted.
        action: String,
        /// The API's answer.
        source: kube::Error,
    },
    /// Moving traffic failed.
    #[error(transparent)]
    Traffic(#[from] TrafficApplyError),
    /// A hook or check Job could not be started.
    #[error(transparent)]
    Job(#[from] JobRunError),
    /// The revision could not be rendered (the target workload is gone or unusable).
    #[error("unable to create revision {hash}: {message}")]
    Revision {
        /// The revision hash.
        hash: String,
        /// Why.
        message: String,
    },
}

/// What the apply step shares.
pub struct ApplyContext<'a> {
    /// The client.
    pub client: &'a Client,
    /// The record.
    pub record: &'a DeploymentRecord,
    /// What observe read.
    pub observation: &'a Observation,
    /// Publishes Events.
    pub events: &'a EventPublisher,
    /// HTTP hook answers.
    pub memory: &'a Arc<Memory>,
    /// Wakes the controller when an HTTP hook answers.
    pub trigger: &'a Trigger,
    /// The stable revision's hash (for spanning selectors).
    pub stable: &'a str,
    /// The new revision's hash.
    pub canary: &'a str,
}

/// What applying produced.
#[derive(Debug, Default)]
pub struct Applied {
    /// The earliest requested requeue.
    pub requeue: Option<Duration>,
    /// Writes made (for logs and the benchmark).
    pub writes: usize,
}

fn api(action: String) -> impl FnOnce(kube::Error) -> ApplyError {
    move |source| ApplyError::Api { action, source }
}

/// Executes `intents` in order.
///
/// # Errors
/// [`ApplyError`] from the first intent that fails.
pub async fn apply(context: &ApplyContext<'_>, intents: &[Intent]) -> Result<Applied, ApplyError> {
    let mut applied = Applied::default();
    // Events go last: they inform, and publishing one first would delay the traffic write
    // behind it (a rollback's `RollingBack` Event precedes the restore in the decision).
    let (events, writes): (Vec<&Intent>, Vec<&Intent>) = intents
        .iter()
        .partition(|intent| matches!(intent, Intent::Event { .. }));
    for intent in writes.into_iter().chain(events) {
        Box::pin(apply_one(context, intent, &mut applied)).await?;
    }
    Ok(applied)
}

async fn apply_one(
    context: &ApplyContext<'_>,
    intent: &Intent,
    applied: &mut Applied,
) -> Result<(), ApplyError> {
    let namespace = context.observation.owner.namespace.as_str();
    let target = &context.record.spec.template.target;
    match intent {
        Intent::CreateRevision {
            hash,
            images,
            replicas,
            ..
        } => {
            let workload =
                context
                    .observation
                    .workload
                    .as_ref()
                    .ok_or_else(|| ApplyError::Revision {
                        hash: hash.clone(),
                        message: format!("workload {namespace}/{} does not exist", target.workload),
                    })?;
            let rendered = render_revision(workload, images, *replicas).map_err(|error| {
                ApplyError::Revision {
                    hash: hash.clone(),
                    message: error.to_string(),
                }
            })?;
            if rendered.hash != *hash {
                return Err(ApplyError::Revision {
                    hash: hash.clone(),
                    message: format!(
                        "the template of workload {namespace}/{} changed during the rollout (it now renders {})",
                        target.workload, rendered.hash
                    ),
                });
            }
            let mut deployment = rendered.deployment;
            deployment.metadata.namespace = Some(namespace.to_owned());
            let deployments: Api<AppsDeployment> =
                Api::namespaced(context.client.clone(), namespace);
            match deployments
                .create(
                    &PostParams {
                        field_manager: Some(FIELD_MANAGER.to_owned()),
                        ..PostParams::default()
                    },
                    &deployment,
                )
                .await
            {
                Ok(_) => applied.writes += 1,
                Err(kube::Error::Api(status)) if status.is_already_exists() => {}
                Err(source) => {
                    return Err(ApplyError::Api {
                        action: format!("create revision Deployment {namespace}/{}", rendered.name),
                        source,
                    });
                }
            }
        }
        Intent::ScaleRevision { hash, replicas } => {
            let name = context
                .observation
                .revision_names
                .get(hash)
                .cloned()
                .unwrap_or_else(|| revision_name(&target.workload, hash));
            scale(context.client, namespace, &name, *replicas).await?;
            applied.writes += 1;
        }
        Intent::ScaleDownUserWorkload { workload } => {
            scale(context.client, namespace, workload, 0).await?;
            applied.writes += 1;
        }
        Intent::SetServiceSelector {
            role,
            service,
            selection,
        } => {
            if *role == ServiceRole::Canary {
                applied.writes += ensure_canary_service(context, service, selection).await?;
            }
            let to = selector_target(selection, context.stable, context.canary);
            let target = &context.observation.target;
            let switch = match context.observation.services.get(service) {
                Some(known) => {
                    switch_service_selector_from(
                        context.client,
                        namespace,
                        service,
                        target,
                        &to,
                        known,
                    )
                    .await?
                }
                None => {
                    switch_service_selector(context.client, namespace, service, target, &to).await?
                }
            };
            applied.writes += usize::from(switch.changed);
        }
        Intent::SetRouteWeights {
            route,
            rule,
            production,
            canary,
        } => {
            let reference = HttpRouteReference {
                name: route.clone(),
                rule: *rule,
            };
            let desired = [
                BackendWeight {
                    service: production.0.clone(),
                    weight: production.1,
                },
                BackendWeight {
                    service: canary.0.clone(),
                    weight: canary.1,
                },
            ];
            let change = match &context.observation.route_spec {
                Some(known) => {
                    set_route_weights_from(context.client, namespace, &reference, &desired, known)
                        .await?
                }
                None => set_route_weights(context.client, namespace, &reference, &desired).await?,
            };
            applied.writes += usize::from(change.changed);
        }
        Intent::StartHook {
            event,
            child_name,
            hook,
            timeout,
        } => {
            let owner = &context.observation.owner;
            let run = HookRun {
                owner,
                event: *event,
                revision: context.canary,
                attempt: 0,
            };
            if let Some(spec) = &hook.job {
                let mut job = hook_runner::render_hook_job(&run, spec, *timeout);
                job.metadata.name = Some(child_name.clone());
                job_run::ensure_job(context.client, owner, &job).await?;
                applied.writes += 1;
            } else if let Some(http) = &hook.http
                && context.memory.start_hook(&owner.uid, child_name)
            {
                let (http, owner, event, revision) = (
                    http.clone(),
                    owner.clone(),
                    *event,
                    context.canary.to_owned(),
                );
                let (memory, trigger, child, timeout) = (
                    context.memory.clone(),
                    context.trigger.clone(),
                    child_name.clone(),
                    *timeout,
                );
                tokio::spawn(async move {
                    let run = HookRun {
                        owner: &owner,
                        event,
                        revision: &revision,
                        attempt: 0,
                    };
                    let outcome = hook_runner::call_http_hook(&http, &run, timeout).await;
                    let outcome = match outcome.state {
                        crate::api::deployment::LifecycleEventState::Succeeded => {
                            HookOutcome::Succeeded
                        }
                        _ => HookOutcome::Failed(outcome.message),
                    };
                    memory.finish_hook(&owner.uid, &child, outcome);
                    let _ = trigger
                        .unbounded_send(ObjectRef::new(&owner.name).within(&owner.namespace));
                });
            }
        }
        Intent::StopHook { child_name } => {
            let jobs: Api<Job> = Api::namespaced(context.client.clone(), namespace);
            match jobs
                .delete(
                    child_name,
                    &DeleteParams {
                        propagation_policy: Some(PropagationPolicy::Background),
                        ..DeleteParams::default()
                    },
                )
                .await
            {
                Ok(_) => applied.writes += 1,
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(source) => {
                    return Err(ApplyError::Api {
                        action: format!("delete hook Job {namespace}/{child_name}"),
                        source,
                    });
                }
            }
        }
        Intent::RequeueAfter(after) => {
            applied.requeue = Some(
                applied
                    .requeue
                    .map_or(*after, |current| current.min(*after)),
            );
        }
        Intent::Event(event) => context.events.publish(context.record, event).await,
    }
    Ok(())
}

/// Sets a Deployment's `spec.replicas`.
async fn scale(
    client: &Client,
    namespace: &str,
    name: &str,
    replicas: i32,
) -> Result<(), ApplyError> {
    let deployments: Api<AppsDeployment> = Api::namespaced(client.clone(), namespace);
    deployments
        .patch(
            name,
            &PatchParams {
                field_manager: Some(FIELD_MANAGER.to_owned()),
                ..PatchParams::default()
            },
            &Patch::Merge(json!({"spec": {"replicas": replicas}})),
        )
        .await
        .map_err(api(format!(
            "scale apps/v1 Deployment {namespace}/{name} to {replicas}"
        )))?;
    Ok(())
}

/// Creates the canary Service when it does not exist: the production Service's ports and base
/// selector, pointed at `selection`. Returns the writes made.
async fn ensure_canary_service(
    context: &ApplyContext<'_>,
    service: &str,
    selection: &Selection,
) -> Result<usize, ApplyError> {
    if context.observation.services.contains_key(service) {
        return Ok(0);
    }
    let namespace = context.observation.owner.namespace.as_str();
    let services: Api<Service> = Api::namespaced(context.client.clone(), namespace);
    if services
        .get_opt(service)
        .await
        .map_err(api(format!("read Service {namespace}/{service}")))?
        .is_some()
    {
        return Ok(0);
    }
    let production_name = &context.record.spec.template.target.service;
    let production = services
        .get(production_name)
        .await
        .map_err(api(format!("read Service {namespace}/{production_name}")))?;
    let spec = production.spec.unwrap_or_default();
    let base = base_selector(&spec.selector.clone().unwrap_or_default());
    let hash = match selection {
        Selection::Revision(hash) => hash.clone(),
        Selection::AllRevisions => context.canary.to_owned(),
    };
    let ports: Vec<ServicePort> = spec
        .ports
        .unwrap_or_default()
        .into_iter()
        .map(|port| ServicePort {
            node_port: None,
            ..port
        })
        .collect();
    let canary = Service {
        metadata: ObjectMeta {
            name: Some(canary_service_name(production_name)),
            namespace: Some(namespace.to_owned()),
            labels: Some(
                [
                    (MANAGED_BY_LABEL.to_owned(), MANAGED_BY_VALUE.to_owned()),
                    (TARGET_LABEL.to_owned(), context.observation.target.clone()),
                ]
                .into(),
            ),
            ..ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            selector: Some(revision_selector(&base, &context.observation.target, &hash)),
            ports: Some(ports),
            ..ServiceSpec::default()
        }),
        status: None,
    };
    match services
        .create(
            &PostParams {
                field_manager: Some(FIELD_MANAGER.to_owned()),
                ..PostParams::default()
            },
            &canary,
        )
        .await
    {
        Ok(_) => Ok(1),
        Err(kube::Error::Api(status)) if status.is_already_exists() => Ok(0),
        Err(source) => Err(ApplyError::Api {
            action: format!("create canary Service {namespace}/{service}"),
            source,
        }),
    }
}
