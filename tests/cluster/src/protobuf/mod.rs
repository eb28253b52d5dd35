//! Kubernetes protobuf request bodies → the JSON objects the rest of the server handles.
//!
//! kubectl's typed commands (`kubectl create namespace|secret|configmap|serviceaccount|
//! deployment|job|service`) send `Content-Type: application/vnd.kubernetes.protobuf`: the
//! magic `k8s\0`, then a `runtime.Unknown` envelope (`typeMeta`, `raw`, `contentEncoding`,
//! `contentType`) whose `raw` is the typed object's protobuf. [`decode_object`] reads the
//! envelope, picks the kind's message table and writes the JSON `encoding/json` would write
//! for the same Go object, with `apiVersion` and `kind` from the envelope. Responses stay JSON
//! (kubectl's `Accept` allows it).
//!
//! # Why a hand-written decoder
//! The `k8s-pb` crate has prost types for every Kubernetes message, but no serde: turning its
//! structs into JSON would still take hand-written code per message, on top of adding prost
//! (not otherwise in the workspace) and compiling ~40 000 lines of generated types on every
//! clean build. A wire reader (`wire.rs`) plus a field-number table per message
//! (`messages/`, numbers from Kubernetes' `generated.proto`) is a few hundred lines, covers
//! exactly the kinds listed in [`decoded_kinds`], and maps each field to its JSON name in one
//! place.
//!
//! # Guarantees
//! * Zero scalars of Go value fields are left out (as `omitempty` does); pointer fields keep
//!   their zero (`kubectl create deployment --replicas=0` stores `replicas: 0`); nested
//!   messages are kept even when empty (Go writes `resources: {}`); `[]byte` and map-of-bytes
//!   values are base64; `metav1.Time` is RFC 3339; `IntOrString` is a number or a string.
//! * Nothing is dropped silently: a field that carries data but is not in its message's table
//!   fails the decode with its field number, message and JSON path. Unknown fields holding a
//!   zero value are skipped, because Go writes every value field and a newer kubectl may add
//!   zero fields the tables do not list.
//!
//! # Errors
//! [`ProtobufError`]: a body without the magic, a broken envelope, a kind without a table, a
//! content encoding, or a field the tables lack. The HTTP layer answers each with 415.
//!
//! # Caveats
//! Status sub-messages decode only their counters and phases; pod templates leave out
//! volumes, probes, security contexts, affinity and env `valueFrom` (see `messages/pod.rs`).
//! Kinds the cluster serves without a table here (Pod, Event, Lease, …) answer 415; kubectl
//! sends those as JSON anyway (`kubectl run` does).

mod decode;
mod messages;
mod schema;
mod wire;

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

pub use decode::{FieldError, FieldProblem};
pub use wire::WireError;

/// The four bytes every Kubernetes protobuf body starts with.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// The media type of Kubernetes protobuf bodies.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// A protobuf body the test cluster cannot turn into JSON.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProtobufError {
    /// The body does not start with `k8s\0`.
    #[error("the body does not start with the Kubernetes protobuf magic \"k8s\\0\"")]
    MissingMagic,
    /// The `runtime.Unknown` envelope's framing is broken.
    #[error("the runtime.Unknown envelope is malformed: {0}")]
    Envelope(WireError),
    /// The envelope names no `apiVersion` or `kind`.
    #[error("the runtime.Unknown envelope names no apiVersion and kind in typeMeta")]
    MissingTypeMeta,
    /// No message table for this kind.
    #[error("the test cluster has no protobuf decoder for {api_version} {kind}")]
    UnsupportedKind {
        /// The envelope's `apiVersion`.
        api_version: String,
        /// The envelope's `kind`.
        kind: String,
    },
    /// `raw` is compressed or otherwise encoded, or is not protobuf.
    #[error(
        "the {api_version} {kind} in the envelope has content encoding {encoding:?} and content type {content_type:?}; only plain protobuf is decoded"
    )]
    UnsupportedEncoding {
        /// The envelope's `apiVersion`.
        api_version: String,
        /// The envelope's `kind`.
        kind: String,
        /// The envelope's `contentEncoding`.
        encoding: String,
        /// The envelope's `contentType`.
        content_type: String,
    },
    /// A field of the object could not be decoded.
    #[error("unable to decode {api_version} {kind}: {source}")]
    Object {
        /// The envelope's `apiVersion`.
        api_version: String,
        /// The envelope's `kind`.
        kind: String,
        /// The field and what is wrong with it.
        source: Box<FieldError>,
    },
}

impl ProtobufError {
    /// The kind the body named, when the envelope was readable.
    pub fn kind(&self) -> Option<&str> {
        match self {
            Self::UnsupportedKind { kind, .. }
            | Self::UnsupportedEncoding { kind, .. }
            | Self::Object { kind, .. } => Some(kind),
            Self::MissingMagic | Self::Envelope(_) | Self::MissingTypeMeta => None,
        }
    }
}

/// The kinds a protobuf body may carry, as `(apiVersion, kind)`.
pub fn decoded_kinds() -> impl Iterator<Item = (&'static str, &'static str)> {
    messages::KINDS
        .iter()
        .map(|(api_version, kind, _)| (*api_version, *kind))
}

/// The envelope's parts.
#[derive(Default)]
struct Envelope<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
    content_encoding: String,
    content_type: String,
}

fn envelope(body: &[u8]) -> Result<Envelope<'_>, ProtobufError> {
    let rest = body
        .strip_prefix(MAGIC.as_slice())
        .ok_or(ProtobufError::MissingMagic)?;
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let mut envelope = Envelope::default();
    for field in wire::fields(rest) {
        match field.map_err(ProtobufError::Envelope)? {
            (1, wire::WireValue::Bytes(type_meta)) => {
                // runtime.TypeMeta: apiVersion = 1, kind = 2.
                for field in wire::fields(type_meta) {
                    match field.map_err(ProtobufError::Envelope)? {
                        (1, wire::WireValue::Bytes(value)) => envelope.api_version = text(value),
                        (2, wire::WireValue::Bytes(value)) => envelope.kind = text(value),
                        _ => {}
                    }
                }
            }
            (2, wire::WireValue::Bytes(raw)) => envelope.raw = raw,
            (3, wire::WireValue::Bytes(value)) => envelope.content_encoding = text(value),
            (4, wire::WireValue::Bytes(value)) => envelope.content_type = text(value),
            _ => {}
        }
    }
    if envelope.api_version.is_empty() || envelope.kind.is_empty() {
        return Err(ProtobufError::MissingTypeMeta);
    }
    Ok(envelope)
}

/// Decodes a Kubernetes protobuf body into the object's JSON form.
///
/// # Errors
/// See [`ProtobufError`]; none of them is retried by kubectl, which prints the message.
pub fn decode_object(body: &[u8]) -> Result<Value, ProtobufError> {
    let envelope = envelope(body)?;
    let Envelope {
        api_version, kind, ..
    } = &envelope;
    let plain = envelope.content_encoding.is_empty()
        && (envelope.content_type.is_empty() || envelope.content_type == MEDIA_TYPE);
    if !plain {
        return Err(ProtobufError::UnsupportedEncoding {
            api_version: api_version.clone(),
            kind: kind.clone(),
            encoding: envelope.content_encoding.clone(),
            content_type: envelope.content_type.clone(),
        });
    }
    let message = messages::KINDS
        .iter()
        .find(|(known_version, known_kind, _)| known_version == api_version && known_kind == kind)
        .map(|(_, _, message)| *message)
        .ok_or_else(|| ProtobufError::UnsupportedKind {
            api_version: api_version.clone(),
            kind: kind.clone(),
        })?;
    let fields =
        decode::decode_message(envelope.raw, message).map_err(|source| ProtobufError::Object {
            api_version: api_version.clone(),
            kind: kind.clone(),
            source: Box::new(source),
        })?;
    let mut object = Map::new();
    object.insert("apiVersion".into(), Value::String(api_version.clone()));
    object.insert("kind".into(), Value::String(kind.clone()));
    object.extend(fields);
    Ok(Value::Object(object))
}
