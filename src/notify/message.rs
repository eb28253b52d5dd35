//! One notice as an HTTP request (pure).
//!
//! - **CloudEvents** (HTTP binary mode, CloudEvents 1.0): `ce-specversion`, `ce-id`
//!   (`<run UID>/<notice key>`, the same on every retry), `ce-source`
//!   (`/apis/slipway.dev/v1alpha1/namespaces/<ns>/pipelines/<pipeline>`), `ce-type`, `ce-subject`
//!   (the run's name), `ce-time`; the notice's data, with pipeline and run added, is the JSON body.
//! - **Webhook**: one JSON document `{"type", "id", "source", "subject", "time", "data"}`.
//! - With a secret, `X-Slipway-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, the header
//!   the generic webhook provider checks, so one Slipway can notify another.

use serde_json::{Value, json};

use crate::api::pipeline::NotificationFormat;
use crate::trigger::signature::{GENERIC_SIGNATURE_HEADER, sign};

use super::notices::Notice;

/// Which run a notice is about.
#[derive(Clone, Copy, Debug)]
pub struct RunIdentity<'a> {
    /// The run's namespace.
    pub namespace: &'a str,
    /// The Pipeline's name.
    pub pipeline: &'a str,
    /// The run's name.
    pub execution: &'a str,
    /// The run's UID.
    pub uid: &'a str,
}

/// An HTTP request to send: headers and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Vec<u8>,
}

/// `notice` of `run` in `format`, signed with `secret` when given; `now` stands in for a
/// notice's missing time.
pub fn message(
    format: NotificationFormat,
    notice: &Notice,
    run: RunIdentity<'_>,
    secret: Option<&[u8]>,
    now: &str,
) -> Outgoing {
    let id = format!("{}/{}", run.uid, notice.key);
    let source = format!(
        "/apis/slipway.dev/v1alpha1/namespaces/{}/pipelines/{}",
        run.namespace, run.pipeline
    );
    let time = notice.time.clone().unwrap_or_else(|| now.to_owned());
    let mut data = notice.data.clone();
    if let Some(fields) = data.as_object_mut() {
        fields.retain(|_, value| !value.is_null());
        fields.insert("namespace".into(), Value::from(run.namespace));
        fields.insert("pipeline".into(), Value::from(run.pipeline));
        fields.insert("execution".into(), Value::from(run.execution));
    }
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    let body = match format {
        NotificationFormat::CloudEvents => {
            headers.extend([
                ("ce-specversion".to_owned(), "1.0".to_owned()),
                ("ce-id".to_owned(), id),
                ("ce-source".to_owned(), source),
                ("ce-type".to_owned(), notice.type_.clone()),
                ("ce-subject".to_owned(), run.execution.to_owned()),
                ("ce-time".to_owned(), time),
            ]);
            data.to_string().into_bytes()
        }
        NotificationFormat::Webhook => json!({
            "type": notice.type_, "id": id, "source": source, "subject": run.execution,
            "time": time, "data": data
        })
        .to_string()
        .into_bytes(),
    };
    if let Some(secret) = secret {
        headers.push((
            GENERIC_SIGNATURE_HEADER.to_ascii_lowercase(),
            sign(secret, &body),
        ));
    }
    Outgoing { headers, body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pipeline::NotificationScope;

    fn notice() -> Notice {
        Notice {
            key: "run:Succeeded".into(),
            scope: NotificationScope::Execution,
            type_: "dev.slipway.pipeline.execution.succeeded".into(),
            time: Some("2026-12-07T10:00:00Z".into()),
            data: json!({"status": "Succeeded", "message": null}),
        }
    }

    const RUN: RunIdentity<'static> = RunIdentity {
        namespace: "shop",
        pipeline: "web",
        execution: "web-abc12",
        uid: "uid-1",
    };

    fn header<'a>(outgoing: &'a Outgoing, name: &str) -> Option<&'a str> {
        outgoing
            .headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    #[test]
    fn cloud_events_binary_mode_puts_the_attributes_in_headers_and_the_data_in_the_body() {
        let outgoing = message(NotificationFormat::CloudEvents, &notice(), RUN, None, "now");
        assert_eq!(header(&outgoing, "ce-specversion"), Some("1.0"));
        assert_eq!(header(&outgoing, "ce-id"), Some("uid-1/run:Succeeded"));
        assert_eq!(
            header(&outgoing, "ce-type"),
            Some("dev.slipway.pipeline.execution.succeeded")
        );
        assert_eq!(
            header(&outgoing, "ce-source"),
            Some("/apis/slipway.dev/v1alpha1/namespaces/shop/pipelines/web")
        );
        assert_eq!(header(&outgoing, "ce-subject"), Some("web-abc12"));
        assert_eq!(header(&outgoing, "ce-time"), Some("2026-12-07T10:00:00Z"));
        assert_eq!(header(&outgoing, "content-type"), Some("application/json"));
        assert_eq!(header(&outgoing, "x-slipway-signature-256"), None);
        let body: Value = serde_json::from_slice(&outgoing.body).unwrap();
        assert_eq!(
            body,
            json!({"status": "Succeeded", "namespace": "shop", "pipeline": "web", "execution": "web-abc12"})
        );
    }

    #[test]
    fn webhook_format_is_one_document_and_a_secret_signs_the_exact_body() {
        let outgoing = message(
            NotificationFormat::Webhook,
            &Notice {
                time: None,
                ..notice()
            },
            RUN,
            Some(b"key"),
            "2026-12-07T11:00:00Z",
        );
        let body: Value = serde_json::from_slice(&outgoing.body).unwrap();
        assert_eq!(body["type"], "dev.slipway.pipeline.execution.succeeded");
        assert_eq!(body["id"], "uid-1/run:Succeeded");
        assert_eq!(body["time"], "2026-12-07T11:00:00Z");
        assert_eq!(body["data"]["pipeline"], "web");
        assert_eq!(header(&outgoing, "ce-id"), None);
        let signature = header(&outgoing, "x-slipway-signature-256").unwrap();
        assert_eq!(signature, sign(b"key", &outgoing.body));
        // The receiver's generic provider accepts it.
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-slipway-signature-256", signature.parse().unwrap());
        assert!(
            crate::trigger::signature::verify(
                crate::api::pipeline::WebhookProvider::Generic,
                None,
                &headers,
                &outgoing.body,
                b"key"
            )
            .is_ok()
        );
    }

    #[test]
    fn the_id_is_the_same_on_every_retry() {
        let first = message(NotificationFormat::CloudEvents, &notice(), RUN, None, "a");
        let again = message(NotificationFormat::CloudEvents, &notice(), RUN, None, "b");
        assert_eq!(first, again);
    }
}
