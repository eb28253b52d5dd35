//! The pure follow decision: every step from a recorded run and an observation.

use super::follow::*;
use crate::api::execution::ExternalRun;

const QUEUE: &str = "https://ci.example.com/queue/item/42/";
const BUILD: &str = "https://ci.example.com/job/folder/job/app/7/";

fn queued() -> ExternalRun {
    ExternalRun {
        queue_url: Some(QUEUE.into()),
        ..ExternalRun::default()
    }
}

fn started() -> ExternalRun {
    ExternalRun {
        queue_url: Some(QUEUE.into()),
        build_url: Some(BUILD.into()),
        build_number: Some(7),
        result: None,
    }
}

fn build(building: bool, result: Option<&str>) -> BuildState {
    BuildState {
        number: 7,
        url: BUILD.into(),
        building,
        result: result.map(str::to_owned),
    }
}

fn read_queue() -> NextStep {
    NextStep::ReadQueue {
        queue_url: QUEUE.into(),
    }
}

fn read_build() -> NextStep {
    NextStep::ReadBuild {
        build_url: BUILD.into(),
    }
}

fn finished(succeeded: bool, message: &str) -> NextStep {
    NextStep::Finished(RunOutcome {
        succeeded,
        message: message.into(),
    })
}

#[test]
fn the_record_alone_says_where_to_resume() {
    let cases = [
        (
            "nothing recorded searches before any trigger",
            ExternalRun::default(),
            NextStep::Search,
        ),
        ("a recorded queue item is read", queued(), read_queue()),
        ("a recorded build is read", started(), read_build()),
        (
            "a recorded result is final",
            ExternalRun {
                result: Some("SUCCESS".into()),
                ..started()
            },
            finished(
                true,
                "Jenkins build #7 succeeded: https://ci.example.com/job/folder/job/app/7/console",
            ),
        ),
    ];
    for (behaviour, record, next) in cases {
        let progress = decide_next_step(&record, None);
        assert_eq!(progress.next, next, "{behaviour}");
        assert_eq!(
            progress.record, record,
            "{behaviour}: nothing read, nothing changes"
        );
    }
}

#[test]
fn observations_move_the_run_forward() {
    let cases: Vec<(&str, ExternalRun, Observation, NextStep, ExternalRun)> = vec![
        (
            "nothing found triggers",
            ExternalRun::default(),
            Observation::Search(None),
            NextStep::Trigger,
            ExternalRun::default(),
        ),
        (
            "a run found queued is followed, not triggered again",
            ExternalRun::default(),
            Observation::Search(Some(FoundRun::Queued {
                queue_url: QUEUE.into(),
            })),
            read_queue(),
            queued(),
        ),
        (
            "a build found running is followed",
            ExternalRun::default(),
            Observation::Search(Some(FoundRun::Build(build(true, None)))),
            read_build(),
            ExternalRun {
                queue_url: None,
                ..started()
            },
        ),
        (
            "the trigger's queue item is recorded",
            ExternalRun::default(),
            Observation::Triggered(Triggered {
                queue_url: QUEUE.into(),
                findable: true,
            }),
            read_queue(),
            queued(),
        ),
        (
            "a waiting queue item is read again",
            queued(),
            Observation::Queue(QueueItem {
                why: Some("Waiting for next available executor".into()),
                ..QueueItem::default()
            }),
            read_queue(),
            queued(),
        ),
        (
            "a started queue item records the build",
            queued(),
            Observation::Queue(QueueItem {
                executable: Some(Executable {
                    number: 7,
                    url: BUILD.into(),
                }),
                ..QueueItem::default()
            }),
            read_build(),
            started(),
        ),
        (
            "a forgotten queue item is searched for by action id",
            queued(),
            Observation::QueueGone,
            NextStep::Search,
            queued(),
        ),
        (
            "a forgotten queue item found as a build is followed",
            queued(),
            Observation::Search(Some(FoundRun::Build(build(true, None)))),
            read_build(),
            started(),
        ),
        (
            "a running build is read again",
            started(),
            Observation::Build(build(true, None)),
            read_build(),
            started(),
        ),
        (
            "a build that stopped without a result yet is read again",
            started(),
            Observation::Build(build(false, None)),
            read_build(),
            started(),
        ),
    ];
    for (behaviour, record, observation, next, written) in cases {
        let progress = decide_next_step(&record, Some(observation));
        assert_eq!(progress.next, next, "{behaviour}");
        assert_eq!(progress.record, written, "{behaviour}");
    }
}

#[test]
fn results_other_than_success_fail_naming_the_result_and_the_console() {
    for (result, succeeded, message) in [
        ("SUCCESS", true, "Jenkins build #7 succeeded"),
        ("FAILURE", false, "Jenkins build #7 ended FAILURE"),
        ("UNSTABLE", false, "Jenkins build #7 ended UNSTABLE"),
        ("ABORTED", false, "Jenkins build #7 ended ABORTED"),
        ("NOT_BUILT", false, "Jenkins build #7 ended NOT_BUILT"),
    ] {
        let progress = decide_next_step(
            &started(),
            Some(Observation::Build(build(false, Some(result)))),
        );
        let expected = format!("{message}: https://ci.example.com/job/folder/job/app/7/console");
        assert_eq!(progress.next, finished(succeeded, &expected), "{result}");
        assert_eq!(progress.record.result.as_deref(), Some(result));
        assert_eq!(progress.message, expected);
    }
}

#[test]
fn runs_that_vanish_or_are_cancelled_fail() {
    let cancelled = decide_next_step(
        &queued(),
        Some(Observation::Queue(QueueItem {
            cancelled: true,
            ..QueueItem::default()
        })),
    );
    assert_eq!(
        cancelled.next,
        finished(
            false,
            "the Jenkins queue item https://ci.example.com/queue/item/42/ was cancelled before it started"
        )
    );
    let lost = decide_next_step(&queued(), Some(Observation::Search(None)));
    assert!(
        matches!(&lost.next, NextStep::Finished(RunOutcome { succeeded: false, message }) if message.contains("SLIPWAY_ACTION_ID")),
        "a forgotten queue item with no build is never triggered again: {lost:?}"
    );
    let deleted = decide_next_step(&started(), Some(Observation::BuildGone));
    assert!(
        matches!(&deleted.next, NextStep::Finished(RunOutcome { succeeded: false, message }) if message.contains("no longer exists")),
        "{deleted:?}"
    );
}

#[test]
fn a_trigger_the_job_cannot_find_again_says_it_is_at_least_once() {
    let progress = decide_next_step(
        &ExternalRun::default(),
        Some(Observation::Triggered(Triggered {
            queue_url: QUEUE.into(),
            findable: false,
        })),
    );
    assert!(
        progress
            .message
            .contains("does not declare the string parameter SLIPWAY_ACTION_ID"),
        "{}",
        progress.message
    );
}

#[test]
fn a_queue_message_says_why_jenkins_waits() {
    let progress = decide_next_step(
        &queued(),
        Some(Observation::Queue(QueueItem {
            why: Some("Waiting for next available executor".into()),
            ..QueueItem::default()
        })),
    );
    assert_eq!(
        progress.message,
        "waiting in the Jenkins queue: Waiting for next available executor"
    );
}
