//! Permanent API failures on the way to a build's Job: reported on the BuildRun, not retried.

use std::time::Duration;

use slipway::runtime::BuildOptions;
use slipway_testcluster::{Fault, RequestRecord};

use super::support::requests::assert_no_more_requests;
use super::{Controller, condition, harness, inline};

fn job_create(record: &RequestRecord) -> bool {
    record.verb == "create" && record.resource == "jobs"
}

#[tokio::test]
async fn a_forbidden_job_create_is_reported_on_the_build_and_not_retried() {
    let harness = harness().await;
    harness
        .cluster
        .faults()
        .inject(Fault::error(403).verb("create").resource("jobs"));
    let controller = Controller::start(&harness.cluster, BuildOptions::default());
    harness.create("denied", inline("      - echo hi\n")).await;

    let build = harness.wait_for_stalled("denied").await;
    let (_, reason, message) = condition(&build, "Stalled");
    assert_eq!(reason, "ApplyFailed");
    assert!(message.contains("create Job denied-build"), "{message}");
    assert!(message.contains("403"), "{message}");
    assert!(message.contains("RBAC"), "the fix is named: {message}");
    assert_eq!(
        condition(&build, "Succeeded").0,
        "Unknown",
        "blocked, not failed"
    );
    assert_eq!(condition(&build, "Reconciling").0, "False");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !harness.has_event("denied", "ApplyFailed").await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no ApplyFailed Event: {:?}",
            harness.event_reasons("denied").await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The report's own status write wakes the controller once more; after that it waits.
    let creates = harness.cluster.requests().matching(job_create).len();
    assert!((1..=2).contains(&creates), "Job creates: {creates}");
    // Longer than the 5 s the controller used to retry after.
    assert_no_more_requests(
        &harness.cluster,
        "the forbidden Job create",
        creates,
        Duration::from_secs(6),
        job_create,
    )
    .await;
    assert_eq!(
        harness
            .event_reasons("denied")
            .await
            .iter()
            .filter(|reason| *reason == "ApplyFailed")
            .count(),
        1,
        "one Warning, not one per attempt"
    );
    controller.stop().await;
}
