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
//! - **Traffic** ([`observe_traffic`]): what the production, test and canary Services select
//!   and the HTTPRoute's weights; a missing or unusable Service or route becomes an
//!   [`InvalidReference`](crate::rollout::state::InvalidReference) the decision reports.
//! - **Hooks**: Jobs labelled with the record and purpose `hook`, owned by its UID, by name;
//!   HTTP hooks from [`Memory`].
//! - **Probes** ([`probing`]): the health-check probes due now are run, and finished Job checks
//!   read, so this reconcile's decision judges them; with the results kept in [`Memory`] that
//!   a cached status may not show yet.
//! - **Queue**: every record in the namespace whose `spec.target.workload` is the same, from
//!   the controller's cache of records ([`rollouts_on_target`]).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment as AppsDeployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};

use super::memory::Memory;
use super::observe_traffic::{TrafficObservation, observe_traffic};
use super::probing::{self, ProbeScope};
use crate::api::Deployment as DeploymentRecord;
use crate::api::deployment::{DeploymentStatus, LifecycleEventState, RolloutStage};
use crate::rollout::appspec;
use crate::rollout::hook_runner::{self, HOOK_PURPOSE};
use crate::rollout::hooks::{HookObservation, HookOutcome};
use crate::rollout::job_run::{self, JobOwner};
use crate::rollout::revision::{render_revision, revision_hash, revision_images};
use crate::rollout::state::{
    NewRevision, ObservedWorld, OtherRollout, OtherRolloutState, RevisionWorkload, UserWorkload,
};
use crate::rollout::traffic_apply::{HttpRouteSpec, KnownSelector, TrafficApplyError};
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
    /// Reading traffic failed.
    #[error(transparent)]
    Traffic(#[from] TrafficApplyError),
    /// The record lacks a name, namespace or UID, or a Job check could not be started.
    #[error(transparent)]
    Job(#[from] job_run::JobRunError),
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

/// An [`ObserveError::Api`] for `action`.
pub(super) fn api_error(action: String) -> impl FnOnce(kube::Error) -> ObserveError {
    move |source| ObserveError::Api { action, source }
}

/// Reads the world of `record` and runs the probes that are due.
///
/// # Errors
/// [`ObserveError`] on an API failure.
pub async fn observe(
    client: &Client,
    record: &DeploymentRecord,
    memory: &Memory,
    rollouts_on_target: Vec<OtherRollout>,
) -> Result<Observation, ObserveError> {
    let owner = JobOwner::of(record)?;
    let namespace = owner.namespace.as_str();
    let target_spec = &record.spec.template.target;
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
    let (revisions, revision_names) = observe_revisions(
        &deployments,
        namespace,
        &target_spec.workload,
        &target,
        &status,
    )
    .await?;
    let traffic = observe_traffic(client, namespace, target_spec, &target).await?;
    let jobs = owned_jobs(client, &owner).await?;
    let mut hooks = hook_observations(&jobs);
    hooks.extend(memory.hooks(&owner.uid));
    // A missing reference holds the rollout where it is: nothing is judged, so nothing is probed.
    let health_results = if traffic.invalid_references.is_empty() {
        probing::probe(&ProbeScope {
            client,
            record,
            owner: &owner,
            target: &target,
            status: &status,
            jobs: &jobs,
            memory,
            revisions: &revisions,
        })
        .await?
    } else {
        Vec::new()
    };

    let TrafficObservation {
        production_selection,
        test_selection,
        canary_selection,
        route_weights,
        route_spec,
        services,
        invalid_references,
    } = traffic;
    let world = ObservedWorld {
        workload: workload.as_ref().map(user_workload),
        new_revision,
        revisions,
        invalid_references,
        production_selection,
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
        services,
    })
}

/// What the decision needs of the user's workload.
fn user_workload(workload: &AppsDeployment) -> UserWorkload {
    UserWorkload {
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
    }
}

/// The revision workloads of `target` (by labels, matched by the UIDs status records), and
/// their names by hash.
async fn observe_revisions(
    deployments: &Api<AppsDeployment>,
    namespace: &str,
    workload: &str,
    target: &str,
    status: &DeploymentStatus,
) -> Result<(Vec<RevisionWorkload>, BTreeMap<String, String>), ObserveError> {
    let selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{TARGET_LABEL}={target}");
    let listed = deployments
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(api_error(format!(
            "list revision Deployments of {namespace}/{workload}"
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
    let mut names = BTreeMap::new();
    for object in &listed.items {
        let Some(hash) = object.labels().get(REVISION_LABEL) else {
            continue;
        };
        if let Some(uid) = recorded_uids.get(hash.as_str())
            && object.metadata.uid.as_deref() != Some(*uid)
        {
            continue;
        }
        names.insert(hash.clone(), object.name_any());
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
    Ok((revisions, names))
}

/// The record's Jobs (hooks and checks): labelled with it and owned by its UID.
async fn owned_jobs(client: &Client, owner: &JobOwner) -> Result<Vec<Job>, ObserveError> {
    let jobs: Api<Job> = Api::namespaced(client.clone(), &owner.namespace);
    let selector = format!("{DEPLOYMENT_LABEL}={}", label_value(&owner.name));
    Ok(jobs
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(api_error(format!(
            "list Jobs of deployments.slipway.dev {}/{}",
            owner.namespace, owner.name
        )))?
        .items
        .into_iter()
        .filter(|job| {
            job.owner_references()
                .iter()
                .any(|reference| reference.uid == owner.uid)
        })
        .collect())
}

/// How the hook Jobs among `jobs` are doing, by name.
fn hook_observations(jobs: &[Job]) -> Vec<HookObservation> {
    jobs.iter()
        .filter(|job| job.labels().get(PURPOSE_LABEL).map(String::as_str) == Some(HOOK_PURPOSE))
        .map(|job| {
            let outcome = hook_runner::hook_job_outcome(job);
            HookObservation {
                child_name: job.name_any(),
                outcome: match outcome.state {
                    LifecycleEventState::Succeeded => HookOutcome::Succeeded,
                    LifecycleEventState::Failed => HookOutcome::Failed(outcome.message),
                    _ => HookOutcome::Running,
                },
            }
        })
        .collect()
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
