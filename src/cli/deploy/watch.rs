//! `slipway deploy status --watch`: reprints the status view whenever it changes and ends with
//! the rollout, like `kubectl argo rollouts status`.

use std::time::Duration;

use futures::StreamExt;
use kube::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::watch_object;

use super::{get_record, view};
use crate::api::Deployment as Record;
use crate::cli::cluster::Connection;

/// Watches record `name` until its rollout ends or `timeout` passes.
///
/// # Errors
/// When the record does not exist or is deleted, the rollout ends Failed or Stopped, or the
/// timeout passes first.
pub async fn watch_status(
    connection: &Connection,
    name: &str,
    timeout: Option<Duration>,
) -> anyhow::Result<()> {
    // A first read turns a wrong name or namespace into a clear error instead of a silent wait.
    let record = get_record(connection, name).await?;
    let mut shown = String::new();
    if let Some(outcome) = show(&record, &mut shown) {
        return outcome;
    }
    let watching = follow(connection, name, &mut shown);
    match timeout {
        None => watching.await,
        Some(limit) => tokio::time::timeout(limit, watching)
            .await
            .unwrap_or_else(|_| {
                anyhow::bail!(
                    "timed out after {}s waiting for deployments.slipway.dev {name} to end",
                    limit.as_secs()
                )
            }),
    }
}

async fn follow(connection: &Connection, name: &str, shown: &mut String) -> anyhow::Result<()> {
    let api: Api<Record> = Api::namespaced(connection.client.clone(), &connection.namespace);
    let mut changes = watch_object(api, name).default_backoff().boxed();
    while let Some(change) = changes.next().await {
        match change {
            Ok(Some(record)) => {
                if let Some(outcome) = show(&record, shown) {
                    return outcome;
                }
            }
            Ok(None) => anyhow::bail!(
                "deployments.slipway.dev {name} was deleted from namespace {} while watching",
                connection.namespace
            ),
            // The stream retries with a backoff; say why the view may lag meanwhile.
            Err(error) => eprintln!(
                "warning: unable to watch deployments.slipway.dev {name} at {}: {error}; retrying",
                connection.server
            ),
        }
    }
    anyhow::bail!("the watch of deployments.slipway.dev {name} ended unexpectedly")
}

/// Prints the record's view when it differs from the last one shown; the watch's outcome once
/// the rollout has ended.
fn show(record: &Record, shown: &mut String) -> Option<anyhow::Result<()>> {
    let text = view::render_status(record);
    if text != *shown {
        if !shown.is_empty() {
            println!();
        }
        print!("{text}");
        *shown = text;
    }
    view::watch_outcome(record).map(|outcome| outcome.map_err(anyhow::Error::msg))
}
