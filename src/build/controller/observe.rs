//! Observe: load the world of one BuildRun once — its Job (by its deterministic name, matched by
//! owner UID), the Job's pod (by the `slipway.dev/buildrun-uid` label, matched by owner UID), the
//! Secrets and ConfigMaps the spec names (only before the Job exists), and the build number.
//!
//! Reads per reconcile: one GET of the Job, one LIST of pods (when the Job is ours); before the
//! Job exists also one GET per referenced Secret/ConfigMap and, for a new build, one LIST of the
//! namespace's BuildRuns for the build number. Secrets are read by name only (no list or watch);
//! their values never leave this module — only key names (for masking) do.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, ContainerStatus, Pod, Secret};
use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};

use super::decide::{
    ContainerFacts, ContainerState, JobFacts, JobState, PodFacts, World, is_terminal,
};
use super::history::{HistoryEntry, next_build_number};
use crate::api::BuildRun;
use crate::build::job::{RenderFacts, job_name};
use crate::runtime::labels::{BUILDRUN_UID_LABEL, PROJECT_LABEL};

/// Why observing failed (always transient: the API could not be read).
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    /// A read failed.
    #[error("unable to read {what} for BuildRun {namespace}/{name}: {source}")]
    Read {
        /// What was read.
        what: String,
        /// BuildRun namespace.
        namespace: String,
        /// BuildRun name.
        name: String,
        /// The API error.
        source: kube::Error,
    },
}

/// The observed world plus what rendering the Job needs.
pub struct Observation {
    /// The world `decide` reads.
    pub world: World,
    /// Facts for `render_job`.
    pub render: RenderFacts,
    /// The Job object when it is ours.
    pub job: Option<Job>,
}

/// Loads the world of `build_run`.
///
/// # Errors
/// [`ObserveError`] when a read fails.
pub async fn observe(client: &Client, build_run: &BuildRun) -> Result<Observation, ObserveError> {
    let namespace = build_run.namespace().unwrap_or_default();
    let name = build_run.name_any();
    let uid = build_run.uid().unwrap_or_default();
    let read_error = |what: String| {
        let (namespace, name) = (namespace.clone(), name.clone());
        move |source| ObserveError::Read {
            what,
            namespace,
            name,
            source,
        }
    };
    let status = build_run.status.clone().unwrap_or_default();
    let finished = is_terminal(status.build_status);

    let jobs: Api<Job> = Api::namespaced(client.clone(), &namespace);
    let job_name = job_name(&name);
    let found = if finished {
        None
    } else {
        jobs.get_opt(&job_name)
            .await
            .map_err(read_error(format!("Job {job_name}")))?
    };
    let (job_state, job) = match found {
        None => (JobState::Absent, None),
        Some(job) if controller_uid(&job) == Some(uid.as_str()) => {
            (JobState::Owned(job_facts(&job)), Some(job))
        }
        Some(job) => (
            JobState::Foreign {
                name: job_name.clone(),
                owner: job
                    .owner_references()
                    .iter()
                    .find(|owner| owner.controller == Some(true))
                    .map(|owner| format!("{}/{}", owner.kind, owner.name)),
            },
            None,
        ),
    };

    let pod = match &job {
        Some(job) => {
            let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
            let listed = pods
                .list(&ListParams::default().labels(&format!("{BUILDRUN_UID_LABEL}={uid}")))
                .await
                .map_err(read_error("the build pods".to_owned()))?;
            let job_uid = job.uid().unwrap_or_default();
            listed
                .items
                .into_iter()
                .filter(|pod| controller_uid(pod) == Some(job_uid.as_str()))
                .max_by_key(|pod| pod.creation_timestamp().map(|time| time.0))
                .map(|pod| pod_facts(&pod))
        }
        None => None,
    };

    let mut render = RenderFacts::default();
    let mut missing = Vec::new();
    let needs_job = !finished
        && matches!(job_state, JobState::Absent)
        && status.job.is_none()
        && build_run.spec.stop.is_none();
    if needs_job {
        for reference in references(build_run) {
            // The keys of the object when it exists, and where its prefixed names go.
            let (keys, env_names) = match reference.kind {
                ReferenceKind::Secret => {
                    let api: Api<Secret> = Api::namespaced(client.clone(), &namespace);
                    let secret = api
                        .get_opt(&reference.name)
                        .await
                        .map_err(read_error(format!("Secret {}", reference.name)))?;
                    (
                        secret.map(|secret| data_keys(secret.data)),
                        &mut render.secret_env_names,
                    )
                }
                ReferenceKind::ConfigMap => {
                    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
                    let config_map = api
                        .get_opt(&reference.name)
                        .await
                        .map_err(read_error(format!("ConfigMap {}", reference.name)))?;
                    (
                        config_map.map(|config_map| data_keys(config_map.data)),
                        &mut render.config_env_names,
                    )
                }
            };
            if let (Some(keys), Some(prefix)) = (&keys, &reference.env_prefix) {
                env_names.extend(keys.iter().map(|key| format!("{prefix}{key}")));
            }
            let present = keys.is_some();
            if !present && !reference.optional {
                missing.push(format!(
                    "{} {} ({})",
                    reference.kind.name(),
                    reference.name,
                    reference.field
                ));
            }
        }
    }

    let build_number = match (status.build_number, &job) {
        (Some(number), _) => number,
        (None, Some(job)) => build_number_of(job).unwrap_or(1),
        (None, None) if finished => 0,
        (None, None) => {
            let api: Api<BuildRun> = Api::namespaced(client.clone(), &namespace);
            let all = api
                .list(&ListParams::default())
                .await
                .map_err(read_error("the namespace's BuildRuns".to_owned()))?;
            let entries: Vec<HistoryEntry> = all.items.iter().map(history_entry).collect();
            let project = build_run.labels().get(PROJECT_LABEL).map(String::as_str);
            next_build_number(&entries, project)
        }
    };
    render.build_number = build_number;

    Ok(Observation {
        world: World {
            name,
            namespace,
            generation: build_run.metadata.generation,
            created: build_run.creation_timestamp().map(|time| time.0),
            spec: build_run.spec.clone(),
            status,
            build_number,
            job: job_state,
            pod,
            missing,
            now: Timestamp::now(),
        },
        render,
        job,
    })
}

/// The history facts of a listed BuildRun.
pub fn history_entry(build_run: &BuildRun) -> HistoryEntry {
    let status = build_run.status.as_ref();
    HistoryEntry {
        name: build_run.name_any(),
        project: build_run.labels().get(PROJECT_LABEL).cloned(),
        build_number: status.and_then(|status| status.build_number),
        finished: is_terminal(status.and_then(|status| status.build_status)),
        completed: status
            .and_then(|status| status.completion_time.as_ref())
            .map(|time| time.0),
        owned_by_pipeline: build_run
            .owner_references()
            .iter()
            .any(|owner| owner.kind == "PipelineExecution"),
    }
}

/// The keys of a Secret's or ConfigMap's `data` (never its values).
fn data_keys<V>(data: Option<std::collections::BTreeMap<String, V>>) -> Vec<String> {
    data.into_iter().flatten().map(|(key, _)| key).collect()
}

/// The UID in the controller owner reference.
fn controller_uid<K: kube::Resource>(object: &K) -> Option<&str> {
    object
        .meta()
        .owner_references
        .as_deref()?
        .iter()
        .find(|owner| owner.controller == Some(true))
        .map(|owner| owner.uid.as_str())
}

/// What matters of an owned Job.
pub fn job_facts(job: &Job) -> JobFacts {
    let failed = job
        .status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .and_then(|conditions| {
            conditions
                .iter()
                .find(|condition| condition.type_ == "Failed" && condition.status == "True")
        })
        .map(|condition| {
            (
                condition.reason.clone().unwrap_or_default(),
                condition.message.clone().unwrap_or_default(),
                condition.last_transition_time.as_ref().map(|time| time.0),
            )
        });
    JobFacts {
        name: job.name_any(),
        uid: job.uid().unwrap_or_default(),
        created: job.creation_timestamp().map(|time| time.0),
        deleting: job.metadata.deletion_timestamp.is_some(),
        failed,
    }
}

/// What matters of the build pod.
pub fn pod_facts(pod: &Pod) -> PodFacts {
    let status = pod.status.as_ref();
    let unschedulable = status
        .and_then(|status| status.conditions.as_ref())
        .and_then(|conditions| {
            conditions
                .iter()
                .find(|condition| condition.type_ == "PodScheduled" && condition.status == "False")
        })
        .map(|condition| condition.message.clone().unwrap_or_default());
    let spec = pod.spec.as_ref();
    let names = spec
        .map(|spec| {
            spec.init_containers
                .iter()
                .flatten()
                .chain(spec.containers.iter())
                .map(|container| container.name.clone())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let statuses: Vec<&ContainerStatus> = status
        .map(|status| {
            status
                .init_container_statuses
                .iter()
                .flatten()
                .chain(status.container_statuses.iter().flatten())
                .collect()
        })
        .unwrap_or_default();
    let containers = names
        .into_iter()
        .map(|name| {
            let state = statuses
                .iter()
                .find(|status| status.name == name)
                .map_or_else(
                    || ContainerState::Waiting {
                        reason: "ContainerCreating".into(),
                        message: String::new(),
                    },
                    |status| container_state(status),
                );
            ContainerFacts { name, state }
        })
        .collect();
    PodFacts {
        name: pod.name_any(),
        started: status
            .and_then(|status| status.start_time.as_ref())
            .map(|time| time.0),
        unschedulable,
        containers,
    }
}

fn container_state(status: &ContainerStatus) -> ContainerState {
    let state = status.state.as_ref();
    if let Some(terminated) = state.and_then(|state| state.terminated.as_ref()) {
        return ContainerState::Terminated {
            exit_code: terminated.exit_code,
            reason: terminated.reason.clone().unwrap_or_default(),
            message: terminated.message.clone().unwrap_or_default(),
            started: terminated.started_at.as_ref().map(|time| time.0),
            finished: terminated.finished_at.as_ref().map(|time| time.0),
        };
    }
    if let Some(running) = state.and_then(|state| state.running.as_ref()) {
        return ContainerState::Running {
            started: running.started_at.as_ref().map(|time| time.0),
        };
    }
    let waiting = state.and_then(|state| state.waiting.as_ref());
    ContainerState::Waiting {
        reason: waiting
            .and_then(|waiting| waiting.reason.clone())
            .unwrap_or_else(|| "ContainerCreating".into()),
        message: waiting
            .and_then(|waiting| waiting.message.clone())
            .unwrap_or_default(),
    }
}

/// The build number the Job was rendered with.
fn build_number_of(job: &Job) -> Option<i64> {
    job.spec
        .as_ref()?
        .template
        .spec
        .as_ref()?
        .containers
        .iter()
        .flat_map(|container| container.env.iter().flatten())
        .find(|var| var.name == "SLIPWAY_EXECUTOR_BUILD_NUMBER")?
        .value
        .as_deref()?
        .parse()
        .ok()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReferenceKind {
    Secret,
    ConfigMap,
}

impl ReferenceKind {
    fn name(self) -> &'static str {
        match self {
            ReferenceKind::Secret => "Secret",
            ReferenceKind::ConfigMap => "ConfigMap",
        }
    }
}

/// A Secret or ConfigMap the spec names.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Reference {
    kind: ReferenceKind,
    name: String,
    field: String,
    optional: bool,
    /// For `envFrom`: the variable prefix (its keys become variables).
    env_prefix: Option<String>,
}

/// Every Secret and ConfigMap the BuildRun's spec names, with the field naming it.
fn references(build_run: &BuildRun) -> Vec<Reference> {
    let spec = &build_run.spec;
    let environment = &spec.config.environment;
    let mut found = Vec::new();
    let mut add = |kind, name: &str, field: String, optional: bool, env_prefix: Option<String>| {
        found.push(Reference {
            kind,
            name: name.to_owned(),
            field,
            optional,
            env_prefix,
        });
    };
    if let Some(secret) = spec
        .source
        .as_ref()
        .and_then(|source| source.git.as_ref())
        .and_then(|git| git.credentials_secret.as_ref())
    {
        add(
            ReferenceKind::Secret,
            &secret.name,
            "spec.source.git.credentialsSecret".into(),
            false,
            None,
        );
    }
    for (index, image) in spec.config.images.iter().enumerate() {
        if let Some(secret) = &image.credentials_secret {
            add(
                ReferenceKind::Secret,
                &secret.name,
                format!("spec.images[{index}].credentialsSecret"),
                false,
                None,
            );
        }
    }
    if let Some(store) = &spec.config.artifact_store {
        if let Some(secret) = store
            .oci
            .as_ref()
            .and_then(|oci| oci.credentials_secret.as_ref())
        {
            add(
                ReferenceKind::Secret,
                &secret.name,
                "spec.artifactStore.oci.credentialsSecret".into(),
                false,
                None,
            );
        }
        if let Some(secret) = store
            .object_store
            .as_ref()
            .and_then(|o| o.credentials_secret.as_ref())
        {
            add(
                ReferenceKind::Secret,
                &secret.name,
                "spec.artifactStore.objectStore.credentialsSecret".into(),
                false,
                None,
            );
        }
    }
    if let Some(parameters) = &environment.parameters {
        if let Some(name) = &parameters.parameter_store_config_map {
            add(
                ReferenceKind::ConfigMap,
                name,
                "spec.environment.parameters.parameterStoreConfigMap".into(),
                false,
                None,
            );
        }
        if let Some(name) = &parameters.secrets_manager_secret {
            add(
                ReferenceKind::Secret,
                name,
                "spec.environment.parameters.secretsManagerSecret".into(),
                false,
                None,
            );
        }
    }
    for (index, var) in environment.env.iter().enumerate() {
        let Some(from) = &var.value_from else {
            continue;
        };
        if let Some(key) = &from.secret_key_ref {
            add(
                ReferenceKind::Secret,
                &key.name,
                format!("spec.environment.env[{index}].valueFrom.secretKeyRef"),
                key.optional == Some(true),
                None,
            );
        }
        if let Some(key) = &from.config_map_key_ref {
            add(
                ReferenceKind::ConfigMap,
                &key.name,
                format!("spec.environment.env[{index}].valueFrom.configMapKeyRef"),
                key.optional == Some(true),
                None,
            );
        }
    }
    for (index, from) in environment.env_from.iter().enumerate() {
        let prefix = Some(from.prefix.clone().unwrap_or_default());
        if let Some(secret) = &from.secret_ref {
            add(
                ReferenceKind::Secret,
                &secret.name,
                format!("spec.environment.envFrom[{index}].secretRef"),
                secret.optional == Some(true),
                prefix.clone(),
            );
        }
        if let Some(config_map) = &from.config_map_ref {
            add(
                ReferenceKind::ConfigMap,
                &config_map.name,
                format!("spec.environment.envFrom[{index}].configMapRef"),
                config_map.optional == Some(true),
                prefix,
            );
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_secret_and_config_map_the_spec_names_is_checked_with_its_field() {
        let build_run: BuildRun = serde_json::from_value(json!({
            "apiVersion": "slipway.dev/v1alpha1", "kind": "BuildRun", "metadata": {"name": "b"},
            "spec": {
                "source": {"git": {"url": "https://git.example.com/a.git", "credentialsSecret": {"name": "git"}}},
                "environment": {
                    "image": "alpine",
                    "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s1", "key": "k", "optional": true}}},
                            {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "c1", "key": "k"}}}],
                    "envFrom": [{"secretRef": {"name": "bundle"}, "prefix": "X_"}],
                    "parameters": {"parameterStoreConfigMap": "params", "secretsManagerSecret": "secrets"}
                },
                "images": [{"repository": "r/app", "credentialsSecret": {"name": "push"}}],
                "artifactStore": {"objectStore": {"url": "s3://bucket", "credentialsSecret": {"name": "store"}}}
            }
        }))
        .unwrap();
        let found: Vec<(ReferenceKind, String, String, bool, Option<String>)> =
            references(&build_run)
                .into_iter()
                .map(|r| (r.kind, r.name, r.field, r.optional, r.env_prefix))
                .collect();
        use ReferenceKind::{ConfigMap, Secret};
        assert_eq!(
            found,
            vec![
                (
                    Secret,
                    "git".into(),
                    "spec.source.git.credentialsSecret".into(),
                    false,
                    None
                ),
                (
                    Secret,
                    "push".into(),
                    "spec.images[0].credentialsSecret".into(),
                    false,
                    None
                ),
                (
                    Secret,
                    "store".into(),
                    "spec.artifactStore.objectStore.credentialsSecret".into(),
                    false,
                    None
                ),
                (
                    ConfigMap,
                    "params".into(),
                    "spec.environment.parameters.parameterStoreConfigMap".into(),
                    false,
                    None
                ),
                (
                    Secret,
                    "secrets".into(),
                    "spec.environment.parameters.secretsManagerSecret".into(),
                    false,
                    None
                ),
                (
                    Secret,
                    "s1".into(),
                    "spec.environment.env[0].valueFrom.secretKeyRef".into(),
                    true,
                    None
                ),
                (
                    ConfigMap,
                    "c1".into(),
                    "spec.environment.env[1].valueFrom.configMapKeyRef".into(),
                    false,
                    None
                ),
                (
                    Secret,
                    "bundle".into(),
                    "spec.environment.envFrom[0].secretRef".into(),
                    false,
                    Some("X_".into())
                ),
            ]
        );
    }

    #[test]
    fn pod_facts_list_init_containers_before_the_build_container() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "slipway-tools"}], "containers": [{"name": "build"}]},
            "status": {
                "startTime": "2026-11-26T05:00:00Z",
                "initContainerStatuses": [{"name": "slipway-tools", "image": "", "imageID": "", "ready": true, "restartCount": 0,
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": "2026-11-26T05:00:02Z"}}}],
                "containerStatuses": [{"name": "build", "image": "", "imageID": "", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": "CreateContainerConfigError", "message": "couldn't find key k"}}}]
            }
        }))
        .unwrap();
        let facts = pod_facts(&pod);
        assert_eq!(facts.containers[0].name, "slipway-tools");
        assert!(matches!(
            facts.containers[0].state,
            ContainerState::Terminated { exit_code: 0, .. }
        ));
        assert_eq!(
            facts.containers[1].state,
            ContainerState::Waiting {
                reason: "CreateContainerConfigError".into(),
                message: "couldn't find key k".into()
            }
        );
        assert!(facts.started.is_some());
    }
}
