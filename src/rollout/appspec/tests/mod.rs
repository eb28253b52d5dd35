//! Table-driven tests of the appspec parser (`parse`) and of the mapping onto a Deployment
//! (`mapping`), with the helpers both use.

mod mapping;
mod parse;

use super::{AppSpec, EcsAppSpec, parse_appspec};
use crate::yaml::Severity;

/// Every diagnostic of `text` as (severity, line, column, message), whether it parsed or not.
fn diagnostics(text: &str) -> Vec<(Severity, u32, u32, String)> {
    let found = match parse_appspec(text, "appspec.yaml") {
        Ok(parsed) => parsed.warnings,
        Err(error) => error.diagnostics(),
    };
    found
        .into_iter()
        .map(|diagnostic| {
            assert!(diagnostic.fix.is_some(), "no fix: {diagnostic}");
            (
                diagnostic.severity,
                diagnostic.line,
                diagnostic.column,
                diagnostic.message,
            )
        })
        .collect()
}

/// The ECS appspec `text` must parse to (warnings allowed).
fn ecs(text: &str) -> EcsAppSpec {
    match parse_appspec(text, "appspec.yaml") {
        Ok(parsed) => match parsed.spec {
            AppSpec::Ecs(spec) => spec,
            other => panic!("not ECS: {other:?}"),
        },
        Err(error) => panic!("must parse:\n{error}"),
    }
}

/// An ECS appspec whose `Properties` are `properties` (indented 8 spaces) and hooks `hooks`.
fn ecs_yaml(properties: &str, hooks: &str) -> String {
    let properties: String = properties
        .lines()
        .map(|line| format!("        {line}\n"))
        .collect();
    format!(
        "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n{properties}{hooks}"
    )
}
