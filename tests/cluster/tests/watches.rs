//! Watches through the real `kube::Client` and kube-runtime: resumption, 410 Gone and
//! relisting, bookmarks, streaming lists, selector transitions, timeouts, dropped streams.

mod common;

use std::time::Duration;

use common::{create_small, widget, widget_cluster, widgets};
use futures::{StreamExt, TryStreamExt};
use kube::api::{DynamicObject, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

async fn next_event(
    stream: &mut (impl futures::Stream<Item = kube::Result<WatchEvent<DynamicObject>>> + Unpin),
) -> WatchEvent<DynamicObject> {
    tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("an event in time")
        .expect("stream open")
        .expect("event")
}

#[tokio::test]
async fn watches_resume_from_a_resource_version() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let first = create_small(&api, "a").await;
    create_small(&api, "b").await;
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 2}})),
    )
    .await
    .unwrap();
    let version = first.metadata.resource_version.unwrap();
    let mut stream = api
        .watch(&WatchParams::default(), &version)
        .await
        .unwrap()
        .boxed();
    match next_event(&mut stream).await {
        WatchEvent::Added(object) => assert_eq!(object.metadata.name.as_deref(), Some("b")),
        other => panic!("expected b added, got {other:?}"),
    }
    match next_event(&mut stream).await {
        WatchEvent::Modified(object) => assert_eq!(object.data["spec"]["replicas"], 2),
        other => panic!("expected a modified, got {other:?}"),
    }
    api.delete("b", &Default::default()).await.unwrap();
    let event = next_event(&mut stream).await;
    assert!(matches!(event, WatchEvent::Deleted(_)), "{event:?}");
}

#[tokio::test]
async fn expired_versions_answer_410_gone() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let first = create_small(&api, "a").await;
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 2}})),
    )
    .await
    .unwrap();
    cluster.cluster().compact_history();
    let version = first.metadata.resource_version.unwrap();
    let mut stream = api
        .watch(&WatchParams::default(), &version)
        .await
        .unwrap()
        .boxed();
    match next_event(&mut stream).await {
        WatchEvent::Error(status) => {
            assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
            assert!(
                status
                    .message
                    .starts_with(&format!("too old resource version: {version} ("))
            );
        }
        other => panic!("expected 410, got {other:?}"),
    }
}

#[tokio::test]
async fn an_object_leaving_the_selector_is_deleted_for_the_watch() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let mut object = widget("a", json!({"size": "small"}));
    object.metadata.labels = Some([("team".to_string(), "red".to_string())].into());
    let created = api.create(&PostParams::default(), &object).await.unwrap();
    let params = WatchParams::default().labels("team=red");
    let mut stream = api
        .watch(&params, &created.metadata.resource_version.unwrap())
        .await
        .unwrap()
        .boxed();
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"team": "blue"}}})),
    )
    .await
    .unwrap();
    assert!(matches!(
        next_event(&mut stream).await,
        WatchEvent::Deleted(_)
    ));
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"team": "red"}}})),
    )
    .await
    .unwrap();
    assert!(matches!(
        next_event(&mut stream).await,
        WatchEvent::Added(_)
    ));
}

#[tokio::test]
async fn bookmarks_arrive_when_allowed() {
    let cluster = widget_cluster().await;
    cluster
        .cluster()
        .set_bookmark_interval(Duration::from_millis(100));
    let api = widgets(&cluster);
    let created = create_small(&api, "a").await;
    let mut stream = api
        .watch(
            &WatchParams::default(),
            &created.metadata.resource_version.unwrap(),
        )
        .await
        .unwrap()
        .boxed();
    match next_event(&mut stream).await {
        WatchEvent::Bookmark(bookmark) => assert!(!bookmark.metadata.resource_version.is_empty()),
        other => panic!("expected a bookmark, got {other:?}"),
    }
}

#[tokio::test]
async fn streaming_lists_end_initial_events_with_an_annotated_bookmark() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    for name in ["a", "b"] {
        api.create(
            &PostParams::default(),
            &widget(name, json!({"size": "small"})),
        )
        .await
        .unwrap();
    }
    let mut stream = api
        .watch(&WatchParams::default().initial_events(), "")
        .await
        .unwrap()
        .boxed();
    assert!(matches!(
        next_event(&mut stream).await,
        WatchEvent::Added(_)
    ));
    assert!(matches!(
        next_event(&mut stream).await,
        WatchEvent::Added(_)
    ));
    match next_event(&mut stream).await {
        WatchEvent::Bookmark(bookmark) => {
            assert_eq!(
                bookmark
                    .metadata
                    .annotations
                    .get("k8s.io/initial-events-end")
                    .map(String::as_str),
                Some("true")
            );
        }
        other => panic!("expected the initial-events-end bookmark, got {other:?}"),
    }
}

#[tokio::test]
async fn watches_end_at_their_timeout() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let mut stream = api
        .watch(&WatchParams::default().timeout(1), "0")
        .await
        .unwrap()
        .boxed();
    let ended = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("stream ends");
    assert!(ended.is_none());
}

async fn reflector_converges(config: watcher::Config) {
    let cluster = widget_cluster().await;
    cluster
        .cluster()
        .set_bookmark_interval(Duration::from_millis(200));
    let api = widgets(&cluster);
    create_small(&api, "before").await;
    let writer = reflector::store::Writer::new(common::widget_resource());
    let reader = writer.as_reader();
    let stream = reflector(writer, watcher(api.clone(), config)).applied_objects();
    let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen_errors = errors.clone();
    let task = tokio::spawn(async move {
        let mut stream = stream.boxed();
        while let Some(item) = stream.next().await {
            if let Err(error) = item {
                seen_errors.lock().unwrap().push(error.to_string());
            }
        }
    });
    reader.wait_until_ready().await.unwrap();
    for index in 0..5 {
        api.create(
            &PostParams::default(),
            &widget(&format!("w{index}"), json!({"size": "small"})),
        )
        .await
        .unwrap();
    }
    api.patch(
        "w1",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 3}})),
    )
    .await
    .unwrap();
    api.delete("before", &Default::default()).await.unwrap();
    api.delete("w4", &Default::default()).await.unwrap();
    // A dropped stream and an expired version in the middle: the watcher must recover.
    cluster.cluster().compact_history();
    cluster.cluster().drop_watches();
    create_small(&api, "after").await;
    common::eventually(WAIT, "the store to converge", || {
        let reader = reader.clone();
        async move {
            let mut names: Vec<String> = reader
                .state()
                .iter()
                .filter_map(|object| object.metadata.name.clone())
                .collect();
            names.sort();
            let replicas = reader
                .state()
                .iter()
                .find(|object| object.metadata.name.as_deref() == Some("w1"))
                .map(|object| object.data["spec"]["replicas"].clone());
            (names == ["after", "w0", "w1", "w2", "w3"] && replicas == Some(json!(3))).then_some(())
        }
    })
    .await;
    task.abort();
    let errors = errors.lock().unwrap().clone();
    // The 410 after compaction is reported once and answered with a relist.
    assert!(
        errors
            .iter()
            .all(|error| error.contains("410") || error.contains("too old")),
        "{errors:?}"
    );
}

#[tokio::test]
async fn a_reflector_converges_with_the_default_watcher_config() {
    reflector_converges(watcher::Config::default()).await;
}

#[tokio::test]
async fn a_reflector_converges_with_streaming_lists() {
    reflector_converges(watcher::Config::default().streaming_lists()).await;
}

#[tokio::test]
async fn the_watcher_relists_after_410() {
    let cluster = widget_cluster().await;
    let api = widgets(&cluster);
    let mut events = watcher(api.clone(), watcher::Config::default()).boxed();
    let mut restarted = 0;
    loop {
        // Errors (the 410 among them) are part of the stream; the watcher recovers by itself.
        if let Ok(Some(watcher::Event::InitDone)) =
            tokio::time::timeout(WAIT, events.try_next()).await.unwrap()
        {
            restarted += 1;
            if restarted == 2 {
                break;
            }
            create_small(&api, "x").await;
            cluster.cluster().set_history_window(0);
            cluster.cluster().drop_watches();
        }
    }
    assert_eq!(
        restarted, 2,
        "the watcher listed again after its version expired"
    );
}
