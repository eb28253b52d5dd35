//! Scale: 10,000 objects with 100 concurrent watches, and a full list of them, through the real
//! `kube::Client`. Bounds are generous so the test holds in debug builds; the measured figures
//! are printed (`--nocapture`).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{widget, widget_cluster, widgets};
use futures::{StreamExt, TryStreamExt};
use kube::api::{ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

const OBJECTS: usize = 10_000;
const WATCHES: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_objects_with_a_hundred_watches() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let start = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let received = Arc::new(AtomicUsize::new(0));
    let mut watchers = Vec::new();
    for _ in 0..WATCHES {
        let stream = api
            .watch(&WatchParams::default().timeout(290), &start)
            .await
            .unwrap();
        let received = received.clone();
        watchers.push(tokio::spawn(async move {
            let mut stream = stream.boxed();
            let mut added = 0;
            while added < OBJECTS {
                match stream.try_next().await {
                    Ok(Some(WatchEvent::Added(_))) => {
                        added += 1;
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Some(_)) => {}
                    other => panic!("watch ended early after {added}: {other:?}"),
                }
            }
        }));
    }
    let started = Instant::now();
    futures::stream::iter(0..OBJECTS)
        .map(|index| {
            let api = api.clone();
            async move {
                let mut object = widget(&format!("w{index:05}"), json!({"size": "small"}));
                object.metadata.labels =
                    Some([("shard".to_string(), (index % 10).to_string())].into());
                api.create(&PostParams::default(), &object).await
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let created_in = started.elapsed();
    for watcher in watchers {
        tokio::time::timeout(Duration::from_secs(240), watcher)
            .await
            .expect("watches keep up")
            .unwrap();
    }
    let delivered_in = started.elapsed();
    assert_eq!(received.load(Ordering::Relaxed), OBJECTS * WATCHES);
    let listed_at = Instant::now();
    let list = api.list(&ListParams::default()).await.unwrap();
    let listed_in = listed_at.elapsed();
    assert_eq!(list.items.len(), OBJECTS);
    let selected_at = Instant::now();
    let shard = api
        .list(&ListParams::default().labels("shard=3"))
        .await
        .unwrap();
    let selected_in = selected_at.elapsed();
    assert_eq!(shard.items.len(), OBJECTS / 10);
    println!(
        "created {OBJECTS} in {created_in:?}; {WATCHES} watches received all {} events by {delivered_in:?}; \
         full list in {listed_in:?}; selected list in {selected_in:?}",
        OBJECTS * WATCHES
    );
    assert!(
        listed_in < Duration::from_secs(5),
        "listing {OBJECTS} objects took {listed_in:?}"
    );
}
