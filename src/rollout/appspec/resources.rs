//! `Resources`: the one resource an appspec deploys, its `Type`, and a Lambda function's
//! properties (an ECS service's are in [`super::ecs`]).

use crate::yaml::tree::NodeKind;

use super::ecs;
use super::model::{Located, TargetService};
use super::walk::{Entry, Walker};

/// The resource types an appspec deploys.
const ECS_SERVICE: &str = "AWS::ECS::Service";
const LAMBDA_FUNCTION: &str = "AWS::Lambda::Function";

/// The resource an appspec deploys.
pub(crate) enum Resource {
    /// `AWS::ECS::Service`.
    Ecs(TargetService),
    /// `AWS::Lambda::Function`.
    Lambda(LambdaFunction),
}

/// A Lambda function resource's properties.
pub(crate) struct LambdaFunction {
    /// The resource's key and its position.
    pub resource: Located<String>,
    /// `Name`.
    pub name: String,
    /// `Alias`.
    pub alias: String,
    /// `CurrentVersion`.
    pub current_version: String,
    /// `TargetVersion`.
    pub target_version: String,
}

/// The single item of `Resources`.
pub(crate) fn resource(walker: &mut Walker, entry: Entry) -> Option<Resource> {
    let fix = "write `Resources:` as a list with one item, `- TargetService:`";
    let items = walker.list(entry.value, "Resources", fix)?;
    let Some(item) = items.first() else {
        walker.diagnostics.error(
            entry.key.position,
            "`Resources` is empty: an appspec deploys one ECS service or Lambda function",
            fix,
        );
        return None;
    };
    if let Some(second) = items.get(1) {
        walker.diagnostics.error(
            second.position,
            format!(
                "`Resources` has {} items; CodeDeploy deploys exactly one ECS service or Lambda function",
                items.len()
            ),
            "keep one resource, and use one Deployment per service",
        );
    }
    let fields = walker.entries(item, "Resources[0]")?;
    let (named, others) = match fields.all() {
        [] => {
            walker.diagnostics.error(
                item.position,
                "`Resources[0]` is empty",
                "name the resource, e.g. `- TargetService:`, with `Type` and `Properties` under it",
            );
            return None;
        }
        [named, others @ ..] => (*named, others),
    };
    if !others.is_empty() {
        let keys: Vec<&str> = fields.all().iter().map(|entry| entry.name).collect();
        walker.diagnostics.error(
            others[0].key.position,
            format!(
                "`Resources[0]` holds {} keys ({}), not one resource: `Type` and `Properties` belong under the resource's name",
                keys.len(),
                keys.join(", ")
            ),
            format!(
                "indent `{}` further than `{}` so it sits under `{}:`",
                others[0].name, named.name, named.name
            ),
        );
        return None;
    }
    let path = format!("Resources[0].{}", named.name);
    let body = walker.fields(named.value, &path, &["Type", "Properties"])?;
    let Some(properties) = body.entry("Properties") else {
        walker.diagnostics.error(
            named.key.position,
            format!("missing `{path}.Properties`"),
            "add `Properties:` under the resource, with `TaskDefinition` and `LoadBalancerInfo`",
        );
        return None;
    };
    let is_lambda = match body.get("Type") {
        Some(node) => match walker.text(node, &format!("{path}.Type")) {
            Some(text) if text.eq_ignore_ascii_case(ECS_SERVICE) => false,
            Some(text) if text.eq_ignore_ascii_case(LAMBDA_FUNCTION) => true,
            other => {
                let found = other.map_or_else(|| "nothing".to_owned(), |text| format!("`{text}`"));
                walker.diagnostics.error(
                    node.position,
                    format!(
                        "`{path}.Type` must be `{ECS_SERVICE}` or `{LAMBDA_FUNCTION}`, found {found}"
                    ),
                    format!("write `Type: {ECS_SERVICE}`"),
                );
                return None;
            }
        },
        None => infer_type(walker, &path, named, properties)?,
    };
    if is_lambda {
        lambda_function(walker, named, &path, properties).map(Resource::Lambda)
    } else {
        ecs::target_service(walker, named.name, &path, properties).map(Resource::Ecs)
    }
}

/// A resource without `Type`: read as the type its properties show, with a warning; `None`
/// (after an error) when they show neither. Returns whether it is a Lambda function.
fn infer_type(walker: &mut Walker, path: &str, named: Entry, properties: Entry) -> Option<bool> {
    let keys: Vec<&str> = match &properties.value.kind {
        NodeKind::Mapping(pairs) => pairs
            .iter()
            .filter_map(|(key, _)| match &key.kind {
                NodeKind::Scalar(scalar) => Some(scalar.text.as_str()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let has = |name: &str| keys.iter().any(|key| key.eq_ignore_ascii_case(name));
    let (is_lambda, kind, because) = if has("TaskDefinition") {
        (false, ECS_SERVICE, "TaskDefinition")
    } else if has("Alias") || has("TargetVersion") {
        (true, LAMBDA_FUNCTION, "Alias")
    } else {
        walker.diagnostics.error(
            named.key.position,
            format!("missing `{path}.Type`"),
            format!("add `Type: {ECS_SERVICE}` under `{}:`", named.name),
        );
        return None;
    };
    walker.diagnostics.warning(
        named.key.position,
        format!("missing `{path}.Type`; read as `{kind}` because `Properties` has `{because}`"),
        format!("add `Type: {kind}` under `{}:`", named.name),
    );
    Some(is_lambda)
}

/// A Lambda function's `Properties`: `Name`, `Alias`, `CurrentVersion`, `TargetVersion`, all
/// required (versions keep their spelling: `1` and `"1"` are both `1`).
fn lambda_function(
    walker: &mut Walker,
    named: Entry,
    path: &str,
    properties: Entry,
) -> Option<LambdaFunction> {
    const KEYS: &[&str] = &["Name", "Alias", "CurrentVersion", "TargetVersion"];
    let path = format!("{path}.Properties");
    let fields = walker.fields(properties.value, &path, KEYS)?;
    let fix = "Lambda properties are `Name`, `Alias`, `CurrentVersion` and `TargetVersion`";
    // All four are read before any `?`, so one check reports every missing property.
    let mut read = |key: &str| {
        walker
            .required_text(&fields, key, &path, properties.key.position, fix)
            .map(|text| text.value)
    };
    let (name, alias, current, target) = (
        read("Name"),
        read("Alias"),
        read("CurrentVersion"),
        read("TargetVersion"),
    );
    Some(LambdaFunction {
        resource: Located {
            value: named.name.to_owned(),
            position: named.key.position,
        },
        name: name?,
        alias: alias?,
        current_version: current?,
        target_version: target?,
    })
}
