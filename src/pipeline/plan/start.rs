//! Starting a run: the spec it will execute (the Pipeline's now, or for a rollback run its
//! target's), the checks that can fail it before anything runs, its source revision, its
//! variables and the source artifact.

use std::collections::BTreeMap;

use crate::api::common::ArtifactRecord;
use crate::api::execution::{
    ExecutionStatus, ExecutionType, PipelineExecutionStatus, SourceRevision, StageExecutionStatus,
    StageStatus,
};
use crate::api::pipeline::PipelineSpec;
use crate::pipeline::reasons;
use crate::pipeline::validate::{check_overrides, check_pipeline, source_variable_names};
use crate::pipeline::variables::{PIPELINE_VARIABLES_NAMESPACE, SLIPWAY_NAMESPACE, VariableTable};
use crate::runtime::events::EventIntent;

use super::{Intent, Peer, Planner};

/// The `produced_by` of the source artifact.
pub const SOURCE_PRODUCER: &str = "Source";

impl<'a> Planner<'a> {
    /// Starts the run; false when it cannot start yet (or failed to).
    pub(super) fn start(&mut self) -> bool {
        let Some(pipeline) = &self.observed.pipeline else {
            let message = format!(
                "waiting for Pipeline {:?} in namespace {}: it does not exist (spec.pipelineRef.name); create it or fix the name",
                self.run.spec.pipeline_ref.name, self.run.namespace
            );
            self.block(reasons::PIPELINE_NOT_FOUND, message);
            return false;
        };
        if !self.run.owned_by_pipeline {
            self.intents.push(Intent::AdoptByPipeline {
                name: pipeline.name.clone(),
                uid: pipeline.uid.clone(),
            });
        }
        let target = match self.rollback_target() {
            Ok(target) => target,
            Err(message) => {
                self.fail_before_start(reasons::NO_ROLLBACK_TARGET, message);
                return false;
            }
        };
        let spec = match target {
            Some(target) => match target.status.pipeline_spec.as_deref() {
                Some(spec) => spec.clone(),
                None => {
                    self.fail_before_start(
                        reasons::NO_ROLLBACK_TARGET,
                        format!(
                            "rollback target {} has no recorded spec to redeploy",
                            target.name
                        ),
                    );
                    return false;
                }
            },
            None => pipeline.spec.clone(),
        };
        if let Some(rollback) = &self.run.spec.rollback
            && !spec.stages.iter().any(|stage| stage.name == rollback.stage)
        {
            self.fail_before_start(
                reasons::INVALID_SPEC,
                format!(
                    "spec.rollback.stage: the pipeline has no stage {:?} (it has {})",
                    rollback.stage,
                    stage_names(&spec)
                ),
            );
            return false;
        }
        let mut problems = check_pipeline(&spec);
        problems.extend(check_overrides(&spec, &self.run.spec.variables));
        if let Some(first) = problems.first() {
            let more = match problems.len() {
                1 => String::new(),
                count => format!(" (and {} more problems)", count - 1),
            };
            self.fail_before_start(
                reasons::INVALID_SPEC,
                format!("the pipeline cannot run: {first}{more}"),
            );
            return false;
        }
        let source = match target {
            Some(target) => target.status.source_revision.clone().unwrap_or_default(),
            None => match self.source_revision(&spec) {
                Ok(Some(source)) => source,
                Ok(None) => {
                    self.status.message = Some("resolving the source revision".into());
                    self.requeue_within(std::time::Duration::from_secs(5));
                    return false;
                }
                Err(message) => {
                    self.fail_before_start(reasons::SOURCE_UNAVAILABLE, message);
                    return false;
                }
            },
        };
        let now = self.now();
        let status = &mut self.status;
        status.phase = Some(ExecutionStatus::InProgress);
        status.start_time = Some(now);
        status.pipeline_generation = pipeline.generation;
        status.execution_type = Some(if target.is_some() {
            ExecutionType::Rollback
        } else {
            ExecutionType::Standard
        });
        status.rollback_target = target.map(|target| target.name.clone());
        status.stages = spec
            .stages
            .iter()
            .map(|stage| StageStatus {
                name: stage.name.clone(),
                attempt: 1,
                ..StageStatus::default()
            })
            .collect();
        match target {
            Some(target) => {
                status.variables = target.status.variables.clone();
                status.artifacts = target.status.artifacts.clone();
                let stage = self.run.spec.rollback.as_ref().map(|r| r.stage.clone());
                for entry in &mut status.stages {
                    if Some(&entry.name) != stage.as_ref() {
                        entry.status = Some(StageExecutionStatus::Skipped);
                        entry.message = Some("not part of this rollback run".into());
                    }
                }
            }
            None => {
                status.variables = initial_variables(
                    &spec,
                    &self.run.name,
                    self.run.spec.pipeline_ref.name.as_str(),
                    &self.run.spec.variables,
                    &source,
                );
                status.artifacts = vec![source_artifact(&spec, &source)];
            }
        }
        status
            .variables
            .entry(SLIPWAY_NAMESPACE.to_owned())
            .or_default()
            .insert("PipelineExecutionId".into(), self.run.name.clone());
        status.source_revision = Some(source);
        status.pipeline_spec = Some(Box::new(spec));
        let note = match target {
            Some(target) => format!(
                "rollback run of stage {} to the revision of {}",
                self.run
                    .spec
                    .rollback
                    .as_ref()
                    .map(|r| r.stage.as_str())
                    .unwrap_or_default(),
                target.name
            ),
            None => format!(
                "run started for {}",
                revision_text(self.status.source_revision.as_ref())
            ),
        };
        self.event(EventIntent::normal(reasons::STARTED, note));
        true
    }

    /// A run that waits for a user (the Pipeline is missing): the message, once an Event.
    pub(super) fn block(&mut self, reason: &'static str, message: String) {
        if self.status.message.as_deref() != Some(message.as_str()) {
            self.event(EventIntent::warning(reason, message.clone()));
        }
        self.status.message = Some(message);
        self.blocked = Some(reason);
    }

    /// A run that ends before its first stage.
    pub(super) fn fail_before_start(&mut self, reason: &'static str, message: String) {
        self.status.phase = Some(ExecutionStatus::Failed);
        let now = self.now();
        self.status.start_time.get_or_insert(now);
        self.status.completion_time = Some(self.now());
        self.event(EventIntent::warning(reason, message.clone()));
        self.status.message = Some(message);
        self.failure_reason = Some(reason);
    }

    /// The run whose revision a rollback run redeploys (`None` for a standard run).
    fn rollback_target(&self) -> Result<Option<&'a Peer>, String> {
        let observed: &'a super::Observed = self.observed;
        let Some(rollback) = &self.run.spec.rollback else {
            return Ok(None);
        };
        if let Some(name) = &rollback.target_execution {
            let peer = observed
                .peers
                .iter()
                .find(|peer| &peer.name == name)
                .ok_or_else(|| {
                    format!(
                        "spec.rollback.targetExecution: no run {name:?} of this pipeline exists"
                    )
                })?;
            if peer.stage(&rollback.stage) != Some(StageExecutionStatus::Succeeded) {
                return Err(format!(
                    "spec.rollback.targetExecution: run {name} did not succeed in stage {}; name a run that did",
                    rollback.stage
                ));
            }
            return Ok(Some(peer));
        }
        // The latest success of the stage is what runs now; the one before it is the target.
        let mut successes: Vec<&'a Peer> = observed
            .peers
            .iter()
            .filter(|peer| {
                peer.created < self.run.created
                    && peer.stage(&rollback.stage) == Some(StageExecutionStatus::Succeeded)
            })
            .collect();
        successes.sort_by(|a, b| (a.created, &a.name).cmp(&(b.created, &b.name)));
        successes
            .iter()
            .rev()
            .nth(1)
            .copied()
            .map(Some)
            .ok_or_else(|| {
                format!(
                    "no earlier successful run of stage {} to roll back to (set spec.rollback.targetExecution)",
                    rollback.stage
                )
            })
    }

    /// The run's revision: the spec's commit, or the head observe resolved.
    fn source_revision(&self, spec: &PipelineSpec) -> Result<Option<SourceRevision>, String> {
        let given = self.run.spec.source.clone();
        if let Some(source) = &given
            && (source.commit_id.is_some()
                || source.image_digest.is_some()
                || source.object_version.is_some())
        {
            return Ok(Some(with_repository_name(spec, source.clone())));
        }
        match &self.observed.resolved_source {
            None => Ok(None),
            Some(Ok(resolved)) => {
                let mut source = given.unwrap_or_default();
                source.commit_id = resolved.commit_id.clone().or(source.commit_id);
                source.branch_name = source.branch_name.or_else(|| resolved.branch_name.clone());
                source.image_digest = resolved.image_digest.clone().or(source.image_digest);
                source.image_tag = source.image_tag.or_else(|| resolved.image_tag.clone());
                source.image_uri = resolved.image_uri.clone().or(source.image_uri);
                source.object_version = resolved.object_version.clone().or(source.object_version);
                Ok(Some(with_repository_name(spec, source)))
            }
            Some(Err(message)) => Err(message.clone()),
        }
    }
}

/// Whether observe must resolve the source's head for this run before it starts.
pub fn needs_source_resolution(
    spec: &crate::api::execution::PipelineExecutionSpec,
    status: &PipelineExecutionStatus,
) -> bool {
    if status.phase.is_some() || spec.rollback.is_some() {
        return false;
    }
    !spec.source.as_ref().is_some_and(|source| {
        source.commit_id.is_some()
            || source.image_digest.is_some()
            || source.object_version.is_some()
    })
}

fn with_repository_name(spec: &PipelineSpec, mut source: SourceRevision) -> SourceRevision {
    if source.full_repository_name.is_none()
        && let Some(git) = &spec.source.git
    {
        source.full_repository_name = repository_name(&git.url);
    }
    if source.branch_name.is_none()
        && let Some(git) = &spec.source.git
    {
        source.branch_name = Some(git.branch.clone());
    }
    source
}

/// `owner/repository` of a clone URL (`https://host/owner/repo.git`, `git@host:owner/repo.git`).
pub fn repository_name(url: &str) -> Option<String> {
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map(|(_, path)| path)?,
        None => url.split_once(':').map(|(_, path)| path)?,
    };
    let path = path.trim_matches('/').trim_end_matches(".git");
    (!path.is_empty()).then(|| path.to_owned())
}

/// The variables a run starts with: pipeline variables (defaults, then overrides), built-ins
/// and the source's.
pub fn initial_variables(
    spec: &PipelineSpec,
    execution: &str,
    pipeline: &str,
    overrides: &[crate::api::common::NameValue],
    source: &SourceRevision,
) -> VariableTable {
    let mut table = VariableTable::new();
    let mut variables: BTreeMap<String, String> = spec
        .variables
        .iter()
        .map(|variable| {
            (
                variable.name.clone(),
                variable.default.clone().unwrap_or_default(),
            )
        })
        .collect();
    for value in overrides {
        variables.insert(value.name.clone(), value.value.clone());
    }
    table.insert(PIPELINE_VARIABLES_NAMESPACE.to_owned(), variables);
    table.insert(
        SLIPWAY_NAMESPACE.to_owned(),
        BTreeMap::from([
            ("PipelineExecutionId".to_owned(), execution.to_owned()),
            ("PipelineName".to_owned(), pipeline.to_owned()),
        ]),
    );
    let values = [
        ("CommitId", &source.commit_id),
        ("BranchName", &source.branch_name),
        ("CommitMessage", &source.commit_message),
        ("AuthorDate", &source.author_date),
        ("FullRepositoryName", &source.full_repository_name),
        ("ImageDigest", &source.image_digest),
        ("ImageTag", &source.image_tag),
        ("ImageURI", &source.image_uri),
        ("ObjectVersion", &source.object_version),
    ];
    // Every name of the source's kind is defined (empty when the trigger did not tell), so a
    // reference the spec check accepted never fails at run time.
    let names = source_variable_names(spec);
    table.insert(
        spec.source.namespace.clone(),
        values
            .into_iter()
            .filter(|(name, _)| names.contains(name))
            .map(|(name, value)| (name.to_owned(), value.clone().unwrap_or_default()))
            .collect(),
    );
    table
}

/// The source artifact's record: a git source at its commit (git is content-addressed, so the
/// commit is the digest), an image by digest, an object by version.
pub fn source_artifact(spec: &PipelineSpec, source: &SourceRevision) -> ArtifactRecord {
    let (location, digest) = if let Some(git) = &spec.source.git {
        (
            format!(
                "{}#{}",
                git.url,
                source.commit_id.clone().unwrap_or_default()
            ),
            source.commit_id.clone(),
        )
    } else if let Some(image) = &spec.source.image {
        (
            source
                .image_uri
                .clone()
                .unwrap_or_else(|| format!("{}:{}", image.repository, image.tag)),
            source.image_digest.clone(),
        )
    } else if let Some(object) = &spec.source.object_store {
        (
            format!(
                "{}#{}",
                object.url,
                source.object_version.clone().unwrap_or_default()
            ),
            source.object_version.clone(),
        )
    } else {
        (String::new(), None)
    };
    ArtifactRecord {
        name: spec.source.output_artifact.clone(),
        location,
        digest,
        produced_by: Some(SOURCE_PRODUCER.to_owned()),
    }
}

fn stage_names(spec: &PipelineSpec) -> String {
    spec.stages
        .iter()
        .map(|stage| stage.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A revision for people: a short commit (with branch), an image digest or an object version.
pub fn revision_text(source: Option<&SourceRevision>) -> String {
    let Some(source) = source else {
        return "an unresolved revision".into();
    };
    if let Some(commit) = &source.commit_id {
        let short: String = commit.chars().take(12).collect();
        return match &source.branch_name {
            Some(branch) => format!("commit {short} on {branch}"),
            None => format!("commit {short}"),
        };
    }
    if let Some(digest) = &source.image_digest {
        return format!("image {digest}");
    }
    source.object_version.as_ref().map_or_else(
        || "the source's head".into(),
        |version| format!("object version {version}"),
    )
}
