//! Stage-condition rules (placeholder interface until the rules module lands).

use std::collections::BTreeMap;

use k8s_openapi::jiff::Timestamp;

use crate::api::pipeline::ConditionRule;

/// What a rule's expression sees.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleContext {
    /// Variables by namespace.
    pub variables: BTreeMap<String, BTreeMap<String, String>>,
    /// The stage's name.
    pub stage: String,
}

/// A rule's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleOutcome {
    /// Whether it passed.
    pub passed: bool,
    /// What was seen.
    pub message: String,
}

/// Evaluates the rules that need no I/O; `None` for HTTP and Prometheus rules.
pub fn evaluate_local(
    rule: &ConditionRule,
    _context: &RuleContext,
    _now: Timestamp,
) -> Option<RuleOutcome> {
    if rule.http.is_some() || rule.prometheus.is_some() {
        return None;
    }
    Some(RuleOutcome {
        passed: false,
        message: "rules are not evaluated yet".into(),
    })
}

/// Evaluates any rule (placeholder).
pub async fn evaluate(rule: &ConditionRule, context: &RuleContext, now: Timestamp) -> RuleOutcome {
    evaluate_local(rule, context, now).unwrap_or(RuleOutcome {
        passed: false,
        message: "rules are not evaluated yet".into(),
    })
}
