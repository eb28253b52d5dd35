//! Jobs a rollout runs — lifecycle hooks and Job health checks: rendering from the user's
//! `JobSpec`, deterministic names, idempotent creation, and the outcome from the Job's
//! conditions.
//!
//! # Contract
//! - A Job is owned by the `deployments.slipway.dev` record (controller owner reference with
//!   `blockOwnerDeletion`), so deleting the record cleans its hooks and checks up. Unlike a
//!   revision's workload, nothing serving traffic depends on them.
//! - Its name is `<record>-<purpose>-<hash>`, the hash (FNV-1a, as revision hashes) of the
//!   record's UID and a caller's key (event and attempt, check name and probe number), fitted
//!   to 63 characters by [`crate::runtime::names::fit_name`] (the Job controller puts the name
//!   into a label value). The same inputs always
//!   give the same name, so a controller restarted between "create" and "write status" finds the
//!   Job instead of starting a second one ([`ensure_job`]), and a re-created record with the
//!   same name (a new UID) never adopts the old one's Jobs.
//! - The user's `JobSpec` is kept, with: `activeDeadlineSeconds` at most the timeout (a hook
//!   or check cannot outlive its bound), `backoffLimit` 0 when unset (a hook is one invocation,
//!   as CodeDeploy's Lambda hook; Kubernetes would retry 6 times), the pod template's
//!   `restartPolicy` `Never` when unset (a Job refuses `Always`), and extra environment
//!   variables set on every container and init container (replacing same-named ones).
//!
//! # Outcome
//! [`job_outcome`] reads the conditions: `Complete` or `SuccessCriteriaMet` true → succeeded;
//! `Failed` or `FailureTarget` true → failed with the condition's reason and message (e.g.
//! `DeadlineExceeded: Job was active longer than specified deadline`); otherwise running. The
//! interim conditions (Kubernetes 1.31+) are final already — the Job controller only waits for
//! pods to terminate before the terminal one — so a rollout does not wait for that.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::EnvVar;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, PostParams};

use crate::api::Deployment as DeploymentRecord;
use crate::api::common::{GROUP, VERSION};
use crate::runtime::error_policy::{ErrorClass, classify_kube, remedy_for_kube};
use crate::runtime::labels::{DEPLOYMENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, PURPOSE_LABEL};
use crate::runtime::names::{LABEL_VALUE_MAX, fit_name, label_value, short_hash};

/// The record that owns a Job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobOwner {
    /// The record's name.
    pub name: String,
    /// The record's namespace.
    pub namespace: String,
    /// The record's UID.
    pub uid: String,
}

impl JobOwner {
    /// The owner for `record`, which must have been read from the API (name, namespace, UID).
    ///
    /// # Errors
    /// [`JobRunError::OwnerWithoutIdentity`] for a record that lacks one of them.
    pub fn of(record: &DeploymentRecord) -> Result<Self, JobRunError> {
        let metadata = &record.metadata;
        match (&metadata.name, &metadata.namespace, &metadata.uid) {
            (Some(name), Some(namespace), Some(uid)) => Ok(Self {
                name: name.clone(),
                namespace: namespace.clone(),
                uid: uid.clone(),
            }),
            _ => Err(JobRunError::OwnerWithoutIdentity),
        }
    }

    /// The controller owner reference to the record.
    pub fn owner_reference(&self) -> OwnerReference {
        OwnerReference {
            api_version: format!("{GROUP}/{VERSION}"),
            kind: "Deployment".into(),
            name: self.name.clone(),
            uid: self.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }
}

/// What to render.
#[derive(Clone, Debug, PartialEq)]
pub struct JobRequest<'a> {
    /// The owning record.
    pub owner: &'a JobOwner,
    /// `hook` or `health-check` (name part and label).
    pub purpose: &'a str,
    /// What makes the name unique for this owner (event and attempt, check and probe number).
    pub key: &'a str,
    /// The user's Job spec.
    pub spec: &'a JobSpec,
    /// Environment set on every container.
    pub env: Vec<(String, String)>,
    /// Bound on the Job's run time.
    pub timeout: Duration,
}

/// Why a Job could not be started or read.
#[derive(Debug, thiserror::Error)]
pub enum JobRunError {
    /// The record has no name, namespace or UID (it was not read from the API).
    #[error(
        "unable to own a Job: the deployments.slipway.dev record has no name, namespace or uid"
    )]
    OwnerWithoutIdentity,
    /// An API call failed.
    #[error("unable to {action}: {source}")]
    Api {
        /// What was attempted, naming the Job.
        action: String,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
    /// A Job of that name exists but belongs to something else.
    #[error(
        "unable to start Job {namespace}/{name}: a Job of that name exists and is not owned by deployments.slipway.dev {owner}"
    )]
    NameTaken {
        /// Namespace.
        namespace: String,
        /// The Job's name.
        name: String,
        /// The record's name.
        owner: String,
    },
}

impl JobRunError {
    /// Whether retrying can help: API failures by their code; a record without identity or a
    /// Job name taken by something else waits for a user.
    pub fn class(&self) -> ErrorClass {
        match self {
            JobRunError::Api { source, .. } => classify_kube(source),
            JobRunError::OwnerWithoutIdentity | JobRunError::NameTaken { .. } => {
                ErrorClass::Permanent
            }
        }
    }

    /// What a user can do about it when it is permanent.
    pub fn remedy(&self) -> &'static str {
        match self {
            JobRunError::Api { source, .. } => remedy_for_kube(source),
            JobRunError::OwnerWithoutIdentity => {
                "create the record through the API (it needs a name, namespace and uid)"
            }
            JobRunError::NameTaken { .. } => {
                "delete or rename the Job that holds the name, then change the record to retry"
            }
        }
    }
}

/// A Job's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// Not finished.
    Running,
    /// Succeeded (exit 0).
    Succeeded {
        /// The condition's reason and message.
        message: String,
    },
    /// Failed (non-zero exit past the back-off limit, deadline exceeded, …).
    Failed {
        /// The condition's reason and message.
        message: String,
    },
}

/// The deterministic name of a Job for `owner`, `purpose` and `key`.
pub fn job_name(owner: &JobOwner, purpose: &str, key: &str) -> String {
    let digest = short_hash(format!("{}/{purpose}/{key}", owner.uid).as_bytes());
    // The Job controller puts the name into the pods' `job-name` label: fit a label value.
    fit_name(
        &owner.name,
        &format!("-{purpose}-{digest}"),
        LABEL_VALUE_MAX,
    )
}

/// Renders the Job (see the module docs for what is changed in the user's spec).
pub fn render_job(request: &JobRequest<'_>) -> Job {
    let mut spec = request.spec.clone();
    let deadline = i64::try_from(request.timeout.as_secs().max(1)).unwrap_or(i64::MAX);
    spec.active_deadline_seconds = Some(
        spec.active_deadline_seconds
            .map_or(deadline, |own| own.min(deadline)),
    );
    spec.backoff_limit.get_or_insert(0);
    if let Some(pod) = spec.template.spec.as_mut() {
        pod.restart_policy.get_or_insert_with(|| "Never".into());
        for container in pod
            .containers
            .iter_mut()
            .chain(pod.init_containers.iter_mut().flatten())
        {
            let env = container.env.get_or_insert_with(Vec::new);
            for (name, value) in &request.env {
                env.retain(|existing| &existing.name != name);
                env.push(EnvVar {
                    name: name.clone(),
                    value: Some(value.clone()),
                    value_from: None,
                });
            }
        }
    }
    let labels = BTreeMap::from([
        (
            DEPLOYMENT_LABEL.to_owned(),
            label_value(&request.owner.name),
        ),
        (PURPOSE_LABEL.to_owned(), request.purpose.to_owned()),
        (MANAGED_BY_LABEL.to_owned(), MANAGED_BY_VALUE.to_owned()),
    ]);
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(request.owner, request.purpose, request.key)),
            namespace: Some(request.owner.namespace.clone()),
            labels: Some(labels),
            owner_references: Some(vec![request.owner.owner_reference()]),
            ..ObjectMeta::default()
        },
        spec: Some(spec),
        status: None,
    }
}

/// Creates `job`, or returns the existing Job of that name when `owner` owns it (a restart
/// between create and status write).
///
/// # Errors
/// [`JobRunError::Api`], [`JobRunError::NameTaken`].
pub async fn ensure_job(
    client: &kube::Client,
    owner: &JobOwner,
    job: &Job,
) -> Result<Job, JobRunError> {
    let namespace = owner.namespace.as_str();
    let name = job.metadata.name.clone().unwrap_or_default();
    let api: Api<Job> = Api::namespaced(client.clone(), namespace);
    match api.create(&PostParams::default(), job).await {
        Ok(created) => Ok(created),
        Err(kube::Error::Api(status)) if status.is_already_exists() => {
            let existing = api.get(&name).await.map_err(|source| JobRunError::Api {
                action: format!("read Job {namespace}/{name}"),
                source,
            })?;
            let ours = existing
                .metadata
                .owner_references
                .iter()
                .flatten()
                .any(|reference| reference.uid == owner.uid);
            if ours {
                Ok(existing)
            } else {
                Err(JobRunError::NameTaken {
                    namespace: namespace.to_owned(),
                    name,
                    owner: owner.name.clone(),
                })
            }
        }
        Err(source) => Err(JobRunError::Api {
            action: format!("create Job {namespace}/{name}"),
            source,
        }),
    }
}

/// Reads a Job by name (for observe); `None` when it does not exist.
///
/// # Errors
/// [`JobRunError::Api`].
pub async fn read_job(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Option<Job>, JobRunError> {
    let api: Api<Job> = Api::namespaced(client.clone(), namespace);
    api.get_opt(name).await.map_err(|source| JobRunError::Api {
        action: format!("read Job {namespace}/{name}"),
        source,
    })
}

/// The outcome of a Job from its conditions.
pub fn job_outcome(job: &Job) -> JobOutcome {
    let conditions = job
        .status
        .as_ref()
        .and_then(|status| status.conditions.as_ref());
    let find = |kinds: &[&str]| {
        conditions.into_iter().flatten().find(|condition| {
            condition.status == "True" && kinds.contains(&condition.type_.as_str())
        })
    };
    let describe = |condition: &k8s_openapi::api::batch::v1::JobCondition| match (
        condition.reason.as_deref(),
        condition.message.as_deref(),
    ) {
        (Some(reason), Some(message)) if !message.is_empty() => format!("{reason}: {message}"),
        (Some(reason), _) => reason.to_owned(),
        (None, Some(message)) => message.to_owned(),
        (None, None) => condition.type_.clone(),
    };
    if let Some(condition) = find(&["Failed", "FailureTarget"]) {
        return JobOutcome::Failed {
            message: describe(condition),
        };
    }
    if let Some(condition) = find(&["Complete", "SuccessCriteriaMet"]) {
        return JobOutcome::Succeeded {
            message: describe(condition),
        };
    }
    JobOutcome::Running
}

/// The Job's `activeDeadlineSeconds` when that deadline is what failed it (a `Failed` or
/// `FailureTarget` condition with reason `DeadlineExceeded`): the caller's timeout, reported
/// as one rather than as a generic failure.
pub fn deadline_exceeded(job: &Job) -> Option<i64> {
    let status = job.status.as_ref()?;
    let stopped = status.conditions.iter().flatten().any(|condition| {
        condition.status == "True"
            && matches!(condition.type_.as_str(), "Failed" | "FailureTarget")
            && condition.reason.as_deref() == Some("DeadlineExceeded")
    });
    if !stopped {
        return None;
    }
    job.spec.as_ref()?.active_deadline_seconds
}

#[cfg(test)]
#[path = "job_run_tests.rs"]
mod tests;
