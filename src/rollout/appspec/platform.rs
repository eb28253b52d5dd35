//! What Slipway parses but will not roll out, and why: EC2/on-premises appspecs (rejected by
//! the parser) and Lambda appspecs (parsed into the model, rejected by [`rejection`]).
//!
//! Slipway rolls out *container revisions of a Kubernetes workload*. An EC2/on-premises appspec
//! copies a bundle's files onto hosts and runs scripts there; a Lambda appspec moves a Lambda
//! alias from one function version to another. Neither has anything to roll out on a cluster,
//! and guessing (a "host" per pod, a Service per Lambda version) would deploy something other
//! than what the file says. So both are refused with a message that names what was found and
//! the ECS form that does the same job.

use crate::yaml::diagnostics::{Diagnostic, Position, Severity};
use crate::yaml::tree::NodeKind;

use super::model::{AppSpec, ComputePlatform, LambdaAppSpec};
use super::parse::is_ec2_event;
use super::walk::Fields;

/// Top-level keys only an EC2/on-premises appspec has.
pub(crate) const EC2_ONLY_KEYS: &[&str] = &["os", "files", "permissions", "file_exists_behavior"];

/// The ECS form, as a fix.
const ECS_FORM: &str = "write an ECS appspec instead: `Resources:` with one `- TargetService:` of `Type: AWS::ECS::Service` whose `Properties` hold `TaskDefinition` (the image) and `LoadBalancerInfo` (`ContainerName`, `ContainerPort`); hooks name entries of `spec.hookFunctions`";

/// Why an appspec will not be rolled out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The platform the appspec is written for.
    pub platform: ComputePlatform,
    /// Where the evidence starts (the first EC2 key, or the Lambda resource).
    pub position: Position,
    /// What was found and why Slipway will not roll it out.
    pub message: String,
    /// What to write instead.
    pub fix: String,
}

impl Rejection {
    /// The rejection as an error diagnostic in `file`.
    pub fn diagnostic(&self, file: &str) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_owned(),
            line: self.position.line,
            column: self.position.column,
            message: self.message.clone(),
            fix: Some(self.fix.clone()),
        }
    }

    /// The one-line reason `check` prints after `rejected: `.
    pub fn summary(&self) -> String {
        match self.platform {
            ComputePlatform::Ec2OnPremises => "EC2/on-prem appspec: it copies files onto hosts and runs scripts there; Slipway rolls out containers on Kubernetes (write the ECS form)".to_owned(),
            ComputePlatform::Lambda => "Lambda appspec: it shifts a Lambda alias between function versions; Slipway rolls out container revisions on Kubernetes (write the ECS form)".to_owned(),
            ComputePlatform::Ecs => format!("ECS appspec: {}", self.message),
        }
    }
}

/// The rejection of a parsed appspec Slipway does not roll out (Lambda), or `None` (ECS).
pub fn rejection(spec: &AppSpec) -> Option<Rejection> {
    match spec {
        AppSpec::Ecs(_) => None,
        AppSpec::Lambda(lambda) => Some(lambda_rejection(lambda)),
    }
}

/// Why a Lambda appspec is refused, naming its function, alias and versions.
fn lambda_rejection(lambda: &LambdaAppSpec) -> Rejection {
    Rejection {
        platform: ComputePlatform::Lambda,
        position: lambda.resource.position,
        message: format!(
            "this is a Lambda appspec: it moves alias `{}` of function `{}` from version {} to {}; Slipway rolls out container revisions of a Kubernetes workload and has no Lambda functions or versions to shift between",
            lambda.alias, lambda.function_name, lambda.current_version, lambda.target_version
        ),
        fix: format!(
            "{ECS_FORM}; the same traffic shape is `spec.strategy.configName` with a Lambda config (e.g. `CodeDeployDefault.LambdaCanary10Percent5Minutes`)"
        ),
    }
}

/// The rejection of a document without `Resources` that shows EC2/on-premises sections, or
/// `None` when it shows none (then it is simply missing `Resources`).
pub(crate) fn ec2_rejection(fields: &Fields) -> Option<Rejection> {
    let mut evidence: Vec<(Position, String)> = Vec::new();
    for entry in fields.all() {
        let name = entry.name;
        if EC2_ONLY_KEYS
            .iter()
            .any(|key| key.eq_ignore_ascii_case(name))
        {
            let shown = match &entry.value.kind {
                NodeKind::Scalar(scalar) => format!("`{name}: {}`", scalar.text),
                _ => format!("`{name}`"),
            };
            evidence.push((entry.key.position, shown));
        } else if name.eq_ignore_ascii_case("hooks") {
            let events = ec2_events(entry.value);
            if matches!(entry.value.kind, NodeKind::Mapping(_)) || !events.is_empty() {
                let shown = match events.as_slice() {
                    [] => format!("`{name}` with scripts"),
                    events => format!("`{name}` with scripts at {}", events.join(", ")),
                };
                evidence.push((entry.key.position, shown));
            }
        }
    }
    let position = evidence.first()?.0;
    let found: Vec<String> = evidence.into_iter().map(|(_, shown)| shown).collect();
    Some(Rejection {
        platform: ComputePlatform::Ec2OnPremises,
        position,
        message: format!(
            "this is an EC2/on-premises appspec ({}): it copies a revision's files onto hosts and runs scripts there, which Slipway does not do; Slipway rolls out container images to Kubernetes workloads",
            found.join(", ")
        ),
        fix: format!("{ECS_FORM}; what the scripts do belongs in the image or in hook Jobs"),
    })
}

/// The EC2/on-premises events a `hooks` value names (as mapping keys or list items' keys).
fn ec2_events(node: &crate::yaml::tree::Node) -> Vec<String> {
    let keys: Vec<&crate::yaml::tree::Node> = match &node.kind {
        NodeKind::Mapping(pairs) => pairs.iter().map(|(key, _)| key).collect(),
        NodeKind::Sequence(items) => items
            .iter()
            .filter_map(|item| match &item.kind {
                NodeKind::Mapping(pairs) => Some(pairs.iter().map(|(key, _)| key)),
                _ => None,
            })
            .flatten()
            .collect(),
        _ => Vec::new(),
    };
    keys.into_iter()
        .filter_map(|key| match &key.kind {
            NodeKind::Scalar(scalar) if is_ec2_event(&scalar.text) => Some(scalar.text.clone()),
            _ => None,
        })
        .collect()
}
