use super::*;

fn status(value: Value) -> PipelineExecutionStatus {
    serde_json::from_value(value).unwrap()
}

fn keys(all: &[Notice]) -> Vec<&str> {
    all.iter().map(|notice| notice.key.as_str()).collect()
}

fn sink(on: Value) -> NotificationSink {
    serde_json::from_value(json!({"name": "s", "url": "http://127.0.0.1:9/", "on": on})).unwrap()
}

#[test]
fn a_run_without_a_phase_has_nothing_to_say() {
    assert!(notices(&PipelineExecutionStatus::default()).is_empty());
}

#[test]
fn a_finished_run_tells_its_story_in_order() {
    let all = notices(&status(json!({
        "phase": "Succeeded", "startTime": "2026-12-07T10:00:00Z", "completionTime": "2026-12-07T10:05:00Z",
        "sourceRevision": {"commitId": "abc1234"},
        "stages": [
            {"name": "Build", "status": "Succeeded", "attempt": 1, "startTime": "2026-12-07T10:00:01Z", "completionTime": "2026-12-07T10:02:00Z",
             "actions": [{"name": "Image", "status": "Succeeded", "attempt": 1, "startTime": "2026-12-07T10:00:02Z", "completionTime": "2026-12-07T10:01:59Z"}]},
            {"name": "Deploy", "status": "Succeeded", "attempt": 1, "startTime": "2026-12-07T10:02:01Z", "completionTime": "2026-12-07T10:05:00Z",
             "actions": [{"name": "Roll", "status": "Succeeded", "attempt": 1, "startTime": "2026-12-07T10:02:02Z", "completionTime": "2026-12-07T10:04:59Z"}]}
        ]
    })));
    assert_eq!(
        keys(&all),
        [
            "run:started",
            "stage:Build#1:started",
            "action:Build/Image#1:started",
            "action:Build/Image#1:Succeeded",
            "stage:Build#1:Succeeded",
            "stage:Deploy#1:started",
            "action:Deploy/Roll#1:started",
            "action:Deploy/Roll#1:Succeeded",
            "stage:Deploy#1:Succeeded",
            "run:Succeeded",
        ]
    );
    let end = all.last().unwrap();
    assert_eq!(end.type_, "dev.slipway.pipeline.execution.succeeded");
    assert_eq!(end.time.as_deref(), Some("2026-12-07T10:05:00Z"));
    assert_eq!(end.data["revision"], "abc1234");
    assert_eq!(all[1].type_, "dev.slipway.pipeline.stage.started");
    assert_eq!(all[3].type_, "dev.slipway.pipeline.action.succeeded");
}

#[test]
fn a_running_run_has_only_its_starts_and_the_ends_so_far() {
    let all = notices(&status(json!({
        "phase": "InProgress", "startTime": "2026-12-07T10:00:00Z",
        "stages": [
            {"name": "Build", "status": "InProgress", "attempt": 1, "startTime": "2026-12-07T10:00:01Z",
             "actions": [{"name": "Image", "status": "InProgress", "attempt": 1, "startTime": "2026-12-07T10:00:02Z"}]},
            {"name": "Deploy"}
        ]
    })));
    assert_eq!(
        keys(&all),
        [
            "run:started",
            "stage:Build#1:started",
            "action:Build/Image#1:started"
        ]
    );
}

#[test]
fn every_terminal_state_has_its_type() {
    for (phase, end) in [
        ("Failed", "failed"),
        ("Stopped", "stopped"),
        ("Superseded", "superseded"),
        ("Cancelled", "cancelled"),
    ] {
        let all = notices(&status(json!({"phase": phase})));
        assert_eq!(
            all.last().unwrap().type_,
            format!("dev.slipway.pipeline.execution.{end}")
        );
        assert_eq!(all.last().unwrap().key, format!("run:{phase}"));
    }
    let all = notices(&status(json!({"phase": "Stopping"})));
    assert_eq!(keys(&all), ["run:started"], "stopping is not an end");
    let abandoned = notices(&status(json!({"phase": "Stopped", "stages": [
        {"name": "B", "status": "Stopped", "attempt": 1, "startTime": "2026-12-07T10:00:01Z",
         "actions": [{"name": "a", "status": "Abandoned", "attempt": 1, "startTime": "2026-12-07T10:00:02Z"}]}
    ]})));
    assert!(
        abandoned
            .iter()
            .any(|n| n.type_ == "dev.slipway.pipeline.action.abandoned")
    );
    assert!(
        abandoned
            .iter()
            .any(|n| n.type_ == "dev.slipway.pipeline.stage.stopped")
    );
}

#[test]
fn a_skipped_stage_only_ends_and_a_retried_stage_tells_each_attempt() {
    let all = notices(&status(json!({"phase": "InProgress", "stages": [
        {"name": "Gate", "status": "Skipped", "attempt": 1},
        {"name": "Build", "status": "InProgress", "attempt": 2, "startTime": "2026-12-07T10:00:01Z",
         "actions": [{"name": "Image", "status": "Failed", "attempt": 2, "startTime": "2026-12-07T10:00:02Z", "completionTime": "2026-12-07T10:00:03Z", "message": "exit 1"}]}
    ]})));
    assert_eq!(
        keys(&all),
        [
            "run:started",
            "stage:Gate#1:Skipped",
            "stage:Build#2:started",
            "action:Build/Image#2:started",
            "action:Build/Image#2:Failed",
        ]
    );
    assert_eq!(all[1].type_, "dev.slipway.pipeline.stage.skipped");
    assert_eq!(all[4].data["message"], "exit 1");
}

#[test]
fn a_sink_gets_its_scopes_minus_what_it_acknowledged() {
    let all = notices(&status(json!({
        "phase": "Succeeded",
        "stages": [{"name": "B", "status": "Succeeded", "attempt": 1, "startTime": "2026-12-07T10:00:01Z",
                    "actions": [{"name": "a", "status": "Succeeded", "attempt": 1, "startTime": "2026-12-07T10:00:02Z"}]}]
    })));
    let runs_only = sink(json!(["Execution"]));
    let pending_keys = |sink: &NotificationSink, progress: Option<&NotificationProgress>| {
        pending(sink, &all, progress)
            .into_iter()
            .map(|n| n.key.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        pending_keys(&runs_only, None),
        ["run:started", "run:Succeeded"]
    );
    let acknowledged = NotificationProgress {
        name: "s".into(),
        delivered: vec!["run:started".into()],
        ..NotificationProgress::default()
    };
    assert_eq!(
        pending_keys(&runs_only, Some(&acknowledged)),
        ["run:Succeeded"]
    );
    let everything = sink(json!(["Execution", "Stage", "Action"]));
    assert_eq!(pending_keys(&everything, None).len(), 6);
    let defaulted: NotificationSink =
        serde_json::from_value(json!({"name": "d", "url": "http://127.0.0.1:9/"})).unwrap();
    assert_eq!(
        pending_keys(&defaulted, None).len(),
        6,
        "all scopes by default"
    );
}
