//! Actions inside a stage: which start now (the lowest unfinished `runOrder` group), what each
//! kind creates, and how each kind's child (or answer, or Jenkins build) becomes the action's
//! status and outputs.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};

use crate::api::buildrun::BuildStatus;
use crate::api::common::{ArtifactRecord, ChildReference};
use crate::api::deployment::DeploymentPhase;
use crate::api::execution::{
    ActionExecutionStatus, ActionStatus, ApprovalRecord, ApprovalResult, ExternalRun,
};
use crate::api::pipeline::{Action, Stage};
use crate::pipeline::children::build::{ResolvedInput, render_build_run};
use crate::pipeline::children::deploy::render_deployment;
use crate::pipeline::children::job::{JobInput, output_variables, render_job};
use crate::pipeline::children::{ChildOwner, child_name};
use crate::pipeline::reasons;
use crate::pipeline::validate::action_kind;
use crate::pipeline::variables::{image_variable_prefix, substitute, substitute_config};
use crate::runtime::events::EventIntent;

use super::start::SOURCE_PRODUCER;
use super::{
    Child, ChildFacts, ChildKind, ChildStop, Intent, JenkinsObservation, JenkinsTrigger,
    JobOutcome, Planner,
};

/// How often a Jenkins build is looked at.
const JENKINS_POLL: Duration = Duration::from_secs(5);

/// What a followed action came to this reconcile.
enum Followed {
    /// Still running.
    Running,
    /// Succeeded, with its output variables and artifacts.
    Succeeded(BTreeMap<String, String>, Vec<ArtifactRecord>, String),
    /// Failed, with why.
    Failed(String),
}

impl Planner<'_> {
    /// The owner facts of a child of `stage`/`action` at `attempt`.
    fn owner(&self, stage: &str, action: &str, attempt: i32) -> ChildOwner {
        ChildOwner {
            execution: self.run.name.clone(),
            execution_uid: self.run.uid.clone(),
            namespace: self.run.namespace.clone(),
            pipeline: self.run.spec.pipeline_ref.name.clone(),
            stage: stage.to_owned(),
            action: action.to_owned(),
            attempt,
        }
    }

    /// (any action in flight, any failed or abandoned, all succeeded) in stage `index`.
    pub(super) fn action_tally(&self, index: usize, stage: &Stage) -> (bool, bool, bool) {
        let statuses: Vec<Option<ActionExecutionStatus>> = stage
            .actions
            .iter()
            .map(|action| {
                self.action_status(index, &action.name)
                    .and_then(|status| status.status)
            })
            .collect();
        (
            statuses.contains(&Some(ActionExecutionStatus::InProgress)),
            statuses.iter().any(|status| {
                matches!(
                    status,
                    Some(ActionExecutionStatus::Failed | ActionExecutionStatus::Abandoned)
                )
            }),
            statuses
                .iter()
                .all(|status| *status == Some(ActionExecutionStatus::Succeeded)),
        )
    }

    fn action_status(&self, index: usize, action: &str) -> Option<&ActionStatus> {
        self.status.stages[index]
            .actions
            .iter()
            .find(|status| status.name == action)
    }

    fn action_index(&self, index: usize, action: &str) -> Option<usize> {
        self.status.stages[index]
            .actions
            .iter()
            .position(|status| status.name == action)
    }

    /// `Stage/Action: message` of every failed action of stage `index`.
    pub(super) fn failure_summary(&self, index: usize) -> String {
        let entry = &self.status.stages[index];
        entry
            .actions
            .iter()
            .filter(|action| {
                matches!(
                    action.status,
                    Some(ActionExecutionStatus::Failed | ActionExecutionStatus::Abandoned)
                )
            })
            .map(|action| {
                format!(
                    "action {} {}: {}",
                    action.name,
                    if action.status == Some(ActionExecutionStatus::Abandoned) {
                        "was abandoned"
                    } else {
                        "failed"
                    },
                    action.message.clone().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Starts the not-started actions of the lowest `runOrder` whose actions are not all done.
    pub(super) fn start_next_group(&mut self, index: usize, stage: &Stage) {
        let Some(order) = stage
            .actions
            .iter()
            .filter(|action| {
                self.action_status(index, &action.name)
                    .and_then(|status| status.status)
                    != Some(ActionExecutionStatus::Succeeded)
            })
            .map(|action| action.run_order)
            .min()
        else {
            return;
        };
        for action in stage
            .actions
            .iter()
            .filter(|action| action.run_order == order)
        {
            let not_started = self
                .action_status(index, &action.name)
                .is_none_or(|status| status.status.is_none());
            if not_started {
                self.start_action(index, stage, action);
            }
        }
    }

    /// Starts `action`: renders and asks for its child (or waits for an answer, or triggers Jenkins).
    fn start_action(&mut self, index: usize, stage: &Stage, action: &Action) {
        let attempt = self.status.stages[index].attempt;
        let name = child_name(&self.run.name, &stage.name, &action.name, attempt);
        let now = self.now();
        let Some(slot) = self.action_index(index, &action.name) else {
            return;
        };
        {
            let entry = &mut self.status.stages[index].actions[slot];
            *entry = ActionStatus {
                name: action.name.clone(),
                status: Some(ActionExecutionStatus::InProgress),
                attempt,
                start_time: Some(now),
                ..ActionStatus::default()
            };
        }
        let started = match self.render_action(&stage.name, action, attempt, &name) {
            Ok(Started::Child(child, kind)) => {
                self.status.stages[index].actions[slot].child = Some(ChildReference {
                    api_version: kind.api_version().to_owned(),
                    kind: kind.kind().to_owned(),
                    name: name.clone(),
                    uid: None,
                });
                self.intents.push(Intent::Create(child));
                format!("created {} {name}", kind.kind())
            }
            Ok(Started::Approval {
                external_url,
                summary,
            }) => {
                let entry = &mut self.status.stages[index].actions[slot];
                entry.external_url = external_url;
                entry.message = Some(summary.clone());
                let deadline = action.approval.as_ref().map_or(0, |a| a.timeout_in_minutes);
                self.requeue_within(Duration::from_secs(
                    u64::try_from(deadline).unwrap_or(0) * 60,
                ));
                summary
            }
            Ok(Started::Jenkins(trigger)) => {
                self.intents.push(Intent::TriggerJenkins(trigger));
                self.requeue_within(JENKINS_POLL);
                "triggering the Jenkins job".to_owned()
            }
            Err(message) => {
                self.fail_action(index, slot, format!("{message}; nothing was started"));
                return;
            }
        };
        self.event(EventIntent::normal(
            reasons::ACTION_STARTED,
            format!("action {}/{} started: {started}", stage.name, action.name),
        ));
    }

    fn render_action(
        &self,
        stage: &str,
        action: &Action,
        attempt: i32,
        name: &str,
    ) -> Result<Started, String> {
        let table = &self.status.variables;
        let label = |error: String| format!("action {stage}/{}: {error}", action.name);
        let owner = self.owner(stage, &action.name, attempt);
        match action_kind(action) {
            "build" => {
                let config = substitute_config(action.build.as_ref().ok_or("no build")?, table)
                    .map_err(label)?;
                let input = match action.input_artifacts.first() {
                    Some(artifact) => Some(self.resolve_input(artifact).map_err(label)?),
                    None => None,
                };
                let store = self
                    .snapshot()
                    .and_then(|spec| spec.artifact_store.as_ref());
                let build = render_build_run(&owner, name, config, input.as_ref(), store);
                Ok(Started::Child(
                    Box::new(Child::Build(Box::new(build))),
                    ChildKind::Build,
                ))
            }
            "deploy" => {
                let template = substitute_config(action.deploy.as_ref().ok_or("no deploy")?, table)
                    .map_err(label)?;
                Ok(Started::Child(
                    Box::new(Child::Deploy(Box::new(render_deployment(
                        &owner, name, template,
                    )))),
                    ChildKind::Deploy,
                ))
            }
            "job" => {
                let job = action.job.as_ref().ok_or("no job")?;
                let template = substitute_config(&job.template, table).map_err(label)?;
                let store_credentials = self
                    .snapshot()
                    .and_then(|spec| spec.artifact_store.as_ref())
                    .and_then(|store| {
                        store
                            .oci
                            .as_ref()
                            .and_then(|oci| oci.credentials_secret.clone())
                            .or_else(|| {
                                store
                                    .object_store
                                    .as_ref()
                                    .and_then(|o| o.credentials_secret.clone())
                            })
                    });
                let inputs = action
                    .input_artifacts
                    .iter()
                    .map(|artifact| {
                        Ok(JobInput {
                            name: artifact.clone(),
                            source: self.resolve_input(artifact)?,
                            store_credentials: store_credentials.clone(),
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()
                    .map_err(label)?;
                let job = render_job(&owner, name, template, &inputs, &self.settings.job);
                Ok(Started::Child(
                    Box::new(Child::Job(Box::new(job))),
                    ChildKind::Job,
                ))
            }
            "approval" => {
                let approval = action.approval.as_ref().ok_or("no approval")?;
                let summary = match &approval.summary {
                    Some(summary) => {
                        substitute(summary, table).map_err(|e| label(e.to_string()))?
                    }
                    None => "waiting for approval".to_owned(),
                };
                let external_url = approval
                    .external_url
                    .as_ref()
                    .map(|url| substitute(url, table))
                    .transpose()
                    .map_err(|e| label(e.to_string()))?;
                Ok(Started::Approval {
                    external_url,
                    summary,
                })
            }
            _ => {
                let config = substitute_config(action.jenkins.as_ref().ok_or("no jenkins")?, table)
                    .map_err(label)?;
                Ok(Started::Jenkins(Box::new(JenkinsTrigger {
                    stage: stage.to_owned(),
                    action: action.name.clone(),
                    key: name.to_owned(),
                    action_id: format!("{}-{}", self.run.uid, name),
                    config,
                })))
            }
        }
    }

    /// Where input artifact `name` comes from in this run.
    fn resolve_input(&self, name: &str) -> Result<ResolvedInput, String> {
        let record = self
            .status
            .artifacts
            .iter()
            .find(|record| record.name == name)
            .ok_or_else(|| format!("input artifact {name:?} was not produced in this run"))?;
        if record.produced_by.as_deref() == Some(SOURCE_PRODUCER)
            && let Some(git) = self.snapshot().and_then(|spec| spec.source.git.as_ref())
        {
            let commit = self
                .status
                .source_revision
                .as_ref()
                .and_then(|source| source.commit_id.clone())
                .ok_or_else(|| "the run has no source commit".to_owned())?;
            return Ok(ResolvedInput::Git {
                url: git.url.clone(),
                commit,
                credentials_secret: git.credentials_secret.clone(),
            });
        }
        Ok(ResolvedInput::Stored {
            location: record.location.clone(),
            digest: record.digest.clone(),
        })
    }

    fn fail_action(&mut self, index: usize, slot: usize, message: String) {
        let now = self.now();
        let stage = self.status.stages[index].name.clone();
        let entry = &mut self.status.stages[index].actions[slot];
        entry.status = Some(ActionExecutionStatus::Failed);
        entry.completion_time = Some(now);
        entry.message = Some(message.clone());
        let note = format!("action {stage}/{} failed: {message}", entry.name);
        self.event(EventIntent::warning(reasons::ACTION_FAILED, note));
    }

    /// Brings every in-progress action of stage `index` up to date with what was observed.
    pub(super) fn follow_actions(&mut self, index: usize, stage: &Stage) {
        for action in &stage.actions {
            let Some(slot) = self.action_index(index, &action.name) else {
                continue;
            };
            if self.status.stages[index].actions[slot].status
                != Some(ActionExecutionStatus::InProgress)
            {
                continue;
            }
            let followed = match action_kind(action) {
                "approval" => self.follow_approval(index, slot, stage, action),
                "jenkins" => self.follow_jenkins(index, slot, stage, action),
                _ => self.follow_child(index, slot, stage, action),
            };
            match followed {
                Followed::Running => self.check_timeout(index, slot, action),
                Followed::Failed(message) => self.fail_action(index, slot, message),
                Followed::Succeeded(outputs, artifacts, note) => {
                    self.succeed_action(index, slot, stage, action, outputs, artifacts, note);
                }
            }
        }
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one call site; the pieces are the action's results"
    )]
    fn succeed_action(
        &mut self,
        index: usize,
        slot: usize,
        stage: &Stage,
        action: &Action,
        outputs: BTreeMap<String, String>,
        artifacts: Vec<ArtifactRecord>,
        note: String,
    ) {
        let now = self.now();
        if let Some(namespace) = &action.namespace {
            self.status
                .variables
                .insert(namespace.clone(), outputs.clone());
        }
        for record in artifacts {
            self.status
                .artifacts
                .retain(|existing| existing.name != record.name);
            self.status.artifacts.push(record);
        }
        let entry = &mut self.status.stages[index].actions[slot];
        entry.status = Some(ActionExecutionStatus::Succeeded);
        entry.completion_time = Some(now);
        entry.output_variables = outputs;
        entry.message = (!note.is_empty()).then(|| note.clone());
        self.event(EventIntent::normal(
            reasons::ACTION_SUCCEEDED,
            format!(
                "action {}/{} succeeded{}",
                stage.name,
                action.name,
                if note.is_empty() {
                    String::new()
                } else {
                    format!(": {note}")
                }
            ),
        ));
    }

    fn follow_child(
        &mut self,
        index: usize,
        slot: usize,
        stage: &Stage,
        action: &Action,
    ) -> Followed {
        let entry = &self.status.stages[index].actions[slot];
        let name = child_name(&self.run.name, &stage.name, &action.name, entry.attempt);
        let recorded_uid = entry.child.as_ref().and_then(|child| child.uid.clone());
        let Some(facts) = self.observed.children.get(&name) else {
            if recorded_uid.is_some() {
                return Followed::Failed(format!("its child {name} was deleted before it ended"));
            }
            // Created but not seen yet, or the create was lost: ask again (create-if-absent).
            if let Ok(Started::Child(child, _)) =
                self.render_action(&stage.name, action, entry.attempt, &name)
            {
                self.intents.push(Intent::Create(child));
            }
            return Followed::Running;
        };
        if let ChildFacts::Foreign { owner } = facts {
            return Followed::Failed(format!(
                "an object named {name} already exists and belongs to {}: delete or rename it, then retry the stage",
                owner.clone().unwrap_or_else(|| "no owner".into())
            ));
        }
        let uid = facts.uid().unwrap_or_default().to_owned();
        if recorded_uid
            .as_deref()
            .is_some_and(|recorded| recorded != uid)
        {
            return Followed::Failed(format!(
                "its child {name} was replaced by another object of that name"
            ));
        }
        if let Some(child) = self.status.stages[index].actions[slot].child.as_mut() {
            child.uid = Some(uid);
        }
        match facts {
            ChildFacts::Build(build) => match build.status {
                Some(BuildStatus::Succeeded) => self.build_outputs(stage, action, build),
                Some(
                    status @ (BuildStatus::Failed
                    | BuildStatus::Fault
                    | BuildStatus::TimedOut
                    | BuildStatus::Stopped),
                ) => Followed::Failed(format!(
                    "BuildRun {name} ended {}: {}",
                    serde_json::to_value(status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    build.message.clone().unwrap_or_default()
                )),
                _ => Followed::Running,
            },
            ChildFacts::Deploy(deploy) => match deploy.phase {
                Some(DeploymentPhase::Succeeded) => Followed::Succeeded(
                    BTreeMap::new(),
                    Vec::new(),
                    format!("rollout {name} succeeded"),
                ),
                Some(phase @ (DeploymentPhase::Failed | DeploymentPhase::Stopped)) => {
                    Followed::Failed(format!(
                        "rollout {name} ended {phase:?}: {}",
                        deploy.message.clone().unwrap_or_default()
                    ))
                }
                _ => Followed::Running,
            },
            ChildFacts::Job(job) => match &job.outcome {
                JobOutcome::Running => Followed::Running,
                JobOutcome::Succeeded => {
                    let wanted = action
                        .job
                        .as_ref()
                        .map(|job| job.output_variables.clone())
                        .unwrap_or_default();
                    let outputs = output_variables(
                        job.termination_messages.iter().map(String::as_str),
                        &wanted,
                    );
                    let missing: Vec<&String> = wanted
                        .iter()
                        .filter(|name| !outputs.contains_key(*name))
                        .collect();
                    if missing.is_empty() {
                        Followed::Succeeded(outputs, Vec::new(), format!("Job {name} completed"))
                    } else {
                        Followed::Failed(format!(
                            "Job {name} completed without output variables {}: write NAME=value lines to /dev/termination-log",
                            missing
                                .iter()
                                .map(|name| name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    }
                }
                JobOutcome::Failed(message) => {
                    Followed::Failed(format!("Job {name} failed: {message}"))
                }
            },
            ChildFacts::Foreign { .. } => Followed::Running,
        }
    }

    /// A succeeded build's variables (exported ones and its images') and named artifacts.
    fn build_outputs(&self, stage: &Stage, action: &Action, build: &super::BuildFacts) -> Followed {
        let mut outputs: BTreeMap<String, String> = build
            .exported
            .iter()
            .map(|variable| (variable.name.clone(), variable.value.clone()))
            .collect();
        for image in &build.images {
            let prefix = image_variable_prefix(&image.name);
            if let Some(uri) = &image.image_uri {
                outputs.insert(format!("{prefix}_URI"), uri.clone());
            }
            if let Some(digest) = &image.digest {
                outputs.insert(format!("{prefix}_DIGEST"), digest.clone());
            }
            if let Some(tag) = image.tags.first() {
                outputs.insert(format!("{prefix}_TAG"), tag.clone());
            }
        }
        let producer = format!("{}/{}", stage.name, action.name);
        let mut artifacts = Vec::new();
        for (position, wanted) in action.output_artifacts.iter().enumerate() {
            // The first output is the buildspec's primary artifact; the others are secondary
            // artifacts with that identifier.
            let found = build.artifacts.iter().find(|record| {
                &record.name == wanted || (position == 0 && record.name == "primary")
            });
            match found {
                Some(record) => artifacts.push(ArtifactRecord {
                    name: wanted.clone(),
                    produced_by: Some(producer.clone()),
                    ..record.clone()
                }),
                None => {
                    return Followed::Failed(format!(
                        "the build produced no artifact for outputArtifacts {wanted:?}: {}",
                        if position == 0 {
                            "give the buildspec an `artifacts` section (its primary artifact)"
                                .to_owned()
                        } else {
                            format!(
                                "add a secondary artifact with identifier {wanted} to the buildspec"
                            )
                        }
                    ));
                }
            }
        }
        let images: Vec<String> = build
            .images
            .iter()
            .filter_map(|image| image.image_uri.clone())
            .collect();
        let note = if images.is_empty() {
            String::new()
        } else {
            format!("pushed {}", images.join(", "))
        };
        Followed::Succeeded(outputs, artifacts, note)
    }

    fn follow_approval(
        &mut self,
        index: usize,
        slot: usize,
        stage: &Stage,
        action: &Action,
    ) -> Followed {
        let Some(approval) = &action.approval else {
            return Followed::Running;
        };
        let attempt = self.status.stages[index].attempt;
        let answers = self.run.spec.control.approvals.iter().filter(|answer| {
            answer.stage == stage.name && answer.action == action.name && answer.attempt == attempt
        });
        for answer in answers {
            let by = answer.approved_by.clone();
            if !approval.approvers.is_empty()
                && !by
                    .as_ref()
                    .is_some_and(|by| approval.approvers.contains(by))
            {
                let message = format!(
                    "an answer by {} was not taken: only {} may answer",
                    by.as_deref().unwrap_or("someone unnamed"),
                    approval.approvers.join(", ")
                );
                if self.status.stages[index].actions[slot].message.as_deref()
                    != Some(message.as_str())
                {
                    self.event(EventIntent::warning(
                        reasons::APPROVAL_REFUSED,
                        format!("{}/{}: {message}", stage.name, action.name),
                    ));
                    self.status.stages[index].actions[slot].message = Some(message);
                }
                continue;
            }
            let record = ApprovalRecord {
                result: answer.result,
                approved_by: by.clone(),
                comment: answer.comment.clone(),
            };
            self.status.stages[index].actions[slot].approval = Some(record);
            let who = by.unwrap_or_else(|| "someone".into());
            let comment = answer
                .comment
                .as_ref()
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            let note = match answer.result {
                ApprovalResult::Approved => format!("approved by {who}{comment}"),
                ApprovalResult::Rejected => format!("rejected by {who}{comment}"),
            };
            self.event(EventIntent::normal(
                reasons::APPROVAL_ANSWERED,
                format!("{}/{} {note}", stage.name, action.name),
            ));
            return match answer.result {
                ApprovalResult::Approved => Followed::Succeeded(BTreeMap::new(), Vec::new(), note),
                ApprovalResult::Rejected => Followed::Failed(note),
            };
        }
        let started = self.status.stages[index].actions[slot].start_time.clone();
        if let Some(deadline) = deadline(started.map(|t| t.0), approval.timeout_in_minutes) {
            if deadline <= self.observed.now {
                return Followed::Failed(format!(
                    "no answer within {} minutes",
                    approval.timeout_in_minutes
                ));
            }
            self.requeue_within(until(self.observed.now, deadline));
        }
        Followed::Running
    }

    fn follow_jenkins(
        &mut self,
        index: usize,
        slot: usize,
        stage: &Stage,
        action: &Action,
    ) -> Followed {
        let attempt = self.status.stages[index].actions[slot].attempt;
        let key = child_name(&self.run.name, &stage.name, &action.name, attempt);
        let recorded = self.status.stages[index].actions[slot].external_run.clone();
        let record = |planner: &mut Self, run: &ExternalRun| {
            let entry = &mut planner.status.stages[index].actions[slot];
            entry.external_url = run.build_url.clone().or_else(|| entry.external_url.clone());
            entry.external_run = Some(run.clone());
        };
        match self.observed.jenkins.get(&key) {
            Some(JenkinsObservation::Running(run)) => {
                record(self, run);
                self.requeue_within(JENKINS_POLL);
                Followed::Running
            }
            Some(JenkinsObservation::Ended {
                run,
                passed,
                message,
            }) => {
                record(self, run);
                if *passed {
                    Followed::Succeeded(BTreeMap::new(), Vec::new(), message.clone())
                } else {
                    Followed::Failed(message.clone())
                }
            }
            Some(JenkinsObservation::Refused(message)) => Followed::Failed(message.clone()),
            None => {
                if recorded
                    .as_ref()
                    .is_none_or(|run| run.queue_url.is_none() && run.build_url.is_none())
                    && let Ok(Started::Jenkins(trigger)) =
                        self.render_action(&stage.name, action, attempt, &key)
                {
                    // Not triggered as far as status knows: apply looks for an earlier trigger first.
                    self.intents.push(Intent::TriggerJenkins(trigger));
                }
                self.requeue_within(JENKINS_POLL);
                Followed::Running
            }
        }
    }

    /// Fails a deploy, job or Jenkins action past its `timeoutInMinutes` (stopping its child).
    fn check_timeout(&mut self, index: usize, slot: usize, action: &Action) {
        let Some(minutes) = action.timeout_in_minutes else {
            return;
        };
        let entry = &self.status.stages[index].actions[slot];
        let Some(deadline) = deadline(entry.start_time.clone().map(|t| t.0), minutes) else {
            return;
        };
        if deadline > self.observed.now {
            self.requeue_within(until(self.observed.now, deadline));
            return;
        }
        let reason = format!("timed out after {minutes} minutes");
        if let Some(stop) = self.stop_for(index, slot, &reason) {
            self.intents.push(Intent::Stop(stop));
        }
        self.fail_action(index, slot, reason);
    }

    /// The stop of action `slot`'s child, when it has one that was seen.
    pub(super) fn stop_for(&self, index: usize, slot: usize, reason: &str) -> Option<ChildStop> {
        let child = self.status.stages[index].actions[slot].child.as_ref()?;
        let kind = match child.kind.as_str() {
            "BuildRun" => ChildKind::Build,
            "Deployment" => ChildKind::Deploy,
            "Job" => ChildKind::Job,
            _ => return None,
        };
        let uid = child.uid.clone().or_else(|| {
            self.observed
                .children
                .get(&child.name)
                .and_then(|facts| facts.uid().map(str::to_owned))
        })?;
        Some(ChildStop {
            kind,
            name: child.name.clone(),
            uid,
            reason: reason.to_owned(),
        })
    }
}

/// What starting an action produced.
enum Started {
    Child(Box<Child>, ChildKind),
    Approval {
        external_url: Option<String>,
        summary: String,
    },
    Jenkins(Box<JenkinsTrigger>),
}

fn deadline(start: Option<Timestamp>, minutes: i32) -> Option<Timestamp> {
    start?
        .checked_add(SignedDuration::from_mins(i64::from(minutes)))
        .ok()
}

fn until(now: Timestamp, deadline: Timestamp) -> Duration {
    Duration::try_from(deadline.duration_since(now)).unwrap_or(Duration::ZERO)
}
