//! Permanent API failures on the way to a rollout's children: reported on the record, not
//! retried.

use std::time::Duration;

use serde_json::json;
use slipway_testcluster::{Fault, RequestRecord};

use super::support::requests::assert_no_more_requests;
use super::{Harness, condition};

fn revision_create(record: &RequestRecord) -> bool {
    record.verb == "create" && record.group == "apps" && record.resource == "deployments"
}

#[tokio::test]
async fn a_forbidden_revision_create_is_reported_on_the_record_and_not_retried() {
    let harness = Harness::start().await;
    harness.application(1).await;
    let before = harness.cluster.requests().matching(revision_create).len();
    harness.cluster.faults().inject(
        Fault::error(403)
            .verb("create")
            .resource("deployments.apps"),
    );
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({"strategy": {"allAtOnce": {}}}),
        )
        .await;

    harness
        .eventually("the Stalled condition", 20, || async {
            condition(&harness.record("web-v2").await, "Stalled")
                .is_some_and(|(status, _)| status == "True")
        })
        .await;
    let record = harness.record("web-v2").await;
    assert_eq!(
        condition(&record, "Stalled"),
        Some(("True".into(), "ApplyFailed".into()))
    );
    assert_eq!(
        condition(&record, "Ready"),
        Some(("False".into(), "ApplyFailed".into()))
    );
    let message = record
        .status
        .as_ref()
        .and_then(|s| s.message.clone())
        .unwrap();
    assert!(message.contains("create revision Deployment"), "{message}");
    assert!(message.contains("403"), "{message}");
    assert!(message.contains("RBAC"), "the fix is named: {message}");
    harness
        .eventually("the Warning Event", 10, || async {
            harness
                .event_reasons("web-v2")
                .await
                .contains(&"ApplyFailed".to_owned())
        })
        .await;

    // The report's own status write wakes the controller once more; after that it waits.
    let creates = harness.cluster.requests().matching(revision_create).len();
    assert!(
        (1..=2).contains(&(creates - before)),
        "revision creates: {}",
        creates - before
    );
    // Longer than the 2 s the controller used to retry after.
    assert_no_more_requests(
        &harness.cluster,
        "the forbidden revision create",
        creates,
        Duration::from_secs(4),
        revision_create,
    )
    .await;
    assert!(
        harness.revisions().await.is_empty(),
        "no revision was created"
    );
}
