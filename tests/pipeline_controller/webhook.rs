//! A push reaching production by itself: a real git repository served over loopback HTTP, a
//! commit pushed to it, a signed GitHub delivery to the controller's receiver → a run of exactly
//! that commit → build → approval → deploy. A redelivery starts nothing new, a filtered push
//! starts nothing, a forged one is refused; with the delivery dropped, the poll starts the run;
//! and the `SourceAvailable` condition tells a wrong token before the first push.

use slipway::api::execution::TriggerType;
use slipway::api::pipeline::DeliveryOutcome;
use slipway::trigger::runs::webhook_run_name;

use super::*;
use git_fixture::{GitHttpServer, Upstream};

const SECRET: &str = "It's a Secret to Everybody";

/// A harness, a repository served over HTTP with basic authentication, and the Secrets the
/// webhook pipeline names (`git-token`, `hook`).
async fn git_host_and_secrets() -> (Harness, Upstream, GitHttpServer) {
    let harness = Harness::start().await;
    let (upstream, server) = harness.git_host().await;
    harness.secret("hook", &[("secret", SECRET)]).await;
    (harness, upstream, server)
}

/// A GitHub push delivery of `after` to `branch`, changing `files`.
fn github_push(branch: &str, before: &str, after: &str, files: &[&str]) -> String {
    json!({
        "ref": format!("refs/heads/{branch}"), "before": before, "after": after,
        "created": false, "deleted": false, "forced": false,
        "repository": {"full_name": "shop/web", "name": "web"},
        "pusher": {"name": "jane", "email": "jane@shop.test"},
        "sender": {"login": "jane"},
        "head_commit": {"id": after, "message": "Ship it\n\nwith details", "timestamp": "2026-12-07T10:00:00Z", "added": [], "removed": [], "modified": files},
        "commits": [{"id": after, "message": "Ship it", "timestamp": "2026-12-07T10:00:00Z", "added": [], "removed": [], "modified": files}]
    })
    .to_string()
}

fn sign(body: &str, secret: &str) -> String {
    slipway::trigger::signature::sign(secret.as_bytes(), body.as_bytes())
}

/// Posts `body` to the receiver at `path` as GitHub does; returns the status and the answer.
async fn deliver(
    harness: &Harness,
    path: &str,
    delivery: &str,
    event: &str,
    body: &str,
    signature: &str,
) -> (u16, Value) {
    slipway::tls::install_crypto_provider();
    let address = harness.controller.as_ref().unwrap().webhook_addr;
    let response = reqwest::Client::new()
        .post(format!("http://{address}{path}"))
        .header("Content-Type", "application/json")
        .header("X-GitHub-Event", event)
        .header("X-GitHub-Delivery", delivery)
        .header("X-Hub-Signature-256", signature)
        .body(body.to_owned())
        .send()
        .await
        .expect("the receiver answers");
    let code = response.status().as_u16();
    let text = response.text().await.unwrap();
    (code, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The webhook pipeline over `url`: web_pipeline with a GitHub webhook and push triggers.
fn webhook_pipeline(url: &str, poll_interval: &str) -> Value {
    let mut spec = web_pipeline("Parallel");
    spec["source"]["git"] = json!({"url": url, "branch": "main", "credentialsSecret": {"name": "git-token"}, "pollInterval": poll_interval});
    spec["webhook"] = json!({"provider": "github", "secretRef": {"name": "hook", "key": "secret"}});
    spec["triggers"] = json!([{"push": {"branches": {"includes": ["main"]}, "filePaths": {"includes": ["src/**", "version.txt"], "excludes": ["docs/**"]}}}]);
    spec
}

async fn runs_of(harness: &Harness) -> Vec<PipelineExecution> {
    harness
        .runs()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn a_signed_push_runs_that_commit_to_production_once() {
    let (harness, upstream, server) = git_host_and_secrets().await;
    harness
        .pipeline("web", webhook_pipeline(&server.url("repo.git"), "0s"))
        .await;
    let status = harness
        .wait_pipeline("web", "the webhook path and a connection check", |s| {
            s.webhook_path.is_some() && s.last_seen_revision.is_some()
        })
        .await;
    let path = status.webhook_path.unwrap();
    let available = status
        .conditions
        .iter()
        .find(|c| c.type_ == "SourceAvailable")
        .unwrap();
    assert_eq!(
        (available.status.as_str(), available.reason.as_str()),
        ("True", "Available")
    );
    assert_eq!(
        status.last_seen_revision.as_deref(),
        Some(upstream.three.as_str())
    );

    let pushed = upstream.push("main", "version.txt", "four\n", "Ship it");
    let body = github_push("main", &upstream.three, &pushed, &["version.txt"]);
    let run_name = webhook_run_name("web", "delivery-1");
    harness.script_build(
        &run_name,
        "Build",
        "Image",
        1,
        successful_build("sha256:abab", &[]),
    );
    let (code, answer) = deliver(
        &harness,
        &path,
        "delivery-1",
        "push",
        &body,
        &sign(&body, SECRET),
    )
    .await;
    assert_eq!(code, 202, "{answer}");
    assert_eq!(answer["outcome"], "Accepted");
    assert_eq!(answer["execution"], run_name.as_str());

    let run = harness
        .wait_action_running(&run_name, "Approve", "Release")
        .await;
    assert_eq!(run.spec.trigger.type_, TriggerType::Webhook);
    assert_eq!(run.spec.trigger.delivery_id.as_deref(), Some("delivery-1"));
    assert_eq!(run.spec.trigger.actor.as_deref(), Some("jane"));
    let source = run
        .status
        .as_ref()
        .unwrap()
        .source_revision
        .clone()
        .unwrap();
    assert_eq!(source.commit_id.as_deref(), Some(pushed.as_str()));
    assert_eq!(source.branch_name.as_deref(), Some("main"));
    assert_eq!(source.commit_message.as_deref(), Some("Ship it"));
    assert_eq!(source.full_repository_name.as_deref(), Some("shop/web"));
    let build = harness
        .builds()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(build.len(), 1);
    assert_eq!(
        build[0]
            .spec
            .source
            .as_ref()
            .unwrap()
            .git
            .as_ref()
            .unwrap()
            .revision,
        pushed
    );

    // GitHub redelivers with the same delivery id: nothing new starts.
    let (code, _) = deliver(
        &harness,
        &path,
        "delivery-1",
        "push",
        &body,
        &sign(&body, SECRET),
    )
    .await;
    assert_eq!(code, 202);
    let status = harness
        .wait_pipeline("web", "the redelivery's record", |s| {
            s.recent_deliveries
                .iter()
                .any(|r| r.id == "delivery-1" && r.outcome == DeliveryOutcome::Duplicate)
        })
        .await;
    let accepted = status
        .recent_deliveries
        .iter()
        .find(|r| r.id == "delivery-1" && r.outcome == DeliveryOutcome::Accepted)
        .expect("the first delivery's record");
    assert_eq!(accepted.execution.as_deref(), Some(run_name.as_str()));
    assert_eq!(accepted.revision.as_deref(), Some(pushed.as_str()));
    assert_eq!(
        runs_of(&harness).await.len(),
        1,
        "a redelivery starts no second run"
    );

    harness
        .answer(&run_name, "Approve", "Release", "Approved")
        .await;
    let done = harness
        .wait_phase(&run_name, ExecutionStatus::Succeeded, 60)
        .await;
    let roll = &done.status.unwrap().stages[2].actions[0];
    let record = harness
        .records()
        .get(&roll.child.as_ref().unwrap().name)
        .await
        .unwrap();
    assert_eq!(
        record.spec.template.revision.images.as_ref().unwrap()[0].image,
        "registry.test/shop/web@sha256:abab",
        "the pushed commit's image reached production"
    );

    let text = serde_json::to_string(&harness.pipelines().get("web").await.unwrap()).unwrap();
    assert!(
        !text.contains(SECRET) && !text.contains("s3cret-token"),
        "no secret in the Pipeline"
    );
    harness.controller.unwrap().stop().await;
}

#[tokio::test]
async fn filtered_forged_and_unconfigured_deliveries_start_nothing() {
    let (harness, upstream, server) = git_host_and_secrets().await;
    harness
        .pipeline("web", webhook_pipeline(&server.url("repo.git"), "0s"))
        .await;
    let path = harness
        .wait_pipeline("web", "the webhook path", |s| s.webhook_path.is_some())
        .await
        .webhook_path
        .unwrap();

    let docs = upstream.push("main", "version.txt", "docs\n", "docs only");
    let body = github_push("main", &upstream.three, &docs, &["docs/guide.md"]);
    let (code, answer) = deliver(
        &harness,
        &path,
        "docs-1",
        "push",
        &body,
        &sign(&body, SECRET),
    )
    .await;
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["outcome"], "Filtered");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("spec.triggers[0].push.filePaths"),
        "{message}"
    );

    let feature = github_push("feature", &upstream.feature, &docs, &["src/main.rs"]);
    let (code, answer) = deliver(
        &harness,
        &path,
        "feature-1",
        "push",
        &feature,
        &sign(&feature, SECRET),
    )
    .await;
    assert_eq!((code, answer["outcome"].as_str()), (200, Some("Filtered")));
    assert!(
        answer["message"].as_str().unwrap().contains("branches"),
        "{answer}"
    );

    let ping = json!({"zen": "Keep it logically awesome.", "hook_id": 1}).to_string();
    let (code, answer) = deliver(
        &harness,
        &path,
        "ping-1",
        "ping",
        &ping,
        &sign(&ping, SECRET),
    )
    .await;
    assert_eq!((code, answer["outcome"].as_str()), (200, Some("Ignored")));

    let wanted = github_push("main", &upstream.three, &docs, &["src/main.rs"]);
    let mut forged = wanted.clone().into_bytes();
    forged[10] ^= 1;
    let forged = String::from_utf8(forged).unwrap();
    let (code, answer) = deliver(
        &harness,
        &path,
        "forged-1",
        "push",
        &forged,
        &sign(&wanted, SECRET),
    )
    .await;
    assert_eq!(
        (code, answer["outcome"].as_str()),
        (401, Some("Refused")),
        "{answer}"
    );
    let (code, _) = deliver(
        &harness,
        &path,
        "forged-2",
        "push",
        &wanted,
        &sign(&wanted, "guess"),
    )
    .await;
    assert_eq!(code, 401);
    let (code, _) = deliver(
        &harness,
        "/webhooks/0123456789abcdef0123456789abcdef",
        "x",
        "push",
        &wanted,
        &sign(&wanted, SECRET),
    )
    .await;
    assert_eq!(code, 404, "an unknown path says nothing");

    let status = harness
        .wait_pipeline("web", "the records of the signed deliveries", |s| {
            ["docs-1", "feature-1", "ping-1"]
                .iter()
                .all(|id| s.recent_deliveries.iter().any(|r| r.id == *id))
        })
        .await;
    assert!(
        status
            .recent_deliveries
            .iter()
            .all(|r| !r.id.starts_with("forged")),
        "unsigned deliveries are not recorded"
    );
    let docs_record = status
        .recent_deliveries
        .iter()
        .find(|r| r.id == "docs-1")
        .unwrap();
    assert_eq!(docs_record.outcome, DeliveryOutcome::Filtered);
    assert!(runs_of(&harness).await.is_empty(), "nothing started");

    // A Pipeline without spec.webhook takes no deliveries, signed or not.
    let mut unconfigured = webhook_pipeline(&server.url("repo.git"), "0s");
    unconfigured.as_object_mut().unwrap().remove("webhook");
    harness.pipeline("plain", unconfigured).await;
    let uid = harness
        .pipelines()
        .get("plain")
        .await
        .unwrap()
        .metadata
        .uid
        .unwrap();
    let plain_path = slipway::trigger::receiver::webhook_path(&uid);
    harness
        .wait_pipeline("plain", "a first status", |s| s.phase.is_some())
        .await;
    let (code, answer) = deliver(&harness, &plain_path, "plain-1", "push", &wanted, "").await;
    assert_eq!(code, 401, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("spec.webhook"),
        "{answer}"
    );
    assert!(runs_of(&harness).await.is_empty());
    harness.controller.unwrap().stop().await;
}

#[tokio::test]
async fn with_the_delivery_dropped_the_poll_starts_the_run() {
    let (harness, upstream, server) = git_host_and_secrets().await;
    let mut spec = webhook_pipeline(&server.url("repo.git"), "1s");
    spec.as_object_mut().unwrap().remove("triggers");
    harness.pipeline("web", spec).await;
    harness
        .wait_pipeline("web", "the baseline", |s| {
            s.last_seen_revision.as_deref() == Some(upstream.three.as_str())
        })
        .await;
    assert!(
        runs_of(&harness).await.is_empty(),
        "the baseline starts nothing"
    );

    let pushed = upstream.push("main", "version.txt", "five\n", "no webhook for this one");
    let name = slipway::trigger::runs::poll_run_name("web", &pushed);
    let run = harness
        .wait_run(&name, "the poll's run", 60, |run| run.status.is_some())
        .await;
    assert_eq!(run.spec.trigger.type_, TriggerType::PollForSourceChanges);
    assert_eq!(
        run.spec.source.as_ref().unwrap().commit_id.as_deref(),
        Some(pushed.as_str())
    );
    let status = harness
        .wait_pipeline("web", "the new revision seen", |s| {
            s.last_seen_revision.as_deref() == Some(pushed.as_str())
        })
        .await;
    assert!(status.last_poll_time.is_some());
    // Later polls of the same head start nothing more.
    let polled = status.last_poll_time.clone().unwrap();
    harness
        .wait_pipeline("web", "a later poll", |s| {
            s.last_poll_time.as_ref().is_some_and(|t| t.0 > polled.0)
        })
        .await;
    assert_eq!(runs_of(&harness).await.len(), 1);
    harness.controller.unwrap().stop().await;
}

#[tokio::test]
async fn a_wrong_token_shows_as_an_unauthorized_source_before_the_first_push() {
    let harness = Harness::start().await;
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), Some(("robot", "s3cret-token")));
    harness
        .secret("git-token", &[("username", "robot"), ("password", "wrong")])
        .await;
    let mut spec = web_pipeline("Superseded");
    spec["source"]["git"] = json!({"url": server.url("repo.git"), "branch": "main", "credentialsSecret": {"name": "git-token"}, "pollInterval": "5m"});
    harness.pipeline("web", spec).await;
    let status = harness
        .wait_pipeline("web", "the connection check", |s| {
            s.conditions.iter().any(|c| c.type_ == "SourceAvailable")
        })
        .await;
    let condition = status
        .conditions
        .iter()
        .find(|c| c.type_ == "SourceAvailable")
        .unwrap();
    assert_eq!(
        (condition.status.as_str(), condition.reason.as_str()),
        ("False", "Unauthorized"),
        "{condition:?}"
    );
    assert!(
        !condition.message.contains("wrong"),
        "the token is not echoed: {}",
        condition.message
    );
    assert!(
        harness
            .event_reasons("web")
            .await
            .contains(&"SourceUnavailable".to_owned())
    );

    // The spec change that fixes it is checked at once, not after the poll interval.
    harness
        .secret(
            "git-token-2",
            &[("username", "robot"), ("password", "s3cret-token")],
        )
        .await;
    let fix = json!({"spec": {"source": {"git": {"credentialsSecret": {"name": "git-token-2"}}}}});
    harness
        .pipelines()
        .patch("web", &PatchParams::default(), &Patch::Merge(&fix))
        .await
        .unwrap();
    let status = harness
        .wait_pipeline("web", "the check after the spec change", |s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "SourceAvailable" && c.status == "True")
        })
        .await;
    assert_eq!(
        status.last_seen_revision.as_deref(),
        Some(upstream.three.as_str())
    );
    assert!(
        harness
            .event_reasons("web")
            .await
            .contains(&"SourceRecovered".to_owned())
    );
    harness.controller.unwrap().stop().await;
}
