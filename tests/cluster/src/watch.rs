//! Watches: replay from a `resourceVersion` out of the retained history, synthetic ADDED
//! events for `resourceVersion` ""/"0" and `sendInitialEvents`, bookmarks, selector
//! transitions (an object leaving the selector is DELETED for this watch, entering it ADDED, as
//! in the apiserver's watch cache), timeouts, and 410 Gone as an ERROR event.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::cluster::Cluster;
use crate::error::ApiError;
use crate::meta;
use crate::ops::as_served;
use crate::registry::ResourceType;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Change, EventKind, Expired};

/// Which objects a watch (or list) sees.
#[derive(Clone, Debug, Default)]
pub struct ObjectFilter {
    /// Only this namespace.
    pub namespace: Option<String>,
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
}

impl ObjectFilter {
    /// Whether the object passes.
    pub fn matches(&self, object: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|namespace| meta::namespace(object) == Some(namespace))
            && self.labels.matches(object)
            && self.fields.matches(object)
    }
}

/// One item of a watch stream.
#[derive(Clone, Debug)]
pub enum WatchItem {
    /// ADDED, MODIFIED or DELETED, with the object (and its shared encoding when unchanged).
    Event(EventKind, Arc<Value>, Option<Arc<Change>>),
    /// BOOKMARK at a revision; `true` marks the end of initial events.
    Bookmark(u64, bool),
    /// An ERROR event (410 Expired), after which the stream ends.
    Error(ApiError),
}

/// What a watch request asks for.
#[derive(Clone, Debug)]
pub struct WatchRequest {
    /// The resource version served.
    pub resource: Arc<ResourceType>,
    /// Objects seen.
    pub filter: ObjectFilter,
    /// `resourceVersion` (unset, "" and "0" start with the current state).
    pub resource_version: Option<String>,
    /// `sendInitialEvents`.
    pub send_initial_events: Option<bool>,
    /// `allowWatchBookmarks`.
    pub allow_bookmarks: bool,
    /// `timeoutSeconds`.
    pub timeout: Option<Duration>,
}

/// The event a change is for one watch, if any (pure).
pub fn translate(
    resource: &ResourceType,
    filter: &ObjectFilter,
    change: &Arc<Change>,
) -> Option<WatchItem> {
    if change.resource != resource.group_resource() {
        return None;
    }
    let now = filter.matches(&change.object);
    let before = change
        .previous
        .as_ref()
        .is_some_and(|previous| filter.matches(previous));
    let same_version = change.object.get("apiVersion").and_then(Value::as_str)
        == Some(resource.api_version().as_str());
    let object = || as_served(resource, change.object.clone());
    let cached = || same_version.then(|| change.clone());
    match (change.kind, before, now) {
        (EventKind::Added, _, true) => Some(WatchItem::Event(EventKind::Added, object(), cached())),
        (EventKind::Modified, true, true) => {
            Some(WatchItem::Event(EventKind::Modified, object(), cached()))
        }
        (EventKind::Modified, false, true) => {
            Some(WatchItem::Event(EventKind::Added, object(), cached()))
        }
        (EventKind::Modified, true, false) => {
            // Leaving the selector: the previous state, at the new revision.
            let mut previous = (**change.previous.as_ref()?).clone();
            previous["metadata"]["resourceVersion"] = Value::String(change.revision.to_string());
            Some(WatchItem::Event(
                EventKind::Deleted,
                as_served(resource, Arc::new(previous)),
                None,
            ))
        }
        (EventKind::Deleted, _, true) => {
            Some(WatchItem::Event(EventKind::Deleted, object(), cached()))
        }
        _ => None,
    }
}

/// The 410 a watch gets for an expired version.
pub fn expired_error(requested: u64, expired: Expired) -> ApiError {
    ApiError::expired(format!(
        "too old resource version: {requested} ({})",
        expired.compacted_through
    ))
}

/// A BOOKMARK event's object.
pub fn bookmark_object(resource: &ResourceType, revision: u64, initial_end: bool) -> Value {
    let mut object = json!({
        "kind": resource.kind,
        "apiVersion": resource.api_version(),
        "metadata": {"resourceVersion": revision.to_string(), "creationTimestamp": null},
    });
    if initial_end {
        object["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    object
}

/// Starts a watch; items arrive on the receiver until the timeout, a dropped-watches fault,
/// a 410, or the receiver being dropped.
///
/// # Errors
/// 400 for a malformed `resourceVersion`.
pub fn start(
    cluster: &Cluster,
    request: WatchRequest,
) -> Result<mpsc::Receiver<WatchItem>, ApiError> {
    let requested = request
        .resource_version
        .as_deref()
        .filter(|version| !version.is_empty() && *version != "0");
    let requested = requested
        .map(|text| {
            text.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "resourceVersion: Invalid value: {text:?}: must be a positive integer"
                ))
            })
        })
        .transpose()?;
    let (sender, receiver) = mpsc::channel(1024);
    let mut revision_changes = cluster.inner.revision.subscribe();
    let mut epoch = cluster.inner.watch_epoch.subscribe();
    let (initial, mut cursor, start_error) = {
        let state = cluster.read();
        let current = state.store.revision();
        match requested {
            None if request.send_initial_events != Some(false) => {
                let snapshot = state
                    .store
                    .snapshot(&request.resource.group_resource(), current, "")
                    .unwrap_or_default();
                let items: Vec<WatchItem> = snapshot
                    .into_iter()
                    .filter(|(_, object)| request.filter.matches(object))
                    .map(|(_, object)| {
                        WatchItem::Event(
                            EventKind::Added,
                            as_served(&request.resource, object),
                            None,
                        )
                    })
                    .collect();
                (items, current, None)
            }
            None => (Vec::new(), current, None),
            Some(revision) => match state.store.history().since(revision) {
                Ok(_) => (Vec::new(), revision, None),
                Err(expired) => (Vec::new(), revision, Some(expired_error(revision, expired))),
            },
        }
    };
    let cluster = cluster.clone();
    tokio::spawn(async move {
        if let Some(error) = start_error {
            let _ = sender.send(WatchItem::Error(error)).await;
            return;
        }
        for item in initial {
            if sender.send(item).await.is_err() {
                return;
            }
        }
        if request.send_initial_events == Some(true) && request.allow_bookmarks {
            let _ = sender.send(WatchItem::Bookmark(cursor, true)).await;
        }
        let deadline =
            tokio::time::Instant::now() + request.timeout.unwrap_or(Duration::from_secs(1800));
        let mut bookmarks = tokio::time::interval(cluster.bookmark_interval());
        bookmarks.tick().await;
        // The first pass runs at once: changes after the requested version may already exist.
        let mut first = true;
        loop {
            let mut send_bookmark = false;
            if !std::mem::take(&mut first) {
                tokio::select! {
                changed = revision_changes.changed() => if changed.is_err() { return },
                _ = epoch.changed() => return,
                () = tokio::time::sleep_until(deadline) => return,
                () = sender.closed() => return,
                _ = bookmarks.tick(), if request.allow_bookmarks => send_bookmark = true,
                }
            }
            let batch = {
                let state = cluster.read();
                let batch = state.store.history().since(cursor);
                if batch.is_ok() {
                    cursor = cursor.max(state.store.revision());
                }
                batch
            };
            let changes = match batch {
                Ok(changes) => changes,
                Err(expired) => {
                    let _ = sender
                        .send(WatchItem::Error(expired_error(cursor, expired)))
                        .await;
                    return;
                }
            };
            for change in &changes {
                if let Some(item) = translate(&request.resource, &request.filter, change)
                    && sender.send(item).await.is_err()
                {
                    return;
                }
            }
            if send_bookmark
                && sender
                    .send(WatchItem::Bookmark(cursor, false))
                    .await
                    .is_err()
            {
                return;
            }
        }
    });
    Ok(receiver)
}
