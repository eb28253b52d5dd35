//! The Pipeline and PipelineExecution controllers against the test cluster, through the real
//! kube client, with the BuildRun and rollout controllers running beside them as in production:
//! runs through build, approval and deploy stages, stage locks between runs, control requests,
//! rollbacks and restarts. Each scenario asserts what users see — the run's status and Events,
//! the children it created (exactly one per action attempt), the Service the deploy switched.

mod build_push;
mod cli;
mod control;
#[path = "../support/jenkins.rs"]
mod fake_jenkins;
mod flow;
#[path = "../git_fixture/mod.rs"]
mod git_fixture;
mod jenkins;
mod notify;
mod restart;
mod rollback;
mod source;
#[path = "../support/mod.rs"]
mod support;
mod webhook;

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Service;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use slipway::api::Deployment as Record;
use slipway::api::buildrun::BuildRun;
use slipway::api::execution::{ExecutionStatus, PipelineExecution};
use slipway::api::pipeline::Pipeline;
use slipway::pipeline::children::child_name;
use slipway_testcluster::TestCluster;
use slipway_testcluster::simulate::{PodScript, Simulation};
pub use support::rollout::Controller;
use support::rollout::{application, cluster_with_crds};

pub const NAMESPACE: &str = "default";

/// A test cluster with the CRDs, the simulation, the user's application and a controller.
pub struct Harness {
    pub cluster: TestCluster,
    pub simulation: Simulation,
    pub controller: Option<Controller>,
}

impl Harness {
    pub async fn start() -> Self {
        let mut harness = Self::without_controller().await;
        harness.controller = Some(Controller::start(&harness.cluster));
        harness
    }

    /// The cluster and the application, no controller (a test runs its own).
    pub async fn without_controller() -> Self {
        let (cluster, simulation) = cluster_with_crds().await;
        application(&cluster.client(), NAMESPACE, 2).await;
        Harness {
            cluster,
            simulation,
            controller: None,
        }
    }

    pub fn client(&self) -> kube::Client {
        self.cluster.client()
    }

    pub fn runs(&self) -> Api<PipelineExecution> {
        Api::namespaced(self.client(), NAMESPACE)
    }

    pub fn pipelines(&self) -> Api<Pipeline> {
        Api::namespaced(self.client(), NAMESPACE)
    }

    pub fn builds(&self) -> Api<BuildRun> {
        Api::namespaced(self.client(), NAMESPACE)
    }

    pub fn records(&self) -> Api<Record> {
        Api::namespaced(self.client(), NAMESPACE)
    }

    pub fn jobs(&self) -> Api<Job> {
        Api::namespaced(self.client(), NAMESPACE)
    }

    /// Creates Pipeline `name` with `spec`.
    pub async fn pipeline(&self, name: &str, spec: Value) {
        let pipeline: Pipeline = serde_json::from_value(json!({
            "apiVersion": "slipway.dev/v1alpha1", "kind": "Pipeline",
            "metadata": {"name": name}, "spec": spec
        }))
        .expect("a Pipeline");
        self.pipelines()
            .create(&PostParams::default(), &pipeline)
            .await
            .expect("the Pipeline is created");
    }

    /// Creates Secret `name` with `data` (values base64-encoded here, as `data` holds them).
    pub async fn secret(&self, name: &str, data: &[(&str, &str)]) {
        use base64::Engine;
        let data: serde_json::Map<String, Value> = data
            .iter()
            .map(|(key, value)| {
                (
                    (*key).to_owned(),
                    json!(base64::engine::general_purpose::STANDARD.encode(value)),
                )
            })
            .collect();
        let secret: k8s_openapi::api::core::v1::Secret = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": data
        }))
        .expect("a Secret");
        Api::<k8s_openapi::api::core::v1::Secret>::namespaced(self.client(), NAMESPACE)
            .create(&PostParams::default(), &secret)
            .await
            .expect("the Secret is created");
    }

    /// Waits up to a minute until Pipeline `name`'s status satisfies `done`, and returns it.
    pub async fn wait_pipeline(
        &self,
        name: &str,
        what: &str,
        done: impl Fn(&slipway::api::pipeline::PipelineStatus) -> bool,
    ) -> slipway::api::pipeline::PipelineStatus {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let status = self
                .pipelines()
                .get(name)
                .await
                .expect("read the Pipeline")
                .status;
            if let Some(status) = &status
                && done(status)
            {
                return status.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what} of Pipeline {name}: {status:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A repository served over HTTP with basic authentication (`robot`/`s3cret-token`), and
    /// Secret `git-token` holding those credentials.
    pub async fn git_host(&self) -> (git_fixture::Upstream, git_fixture::GitHttpServer) {
        let upstream = git_fixture::Upstream::create();
        let server = git_fixture::GitHttpServer::start(
            &upstream.project_root(),
            Some(("robot", "s3cret-token")),
        );
        self.secret(
            "git-token",
            &[("username", "robot"), ("password", "s3cret-token")],
        )
        .await;
        (upstream, server)
    }

    /// Starts run `name` of `pipeline` at `commit`.
    pub async fn start_run(&self, pipeline: &str, name: &str, commit: &str) {
        let run: PipelineExecution = serde_json::from_value(json!({
            "apiVersion": "slipway.dev/v1alpha1", "kind": "PipelineExecution",
            "metadata": {"name": name},
            "spec": {"pipelineRef": {"name": pipeline}, "source": {"commitId": commit, "branchName": "main"}}
        }))
        .expect("a PipelineExecution");
        self.runs()
            .create(&PostParams::default(), &run)
            .await
            .expect("the run is created");
    }

    /// Scripts the build pod of `run`'s build action `stage`/`action` (attempt `attempt`).
    pub fn script_build(
        &self,
        run: &str,
        stage: &str,
        action: &str,
        attempt: i32,
        script: PodScript,
    ) {
        let build_run = child_name(run, stage, action, attempt);
        self.simulation.script(
            NAMESPACE,
            &slipway::build::job::job_name(&build_run),
            script,
        );
    }

    /// Waits up to `seconds` until run `name` satisfies `done`, and returns it.
    pub async fn wait_run(
        &self,
        name: &str,
        what: &str,
        seconds: u64,
        done: impl Fn(&PipelineExecution) -> bool,
    ) -> PipelineExecution {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            if let Some(run) = self.runs().get_opt(name).await.expect("read the run")
                && done(&run)
            {
                return run;
            }
            if tokio::time::Instant::now() > deadline {
                let run = self.runs().get_opt(name).await.ok().flatten();
                let records: Vec<_> = self
                    .records()
                    .list(&ListParams::default())
                    .await
                    .map(|list| {
                        list.items
                            .into_iter()
                            .map(|r| (r.metadata.name, r.status.map(|s| (s.phase, s.message))))
                            .collect()
                    })
                    .unwrap_or_default();
                panic!(
                    "timed out waiting for {what} of {name}; status: {:#?}; rollouts: {records:#?}",
                    run.and_then(|r| r.status)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until run `name` is in `phase`.
    pub async fn wait_phase(
        &self,
        name: &str,
        phase: ExecutionStatus,
        seconds: u64,
    ) -> PipelineExecution {
        self.wait_run(name, &format!("phase {phase:?}"), seconds, |run| {
            phase_of(run) == Some(phase)
        })
        .await
    }

    /// Waits until action `stage`/`action` of run `name` is in progress.
    pub async fn wait_action_running(
        &self,
        name: &str,
        stage: &str,
        action: &str,
    ) -> PipelineExecution {
        self.wait_run(name, &format!("{stage}/{action} to run"), 30, |run| {
            action_of(run, stage, action).is_some_and(|a| {
                a.status == Some(slipway::api::execution::ActionExecutionStatus::InProgress)
            })
        })
        .await
    }

    /// Answers approval `stage`/`action` of run `name` (attempt 1).
    pub async fn answer(&self, name: &str, stage: &str, action: &str, result: &str) {
        let patch = json!({"spec": {"control": {"approvals": [
            {"stage": stage, "action": action, "attempt": 1, "result": result, "approvedBy": "jane", "comment": "checked"}
        ]}}});
        self.runs()
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("the answer is written");
    }

    /// The Event reasons recorded on run `name`.
    pub async fn event_reasons(&self, name: &str) -> Vec<String> {
        let events: Api<k8s_openapi::api::events::v1::Event> =
            Api::namespaced(self.client(), NAMESPACE);
        events
            .list(&ListParams::default())
            .await
            .expect("list Events")
            .items
            .into_iter()
            .filter(|event| event.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
            .filter_map(|event| event.reason)
            .collect()
    }

    /// The production Service's selector.
    pub async fn selector(&self) -> std::collections::BTreeMap<String, String> {
        let services: Api<Service> = Api::namespaced(self.client(), NAMESPACE);
        services
            .get("web")
            .await
            .unwrap()
            .spec
            .unwrap()
            .selector
            .unwrap_or_default()
    }
}

pub fn phase_of(run: &PipelineExecution) -> Option<ExecutionStatus> {
    run.status.as_ref().and_then(|status| status.phase)
}

pub fn action_of<'a>(
    run: &'a PipelineExecution,
    stage: &str,
    action: &str,
) -> Option<&'a slipway::api::execution::ActionStatus> {
    run.status
        .as_ref()?
        .stages
        .iter()
        .find(|s| s.name == stage)?
        .actions
        .iter()
        .find(|a| a.name == action)
}

/// A simulated build pod whose executor reports success, exporting `variables` and pushing
/// image `web` at `digest`.
pub fn successful_build(digest: &str, variables: &[(&str, &str)]) -> PodScript {
    let result = json!({
        "kind": "slipway.dev/BuildResult", "version": 1, "complete": true, "buildStatus": "SUCCEEDED",
        "startTime": "2026-12-07T05:00:01Z", "endTime": "2026-12-07T05:00:03Z",
        "phases": [
            {"phaseType": "BUILD", "phaseStatus": "SUCCEEDED", "startTime": "2026-12-07T05:00:01Z", "endTime": "2026-12-07T05:00:02Z", "durationInSeconds": 1},
            {"phaseType": "COMPLETED", "startTime": "2026-12-07T05:00:03Z"}
        ],
        "exportedVariables": variables.iter().map(|(name, value)| json!({"name": name, "value": value})).collect::<Vec<_>>(),
        "images": [{"name": "web", "repository": "registry.test/shop/web", "tags": ["t1"], "digest": digest, "imageURI": format!("registry.test/shop/web@{digest}")}]
    });
    PodScript::default().termination_message(result.to_string())
}

/// A simulated build pod whose executor reports a failed build.
pub fn failing_build() -> PodScript {
    let result = json!({
        "kind": "slipway.dev/BuildResult", "version": 1, "complete": true, "buildStatus": "FAILED",
        "message": "COMMAND_EXECUTION_ERROR: make exited 2",
        "startTime": "2026-12-07T05:00:01Z", "endTime": "2026-12-07T05:00:03Z",
        "phases": [{"phaseType": "BUILD", "phaseStatus": "FAILED", "startTime": "2026-12-07T05:00:01Z", "endTime": "2026-12-07T05:00:02Z", "durationInSeconds": 1}]
    });
    PodScript::default().termination_message(result.to_string())
}

/// Build (image web) → Approve → Deploy (all at once onto Service web).
pub fn web_pipeline(mode: &str) -> Value {
    json!({
        "source": {"git": {"url": "https://git.test/shop/web.git", "branch": "main", "pollInterval": "0s"}},
        "executionMode": mode,
        "stages": [
            {"name": "Build", "actions": [{
                "name": "Image", "namespace": "BuildVariables", "inputArtifacts": ["SourceArtifact"],
                "build": {"buildspec": {"inline": "version: 0.2\nphases:\n  build:\n    commands:\n      - make\n"},
                          "environment": {"image": "busybox"}}
            }]},
            {"name": "Approve", "actions": [{"name": "Release", "approval": {"summary": "ship #{BuildVariables.IMAGE_WEB_TAG}?"}}]},
            {"name": "Deploy", "actions": [{
                "name": "Roll",
                "deploy": {
                    "target": {"service": "web", "workload": "web", "container": "web"},
                    "revision": {"images": [{"container": "web", "image": "#{BuildVariables.IMAGE_WEB_URI}"}]},
                    "strategy": {"allAtOnce": {}, "blueGreen": {"terminationWait": "0s"}}
                }
            }]}
        ]
    })
}
