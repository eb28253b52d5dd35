//! `--watch` of one object (`deploy status`, `get execution`): reprints the object's view
//! whenever it changes and ends with the run it shows, like `kubectl argo rollouts status`.

use std::fmt::Debug;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::watch_object;
use kube::{Api, Resource};
use serde::de::DeserializeOwned;

use super::cluster::Connection;
use super::write::Kind;
use crate::api::common::DurationString;

/// Parses a `--timeout` such as `90s`, `10m` or `1h`.
///
/// # Errors
/// When the text is not a duration, with an example of one.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    DurationString::new(text)
        .to_duration()
        .map_err(|error| format!("{error}; write e.g. 90s, 10m or 1h"))
}

/// How a watched object is shown and when the watch ends.
pub struct View<Render, Outcome> {
    /// The object's text; reprinted when it differs from the last one shown.
    pub render: Render,
    /// `None` while the run goes on, else the watch's result (an error is a non-zero exit).
    pub outcome: Outcome,
}

/// Shows `first` (object `name`, read by the caller so a wrong name fails at once), then every
/// change, until `view.outcome` says the run ended or `timeout` passes.
///
/// # Errors
/// When the run ends unsuccessfully, the object is deleted, or the timeout passes first.
pub async fn watch_until<K, Render, Outcome>(
    connection: &Connection,
    kind: &Kind,
    name: &str,
    first: &K,
    timeout: Option<Duration>,
    view: &View<Render, Outcome>,
) -> anyhow::Result<()>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + 'static,
    Render: Fn(&K) -> String,
    Outcome: Fn(&K) -> Option<Result<(), String>>,
{
    let mut shown = String::new();
    if let Some(outcome) = show(first, &mut shown, view) {
        return outcome;
    }
    let watching = follow(connection, kind, name, &mut shown, view);
    match timeout {
        None => watching.await,
        Some(limit) => tokio::time::timeout(limit, watching)
            .await
            .unwrap_or_else(|_| {
                anyhow::bail!(
                    "timed out after {}s waiting for {} {name} to end",
                    limit.as_secs(),
                    kind.label
                )
            }),
    }
}

async fn follow<K, Render, Outcome>(
    connection: &Connection,
    kind: &Kind,
    name: &str,
    shown: &mut String,
    view: &View<Render, Outcome>,
) -> anyhow::Result<()>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + 'static,
    Render: Fn(&K) -> String,
    Outcome: Fn(&K) -> Option<Result<(), String>>,
{
    let api: Api<K> = Api::namespaced(connection.client.clone(), &connection.namespace);
    let mut changes = watch_object(api, name).default_backoff().boxed();
    while let Some(change) = changes.next().await {
        match change {
            Ok(Some(object)) => {
                if let Some(outcome) = show(&object, shown, view) {
                    return outcome;
                }
            }
            Ok(None) => anyhow::bail!(
                "{} {name} was deleted from namespace {} while watching",
                kind.label,
                connection.namespace
            ),
            // The stream retries with a backoff; say why the view may lag meanwhile.
            Err(error) => eprintln!(
                "warning: unable to watch {} {name} at {}: {error}; retrying",
                kind.label, connection.server
            ),
        }
    }
    anyhow::bail!("the watch of {} {name} ended unexpectedly", kind.label)
}

/// Prints the object's view when it differs from the last one shown; the watch's outcome once
/// the run has ended.
fn show<K, Render, Outcome>(
    object: &K,
    shown: &mut String,
    view: &View<Render, Outcome>,
) -> Option<anyhow::Result<()>>
where
    Render: Fn(&K) -> String,
    Outcome: Fn(&K) -> Option<Result<(), String>>,
{
    let text = (view.render)(object);
    if text != *shown {
        if !shown.is_empty() {
            println!();
        }
        print!("{text}");
        *shown = text;
    }
    (view.outcome)(object).map(|outcome| outcome.map_err(anyhow::Error::msg))
}
