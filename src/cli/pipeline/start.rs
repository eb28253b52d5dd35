//! The PipelineExecution `start` creates, built from the Pipeline as read and the command line
//! (pure, so every refusal and every field is unit-tested).
//!
//! # Guarantees
//! - The run is named `<pipeline>-<random>` by the API server (`generateName`), labelled and
//!   owned as every new run is ([`crate::pipeline::runs`]).
//! - `--var` names must be declared in the Pipeline's `spec.variables`: a misspelt name would
//!   otherwise run with the default without anyone noticing.
//! - `--revision` is a commit when it is 7–64 lowercase hex digits (`spec.source.commitId`), else
//!   a branch (`spec.source.branchName`, which the controller resolves to its head commit).

use crate::api::PipelineExecution;
use crate::api::common::NameValue;
use crate::api::execution::{ExecutionTrigger, SourceRevision, TriggerType};
use crate::api::pipeline::Pipeline;
use crate::pipeline::runs::{RunName, new_run};

/// `start`'s request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StartRequest {
    /// `--var NAME=VALUE`, as given.
    pub variables: Vec<String>,
    /// `--revision`: a commit id or a branch.
    pub revision: Option<String>,
    /// Who starts the run.
    pub actor: Option<String>,
}

/// Why `start` is refused; each message names the pipeline or flag and the fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StartError {
    /// A `--var` is not `NAME=VALUE`.
    #[error("--var {text:?} is not NAME=VALUE: write e.g. --var LOG_LEVEL=debug")]
    MalformedVariable {
        /// What was given.
        text: String,
    },
    /// A `--var` name is given twice.
    #[error("--var {name} is given more than once: give each variable once")]
    DuplicateVariable {
        /// The name.
        name: String,
    },
    /// A `--var` name the Pipeline does not declare.
    #[error("Pipeline {pipeline} declares no variable {names}: {declared}")]
    UndeclaredVariable {
        /// The pipeline.
        pipeline: String,
        /// The undeclared names.
        names: String,
        /// The declared names, or how to declare one.
        declared: String,
    },
    /// `--revision` for a source without commits or branches.
    #[error(
        "--revision is for git sources, and Pipeline {pipeline}'s source is {source_kind}: leave it \
         out, and the run takes the source's newest {what}"
    )]
    RevisionWithoutGit {
        /// The pipeline.
        pipeline: String,
        /// What its source is.
        source_kind: &'static str,
        /// What a run of it takes.
        what: &'static str,
    },
}

/// The PipelineExecution to create for `pipeline`.
///
/// # Errors
/// [`StartError`] for a malformed, repeated or undeclared `--var`, or a `--revision` for a
/// source that is not git.
pub fn execution_for(
    pipeline: &Pipeline,
    request: &StartRequest,
) -> Result<PipelineExecution, StartError> {
    let name = pipeline.metadata.name.clone().unwrap_or_default();
    let variables = variables(pipeline, &request.variables)?;
    let source = match &request.revision {
        None => None,
        Some(revision) => {
            if pipeline.spec.source.git.is_none() {
                let (source_kind, what) = if pipeline.spec.source.image.is_some() {
                    ("an image", "digest of its tag")
                } else {
                    ("an object store object", "version of the object")
                };
                return Err(StartError::RevisionWithoutGit {
                    pipeline: name,
                    source_kind,
                    what,
                });
            }
            Some(revision_source(revision))
        }
    };
    let trigger = ExecutionTrigger {
        type_: TriggerType::StartPipelineExecution,
        actor: request.actor.clone(),
        ..ExecutionTrigger::default()
    };
    Ok(new_run(
        pipeline,
        RunName::Generated,
        trigger,
        source,
        variables,
    ))
}

/// `--revision` as the run's source: a commit id when it looks like one, else a branch.
pub fn revision_source(revision: &str) -> SourceRevision {
    if is_commit_id(revision) {
        SourceRevision {
            commit_id: Some(revision.to_owned()),
            ..SourceRevision::default()
        }
    } else {
        SourceRevision {
            branch_name: Some(revision.to_owned()),
            ..SourceRevision::default()
        }
    }
}

/// Whether `text` is a (possibly abbreviated) commit id: 7–64 lowercase hex digits, as the
/// CRD's `commitId` pattern allows (SHA-1 and SHA-256 object names).
pub fn is_commit_id(text: &str) -> bool {
    (7..=64).contains(&text.len())
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// The `--var`s as name/value pairs, each declared by the pipeline and given once.
fn variables(pipeline: &Pipeline, given: &[String]) -> Result<Vec<NameValue>, StartError> {
    let mut variables: Vec<NameValue> = Vec::with_capacity(given.len());
    for text in given {
        let Some((name, value)) = text.split_once('=').filter(|(name, _)| !name.is_empty()) else {
            return Err(StartError::MalformedVariable { text: text.clone() });
        };
        if variables.iter().any(|variable| variable.name == name) {
            return Err(StartError::DuplicateVariable {
                name: name.to_owned(),
            });
        }
        variables.push(NameValue {
            name: name.to_owned(),
            value: value.to_owned(),
        });
    }
    let declared: Vec<&str> = pipeline
        .spec
        .variables
        .iter()
        .map(|variable| variable.name.as_str())
        .collect();
    let undeclared: Vec<&str> = variables
        .iter()
        .map(|variable| variable.name.as_str())
        .filter(|name| !declared.contains(name))
        .collect();
    if undeclared.is_empty() {
        return Ok(variables);
    }
    let declared = if declared.is_empty() {
        "it declares none; add them to its spec.variables first".to_owned()
    } else {
        format!("it declares {}", declared.join(", "))
    };
    Err(StartError::UndeclaredVariable {
        pipeline: pipeline.metadata.name.clone().unwrap_or_default(),
        names: undeclared.join(", "),
        declared,
    })
}
