//! What apply learnt outside the API (rule results, a Jenkins trigger's queue item) folded
//! into the status it writes, so the next decision finds it there.

use crate::api::execution::{ExternalRun, PipelineExecutionStatus, RuleResult, StageConditionKind};

/// Records `results` of `stage`'s `condition` (replacing earlier ones of the same rules).
pub fn fold_rule_results(
    status: &mut PipelineExecutionStatus,
    stage: &str,
    condition: StageConditionKind,
    results: Vec<RuleResult>,
) {
    let Some(entry) = status.stages.iter_mut().find(|entry| entry.name == stage) else {
        return;
    };
    for result in results {
        entry
            .rule_results
            .retain(|known| !(known.condition == condition && known.rule == result.rule));
        entry.rule_results.push(RuleResult {
            condition,
            ..result
        });
    }
}

/// Records the Jenkins run an action's trigger started (or found).
pub fn fold_external_run(
    status: &mut PipelineExecutionStatus,
    stage: &str,
    action: &str,
    run: ExternalRun,
) {
    let Some(entry) = status
        .stages
        .iter_mut()
        .find(|entry| entry.name == stage)
        .and_then(|entry| entry.actions.iter_mut().find(|entry| entry.name == action))
    else {
        return;
    };
    entry.external_url = run.build_url.clone().or_else(|| entry.external_url.clone());
    entry.external_run = Some(run);
}
