//! A failing health check fails the deploy action; the stage's onFailure rollback starts a
//! rollback run that redeploys the previous successful run's image.

use std::net::SocketAddr;

use super::*;
use slipway::api::execution::{ExecutionType, StageExecutionStatus};

/// A health endpoint: `/health/good` answers 200, anything else 500.
async fn health_server() -> SocketAddr {
    use axum::routing::get;
    let app = axum::Router::new()
        .route("/health/good", get(|| async { "ok" }))
        .fallback(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "broken") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

fn checked_pipeline(health: SocketAddr) -> Value {
    let mut spec = web_pipeline("Superseded");
    let stages = spec["stages"].as_array_mut().unwrap();
    stages.remove(1); // no approval
    let deploy = &mut stages[1];
    deploy["onFailure"] = json!({"result": "Rollback"});
    let template = &mut deploy["actions"][0]["deploy"];
    template["strategy"] = json!({"allAtOnce": {}, "blueGreen": {"terminationWait": "3s"}});
    template["healthChecks"] = json!([{
        "name": "app",
        "http": {"url": format!("http://{health}/health/#{{BuildVariables.HEALTH}}")},
        "interval": "1s", "timeout": "1s", "failureThreshold": 1
    }]);
    spec
}

#[tokio::test]
async fn a_failing_health_check_rolls_the_stage_back_to_the_previous_runs_image() {
    let harness = Harness::start().await;
    let health = health_server().await;
    harness.pipeline("web", checked_pipeline(health)).await;
    harness.script_build(
        "good",
        "Build",
        "Image",
        1,
        successful_build("sha256:0001", &[("HEALTH", "good")]),
    );
    harness
        .start_run("web", "good", "1111111111111111111111111111111111111111")
        .await;
    harness
        .wait_phase("good", ExecutionStatus::Succeeded, 60)
        .await;
    let good_selector = harness.selector().await;

    harness.script_build(
        "bad",
        "Build",
        "Image",
        1,
        successful_build("sha256:0002", &[("HEALTH", "bad")]),
    );
    harness
        .start_run("web", "bad", "2222222222222222222222222222222222222222")
        .await;
    let bad = harness.wait_phase("bad", ExecutionStatus::Failed, 60).await;
    let status = bad.status.unwrap();
    let deploy = &status.stages[1];
    assert_eq!(deploy.status, Some(StageExecutionStatus::Failed));
    let rollback = deploy
        .rollback_execution
        .clone()
        .expect("a rollback run was started");
    assert!(
        status
            .message
            .unwrap()
            .contains("rolling back to the revision of good")
    );

    let rolled = harness
        .wait_phase(&rollback, ExecutionStatus::Succeeded, 60)
        .await;
    let rolled = rolled.status.unwrap();
    assert_eq!(rolled.execution_type, Some(ExecutionType::Rollback));
    assert_eq!(rolled.rollback_target.as_deref(), Some("good"));
    let record_name = rolled.stages[1].actions[0].child.clone().unwrap().name;
    let record = harness.records().get(&record_name).await.unwrap();
    assert_eq!(
        record.spec.template.revision.images.unwrap()[0].image,
        "registry.test/shop/web@sha256:0001"
    );
    assert_eq!(
        harness.selector().await,
        good_selector,
        "production is back on the good revision"
    );
    harness.controller.unwrap().stop().await;
}
