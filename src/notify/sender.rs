//! The notifier: on the leader, every [`TICK`], finds runs whose sinks lack notices and sends
//! them, one task per run at a time (at most [`CONCURRENCY`] runs at once), in telling order.
//!
//! # Guarantees
//! - **Never in the run's way**: it reads the PipelineExecution controller's cache and writes
//!   only `status.notifications`, under its own field manager ([`FIELD_MANAGER`]); the run's
//!   controller leaves that field out of its writes.
//! - **At least once**: a key enters `delivered` only after a 2xx; a send whose record did not
//!   land is sent again (same `ce-id`).
//! - **Backoff from the API**: after a failure the sink waits `2^failures` seconds (at most
//!   [`MAX_BACKOFF`]) from `lastAttemptTime`, so a restart does not hammer a failing sink; after
//!   [`MAX_FAILURES`] failures in a row the run stops notifying that sink, and says so.
//! - **Bounded**: memory holds only the set of runs being sent for; each call is bounded by
//!   [`CALL_TIMEOUT`] and reads at most a small response; a sink's `delivered` list ends at
//!   [`MAX_DELIVERED`] keys.
//! - **Nothing secret in status**: a failure names the sink's origin (scheme, host, port) and the
//!   status code or the kind of error, never the URL's path or query, a body or the secret.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::core::DeserializeGuard;
use kube::runtime::reflector::Store;
use kube::{Api, Client, Resource, ResourceExt};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::api::execution::{NotificationProgress, PipelineExecution};
use crate::api::pipeline::{NotificationFormat, NotificationSink};
use crate::rollout::http_call::{HttpCallError, HttpRequest, send};
use crate::runtime::{ControllerContext, Leadership};

use super::message::{RunIdentity, message};
use super::notices::{Notice, notices, pending};

/// How often runs are looked at.
pub const TICK: Duration = Duration::from_secs(1);
/// The field manager of the notifier's status writes.
pub const FIELD_MANAGER: &str = "slipway-notifier";
/// Runs sent for at once.
pub const CONCURRENCY: usize = 8;
/// One notification call's bound.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Failures in a row after which a run stops notifying a sink.
pub const MAX_FAILURES: i32 = 20;
/// The most keys a sink's `delivered` list holds.
pub const MAX_DELIVERED: usize = 1000;

/// Labels of the notifications counter (bounded: two formats, two outcomes).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NotificationLabels {
    /// `CloudEvents` or `Webhook`.
    pub format: String,
    /// `Delivered` or `Failed`.
    pub outcome: String,
}

#[derive(Clone)]
struct Notifier {
    client: Client,
    leadership: Leadership,
    sent: Family<NotificationLabels, Counter>,
    busy: Arc<Mutex<HashSet<String>>>,
    slots: Arc<Semaphore>,
}

/// Starts the notifier over the PipelineExecution stores; it ends when `stop` turns true.
pub fn start(
    context: &ControllerContext,
    executions: Vec<Store<DeserializeGuard<PipelineExecution>>>,
    stop: &watch::Receiver<bool>,
) -> JoinHandle<()> {
    let sent = Family::<NotificationLabels, Counter>::default();
    context.metrics.register(
        "notifications",
        "Notification calls to pipeline sinks, by format and outcome",
        sent.clone(),
    );
    let notifier = Notifier {
        client: context.client.clone(),
        leadership: context.leadership.clone(),
        sent,
        busy: Arc::default(),
        slots: Arc::new(Semaphore::new(CONCURRENCY)),
    };
    let mut stop = stop.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
            if !notifier.leadership.is_leader() {
                continue;
            }
            for store in &executions {
                for guard in store.state() {
                    let Ok(run) = &guard.0 else { continue };
                    if due(run, Timestamp::now()) {
                        notifier.spawn(run.clone());
                    }
                }
            }
        }
    })
}

/// Whether any sink of `run` has a notice pending and is not backing off.
fn due(run: &PipelineExecution, now: Timestamp) -> bool {
    let Some(status) = &run.status else {
        return false;
    };
    let Some(spec) = &status.pipeline_spec else {
        return false;
    };
    if spec.notifications.is_empty() {
        return false;
    }
    let all = notices(status);
    spec.notifications.iter().any(|sink| {
        let progress = status.notifications.iter().find(|p| p.name == sink.name);
        ready(progress, now) && !pending(sink, &all, progress).is_empty()
    })
}

/// Whether a sink with `progress` may be called at `now`.
fn ready(progress: Option<&NotificationProgress>, now: Timestamp) -> bool {
    let Some(progress) = progress else {
        return true;
    };
    if progress.failures >= MAX_FAILURES || progress.delivered.len() >= MAX_DELIVERED {
        return false;
    }
    if progress.failures == 0 {
        return true;
    }
    let wait = backoff(progress.failures);
    progress.last_attempt_time.as_ref().is_none_or(|last| {
        now.as_millisecond() - last.0.as_millisecond()
            >= i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)
    })
}

/// The wait after `failures` failures in a row.
pub fn backoff(failures: i32) -> Duration {
    Duration::from_secs(1u64 << failures.clamp(0, 16)).min(MAX_BACKOFF)
}

impl Notifier {
    fn spawn(&self, run: PipelineExecution) {
        let uid = run.uid().unwrap_or_default();
        if !self
            .busy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(uid.clone())
        {
            return;
        }
        let notifier = self.clone();
        tokio::spawn(async move {
            if let Ok(_slot) = notifier.slots.clone().acquire_owned().await {
                notifier.notify(&run).await;
            }
            notifier
                .busy
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&uid);
        });
    }

    /// Sends every pending notice of `run`, sink by sink, and records the progress.
    async fn notify(&self, cached: &PipelineExecution) {
        let namespace = cached.namespace().unwrap_or_default();
        let name = cached.name_any();
        let api: Api<PipelineExecution> = Api::namespaced(self.client.clone(), &namespace);
        // The cache may lag the notifier's own last write: what is pending is read fresh.
        let run = match api.get_status(&name).await {
            Ok(run) if run.uid() == cached.uid() => run,
            Ok(_) => return,
            Err(error) => {
                tracing::debug!(%error, execution = %name, "unable to read a run to notify for");
                return;
            }
        };
        let Some(status) = &run.status else { return };
        let Some(spec) = &status.pipeline_spec else {
            return;
        };
        let uid = run.uid().unwrap_or_default();
        let identity = RunIdentity {
            namespace: &namespace,
            pipeline: &run.spec.pipeline_ref.name,
            execution: &name,
            uid: &uid,
        };
        let all = notices(status);
        let now = Timestamp::now();
        let mut updates = Vec::new();
        for sink in &spec.notifications {
            let progress = status.notifications.iter().find(|p| p.name == sink.name);
            if !ready(progress, now) {
                continue;
            }
            let todo = pending(sink, &all, progress);
            if todo.is_empty() {
                continue;
            }
            updates.push(self.send_all(sink, &todo, identity, &namespace).await);
        }
        if !updates.is_empty() {
            record(&api, &name, status.notifications.clone(), &updates).await;
        }
    }

    /// Sends `todo` to `sink` in order, stopping at the first failure.
    async fn send_all(
        &self,
        sink: &NotificationSink,
        todo: &[&Notice],
        identity: RunIdentity<'_>,
        namespace: &str,
    ) -> SinkUpdate {
        let mut update = SinkUpdate {
            name: sink.name.clone(),
            delivered: Vec::new(),
            error: None,
        };
        let secret = match &sink.secret_ref {
            Some(reference) => {
                match read_key(&self.client, namespace, &reference.name, &reference.key).await {
                    Ok(secret) => Some(secret),
                    Err(error) => {
                        update.error = Some(error);
                        return update;
                    }
                }
            }
            None => None,
        };
        let format = match sink.format {
            NotificationFormat::CloudEvents => "CloudEvents",
            NotificationFormat::Webhook => "Webhook",
        };
        let now = crate::runtime::whole_seconds(Timestamp::now()).to_string();
        for notice in todo {
            let outgoing = message(sink.format, notice, identity, secret.as_deref(), &now);
            let request = HttpRequest {
                method: hyper::Method::POST,
                url: sink.url.clone(),
                headers: outgoing
                    .headers
                    .into_iter()
                    .filter(|(name, _)| name != "content-type")
                    .collect(),
                body: Some(("application/json".to_owned(), outgoing.body)),
                timeout: CALL_TIMEOUT,
                verify_certificates: true,
            };
            let outcome = match send(&request).await {
                Ok(response) if (200..300).contains(&response.status) => Ok(()),
                Ok(response) => Err(format!(
                    "{} answered HTTP {}",
                    origin(&sink.url),
                    response.status
                )),
                Err(error) => Err(describe(&sink.url, &error)),
            };
            let labels = NotificationLabels {
                format: format.to_owned(),
                outcome: if outcome.is_ok() {
                    "Delivered"
                } else {
                    "Failed"
                }
                .to_owned(),
            };
            self.sent.get_or_create(&labels).inc();
            match outcome {
                Ok(()) => update.delivered.push(notice.key.clone()),
                Err(error) => {
                    tracing::info!(sink = %sink.name, %error, "a notification was not delivered; it is retried");
                    update.error = Some(error);
                    break;
                }
            }
        }
        update
    }
}

/// Merges `updates` into `progress` (the run's, read before the sends; only the notifier writes
/// it) and writes it.
async fn record(
    api: &Api<PipelineExecution>,
    name: &str,
    mut progress: Vec<NotificationProgress>,
    updates: &[SinkUpdate],
) {
    let now = Time(crate::runtime::whole_seconds(Timestamp::now()));
    for update in updates {
        let index = match progress.iter().position(|p| p.name == update.name) {
            Some(index) => index,
            None => {
                progress.push(NotificationProgress {
                    name: update.name.clone(),
                    ..NotificationProgress::default()
                });
                progress.len() - 1
            }
        };
        let entry = &mut progress[index];
        for key in &update.delivered {
            if !entry.delivered.contains(key) && entry.delivered.len() < MAX_DELIVERED {
                entry.delivered.push(key.clone());
            }
        }
        match &update.error {
            Some(error) => {
                entry.failures = entry.failures.saturating_add(1);
                entry.last_error = Some(if entry.failures >= MAX_FAILURES {
                    format!("{error}; gave up after {MAX_FAILURES} failures in a row")
                } else {
                    error.clone()
                });
            }
            None => {
                entry.failures = 0;
                entry.last_error = None;
            }
        }
        entry.last_attempt_time = Some(now.clone());
    }
    let patch = serde_json::json!({
        "apiVersion": PipelineExecution::api_version(&()),
        "kind": PipelineExecution::kind(&()),
        "status": {"notifications": progress},
    });
    if let Err(error) = api
        .patch_status(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await
    {
        tracing::warn!(%error, execution = %name, "unable to record notifications; they are sent again");
    }
}

/// What one sink got in one pass.
struct SinkUpdate {
    name: String,
    delivered: Vec<String>,
    error: Option<String>,
}

/// A Secret key's value; the error names the Secret and key, never a value.
async fn read_key(
    client: &Client,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<Vec<u8>, String> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = api
        .get_opt(name)
        .await
        .map_err(|_| format!("unable to read the notification Secret {name}"))?
        .ok_or_else(|| format!("the notification Secret {name} (secretRef) does not exist"))?;
    crate::runtime::secrets::key_value(&secret, key)
        .ok_or_else(|| format!("the notification Secret {name} has no value under key {key}"))
}

/// `scheme://host[:port]` of `url`: what a failure may say about where it went.
fn origin(url: &str) -> String {
    url.parse::<hyper::Uri>()
        .ok()
        .and_then(|uri| {
            let scheme = uri.scheme_str()?.to_owned();
            let authority = uri.authority()?.as_str();
            // Credentials in the authority stay out.
            let host = authority.rsplit('@').next().unwrap_or(authority);
            Some(format!("{scheme}://{host}"))
        })
        .unwrap_or_else(|| "the sink".to_owned())
}

/// A call failure in words that hold no path, query or body.
fn describe(url: &str, error: &HttpCallError) -> String {
    let what = match error {
        HttpCallError::InvalidRequest { .. } => "the sink's URL or request is invalid",
        HttpCallError::Timeout { .. } => "no answer in time",
        HttpCallError::Transport { .. } => "connection failed",
    };
    format!("{}: {what}", origin(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_drop_path_query_and_credentials() {
        assert_eq!(
            origin("https://user:token@hooks.test:8443/a/b?key=secret"),
            "https://hooks.test:8443"
        );
        assert_eq!(origin("http://127.0.0.1:9/x"), "http://127.0.0.1:9");
        assert_eq!(origin("not a url"), "the sink");
        let failure = describe(
            "http://127.0.0.1:9/path?token=t0p",
            &HttpCallError::Transport {
                url: "http://127.0.0.1:9/path?token=t0p".into(),
                message: "refused".into(),
            },
        );
        assert_eq!(failure, "http://127.0.0.1:9: connection failed");
    }

    #[test]
    fn backoff_doubles_to_a_cap_and_the_last_attempt_time_holds_the_sink() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(30), MAX_BACKOFF);
        let at = |second: i64| Timestamp::from_second(second).unwrap();
        let failing = NotificationProgress {
            name: "s".into(),
            failures: 2,
            last_attempt_time: Some(Time(at(100))),
            ..NotificationProgress::default()
        };
        assert!(
            !ready(Some(&failing), at(103)),
            "waits 4 s after 2 failures"
        );
        assert!(ready(Some(&failing), at(104)));
        assert!(ready(None, at(0)), "a sink never tried is ready");
        let given_up = NotificationProgress {
            failures: MAX_FAILURES,
            ..failing.clone()
        };
        assert!(!ready(Some(&given_up), at(1_000_000)));
    }
}
