//! The source check of a Pipeline, decided purely: when the next check is due, and what a check's
//! answer means for the `SourceAvailable` condition, `lastSeenRevision` and a new run.
//!
//! # Rules
//! - **When**: at once for a Pipeline never checked or whose spec changed since the last check
//!   (the condition's `observedGeneration`); then every `pollInterval`. While the source fails,
//!   sooner: half the time it has been failing, at least [`MIN_RETRY`] and at most `pollInterval`
//!   (a backoff that needs no counter: the condition's `lastTransitionTime` is when it began).
//!   `pollInterval: 0s` turns polling off; the connection is still checked on every spec change
//!   and every [`CONNECTION_RECHECK`].
//! - **Baseline**: the first answer only records `lastSeenRevision`; runs start for changes seen
//!   after the Pipeline exists (a new Pipeline is started by hand or by its first push).
//! - **A change starts one run**: a head other than `lastSeenRevision` that no run of the
//!   Pipeline has and no recent delivery carried (a webhook got there first, or filtered it) is
//!   judged by the triggers as a push to the source branch with no changed files known
//!   ([`super::filter::judge`]), so a `filePaths` trigger starts runs from webhooks only. The
//!   run's name derives from the revision ([`super::runs::poll_run_name`]): a restart between
//!   its create and the status write cannot start a second one.
//! - Image sources: a new digest behind the tag starts a run (triggers are for git events);
//!   object store sources: a new version (S3 version id, else ETag) of the object does.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use crate::api::execution::{ExecutionTrigger, SourceRevision, TriggerType};
use crate::api::pipeline::{PipelineSpec, PipelineStatus};
use crate::pipeline::controller::sources::SourceError;
use crate::pipeline::reasons;
use crate::runtime::conditions::{ConditionStatus, set_condition};
use crate::runtime::events::EventIntent;

use super::event::{EventKind, SourceEvent};
use super::filter::{Decision, judge};

/// The shortest wait before checking a failing source again.
pub const MIN_RETRY: Duration = Duration::from_secs(10);
/// How often the connection is checked when polling is off.
pub const CONNECTION_RECHECK: Duration = Duration::from_secs(600);
/// Who the poller is, in a run's `trigger.actor`.
pub const POLLER_ACTOR: &str = "slipway-poller";

/// When the next check of the source is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckDue {
    /// Check now.
    Now,
    /// Check after this long.
    After(Duration),
    /// This source is not checked (a spec with no source).
    Never,
}

/// Whether the source is polled for runs (`pollInterval` above zero), and how often.
fn poll_interval(spec: &PipelineSpec) -> Option<Option<Duration>> {
    let interval = if let Some(git) = &spec.source.git {
        &git.poll_interval
    } else if let Some(image) = &spec.source.image {
        &image.poll_interval
    } else if let Some(object) = &spec.source.object_store {
        &object.poll_interval
    } else {
        return None;
    };
    Some(interval.to_duration().ok().filter(|every| !every.is_zero()))
}

/// When the next check is due for a Pipeline of `generation` whose stored status is `status`.
pub fn check_due(
    spec: &PipelineSpec,
    status: Option<&PipelineStatus>,
    generation: Option<i64>,
    now: Timestamp,
) -> CheckDue {
    let Some(interval) = poll_interval(spec) else {
        return CheckDue::Never;
    };
    let every = interval.unwrap_or(CONNECTION_RECHECK);
    let condition = status.and_then(|status| {
        status
            .conditions
            .iter()
            .find(|condition| condition.type_ == reasons::SOURCE_AVAILABLE_CONDITION)
    });
    let (Some(last), Some(condition)) = (status.and_then(|s| s.last_poll_time.as_ref()), condition)
    else {
        return CheckDue::Now;
    };
    if condition.observed_generation != generation {
        return CheckDue::Now;
    }
    let wait = if condition.status == ConditionStatus::False.as_str() {
        let failing = duration_between(condition.last_transition_time.0, last.0);
        (failing / 2).clamp(MIN_RETRY, every.max(MIN_RETRY))
    } else {
        every
    };
    let since = duration_between(last.0, now);
    if since >= wait {
        CheckDue::Now
    } else {
        CheckDue::After(wait - since)
    }
}

fn duration_between(from: Timestamp, to: Timestamp) -> Duration {
    Duration::from_millis(
        u64::try_from(to.as_millisecond().saturating_sub(from.as_millisecond())).unwrap_or(0),
    )
}

/// What a check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceCheck {
    /// The source's head: a commit (git) or a digest (image).
    Head(Box<SourceRevision>),
    /// The source cannot be read.
    Failed(SourceError),
}

/// A run the poll starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollRun {
    /// The revision (the run's name derives from it).
    pub revision: String,
    /// What the run is given as its source.
    pub source: SourceRevision,
    /// Its trigger record.
    pub trigger: ExecutionTrigger,
}

/// The outcome of a check: the status to write, the run to start first, the Event to publish.
#[derive(Clone, Debug, PartialEq)]
pub struct PollOutcome {
    /// A run to create before the status is written.
    pub run: Option<PollRun>,
    /// An Event worth publishing (a new failure, a recovery, a started or filtered change).
    pub event: Option<EventIntent>,
}

/// Applies a check's answer to `status`: `lastPollTime`, `lastSeenRevision`, `SourceAvailable`.
/// `seen` tells whether a run or a recent delivery already carried a revision.
pub fn apply_check(
    spec: &PipelineSpec,
    status: &mut PipelineStatus,
    generation: Option<i64>,
    check: &SourceCheck,
    seen: impl Fn(&str) -> bool,
    now: Timestamp,
) -> PollOutcome {
    let was = status
        .conditions
        .iter()
        .find(|condition| condition.type_ == reasons::SOURCE_AVAILABLE_CONDITION)
        .map(|condition| (condition.status.clone(), condition.reason.clone()));
    status.last_poll_time = Some(Time(now));
    match check {
        SourceCheck::Failed(error) => {
            let reason = error.failure.reason();
            set_condition(
                &mut status.conditions,
                reasons::SOURCE_AVAILABLE_CONDITION,
                ConditionStatus::False,
                reason,
                &error.message,
                generation,
                now,
            );
            let new_failure = was.as_ref().is_none_or(|(status, was_reason)| {
                status != ConditionStatus::False.as_str() || was_reason != reason
            });
            PollOutcome {
                run: None,
                event: new_failure.then(|| {
                    EventIntent::warning(reasons::SOURCE_UNAVAILABLE, error.message.clone())
                }),
            }
        }
        SourceCheck::Head(head) => {
            let revision = head
                .commit_id
                .clone()
                .or_else(|| head.image_digest.clone())
                .or_else(|| head.object_version.clone())
                .unwrap_or_default();
            set_condition(
                &mut status.conditions,
                reasons::SOURCE_AVAILABLE_CONDITION,
                ConditionStatus::True,
                reasons::AVAILABLE,
                &format!("the source answered; its head is {}", short(&revision)),
                generation,
                now,
            );
            let recovered = was
                .as_ref()
                .is_some_and(|(status, _)| status == ConditionStatus::False.as_str());
            let previous = status.last_seen_revision.replace(revision.clone());
            let changed = previous
                .as_ref()
                .is_some_and(|previous| *previous != revision);
            let polling = poll_interval(spec).flatten().is_some();
            let mut outcome = PollOutcome {
                run: None,
                event: recovered.then(|| {
                    EventIntent::normal(
                        reasons::SOURCE_RECOVERED,
                        "the source answers again".to_owned(),
                    )
                }),
            };
            if !(changed && polling) || revision.is_empty() || seen(&revision) {
                return outcome;
            }
            match new_revision_run(spec, head, &revision) {
                Ok(run) => {
                    outcome.event = Some(EventIntent::normal(
                        reasons::SOURCE_CHANGED,
                        format!(
                            "a poll found {}; starting a run",
                            run.trigger.detail.clone().unwrap_or_default()
                        ),
                    ));
                    outcome.run = Some(run);
                }
                Err(filtered) => {
                    outcome.event = Some(EventIntent::normal(
                        reasons::SOURCE_CHANGE_FILTERED,
                        format!(
                            "a poll found new revision {}; no run: {filtered}",
                            short(&revision)
                        ),
                    ));
                }
            }
            outcome
        }
    }
}

/// The run for a new head, or why the triggers do not ask for one.
fn new_revision_run(
    spec: &PipelineSpec,
    head: &SourceRevision,
    revision: &str,
) -> Result<PollRun, String> {
    if let Some(object) = &spec.source.object_store {
        return Ok(PollRun {
            revision: revision.to_owned(),
            source: head.clone(),
            trigger: ExecutionTrigger {
                type_: TriggerType::PollForSourceChanges,
                actor: Some(POLLER_ACTOR.to_owned()),
                delivery_id: None,
                detail: Some(format!("new version {} of {}", short(revision), object.url)),
            },
        });
    }
    let Some(git) = &spec.source.git else {
        let tag = head.image_tag.clone().unwrap_or_default();
        return Ok(PollRun {
            revision: revision.to_owned(),
            source: head.clone(),
            trigger: ExecutionTrigger {
                type_: TriggerType::ImagePush,
                actor: Some(POLLER_ACTOR.to_owned()),
                delivery_id: None,
                detail: Some(format!("new digest {} behind tag {tag}", short(revision))),
            },
        });
    };
    let event = SourceEvent {
        kind: EventKind::Push {
            branch: git.branch.clone(),
            deleted: false,
        },
        event_name: "poll".to_owned(),
        commit: Some(revision.to_owned()),
        ..SourceEvent::default()
    };
    match judge(spec, &event) {
        Decision::Start(request) => Ok(PollRun {
            revision: revision.to_owned(),
            source: SourceRevision {
                commit_id: Some(request.commit),
                branch_name: request.branch_name,
                ..SourceRevision::default()
            },
            trigger: ExecutionTrigger {
                type_: TriggerType::PollForSourceChanges,
                actor: Some(POLLER_ACTOR.to_owned()),
                delivery_id: None,
                detail: Some(format!(
                    "new head {} of branch {}",
                    short(revision),
                    git.branch
                )),
            },
        }),
        Decision::Filtered(message) | Decision::Ignored(message) => Err(message),
    }
}

/// The first 12 characters of a revision (a digest keeps its `sha256:` prefix).
fn short(revision: &str) -> &str {
    let keep = if revision.starts_with("sha256:") {
        19
    } else {
        12
    };
    revision.get(..keep).unwrap_or(revision)
}

#[cfg(test)]
#[path = "poll_tests.rs"]
mod tests;
