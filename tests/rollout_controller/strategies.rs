//! Every traffic mode carries a rollout to success: all at once (selector switch), canary on
//! HTTPRoute weights, linear by replica ratio, blue-green with a test Service and a promote,
//! and a rolling update checked on every intermediate version of its revisions.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use kube::runtime::watcher;
use serde_json::json;
use slipway::api::deployment::DeploymentPhase;

use super::{Harness, STABLE_IMAGE, condition};

fn revision_label(selector: &std::collections::BTreeMap<String, String>) -> Option<String> {
    selector.get("slipway.dev/revision").cloned()
}

#[tokio::test]
async fn all_at_once_switches_production_and_scales_the_old_revision_down() {
    let harness = Harness::start().await;
    harness.application(2).await;
    harness.cluster.requests().clear();
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({"strategy": {"allAtOnce": {}, "blueGreen": {"terminationWait": "1s"}}}),
        )
        .await;
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Succeeded, 30)
        .await;

    let new = harness.revision_of("shop/web:2").await;
    let old = harness.revision_of(STABLE_IMAGE).await;
    let new_hash = new.rsplit('-').next().unwrap().to_owned();
    let selector = harness.selector("web").await;
    assert_eq!(revision_label(&selector), Some(new_hash.clone()));
    assert_eq!(
        selector.get("app").map(String::as_str),
        Some("web"),
        "the user's labels stay"
    );
    assert_eq!(
        selector.get("slipway.dev/target").map(String::as_str),
        Some("web")
    );
    let revisions = harness.revisions().await;
    assert_eq!(
        revisions.get(&new),
        Some(&2),
        "the new revision runs at full size"
    );
    assert_eq!(
        revisions.get(&old),
        Some(&0),
        "the old revision is kept at zero"
    );
    assert_eq!(revisions.len(), 2);
    let workload = harness.deployments().get("web").await.unwrap();
    assert_eq!(
        workload.spec.unwrap().replicas,
        Some(0),
        "the user's workload is scaled down"
    );
    assert_eq!(
        condition(&record, "Ready"),
        Some(("True".into(), "Succeeded".into()))
    );
    assert_eq!(
        condition(&record, "Reconciling").map(|c| c.0),
        Some("False".into())
    );
    let status = record.status.unwrap();
    assert_eq!(status.canary_revision.unwrap().hash, new_hash);
    assert_eq!(status.traffic_split.unwrap().canary, 100);
    let reasons = harness.event_reasons("web-v2").await;
    for reason in ["Started", "Succeeded"] {
        assert!(
            reasons.iter().any(|r| r == reason),
            "{reason} in {reasons:?}"
        );
    }

    // API writes of the whole rollout (takeover, install, switch, termination wait, finalize).
    let service_writes = harness.writes("services");
    let status_writes = harness
        .cluster
        .requests()
        .matching(|r| {
            r.is_write() && r.subresource.as_deref() == Some("status") && r.group == "slipway.dev"
        })
        .len();
    let workload_writes = harness
        .cluster
        .requests()
        .matching(|r| {
            r.is_write()
                && r.group == "apps"
                && r.resource == "deployments"
                && r.field_manager.as_deref() == Some("slipway-controller")
        })
        .len();
    println!(
        "all-at-once writes: services {service_writes}, revision/workload {workload_writes}, status {status_writes}"
    );
    assert_eq!(
        service_writes, 2,
        "one selector write to take over, one to switch"
    );
    assert!(
        workload_writes <= 5,
        "creates and scales only: {workload_writes}"
    );
    assert!(
        status_writes <= 16,
        "one status write per step: {status_writes}"
    );
}

#[tokio::test]
async fn canary_on_an_httproute_steps_weights_and_ends_with_all_traffic_on_the_new_revision() {
    let harness = Harness::start().await;
    harness.application(2).await;
    harness.route().await;
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({
                "target": {"service": "web", "workload": "web", "httpRoute": {"name": "web"}},
                "strategy": {"canary": {"percent": 25, "interval": "2s"}, "blueGreen": {"terminationWait": "1s"}}
            }),
        )
        .await;
    let mut seen = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(40);
    loop {
        seen.insert(harness.weights().await);
        let record = harness.record("web-v2").await;
        if super::phase_of(&record) == Some(DeploymentPhase::Succeeded) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no success; saw {seen:?}; {:#?}",
            record.status
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(seen.contains(&(75, 25)), "the canary step: {seen:?}");
    assert!(seen.contains(&(0, 100)), "the full shift: {seen:?}");
    for (production, canary) in &seen {
        assert_eq!(
            production + canary,
            100,
            "weights always sum to 100: {seen:?}"
        );
    }
    let new_hash = harness
        .revision_of("shop/web:2")
        .await
        .rsplit('-')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        revision_label(&harness.selector("web").await),
        Some(new_hash.clone())
    );
    assert_eq!(
        harness.weights().await,
        (100, 0),
        "production (now the new revision) carries everything"
    );
    assert_eq!(
        revision_label(&harness.selector("web-canary").await),
        Some(new_hash)
    );
    let patches: Vec<(u16, Option<String>)> = harness
        .cluster
        .requests()
        .matching(|r| {
            r.is_write()
                && r.resource == "httproutes"
                && r.field_manager.as_deref() == Some("slipway-controller")
        })
        .into_iter()
        .map(|r| (r.code, r.field_manager))
        .collect();
    assert_eq!(
        patches.len(),
        3,
        "25, 100, then back to the production backend at 100: {patches:?}"
    );
}

#[tokio::test]
async fn linear_without_a_route_splits_by_replica_ratio_behind_a_spanning_selector() {
    let harness = Harness::start().await;
    harness.application(4).await;
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({"strategy": {"linear": {"percent": 50, "interval": "2s"}, "blueGreen": {"terminationWait": "1s"}}}),
        )
        .await;
    let new = harness.revision_of("shop/web:2").await;
    let old = harness.revision_of(STABLE_IMAGE).await;
    let mut spanning_splits = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(40);
    loop {
        let selector = harness.selector("web").await;
        if selector.contains_key("slipway.dev/target") && revision_label(&selector).is_none() {
            let revisions = harness.revisions().await;
            spanning_splits.insert((revisions.get(&old).copied(), revisions.get(&new).copied()));
        }
        if super::phase_of(&harness.record("web-v2").await) == Some(DeploymentPhase::Succeeded) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no success");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        spanning_splits.contains(&(Some(2), Some(2))),
        "at 50% each revision runs half the pods: {spanning_splits:?}"
    );
    let selector = harness.selector("web").await;
    assert_eq!(
        revision_label(&selector),
        new.rsplit('-').next().map(str::to_owned)
    );
    let revisions = harness.revisions().await;
    assert_eq!(
        (revisions.get(&old), revisions.get(&new)),
        (Some(&0), Some(&4))
    );
}

#[tokio::test]
async fn blue_green_waits_for_a_promote_with_test_traffic_on_the_new_revision() {
    let harness = Harness::start().await;
    harness.application(1).await;
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({
                "target": {"service": "web", "testService": "web-preview", "workload": "web"},
                "strategy": {"allAtOnce": {}, "blueGreen": {"readyOption": {"action": "Wait", "waitTimeout": "60s"}, "terminationWait": "1s"}}
            }),
        )
        .await;
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Ready, 20)
        .await;
    let new_hash = harness
        .revision_of("shop/web:2")
        .await
        .rsplit('-')
        .next()
        .unwrap()
        .to_owned();
    let old_hash = harness
        .revision_of(STABLE_IMAGE)
        .await
        .rsplit('-')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        revision_label(&harness.selector("web-preview").await),
        Some(new_hash.clone())
    );
    assert_eq!(
        revision_label(&harness.selector("web").await),
        Some(old_hash.clone())
    );
    assert_eq!(
        condition(&record, "Ready").map(|c| c.1),
        Some("WaitingForPromote".into())
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        super::phase_of(&harness.record("web-v2").await),
        Some(DeploymentPhase::Ready),
        "it waits"
    );
    assert_eq!(
        revision_label(&harness.selector("web").await),
        Some(old_hash)
    );

    harness
        .control("web-v2", json!({"promote": {"throughStep": 0}}))
        .await;
    harness
        .wait_phase("web-v2", DeploymentPhase::Succeeded, 20)
        .await;
    assert_eq!(
        revision_label(&harness.selector("web").await),
        Some(new_hash)
    );
}

#[tokio::test]
async fn rolling_replaces_pods_within_max_surge_and_ends_on_the_new_revision() {
    let harness = Harness::start().await;
    harness.application(3).await;
    // Every version of the revision Deployments, in commit order (a watch misses none), so the
    // bound is checked on each intermediate state, not on whatever a poll happens to see.
    let versions: Arc<Mutex<Vec<(String, i32)>>> = Arc::default();
    let recorder = {
        let versions = versions.clone();
        let stream = watcher::watcher(
            harness.deployments(),
            watcher::Config::default().labels("app.kubernetes.io/managed-by=slipway"),
        );
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(event) = stream.next().await {
                if let Ok(watcher::Event::Apply(object) | watcher::Event::InitApply(object)) = event
                {
                    let replicas = object.spec.as_ref().and_then(|spec| spec.replicas);
                    versions.lock().unwrap().push((
                        object.metadata.name.unwrap_or_default(),
                        replicas.unwrap_or(1),
                    ));
                }
            }
        })
    };
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({"strategy": {"rolling": {"maxSurge": 1, "maxUnavailable": 0}}}),
        )
        .await;
    let new = harness.revision_of("shop/web:2").await;
    let old = harness.revision_of(STABLE_IMAGE).await;
    harness
        .wait_phase("web-v2", DeploymentPhase::Succeeded, 40)
        .await;
    recorder.abort();

    // Replay: desired pods stay within [size - maxUnavailable, size + maxSurge] once both
    // revisions exist, and the new revision grows one surge at a time.
    let mut current = std::collections::BTreeMap::new();
    let mut new_sizes = Vec::new();
    for (name, replicas) in versions.lock().unwrap().iter() {
        current.insert(name.clone(), *replicas);
        let (stable, fresh) = (
            current.get(&old).copied().unwrap_or(0),
            current.get(&new).copied().unwrap_or(0),
        );
        assert!(
            stable + fresh <= 3 + 1,
            "never more than maxSurge pods above the size: {stable} + {fresh}"
        );
        if current.contains_key(&new) {
            assert!(
                stable + fresh >= 3,
                "maxUnavailable 0: never fewer desired pods than the size: {stable} + {fresh}"
            );
        }
        if *name == new && new_sizes.last() != Some(replicas) {
            new_sizes.push(*replicas);
        }
    }
    assert_eq!(new_sizes, [1, 2, 3], "the new revision grows by maxSurge");

    let selector = harness.selector("web").await;
    assert_eq!(
        revision_label(&selector),
        new.rsplit('-').next().map(str::to_owned)
    );
    let revisions = harness.revisions().await;
    assert_eq!(
        (revisions.get(&old), revisions.get(&new)),
        (Some(&0), Some(&3))
    );
}

#[tokio::test]
async fn a_readiness_check_of_a_replica_ratio_canary_asks_only_for_the_new_revisions_share() {
    // 10 % of 3 pods is one new pod: the check must not wait for three (it did, and rolled back).
    // Three failures in a row fail it: a check that wanted three pods sees 1/3 on each of the
    // six probes of the 6 s canary and rolls back, while the scale-up to three pods after the
    // canary has a few seconds to become Ready on a loaded machine.
    let harness = Harness::start().await;
    harness.application(3).await;
    harness
        .rollout(
            "web-v2",
            "shop/web:2",
            json!({
                "strategy": {"canary": {"percent": 10, "interval": "6s"}, "blueGreen": {"terminationWait": "1s"}},
                "healthChecks": [{"name": "pods", "readiness": {}, "interval": "1s", "timeout": "1s", "failureThreshold": 3}]
            }),
        )
        .await;
    let record = harness
        .wait_phase("web-v2", DeploymentPhase::Succeeded, 40)
        .await;
    assert!(record.status.unwrap().rollback.is_none(), "no rollback");
    let revisions = harness.revisions().await;
    assert_eq!(
        revisions.get(&harness.revision_of("shop/web:2").await),
        Some(&3)
    );
}
