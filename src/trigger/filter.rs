//! The Pipeline's triggers judging a source event, with CodePipeline V2 semantics. Pure: the
//! receiver and the poll call [`judge`] and act on its [`Decision`].
//!
//! # Rules
//! - **Nothing to run**: a ping, an event kind Slipway does not run, a pull request event that is
//!   not opened, updated or closed, a push that deletes its branch or tag, and an event that names
//!   no commit are [`Decision::Ignored`].
//! - **No triggers**: only a push to the source branch (`spec.source.git.branch`) starts a run,
//!   as a CodePipeline V1 source action does.
//! - **Any trigger**: a run starts when one trigger matches; within a trigger, every dimension it
//!   sets must match (branches *and* filePaths).
//! - **Excludes win**: a name matches a filter when it matches one of `includes` (or `includes` is
//!   empty) and none of `excludes`.
//! - **Branches default to the source branch**: a `push` or `pullRequest` trigger without
//!   `branches` matches the source branch only (any branch when the pipeline has no git source).
//!   A pull request's `branches` match its target branch.
//! - **filePaths**: at least one changed file must match. A provider whose payload lists no
//!   changed files (Bitbucket Cloud, pull requests, a poll) never matches a `filePaths` trigger.
//! - **Pull requests**: `events` lists the kinds that run; the run builds the pull request's head
//!   commit with `BranchName` set to its source branch.
//! - **Tags**: a `tag` trigger matches pushed tags by name; the run has `TagName` and no branch.
//! - Globs are `globset` globs where `*` stays within one path segment and `**` crosses them.
//!
//! Every [`Decision::Filtered`] message names the filter that said no
//! (`spec.triggers[0].push.filePaths`), never payload content beyond the names the filter read.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::api::pipeline::{GlobFilter, PipelineSpec, PullRequestEvent, Trigger};
use crate::pipeline::validate::SpecProblem;

use super::event::{EventKind, PullRequestAction, SourceEvent};

/// What a run started by an event builds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRequest {
    /// The commit to build.
    pub commit: String,
    /// `BranchName` of the run: the pushed branch or the pull request's source branch.
    pub branch_name: Option<String>,
    /// `TagName` of the run, for a pushed tag.
    pub tag_name: Option<String>,
    /// The trigger that matched (`None`: the pipeline has no triggers).
    pub trigger_index: Option<usize>,
    /// Why it runs, for the trigger record: `push to main (spec.triggers[0])`.
    pub detail: String,
}

/// What an event does to a pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Start a run.
    Start(RunRequest),
    /// The triggers do not ask for it; the message names the filters that said no.
    Filtered(String),
    /// An event that never runs anything (ping, deletion, unsupported kind).
    Ignored(String),
}

/// Judges `event` against `spec`'s triggers.
pub fn judge(spec: &PipelineSpec, event: &SourceEvent) -> Decision {
    if let Some(reason) = ignored(event) {
        return Decision::Ignored(reason);
    }
    let Some(commit) = event.commit.clone() else {
        return Decision::Ignored(format!(
            "the {} event names no commit: nothing to build",
            event.event_name
        ));
    };
    let source_branch = spec.source.git.as_ref().map(|git| git.branch.as_str());
    if spec.triggers.is_empty() {
        return match &event.kind {
            EventKind::Push { branch, .. } => match source_branch {
                Some(source) if source != branch => Decision::Filtered(format!(
                    "branch {branch} is not the source branch {source} (spec.source.git.branch); add spec.triggers to run on other branches"
                )),
                _ => Decision::Start(RunRequest {
                    commit,
                    branch_name: Some(branch.clone()),
                    tag_name: None,
                    trigger_index: None,
                    detail: format!("push to {branch} (the source branch)"),
                }),
            },
            EventKind::Tag { tag, .. } => Decision::Filtered(format!(
                "tag {tag}: the pipeline has no spec.triggers, so only pushes to its source branch run; add a tag trigger"
            )),
            _ => Decision::Filtered(
                "pull request: the pipeline has no spec.triggers, so only pushes to its source branch run; add a pullRequest trigger"
                    .to_owned(),
            ),
        };
    }
    let mut refusals = Vec::new();
    for (index, trigger) in spec.triggers.iter().enumerate() {
        match trigger_run(trigger, index, source_branch, event, &commit) {
            Ok(request) => return Decision::Start(request),
            Err(refusal) => refusals.push(refusal),
        }
    }
    Decision::Filtered(refusals.join("; "))
}

/// Why an event runs nothing whatever the triggers say.
fn ignored(event: &SourceEvent) -> Option<String> {
    match &event.kind {
        EventKind::Ping => Some("a ping: answered, starts nothing".to_owned()),
        EventKind::Unsupported => Some(format!(
            "event {} starts nothing: pipelines run on pushes, tags and pull requests",
            event.event_name
        )),
        EventKind::Push {
            branch,
            deleted: true,
        } => Some(format!("the push deleted branch {branch}: starts nothing")),
        EventKind::Tag { tag, deleted: true } => {
            Some(format!("the push deleted tag {tag}: starts nothing"))
        }
        EventKind::PullRequest {
            action: PullRequestAction::Other,
            ..
        } => Some(
            "the pull request was not opened, updated or closed (labelled, edited, reviewed…): starts nothing"
                .to_owned(),
        ),
        _ => None,
    }
}

/// The run `trigger` asks for, or the filter that said no.
fn trigger_run(
    trigger: &Trigger,
    index: usize,
    source_branch: Option<&str>,
    event: &SourceEvent,
    commit: &str,
) -> Result<RunRequest, String> {
    let field = format!("spec.triggers[{index}]");
    let files = event.changed_files.as_deref();
    match &event.kind {
        EventKind::Push { branch, .. } => {
            let push = trigger
                .push
                .as_ref()
                .ok_or_else(|| format!("{field} has no push filter"))?;
            branch_matches(
                push.branches.as_ref(),
                &format!("{field}.push.branches"),
                source_branch,
                branch,
            )?;
            files_match(
                push.file_paths.as_ref(),
                &format!("{field}.push.filePaths"),
                files,
            )?;
            Ok(RunRequest {
                commit: commit.to_owned(),
                branch_name: Some(branch.clone()),
                tag_name: None,
                trigger_index: Some(index),
                detail: format!("push to {branch} ({field})"),
            })
        }
        EventKind::Tag { tag, .. } => {
            let filter = trigger
                .tag
                .as_ref()
                .ok_or_else(|| format!("{field} has no tag filter"))?;
            name_matches(&filter.tags, &format!("{field}.tag.tags"), "tag", tag)?;
            Ok(RunRequest {
                commit: commit.to_owned(),
                branch_name: None,
                tag_name: Some(tag.clone()),
                trigger_index: Some(index),
                detail: format!("tag {tag} ({field})"),
            })
        }
        EventKind::PullRequest {
            action,
            number,
            source_branch: from,
            target_branch: into,
        } => {
            let filter = trigger
                .pull_request
                .as_ref()
                .ok_or_else(|| format!("{field} has no pullRequest filter"))?;
            let (kind, name) = match action {
                PullRequestAction::Open => (PullRequestEvent::Open, "Open"),
                PullRequestAction::Updated => (PullRequestEvent::Updated, "Updated"),
                PullRequestAction::Closed => (PullRequestEvent::Closed, "Closed"),
                PullRequestAction::Other => {
                    return Err(format!("{field}: the pull request event starts nothing"));
                }
            };
            if !filter.events.contains(&kind) {
                return Err(format!("{field}.pullRequest.events does not list {name}"));
            }
            branch_matches(
                filter.branches.as_ref(),
                &format!("{field}.pullRequest.branches"),
                source_branch,
                into,
            )?;
            files_match(
                filter.file_paths.as_ref(),
                &format!("{field}.pullRequest.filePaths"),
                files,
            )?;
            let number = number.map(|n| format!(" #{n}")).unwrap_or_default();
            Ok(RunRequest {
                commit: commit.to_owned(),
                branch_name: Some(from.clone()),
                tag_name: None,
                trigger_index: Some(index),
                detail: format!("pull request{number} {from} → {into} {name} ({field})"),
            })
        }
        EventKind::Ping | EventKind::Unsupported => {
            Err(format!("{field}: the event starts nothing"))
        }
    }
}

/// A branch filter, defaulting to the source branch.
fn branch_matches(
    filter: Option<&GlobFilter>,
    field: &str,
    source_branch: Option<&str>,
    branch: &str,
) -> Result<(), String> {
    match (filter, source_branch) {
        (Some(filter), _) => name_matches(filter, field, "branch", branch),
        (None, Some(source)) if source != branch => Err(format!(
            "{field} is not set, so only the source branch {source} runs, not {branch}"
        )),
        (None, _) => Ok(()),
    }
}

/// A filePaths filter: at least one changed file matches.
fn files_match(
    filter: Option<&GlobFilter>,
    field: &str,
    files: Option<&[String]>,
) -> Result<(), String> {
    let Some(filter) = filter else {
        return Ok(());
    };
    let Some(files) = files else {
        return Err(format!(
            "{field}: the event lists no changed files (Bitbucket Cloud payloads, pull requests and polls do not), so a filePaths filter cannot match"
        ));
    };
    let compiled = Compiled::new(filter, field)?;
    if files.iter().any(|file| compiled.matches(file)) {
        Ok(())
    } else {
        Err(format!(
            "{field}: none of the {} changed files is included",
            files.len()
        ))
    }
}

/// A name filter (branch, tag).
fn name_matches(filter: &GlobFilter, field: &str, what: &str, name: &str) -> Result<(), String> {
    let compiled = Compiled::new(filter, field)?;
    if compiled.excludes.is_match(name) {
        Err(format!("{field}: {what} {name} is excluded"))
    } else if !compiled.included(name) {
        Err(format!("{field}: {what} {name} is not included"))
    } else {
        Ok(())
    }
}

/// A filter's globs, compiled.
struct Compiled {
    includes: Option<GlobSet>,
    excludes: GlobSet,
}

impl Compiled {
    fn new(filter: &GlobFilter, field: &str) -> Result<Self, String> {
        let set =
            |globs: &[String], list: &str| -> Result<GlobSet, String> {
                let mut builder = GlobSetBuilder::new();
                for (index, pattern) in globs.iter().enumerate() {
                    builder.add(glob(pattern).map_err(|error| {
                        format!("{field}.{list}[{index}] is not a glob: {error}")
                    })?);
                }
                builder
                    .build()
                    .map_err(|error| format!("{field}.{list}: {error}"))
            };
        Ok(Compiled {
            includes: if filter.includes.is_empty() {
                None
            } else {
                Some(set(&filter.includes, "includes")?)
            },
            excludes: set(&filter.excludes, "excludes")?,
        })
    }

    fn included(&self, name: &str) -> bool {
        self.includes.as_ref().is_none_or(|set| set.is_match(name))
    }

    fn matches(&self, name: &str) -> bool {
        self.included(name) && !self.excludes.is_match(name)
    }
}

fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).build()
}

/// Every glob of `triggers` that does not compile, and every trigger that filters nothing, as
/// spec problems naming the field.
pub fn check_triggers(triggers: &[Trigger]) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    for (index, trigger) in triggers.iter().enumerate() {
        let field = format!("spec.triggers[{index}]");
        if trigger.push.is_none() && trigger.tag.is_none() && trigger.pull_request.is_none() {
            problems.push(SpecProblem {
                field: field.clone(),
                message: "set push, tag or pullRequest: an empty trigger matches nothing".into(),
            });
        }
        let mut filters: Vec<(String, &GlobFilter)> = Vec::new();
        if let Some(push) = &trigger.push {
            filters.extend(
                push.branches
                    .iter()
                    .map(|f| (format!("{field}.push.branches"), f)),
            );
            filters.extend(
                push.file_paths
                    .iter()
                    .map(|f| (format!("{field}.push.filePaths"), f)),
            );
        }
        if let Some(tag) = &trigger.tag {
            filters.push((format!("{field}.tag.tags"), &tag.tags));
        }
        if let Some(pull_request) = &trigger.pull_request {
            filters.extend(
                pull_request
                    .branches
                    .iter()
                    .map(|f| (format!("{field}.pullRequest.branches"), f)),
            );
            filters.extend(
                pull_request
                    .file_paths
                    .iter()
                    .map(|f| (format!("{field}.pullRequest.filePaths"), f)),
            );
        }
        for (field, filter) in filters {
            for (list, globs) in [
                ("includes", &filter.includes),
                ("excludes", &filter.excludes),
            ] {
                for (position, pattern) in globs.iter().enumerate() {
                    if let Err(error) = glob(pattern) {
                        problems.push(SpecProblem {
                            field: format!("{field}.{list}[{position}]"),
                            message: format!(
                                "{pattern:?} is not a glob ({}): use *, ** (across /), ?, [abc] or {{a,b}}",
                                error.kind()
                            ),
                        });
                    }
                }
            }
        }
    }
    problems
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
