//! CodeDeploy's `appspec.yaml`: the typed model, its parser, and what a Deployment makes of it.
//!
//! A `deployments.slipway.dev` revision is either `spec.revision.images` or
//! `spec.revision.appSpec` — the raw text of an appspec, YAML or JSON (JSON is YAML). The
//! controller reads the latter with [`rollout_from_revision`] and gets an [`AppSpecRollout`]:
//! the images, the container and port that serve traffic, and the hooks to run.
//!
//! # What is read
//! - **ECS** (`Type: AWS::ECS::Service`): `TaskDefinition`, `LoadBalancerInfo.ContainerName` and
//!   `ContainerPort`, `PlatformVersion`, `NetworkConfiguration.AwsvpcConfiguration`,
//!   `CapacityProviderStrategy`, and `Hooks` at the five ECS events (`BeforeInstall`,
//!   `AfterInstall`, `AfterAllowTestTraffic`, `BeforeAllowTraffic`, `AfterAllowTraffic`).
//!   `PlatformVersion`, `NetworkConfiguration` and `CapacityProviderStrategy` are kept in the
//!   model but mean nothing on Kubernetes (the scheduler places pods), so they are not used.
//! - **Lambda** (`Type: AWS::Lambda::Function`): `Name`, `Alias`, `CurrentVersion`,
//!   `TargetVersion`, and `Hooks` at `BeforeAllowTraffic`/`AfterAllowTraffic`. Parsed and
//!   checked, then **rejected** (see below).
//! - **EC2/on-premises** (`os`, `files`, `permissions`, script `hooks` such as `ApplicationStop`,
//!   `ApplicationStart`, `ValidateService`): **rejected** by the parser with one error saying
//!   why — the file copies a bundle onto hosts and runs scripts there, and Slipway rolls out
//!   containers — and a fix showing the ECS form.
//! - `version` is optional; when present it must be `0.0` (CodeDeploy has no other). Keys match
//!   without regard to ASCII case, as in AWS's own examples (`Resources`/`resources`); unknown
//!   keys are warnings naming the closest known key.
//!
//! # `TaskDefinition` → images
//! A Deployment with `appSpec` has no `images` (the CRD allows exactly one of them), so the
//! appspec must name the images itself. On ECS, `TaskDefinition` is a task-definition ARN whose
//! container definitions hold the images; Slipway has no ECS to look an ARN up in, so it reads
//! `TaskDefinition` in the forms that carry the image directly:
//! - **an image reference** (`registry.example.com/web@sha256:…`, `web:1.4`): the new image of
//!   the traffic container (`ContainerName`, else `spec.target.container`; one of them is
//!   required). In a pipeline, write `TaskDefinition: "#{Build.ImageURI}"`: the deploy action
//!   substitutes `#{…}` variables in the appspec text before it creates the Deployment — the
//!   same job CodePipeline's ECS action does when it replaces `<TASK_DEFINITION>`.
//! - **an inline task definition**: a mapping with `containerDefinitions`, each `name` (a
//!   container of the workload's pod template) and `image` — the shape of ECS's `taskdef.json`,
//!   so one can be pasted; its other fields belong to the pod template and are ignored.
//! - **an ARN** (`arn:aws:ecs:…:task-definition/family:3`) parses, with a warning, and cannot be
//!   rolled out: guessing the images (keeping the workload's, say) would deploy something else
//!   than the revision the file names.
//! - **a `<…>` placeholder** (`<TASK_DEFINITION>`, `<CONTAINER_NAME>`, `<CONTAINER_PORT>`): the
//!   file is a template for someone else's tooling (CodePipeline, `sed`). `check` accepts it
//!   with a warning per placeholder; a Deployment still holding one fails with the field named.
//!
//! So the corpus's templates and ARN files pass `check` (with warnings) and need their
//! `TaskDefinition` written as an image (or `#{…}` variable) to run; nothing else changes.
//!
//! # Container, port and hooks
//! - `ContainerName`/`ContainerPort` fill `spec.target.container`/`port`; when both are set
//!   they must agree, and a disagreement is an error naming both values.
//! - A hook's value is a Lambda function name or ARN. It runs the `spec.hookFunctions` entry
//!   of that exact name, else the one entry with the same *function name* (the `NAME` of
//!   `arn:…:function:NAME`), so ARNs with `<REGION>`/`<ACCOUNT_ID>` placeholders run unchanged
//!   against plain names. No match is an error naming the hook, the function and the available
//!   names; an event hooked both here and in `spec.hooks` is an error too.
//!
//! # Lambda appspecs are rejected
//! A Lambda deployment moves an alias's weight from one function version to another. Mapping it
//! onto Kubernetes would need a convention for which Service is "version 1" and which image is
//! "version 2", and the Deployment (a new revision derived from the workload with new images)
//! would do something other than what the file says. So Slipway refuses it with a message
//! naming the function, alias and versions, and points at the ECS form plus a Lambda
//! `configName` for the same traffic shape.
//!
//! # Layout
//! `parse` walks the document (platform, `version`, `Hooks`) with `resources` and `ecs` for the
//! resource; `walk` holds the shared walk helpers; `platform` decides what is rejected;
//! [`model`] is the result; [`mapping`] turns it into an [`AppSpecRollout`]. Diagnostics,
//! the span-aware YAML tree and key suggestions are shared with the buildspec parser
//! ([`crate::yaml`]).

mod ecs;
pub mod mapping;
pub mod model;
mod parse;
mod platform;
mod resources;
mod walk;

#[cfg(test)]
mod tests;

pub use mapping::{
    AppSpecRollout, MappingError, ResolvedHook, lambda_function_name, rollout_from_appspec,
};
pub use model::{
    AppSpec, CapacityProviderItem, ComputePlatform, EcsAppSpec, HookReference, LambdaAppSpec,
    Located, NetworkConfiguration, Placeholder, PlaceholderKind, TargetService, TaskContainer,
    TaskDefinition, Templated,
};
pub use platform::{Rejection, rejection};

use crate::api::deployment::DeploymentTemplate;
use crate::yaml::diagnostics::{Diagnostic, Diagnostics, Position};
use crate::yaml::tree;

/// An ECS or Lambda appspec, with the warnings found while reading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedAppSpec {
    /// The appspec.
    pub spec: AppSpec,
    /// Warnings in source order (never errors).
    pub warnings: Vec<Diagnostic>,
}

/// Why an appspec could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppSpecError {
    /// At least one error; all diagnostics (errors and warnings) in source order.
    #[error("{}", render(.diagnostics))]
    Invalid {
        /// Errors and warnings in source order.
        diagnostics: Vec<Diagnostic>,
    },
    /// An appspec for a platform Slipway does not roll out (EC2/on-premises).
    #[error("{}", .rejection.diagnostic(.file))]
    Rejected {
        /// The file name as given.
        file: String,
        /// Why.
        rejection: Rejection,
    },
}

impl AppSpecError {
    /// Every diagnostic: for a rejection, the one error that says why.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            AppSpecError::Invalid { diagnostics } => diagnostics.clone(),
            AppSpecError::Rejected { file, rejection } => vec![rejection.diagnostic(file)],
        }
    }
}

/// The diagnostics one per block, as `check` prints them.
fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses appspec `text` (YAML or JSON); `file` names it in diagnostics.
///
/// # Errors
/// [`AppSpecError::Invalid`] with every diagnostic when any error is found;
/// [`AppSpecError::Rejected`] for an EC2/on-premises appspec. A Lambda appspec parses; see
/// [`rejection`].
pub fn parse_appspec(text: &str, file: &str) -> Result<ParsedAppSpec, AppSpecError> {
    let mut diagnostics = Diagnostics::new(file);
    let walked = match tree::load(text) {
        Ok(Some(root)) => parse::document(
            &root,
            &mut walk::Walker {
                diagnostics: &mut diagnostics,
            },
        ),
        Ok(None) => {
            diagnostics.error(
                Position::START,
                "the appspec is empty",
                "start it with `version: 0.0` and a `Resources:` section",
            );
            parse::Walked::Invalid
        }
        Err(error) => {
            diagnostics.error(
                // Tabs are fine in JSON's indentation, so only a complaint about tabs moves it.
                if error.message.contains("tab") {
                    tab_in_indentation(text, error.position).unwrap_or(error.position)
                } else {
                    error.position
                },
                format!("invalid YAML: {}", error.message),
                "check the indentation (spaces, not tabs) and quoting here; in JSON, check commas and brackets",
            );
            parse::Walked::Invalid
        }
    };
    match walked {
        parse::Walked::Rejected(rejection) => Err(AppSpecError::Rejected {
            file: file.to_owned(),
            rejection,
        }),
        parse::Walked::Spec(spec) if !diagnostics.has_errors() => Ok(ParsedAppSpec {
            spec: *spec,
            warnings: diagnostics.into_sorted(),
        }),
        _ => Err(AppSpecError::Invalid {
            diagnostics: diagnostics.into_sorted(),
        }),
    }
}

/// The first tab in the indentation of the line at `at`: the parser reports the character after
/// it, but the tab is what to replace.
fn tab_in_indentation(text: &str, at: Position) -> Option<Position> {
    let line = text
        .lines()
        .nth(usize::try_from(at.line).ok()?.checked_sub(1)?)?;
    let indentation = &line[..line.len() - line.trim_start().len()];
    let tab = indentation.find('\t')?;
    Some(Position {
        line: at.line,
        column: u32::try_from(indentation[..tab].chars().count() + 1).ok()?,
    })
}

/// Why a Deployment's `spec.revision.appSpec` cannot be rolled out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RevisionError {
    /// The appspec does not parse, or is for a platform Slipway does not run.
    #[error("{0}")]
    AppSpec(AppSpecError),
    /// It parses but does not fit the Deployment (see [`MappingError`]).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Mapping(Vec<MappingError>),
}

/// The name diagnostics give a Deployment's appspec.
pub const REVISION_FIELD: &str = "spec.revision.appSpec";

/// Reads a Deployment's `spec.revision.appSpec` into what it rolls out: the controller's one
/// entry point. Pure; call it again on every reconcile rather than storing the result.
///
/// # Errors
/// [`RevisionError`] with every problem found, diagnostics named `spec.revision.appSpec`.
pub fn rollout_from_revision(
    text: &str,
    template: &DeploymentTemplate,
) -> Result<AppSpecRollout, RevisionError> {
    let parsed = parse_appspec(text, REVISION_FIELD).map_err(RevisionError::AppSpec)?;
    rollout_from_appspec(&parsed.spec, template).map_err(RevisionError::Mapping)
}
