//! Expression rules: a CEL expression over the run that passes when it evaluates to `true`.
//!
//! # Variables
//! Three variables, from the [`RuleContext`]:
//! - `variables`: resolved variables by namespace, then name, all strings —
//!   `variables.SourceVariables.BranchName == 'main'`, `variables.variables.REGION`;
//! - `stage`: `name`, `status`, `attempt` (an int) and `actions`, a list of `{name, status}` —
//!   `stage.actions.all(a, a.status == 'Succeeded')`;
//! - `execution`: `id`, `pipeline`, `trigger`, `namespace` and `revision`.
//!
//! The standard CEL library and macros are available (`has`, `all`, `exists`, `exists_one`,
//! `map`, `filter`, `in`, `size`, `startsWith`, …); `matches`, timestamps and durations are not
//! (the `cel` crate is built without its regex and chrono features).
//!
//! # Errors
//! A result that is not a boolean, an unknown variable or key (`variables.Missing.X`), a type
//! error or a parse error fails the rule, with the CEL error in the message. Use
//! `has(variables.Build)` or `'Build' in variables` to test for a namespace that may be absent.
//!
//! # Cost
//! `cel` 0.15 offers no cost or step limit. Expressions longer than [`MAX_LENGTH`] characters
//! (the schema's bound) are refused unread, and every program is priced against its actual
//! variables before it runs and refused over [`cost::MAX_COST`]; [`cost`] explains why CEL's
//! lack of unbounded loops is not enough on its own.

use cel::Context;

use std::collections::HashMap;

use super::cost::{self, Shape};
use super::{RuleContext, RuleOutcome};
use crate::rollout::probes::{ConditionError, compile_condition, run_condition};

/// The longest expression evaluated, in characters (the CRD's `maxLength`).
pub const MAX_LENGTH: usize = 4096;

/// Judges the expression rule `rule` with text `source` over `context`.
pub fn evaluate(rule: &str, source: &str, context: &RuleContext) -> RuleOutcome {
    match evaluate_expression(source, context) {
        Ok(true) => RuleOutcome::pass(rule, format!("{} is true", shorten(source))),
        Ok(false) => RuleOutcome::fail(rule, format!("{} is false", shorten(source))),
        Err(message) => RuleOutcome::fail(rule, format!("expression {message}")),
    }
}

/// Evaluates `source` over `context`.
///
/// # Errors
/// A message, to follow the word "expression", saying why there is no boolean answer.
pub fn evaluate_expression(source: &str, context: &RuleContext) -> Result<bool, String> {
    let length = source.chars().count();
    if length > MAX_LENGTH {
        return Err(format!(
            "is {length} characters long, more than the {MAX_LENGTH} allowed: shorten it"
        ));
    }
    let program = compile_condition(source).map_err(describe)?;
    let (cel_context, shapes) = cel_context(context)?;
    cost::check(&program, &shapes).map_err(|error| format!("is refused: {error}"))?;
    run_condition(&program, &cel_context).map_err(describe)
}

/// The CEL context of `context`, and the shapes of its variables for pricing.
fn cel_context(
    context: &RuleContext,
) -> Result<(Context<'static, 'static>, HashMap<String, Shape>), String> {
    let json = serde_json::to_value(context)
        .map_err(|error| format!("cannot be given its variables: {error}"))?;
    let mut cel_context = Context::default();
    add_variable(&mut cel_context, "variables", &context.variables)?;
    add_variable(&mut cel_context, "stage", &context.stage)?;
    add_variable(&mut cel_context, "execution", &context.execution)?;
    let shapes = json
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.clone(), Shape::of_json(value)))
        .collect();
    Ok((cel_context, shapes))
}

fn add_variable(
    context: &mut Context<'_, '_>,
    name: &str,
    value: &impl serde::Serialize,
) -> Result<(), String> {
    context
        .add_variable(name, value)
        .map_err(|error| format!("cannot be given variable {name}: {error}"))
}

fn describe(error: ConditionError) -> String {
    match error {
        ConditionError::Compile(error) => {
            format!("does not parse as CEL: {}", one_line(&error))
        }
        ConditionError::Evaluate(error) => format!("failed to evaluate: {error}"),
        ConditionError::NotBoolean(value) => {
            format!("gave {value}, not a boolean: write a comparison such as `x == 'y'`")
        }
    }
}

/// Parser errors span several lines (the source with a caret); a status message has one.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The expression as quoted in messages: at most 200 characters.
fn shorten(source: &str) -> String {
    const SHOWN: usize = 200;
    let flat = one_line(source);
    if flat.chars().count() <= SHOWN {
        flat
    } else {
        format!("{}…", flat.chars().take(SHOWN).collect::<String>())
    }
}
