//! The controller's side of Jenkins actions: reading the builds of actions in progress (observe)
//! and triggering new ones (apply), with the credentials Secret each action names.

use std::collections::BTreeMap;

use kube::Client;

use crate::api::execution::ExternalRun;
use crate::pipeline::plan::{JenkinsObservation, JenkinsTrigger, Run};

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
        let _ = (client, run);
        BTreeMap::new()
    }

    /// Triggers `trigger` (or finds its earlier trigger); the queue item or build it started.
    pub async fn trigger(
        &self,
        client: &Client,
        namespace: &str,
        trigger: &JenkinsTrigger,
    ) -> Result<ExternalRun, String> {
        let _ = (client, namespace);
        Err(format!(
            "unable to trigger Jenkins job {}: not available yet",
            trigger.config.job_name
        ))
    }
}
