//! The BuildRun controller against the test cluster, through the real kube client: simulated
//! build pods with scripted results, stop, timeouts, fail-fast validation, missing Secrets, a
//! restart in the middle of a build, the bounded history — and one build whose pod really runs
//! the executor (`testcluster.slipway.dev/run: local`). Permanent API failures: [`errors`].

mod errors;
#[path = "../support/mod.rs"]
mod support;

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use slipway::api::buildrun::{BuildPhaseType, BuildStatus};
use slipway::api::{BuildRun, BuildRunSpec};
use slipway::runtime::{BuildOptions, ControllerOptions, Election, LogFormat, run_with_client};
use slipway_testcluster::TestCluster;
use slipway_testcluster::simulate::{PodOutcome, PodScript, RunMode, Simulation, SimulationConfig};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const NAMESPACE: &str = "default";

fn free_address() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound address")
}

/// A running controller that can be stopped (and started again).
struct Controller {
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Controller {
    fn start(cluster: &TestCluster, build: BuildOptions) -> Self {
        Self::start_with(cluster, build, false)
    }

    fn start_with(cluster: &TestCluster, build: BuildOptions, leader_elect: bool) -> Self {
        let options = ControllerOptions {
            http_addr: free_address(),
            webhook_addr: free_address(),
            namespaces: Vec::new(),
            leader_elect,
            leader_election_namespace: leader_elect.then(|| NAMESPACE.to_owned()),
            log_level: "info".into(),
            log_format: LogFormat::Text,
            build,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run_with_client(cluster.client(), options, async {
            let _ = stopped.await;
        }));
        Controller { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the controller stops")
            .expect("no panic")
            .expect("a clean exit");
    }
}

struct Harness {
    cluster: TestCluster,
    simulation: Simulation,
}

async fn harness() -> Harness {
    let cluster = TestCluster::start().await;
    cluster
        .apply_crds_from(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds"))
        .expect("the CRDs apply");
    let simulation = cluster.simulate(SimulationConfig::default());
    Harness {
        cluster,
        simulation,
    }
}

impl Harness {
    fn builds(&self) -> Api<BuildRun> {
        Api::namespaced(self.cluster.client(), NAMESPACE)
    }

    fn jobs(&self) -> Api<Job> {
        Api::namespaced(self.cluster.client(), NAMESPACE)
    }

    /// Scripts the pod of `name`, starts a controller with the default options and creates the
    /// build running the inline `commands`.
    async fn start_build(&self, name: &str, script: PodScript, commands: &str) -> Controller {
        self.script(name, script);
        let controller = Controller::start(&self.cluster, BuildOptions::default());
        self.create(name, inline(commands)).await;
        controller
    }

    async fn create(&self, name: &str, spec: Value) {
        let spec: BuildRunSpec = serde_json::from_value(spec).expect("a valid spec");
        self.builds()
            .create(&PostParams::default(), &BuildRun::new(name, spec))
            .await
            .expect("the BuildRun is created");
    }

    /// Polls the BuildRun until `check` holds on it (20 s at most).
    async fn wait_for(
        &self,
        name: &str,
        what: &str,
        check: impl Fn(&BuildRun) -> bool,
    ) -> BuildRun {
        self.wait_for_within(name, what, Duration::from_secs(20), check)
            .await
    }

    async fn wait_for_within(
        &self,
        name: &str,
        what: &str,
        limit: Duration,
        check: impl Fn(&BuildRun) -> bool,
    ) -> BuildRun {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let current = self.builds().get(name).await.expect("the BuildRun exists");
            if check(&current) {
                return current;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; status: {:#?}",
                current.status
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn wait_for_status(&self, name: &str, status: BuildStatus) -> BuildRun {
        self.wait_for(name, &format!("{status:?}"), |build| {
            build_status(build) == Some(status)
        })
        .await
    }

    async fn wait_for_succeeded_within(&self, name: &str, what: &str, limit: Duration) {
        self.wait_for_within(name, what, limit, |build| {
            build_status(build) == Some(BuildStatus::Succeeded)
        })
        .await;
    }

    /// Waits for the Stalled=True condition.
    async fn wait_for_stalled(&self, name: &str) -> BuildRun {
        self.wait_for(name, "the Stalled condition", |build| {
            build.status.as_ref().is_some_and(|s| {
                s.conditions
                    .iter()
                    .any(|c| c.type_ == "Stalled" && c.status == "True")
            })
        })
        .await
    }

    /// Waits until the buildspec runs (`INSTALL` is the current phase).
    async fn wait_for_install(&self, name: &str) -> BuildRun {
        self.wait_for(name, "the buildspec to run", |build| {
            build.status.as_ref().and_then(|s| s.current_phase) == Some(BuildPhaseType::Install)
        })
        .await
    }

    /// Scripts the pod of the build `name` (its Job is `NAME-build`).
    fn script(&self, name: &str, script: PodScript) {
        self.simulation
            .script(NAMESPACE, &format!("{name}-build"), script);
    }

    async fn create_secret(&self, secret: Value) {
        let secret: Secret = serde_json::from_value(secret).expect("a valid Secret");
        Api::<Secret>::namespaced(self.cluster.client(), NAMESPACE)
            .create(&PostParams::default(), &secret)
            .await
            .expect("the Secret is created");
    }

    async fn has_event(&self, name: &str, reason: &str) -> bool {
        self.event_reasons(name).await.iter().any(|r| r == reason)
    }

    async fn job_count(&self) -> usize {
        self.jobs()
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len()
    }

    async fn event_reasons(&self, name: &str) -> Vec<String> {
        let events: Api<Event> = Api::namespaced(self.cluster.client(), NAMESPACE);
        events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|event| event.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
            .filter_map(|event| event.reason)
            .collect()
    }
}

fn build_status(build: &BuildRun) -> Option<BuildStatus> {
    build.status.as_ref().and_then(|status| status.build_status)
}

fn status_message(build: &BuildRun) -> String {
    build
        .status
        .as_ref()
        .and_then(|status| status.message.clone())
        .expect("a status message")
}

/// Build options whose pods run this crate's executor binary.
fn running_the_executor() -> BuildOptions {
    BuildOptions {
        executor_path: env!("CARGO_BIN_EXE_slipway").to_owned(),
        ..BuildOptions::default()
    }
}

/// A pod that succeeds with a successful build result.
fn succeeding() -> PodScript {
    PodScript::default().termination_message(result_message("SUCCEEDED", None))
}

fn condition<'a>(build: &'a BuildRun, kind: &str) -> (&'a str, &'a str, &'a str) {
    let condition = build
        .status
        .as_ref()
        .and_then(|status| status.conditions.iter().find(|c| c.type_ == kind))
        .unwrap_or_else(|| panic!("no {kind} condition: {:#?}", build.status));
    (&condition.status, &condition.reason, &condition.message)
}

fn phases(build: &BuildRun) -> Vec<BuildPhaseType> {
    build
        .status
        .as_ref()
        .map(|status| status.phases.iter().map(|phase| phase.phase_type).collect())
        .unwrap_or_default()
}

fn inline(commands: &str) -> Value {
    json!({
        "buildspec": {"inline": format!("version: 0.2\nphases:\n  build:\n    commands:\n{commands}")},
        "environment": {"image": "alpine:3.20"}
    })
}

fn result_message(status: &str, message: Option<&str>) -> String {
    let mut result = json!({
        "kind": "slipway.dev/BuildResult", "version": 1, "complete": true, "buildStatus": status,
        "startTime": "2026-11-26T05:00:01Z", "endTime": "2026-11-26T05:00:03Z",
        "phases": [
            {"phaseType": "INSTALL", "phaseStatus": "SUCCEEDED", "startTime": "2026-11-26T05:00:01Z", "endTime": "2026-11-26T05:00:01Z", "durationInSeconds": 0},
            {"phaseType": "BUILD", "phaseStatus": status, "startTime": "2026-11-26T05:00:01Z", "endTime": "2026-11-26T05:00:02Z", "durationInSeconds": 1},
            {"phaseType": "POST_BUILD", "phaseStatus": "SUCCEEDED", "startTime": "2026-11-26T05:00:02Z", "endTime": "2026-11-26T05:00:02Z", "durationInSeconds": 0},
            {"phaseType": "FINALIZING", "phaseStatus": "SUCCEEDED", "startTime": "2026-11-26T05:00:02Z", "endTime": "2026-11-26T05:00:03Z", "durationInSeconds": 1},
            {"phaseType": "COMPLETED", "startTime": "2026-11-26T05:00:03Z"}
        ],
        "exportedVariables": [{"name": "IMAGE_TAG", "value": "v42"}]
    });
    if let Some(message) = message {
        result["message"] = json!(message);
    }
    result.to_string()
}

#[tokio::test]
async fn a_simulated_build_succeeds_with_the_phases_and_variables_of_its_result() {
    let harness = harness().await;
    let controller = harness
        .start_build("ok", succeeding(), "      - echo hi\n")
        .await;
    let build = harness.wait_for_status("ok", BuildStatus::Succeeded).await;
    let status = build.status.as_ref().unwrap();
    assert_eq!(
        phases(&build),
        vec![
            BuildPhaseType::Submitted,
            BuildPhaseType::Queued,
            BuildPhaseType::Provisioning,
            BuildPhaseType::Install,
            BuildPhaseType::Build,
            BuildPhaseType::PostBuild,
            BuildPhaseType::Finalizing,
            BuildPhaseType::Completed
        ]
    );
    assert_eq!(status.current_phase, Some(BuildPhaseType::Completed));
    assert_eq!(status.exported_variables[0].name, "IMAGE_TAG");
    assert_eq!(status.exported_variables[0].value, "v42");
    assert_eq!(status.build_number, Some(1));
    assert_eq!(condition(&build, "Succeeded").0, "True");
    assert_eq!(condition(&build, "Reconciling").0, "False");
    assert_eq!(status.observed_generation, build.metadata.generation);
    let pod = status.pod_name.as_deref().expect("the pod is named");
    assert_eq!(
        status.logs.as_deref(),
        Some(format!("kubectl logs -n default {pod} -c build").as_str())
    );
    assert!(status.completion_time.is_some() && status.duration_in_seconds.is_some());
    assert_eq!(harness.job_count().await, 1);
    let reasons = harness.event_reasons("ok").await;
    assert!(
        reasons.contains(&"Started".to_owned()) && reasons.contains(&"Succeeded".to_owned()),
        "{reasons:?}"
    );
    controller.stop().await;
}

#[tokio::test]
async fn a_failing_command_fails_the_build_with_the_executors_message() {
    let harness = harness().await;
    let controller = harness
        .start_build(
            "bad",
            PodScript::default()
                .outcome(PodOutcome::Fail)
                .exit_code(1)
                .termination_message(result_message(
                    "FAILED",
                    Some("phase BUILD failed: exit status 3"),
                )),
            "      - exit 3\n",
        )
        .await;
    let build = harness.wait_for_status("bad", BuildStatus::Failed).await;
    assert_eq!(
        build.status.as_ref().unwrap().message.as_deref(),
        Some("phase BUILD failed: exit status 3")
    );
    let (succeeded, reason, _) = condition(&build, "Succeeded");
    assert_eq!((succeeded, reason), ("False", "BuildFailed"));
    assert_eq!(condition(&build, "Stalled").0, "True");
    controller.stop().await;
}

#[tokio::test]
async fn an_executor_without_a_result_is_a_fault_with_the_pods_reason() {
    let harness = harness().await;
    let controller = harness
        .start_build(
            "crash",
            PodScript::default()
                .outcome(PodOutcome::Fail)
                .exit_code(137),
            "      - echo hi\n",
        )
        .await;
    let build = harness.wait_for_status("crash", BuildStatus::Fault).await;
    let message = status_message(&build);
    assert!(
        message.contains("without a result: exit code 137"),
        "{message}"
    );
    controller.stop().await;
}

#[tokio::test]
async fn stop_deletes_the_job_and_ends_the_build_stopped() {
    let harness = harness().await;
    let controller = harness
        .start_build(
            "long",
            PodScript::default().complete_after(Duration::from_secs(60)),
            "      - sleep 60\n",
        )
        .await;
    harness.wait_for_install("long").await;
    harness
        .builds()
        .patch(
            "long",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"stop": {"reason": "not needed"}}})),
        )
        .await
        .expect("stop is accepted");
    let build = harness.wait_for_status("long", BuildStatus::Stopped).await;
    assert_eq!(
        build.status.as_ref().unwrap().message.as_deref(),
        Some("stopped: not needed")
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while harness.job_count().await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the Job was not deleted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(harness.has_event("long", "Stopped").await);
    controller.stop().await;
}

#[tokio::test]
async fn a_job_past_its_deadline_times_the_build_out() {
    let harness = harness().await;
    let controller = harness
        .start_build(
            "slow",
            PodScript::default().complete_after(Duration::from_secs(60)),
            "      - sleep 60\n",
        )
        .await;
    harness.wait_for_install("slow").await;
    let job = harness.jobs().get("slow-build").await.unwrap();
    assert_eq!(
        job.spec.as_ref().unwrap().active_deadline_seconds,
        Some(3600),
        "timeoutInMinutes 60"
    );
    // Shorten the deadline (the schema's minimum timeout is five minutes).
    harness
        .jobs()
        .patch(
            "slow-build",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"activeDeadlineSeconds": 1}})),
        )
        .await
        .unwrap();
    let build = harness.wait_for_status("slow", BuildStatus::TimedOut).await;
    let message = status_message(&build);
    assert!(message.contains("timeoutInMinutes (60)"), "{message}");
    assert!(harness.has_event("slow", "TimedOut").await);
    controller.stop().await;
}

#[tokio::test]
async fn an_invalid_inline_buildspec_fails_fast_without_creating_a_job() {
    let harness = harness().await;
    let controller = Controller::start(&harness.cluster, BuildOptions::default());
    harness
        .create(
            "invalid",
            json!({"buildspec": {"inline": "version: 0.2\nphases:\n  build:\n    commands: echo hi\n"},
                   "environment": {"image": "alpine:3.20"}}),
        )
        .await;
    let build = harness
        .wait_for_status("invalid", BuildStatus::Failed)
        .await;
    let message = status_message(&build);
    assert!(message.starts_with("spec.buildspec.inline:4:"), "{message}");
    assert_eq!(condition(&build, "Succeeded").1, "InvalidBuildSpec");
    assert_eq!(harness.job_count().await, 0);
    assert_eq!(
        harness.cluster.requests().count("create", "jobs"),
        0,
        "no Job was ever created"
    );
    assert!(harness.has_event("invalid", "InvalidSpec").await);
    controller.stop().await;
}

#[tokio::test]
async fn a_missing_secret_is_named_in_a_condition_until_it_exists() {
    let harness = harness().await;
    harness.script("private", succeeding());
    let controller = Controller::start(&harness.cluster, BuildOptions::default());
    harness
        .create(
            "private",
            json!({"source": {"git": {"url": "https://git.example.com/a.git", "credentialsSecret": {"name": "git-creds"}}},
                   "environment": {"image": "alpine:3.20"}}),
        )
        .await;
    let build = harness.wait_for_stalled("private").await;
    let (_, reason, message) = condition(&build, "Stalled");
    assert_eq!(reason, "MissingReference");
    assert!(
        message.contains("Secret git-creds (spec.source.git.credentialsSecret)"),
        "{message}"
    );
    assert_eq!(build_status(&build), Some(BuildStatus::InProgress));
    assert_eq!(harness.job_count().await, 0);

    harness
        .create_secret(json!({
            "metadata": {"name": "git-creds"}, "stringData": {"username": "u", "password": "p"}
        }))
        .await;
    harness
        .wait_for_succeeded_within("private", "the build to go on", Duration::from_secs(30))
        .await;
    assert!(
        harness.cluster.requests().count("list", "secrets") == 0,
        "Secrets are never listed"
    );
    controller.stop().await;
}

#[tokio::test]
async fn a_missing_secret_key_is_named_from_the_pods_container_config_error() {
    let harness = harness().await;
    harness.script("keyless", PodScript::default().run(RunMode::Local));
    harness
        .create_secret(json!({"metadata": {"name": "api"}, "stringData": {"other": "x"}}))
        .await;
    let controller = Controller::start(&harness.cluster, running_the_executor());
    let mut spec = inline("      - echo $TOKEN\n");
    spec["environment"]["env"] =
        json!([{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}]);
    harness.create("keyless", spec).await;
    let build = harness.wait_for_stalled("keyless").await;
    let (_, reason, message) = condition(&build, "Stalled");
    assert_eq!(reason, "ContainerCannotStart");
    assert!(
        message.contains("couldn't find key token in Secret default/api"),
        "{message}"
    );
    assert_eq!(build_status(&build), Some(BuildStatus::InProgress));
    assert!(harness.has_event("keyless", "Blocked").await);
    controller.stop().await;
}

#[tokio::test]
async fn a_job_with_the_builds_name_owned_by_someone_else_is_not_adopted() {
    let harness = harness().await;
    let job: Job = serde_json::from_value(json!({
        "metadata": {"name": "taken-build"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "x", "image": "busybox"}]}}}
    }))
    .unwrap();
    harness
        .jobs()
        .create(&PostParams::default(), &job)
        .await
        .unwrap();
    let controller = Controller::start(&harness.cluster, BuildOptions::default());
    harness.create("taken", inline("      - echo hi\n")).await;
    let build = harness.wait_for_stalled("taken").await;
    let (_, reason, message) = condition(&build, "Stalled");
    assert_eq!(reason, "JobNameTaken");
    assert!(message.contains("taken-build"), "{message}");
    assert_eq!(
        harness.job_count().await,
        1,
        "the foreign Job is left alone"
    );
    controller.stop().await;
}

#[tokio::test]
async fn a_controller_restarted_mid_build_keeps_exactly_one_job_and_few_writes() {
    let harness = harness().await;
    let first = harness
        .start_build(
            "restart",
            PodScript::default()
                .complete_after(Duration::from_secs(3))
                .termination_message(result_message("SUCCEEDED", None)),
            "      - echo hi\n",
        )
        .await;
    harness.wait_for_install("restart").await;
    first.stop().await;
    let second = Controller::start(&harness.cluster, BuildOptions::default());
    harness
        .wait_for_status("restart", BuildStatus::Succeeded)
        .await;
    second.stop().await;

    let requests = harness.cluster.requests();
    assert_eq!(
        requests.count("create", "jobs"),
        1,
        "exactly one Job was created"
    );
    assert_eq!(harness.job_count().await, 1);
    let writes = requests.matching(|r| r.is_write() && r.resource != "leases");
    let status_writes = writes
        .iter()
        .filter(|r| r.resource == "buildruns" && r.subresource.as_deref() == Some("status"))
        .count();
    let event_writes = writes.iter().filter(|r| r.resource == "events").count();
    let job_writes = writes.iter().filter(|r| r.resource == "jobs").count();
    eprintln!(
        "API writes for one build across a restart: {} in all (BuildRun create 1, Job {job_writes}, status {status_writes}, events {event_writes})",
        writes.len()
    );
    assert!(status_writes <= 5, "status writes: {status_writes}");
    assert_eq!(job_writes, 1);
}

#[tokio::test]
async fn a_standby_replica_acts_only_once_it_holds_the_lease() {
    let harness = harness().await;
    harness.script("standby", succeeding());
    let other = Election::start(harness.cluster.client(), NAMESPACE, "other-replica")
        .await
        .expect("election starts");
    let mut leads = other.leadership.clone();
    tokio::time::timeout(Duration::from_secs(10), leads.acquired())
        .await
        .expect("the other replica leads");
    drop(leads);
    let controller = Controller::start_with(&harness.cluster, BuildOptions::default(), true);
    harness.create("standby", inline("      - echo hi\n")).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        harness.cluster.requests().count("create", "jobs"),
        0,
        "a standby creates nothing"
    );
    assert!(
        harness
            .builds()
            .get("standby")
            .await
            .unwrap()
            .status
            .is_none(),
        "nor writes status"
    );
    other.release().await;
    harness
        .wait_for_succeeded_within(
            "standby",
            "the new leader to run the build",
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(harness.cluster.requests().count("create", "jobs"), 1);
    controller.stop().await;
}

#[tokio::test]
async fn the_history_keeps_the_newest_finished_builds() {
    let harness = harness().await;
    let options = BuildOptions {
        build_history_limit: 2,
        ..BuildOptions::default()
    };
    let controller = Controller::start(&harness.cluster, options);
    for name in ["h1", "h2", "h3"] {
        harness.script(
            name,
            PodScript::default()
                .complete_after(Duration::from_millis(50))
                .termination_message(result_message("SUCCEEDED", None)),
        );
        harness.create(name, inline("      - echo hi\n")).await;
        harness.wait_for_status(name, BuildStatus::Succeeded).await;
        // Completion times have one-second resolution: keep them apart.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let names: Vec<String> = harness
            .builds()
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|build| build.metadata.name)
            .collect();
        if names == ["h2", "h3"] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "history not pruned: {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let numbers: Vec<i64> = harness
        .builds()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter_map(|build| build.status.as_ref().and_then(|s| s.build_number))
        .collect();
    assert_eq!(
        numbers,
        vec![2, 3],
        "build numbers continue the namespace's sequence"
    );
    controller.stop().await;
}

#[tokio::test]
async fn end_to_end_the_pod_really_runs_the_executor_and_its_result_becomes_status() {
    let harness = harness().await;
    harness.script("e2e", PodScript::default().run(RunMode::Local));
    let controller = Controller::start(&harness.cluster, running_the_executor());
    harness.requests_cleared();
    harness
        .create(
            "e2e",
            json!({
                "buildspec": {"inline": "version: 0.2\nenv:\n  variables:\n    GREETING: hello\n  exported-variables:\n    - GREETING\n    - TAG\nphases:\n  pre_build:\n    commands:\n      - export TAG=build-$CODEBUILD_BUILD_NUMBER\n  build:\n    commands:\n      - echo \"$GREETING from $TAG\"\n"},
                "environment": {"image": "alpine:3.20", "env": [{"name": "GREETING", "value": "hi"}]}
            }),
        )
        .await;
    let build = harness
        .wait_for_within(
            "e2e",
            "the real build to end",
            Duration::from_secs(60),
            |build| slipway::build::controller::decide::is_terminal(build_status(build)),
        )
        .await;
    let status = build.status.as_ref().unwrap();
    assert_eq!(
        build_status(&build),
        Some(BuildStatus::Succeeded),
        "{status:#?}"
    );
    let exported: Vec<(&str, &str)> = status
        .exported_variables
        .iter()
        .map(|variable| (variable.name.as_str(), variable.value.as_str()))
        .collect();
    assert_eq!(
        exported,
        vec![("GREETING", "hi"), ("TAG", "build-1")],
        "the BuildRun's env beats the buildspec's"
    );
    let reported = phases(&build);
    for phase in [
        BuildPhaseType::Submitted,
        BuildPhaseType::Queued,
        BuildPhaseType::Provisioning,
        BuildPhaseType::PreBuild,
        BuildPhaseType::Build,
        BuildPhaseType::Finalizing,
        BuildPhaseType::Completed,
    ] {
        assert!(
            reported.contains(&phase),
            "{phase:?} missing from {reported:?}"
        );
    }
    let pod = status.pod_name.clone().unwrap();
    let log = harness
        .simulation
        .pod_log(NAMESPACE, &pod, Some("build"))
        .unwrap_or_default();
    assert!(log.contains("hi from build-1"), "{log}");
    let writes = harness.cluster.requests().matching(|r| r.is_write());
    eprintln!(
        "API writes for one real build: {} ({:?})",
        writes.len(),
        writes
            .iter()
            .map(|r| format!(
                "{} {}{}",
                r.verb,
                r.resource,
                r.subresource
                    .as_deref()
                    .map(|s| format!("/{s}"))
                    .unwrap_or_default()
            ))
            .collect::<Vec<_>>()
    );
    controller.stop().await;
}

impl Harness {
    fn requests_cleared(&self) {
        self.cluster.requests().clear();
    }
}
