//! Lifecycle-hook bookkeeping: which hook runs at an event, what its child is called, and how
//! far it has got.
//!
//! A hook is a Job (exit 0 = Succeeded) or an HTTP call (2xx = Succeeded). Its child is named
//! deterministically from the Deployment's name and UID, the event and the attempt
//! ([`hook_child_name`]) and the name is written to `status.lifecycleEvents[].child` in the same
//! status write that records the start, so a restarted controller asks for the same child
//! again and the apply step's create is a no-op (AlreadyExists) rather than a second run.
//!
//! # Caveats
//! An HTTP hook has no object in the API: the apply step runs the call and reports its answer
//! to the next observe under the child name. A controller restart while a call is in flight
//! runs it again, so HTTP hooks are at-least-once and should be idempotent; Job hooks run once.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::health::elapsed;
use crate::api::deployment::{
    DeploymentTemplate, Hook, LifecycleEvent, LifecycleEventState, LifecycleEventStatus,
};
use crate::runtime::names::{LABEL_VALUE_MAX, fit_name};

/// The hook timeout when the text is unreadable (CodeDeploy's default; the schema defaults it too).
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(3600);

/// How a hook's child is doing, as the observe step saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookOutcome {
    /// Created (or the call was made) and not finished.
    Running,
    /// Exit 0 / a 2xx answer.
    Succeeded,
    /// A non-zero exit, a failed pod, a non-2xx answer or a connection error.
    Failed(String),
}

/// One hook child the observe step found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookObservation {
    /// The child's name (a Job's name, or the HTTP call's key).
    pub child_name: String,
    /// How it is doing.
    pub outcome: HookOutcome,
}

/// The next move for a lifecycle event's hook.
#[derive(Clone, Debug, PartialEq)]
pub enum HookProgress {
    /// No hook at this event: record it Skipped and move on.
    Skip,
    /// Start (or re-request, idempotently) the child with this name.
    Start {
        /// Deterministic child name.
        child_name: String,
        /// The hook to run.
        hook: Box<Hook>,
        /// Time left before the hook times out.
        remaining: Duration,
    },
    /// The hook succeeded.
    Succeeded,
    /// The hook failed or timed out.
    Failed {
        /// Why.
        message: String,
        /// Whether the child is still running and should be stopped.
        timed_out: bool,
    },
}

/// The hook configured at `event`: `spec.hooks` first, then an appspec's resolved hooks.
pub fn hook_for_event<'a>(
    template: &'a DeploymentTemplate,
    appspec_hooks: &'a [(LifecycleEvent, Hook)],
    event: LifecycleEvent,
) -> Option<&'a Hook> {
    let hooks = template.hooks.as_ref();
    let configured = hooks.and_then(|hooks| match event {
        LifecycleEvent::BeforeInstall => hooks.before_install.as_ref(),
        LifecycleEvent::AfterInstall => hooks.after_install.as_ref(),
        LifecycleEvent::AfterAllowTestTraffic => hooks.after_allow_test_traffic.as_ref(),
        LifecycleEvent::BeforeAllowTraffic => hooks.before_allow_traffic.as_ref(),
        LifecycleEvent::AfterAllowTraffic => hooks.after_allow_traffic.as_ref(),
        LifecycleEvent::Install
        | LifecycleEvent::AllowTestTraffic
        | LifecycleEvent::AllowTraffic => None,
    });
    configured.or_else(|| {
        appspec_hooks
            .iter()
            .find(|(hooked, _)| *hooked == event)
            .map(|(_, hook)| hook)
    })
}

/// The kebab-case name of an event, as used in child names.
pub fn event_slug(event: LifecycleEvent) -> &'static str {
    match event {
        LifecycleEvent::BeforeInstall => "before-install",
        LifecycleEvent::Install => "install",
        LifecycleEvent::AfterInstall => "after-install",
        LifecycleEvent::AllowTestTraffic => "allow-test-traffic",
        LifecycleEvent::AfterAllowTestTraffic => "after-allow-test-traffic",
        LifecycleEvent::BeforeAllowTraffic => "before-allow-traffic",
        LifecycleEvent::AllowTraffic => "allow-traffic",
        LifecycleEvent::AfterAllowTraffic => "after-allow-traffic",
    }
}

/// The hook child's name: `<deployment>-<event>-<uid prefix>-<attempt>`, fitted to a DNS label
/// (63 characters) by shortening the deployment's name (with a hash of the whole), never the
/// distinguishing suffix.
pub fn hook_child_name(deployment: &str, uid: &str, event: LifecycleEvent, attempt: u32) -> String {
    let uid_prefix: String = uid
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    let suffix = format!("-{}-{uid_prefix}-{attempt}", event_slug(event));
    fit_name(deployment, &suffix, LABEL_VALUE_MAX)
}

/// The hook's timeout (the default when the text is empty, zero or unreadable).
pub fn timeout(hook: &Hook) -> Duration {
    hook.timeout
        .to_duration()
        .ok()
        .filter(|timeout| !timeout.is_zero())
        .unwrap_or(DEFAULT_HOOK_TIMEOUT)
}

/// How the hook at an event is doing: `entry` is its status record (absent before it starts),
/// `observed` the children the observe step found.
pub fn hook_progress(
    hook: Option<&Hook>,
    entry: Option<&LifecycleEventStatus>,
    child_name: &str,
    observed: &[HookObservation],
    now: &Time,
) -> HookProgress {
    let Some(hook) = hook else {
        return HookProgress::Skip;
    };
    match entry.map(|entry| entry.status) {
        Some(LifecycleEventState::Succeeded) => return HookProgress::Succeeded,
        Some(LifecycleEventState::Failed) => {
            return HookProgress::Failed {
                message: entry
                    .and_then(|entry| entry.message.clone())
                    .unwrap_or_else(|| "hook failed".into()),
                timed_out: false,
            };
        }
        Some(LifecycleEventState::Skipped) => return HookProgress::Skip,
        _ => {}
    }
    let outcome = observed
        .iter()
        .find(|observation| observation.child_name == child_name)
        .map(|observation| &observation.outcome);
    match outcome {
        Some(HookOutcome::Succeeded) => return HookProgress::Succeeded,
        Some(HookOutcome::Failed(message)) => {
            return HookProgress::Failed {
                message: message.clone(),
                timed_out: false,
            };
        }
        _ => {}
    }
    let limit = timeout(hook);
    let started = entry.and_then(|entry| entry.start_time.as_ref());
    let spent = started.map_or(Duration::ZERO, |start| elapsed(start, now));
    if spent >= limit {
        return HookProgress::Failed {
            message: format!("hook timed out after {}s", limit.as_secs()),
            timed_out: true,
        };
    }
    HookProgress::Start {
        child_name: child_name.to_owned(),
        hook: Box::new(hook.clone()),
        remaining: limit - spent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::common::DurationString;
    use crate::api::deployment::{HttpHook, LifecycleHooks};

    fn at(seconds: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(1_800_000_000 + seconds).unwrap())
    }

    fn http_hook(timeout: &str) -> Hook {
        Hook {
            http: Some(HttpHook {
                url: "http://127.0.0.1:9/hook".into(),
                ..Default::default()
            }),
            timeout: DurationString::new(timeout),
            ..Default::default()
        }
    }

    fn running_entry(start: i64) -> LifecycleEventStatus {
        LifecycleEventStatus {
            name: LifecycleEvent::AfterInstall,
            status: LifecycleEventState::InProgress,
            child: None,
            message: None,
            start_time: Some(at(start)),
            end_time: None,
        }
    }

    #[test]
    fn child_names_are_deterministic_and_fit_a_label() {
        let name = hook_child_name("web-v2", "1f0e2d3c-aaaa", LifecycleEvent::BeforeInstall, 1);
        assert_eq!(name, "web-v2-before-install-1f0e2d3c-1");
        let long = hook_child_name(
            &"x".repeat(80),
            "UID",
            LifecycleEvent::AfterAllowTestTraffic,
            1,
        );
        assert!(long.len() <= 63, "{long}");
        assert!(long.ends_with("-after-allow-test-traffic-uid-1"), "{long}");
    }

    #[test]
    fn two_long_deployments_sharing_a_prefix_get_different_children() {
        let first = hook_child_name(
            &format!("{}-first", "x".repeat(60)),
            "UID",
            LifecycleEvent::BeforeInstall,
            1,
        );
        let second = hook_child_name(
            &format!("{}-second", "x".repeat(60)),
            "UID",
            LifecycleEvent::BeforeInstall,
            1,
        );
        assert_ne!(first, second);
        assert!(first.len() <= 63 && second.len() <= 63, "{first} {second}");
    }

    #[test]
    fn spec_hooks_win_over_appspec_hooks() {
        let template = DeploymentTemplate {
            hooks: Some(Box::new(LifecycleHooks {
                after_install: Some(http_hook("1m")),
                ..Default::default()
            })),
            ..Default::default()
        };
        let appspec = vec![
            (LifecycleEvent::AfterInstall, http_hook("9m")),
            (LifecycleEvent::BeforeAllowTraffic, http_hook("2m")),
        ];
        assert_eq!(
            hook_for_event(&template, &appspec, LifecycleEvent::AfterInstall),
            Some(&http_hook("1m"))
        );
        assert_eq!(
            hook_for_event(&template, &appspec, LifecycleEvent::BeforeAllowTraffic),
            Some(&http_hook("2m"))
        );
        assert_eq!(
            hook_for_event(&template, &appspec, LifecycleEvent::BeforeInstall),
            None
        );
    }

    #[test]
    fn missing_hook_is_skipped() {
        assert_eq!(
            hook_progress(None, None, "c", &[], &at(0)),
            HookProgress::Skip
        );
    }

    #[test]
    fn running_hook_is_requested_again_with_the_same_name_until_it_ends() {
        let hook = http_hook("1m");
        let progress = hook_progress(Some(&hook), Some(&running_entry(0)), "c", &[], &at(20));
        assert_eq!(
            progress,
            HookProgress::Start {
                child_name: "c".into(),
                hook: Box::new(hook.clone()),
                remaining: Duration::from_secs(40)
            }
        );
        let done = [HookObservation {
            child_name: "c".into(),
            outcome: HookOutcome::Succeeded,
        }];
        assert_eq!(
            hook_progress(Some(&hook), Some(&running_entry(0)), "c", &done, &at(20)),
            HookProgress::Succeeded
        );
    }

    #[test]
    fn hook_past_its_timeout_fails_and_asks_to_stop_the_child() {
        let hook = http_hook("1m");
        let running = [HookObservation {
            child_name: "c".into(),
            outcome: HookOutcome::Running,
        }];
        assert_eq!(
            hook_progress(Some(&hook), Some(&running_entry(0)), "c", &running, &at(60)),
            HookProgress::Failed {
                message: "hook timed out after 60s".into(),
                timed_out: true
            }
        );
    }

    #[test]
    fn failed_child_fails_the_hook_with_its_message() {
        let hook = http_hook("1h");
        let failed = [HookObservation {
            child_name: "c".into(),
            outcome: HookOutcome::Failed("exit code 3".into()),
        }];
        assert_eq!(
            hook_progress(Some(&hook), Some(&running_entry(0)), "c", &failed, &at(5)),
            HookProgress::Failed {
                message: "exit code 3".into(),
                timed_out: false
            }
        );
        assert_eq!(timeout(&Hook::default()), DEFAULT_HOOK_TIMEOUT);
    }
}
