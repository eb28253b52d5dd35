//! Stage-condition rules: one rule of a `beforeEntry`, `onSuccess` or `onFailure` condition,
//! judged once, as a plain [`RuleOutcome`]. What a failed rule does to the stage (fail, skip,
//! roll back, retry) belongs to the planner; a rule only says whether it passed and why.
//!
//! # Kinds
//! - **expression** ([`expression`], pure): a CEL expression over a [`RuleContext`].
//! - **deploymentWindow** ([`window`], pure): is `now` inside a window opened by a cron time?
//! - **http** and **prometheus** ([`probes`], I/O): a GET that must answer an expected status; a
//!   Prometheus query whose first sample must meet a CEL condition.
//!
//! [`evaluate_local`] judges the two pure kinds and returns `None` for the I/O kinds, so a pure
//! planner can decide on expressions and windows itself and hand only the probes to its apply
//! step; [`evaluate`] judges all four.
//!
//! # Guarantees
//! - Judging never fails with an error: a rule that cannot be judged (bad CEL, an unknown time
//!   zone, an unreachable URL) is a failed rule whose message names the rule, the field and the
//!   fix. Every message starts with `rule <name>: `.
//! - The probes end within their timeout; the pure kinds are bounded too (see [`expression`]
//!   for the cost bound of CEL and [`window`] for the cron search).
//!
//! # Caveats
//! Nothing here substitutes `#{…}` variables: the caller passes the rule as it should be read,
//! with variables in `http.url`, `http.headers` and `prometheus.query` already resolved.

pub mod cost;
pub mod expression;
pub mod probes;
pub mod window;

#[cfg(test)]
mod expression_tests;
#[cfg(test)]
mod probes_tests;
#[cfg(test)]
mod window_tests;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::api::pipeline::ConditionRule;

/// The judgement of one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleOutcome {
    /// Whether the rule passed.
    pub passed: bool,
    /// What was evaluated and seen, one line starting with `rule <name>: `.
    pub message: String,
}

impl RuleOutcome {
    /// A passed rule named `rule` with `detail`.
    pub fn pass(rule: &str, detail: impl std::fmt::Display) -> Self {
        Self::of(true, rule, detail)
    }

    /// A failed rule named `rule` with `detail`.
    pub fn fail(rule: &str, detail: impl std::fmt::Display) -> Self {
        Self::of(false, rule, detail)
    }

    /// A rule named `rule` that passed or not, with `detail`.
    pub fn of(passed: bool, rule: &str, detail: impl std::fmt::Display) -> Self {
        Self {
            passed,
            message: format!("rule {rule}: {detail}"),
        }
    }
}

/// What a rule may read of the run, as plain data the caller fills from the execution's status.
///
/// CEL expressions see its three fields as the variables `variables`, `stage` and `execution`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RuleContext {
    /// Resolved variables by namespace, then name: `variables.SourceVariables.BranchName`, and
    /// the pipeline's own under `variables.variables.REGION`.
    pub variables: BTreeMap<String, BTreeMap<String, String>>,
    /// The stage the condition belongs to.
    pub stage: StageContext,
    /// The run.
    pub execution: ExecutionContext,
}

/// The stage a condition belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StageContext {
    /// The stage's name.
    pub name: String,
    /// Its status as CodePipeline names it (`InProgress`, `Succeeded`, `Failed`, …); empty before
    /// the run enters it.
    pub status: String,
    /// The attempt number, from 1.
    pub attempt: i64,
    /// Its actions in this attempt.
    pub actions: Vec<ActionContext>,
}

/// One action of the stage.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ActionContext {
    /// The action's name.
    pub name: String,
    /// Its status (`InProgress`, `Abandoned`, `Succeeded`, `Failed`); empty before it starts.
    pub status: String,
}

/// The run a condition is judged in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExecutionContext {
    /// The PipelineExecution's id (`#{slipway.executionId}`).
    pub id: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// What started the run (`Webhook`, `Poll`, `Manual`, …).
    pub trigger: String,
    /// The namespace of the pipeline; substituted for `{{namespace}}` in Prometheus queries.
    pub namespace: String,
    /// The run's source revision; substituted for `{{revision}}` in Prometheus queries.
    pub revision: String,
}

/// The kind a rule sets, or why it sets none (the schema admits exactly one).
enum RuleKind<'a> {
    Expression(&'a str),
    Window(&'a crate::api::pipeline::DeploymentWindow),
    Http(&'a crate::api::pipeline::HttpRule),
    Prometheus(&'a crate::api::deployment::PrometheusCheck),
    Invalid(String),
}

fn kind_of(rule: &ConditionRule) -> RuleKind<'_> {
    let set: Vec<&str> = [
        ("expression", rule.expression.is_some()),
        ("deploymentWindow", rule.deployment_window.is_some()),
        ("http", rule.http.is_some()),
        ("prometheus", rule.prometheus.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, present)| present.then_some(field))
    .collect();
    if set.len() != 1 {
        let found = if set.is_empty() {
            "none".to_owned()
        } else {
            set.join(" and ")
        };
        return RuleKind::Invalid(format!(
            "sets {found}: set exactly one of expression, deploymentWindow, http or prometheus"
        ));
    }
    if let Some(expression) = &rule.expression {
        RuleKind::Expression(expression)
    } else if let Some(window) = &rule.deployment_window {
        RuleKind::Window(window)
    } else if let Some(http) = &rule.http {
        RuleKind::Http(http)
    } else {
        RuleKind::Prometheus(rule.prometheus.as_ref().expect("one kind is set"))
    }
}

/// Judges an expression or deployment-window rule (or a rule that sets no kind or several);
/// `None` for the HTTP and Prometheus rules, which need I/O.
pub fn evaluate_local(
    rule: &ConditionRule,
    context: &RuleContext,
    now: Timestamp,
) -> Option<RuleOutcome> {
    match kind_of(rule) {
        RuleKind::Expression(source) => Some(expression::evaluate(&rule.name, source, context)),
        RuleKind::Window(window) => Some(window::evaluate(&rule.name, window, now)),
        RuleKind::Invalid(message) => Some(RuleOutcome::fail(&rule.name, message)),
        RuleKind::Http(_) | RuleKind::Prometheus(_) => None,
    }
}

/// Judges any rule once (see the module docs).
pub async fn evaluate(rule: &ConditionRule, context: &RuleContext, now: Timestamp) -> RuleOutcome {
    match kind_of(rule) {
        RuleKind::Http(http) => probes::http_rule(&rule.name, http).await,
        RuleKind::Prometheus(check) => probes::prometheus_rule(&rule.name, check, context).await,
        RuleKind::Expression(source) => expression::evaluate(&rule.name, source, context),
        RuleKind::Window(window) => window::evaluate(&rule.name, window, now),
        RuleKind::Invalid(message) => RuleOutcome::fail(&rule.name, message),
    }
}
