//! The Jenkins client against a fake Jenkins: triggers with crumbs and folders, following queue
//! items to results, refused credentials, restart recovery by action id, cancellations.

#[path = "support/jenkins.rs"]
mod fake_jenkins;

use fake_jenkins::{FakeJenkins, READER, Trigger, USER};
use slipway::api::execution::ExternalRun;
use slipway::pipeline::jenkins::{
    JenkinsClient, JenkinsCredentials, JenkinsError, JenkinsJob, NextStep, Progress, RunOutcome,
};

const JOB: &str = "platform/deploy-web";
const SECRET: &str = "jenkins-credentials";
const ACTION_ID: &str = "web-7f3k2.Deploy.jenkins.1";

fn client(jenkins: &FakeJenkins, (username, token): (&str, &str)) -> JenkinsClient {
    JenkinsClient::new(
        &jenkins.url,
        JenkinsCredentials {
            username: username.into(),
            token: token.into(),
        },
        SECRET,
    )
    .expect("a valid Jenkins URL")
}

fn parameters() -> Vec<(String, String)> {
    vec![
        (
            "IMAGE".into(),
            "registry.example.com/web@sha256:ab12".into(),
        ),
        ("REGION".into(), "eu-west-1".into()),
    ]
}

fn job(parameters: &[(String, String)]) -> JenkinsJob<'_> {
    JenkinsJob {
        name: JOB,
        parameters,
        action_id: ACTION_ID,
    }
}

/// One poll, writing its record back as the controller writes the action's status.
async fn poll(client: &JenkinsClient, job: &JenkinsJob<'_>, record: &mut ExternalRun) -> Progress {
    let progress = client.poll(job, record).await.expect("the poll succeeds");
    *record = progress.record.clone();
    progress
}

fn outcome(progress: &Progress) -> Option<&RunOutcome> {
    match &progress.next {
        NextStep::Finished(outcome) => Some(outcome),
        _ => None,
    }
}

#[tokio::test]
async fn a_folder_job_runs_from_trigger_to_success_with_crumb_and_parameters() {
    let jenkins = FakeJenkins::start().await;
    jenkins.add_job(JOB, &["IMAGE", "REGION", "SLIPWAY_ACTION_ID"]);
    let client = client(&jenkins, USER);
    let parameters = parameters();
    let job = job(&parameters);
    let mut record = ExternalRun::default();

    let queued = poll(&client, &job, &mut record).await;
    assert_eq!(
        jenkins.triggers(),
        vec![Trigger {
            job: JOB.into(),
            parameters: vec![
                (
                    "IMAGE".into(),
                    "registry.example.com/web@sha256:ab12".into()
                ),
                ("REGION".into(), "eu-west-1".into()),
                ("SLIPWAY_ACTION_ID".into(), ACTION_ID.into()),
            ],
            endpoint: "buildWithParameters".into(),
        }],
        "one trigger, with the crumb and session the fake requires"
    );
    assert_eq!(
        record.queue_url.as_deref(),
        Some("https://jenkins.example.com/ci/queue/item/100/"),
        "the queue item is recorded as Jenkins wrote it"
    );
    assert_eq!(
        queued.message,
        "queued in Jenkins at https://jenkins.example.com/ci/queue/item/100/"
    );

    let still_queued = poll(&client, &job, &mut record).await;
    assert!(outcome(&still_queued).is_none());
    assert_eq!(
        still_queued.message,
        "waiting in the Jenkins queue: Waiting for next available executor"
    );
    assert_eq!(
        jenkins.triggers().len(),
        1,
        "following never triggers again"
    );

    let number = jenkins.start_next(JOB);
    let running = poll(&client, &job, &mut record).await;
    assert_eq!(record.build_number, Some(number));
    assert_eq!(
        record.build_url.as_deref(),
        Some("https://jenkins.example.com/ci/job/platform/job/deploy-web/1/")
    );
    assert!(
        running.message.starts_with("Jenkins build #1 is running"),
        "{}",
        running.message
    );

    jenkins.finish(JOB, number, "SUCCESS");
    let done = poll(&client, &job, &mut record).await;
    assert_eq!(
        outcome(&done),
        Some(&RunOutcome {
            succeeded: true,
            message: "Jenkins build #1 succeeded: https://jenkins.example.com/ci/job/platform/job/deploy-web/1/console".into(),
        })
    );
    assert_eq!(record.result.as_deref(), Some("SUCCESS"));
    // A finished record stays finished without calling Jenkins.
    jenkins.set_unavailable(true);
    assert_eq!(client.poll(&job, &record).await.unwrap().next, done.next);
}

#[tokio::test]
async fn a_failed_build_fails_the_action_with_its_result_and_console_url() {
    let jenkins = FakeJenkins::start().await;
    jenkins.add_job(JOB, &["IMAGE", "REGION", "SLIPWAY_ACTION_ID"]);
    let client = client(&jenkins, USER);
    let parameters = parameters();
    let job = job(&parameters);
    let mut record = ExternalRun::default();
    poll(&client, &job, &mut record).await;
    let number = jenkins.start_next(JOB);
    jenkins.finish(JOB, number, "FAILURE");
    // One poll reads the queue item, sees it started and reads the build.
    let done = poll(&client, &job, &mut record).await;
    assert_eq!(
        outcome(&done),
        Some(&RunOutcome {
            succeeded: false,
            message: "Jenkins build #1 ended FAILURE: https://jenkins.example.com/ci/job/platform/job/deploy-web/1/console".into(),
        })
    );
}

#[tokio::test]
async fn refused_credentials_are_permanent_and_name_the_secret_never_the_token() {
    let jenkins = FakeJenkins::start().await;
    jenkins.add_job(JOB, &["IMAGE", "REGION", "SLIPWAY_ACTION_ID"]);
    let parameters = parameters();
    for (who, credentials, status) in [
        ("a wrong token", (USER.0, "not-the-token"), 401),
        ("a user without Build permission", READER, 403),
    ] {
        let error = client(&jenkins, credentials)
            .poll(&job(&parameters), &ExternalRun::default())
            .await
            .unwrap_err();
        assert!(
            matches!(error, JenkinsError::CredentialsRefused { status: got, .. } if got == status),
            "{who}: {error:?}"
        );
        assert!(error.is_permanent(), "{who}");
        let message = error.to_string();
        assert!(
            message.contains("Jenkins refused the credentials in Secret jenkins-credentials"),
            "{who}: {message}"
        );
        assert!(
            message.contains("check its username and token"),
            "{message}"
        );
        assert!(!message.contains(credentials.1), "{who}: the token leaked");
        assert!(
            !format!("{error:?}").contains(credentials.1),
            "{who}: the token leaked"
        );
    }
    assert!(jenkins.triggers().is_empty());
}

#[tokio::test]
async fn a_restart_between_trigger_and_status_write_follows_the_same_run() {
    let jenkins = FakeJenkins::start().await;
    jenkins.add_job(JOB, &["IMAGE", "REGION", "SLIPWAY_ACTION_ID"]);
    let client = client(&jenkins, USER);
    let parameters = parameters();
    let job = job(&parameters);

    // The first controller triggers, then dies before writing the queue URL.
    let lost = client.poll(&job, &ExternalRun::default()).await.unwrap();
    assert!(lost.record.queue_url.is_some());

    // Its successor starts from the empty record and finds the queued item.
    let mut record = ExternalRun::default();
    let found = poll(&client, &job, &mut record).await;
    assert_eq!(
        jenkins.triggers().len(),
        1,
        "not triggered twice: {}",
        found.message
    );
    assert_eq!(
        record.queue_url.as_deref(),
        Some(format!("{}/queue/item/100/", jenkins.url).as_str())
    );

    // Once started, an empty record finds the build instead.
    let number = jenkins.start_next(JOB);
    let mut after_start = ExternalRun::default();
    poll(&client, &job, &mut after_start).await;
    assert_eq!(jenkins.triggers().len(), 1);
    assert_eq!(after_start.build_number, Some(number));

    jenkins.finish(JOB, number, "SUCCESS");
    let done = poll(&client, &job, &mut record).await;
    assert!(
        outcome(&done).is_some_and(|outcome| outcome.succeeded),
        "{done:?}"
    );
}

#[tokio::test]
async fn a_forgotten_queue_item_is_found_again_as_its_build() {
    let jenkins = FakeJenkins::start().await;
    jenkins.add_job(JOB, &["IMAGE", "REGION", "SLIPWAY_ACTION_ID"]);
    let client = client(&jenkins, USER);
    let parameters = parameters();
    let job = job(&parameters);
    let mut record = ExternalRun::default();
    poll(&client, &job, &mut record).await;
    let number = jenkins.start_next(JOB);
    // The controller was away long enough for Jenkins to forget the queue item.
    jenkins.forget_left_items();
    poll(&client, &job, &mut record).await;
    assert_eq!(record.build_number, Some(number));
    assert_eq!(jenkins.triggers().len(), 1);
}

#[tokio::test]
async fn a_cancelled_queue_item_fails_the_action() {
    let jenkins = FakeJenkins::start().await;
    jenkins.add_job(JOB, &["IMAGE", "REGION", "SLIPWAY_ACTION_ID"]);
    let client = client(&jenkins, USER);
    let parameters = parameters();
    let job = job(&parameters);
    let mut record = ExternalRun::default();
    poll(&client, &job, &mut record).await;
    jenkins.cancel_next(JOB);
    let cancelled = poll(&client, &job, &mut record).await;
    assert_eq!(
        outcome(&cancelled),
        Some(&RunOutcome {
            succeeded: false,
            message: "the Jenkins queue item https://jenkins.example.com/ci/queue/item/100/ was cancelled before it started".into(),
        })
    );
}

#[tokio::test]
async fn a_missing_job_is_a_permanent_error_naming_its_path() {
    let jenkins = FakeJenkins::start().await;
    let client = client(&jenkins, USER);
    let parameters = parameters();
    let error = client
        .poll(&job(&parameters), &ExternalRun::default())
        .await
        .unwrap_err();
    assert!(error.is_permanent());
    let message = error.to_string();
    assert!(
        message.contains(&format!(
            "failed to find Jenkins job platform/deploy-web: {}/job/platform/job/deploy-web/ answered HTTP 404",
            jenkins.url
        )),
        "{message}"
    );
}

#[tokio::test]
async fn a_job_without_the_action_id_parameter_is_triggered_at_least_once() {
    let jenkins = FakeJenkins::start().await;
    jenkins.add_job(JOB, &["IMAGE", "REGION"]);
    let client = client(&jenkins, USER);
    let parameters = parameters();
    let job = job(&parameters);
    let first = client.poll(&job, &ExternalRun::default()).await.unwrap();
    assert!(
        first
            .message
            .contains("does not declare the string parameter SLIPWAY_ACTION_ID"),
        "{}",
        first.message
    );
    assert_eq!(
        jenkins.triggers()[0].parameters.len(),
        2,
        "Jenkins dropped the undeclared SLIPWAY_ACTION_ID"
    );
    // Losing that record now means a second trigger: what the module docs promise.
    client.poll(&job, &ExternalRun::default()).await.unwrap();
    assert_eq!(jenkins.triggers().len(), 2);
}

#[tokio::test]
async fn undeclared_parameters_are_refused_before_triggering() {
    let jenkins = FakeJenkins::start().await;
    jenkins.add_job(JOB, &["IMAGE", "SLIPWAY_ACTION_ID"]);
    let client = client(&jenkins, USER);
    let parameters = parameters();
    let error = client
        .poll(&job(&parameters), &ExternalRun::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, JenkinsError::ParametersNotDeclared { names, .. } if names == "REGION"),
        "{error:?}"
    );
    assert!(error.is_permanent());
    assert!(jenkins.triggers().is_empty());
}

#[tokio::test]
async fn jenkins_without_csrf_protection_or_job_parameters_is_triggered_plainly() {
    let jenkins = FakeJenkins::start().await;
    jenkins.set_crumbs(false);
    jenkins.add_job("nightly", &[]);
    let client = client(&jenkins, USER);
    let progress = client
        .poll(
            &JenkinsJob {
                name: "nightly",
                parameters: &[],
                action_id: ACTION_ID,
            },
            &ExternalRun::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        jenkins.triggers(),
        vec![Trigger {
            job: "nightly".into(),
            parameters: vec![],
            endpoint: "build".into(),
        }]
    );
    assert!(progress.record.queue_url.is_some());
}

#[tokio::test]
async fn server_errors_are_transient_and_redirects_are_not_followed() {
    let jenkins = FakeJenkins::start().await;
    jenkins.add_job(JOB, &["IMAGE", "REGION", "SLIPWAY_ACTION_ID"]);
    jenkins.add_redirecting_job("sso/job");
    let client = client(&jenkins, USER);
    let parameters = parameters();

    jenkins.set_unavailable(true);
    let error = client
        .poll(&job(&parameters), &ExternalRun::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, JenkinsError::Unavailable { status: 503, .. }),
        "{error:?}"
    );
    assert!(!error.is_permanent());
    jenkins.set_unavailable(false);

    let error = client
        .poll(
            &JenkinsJob {
                name: "sso/job",
                parameters: &[],
                action_id: ACTION_ID,
            },
            &ExternalRun::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, JenkinsError::Redirected { location, .. } if location == "http://login.example.net/sso"),
        "{error:?}"
    );
    assert!(error.is_permanent());

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let unreachable = JenkinsClient::new(
        &format!("http://{closed}"),
        JenkinsCredentials {
            username: USER.0.into(),
            token: USER.1.into(),
        },
        SECRET,
    )
    .unwrap();
    let error = unreachable
        .poll(&job(&parameters), &ExternalRun::default())
        .await
        .unwrap_err();
    assert!(matches!(error, JenkinsError::Transport(_)), "{error:?}");
    assert!(!error.is_permanent());
}
