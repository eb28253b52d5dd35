//! How `slipway deploy status` and `list` show records (pure text from the record, so the
//! layout is unit-tested and `status --watch` can reprint only when the text changes).

use std::fmt::Write as _;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::request::{describe_step, ended};
use crate::api::Deployment as Record;
use crate::api::deployment::{
    DeploymentPhase, DeploymentStrategy, HealthCheck, ReadyAction, RevisionStatus, RolloutStage,
};
use crate::cli::text::{age, table};
use crate::rollout::strategy::{RolloutPlan, resolve_plan};

/// The multi-line status view of one record.
pub fn render_status(record: &Record) -> String {
    let name = record.metadata.name.as_deref().unwrap_or_default();
    let namespace = record.metadata.namespace.as_deref().unwrap_or("default");
    let status = record.status.clone().unwrap_or_default();
    let mut out = String::new();
    let mut line = |label: &str, value: &str| {
        let _ = writeln!(out, "{:<14}{value}", format!("{label}:"));
    };
    line("Name", &format!("{name} (namespace {namespace})"));
    let phase = status.phase.map_or_else(
        || "not reported yet".to_owned(),
        |phase| format!("{phase:?}"),
    );
    let phase = match status.stage {
        Some(stage) if stage != RolloutStage::Done => format!("{phase} (stage {stage:?})"),
        _ => phase,
    };
    line("Phase", &phase);
    if let Some(message) = &status.message {
        line("Message", message);
    }
    if let Some(waiting_for) = &status.waiting_for {
        line(
            "Queued",
            &format!("behind deployments.slipway.dev {waiting_for}"),
        );
    }
    line("Strategy", &describe_strategy(record));
    if let Some(steps) = describe_steps(&record.spec.template.strategy, status.current_step) {
        line("Steps", &steps);
    }
    if let Some(split) = &status.traffic_split {
        line(
            "Traffic",
            &format!("{}% stable, {}% new", split.stable, split.canary),
        );
    }
    if let Some(revision) = &status.stable_revision {
        line("Stable", &describe_revision(revision));
    }
    if let Some(revision) = &status.canary_revision {
        line("New", &describe_revision(revision));
    }
    if !status.lifecycle_events.is_empty() {
        out.push_str("Lifecycle:\n");
        for event in &status.lifecycle_events {
            let mut text = format!("  {:<22} {:?}", format!("{:?}", event.name), event.status);
            if let Some(child) = &event.child {
                let _ = write!(text, "  {} {}", child.kind.to_lowercase(), child.name);
            }
            if let Some(message) = &event.message {
                let _ = write!(text, "  {message}");
            }
            let _ = writeln!(out, "{}", text.trim_end());
        }
    }
    let checks = &record.spec.template.health_checks;
    if !checks.is_empty() {
        out.push_str("Health checks:\n");
        for check in checks {
            let observed = status
                .health_checks
                .iter()
                .find(|observed| observed.name == check.name);
            let state = match observed {
                Some(observed) => {
                    let mut text = format!(
                        "{:?}  {} probes, {} failing in a row (fails at {})",
                        observed.result,
                        observed.probes,
                        observed.consecutive_failures,
                        check.failure_threshold
                    );
                    if let Some(message) = &observed.message {
                        let _ = write!(text, "  {message}");
                    }
                    text
                }
                None => "not probed yet".to_owned(),
            };
            let _ = writeln!(out, "  {:<22} {:<11}{state}", check.name, check_kind(check));
        }
    }
    if let Some(rollback) = &status.rollback {
        let mut text = format!("{:?}", rollback.reason);
        if let Some(message) = &rollback.message {
            let _ = write!(text, ": {message}");
        }
        match (&rollback.start_time, &rollback.completion_time) {
            (_, Some(done)) => {
                let _ = write!(text, " (traffic restored at {})", timestamp(done));
            }
            (Some(start), None) => {
                let _ = write!(text, " (in progress since {})", timestamp(start));
            }
            (None, None) => {}
        }
        let _ = writeln!(out, "{:<14}{text}", "Rollback:");
    }
    if let Some(condition) = status
        .conditions
        .iter()
        .max_by_key(|condition| condition.last_transition_time.0)
    {
        let _ = writeln!(
            out,
            "{:<14}{}={} {}: {}",
            "Condition:", condition.type_, condition.status, condition.reason, condition.message
        );
    }
    if let Some(next) = next_action(record) {
        let _ = writeln!(out, "{:<14}{next}", "Next:");
    }
    out
}

/// What the user can do next, when the rollout waits for them.
fn next_action(record: &Record) -> Option<String> {
    let name = record.metadata.name.as_deref().unwrap_or_default();
    let namespace = record.metadata.namespace.as_deref().unwrap_or("default");
    let status = record.status.as_ref()?;
    let waiting = status.stage == Some(RolloutStage::AwaitPromote)
        || status
            .message
            .as_deref()
            .is_some_and(|message| message.contains("waiting for a promote"));
    if ended(record).is_some() || record.spec.control.stop.is_some() || !waiting {
        return None;
    }
    Some(format!(
        "waiting for a promote: kubectl slipway deploy promote {name} -n {namespace}"
    ))
}

/// The strategy in a few words: shape, traffic mechanism and the blue-green gate.
pub fn describe_strategy(record: &Record) -> String {
    let template = &record.spec.template;
    let strategy = &template.strategy;
    if let Some(rolling) = &strategy.rolling {
        let limit = |value: &Option<IntOrString>, default: &str| match value {
            Some(IntOrString::Int(count)) => count.to_string(),
            Some(IntOrString::String(text)) => text.clone(),
            None => default.to_owned(),
        };
        return format!(
            "rolling (maxSurge {}, maxUnavailable {})",
            limit(&rolling.max_surge, "25%"),
            limit(&rolling.max_unavailable, "25%")
        );
    }
    let shape = if let Some(name) = strategy.config_name {
        serde_json::to_value(name)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default()
    } else if let Some(canary) = &strategy.canary {
        format!(
            "canary: {}%, the rest after {}",
            canary.percent, canary.interval.0
        )
    } else if let Some(linear) = &strategy.linear {
        format!(
            "linear: {}% more every {}",
            linear.percent, linear.interval.0
        )
    } else if strategy.steps.is_some() {
        "explicit steps".to_owned()
    } else {
        "all at once".to_owned()
    };
    let mechanism = match &template.target.http_route {
        Some(route) => format!("weights on HTTPRoute {}", route.name),
        None => format!("Service {} selector", template.target.service),
    };
    let gate = strategy
        .blue_green
        .as_ref()
        .and_then(|settings| settings.ready_option.as_ref())
        .filter(|ready| ready.action == ReadyAction::Wait)
        .map(|ready| match &ready.wait_timeout {
            Some(timeout) => format!(", waits for a promote (up to {})", timeout.0),
            None => ", waits for a promote".to_owned(),
        })
        .unwrap_or_default();
    format!("{shape} via {mechanism}{gate}")
}

/// The plan's steps with the current one bracketed; `None` for rolling updates.
fn describe_steps(strategy: &DeploymentStrategy, current: Option<i32>) -> Option<String> {
    let Ok(RolloutPlan::Traffic(plan)) = resolve_plan(strategy) else {
        return None;
    };
    let steps: Vec<String> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let index = i32::try_from(index).unwrap_or(i32::MAX);
            let text = describe_step(index, step);
            if current == Some(index) {
                format!("[{text}]")
            } else {
                text
            }
        })
        .collect();
    Some(steps.join(" → "))
}

fn describe_revision(revision: &RevisionStatus) -> String {
    let mut text = format!(
        "{}  {}/{} Ready",
        revision.hash, revision.ready_replicas, revision.replicas
    );
    if let Some(workload) = &revision.workload {
        let _ = write!(text, "  deployment {}", workload.name);
    }
    let images: Vec<&str> = revision
        .images
        .iter()
        .map(|image| image.image.as_str())
        .collect();
    if !images.is_empty() {
        let _ = write!(text, "  {}", images.join(", "));
    }
    text
}

fn check_kind(check: &HealthCheck) -> &'static str {
    if check.readiness.is_some() {
        "readiness"
    } else if check.http.is_some() {
        "http"
    } else if check.prometheus.is_some() {
        "prometheus"
    } else if check.job.is_some() {
        "job"
    } else {
        "unknown"
    }
}

fn timestamp(time: &Time) -> String {
    time.0.to_string()
}

/// How `status --watch` ends for a record: `None` while the rollout runs, else success or the
/// reason for a non-zero exit.
pub fn watch_outcome(record: &Record) -> Option<Result<(), String>> {
    let name = record.metadata.name.as_deref().unwrap_or_default();
    let message = record
        .status
        .as_ref()
        .and_then(|status| status.message.clone())
        .unwrap_or_default();
    match ended(record)? {
        DeploymentPhase::Succeeded => Some(Ok(())),
        phase => Some(Err(format!(
            "deployments.slipway.dev {name} ended {phase:?}: {message}"
        ))),
    }
}

/// The `list` table, one row per record, like `kubectl get` (with a NAMESPACE column when
/// `with_namespace`).
pub fn render_list(records: &[Record], now: &Time, with_namespace: bool) -> String {
    let mut header = vec![
        "NAME", "PHASE", "STEP", "WEIGHT", "REVISION", "AGE", "MESSAGE",
    ];
    if with_namespace {
        header.insert(0, "NAMESPACE");
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|record| {
            let status = record.status.clone().unwrap_or_default();
            let step = match (status.current_step, status.total_steps) {
                (Some(step), Some(total)) => format!("{step}/{total}"),
                (Some(step), None) => step.to_string(),
                _ => "-".to_owned(),
            };
            let mut row = vec![
                record.metadata.name.clone().unwrap_or_default(),
                status
                    .phase
                    .map_or_else(|| "-".to_owned(), |phase| format!("{phase:?}")),
                step,
                status
                    .traffic_split
                    .map_or_else(|| "-".to_owned(), |split| split.canary.to_string()),
                status
                    .canary_revision
                    .map_or_else(|| "-".to_owned(), |revision| revision.hash),
                record
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |created| age(created, now)),
                status.message.unwrap_or_default(),
            ];
            if with_namespace {
                row.insert(0, record.metadata.namespace.clone().unwrap_or_default());
            }
            row
        })
        .collect();
    let header: Vec<String> = header.into_iter().map(str::to_owned).collect();
    let rows: Vec<Vec<String>> = std::iter::once(header).chain(rows).collect();
    table(&rows, "")
}
