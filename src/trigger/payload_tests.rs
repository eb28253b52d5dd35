use axum::http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;

use super::*;

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const ZERO: &str = "0000000000000000000000000000000000000000";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

fn read(provider: WebhookProvider, pairs: &[(&str, &str)], body: serde_json::Value) -> SourceEvent {
    parse(provider, &headers(pairs), body.to_string().as_bytes()).unwrap()
}

fn refused(provider: WebhookProvider, pairs: &[(&str, &str)], body: &str) -> String {
    parse(provider, &headers(pairs), body.as_bytes())
        .unwrap_err()
        .to_string()
}

#[test]
fn github_push_takes_head_commit_files_actor_and_first_message_line() {
    let event = read(
        WebhookProvider::Github,
        &[("X-GitHub-Event", "push")],
        serde_json::json!({
            "ref": "refs/heads/release/1", "after": B, "deleted": false,
            "commits": [
                {"id": A, "added": ["a"], "modified": ["b"], "removed": []},
                {"id": B, "added": [], "modified": ["b", "c"], "removed": ["d"]}
            ],
            "head_commit": {"id": B, "message": "Fix it\n\nLong story", "timestamp": "2026-01-02T03:04:05Z"},
            "pusher": {"name": "ana"}, "sender": {"login": "ana-gh"},
            "repository": {"full_name": "org/app"}
        }),
    );
    assert_eq!(
        event.kind,
        EventKind::Push {
            branch: "release/1".into(),
            deleted: false
        }
    );
    assert_eq!(event.commit.as_deref(), Some(B));
    assert_eq!(
        event.changed_files,
        Some(vec!["a".into(), "b".into(), "c".into(), "d".into()])
    );
    assert_eq!(event.actor.as_deref(), Some("ana"));
    assert_eq!(event.repository.as_deref(), Some("org/app"));
    assert_eq!(event.commit_message.as_deref(), Some("Fix it"));
    assert_eq!(event.author_date.as_deref(), Some("2026-01-02T03:04:05Z"));
}

#[test]
fn a_push_that_deletes_a_branch_or_tag_names_no_commit() {
    let deleted = read(
        WebhookProvider::Github,
        &[("X-GitHub-Event", "push")],
        serde_json::json!({"ref": "refs/heads/gone", "after": ZERO, "deleted": true, "commits": [], "head_commit": null}),
    );
    assert_eq!(
        deleted.kind,
        EventKind::Push {
            branch: "gone".into(),
            deleted: true
        }
    );
    assert_eq!(deleted.commit, None);
    let gitlab = read(
        WebhookProvider::Gitlab,
        &[("X-Gitlab-Event", "Tag Push Hook")],
        serde_json::json!({"ref": "refs/tags/v1", "before": A, "after": ZERO, "checkout_sha": null}),
    );
    assert_eq!(
        gitlab.kind,
        EventKind::Tag {
            tag: "v1".into(),
            deleted: true
        }
    );
    let bitbucket = read(
        WebhookProvider::Bitbucket,
        &[("X-Event-Key", "repo:push")],
        serde_json::json!({"push": {"changes": [{"new": null, "old": {"type": "branch", "name": "old", "target": {"hash": A}}}]}}),
    );
    assert_eq!(
        bitbucket.kind,
        EventKind::Push {
            branch: "old".into(),
            deleted: true
        }
    );
    assert_eq!(bitbucket.commit, None);
}

#[test]
fn gitea_and_forgejo_push_without_head_commit_takes_the_after_commit() {
    let body = serde_json::json!({
        "ref": "refs/heads/main", "after": B, "head_commit": null,
        "commits": [{"id": B, "message": "one\ntwo", "timestamp": "t", "modified": ["x"]}],
        "pusher": {"login": "gitea-user"}
    });
    let gitea = read(
        WebhookProvider::Gitea,
        &[("X-Gitea-Event", "push")],
        body.clone(),
    );
    assert_eq!(gitea.commit.as_deref(), Some(B));
    assert_eq!(gitea.commit_message.as_deref(), Some("one"));
    assert_eq!(gitea.actor.as_deref(), Some("gitea-user"));
    let forgejo = read(
        WebhookProvider::Forgejo,
        &[("X-Forgejo-Event", "push")],
        body.clone(),
    );
    assert_eq!(forgejo, gitea);
    // Forgejo still sends Gitea's headers too.
    let forgejo_as_gitea = read(WebhookProvider::Forgejo, &[("X-Gitea-Event", "push")], body);
    assert_eq!(forgejo_as_gitea, gitea);
}

#[test]
fn github_and_gitea_pull_requests_map_actions_and_take_the_head() {
    for (action, expected) in [
        ("opened", PullRequestAction::Open),
        ("reopened", PullRequestAction::Open),
        ("synchronize", PullRequestAction::Updated),
        ("synchronized", PullRequestAction::Updated),
        ("closed", PullRequestAction::Closed),
        ("labeled", PullRequestAction::Other),
    ] {
        let event = read(
            WebhookProvider::Github,
            &[("X-GitHub-Event", "pull_request")],
            serde_json::json!({
                "action": action, "number": 9,
                "pull_request": {"number": 9, "head": {"ref": "feature", "sha": A}, "base": {"ref": "main", "sha": B}, "user": {"login": "dev"}}
            }),
        );
        assert_eq!(
            event.kind,
            EventKind::PullRequest {
                action: expected,
                number: Some(9),
                source_branch: "feature".into(),
                target_branch: "main".into()
            },
            "{action}"
        );
        assert_eq!(event.commit.as_deref(), Some(A));
        assert_eq!(event.changed_files, None);
        assert_eq!(event.actor.as_deref(), Some("dev"));
    }
}

#[test]
fn gitlab_merge_requests_count_an_update_only_when_commits_changed() {
    let request = |action: &str, oldrev: Option<&str>| {
        let mut attributes = serde_json::json!({
            "action": action, "iid": 3, "source_branch": "feat", "target_branch": "main",
            "last_commit": {"id": A, "message": "wip\nmore", "timestamp": "t"}
        });
        if let Some(oldrev) = oldrev {
            attributes["oldrev"] = oldrev.into();
        }
        read(
            WebhookProvider::Gitlab,
            &[("X-Gitlab-Event", "Merge Request Hook")],
            serde_json::json!({"object_attributes": attributes, "user": {"username": "gl"}, "project": {"path_with_namespace": "g/p"}}),
        )
    };
    let action = |event: SourceEvent| match event.kind {
        EventKind::PullRequest { action, .. } => action,
        other => panic!("{other:?}"),
    };
    assert_eq!(action(request("open", None)), PullRequestAction::Open);
    assert_eq!(action(request("reopen", None)), PullRequestAction::Open);
    assert_eq!(
        action(request("update", Some(B))),
        PullRequestAction::Updated
    );
    assert_eq!(action(request("update", None)), PullRequestAction::Other);
    assert_eq!(action(request("merge", None)), PullRequestAction::Closed);
    assert_eq!(action(request("close", None)), PullRequestAction::Closed);
    assert_eq!(action(request("approved", None)), PullRequestAction::Other);
    let event = request("open", None);
    assert_eq!(event.commit.as_deref(), Some(A));
    assert_eq!(event.actor.as_deref(), Some("gl"));
    assert_eq!(event.repository.as_deref(), Some("g/p"));
    assert_eq!(event.commit_message.as_deref(), Some("wip"));
}

#[test]
fn bitbucket_pull_requests_and_tags_and_ping() {
    let event = read(
        WebhookProvider::Bitbucket,
        &[("X-Event-Key", "pullrequest:fulfilled")],
        serde_json::json!({"pullrequest": {"id": 4,
            "source": {"branch": {"name": "feat"}, "commit": {"hash": "abcdef123456"}},
            "destination": {"branch": {"name": "main"}, "commit": {"hash": "123456abcdef"}}},
            "actor": {"display_name": "Bo"}}),
    );
    assert_eq!(
        event.kind,
        EventKind::PullRequest {
            action: PullRequestAction::Closed,
            number: Some(4),
            source_branch: "feat".into(),
            target_branch: "main".into()
        }
    );
    assert_eq!(event.commit.as_deref(), Some("abcdef123456"));
    let tag = read(
        WebhookProvider::Bitbucket,
        &[("X-Event-Key", "repo:push")],
        serde_json::json!({"push": {"changes": [{"new": {"type": "tag", "name": "v2", "target": {"hash": A}}}]}}),
    );
    assert_eq!(
        tag.kind,
        EventKind::Tag {
            tag: "v2".into(),
            deleted: false
        }
    );
    assert_eq!(tag.changed_files, None);
    let ping = read(
        WebhookProvider::Bitbucket,
        &[("X-Event-Key", "diagnostics:ping")],
        serde_json::json!({}),
    );
    assert_eq!(ping.kind, EventKind::Ping);
}

#[test]
fn generic_json_reads_every_event_kind() {
    let push = read(
        WebhookProvider::Generic,
        &[],
        serde_json::json!({"event": "push", "branch": "main", "commit": A.to_uppercase(),
            "changedFiles": ["src/a.rs"], "actor": "ci", "repository": "org/app", "message": "m\nn"}),
    );
    assert_eq!(
        push.kind,
        EventKind::Push {
            branch: "main".into(),
            deleted: false
        }
    );
    assert_eq!(push.commit.as_deref(), Some(A), "commits are lowercased");
    assert_eq!(push.changed_files, Some(vec!["src/a.rs".into()]));
    assert_eq!(push.commit_message.as_deref(), Some("m"));
    let tag = read(
        WebhookProvider::Generic,
        &[],
        serde_json::json!({"event": "tag", "tag": "v1", "commit": A}),
    );
    assert_eq!(
        tag.kind,
        EventKind::Tag {
            tag: "v1".into(),
            deleted: false
        }
    );
    let pr = read(
        WebhookProvider::Generic,
        &[],
        serde_json::json!({"event": "pullRequest", "commit": A,
            "pullRequest": {"action": "updated", "number": 5, "sourceBranch": "f", "targetBranch": "main"}}),
    );
    assert!(matches!(
        pr.kind,
        EventKind::PullRequest {
            action: PullRequestAction::Updated,
            ..
        }
    ));
    let ping = read(
        WebhookProvider::Generic,
        &[],
        serde_json::json!({"event": "ping"}),
    );
    assert_eq!(ping.kind, EventKind::Ping);
    let other = read(
        WebhookProvider::Generic,
        &[],
        serde_json::json!({"event": "build"}),
    );
    assert_eq!(other.kind, EventKind::Unsupported);
}

#[test]
fn unknown_events_and_refs_are_unsupported_not_errors() {
    let issue = read(
        WebhookProvider::Github,
        &[("X-GitHub-Event", "issues")],
        serde_json::json!({"action": "opened"}),
    );
    assert_eq!(issue.kind, EventKind::Unsupported);
    assert_eq!(issue.event_name, "issues");
    let notes = read(
        WebhookProvider::Github,
        &[("X-GitHub-Event", "push")],
        serde_json::json!({"ref": "refs/notes/commits", "after": A}),
    );
    assert_eq!(notes.kind, EventKind::Unsupported);
}

#[test]
fn errors_name_the_field_or_header_and_never_quote_the_body() {
    let secret_looking = "s3cr3t-value-in-body";
    let cases = [
        (
            refused(WebhookProvider::Github, &[], "{}"),
            "X-GitHub-Event header is missing",
        ),
        (
            refused(WebhookProvider::Gitlab, &[], "{}"),
            "X-Gitlab-Event header is missing",
        ),
        (
            refused(WebhookProvider::Bitbucket, &[], "{}"),
            "X-Event-Key header is missing",
        ),
        (
            refused(
                WebhookProvider::Github,
                &[("X-GitHub-Event", "push")],
                &format!("{{\"ref\": {secret_looking}}}"),
            ),
            "not JSON (line 1",
        ),
        (
            refused(
                WebhookProvider::Github,
                &[("X-GitHub-Event", "push")],
                &format!("{{\"ref\": \"refs/heads/main\", \"after\": \"{secret_looking}\"}}"),
            ),
            "after is not a commit id",
        ),
        (
            refused(
                WebhookProvider::Github,
                &[("X-GitHub-Event", "push")],
                &format!("{{\"after\": \"{A}\", \"x\": \"{secret_looking}\"}}"),
            ),
            "has no ref",
        ),
        (
            refused(WebhookProvider::Generic, &[], "[1, 2]"),
            "body is not a JSON object",
        ),
        (
            refused(WebhookProvider::Generic, &[], "{\"branch\": \"main\"}"),
            "has no event",
        ),
        (
            refused(
                WebhookProvider::Generic,
                &[],
                "{\"event\": \"push\", \"branch\": \"a\\u0000b\", \"commit\": \"abcdef1\"}",
            ),
            "branch is not a branch or tag name",
        ),
        (
            refused(
                WebhookProvider::Github,
                &[("X-GitHub-Event", "pull_request")],
                "{\"action\": \"opened\", \"pull_request\": {\"head\": {\"sha\": \"abcdef1\"}}}",
            ),
            "has no pull_request.head.ref",
        ),
    ];
    for (message, expected) in cases {
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        assert!(
            !message.contains(secret_looking),
            "{message:?} quotes the body"
        );
    }
}

#[test]
fn changed_files_are_deduplicated_and_a_huge_list_is_none() {
    let many: Vec<String> = (0..=MAX_CHANGED_FILES).map(|i| format!("f{i}")).collect();
    let event = read(
        WebhookProvider::Github,
        &[("X-GitHub-Event", "push")],
        serde_json::json!({"ref": "refs/heads/main", "after": A, "commits": [{"id": A, "added": many}]}),
    );
    assert_eq!(event.changed_files, None);
    let event = read(
        WebhookProvider::Github,
        &[("X-GitHub-Event", "push")],
        serde_json::json!({"ref": "refs/heads/main", "after": A, "commits": []}),
    );
    assert_eq!(
        event.changed_files,
        Some(Vec::new()),
        "an empty push lists no files"
    );
}

#[test]
fn texts_are_bounded_and_stripped_of_control_characters() {
    let event = read(
        WebhookProvider::Generic,
        &[],
        serde_json::json!({"event": "push", "branch": "main", "commit": A,
            "actor": format!("a\u{1b}[31m{}", "x".repeat(1000)), "message": "y".repeat(5000)}),
    );
    let actor = event.actor.unwrap();
    assert!(!actor.contains('\u{1b}'));
    assert_eq!(actor.chars().count(), 256);
    assert_eq!(event.commit_message.unwrap().chars().count(), 1024);
}

fn providers() -> impl Strategy<Value = WebhookProvider> {
    prop_oneof![
        Just(WebhookProvider::Github),
        Just(WebhookProvider::Gitlab),
        Just(WebhookProvider::Bitbucket),
        Just(WebhookProvider::Gitea),
        Just(WebhookProvider::Forgejo),
        Just(WebhookProvider::Generic),
    ]
}

/// JSON shaped like the payloads, with arbitrary leaves where the parser looks.
fn payload_like() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-f0-9]{0,70}".prop_map(serde_json::Value::from),
        "(refs/(heads|tags|x)/)?[a-z/\\x00-\\x1f]{0,10}".prop_map(serde_json::Value::from),
        ".{0,20}".prop_map(serde_json::Value::from),
    ];
    let keys = prop_oneof![
        Just("ref"),
        Just("after"),
        Just("deleted"),
        Just("commits"),
        Just("head_commit"),
        Just("id"),
        Just("added"),
        Just("pull_request"),
        Just("head"),
        Just("base"),
        Just("sha"),
        Just("action"),
        Just("checkout_sha"),
        Just("object_attributes"),
        Just("push"),
        Just("changes"),
        Just("new"),
        Just("old"),
        Just("type"),
        Just("name"),
        Just("target"),
        Just("hash"),
        Just("event"),
        Just("branch"),
        Just("commit"),
        Just("changedFiles"),
        Just("pullRequest"),
    ];
    leaf.prop_recursive(4, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(keys.clone().prop_map(str::to_owned), inner, 0..6)
                .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(provider in providers(), body in prop::collection::vec(any::<u8>(), 0..512), event in "[ -~]{0,30}") {
        let headers = headers(&[
            ("X-GitHub-Event", &event), ("X-Gitea-Event", &event), ("X-Forgejo-Event", &event),
            ("X-Gitlab-Event", &event), ("X-Event-Key", &event),
        ]);
        let _ = parse(provider, &headers, &body);
    }

    #[test]
    fn payload_shaped_json_never_panics_and_yields_only_well_formed_events(
        provider in providers(),
        body in payload_like(),
        event in prop_oneof![Just("push"), Just("pull_request"), Just("Push Hook"), Just("Tag Push Hook"),
            Just("Merge Request Hook"), Just("repo:push"), Just("pullrequest:created"), Just("ping")],
    ) {
        let headers = headers(&[
            ("X-GitHub-Event", event), ("X-Gitea-Event", event), ("X-Gitlab-Event", event), ("X-Event-Key", event),
        ]);
        if let Ok(parsed) = parse(provider, &headers, body.to_string().as_bytes()) {
            if let Some(commit) = &parsed.commit {
                prop_assert!((7..=64).contains(&commit.len()));
                prop_assert!(commit.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            }
            let names = match &parsed.kind {
                EventKind::Push { branch, .. } => vec![branch.clone()],
                EventKind::Tag { tag, .. } => vec![tag.clone()],
                EventKind::PullRequest { source_branch, target_branch, .. } => vec![source_branch.clone(), target_branch.clone()],
                _ => Vec::new(),
            };
            for name in names {
                prop_assert!(!name.is_empty() && name.len() <= 255 && !name.chars().any(char::is_control));
            }
        }
    }
}
