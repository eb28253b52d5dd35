//! The planner's tests: a small pure simulation of the cluster (children, stage locks with
//! optimistic concurrency, rule endpoints, Jenkins) that applies each decision's intents the way
//! the controller would, and scenarios over it.

mod control;
mod modes;
mod progress;

use std::collections::BTreeMap;

use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::*;
use crate::api::buildrun::{BuildStatus, ImageResult};
use crate::api::common::{ArtifactRecord, NameValue};
use crate::api::deployment::DeploymentPhase;
use crate::api::execution::{
    ActionExecutionStatus, ApprovalResponse, ApprovalResult, ExecutionStatus, ExternalRun,
    PipelineExecutionSpec, PipelineExecutionStatus, RuleResult, SourceRevision,
    StageExecutionStatus,
};
use crate::api::pipeline::PipelineSpec;
use crate::pipeline::admission::StageLocks;

/// The pipeline most scenarios run: Build (an image) → Test (a Job) → Deploy (the image).
pub const PIPELINE: &str = r##"
source:
  git: {url: "https://git.test/acme/web.git", branch: main}
variables:
  - {name: TITLE, default: Hello}
stages:
  - name: Build
    actions:
      - name: Image
        namespace: BuildVariables
        inputArtifacts: [SourceArtifact]
        outputArtifacts: [BuildArtifact]
        build:
          environment: {image: busybox, env: [{name: TITLE, value: "#{variables.TITLE}"}]}
          images: [{name: web, repository: "127.0.0.1:5000/web"}]
  - name: Test
    actions:
      - name: Smoke
        namespace: TestVariables
        inputArtifacts: [BuildArtifact]
        job:
          template: {template: {spec: {restartPolicy: Never, containers: [{name: t, image: "#{BuildVariables.IMAGE_WEB_URI}"}]}}}
          outputVariables: [RESULT]
  - name: Deploy
    actions:
      - name: Roll
        deploy:
          target: {service: web, workload: web}
          revision:
            images: [{container: web, image: "#{BuildVariables.IMAGE_WEB_URI}"}]
"##;

/// A pipeline spec from YAML.
pub fn pipeline_spec(yaml: &str) -> PipelineSpec {
    serde_saphyr::from_str(yaml).expect("the test pipeline parses")
}

/// One simulated run and the world it sees.
pub struct SimRun {
    pub run: Run,
    pub children: BTreeMap<String, ChildFacts>,
    pub jenkins: BTreeMap<String, JenkinsObservation>,
    pub resolved: Option<Result<SourceRevision, String>>,
}

/// The simulated cluster.
pub struct Sim {
    pub pipeline: LivePipeline,
    /// Bumps on every lock write (the Pipeline's resourceVersion).
    pub version: u64,
    pub runs: Vec<SimRun>,
    pub now: Timestamp,
    pub settings: PlanSettings,
    /// Outcome of I/O rules by rule name (default: pass).
    pub rule_outcomes: BTreeMap<String, bool>,
    /// Every child create the decisions asked for that created something, in order.
    pub created: Vec<String>,
    /// Every create asked for, including repeats.
    pub create_requests: Vec<String>,
    pub stops: Vec<ChildStop>,
    pub events: Vec<(String, crate::runtime::events::EventIntent)>,
    pub rule_evaluations: usize,
    pub jenkins_triggers: usize,
}

impl Sim {
    pub fn new(yaml: &str) -> Self {
        Self::with_spec(pipeline_spec(yaml))
    }

    pub fn with_spec(spec: PipelineSpec) -> Self {
        Sim {
            pipeline: LivePipeline {
                name: "web".into(),
                uid: "pipeline-uid".into(),
                generation: Some(1),
                spec,
                locks: StageLocks::new(),
            },
            version: 1,
            runs: Vec::new(),
            now: Timestamp::from_second(1_800_000_000).unwrap(),
            settings: PlanSettings::default(),
            rule_outcomes: BTreeMap::new(),
            created: Vec::new(),
            create_requests: Vec::new(),
            stops: Vec::new(),
            events: Vec::new(),
            rule_evaluations: 0,
            jenkins_triggers: 0,
        }
    }

    /// Adds a run at commit `commit` (created one second after the previous one).
    pub fn add_run(&mut self, name: &str, commit: &str) {
        self.add_run_with(name, |spec| {
            spec.source = Some(SourceRevision {
                commit_id: Some(commit.into()),
                ..SourceRevision::default()
            });
        });
    }

    pub fn add_run_with(&mut self, name: &str, edit: impl FnOnce(&mut PipelineExecutionSpec)) {
        let mut spec: PipelineExecutionSpec =
            serde_json::from_value(serde_json::json!({"pipelineRef": {"name": "web"}})).unwrap();
        edit(&mut spec);
        let created = self.now + SignedDuration::from_secs(i64::try_from(self.runs.len()).unwrap());
        self.runs.push(SimRun {
            run: Run {
                name: name.into(),
                uid: format!("{name}-uid"),
                namespace: "default".into(),
                created,
                generation: Some(1),
                owned_by_pipeline: true,
                spec,
                status: PipelineExecutionStatus::default(),
            },
            children: BTreeMap::new(),
            jenkins: BTreeMap::new(),
            resolved: None,
        });
    }

    pub fn run(&self, name: &str) -> &SimRun {
        self.runs
            .iter()
            .find(|run| run.run.name == name)
            .unwrap_or_else(|| panic!("no run {name}"))
    }

    pub fn run_mut(&mut self, name: &str) -> &mut SimRun {
        self.runs
            .iter_mut()
            .find(|run| run.run.name == name)
            .unwrap_or_else(|| panic!("no run {name}"))
    }

    pub fn status(&self, name: &str) -> &PipelineExecutionStatus {
        &self.run(name).run.status
    }

    pub fn phase(&self, name: &str) -> Option<ExecutionStatus> {
        self.status(name).phase
    }

    pub fn stage(&self, name: &str, stage: &str) -> Option<StageExecutionStatus> {
        self.status(name)
            .stages
            .iter()
            .find(|s| s.name == stage)
            .and_then(|s| s.status)
    }

    pub fn action(
        &self,
        name: &str,
        stage: &str,
        action: &str,
    ) -> crate::api::execution::ActionStatus {
        self.status(name)
            .stages
            .iter()
            .find(|s| s.name == stage)
            .and_then(|s| s.actions.iter().find(|a| a.name == action))
            .cloned()
            .unwrap_or_else(|| panic!("no action {stage}/{action} in {name}"))
    }

    pub fn observe(&self, name: &str) -> Observed {
        let me = self.run(name);
        Observed {
            pipeline: Some(self.pipeline.clone()),
            peers: self
                .runs
                .iter()
                .filter(|other| other.run.name != name)
                .map(|other| Peer {
                    name: other.run.name.clone(),
                    uid: other.run.uid.clone(),
                    created: other.run.created,
                    rollback: other.run.spec.rollback.is_some(),
                    status: other.run.status.clone(),
                })
                .collect(),
            children: me.children.clone(),
            resolved_source: me.resolved.clone(),
            jenkins: me.jenkins.clone(),
            now: self.now,
        }
    }

    pub fn decide(&self, name: &str) -> Decision {
        decide(&self.run(name).run, &self.observe(name), &self.settings)
    }

    /// Decides for `name` and applies the decision.
    pub fn step(&mut self, name: &str) -> Decision {
        let decision = self.decide(name);
        let version = self.version;
        assert!(
            self.apply(name, decision.clone(), version),
            "a lone decision never conflicts"
        );
        decision
    }

    /// Applies `decision` (decided when the Pipeline was at `version`); false when its lock
    /// write conflicts, in which case nothing of it is applied (as apply stops at a 409).
    pub fn apply(&mut self, name: &str, decision: Decision, version: u64) -> bool {
        let mut status = decision.status;
        for intent in decision.intents {
            match intent {
                Intent::Lock(change) => {
                    if version != self.version {
                        return false;
                    }
                    let holder = crate::pipeline::admission::LockHolder {
                        execution: name.into(),
                        uid: format!("{name}-uid"),
                    };
                    self.pipeline.locks = change.applied_to(&self.pipeline.locks, &holder);
                    self.version += 1;
                }
                Intent::AdoptByPipeline { .. } => self.run_mut(name).run.owned_by_pipeline = true,
                Intent::Create(child) => {
                    let (child_name, facts) = match *child {
                        Child::Build(build) => (
                            build.metadata.name.clone().unwrap(),
                            ChildFacts::Build(BuildFacts::default()),
                        ),
                        Child::Deploy(deploy) => (
                            deploy.metadata.name.clone().unwrap(),
                            ChildFacts::Deploy(DeployFacts::default()),
                        ),
                        Child::Job(job) => (
                            job.metadata.name.clone().unwrap(),
                            ChildFacts::Job(JobFacts::default()),
                        ),
                    };
                    self.create_requests.push(child_name.clone());
                    let children = &mut self.run_mut(name).children;
                    if !children.contains_key(&child_name) {
                        let facts = with_uid(facts, &format!("{child_name}-uid"));
                        children.insert(child_name.clone(), facts);
                        self.created.push(child_name);
                    }
                }
                Intent::Stop(stop) => {
                    if let Some(facts) = self.run_mut(name).children.get_mut(&stop.name) {
                        match facts {
                            ChildFacts::Build(build) => build.stop_requested = true,
                            ChildFacts::Deploy(deploy) => deploy.stop_requested = true,
                            ChildFacts::Job(job) => job.deleting = true,
                            ChildFacts::Foreign { .. } => {}
                        }
                    }
                    self.stops.push(stop);
                }
                Intent::EvaluateRules(evaluation) => {
                    self.rule_evaluations += 1;
                    let results = evaluation
                        .rules
                        .iter()
                        .map(|rule| RuleResult {
                            condition: evaluation.condition,
                            rule: rule.name.clone(),
                            passed: self.rule_outcomes.get(&rule.name).copied().unwrap_or(true),
                            message: Some("simulated".into()),
                            time: None,
                        })
                        .collect();
                    fold_rule_results(
                        &mut status,
                        &evaluation.stage,
                        evaluation.condition,
                        results,
                    );
                }
                Intent::TriggerJenkins(trigger) => {
                    self.jenkins_triggers += 1;
                    let run = ExternalRun {
                        queue_url: Some(format!(
                            "http://jenkins.test/queue/item/{}/",
                            self.jenkins_triggers
                        )),
                        ..ExternalRun::default()
                    };
                    fold_external_run(&mut status, &trigger.stage, &trigger.action, run.clone());
                    self.run_mut(name)
                        .jenkins
                        .insert(trigger.key.clone(), JenkinsObservation::Running(run));
                }
                Intent::CreateRollback(execution) => {
                    let rollback_name = execution.metadata.name.clone().unwrap();
                    if !self.runs.iter().any(|run| run.run.name == rollback_name) {
                        let spec = execution.spec.clone();
                        self.add_run_with(&rollback_name, |target| *target = spec);
                    }
                }
            }
        }
        for event in decision.events {
            self.events.push((name.to_owned(), event));
        }
        self.run_mut(name).run.status = status;
        true
    }

    /// Steps every run until no status changes (at most `rounds` rounds).
    pub fn settle(&mut self) {
        for _ in 0..20 {
            let before: Vec<PipelineExecutionStatus> =
                self.runs.iter().map(|run| run.run.status.clone()).collect();
            let names: Vec<String> = self.runs.iter().map(|run| run.run.name.clone()).collect();
            for name in names {
                self.step(&name);
            }
            let after: Vec<PipelineExecutionStatus> =
                self.runs.iter().map(|run| run.run.status.clone()).collect();
            if before == after {
                return;
            }
        }
        panic!("the simulation did not settle");
    }

    /// The child of `stage`/`action` at `attempt` of run `name`.
    pub fn child(&self, name: &str, stage: &str, action: &str, attempt: i32) -> String {
        crate::pipeline::children::child_name(name, stage, action, attempt)
    }

    pub fn set_child(&mut self, name: &str, child: &str, facts: ChildFacts) {
        let facts = with_uid(facts, &format!("{child}-uid"));
        self.run_mut(name).children.insert(child.to_owned(), facts);
    }

    /// The Build/Image build of run `name` succeeds, pushing image `web` at `digest`.
    pub fn build_succeeds(&mut self, name: &str, attempt: i32, digest: &str) {
        let child = self.child(name, "Build", "Image", attempt);
        self.set_child(
            name,
            &child,
            ChildFacts::Build(BuildFacts {
                status: Some(BuildStatus::Succeeded),
                exported: vec![NameValue {
                    name: "VERSION".into(),
                    value: "1.0".into(),
                }],
                images: vec![ImageResult {
                    name: "web".into(),
                    repository: "127.0.0.1:5000/web".into(),
                    tags: vec!["t1".into()],
                    digest: Some(digest.into()),
                    image_uri: Some(format!("127.0.0.1:5000/web@{digest}")),
                }],
                artifacts: vec![ArtifactRecord {
                    name: "primary".into(),
                    location: format!("oci://127.0.0.1:5000/artifacts@{digest}"),
                    digest: Some(digest.into()),
                    produced_by: None,
                }],
                ..BuildFacts::default()
            }),
        );
    }

    pub fn build_fails(&mut self, name: &str, attempt: i32) {
        let child = self.child(name, "Build", "Image", attempt);
        self.set_child(
            name,
            &child,
            ChildFacts::Build(BuildFacts {
                status: Some(BuildStatus::Failed),
                message: Some("COMMAND_EXECUTION_ERROR: make exited 2".into()),
                ..BuildFacts::default()
            }),
        );
    }

    pub fn job_ends(
        &mut self,
        name: &str,
        stage: &str,
        action: &str,
        attempt: i32,
        outcome: JobOutcome,
        message: &str,
    ) {
        let child = self.child(name, stage, action, attempt);
        self.set_child(
            name,
            &child,
            ChildFacts::Job(JobFacts {
                outcome,
                termination_messages: vec![message.into()],
                ..JobFacts::default()
            }),
        );
    }

    pub fn deploy_ends(
        &mut self,
        name: &str,
        stage: &str,
        action: &str,
        attempt: i32,
        phase: DeploymentPhase,
    ) {
        let child = self.child(name, stage, action, attempt);
        self.set_child(
            name,
            &child,
            ChildFacts::Deploy(DeployFacts {
                phase: Some(phase),
                message: Some(format!("{phase:?}")),
                ..DeployFacts::default()
            }),
        );
    }

    /// Adds run `name` (commit `a…a`) and takes it through a successful Build (image
    /// `sha256:1`) to its Test stage.
    pub fn built(&mut self, name: &str) {
        self.add_run(name, &"a".repeat(40));
        self.step(name);
        self.build_succeeds(name, 1, "sha256:1");
        self.step(name);
    }

    /// [`Sim::built`], then a successful Smoke job: the run stands past its Test stage.
    pub fn tested(&mut self, name: &str) {
        self.built(name);
        self.job_ends(name, "Test", "Smoke", 1, JobOutcome::Succeeded, "RESULT=ok");
        self.step(name);
    }

    /// Runs `name` through Build, Test and Deploy successfully with image `digest`.
    pub fn run_through(&mut self, name: &str, digest: &str) {
        self.step(name);
        self.build_succeeds(name, 1, digest);
        self.step(name);
        self.job_ends(name, "Test", "Smoke", 1, JobOutcome::Succeeded, "RESULT=ok");
        self.step(name);
        self.deploy_ends(name, "Deploy", "Roll", 1, DeploymentPhase::Succeeded);
        self.step(name);
    }

    pub fn answer(
        &mut self,
        name: &str,
        stage: &str,
        action: &str,
        attempt: i32,
        result: ApprovalResult,
        by: &str,
    ) {
        self.run_mut(name)
            .run
            .spec
            .control
            .approvals
            .push(ApprovalResponse {
                stage: stage.into(),
                action: action.into(),
                attempt,
                result,
                comment: Some("looks fine".into()),
                approved_by: Some(by.into()),
            });
        self.run_mut(name).run.generation = Some(self.run(name).run.generation.unwrap_or(1) + 1);
    }

    pub fn advance(&mut self, seconds: i64) {
        self.now += SignedDuration::from_secs(seconds);
    }

    pub fn event_reasons(&self, name: &str) -> Vec<&'static str> {
        self.events
            .iter()
            .filter(|(run, _)| run == name)
            .map(|(_, event)| event.reason)
            .collect()
    }

    /// Who holds each stage now.
    pub fn holders(&self) -> BTreeMap<String, String> {
        self.pipeline
            .locks
            .iter()
            .map(|(stage, holder)| (stage.clone(), holder.execution.clone()))
            .collect()
    }
}

fn with_uid(facts: ChildFacts, uid: &str) -> ChildFacts {
    match facts {
        ChildFacts::Build(mut build) => {
            build.uid = uid.into();
            ChildFacts::Build(build)
        }
        ChildFacts::Deploy(mut deploy) => {
            deploy.uid = uid.into();
            ChildFacts::Deploy(deploy)
        }
        ChildFacts::Job(mut job) => {
            job.uid = uid.into();
            ChildFacts::Job(job)
        }
        foreign @ ChildFacts::Foreign { .. } => foreign,
    }
}

/// The intents of a decision by kind, for assertions.
pub fn intent_kinds(decision: &Decision) -> Vec<&'static str> {
    decision
        .intents
        .iter()
        .map(|intent| match intent {
            Intent::AdoptByPipeline { .. } => "adopt",
            Intent::Lock(_) => "lock",
            Intent::Create(_) => "create",
            Intent::Stop(_) => "stop",
            Intent::TriggerJenkins(_) => "jenkins",
            Intent::EvaluateRules(_) => "rules",
            Intent::CreateRollback(_) => "rollback",
        })
        .collect()
}
