//! Request-log assertions for the controller tests: what a controller did not do again.

use std::time::Duration;

use slipway_testcluster::{RequestRecord, TestCluster};

/// Asserts that no request `matching` selects reaches `cluster` beyond the `seen` already
/// logged within `window`, failing as soon as one does.
///
/// Why a window: that a controller stopped retrying can only be shown over time. Callers pick a
/// window longer than the retry interval the controller would otherwise use, so a retry on a
/// timer shows up inside it.
pub async fn assert_no_more_requests(
    cluster: &TestCluster,
    what: &str,
    seen: usize,
    window: Duration,
    matching: impl Fn(&RequestRecord) -> bool,
) {
    let until = tokio::time::Instant::now() + window;
    while tokio::time::Instant::now() < until {
        let now = cluster.requests().matching(&matching).len();
        assert_eq!(
            now,
            seen,
            "{what}: another request within {}s",
            window.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
