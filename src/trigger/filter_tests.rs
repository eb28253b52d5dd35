use super::*;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

fn spec(triggers: serde_json::Value) -> PipelineSpec {
    serde_json::from_value(serde_json::json!({
        "source": {"git": {"url": "https://git.test/a.git", "branch": "main"}},
        "triggers": triggers,
        "stages": [{"name": "Build", "actions": [{"name": "b", "approval": {}}]}]
    }))
    .unwrap()
}

fn push(branch: &str, files: Option<&[&str]>) -> SourceEvent {
    SourceEvent {
        kind: EventKind::Push {
            branch: branch.into(),
            deleted: false,
        },
        event_name: "push".into(),
        commit: Some(COMMIT.into()),
        changed_files: files.map(|files| files.iter().map(|f| f.to_string()).collect()),
        ..SourceEvent::default()
    }
}

fn tag(name: &str) -> SourceEvent {
    SourceEvent {
        kind: EventKind::Tag {
            tag: name.into(),
            deleted: false,
        },
        event_name: "push".into(),
        commit: Some(COMMIT.into()),
        ..SourceEvent::default()
    }
}

fn pull_request(action: PullRequestAction, from: &str, into: &str) -> SourceEvent {
    SourceEvent {
        kind: EventKind::PullRequest {
            action,
            number: Some(7),
            source_branch: from.into(),
            target_branch: into.into(),
        },
        event_name: "pull_request".into(),
        commit: Some(COMMIT.into()),
        ..SourceEvent::default()
    }
}

fn started(decision: Decision) -> RunRequest {
    match decision {
        Decision::Start(request) => request,
        other => panic!("expected a run, got {other:?}"),
    }
}

fn filtered(decision: Decision) -> String {
    match decision {
        Decision::Filtered(message) => message,
        other => panic!("expected Filtered, got {other:?}"),
    }
}

fn ignored(decision: Decision) -> String {
    match decision {
        Decision::Ignored(message) => message,
        other => panic!("expected Ignored, got {other:?}"),
    }
}

#[test]
fn rule_nothing_to_run_pings_unsupported_deletions_and_other_pr_actions_are_ignored() {
    let any = spec(serde_json::json!([
        {"push": {"branches": {"includes": ["**"]}}},
        {"tag": {"tags": {"includes": ["**"]}}},
        {"pullRequest": {"events": ["Open", "Updated", "Closed"], "branches": {"includes": ["**"]}}}
    ]));
    let ping = SourceEvent::default();
    assert!(ignored(judge(&any, &ping)).contains("ping"));
    let issue = SourceEvent {
        kind: EventKind::Unsupported,
        event_name: "issues".into(),
        ..SourceEvent::default()
    };
    assert!(ignored(judge(&any, &issue)).contains("issues"));
    let mut deleted = push("main", None);
    deleted.kind = EventKind::Push {
        branch: "main".into(),
        deleted: true,
    };
    assert!(ignored(judge(&any, &deleted)).contains("deleted branch main"));
    let mut deleted_tag = tag("v1");
    deleted_tag.kind = EventKind::Tag {
        tag: "v1".into(),
        deleted: true,
    };
    assert!(ignored(judge(&any, &deleted_tag)).contains("deleted tag v1"));
    let labelled = pull_request(PullRequestAction::Other, "feature", "main");
    assert!(ignored(judge(&any, &labelled)).contains("not opened, updated or closed"));
    let mut no_commit = push("main", None);
    no_commit.commit = None;
    assert!(ignored(judge(&any, &no_commit)).contains("names no commit"));
    // Also without triggers.
    assert!(matches!(
        judge(&spec(serde_json::json!([])), &deleted),
        Decision::Ignored(_)
    ));
}

#[test]
fn rule_no_triggers_only_a_push_to_the_source_branch_runs() {
    let none = spec(serde_json::json!([]));
    let run = started(judge(&none, &push("main", None)));
    assert_eq!(run.commit, COMMIT);
    assert_eq!(run.branch_name.as_deref(), Some("main"));
    assert_eq!(run.trigger_index, None);
    assert!(run.detail.contains("source branch"));
    let other = filtered(judge(&none, &push("feature", None)));
    assert!(other.contains("spec.source.git.branch"), "{other}");
    assert!(filtered(judge(&none, &tag("v1"))).contains("tag trigger"));
    let pr = pull_request(PullRequestAction::Open, "feature", "main");
    assert!(filtered(judge(&none, &pr)).contains("pullRequest trigger"));
}

#[test]
fn rule_no_triggers_and_no_git_source_runs_any_pushed_branch() {
    let mut none = spec(serde_json::json!([]));
    none.source.git = None;
    assert!(matches!(
        judge(&none, &push("anything", None)),
        Decision::Start(_)
    ));
}

#[test]
fn rule_any_trigger_the_first_matching_trigger_runs_and_all_refusals_are_listed() {
    let two = spec(serde_json::json!([
        {"push": {"branches": {"includes": ["release/*"]}}},
        {"push": {"branches": {"includes": ["hotfix/*"]}}}
    ]));
    let run = started(judge(&two, &push("hotfix/x", None)));
    assert_eq!(run.trigger_index, Some(1));
    assert!(run.detail.contains("spec.triggers[1]"));
    let message = filtered(judge(&two, &push("feature/x", None)));
    assert!(
        message.contains("spec.triggers[0].push.branches"),
        "{message}"
    );
    assert!(
        message.contains("spec.triggers[1].push.branches"),
        "{message}"
    );
}

#[test]
fn rule_all_dimensions_branches_and_file_paths_must_both_match() {
    let both = spec(serde_json::json!([{"push": {
        "branches": {"includes": ["main"]},
        "filePaths": {"includes": ["src/**"]}
    }}]));
    assert!(matches!(
        judge(&both, &push("main", Some(&["src/lib.rs"]))),
        Decision::Start(_)
    ));
    let wrong_files = filtered(judge(&both, &push("main", Some(&["docs/a.md"]))));
    assert!(
        wrong_files.contains("spec.triggers[0].push.filePaths"),
        "{wrong_files}"
    );
    let wrong_branch = filtered(judge(&both, &push("dev", Some(&["src/lib.rs"]))));
    assert!(
        wrong_branch.contains("spec.triggers[0].push.branches"),
        "{wrong_branch}"
    );
}

#[test]
fn rule_excludes_win_over_includes() {
    let filter = spec(serde_json::json!([{"push": {"branches": {
        "includes": ["release/**"], "excludes": ["release/old-*"]
    }}}]));
    assert!(matches!(
        judge(&filter, &push("release/2.0", None)),
        Decision::Start(_)
    ));
    let message = filtered(judge(&filter, &push("release/old-1", None)));
    assert!(message.contains("is excluded"), "{message}");
    // Excludes alone: everything else is included.
    let only_excludes = spec(serde_json::json!([{"push": {"branches": {"excludes": ["wip/*"]}}}]));
    assert!(matches!(
        judge(&only_excludes, &push("feature", None)),
        Decision::Start(_)
    ));
    assert!(matches!(
        judge(&only_excludes, &push("wip/a", None)),
        Decision::Filtered(_)
    ));
    // A file excluded while another file is included still matches: one included file is enough.
    let files = spec(serde_json::json!([{"push": {"filePaths": {
        "includes": ["**"], "excludes": ["**/*.md"]
    }}}]));
    assert!(matches!(
        judge(&files, &push("main", Some(&["README.md", "src/a.rs"]))),
        Decision::Start(_)
    ));
    assert!(matches!(
        judge(&files, &push("main", Some(&["README.md", "docs/b.md"]))),
        Decision::Filtered(_)
    ));
}

#[test]
fn rule_branches_default_to_the_source_branch() {
    let files_only = spec(serde_json::json!([{"push": {"filePaths": {"includes": ["**"]}}}]));
    assert!(matches!(
        judge(&files_only, &push("main", Some(&["a"]))),
        Decision::Start(_)
    ));
    let message = filtered(judge(&files_only, &push("dev", Some(&["a"]))));
    assert!(message.contains("only the source branch main"), "{message}");
    let pr = spec(serde_json::json!([{"pullRequest": {}}]));
    assert!(matches!(
        judge(
            &pr,
            &pull_request(PullRequestAction::Open, "feature", "main")
        ),
        Decision::Start(_)
    ));
    assert!(matches!(
        judge(
            &pr,
            &pull_request(PullRequestAction::Open, "feature", "dev")
        ),
        Decision::Filtered(_)
    ));
}

#[test]
fn rule_globs_star_stays_in_a_segment_and_double_star_crosses() {
    let star = spec(serde_json::json!([{"push": {"branches": {"includes": ["release/*"]}}}]));
    assert!(matches!(
        judge(&star, &push("release/1", None)),
        Decision::Start(_)
    ));
    assert!(matches!(
        judge(&star, &push("release/1/hotfix", None)),
        Decision::Filtered(_)
    ));
    let double = spec(serde_json::json!([{"push": {"branches": {"includes": ["release/**"]}}}]));
    assert!(matches!(
        judge(&double, &push("release/1/hotfix", None)),
        Decision::Start(_)
    ));
    let choice = spec(serde_json::json!([{"push": {"branches": {"includes": ["{main,dev}"]}}}]));
    assert!(matches!(
        judge(&choice, &push("dev", None)),
        Decision::Start(_)
    ));
}

#[test]
fn rule_file_paths_need_one_matching_changed_file_and_a_payload_that_lists_them() {
    let filter =
        spec(serde_json::json!([{"push": {"filePaths": {"includes": ["services/api/**"]}}}]));
    assert!(matches!(
        judge(
            &filter,
            &push("main", Some(&["README", "services/api/main.go"]))
        ),
        Decision::Start(_)
    ));
    let none_match = filtered(judge(&filter, &push("main", Some(&["services/web/a.js"]))));
    assert!(
        none_match.contains("none of the 1 changed files"),
        "{none_match}"
    );
    let empty = filtered(judge(&filter, &push("main", Some(&[]))));
    assert!(empty.contains("none of the 0 changed files"), "{empty}");
    let unknown = filtered(judge(&filter, &push("main", None)));
    assert!(unknown.contains("lists no changed files"), "{unknown}");
    assert!(unknown.contains("Bitbucket"), "{unknown}");
    // Without a filePaths filter, an unknown file list does not matter.
    let branches = spec(serde_json::json!([{"push": {"branches": {"includes": ["main"]}}}]));
    assert!(matches!(
        judge(&branches, &push("main", None)),
        Decision::Start(_)
    ));
}

#[test]
fn rule_pull_requests_run_the_head_commit_on_the_source_branch_for_listed_events() {
    let filter = spec(serde_json::json!([{"pullRequest": {
        "events": ["Open", "Closed"], "branches": {"includes": ["main"]}
    }}]));
    let run = started(judge(
        &filter,
        &pull_request(PullRequestAction::Open, "feature/x", "main"),
    ));
    assert_eq!(run.commit, COMMIT);
    assert_eq!(run.branch_name.as_deref(), Some("feature/x"));
    assert!(run.detail.contains("#7"), "{}", run.detail);
    assert!(matches!(
        judge(
            &filter,
            &pull_request(PullRequestAction::Closed, "f", "main")
        ),
        Decision::Start(_)
    ));
    let updated = filtered(judge(
        &filter,
        &pull_request(PullRequestAction::Updated, "f", "main"),
    ));
    assert!(updated.contains("spec.triggers[0].pullRequest.events does not list Updated"));
    // The branches filter reads the target branch, not the source branch.
    let message = filtered(judge(
        &filter,
        &pull_request(PullRequestAction::Open, "main", "dev"),
    ));
    assert!(message.contains("branch dev is not included"), "{message}");
    // Default events are Open and Updated.
    let default = spec(serde_json::json!([{"pullRequest": {"branches": {"includes": ["main"]}}}]));
    assert!(matches!(
        judge(
            &default,
            &pull_request(PullRequestAction::Updated, "f", "main")
        ),
        Decision::Start(_)
    ));
    assert!(matches!(
        judge(
            &default,
            &pull_request(PullRequestAction::Closed, "f", "main")
        ),
        Decision::Filtered(_)
    ));
    // A pull request's payload lists no files: a filePaths filter cannot match it.
    let files = spec(serde_json::json!([{"pullRequest": {"filePaths": {"includes": ["**"]}}}]));
    let message = filtered(judge(
        &files,
        &pull_request(PullRequestAction::Open, "f", "main"),
    ));
    assert!(message.contains("pullRequest.filePaths"), "{message}");
}

#[test]
fn rule_tags_run_a_tag_trigger_with_the_tag_name_and_no_branch() {
    let filter = spec(serde_json::json!([
        {"push": {"branches": {"includes": ["main"]}}},
        {"tag": {"tags": {"includes": ["v*"], "excludes": ["v*-rc*"]}}}
    ]));
    let run = started(judge(&filter, &tag("v1.2.0")));
    assert_eq!(run.tag_name.as_deref(), Some("v1.2.0"));
    assert_eq!(run.branch_name, None);
    assert_eq!(run.trigger_index, Some(1));
    let message = filtered(judge(&filter, &tag("v2.0-rc1")));
    assert!(
        message.contains("spec.triggers[0] has no tag filter"),
        "{message}"
    );
    assert!(
        message.contains("spec.triggers[1].tag.tags: tag v2.0-rc1 is excluded"),
        "{message}"
    );
    // A push trigger does not run tags, a tag trigger does not run pushes.
    assert!(matches!(
        judge(
            &spec(serde_json::json!([{"tag": {"tags": {"includes": ["**"]}}}])),
            &push("main", None)
        ),
        Decision::Filtered(_)
    ));
}

#[test]
fn rule_a_trigger_with_a_bad_glob_matches_nothing_and_the_check_names_the_field() {
    let bad = spec(serde_json::json!([
        {"push": {"branches": {"includes": ["main", "release/[x"]}}},
        {"pullRequest": {"filePaths": {"excludes": ["{a,b"]}}},
        {}
    ]));
    let message = filtered(judge(&bad, &push("main", None)));
    assert!(
        message.contains("spec.triggers[0].push.branches.includes[1] is not a glob"),
        "{message}"
    );
    let problems = check_triggers(&bad.triggers);
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.triggers[0].push.branches.includes[1]",
            "spec.triggers[1].pullRequest.filePaths.excludes[0]",
            "spec.triggers[2]",
        ]
    );
    assert!(problems[0].message.contains("release/[x"));
    assert!(problems[2].message.contains("set push, tag or pullRequest"));
    assert!(check_triggers(&spec(serde_json::json!([{"push": {}}])).triggers).is_empty());
}
