//! The controller's side of Jenkins actions: following the builds of actions in progress
//! (observe) and triggering new ones (apply), with the credentials Secret each action names.
//!
//! Both go through [`JenkinsClient::poll`]: from an empty record it first looks for an earlier
//! trigger of the same action attempt (by `SLIPWAY_ACTION_ID`) and only then triggers, so a
//! restart between the trigger and the status write does not start a second build. A permanent
//! refusal (credentials, a missing job, undeclared parameters) fails the action with Jenkins'
//! reason; a transient one leaves it in progress to be tried again.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

use crate::api::execution::{ActionExecutionStatus, ExternalRun};
use crate::api::pipeline::JenkinsAction;
use crate::pipeline::children::child_name;
use crate::pipeline::jenkins::{JenkinsClient, JenkinsCredentials, JenkinsJob, NextStep, Progress};
use crate::pipeline::plan::{JenkinsObservation, JenkinsTrigger, Run};
use crate::pipeline::variables::substitute_config;

/// Why a trigger did not happen.
#[derive(Debug, PartialEq, Eq)]
pub struct TriggerFailure {
    /// Whether trying again cannot help.
    pub permanent: bool,
    /// Why, for people.
    pub message: String,
}

/// Talks to the Jenkins servers the runs name.
#[derive(Clone, Default)]
pub struct JenkinsLink;

impl JenkinsLink {
    /// What the Jenkins builds of `run`'s actions in progress show, by action child name.
    pub async fn observe(
        &self,
        client: &Client,
        run: &Run,
    ) -> BTreeMap<String, JenkinsObservation> {
        let mut observed = BTreeMap::new();
        let Some(spec) = run.status.pipeline_spec.as_deref() else {
            return observed;
        };
        for (stage, status) in spec.stages.iter().zip(&run.status.stages) {
            for action in &stage.actions {
                let Some(config) = &action.jenkins else {
                    continue;
                };
                let Some(entry) = status.actions.iter().find(|a| a.name == action.name) else {
                    continue;
                };
                let Some(record) = entry.external_run.clone() else {
                    continue;
                };
                if entry.status != Some(ActionExecutionStatus::InProgress)
                    || (record.queue_url.is_none() && record.build_url.is_none())
                {
                    continue;
                }
                let key = child_name(&run.name, &stage.name, &action.name, entry.attempt);
                let Ok(config) = substitute_config(config, &run.status.variables) else {
                    continue;
                };
                let action_id = format!("{}-{key}", run.uid);
                match poll(client, &run.namespace, &config, &action_id, &record).await {
                    Ok(progress) => {
                        observed.insert(key, observation(progress));
                    }
                    Err(failure) if failure.permanent => {
                        observed.insert(key, JenkinsObservation::Refused(failure.message));
                    }
                    Err(failure) => {
                        tracing::warn!(action = %action.name, "unable to follow the Jenkins build: {}", failure.message)
                    }
                }
            }
        }
        observed
    }

    /// Triggers `trigger` (or finds its earlier trigger); the queue item or build it started.
    ///
    /// # Errors
    /// [`TriggerFailure`], permanent when Jenkins refused for good.
    pub async fn trigger(
        &self,
        client: &Client,
        namespace: &str,
        trigger: &JenkinsTrigger,
    ) -> Result<ExternalRun, TriggerFailure> {
        poll(
            client,
            namespace,
            &trigger.config,
            &trigger.action_id,
            &ExternalRun::default(),
        )
        .await
        .map(|progress| progress.record)
    }
}

fn observation(progress: Progress) -> JenkinsObservation {
    match progress.next {
        NextStep::Finished(outcome) => JenkinsObservation::Ended {
            run: progress.record,
            passed: outcome.succeeded,
            message: outcome.message,
        },
        _ => JenkinsObservation::Running(progress.record),
    }
}

async fn poll(
    client: &Client,
    namespace: &str,
    config: &JenkinsAction,
    action_id: &str,
    record: &ExternalRun,
) -> Result<Progress, TriggerFailure> {
    let credentials = credentials(client, namespace, &config.credentials_secret.name).await?;
    let jenkins = JenkinsClient::new(
        &config.url,
        credentials,
        config.credentials_secret.name.clone(),
    )
    .map_err(|error| TriggerFailure {
        permanent: error.is_permanent(),
        message: error.to_string(),
    })?;
    let parameters: Vec<(String, String)> = config
        .parameters
        .iter()
        .map(|parameter| (parameter.name.clone(), parameter.value.clone()))
        .collect();
    let job = JenkinsJob {
        name: &config.job_name,
        parameters: &parameters,
        action_id,
    };
    jenkins
        .poll(&job, record)
        .await
        .map_err(|error| TriggerFailure {
            permanent: error.is_permanent(),
            message: error.to_string(),
        })
}

/// The `username` and `token` keys of Secret `name`.
async fn credentials(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<JenkinsCredentials, TriggerFailure> {
    let permanent = |message: String| TriggerFailure {
        permanent: true,
        message,
    };
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = api
        .get_opt(name)
        .await
        .map_err(|error| TriggerFailure {
            permanent: false,
            message: format!("unable to read the Jenkins credentials Secret {name}: {error}"),
        })?
        .ok_or_else(|| permanent(format!("the Jenkins credentials Secret {name} does not exist (jenkins.credentialsSecret): create it with keys username and token")))?;
    let data = secret.data.unwrap_or_default();
    let key = |key: &str| {
        data.get(key)
            .and_then(|value| String::from_utf8(value.0.clone()).ok())
            .ok_or_else(|| permanent(format!("the Jenkins credentials Secret {name} has no key {key:?}: add username and token")))
    };
    Ok(JenkinsCredentials {
        username: key("username")?,
        token: key("token")?,
    })
}
