//! A Jenkins action with the controller running: triggered once with the run's variables,
//! followed to its result, its build page linked in the action's status.

use k8s_openapi::api::core::v1::Secret;

use super::*;
use fake_jenkins::{FakeJenkins, USER};

#[tokio::test]
async fn a_jenkins_action_triggers_one_build_and_succeeds_with_it() {
    let harness = Harness::start().await;
    let jenkins = FakeJenkins::start().await;
    jenkins.add_job("team/suite", &["COMMIT", "SLIPWAY_ACTION_ID"]);
    use base64::Engine;
    let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "jenkins"},
        "data": {"username": encode(USER.0), "token": encode(USER.1)}
    }))
    .unwrap();
    Api::<Secret>::namespaced(harness.client(), NAMESPACE)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    harness
        .pipeline("ci", json!({
            "source": {"git": {"url": "https://git.test/shop/web.git", "pollInterval": "0s"}},
            "stages": [
                {"name": "Test", "actions": [{"name": "Suite", "jenkins": {
                    "url": jenkins.url, "jobName": "team/suite", "credentialsSecret": {"name": "jenkins"},
                    "parameters": [{"name": "COMMIT", "value": "#{SourceVariables.CommitId}"}]
                }}]},
                {"name": "Done", "actions": [{"name": "Note", "job": {"template": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}}]}
            ]
        }))
        .await;
    let commit = "4444444444444444444444444444444444444444";
    harness.start_run("ci", "ci-1", commit).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while jenkins.triggers().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Jenkins was triggered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let number = jenkins.start_next("team/suite");
    jenkins.finish("team/suite", number, "SUCCESS");
    let run = harness
        .wait_phase("ci-1", ExecutionStatus::Succeeded, 60)
        .await;
    let triggers = jenkins.triggers();
    assert_eq!(triggers.len(), 1, "one trigger: {triggers:?}");
    assert!(
        triggers[0]
            .parameters
            .contains(&("COMMIT".to_owned(), commit.to_owned())),
        "{triggers:?}"
    );
    let suite = action_of(&run, "Test", "Suite").unwrap();
    let url = suite.external_url.clone().unwrap();
    assert!(url.ends_with("/job/team/job/suite/1/"), "{url}");
    let text = serde_json::to_string(&run).unwrap();
    assert!(!text.contains(USER.1), "the token never reaches the run");
    harness.controller.unwrap().stop().await;
}

#[tokio::test]
async fn refused_jenkins_credentials_fail_the_action_naming_the_secret() {
    let harness = Harness::start().await;
    let jenkins = FakeJenkins::start().await;
    jenkins.add_job("team/suite", &["SLIPWAY_ACTION_ID"]);
    use base64::Engine;
    let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "jenkins"},
        "data": {"username": encode("slipway"), "token": encode("wrong")}
    }))
    .unwrap();
    Api::<Secret>::namespaced(harness.client(), NAMESPACE)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    harness
        .pipeline("ci", json!({
            "source": {"git": {"url": "https://git.test/shop/web.git", "pollInterval": "0s"}},
            "stages": [
                {"name": "Test", "actions": [{"name": "Suite", "jenkins": {"url": jenkins.url, "jobName": "team/suite", "credentialsSecret": {"name": "jenkins"}}}]},
                {"name": "Done", "actions": [{"name": "Gate", "approval": {}}]}
            ]
        }))
        .await;
    harness
        .start_run("ci", "ci-2", "5555555555555555555555555555555555555555")
        .await;
    let run = harness
        .wait_phase("ci-2", ExecutionStatus::Failed, 30)
        .await;
    let message = action_of(&run, "Test", "Suite")
        .unwrap()
        .message
        .clone()
        .unwrap();
    assert!(message.contains("jenkins"), "{message}");
    assert!(jenkins.triggers().is_empty());
    harness.controller.unwrap().stop().await;
}
