//! How a test scripts pod behaviour: annotations on a Pod or its owner, or a Rust override.
//!
//! Layers are resolved most specific first: Rust overrides (pod, then owners) beat annotations
//! (pod, then owners), which beat the simulation's defaults. Owners are the pod's ReplicaSet and
//! Deployment or its Job, so a test can annotate the Deployment it creates.
//!
//! # Replaced commands
//! [`PodScript::replace_command`] swaps one container's `command` and `args` for a test's own
//! argv when the pod really runs (local or Docker), e.g. a stand-in for a daemon that cannot run
//! on the test machine. It is Rust-only (no annotation): the replacement is the test's, not the
//! workload's. Layers merge per container (a more specific layer's replacement of a container
//! wins). The argv is used as written (no `$(VAR)` expansion); the local runner still maps
//! container paths in it, so a replacement may name paths inside the pod's volumes.

use std::collections::BTreeMap;
use std::time::Duration;

use super::time::parse_duration;

/// Prefix shared by every scripting annotation.
pub const ANNOTATION_PREFIX: &str = "testcluster.slipway.dev/";
/// Delay between a pod starting and becoming Ready (Go duration).
pub const READY_AFTER: &str = "testcluster.slipway.dev/ready-after";
/// `"true"`: the pod never becomes Ready.
pub const NEVER_READY: &str = "testcluster.slipway.dev/never-ready";
/// Delay after becoming Ready at which the pod turns unready for good (Go duration).
pub const UNREADY_AFTER: &str = "testcluster.slipway.dev/unready-after";
/// `succeed` or `fail`: how a run-to-completion pod ends when simulated.
pub const JOB_OUTCOME: &str = "testcluster.slipway.dev/job-outcome";
/// Termination message of a simulated pod's containers.
pub const TERMINATION_MESSAGE: &str = "testcluster.slipway.dev/termination-message";
/// Exit code of a simulated failing pod (default 1).
pub const EXIT_CODE: &str = "testcluster.slipway.dev/exit-code";
/// How long a simulated run-to-completion pod runs (Go duration).
pub const COMPLETE_AFTER: &str = "testcluster.slipway.dev/complete-after";
/// `simulated` (default), `local` (run the command here) or `docker` (run the image).
pub const RUN: &str = "testcluster.slipway.dev/run";
/// Log text served for a simulated pod's containers.
pub const LOG: &str = "testcluster.slipway.dev/log";

/// How a run-to-completion pod ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodOutcome {
    /// Exit code 0, reason `Completed`, phase `Succeeded`.
    Succeed,
    /// Non-zero exit code, reason `Error`, phase `Failed`.
    Fail,
}

/// Where a pod's containers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Nothing runs; the scripted timeline and outcome are reported.
    Simulated,
    /// Each container's command runs as a local process.
    Local,
    /// Each container runs in the local Docker Engine.
    Docker,
}

/// A partial script: every field unset means "ask the next layer".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodScript {
    /// Delay from start to Ready.
    pub ready_after: Option<Duration>,
    /// Never become Ready.
    pub never_ready: Option<bool>,
    /// Delay from Ready to unready (for good).
    pub unready_after: Option<Duration>,
    /// Outcome of a simulated run-to-completion pod.
    pub outcome: Option<PodOutcome>,
    /// Termination message of a simulated pod.
    pub termination_message: Option<String>,
    /// Exit code of a simulated failure.
    pub exit_code: Option<i32>,
    /// Run time of a simulated run-to-completion pod.
    pub complete_after: Option<Duration>,
    /// Where the containers run.
    pub run: Option<RunMode>,
    /// Log text of a simulated pod.
    pub log: Option<String>,
    /// Replacement `command` (and no `args`) per container name, for really-run pods.
    pub commands: BTreeMap<String, Vec<String>>,
}

impl PodScript {
    /// Sets the delay from start to Ready.
    pub fn ready_after(mut self, delay: Duration) -> Self {
        self.ready_after = Some(delay);
        self
    }
    /// Makes the pod never Ready (or Ready again with `false`).
    pub fn never_ready(mut self, never: bool) -> Self {
        self.never_ready = Some(never);
        self
    }
    /// Makes the pod turn unready `delay` after it became Ready.
    pub fn unready_after(mut self, delay: Duration) -> Self {
        self.unready_after = Some(delay);
        self
    }
    /// Sets the outcome of a simulated run-to-completion pod.
    pub fn outcome(mut self, outcome: PodOutcome) -> Self {
        self.outcome = Some(outcome);
        self
    }
    /// Sets the termination message of a simulated pod.
    pub fn termination_message(mut self, message: impl Into<String>) -> Self {
        self.termination_message = Some(message.into());
        self
    }
    /// Sets the exit code of a simulated failure.
    pub fn exit_code(mut self, code: i32) -> Self {
        self.exit_code = Some(code);
        self
    }
    /// Sets how long a simulated run-to-completion pod runs.
    pub fn complete_after(mut self, delay: Duration) -> Self {
        self.complete_after = Some(delay);
        self
    }
    /// Sets where the containers run.
    pub fn run(mut self, mode: RunMode) -> Self {
        self.run = Some(mode);
        self
    }
    /// Sets the log text of a simulated pod.
    pub fn log(mut self, text: impl Into<String>) -> Self {
        self.log = Some(text.into());
        self
    }
    /// Runs `argv` instead of container `container`'s `command` and `args` (really-run pods).
    pub fn replace_command<S: Into<String>>(
        mut self,
        container: impl Into<String>,
        argv: impl IntoIterator<Item = S>,
    ) -> Self {
        self.commands
            .insert(container.into(), argv.into_iter().map(Into::into).collect());
        self
    }

    /// Reads the scripting annotations; malformed values are reported, not guessed at.
    pub fn from_annotations(annotations: &BTreeMap<String, String>) -> (PodScript, Vec<String>) {
        let mut script = PodScript::default();
        let mut errors = Vec::new();
        let duration = |key: &str, errors: &mut Vec<String>| {
            let text = annotations.get(key)?;
            parse_duration(text)
                .map_err(|e| errors.push(format!("annotation {key}: {e}")))
                .ok()
        };
        script.ready_after = duration(READY_AFTER, &mut errors);
        script.unready_after = duration(UNREADY_AFTER, &mut errors);
        script.complete_after = duration(COMPLETE_AFTER, &mut errors);
        if let Some(text) = annotations.get(NEVER_READY) {
            match text.as_str() {
                "true" => script.never_ready = Some(true),
                "false" => script.never_ready = Some(false),
                other => errors.push(format!(
                    "annotation {NEVER_READY}: expected \"true\" or \"false\", got {other:?}"
                )),
            }
        }
        if let Some(text) = annotations.get(JOB_OUTCOME) {
            match text.as_str() {
                "succeed" => script.outcome = Some(PodOutcome::Succeed),
                "fail" => script.outcome = Some(PodOutcome::Fail),
                other => errors.push(format!(
                    "annotation {JOB_OUTCOME}: expected \"succeed\" or \"fail\", got {other:?}"
                )),
            }
        }
        if let Some(text) = annotations.get(RUN) {
            match text.as_str() {
                "simulated" => script.run = Some(RunMode::Simulated),
                "local" => script.run = Some(RunMode::Local),
                "docker" => script.run = Some(RunMode::Docker),
                other => errors.push(format!("annotation {RUN}: expected \"simulated\", \"local\" or \"docker\", got {other:?}")),
            }
        }
        if let Some(text) = annotations.get(EXIT_CODE) {
            match text.parse::<i32>() {
                Ok(code) => script.exit_code = Some(code),
                Err(_) => errors.push(format!(
                    "annotation {EXIT_CODE}: expected an integer, got {text:?}"
                )),
            }
        }
        script.termination_message = annotations.get(TERMINATION_MESSAGE).cloned();
        script.log = annotations.get(LOG).cloned();
        (script, errors)
    }

    /// Fills every unset field of `self` from `lower`.
    pub fn or(self, lower: &PodScript) -> PodScript {
        PodScript {
            ready_after: self.ready_after.or(lower.ready_after),
            never_ready: self.never_ready.or(lower.never_ready),
            unready_after: self.unready_after.or(lower.unready_after),
            outcome: self.outcome.or(lower.outcome),
            termination_message: self
                .termination_message
                .or_else(|| lower.termination_message.clone()),
            exit_code: self.exit_code.or(lower.exit_code),
            complete_after: self.complete_after.or(lower.complete_after),
            run: self.run.or(lower.run),
            log: self.log.or_else(|| lower.log.clone()),
            commands: lower
                .commands
                .iter()
                .map(|(container, argv)| (container.clone(), argv.clone()))
                .chain(self.commands)
                .collect(),
        }
    }
}

/// Defaults for anything no layer scripts.
#[derive(Debug, Clone, PartialEq)]
pub struct BehaviourDefaults {
    /// Delay from start to Ready.
    pub ready_after: Duration,
    /// Run time of a simulated run-to-completion pod.
    pub complete_after: Duration,
    /// Where containers run.
    pub run: RunMode,
}

impl Default for BehaviourDefaults {
    fn default() -> Self {
        BehaviourDefaults {
            ready_after: Duration::from_millis(200),
            complete_after: Duration::from_millis(300),
            run: RunMode::Simulated,
        }
    }
}

/// A fully resolved pod behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct PodBehaviour {
    /// Delay from start to Ready; `None` means never Ready.
    pub ready_after: Option<Duration>,
    /// Delay from Ready to unready.
    pub unready_after: Option<Duration>,
    /// Outcome of a simulated run-to-completion pod.
    pub outcome: PodOutcome,
    /// Termination message of a simulated pod.
    pub termination_message: String,
    /// Exit code of a simulated pod (0 when it succeeds).
    pub exit_code: i32,
    /// Run time of a simulated run-to-completion pod.
    pub complete_after: Duration,
    /// Where the containers run.
    pub run: RunMode,
    /// Log text of a simulated pod.
    pub log: String,
    /// Replacement `command` per container name, for really-run pods.
    pub commands: BTreeMap<String, Vec<String>>,
}

impl PodBehaviour {
    /// Resolves `layers` (most specific first) over `defaults`.
    pub fn resolve(layers: &[PodScript], defaults: &BehaviourDefaults) -> PodBehaviour {
        let merged = layers
            .iter()
            .fold(PodScript::default(), |acc, layer| acc.or(layer));
        let outcome = merged.outcome.unwrap_or(PodOutcome::Succeed);
        let exit_code = match outcome {
            PodOutcome::Succeed => 0,
            // A failure with a scripted 0 would be contradictory; Kubernetes reports non-zero.
            PodOutcome::Fail => merged.exit_code.filter(|c| *c != 0).unwrap_or(1),
        };
        PodBehaviour {
            ready_after: if merged.never_ready == Some(true) {
                None
            } else {
                Some(merged.ready_after.unwrap_or(defaults.ready_after))
            },
            unready_after: merged.unready_after,
            outcome,
            termination_message: merged.termination_message.unwrap_or_default(),
            exit_code,
            complete_after: merged.complete_after.unwrap_or(defaults.complete_after),
            run: merged.run.unwrap_or(defaults.run),
            log: merged.log.unwrap_or_default(),
            commands: merged.commands,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn annotations_script_every_field() {
        let (script, errors) = PodScript::from_annotations(&annotations(&[
            (READY_AFTER, "2s"),
            (UNREADY_AFTER, "1m"),
            (NEVER_READY, "false"),
            (JOB_OUTCOME, "fail"),
            (TERMINATION_MESSAGE, "boom"),
            (EXIT_CODE, "3"),
            (COMPLETE_AFTER, "10ms"),
            (RUN, "docker"),
            (LOG, "hello"),
        ]));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            script,
            PodScript::default()
                .ready_after(Duration::from_secs(2))
                .unready_after(Duration::from_secs(60))
                .never_ready(false)
                .outcome(PodOutcome::Fail)
                .termination_message("boom")
                .exit_code(3)
                .complete_after(Duration::from_millis(10))
                .run(RunMode::Docker)
                .log("hello")
        );
    }

    #[test]
    fn malformed_annotations_are_reported_and_ignored() {
        let (script, errors) = PodScript::from_annotations(&annotations(&[
            (READY_AFTER, "soon"),
            (JOB_OUTCOME, "maybe"),
            (RUN, "k8s"),
        ]));
        assert_eq!(script, PodScript::default());
        assert_eq!(errors.len(), 3);
        assert!(errors[0].contains(READY_AFTER));
    }

    #[test]
    fn more_specific_layers_win_and_defaults_fill_the_rest() {
        let pod = PodScript::default().outcome(PodOutcome::Fail);
        let owner = PodScript::default()
            .outcome(PodOutcome::Succeed)
            .termination_message("from owner");
        let behaviour = PodBehaviour::resolve(&[pod, owner], &BehaviourDefaults::default());
        assert_eq!(behaviour.outcome, PodOutcome::Fail);
        assert_eq!(behaviour.exit_code, 1);
        assert_eq!(behaviour.termination_message, "from owner");
        assert_eq!(behaviour.ready_after, Some(Duration::from_millis(200)));
        assert_eq!(behaviour.run, RunMode::Simulated);
    }

    #[test]
    fn never_ready_removes_the_ready_delay() {
        let behaviour = PodBehaviour::resolve(
            &[PodScript::default()
                .never_ready(true)
                .ready_after(Duration::from_secs(1))],
            &BehaviourDefaults::default(),
        );
        assert_eq!(behaviour.ready_after, None);
    }

    #[test]
    fn replaced_commands_merge_per_container_and_the_more_specific_layer_wins() {
        let pod = PodScript::default().replace_command("docker", ["ln", "-s", "/a", "/b"]);
        let job = PodScript::default()
            .replace_command("docker", ["sleep", "1"])
            .replace_command("fetch", ["true"]);
        let behaviour = PodBehaviour::resolve(&[pod, job], &BehaviourDefaults::default());
        assert_eq!(
            behaviour.commands,
            BTreeMap::from([
                (
                    "docker".to_owned(),
                    vec!["ln".into(), "-s".into(), "/a".into(), "/b".into()]
                ),
                ("fetch".to_owned(), vec!["true".to_owned()]),
            ])
        );
        assert!(
            PodBehaviour::resolve(&[], &BehaviourDefaults::default())
                .commands
                .is_empty(),
            "no layer, no replacement"
        );
    }

    #[test]
    fn a_successful_pod_exits_zero_whatever_the_scripted_code() {
        let behaviour = PodBehaviour::resolve(
            &[PodScript::default().exit_code(7)],
            &BehaviourDefaults::default(),
        );
        assert_eq!(behaviour.exit_code, 0);
        let failing = PodBehaviour::resolve(
            &[PodScript::default().exit_code(0).outcome(PodOutcome::Fail)],
            &BehaviourDefaults::default(),
        );
        assert_eq!(failing.exit_code, 1);
    }
}
