use super::*;
use crate::pipeline::controller::sources::SourceFailure;

const HEAD_1: &str = "1111111111111111111111111111111111111111";
const HEAD_2: &str = "2222222222222222222222222222222222222222";

fn spec(extra: serde_json::Value) -> PipelineSpec {
    let mut spec = serde_json::json!({
        "source": {"git": {"url": "https://git.test/a.git", "branch": "main", "pollInterval": "60s"}},
        "stages": [{"name": "Build", "actions": [{"name": "b", "approval": {}}]}]
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            spec.insert(key.clone(), value.clone());
        }
    }
    serde_json::from_value(spec).unwrap()
}

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap()
}

fn head(commit: &str) -> SourceCheck {
    SourceCheck::Head(Box::new(SourceRevision {
        commit_id: Some(commit.to_owned()),
        branch_name: Some("main".to_owned()),
        ..SourceRevision::default()
    }))
}

fn failed(failure: SourceFailure) -> SourceCheck {
    SourceCheck::Failed(SourceError {
        failure,
        message: "the host said no".to_owned(),
    })
}

/// A check of generation 1 on a source no run or delivery has seen.
fn check(
    spec: &PipelineSpec,
    status: &mut PipelineStatus,
    answer: &SourceCheck,
    now: Timestamp,
) -> PollOutcome {
    apply_check(spec, status, Some(1), answer, never_seen, now)
}

fn never_seen(_: &str) -> bool {
    false
}

#[test]
fn a_pipeline_never_checked_is_checked_at_once() {
    assert_eq!(
        check_due(&spec(serde_json::json!({})), None, Some(1), at(100)),
        CheckDue::Now
    );
}

#[test]
fn the_first_answer_is_a_baseline_and_starts_no_run() {
    let spec = spec(serde_json::json!({}));
    let mut status = PipelineStatus::default();
    let outcome = check(&spec, &mut status, &head(HEAD_1), at(100));
    assert_eq!(outcome.run, None);
    assert_eq!(status.last_seen_revision.as_deref(), Some(HEAD_1));
    assert_eq!(status.last_poll_time, Some(Time(at(100))));
    let condition = &status.conditions[0];
    assert_eq!(
        (
            condition.type_.as_str(),
            condition.status.as_str(),
            condition.reason.as_str()
        ),
        ("SourceAvailable", "True", "Available")
    );
}

#[test]
fn the_next_check_waits_for_the_poll_interval_and_a_spec_change_brings_it_forward() {
    let spec = spec(serde_json::json!({}));
    let mut status = PipelineStatus::default();
    check(&spec, &mut status, &head(HEAD_1), at(100));
    assert_eq!(
        check_due(&spec, Some(&status), Some(1), at(130)),
        CheckDue::After(Duration::from_secs(30))
    );
    assert_eq!(
        check_due(&spec, Some(&status), Some(1), at(160)),
        CheckDue::Now
    );
    assert_eq!(
        check_due(&spec, Some(&status), Some(2), at(101)),
        CheckDue::Now
    );
}

#[test]
fn a_new_head_starts_one_run_of_that_commit_on_the_source_branch() {
    let spec = spec(serde_json::json!({}));
    let mut status = PipelineStatus::default();
    check(&spec, &mut status, &head(HEAD_1), at(100));
    let outcome = check(&spec, &mut status, &head(HEAD_2), at(160));
    let run = outcome.run.expect("a run");
    assert_eq!(run.revision, HEAD_2);
    assert_eq!(run.source.commit_id.as_deref(), Some(HEAD_2));
    assert_eq!(run.source.branch_name.as_deref(), Some("main"));
    assert_eq!(run.trigger.type_, TriggerType::PollForSourceChanges);
    assert_eq!(outcome.event.unwrap().reason, reasons::SOURCE_CHANGED);
    assert_eq!(status.last_seen_revision.as_deref(), Some(HEAD_2));
    let again = check(&spec, &mut status, &head(HEAD_2), at(220));
    assert_eq!(again.run, None, "an unchanged head starts nothing");
}

#[test]
fn a_revision_a_run_or_a_delivery_already_carried_starts_nothing() {
    let spec = spec(serde_json::json!({}));
    let mut status = PipelineStatus::default();
    check(&spec, &mut status, &head(HEAD_1), at(100));
    let outcome = apply_check(
        &spec,
        &mut status,
        Some(1),
        &head(HEAD_2),
        |revision| revision == HEAD_2,
        at(160),
    );
    assert_eq!(outcome.run, None);
    assert_eq!(status.last_seen_revision.as_deref(), Some(HEAD_2));
}

#[test]
fn a_new_head_the_triggers_do_not_ask_for_starts_nothing_and_says_why() {
    let spec = spec(
        serde_json::json!({"triggers": [{"push": {"branches": {"includes": ["main"]}, "filePaths": {"includes": ["src/**"]}}}]}),
    );
    let mut status = PipelineStatus::default();
    check(&spec, &mut status, &head(HEAD_1), at(100));
    let outcome = check(&spec, &mut status, &head(HEAD_2), at(160));
    assert_eq!(outcome.run, None, "a poll knows no changed files");
    let event = outcome.event.unwrap();
    assert_eq!(event.reason, reasons::SOURCE_CHANGE_FILTERED);
    assert!(event.note.contains("filePaths"), "{}", event.note);
}

#[test]
fn with_polling_off_the_connection_is_checked_but_no_run_starts() {
    let spec = spec(
        serde_json::json!({"source": {"git": {"url": "https://git.test/a.git", "pollInterval": "0s"}}}),
    );
    let mut status = PipelineStatus::default();
    check(&spec, &mut status, &head(HEAD_1), at(100));
    let outcome = check(&spec, &mut status, &head(HEAD_2), at(800));
    assert_eq!(outcome.run, None);
    assert_eq!(
        check_due(&spec, Some(&status), Some(1), at(900)),
        CheckDue::After(CONNECTION_RECHECK - Duration::from_secs(100))
    );
}

#[test]
fn a_failure_sets_the_condition_with_its_kind_and_warns_once() {
    let spec = spec(serde_json::json!({}));
    let mut status = PipelineStatus::default();
    let outcome = check(
        &spec,
        &mut status,
        &failed(SourceFailure::Unauthorized),
        at(100),
    );
    assert_eq!(outcome.event.unwrap().reason, reasons::SOURCE_UNAVAILABLE);
    let condition = &status.conditions[0];
    assert_eq!(
        (
            condition.status.as_str(),
            condition.reason.as_str(),
            condition.message.as_str()
        ),
        ("False", "Unauthorized", "the host said no")
    );
    let again = check(
        &spec,
        &mut status,
        &failed(SourceFailure::Unauthorized),
        at(110),
    );
    assert_eq!(again.event, None, "the same failure warns once");
    let other = check(
        &spec,
        &mut status,
        &failed(SourceFailure::NotFound),
        at(120),
    );
    assert!(other.event.is_some(), "a different failure warns again");
    let recovered = check(&spec, &mut status, &head(HEAD_1), at(130));
    assert_eq!(recovered.event.unwrap().reason, reasons::SOURCE_RECOVERED);
}

#[test]
fn a_failing_source_is_retried_sooner_the_younger_the_failure() {
    let spec = spec(serde_json::json!({}));
    let mut status = PipelineStatus::default();
    let unreachable = failed(SourceFailure::Unreachable);
    check(&spec, &mut status, &unreachable, at(100));
    assert_eq!(
        check_due(&spec, Some(&status), Some(1), at(100)),
        CheckDue::After(MIN_RETRY),
        "a fresh failure is retried after the minimum"
    );
    check(&spec, &mut status, &unreachable, at(180));
    assert_eq!(
        check_due(&spec, Some(&status), Some(1), at(180)),
        CheckDue::After(Duration::from_secs(40)),
        "failing for 80 s: half of that"
    );
    check(&spec, &mut status, &unreachable, at(1000));
    assert_eq!(
        check_due(&spec, Some(&status), Some(1), at(1000)),
        CheckDue::After(Duration::from_secs(60)),
        "never longer than the poll interval"
    );
}

#[test]
fn an_image_source_starts_a_run_for_a_new_digest() {
    let spec: PipelineSpec = serde_json::from_value(serde_json::json!({
        "source": {"image": {"repository": "127.0.0.1:5000/app", "tag": "latest", "pollInterval": "30s"}},
        "stages": [{"name": "Build", "actions": [{"name": "b", "approval": {}}]}]
    }))
    .unwrap();
    let digest = |hex: char| {
        SourceCheck::Head(Box::new(SourceRevision {
            image_digest: Some(format!("sha256:{}", hex.to_string().repeat(64))),
            image_tag: Some("latest".to_owned()),
            ..SourceRevision::default()
        }))
    };
    let mut status = PipelineStatus::default();
    check(&spec, &mut status, &digest('a'), at(100));
    let run = check(&spec, &mut status, &digest('b'), at(130))
        .run
        .expect("a run");
    assert_eq!(run.trigger.type_, TriggerType::ImagePush);
    assert_eq!(run.source.image_tag.as_deref(), Some("latest"));
}

#[test]
fn an_object_store_source_starts_a_run_for_a_new_version() {
    let spec: PipelineSpec = serde_json::from_value(serde_json::json!({
        "source": {"objectStore": {"url": "s3://bucket/app.zip", "pollInterval": "30s"}},
        "stages": [{"name": "Build", "actions": [{"name": "b", "approval": {}}]}]
    }))
    .unwrap();
    assert_eq!(check_due(&spec, None, Some(1), at(1)), CheckDue::Now);
    let version = |v: &str| {
        SourceCheck::Head(Box::new(SourceRevision {
            object_version: Some(v.to_owned()),
            ..SourceRevision::default()
        }))
    };
    let mut status = PipelineStatus::default();
    let baseline = check(&spec, &mut status, &version("v1"), at(1));
    assert!(baseline.run.is_none(), "the first version is a baseline");
    assert_eq!(status.last_seen_revision.as_deref(), Some("v1"));
    assert_eq!(
        check_due(&spec, Some(&status), Some(1), at(2)),
        CheckDue::After(Duration::from_secs(29))
    );
    let changed = check(&spec, &mut status, &version("v2"), at(31));
    let run = changed.run.expect("a new version starts a run");
    assert_eq!(run.revision, "v2");
    assert_eq!(run.source.object_version.as_deref(), Some("v2"));
    assert_eq!(run.trigger.type_, TriggerType::PollForSourceChanges);
    assert!(run.trigger.detail.unwrap().contains("s3://bucket/app.zip"));
}
