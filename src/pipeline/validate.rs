//! What the CRD schema cannot check of a Pipeline because the rule spans several stages: how
//! artifacts and variables flow between actions. Each problem names the field and the fix; the
//! Pipeline controller reports them (`Ready=False`, reason `InvalidSpec`) and a run of an invalid
//! pipeline fails before it creates anything.
//!
//! # Rules
//! - An input artifact must be the source's output artifact or an output of an action that runs
//!   earlier (an earlier stage, or a lower `runOrder` in the same stage). Output artifact names are
//!   unique in the pipeline.
//! - A `build` action reads at most one input (its source); `approval` and `jenkins` actions read
//!   and write none; a `deploy` action writes none and takes its images from variables.
//! - Action namespaces are unique and differ from `variables`, `slipway` and the source's namespace.
//! - A `#{Namespace.Name}` reference in an action names `variables.<declared variable>`, a
//!   built-in `slipway.…`, a source variable, or the namespace of an action that runs earlier.
//! - Every trigger sets `push`, `tag` or `pullRequest`, and its globs compile
//!   ([`crate::trigger::filter::check_triggers`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::api::common::NameValue;
use crate::api::pipeline::{Action, PipelineSpec};

use super::variables::{
    PIPELINE_VARIABLES_NAMESPACE, Reference, SLIPWAY_NAMESPACE, value_references,
};

/// One problem of a spec.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecProblem {
    /// The JSON path of the field, e.g. `spec.stages[1].actions[0].inputArtifacts[0]`.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// The built-in variables every run has.
pub const BUILT_IN_VARIABLES: &[&str] = &["PipelineExecutionId", "PipelineName"];
/// The variables a git source exports.
pub const GIT_SOURCE_VARIABLES: &[&str] = &[
    "CommitId",
    "BranchName",
    "CommitMessage",
    "AuthorDate",
    "FullRepositoryName",
];
/// The variables an image source exports.
pub const IMAGE_SOURCE_VARIABLES: &[&str] = &["ImageDigest", "ImageTag", "ImageURI"];
/// The variables an object-store source exports.
pub const OBJECT_SOURCE_VARIABLES: &[&str] = &["ObjectVersion"];

/// The names the source's namespace holds for `spec`'s kind of source.
pub fn source_variable_names(spec: &PipelineSpec) -> &'static [&'static str] {
    if spec.source.image.is_some() {
        IMAGE_SOURCE_VARIABLES
    } else if spec.source.object_store.is_some() {
        OBJECT_SOURCE_VARIABLES
    } else {
        GIT_SOURCE_VARIABLES
    }
}

/// Every problem of `spec`, in field order.
pub fn check_pipeline(spec: &PipelineSpec) -> Vec<SpecProblem> {
    let mut problems = crate::trigger::filter::check_triggers(&spec.triggers);
    let source_artifact = spec.source.output_artifact.as_str();
    let source_namespace = spec.source.namespace.as_str();
    let declared: BTreeSet<&str> = spec.variables.iter().map(|v| v.name.as_str()).collect();
    let mut producers: BTreeMap<&str, String> =
        BTreeMap::from([(source_artifact, "the source".to_owned())]);
    let mut namespaces: BTreeSet<&str> = BTreeSet::new();
    for (stage_index, stage) in spec.stages.iter().enumerate() {
        let mut orders: Vec<i32> = stage.actions.iter().map(|a| a.run_order).collect();
        orders.sort_unstable();
        orders.dedup();
        // Artifacts and namespaces become visible to later run orders, then to later stages.
        let mut stage_outputs: Vec<(i32, &str, String)> = Vec::new();
        let mut stage_namespaces: Vec<(i32, &str)> = Vec::new();
        for (action_index, action) in stage.actions.iter().enumerate() {
            let field = format!("spec.stages[{stage_index}].actions[{action_index}]");
            let earlier_outputs: BTreeSet<&str> = producers
                .keys()
                .copied()
                .chain(
                    stage_outputs
                        .iter()
                        .filter(|(order, _, _)| *order < action.run_order)
                        .map(|(_, name, _)| *name),
                )
                .collect();
            let earlier_namespaces: BTreeSet<&str> = namespaces
                .iter()
                .copied()
                .chain(
                    stage_namespaces
                        .iter()
                        .filter(|(order, _)| *order < action.run_order)
                        .map(|(_, name)| *name),
                )
                .collect();
            check_artifacts(action, &field, &earlier_outputs, &producers, &mut problems);
            check_namespace(
                action,
                &field,
                source_namespace,
                &namespaces,
                &stage_namespaces,
                &mut problems,
            );
            let context = ReferenceContext {
                declared: &declared,
                source_namespace,
                source_names: source_variable_names(spec),
                earlier_namespaces: &earlier_namespaces,
            };
            check_references(action, &field, &context, &mut problems);
            for output in &action.output_artifacts {
                stage_outputs.push((
                    action.run_order,
                    output,
                    format!("{}/{}", stage.name, action.name),
                ));
            }
            if let Some(namespace) = action.namespace.as_deref() {
                stage_namespaces.push((action.run_order, namespace));
            }
        }
        for (_, name, producer) in stage_outputs {
            producers.insert(name, producer);
        }
        namespaces.extend(stage_namespaces.into_iter().map(|(_, name)| name));
    }
    problems
}

fn check_artifacts(
    action: &Action,
    field: &str,
    earlier: &BTreeSet<&str>,
    producers: &BTreeMap<&str, String>,
    problems: &mut Vec<SpecProblem>,
) {
    let kind = action_kind(action);
    for (index, input) in action.input_artifacts.iter().enumerate() {
        if !earlier.contains(input.as_str()) {
            problems.push(SpecProblem {
                field: format!("{field}.inputArtifacts[{index}]"),
                message: format!(
                    "artifact {input:?} is not produced before action {:?}: name the source's outputArtifact or an outputArtifacts entry of an action in an earlier stage or with a lower runOrder",
                    action.name
                ),
            });
        }
    }
    let refuse = |list: &str, why: &str, problems: &mut Vec<SpecProblem>| {
        problems.push(SpecProblem {
            field: format!("{field}.{list}"),
            message: format!("a {kind} action {why}: remove {list}"),
        });
    };
    match kind {
        "build" if action.input_artifacts.len() > 1 => refuse(
            "inputArtifacts",
            "reads one input artifact (its source); secondary sources are not supported",
            problems,
        ),
        "approval" | "jenkins" if !action.input_artifacts.is_empty() => {
            refuse("inputArtifacts", "reads no artifacts", problems);
        }
        _ => {}
    }
    if matches!(kind, "approval" | "jenkins" | "deploy") && !action.output_artifacts.is_empty() {
        refuse("outputArtifacts", "produces no artifacts", problems);
    }
    if kind == "deploy" && !action.input_artifacts.is_empty() {
        refuse(
            "inputArtifacts",
            "takes its images from variables (e.g. #{BuildVariables.IMAGE_WEB_URI} in revision.images); reading imagedefinitions.json from an artifact is not supported",
            problems,
        );
    }
    for (index, output) in action.output_artifacts.iter().enumerate() {
        if let Some(producer) = producers.get(output.as_str()) {
            problems.push(SpecProblem {
                field: format!("{field}.outputArtifacts[{index}]"),
                message: format!(
                    "artifact {output:?} is already produced by {producer}: give it another name"
                ),
            });
        }
    }
}

fn check_namespace(
    action: &Action,
    field: &str,
    source_namespace: &str,
    earlier: &BTreeSet<&str>,
    this_stage: &[(i32, &str)],
    problems: &mut Vec<SpecProblem>,
) {
    let Some(namespace) = action.namespace.as_deref() else {
        return;
    };
    let taken = [
        PIPELINE_VARIABLES_NAMESPACE,
        SLIPWAY_NAMESPACE,
        source_namespace,
    ]
    .contains(&namespace)
        || earlier.contains(namespace)
        || this_stage.iter().any(|(_, name)| *name == namespace);
    if taken {
        problems.push(SpecProblem {
            field: format!("{field}.namespace"),
            message: format!(
                "namespace {namespace:?} is already used (by the built-ins, the source or another action): choose a name of its own"
            ),
        });
    }
}

struct ReferenceContext<'a> {
    declared: &'a BTreeSet<&'a str>,
    source_namespace: &'a str,
    source_names: &'static [&'static str],
    earlier_namespaces: &'a BTreeSet<&'a str>,
}

fn check_references(
    action: &Action,
    field: &str,
    context: &ReferenceContext<'_>,
    problems: &mut Vec<SpecProblem>,
) {
    let config = action_config_value(action);
    let mut seen = BTreeSet::new();
    for reference in value_references(&config) {
        if !seen.insert(reference.clone()) {
            continue;
        }
        if let Some(message) = reference_problem(&reference, context) {
            problems.push(SpecProblem {
                field: field.to_owned(),
                message: format!("action {:?} uses {reference}: {message}", action.name),
            });
        }
    }
}

fn reference_problem(reference: &Reference, context: &ReferenceContext<'_>) -> Option<String> {
    let Reference { namespace, name } = reference;
    if namespace == PIPELINE_VARIABLES_NAMESPACE {
        return (!context.declared.contains(name.as_str()))
            .then(|| "no such pipeline variable: declare it in spec.variables".to_owned());
    }
    if namespace == SLIPWAY_NAMESPACE {
        return (!BUILT_IN_VARIABLES.contains(&name.as_str()))
            .then(|| format!("the built-ins are {}", BUILT_IN_VARIABLES.join(", ")));
    }
    if namespace == context.source_namespace {
        return (!context.source_names.contains(&name.as_str()))
            .then(|| format!("the source exports {}", context.source_names.join(", ")));
    }
    (!context.earlier_namespaces.contains(namespace.as_str())).then(|| {
        format!(
            "no action that runs earlier has namespace {namespace:?}: set `namespace` on that action, or move this one after it"
        )
    })
}

/// An action's type as its field name.
pub fn action_kind(action: &Action) -> &'static str {
    if action.build.is_some() {
        "build"
    } else if action.deploy.is_some() {
        "deploy"
    } else if action.approval.is_some() {
        "approval"
    } else if action.job.is_some() {
        "job"
    } else {
        "jenkins"
    }
}

/// The part of an action whose strings take variables: its type's configuration.
pub fn action_config_value(action: &Action) -> serde_json::Value {
    let value = match action_kind(action) {
        "build" => serde_json::to_value(&action.build),
        "deploy" => serde_json::to_value(&action.deploy),
        "approval" => serde_json::to_value(&action.approval),
        "job" => serde_json::to_value(&action.job),
        _ => serde_json::to_value(&action.jenkins),
    };
    value.unwrap_or(serde_json::Value::Null)
}

/// Problems of a run's variable overrides: each must name a declared pipeline variable.
pub fn check_overrides(spec: &PipelineSpec, overrides: &[NameValue]) -> Vec<SpecProblem> {
    overrides
        .iter()
        .enumerate()
        .filter(|(_, value)| !spec.variables.iter().any(|declared| declared.name == value.name))
        .map(|(index, value)| SpecProblem {
            field: format!("spec.variables[{index}].name"),
            message: format!(
                "{:?} is not a variable of the pipeline (it declares {}): remove it or declare it in the Pipeline's spec.variables",
                value.name,
                if spec.variables.is_empty() {
                    "none".to_owned()
                } else {
                    spec.variables.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ")
                }
            ),
        })
        .collect()
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
