//! Observe: load the world one rollout's decision needs, once per reconcile.
//!
//! - **Target workload**: the user's apps/v1 Deployment `spec.target.workload` (its replicas,
//!   Ready pods and pod-template hash — the stable revision's hash on a first rollout).
//! - **New revision**: the hash [`render_revision`] gives the workload's template with the new
//!   images (`spec.revision.images` or the appspec's), plus the appspec's hooks. Once the rollout
//!   recorded `status.canaryRevision`, that hash is kept (the revision module's caveat: a defaulted
//!   template field must not move the revision under a running rollout).
//! - **Revisions**: apps/v1 Deployments labelled `app.kubernetes.io/managed-by=slipway` and
//!   `slipway.dev/target=<target>`; when status records a revision's workload UID, an object with
//!   that hash but another UID is not that revision and is ignored.
//! - **Traffic**: what the production, test and canary Services select (parsed by
//!   [`selection_of`]) and the HTTPRoute's production/canary weights (first selected rule).
//! - **Hooks**: Jobs labelled with the record and purpose `hook`, owned by its UID, by name;
//!   HTTP hooks from [`Memory`].
//! - **Probes**: results kept in [`Memory`], plus Job checks read from their deterministic Jobs.
//! - **Queue**: every record in the namespace whose `spec.target.workload` is the same, from
//!   the controller's cache of records ([`rollouts_on_target`]).
//!
//! A missing production Service, test Service or HTTPRoute is an [`ObserveError::Reference`]:
//! the driver reports it on the record and waits for a change.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment as AppsDeployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};

use super::memory::Memory;
use super::selection::selection_of;
use crate::api::Deployment as DeploymentRecord;
use crate::api::deployment::{DeploymentStatus, RolloutStage};
use crate::rollout::health::ProbeResult;
use crate::rollout::hook_runner::{self, HOOK_PURPOSE};
use crate::rollout::hooks::{HookObservation, HookOutcome};
use crate::rollout::job_run::{JobOwner, job_name};
use crate::rollout::probes::{CHECK_PURPOSE, check_job_outcome};
use crate::rollout::revision::{render_revision, revision_hash, revision_images};
use crate::rollout::state::{
    NewRevision, ObservedWorld, OtherRollout, OtherRolloutState, RevisionWorkload, UserWorkload,
};
use crate::rollout::traffic::canary_service_name;
use crate::rollout::traffic_apply::{
    HttpRouteSpec, KnownSelector, Selector, TrafficApplyError, read_route, route_weights,
};
use crate::rollout::{appspec, job_run};
use crate::runtime::labels::{
    DEPLOYMENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, PURPOSE_LABEL, REVISION_LABEL,
    TARGET_LABEL,
};
use crate::runtime::names::label_value;

/// Why the world could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    /// An API call failed.
    #[error("unable to {action}: {source}")]
    Api {
        /// What was attempted.
        action: String,
        /// The API's answer.
        source: kube::Error,
    },
    /// A referenced object is missing or unusable (reported on the record).
    #[error("unable to roll out: {field} names {what}, {problem}")]
    Reference {
        /// The spec field.
        field: &'static str,
        /// The object it names.
        what: String,
        /// What is wrong with it.
        problem: String,
    },
    /// Reading traffic failed.
    #[error(transparent)]
    Traffic(#[from] TrafficApplyError),
    /// The record lacks a name, namespace or UID.
    #[error(transparent)]
    Owner(#[from] job_run::JobRunError),
}

/// What observe read, for decide and apply.
#[derive(Clone, Debug)]
pub struct Observation {
    /// The decision's input.
    pub world: ObservedWorld,
    /// The target workload as read.
    pub workload: Option<AppsDeployment>,
    /// Revision Deployment names by hash.
    pub revision_names: BTreeMap<String, String>,
    /// The `slipway.dev/target` value of the target.
    pub target: String,
    /// The record as the owner of its Jobs.
    pub owner: JobOwner,
    /// The HTTPRoute's spec as read (apply patches weights from it).
    pub route_spec: Option<HttpRouteSpec>,
    /// The Services read, by name, with their selectors (apply switches selectors from them).
    pub services: BTreeMap<String, KnownSelector>,
}

fn api_error(action: String) -> impl FnOnce(kube::Error) -> ObserveError {
    move |source| ObserveError::Api { action, source }
}

/// Reads the world of `record`.
///
/// # Errors
/// [`ObserveError`] on an API failure or a missing referenced object.
pub async fn observe(
    client: &Client,
    record: &DeploymentRecord,
    memory: &Memory,
    rollouts_on_target: Vec<OtherRollout>,
) -> Result<Observation, ObserveError> {
    let owner = JobOwner::of(record)?;
    let namespace = owner.namespace.as_str();
    let template = &record.spec.template;
    let target_spec = &template.target;
    let status = record.status.clone().unwrap_or_default();
    let target = label_value(&target_spec.workload);

    let deployments: Api<AppsDeployment> = Api::namespaced(client.clone(), namespace);
    let workload = deployments
        .get_opt(&target_spec.workload)
        .await
        .map_err(api_error(format!(
            "read apps/v1 Deployment {namespace}/{} (spec.target.workload)",
            target_spec.workload
        )))?;
    let new_revision = new_revision(record, workload.as_ref(), &status);

    let selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{TARGET_LABEL}={target}");
    let listed = deployments
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(api_error(format!(
            "list revision Deployments of {namespace}/{}",
            target_spec.workload
        )))?;
    let recorded_uids: BTreeMap<&str, &str> = [&status.stable_revision, &status.canary_revision]
        .into_iter()
        .flatten()
        .filter_map(|revision| {
            let uid = revision.workload.as_ref()?.uid.as_deref()?;
            Some((revision.hash.as_str(), uid))
        })
        .collect();
    let mut revisions = Vec::new();
    let mut revision_names = BTreeMap::new();
    for object in &listed.items {
        let Some(hash) = object.labels().get(REVISION_LABEL) else {
            continue;
        };
        if let Some(uid) = recorded_uids.get(hash.as_str())
            && object.metadata.uid.as_deref() != Some(*uid)
        {
            continue;
        }
        revision_names.insert(hash.clone(), object.name_any());
        revisions.push(RevisionWorkload {
            hash: hash.clone(),
            replicas: object
                .spec
                .as_ref()
                .and_then(|spec| spec.replicas)
                .unwrap_or(1),
            ready_replicas: object
                .status
                .as_ref()
                .and_then(|status| status.ready_replicas)
                .unwrap_or(0),
        });
    }

    let services: Api<Service> = Api::namespaced(client.clone(), namespace);
    let mut known_services = BTreeMap::new();
    let production = read_selector(
        &services,
        namespace,
        &target_spec.service,
        "spec.target.service",
    )
    .await?
    .map(|known| remember(&mut known_services, &target_spec.service, known))
    .ok_or_else(|| ObserveError::Reference {
        field: "spec.target.service",
        what: format!("Service {namespace}/{}", target_spec.service),
        problem: "which does not exist".into(),
    })?;
    let test_selection = match &target_spec.test_service {
        Some(test) => {
            let selector = read_selector(&services, namespace, test, "spec.target.testService")
                .await?
                .map(|known| remember(&mut known_services, test, known))
                .ok_or_else(|| ObserveError::Reference {
                    field: "spec.target.testService",
                    what: format!("Service {namespace}/{test}"),
                    problem: "which does not exist".into(),
                })?;
            selection_of(&selector, &target)
        }
        None => None,
    };
    let canary_service = canary_service_name(&target_spec.service);
    let mut route_spec = None;
    let (canary_selection, route_weights) = match &target_spec.http_route {
        Some(route) => {
            let canary = read_selector(&services, namespace, &canary_service, "canary Service")
                .await?
                .map(|known| remember(&mut known_services, &canary_service, known))
                .and_then(|selector| selection_of(&selector, &target));
            let spec = read_route(client, namespace, &route.name)
                .await
                .map_err(|error| route_problem(error, namespace, &route.name))?;
            let weights = route_weights(
                &spec,
                namespace,
                route,
                &[target_spec.service.as_str(), canary_service.as_str()],
            )
            .map_err(|error| route_problem(error, namespace, &route.name))?;
            route_spec = Some(spec);
            let weight_of = |service: &str| {
                weights.first().and_then(|rule| {
                    rule.backends
                        .iter()
                        .find(|backend| backend.service == service)
                        .map(|backend| backend.weight)
                })
            };
            let pair = (
                weight_of(&target_spec.service).unwrap_or(0),
                weight_of(&canary_service).unwrap_or(0),
            );
            (canary, Some(pair))
        }
        None => (None, None),
    };

    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    let owned_jobs: Vec<Job> = jobs
        .list(
            &ListParams::default()
                .labels(&format!("{DEPLOYMENT_LABEL}={}", label_value(&owner.name))),
        )
        .await
        .map_err(api_error(format!(
            "list Jobs of deployments.slipway.dev {namespace}/{}",
            owner.name
        )))?
        .items
        .into_iter()
        .filter(|job| {
            job.owner_references()
                .iter()
                .any(|reference| reference.uid == owner.uid)
        })
        .collect();
    let mut hooks: Vec<HookObservation> = owned_jobs
        .iter()
        .filter(|job| job.labels().get(PURPOSE_LABEL).map(String::as_str) == Some(HOOK_PURPOSE))
        .map(|job| {
            let outcome = hook_runner::hook_job_outcome(job);
            HookObservation {
                child_name: job.name_any(),
                outcome: match outcome.state {
                    crate::api::deployment::LifecycleEventState::Succeeded => {
                        HookOutcome::Succeeded
                    }
                    crate::api::deployment::LifecycleEventState::Failed => {
                        HookOutcome::Failed(outcome.message)
                    }
                    _ => HookOutcome::Running,
                },
            }
        })
        .collect();
    hooks.extend(memory.hooks(&owner.uid));

    let mut health_results = memory.probes(&owner.uid);
    health_results.extend(job_check_results(record, &owner, &status, &owned_jobs));

    let world = ObservedWorld {
        workload: workload.as_ref().map(|workload| UserWorkload {
            replicas: workload
                .spec
                .as_ref()
                .and_then(|spec| spec.replicas)
                .unwrap_or(1),
            ready_replicas: workload
                .status
                .as_ref()
                .and_then(|status| status.ready_replicas)
                .unwrap_or(0),
            template_hash: workload
                .spec
                .as_ref()
                .map(|spec| revision_hash(&spec.template))
                .unwrap_or_default(),
        }),
        new_revision,
        revisions,
        production_selection: selection_of(&production, &target),
        test_selection,
        canary_selection,
        route_weights,
        hooks,
        health_results,
        rollouts_on_target,
    };
    Ok(Observation {
        world,
        workload,
        revision_names,
        target,
        owner,
        route_spec,
        services: known_services,
    })
}

/// A route that cannot be read: missing (a reference problem), unusable, or an API failure.
fn route_problem(error: TrafficApplyError, namespace: &str, route: &str) -> ObserveError {
    match error {
        TrafficApplyError::Api {
            source: kube::Error::Api(status),
            ..
        } if status.code == 404 => ObserveError::Reference {
            field: "spec.target.httpRoute.name",
            what: format!("HTTPRoute {namespace}/{route}"),
            problem: "which does not exist".into(),
        },
        TrafficApplyError::Api { .. } => ObserveError::Traffic(error),
        other => ObserveError::Reference {
            field: "spec.target.httpRoute",
            what: format!("HTTPRoute {namespace}/{route}"),
            problem: other.to_string(),
        },
    }
}

/// The Service's selector and resourceVersion; `None` when the Service does not exist.
async fn read_selector(
    services: &Api<Service>,
    namespace: &str,
    name: &str,
    field: &str,
) -> Result<Option<KnownSelector>, ObserveError> {
    let service = services.get_opt(name).await.map_err(api_error(format!(
        "read Service {namespace}/{name} ({field})"
    )))?;
    Ok(service.map(KnownSelector::of))
}

/// Keeps `known` under `name` for apply and returns its selector.
fn remember(
    services: &mut BTreeMap<String, KnownSelector>,
    name: &str,
    known: KnownSelector,
) -> Selector {
    let selector = known.selector.clone();
    services.insert(name.to_owned(), known);
    selector
}

/// The revision this record rolls out (see the module docs).
fn new_revision(
    record: &DeploymentRecord,
    workload: Option<&AppsDeployment>,
    status: &DeploymentStatus,
) -> Result<NewRevision, String> {
    let template = &record.spec.template;
    let images = revision_images(template).map_err(|error| error.to_string())?;
    let appspec_hooks = match &template.revision.app_spec {
        Some(text) => appspec::rollout_from_revision(text, template)
            .map_err(|error| error.to_string())?
            .hooks
            .into_iter()
            .map(|resolved| (resolved.event, resolved.hook))
            .collect(),
        None => Vec::new(),
    };
    let recorded = status
        .canary_revision
        .as_ref()
        .map(|revision| revision.hash.clone());
    let hash = match (workload, recorded) {
        (_, Some(hash)) => hash,
        (Some(workload), None) => {
            render_revision(workload, &images, 1)
                .map_err(|error| error.to_string())?
                .hash
        }
        // Without the workload decide reports WorkloadNotFound; no revision exists yet.
        (None, None) => String::new(),
    };
    Ok(NewRevision {
        hash,
        images,
        appspec_hooks,
    })
}

/// Results of Job health checks, read from the Jobs of the next few probe numbers.
fn job_check_results(
    record: &DeploymentRecord,
    owner: &JobOwner,
    status: &DeploymentStatus,
    jobs: &[Job],
) -> Vec<ProbeResult> {
    let by_name: BTreeMap<String, &Job> = jobs.iter().map(|job| (job.name_any(), job)).collect();
    let mut results = Vec::new();
    for check in record
        .spec
        .template
        .health_checks
        .iter()
        .filter(|check| check.job.is_some())
    {
        let probes = status
            .health_checks
            .iter()
            .find(|status| status.name == check.name)
            .map_or(0, |status| status.probes);
        for sequence in probes + 1..=probes + 2 {
            let name = job_name(owner, CHECK_PURPOSE, &format!("{}/{sequence}", check.name));
            let Some(job) = by_name.get(&name) else {
                continue;
            };
            let ended = job_end_time(job);
            if let Some(outcome) = check_job_outcome(job, ended) {
                results.push(ProbeResult {
                    check: check.name.clone(),
                    time: outcome.observed_at,
                    healthy: outcome.passed,
                    message: Some(outcome.message),
                });
            }
        }
    }
    results
}

/// When a Job ended: its completion time, else its last condition's transition, else now.
fn job_end_time(job: &Job) -> Time {
    let status = job.status.as_ref();
    status
        .and_then(|status| status.completion_time.clone())
        .or_else(|| {
            status
                .and_then(|status| status.conditions.as_ref())
                .and_then(|conditions| {
                    conditions
                        .iter()
                        .filter(|condition| condition.status == "True")
                        .filter_map(|condition| condition.last_transition_time.clone())
                        .max_by_key(|time| time.0)
                })
        })
        .unwrap_or_else(|| whole_seconds(Timestamp::now()))
}

/// `time` truncated to whole seconds (what `metav1.Time` keeps).
pub fn whole_seconds(time: Timestamp) -> Time {
    Time(Timestamp::from_second(time.as_second()).unwrap_or(time))
}

/// The records in `record`'s namespace on the same target workload (itself included), from
/// `records` (the controller's cache).
pub fn rollouts_on_target<'a>(
    record: &DeploymentRecord,
    records: impl IntoIterator<Item = &'a DeploymentRecord>,
) -> Vec<OtherRollout> {
    let namespace = record.namespace();
    let workload = &record.spec.template.target.workload;
    records
        .into_iter()
        .filter(|other| other.namespace() == namespace)
        .filter(|other| &other.spec.template.target.workload == workload)
        .map(|other| OtherRollout {
            name: other.name_any(),
            creation_time: other
                .metadata
                .creation_timestamp
                .clone()
                .unwrap_or(Time(Timestamp::UNIX_EPOCH)),
            state: match other.status.as_ref().and_then(|status| status.stage) {
                None | Some(RolloutStage::Pending) => OtherRolloutState::Waiting,
                Some(RolloutStage::Done) => OtherRolloutState::Ended,
                Some(_) => OtherRolloutState::Active,
            },
        })
        .collect()
}
