//! The webhook receiver: `POST /webhooks/<token>` on `--webhook-addr`, on every replica.
//!
//! # A delivery, in order
//! 1. **Route**: `<token>` is derived from the Pipeline's UID ([`webhook_path`], published in
//!    `status.webhookPath`); an unknown token is a bare 404 that says nothing of which Pipelines
//!    exist. Other methods are 405, bodies over [`BODY_LIMIT`] 413, a content type other than
//!    JSON 415. Until the Pipeline watch has listed once, 503.
//! 2. **Authenticate, fail closed**: the Pipeline's `spec.webhook.secretRef` is read from its
//!    Secret for every delivery; no webhook settings, no Secret or an empty key is 401, an API
//!    failure reading it 503; then the signature (or GitLab token) is checked over the raw body
//!    in constant time ([`super::signature`]) before a byte of it is parsed.
//! 3. **Read and judge**: the payload becomes a [`SourceEvent`] ([`super::payload`]; malformed is
//!    400) and the triggers judge it ([`super::filter`]).
//! 4. **Answer at once**: 202 with the run's name when a run starts, 200 when nothing does (ping,
//!    filtered, ignored), all as `{"outcome", "message", "execution"}`.
//! 5. **Then, in the background**: the run is created under a name derived from the delivery id
//!    ([`super::runs::webhook_run_name`]; a redelivery meets a create conflict and is recorded
//!    `Duplicate`), retried on transient API errors; the delivery is recorded in
//!    `status.recentDeliveries` and an Event.
//!
//! # Records and what they never hold
//! Only signed deliveries reach `status.recentDeliveries` (an unsigned request cannot flush the
//! list the poller reads to skip revisions a webhook already handled); refusals are Events and
//! the `slipway_webhook_deliveries_total` counter. Neither holds payload content beyond names
//! the filters read (event, ref, commit), the received signature, or the secret. Records are
//! written by this receiver under its own field manager ([`RECEIVER_FIELD_MANAGER`]) at the
//! Pipeline's `resourceVersion`, and the Pipeline controller never applies the field, so the two
//! writers cannot undo each other. Records waiting for one Pipeline are written together
//! (at most [`RECENT_DELIVERIES`] of them matter), so a burst costs a few writes, not one each.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::core::DeserializeGuard;
use kube::runtime::reflector::Store;
use kube::{Api, Client, ResourceExt};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::api::execution::{ExecutionTrigger, SourceRevision, TriggerType};
use crate::api::pipeline::{DeliveryOutcome, DeliveryRecord, Pipeline, WebhookProvider};
use crate::pipeline::reasons;
use crate::pipeline::runs::{RunName, new_run};
use crate::runtime::Metrics;
use crate::runtime::error_policy::{ErrorClass, classify_kube};
use crate::runtime::events::{EventIntent, EventPublisher};

use super::event::{EventKind, SourceEvent};
use super::filter::{Decision, RunRequest, judge};
use super::runs::{Created, create_run, webhook_run_name};

/// Where every Pipeline's webhook path starts.
pub const PATH_PREFIX: &str = "/webhooks/";
/// The largest body taken (GitHub caps payloads at 25 MiB but pushes are far smaller; a larger
/// body is refused with 413 before it is read in full).
pub const BODY_LIMIT: usize = 1024 * 1024;
/// The field manager of the receiver's status writes.
pub const RECEIVER_FIELD_MANAGER: &str = "slipway-webhook-receiver";
/// How many deliveries `status.recentDeliveries` keeps.
pub const RECENT_DELIVERIES: usize = 20;

/// The webhook path of the Pipeline with `uid`: unguessable without the UID, stable for the
/// Pipeline's life, and new when a Pipeline of the same name is created again.
pub fn webhook_path(uid: &str) -> String {
    let digest = Sha256::digest(format!("slipway.dev/webhook/{uid}").as_bytes());
    format!("{PATH_PREFIX}{}", &hex::encode(digest)[..32])
}

/// Labels of the deliveries counter (bounded: six providers, a handful of outcomes).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// The Pipeline's provider, or `unknown` before a Pipeline is found.
    pub provider: String,
    /// `Accepted`, `Filtered`, `Ignored`, `Duplicate`, `Failed` or `Refused`.
    pub outcome: String,
}

/// The receiver: the Pipeline stores it routes by, and what it writes with.
#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    pipelines: Vec<Store<DeserializeGuard<Pipeline>>>,
    events: EventPublisher,
    deliveries: Family<DeliveryLabels, Counter>,
    recorder: Recorder,
}

impl Receiver {
    /// A receiver over the Pipeline controller's stores; registers its counter in `metrics`.
    pub fn new(
        client: Client,
        pipelines: Vec<Store<DeserializeGuard<Pipeline>>>,
        metrics: &Metrics,
    ) -> Self {
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        metrics.register(
            "webhook_deliveries",
            "Webhook deliveries by provider and outcome",
            deliveries.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                events: EventPublisher::new(client.clone()),
                recorder: Recorder::new(client.clone()),
                client,
                pipelines,
                deliveries,
            }),
        }
    }

    /// The receiver's routes.
    pub fn router(self) -> Router {
        Router::new()
            .route(&format!("{PATH_PREFIX}{{token}}"), post(deliver))
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .with_state(self)
    }

    fn count(&self, provider: &str, outcome: &str) {
        self.inner
            .deliveries
            .get_or_create(&DeliveryLabels {
                provider: provider.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The Pipeline whose path ends in `token`; `None` also while a store has not listed.
    fn find(&self, token: &str) -> Result<Option<Arc<DeserializeGuard<Pipeline>>>, ()> {
        let path = format!("{PATH_PREFIX}{token}");
        let mut synced = true;
        for store in &self.inner.pipelines {
            if futures::FutureExt::now_or_never(store.wait_until_ready()).is_none() {
                synced = false;
            }
            if let Some(found) = store.state().into_iter().find(|guard| {
                let metadata = match &guard.0 {
                    Ok(pipeline) => &pipeline.metadata,
                    Err(invalid) => &invalid.metadata,
                };
                metadata
                    .uid
                    .as_deref()
                    .is_some_and(|uid| webhook_path(uid) == path)
            }) {
                return Ok(Some(found));
            }
        }
        if synced { Ok(None) } else { Err(()) }
    }
}

/// The answer's body.
#[derive(Debug, Serialize)]
struct Answer {
    outcome: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    execution: Option<String>,
}

fn answer(
    code: StatusCode,
    outcome: &'static str,
    message: impl Into<String>,
    execution: Option<String>,
) -> Response {
    (
        code,
        axum::Json(Answer {
            outcome,
            message: message.into(),
            execution,
        }),
    )
        .into_response()
}

async fn deliver(
    State(receiver): State<Receiver>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let guard = match receiver.find(&token) {
        Ok(Some(guard)) => guard,
        Ok(None) => {
            receiver.count("unknown", "Refused");
            return StatusCode::NOT_FOUND.into_response();
        }
        Err(()) => {
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "Refused",
                "the receiver is starting; deliver again shortly",
                None,
            );
        }
    };
    let Ok(pipeline) = guard.0.as_ref() else {
        receiver.count("unknown", "Refused");
        return StatusCode::NOT_FOUND.into_response();
    };
    let provider = pipeline
        .spec
        .webhook
        .as_ref()
        .map_or("none", |webhook| webhook.provider.as_str());
    match receive(&receiver, pipeline, &headers, &body).await {
        Ok(handled) => {
            let (code, outcome) = match &handled.run {
                Some(_) => (StatusCode::ACCEPTED, "Accepted"),
                None => (StatusCode::OK, outcome_name(handled.record.outcome)),
            };
            let response = answer(
                code,
                outcome,
                handled.record.message.clone().unwrap_or_default(),
                handled.record.execution.clone(),
            );
            let background = receiver.clone();
            let pipeline = pipeline.clone();
            let provider = provider.to_owned();
            tokio::spawn(async move { finish(background, pipeline, provider, handled).await });
            response
        }
        Err(refusal) => {
            receiver.count(provider, "Refused");
            tracing::info!(
                pipeline = %pipeline.name_any(),
                namespace = %pipeline.namespace().unwrap_or_default(),
                provider,
                code = refusal.code.as_u16(),
                reason = %refusal.message,
                "webhook delivery refused"
            );
            if refusal.event {
                receiver
                    .inner
                    .events
                    .publish(
                        pipeline,
                        &EventIntent::warning(
                            reasons::WEBHOOK_REFUSED,
                            format!("refused a webhook delivery: {}", refusal.message),
                        ),
                    )
                    .await;
            }
            answer(refusal.code, "Refused", refusal.message, None)
        }
    }
}

/// A refused delivery: the status code and why (never the secret, signature or body).
struct Refusal {
    code: StatusCode,
    message: String,
    /// Worth an Event on the Pipeline (a configuration problem or a bad signature; not a
    /// malformed content type, which says nothing about the Pipeline).
    event: bool,
}

impl Refusal {
    fn new(code: StatusCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            event: true,
        }
    }
}

/// A delivery taken: its record, and the run to create (when it starts one).
struct Handled {
    record: DeliveryRecord,
    run: Option<crate::api::PipelineExecution>,
}

/// Steps 2 and 3 of the module doc.
async fn receive(
    receiver: &Receiver,
    pipeline: &Pipeline,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Handled, Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if !is_json(content_type) {
        return Err(Refusal {
            code: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message: "the body must be application/json: set the webhook's content type to JSON"
                .to_owned(),
            event: false,
        });
    }
    let Some(webhook) = &pipeline.spec.webhook else {
        return Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "this Pipeline takes no webhook deliveries: spec.webhook (provider and secretRef) is not set",
        ));
    };
    let secret = read_secret(
        &receiver.inner.client,
        &pipeline.namespace().unwrap_or_default(),
        &webhook.secret_ref.name,
        &webhook.secret_ref.key,
    )
    .await?;
    super::signature::verify(
        webhook.provider,
        webhook.signature_header.as_deref(),
        headers,
        body,
        &secret,
    )
    .map_err(|error| Refusal::new(StatusCode::UNAUTHORIZED, error.to_string()))?;
    let event = super::payload::parse(webhook.provider, headers, body)
        .map_err(|error| Refusal::new(StatusCode::BAD_REQUEST, error.to_string()))?;
    let id = super::signature::delivery_id(webhook.provider, headers)
        .unwrap_or_else(|| format!("sha256:{}", &hex::encode(Sha256::digest(body))[..32]));
    let mut record = DeliveryRecord {
        id: id.clone(),
        time: Time(crate::runtime::whole_seconds(Timestamp::now())),
        event: Some(bounded(&event.event_name, 100)),
        reference: reference_of(&event),
        revision: event.commit.clone(),
        outcome: DeliveryOutcome::Ignored,
        message: None,
        execution: None,
    };
    let run = match judge(&pipeline.spec, &event) {
        Decision::Start(request) => {
            let name = webhook_run_name(&pipeline.name_any(), &id);
            record.outcome = DeliveryOutcome::Accepted;
            record.message = Some(format!("starts run {name}: {}", request.detail));
            record.execution = Some(name.clone());
            Some(new_run(
                pipeline,
                RunName::Fixed(name),
                trigger_of(webhook.provider, &event, &request, &id),
                Some(source_of(&event, &request)),
                Vec::new(),
            ))
        }
        Decision::Filtered(message) => {
            record.outcome = DeliveryOutcome::Filtered;
            record.message = Some(bounded(&message, 1000));
            None
        }
        Decision::Ignored(message) => {
            record.outcome = DeliveryOutcome::Ignored;
            record.message = Some(bounded(&message, 1000));
            None
        }
    };
    Ok(Handled { record, run })
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The webhook secret's value; refusals name the Secret and key, never the value.
async fn read_secret(
    client: &Client,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<Vec<u8>, Refusal> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = match api.get_opt(name).await {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                format!(
                    "the webhook Secret {name} (spec.webhook.secretRef) does not exist: create it with the shared secret under key {key}"
                ),
            ));
        }
        Err(error) => {
            let forbidden = matches!(&error, kube::Error::Api(status) if status.code == 403);
            tracing::warn!(%error, secret = name, "unable to read a webhook Secret");
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                if forbidden {
                    format!(
                        "the controller may not read the webhook Secret {name}: grant it get on secrets in this namespace"
                    )
                } else {
                    format!("unable to read the webhook Secret {name} just now; deliver again")
                },
            ));
        }
    };
    crate::runtime::secrets::key_value(&secret, key).ok_or_else(|| {
        Refusal::new(
            StatusCode::UNAUTHORIZED,
            format!(
                "the webhook Secret {name} has no value under key {key} (spec.webhook.secretRef.key): deliveries are refused until it has one"
            ),
        )
    })
}

/// The branch or tag an event is about.
fn reference_of(event: &SourceEvent) -> Option<String> {
    match &event.kind {
        EventKind::Push { branch, .. } => Some(bounded(branch, 255)),
        EventKind::Tag { tag, .. } => Some(bounded(&format!("tag {tag}"), 255)),
        EventKind::PullRequest {
            source_branch,
            target_branch,
            ..
        } => Some(bounded(&format!("{source_branch} → {target_branch}"), 255)),
        EventKind::Ping | EventKind::Unsupported => None,
    }
}

/// The run's trigger record.
fn trigger_of(
    provider: WebhookProvider,
    event: &SourceEvent,
    request: &RunRequest,
    id: &str,
) -> ExecutionTrigger {
    ExecutionTrigger {
        type_: TriggerType::Webhook,
        actor: event.actor.as_deref().map(|actor| bounded(actor, 256)),
        delivery_id: Some(bounded(id, 256)),
        detail: Some(bounded(
            &format!(
                "{} {}: {}",
                provider.as_str(),
                event.event_name,
                request.detail
            ),
            1024,
        )),
    }
}

/// The run's source: the commit the event names and the variables the payload fills.
fn source_of(event: &SourceEvent, request: &RunRequest) -> SourceRevision {
    SourceRevision {
        commit_id: Some(request.commit.to_ascii_lowercase()),
        branch_name: request.branch_name.clone(),
        tag_name: request.tag_name.clone(),
        commit_message: event
            .commit_message
            .as_deref()
            .map(|message| bounded(message, 1024)),
        author: None,
        author_date: event.author_date.as_deref().map(|date| bounded(date, 64)),
        full_repository_name: event.repository.as_deref().map(|name| bounded(name, 255)),
        ..SourceRevision::default()
    }
}

/// `text` cut to `limit` characters (what the CRD's `maxLength` counts).
fn bounded(text: &str, limit: usize) -> String {
    text.chars().take(limit).collect()
}

fn outcome_name(outcome: DeliveryOutcome) -> &'static str {
    match outcome {
        DeliveryOutcome::Accepted => "Accepted",
        DeliveryOutcome::Filtered => "Filtered",
        DeliveryOutcome::Ignored => "Ignored",
        DeliveryOutcome::Duplicate => "Duplicate",
        DeliveryOutcome::Failed => "Failed",
    }
}

/// Step 5: create the run, record the delivery, publish the Event.
async fn finish(receiver: Receiver, pipeline: Pipeline, provider: String, handled: Handled) {
    let Handled { mut record, run } = handled;
    if let Some(run) = run {
        let name = run.name_any();
        match create_with_retry(&receiver.inner.client, &run).await {
            Ok(Created::New) => {}
            Ok(Created::AlreadyExisted) => {
                record.outcome = DeliveryOutcome::Duplicate;
                record.message = Some(format!(
                    "a redelivery: run {name} already exists for delivery {}",
                    record.id
                ));
            }
            Err(error) => {
                record.outcome = DeliveryOutcome::Failed;
                record.message = Some(bounded(
                    &format!(
                        "unable to create run {name}: {error}; the next poll of the source starts it"
                    ),
                    1000,
                ));
            }
        }
    }
    receiver.count(&provider, outcome_name(record.outcome));
    let (reason, warning) = match record.outcome {
        DeliveryOutcome::Accepted => (reasons::WEBHOOK_ACCEPTED, false),
        DeliveryOutcome::Filtered => (reasons::WEBHOOK_FILTERED, false),
        DeliveryOutcome::Ignored | DeliveryOutcome::Duplicate => (reasons::WEBHOOK_IGNORED, false),
        DeliveryOutcome::Failed => (reasons::WEBHOOK_FAILED, true),
    };
    let note = format!(
        "delivery {} ({}{}): {}",
        record.id,
        record.event.as_deref().unwrap_or("event"),
        record
            .reference
            .as_deref()
            .map(|reference| format!(" {reference}"))
            .unwrap_or_default(),
        record.message.as_deref().unwrap_or_default()
    );
    let intent = if warning {
        EventIntent::warning(reason, note)
    } else {
        EventIntent::normal(reason, note)
    };
    receiver.inner.recorder.record(&pipeline, record);
    receiver.inner.events.publish(&pipeline, &intent).await;
}

/// Creates `run`, retrying transient refusals (429, 5xx, timeouts) a few times.
async fn create_with_retry(
    client: &Client,
    run: &crate::api::PipelineExecution,
) -> Result<Created, kube::Error> {
    let mut wait = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match create_run(client, run).await {
            Err(error) if attempt < 5 && classify_kube(&error) == ErrorClass::Transient => {
                tracing::debug!(%error, attempt, "retrying a webhook run's create");
                tokio::time::sleep(wait).await;
                wait *= 3;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

/// Records waiting to be written, by Pipeline (namespace, name).
type Waiting = HashMap<(String, String), Vec<DeliveryRecord>>;

/// Writes delivery records into Pipelines' status, one writer per Pipeline at a time, taking
/// every record that waits for it in one write.
#[derive(Clone)]
struct Recorder {
    client: Client,
    waiting: Arc<Mutex<Waiting>>,
}

impl Recorder {
    fn new(client: Client) -> Self {
        Self {
            client,
            waiting: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues `record` for `pipeline`; starts its writer unless one runs.
    fn record(&self, pipeline: &Pipeline, record: DeliveryRecord) {
        let key = (
            pipeline.namespace().unwrap_or_default(),
            pipeline.name_any(),
        );
        let start = {
            let mut waiting = self.lock();
            match waiting.get_mut(&key) {
                Some(queue) => {
                    queue.insert(0, record);
                    queue.truncate(RECENT_DELIVERIES);
                    false
                }
                None => {
                    waiting.insert(key.clone(), vec![record]);
                    true
                }
            }
        };
        if start {
            let recorder = self.clone();
            tokio::spawn(async move { recorder.write_all(key).await });
        }
    }

    /// Writes what waits for `key` until nothing does; the entry is removed under the same lock
    /// that queues, so a record queued meanwhile is never left without a writer.
    async fn write_all(&self, key: (String, String)) {
        loop {
            let batch = {
                let mut waiting = self.lock();
                match waiting.get_mut(&key) {
                    Some(queue) if !queue.is_empty() => std::mem::take(queue),
                    _ => {
                        waiting.remove(&key);
                        return;
                    }
                }
            };
            if let Err(error) = self.write(&key.0, &key.1, &batch).await {
                tracing::warn!(%error, pipeline = %key.1, namespace = %key.0, "unable to record webhook deliveries in the Pipeline's status");
            }
        }
    }

    /// One write of `batch` (newest first) ahead of the stored records, at the Pipeline's
    /// `resourceVersion`, read again on a conflict.
    async fn write(
        &self,
        namespace: &str,
        name: &str,
        batch: &[DeliveryRecord],
    ) -> Result<(), kube::Error> {
        let api: Api<Pipeline> = Api::namespaced(self.client.clone(), namespace);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some(current) = api.get_opt(name).await? else {
                return Ok(());
            };
            let stored = current
                .status
                .as_ref()
                .map(|status| status.recent_deliveries.clone())
                .unwrap_or_default();
            let records = merged(batch, &stored);
            if records == stored {
                return Ok(());
            }
            let patch = serde_json::json!({
                "apiVersion": "slipway.dev/v1alpha1",
                "kind": "Pipeline",
                "metadata": {"resourceVersion": current.resource_version()},
                "status": {"recentDeliveries": records},
            });
            match api
                .patch_status(
                    name,
                    &PatchParams::apply(RECEIVER_FIELD_MANAGER).force(),
                    &Patch::Apply(&patch),
                )
                .await
            {
                Err(kube::Error::Api(status)) if status.code == 409 && attempt < 8 => continue,
                Err(error) if attempt < 8 && classify_kube(&error) == ErrorClass::Transient => {
                    tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                }
                outcome => return outcome.map(|_| ()),
            }
        }
    }
}

/// `batch` (newest first) ahead of `stored`, one record per delivery id and outcome, at most
/// [`RECENT_DELIVERIES`].
fn merged(batch: &[DeliveryRecord], stored: &[DeliveryRecord]) -> Vec<DeliveryRecord> {
    let mut seen = BTreeMap::new();
    let mut records = Vec::new();
    for record in batch.iter().chain(stored) {
        if seen
            .insert((record.id.clone(), outcome_name(record.outcome)), ())
            .is_none()
        {
            records.push(record.clone());
        }
        if records.len() == RECENT_DELIVERIES {
            break;
        }
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, outcome: DeliveryOutcome) -> DeliveryRecord {
        DeliveryRecord {
            id: id.to_owned(),
            time: Time(Timestamp::UNIX_EPOCH),
            event: None,
            reference: None,
            revision: None,
            outcome,
            message: None,
            execution: None,
        }
    }

    #[test]
    fn webhook_paths_are_stable_per_uid_and_differ_between_uids() {
        let path = webhook_path("3f1c6e9a-0000-4000-8000-000000000001");
        assert!(path.starts_with(PATH_PREFIX));
        assert_eq!(path.len(), PATH_PREFIX.len() + 32);
        assert_eq!(path, webhook_path("3f1c6e9a-0000-4000-8000-000000000001"));
        assert_ne!(path, webhook_path("3f1c6e9a-0000-4000-8000-000000000002"));
    }

    #[test]
    fn records_keep_the_newest_first_once_each_and_at_most_twenty() {
        let stored: Vec<DeliveryRecord> = (0..20)
            .map(|n| record(&format!("old-{n}"), DeliveryOutcome::Accepted))
            .collect();
        let batch = [
            record("new", DeliveryOutcome::Accepted),
            record("old-0", DeliveryOutcome::Accepted),
            record("old-1", DeliveryOutcome::Duplicate),
        ];
        let records = merged(&batch, &stored);
        assert_eq!(records.len(), RECENT_DELIVERIES);
        assert_eq!(records[0].id, "new");
        assert_eq!(records[1].id, "old-0");
        assert_eq!(
            (records[2].id.as_str(), records[2].outcome),
            ("old-1", DeliveryOutcome::Duplicate)
        );
        assert_eq!(
            records.iter().filter(|r| r.id == "old-0").count(),
            1,
            "a record already stored is not repeated"
        );
    }

    #[test]
    fn json_content_types_are_taken_and_others_are_not() {
        for taken in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/vnd.api+json",
        ] {
            assert!(is_json(taken), "{taken}");
        }
        for refused in ["", "application/x-www-form-urlencoded", "text/plain"] {
            assert!(!is_json(refused), "{refused}");
        }
    }
}
