//! The request log: every HTTP request with what it addressed and how it ended, so tests can
//! count API calls and writes per object.

use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::Serialize;

/// One logged request.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// When it arrived (RFC 3339, milliseconds).
    pub time: String,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// API verb: get, list, watch, create, update, patch, delete, deletecollection (`get` for
    /// discovery and other non-resource paths).
    pub verb: String,
    /// API group (`""` for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Plural resource, empty for non-resource paths.
    pub resource: String,
    /// Namespace, when addressed.
    pub namespace: Option<String>,
    /// Object name, when addressed.
    pub name: Option<String>,
    /// Subresource (`status`, `scale`).
    pub subresource: Option<String>,
    /// Content type of a PATCH (`application/merge-patch+json`, …).
    pub patch_type: Option<String>,
    /// `fieldManager` query parameter.
    pub field_manager: Option<String>,
    /// `dryRun` was set.
    pub dry_run: bool,
    /// Response status code.
    pub code: u16,
    /// Time to the response head, in milliseconds (watches: until the stream opened).
    pub duration_ms: f64,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
    /// When it arrived, on this process's monotonic clock (for latency breakdowns in benches).
    #[serde(skip)]
    pub received: Option<std::time::Instant>,
}

impl RequestRecord {
    /// Whether the request was a write (create, update, patch, delete, deletecollection).
    pub fn is_write(&self) -> bool {
        matches!(
            self.verb.as_str(),
            "create" | "update" | "patch" | "delete" | "deletecollection"
        )
    }
}

/// Every request since start (or the last `clear`).
#[derive(Debug, Default)]
pub struct RequestLog {
    records: Mutex<Vec<RequestRecord>>,
}

impl RequestLog {
    fn lock(&self) -> MutexGuard<'_, Vec<RequestRecord>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends a record.
    pub fn record(&self, record: RequestRecord) {
        self.lock().push(record);
    }

    /// A copy of every record, oldest first.
    pub fn all(&self) -> Vec<RequestRecord> {
        self.lock().clone()
    }

    /// Forgets every record.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Records matching a predicate.
    pub fn matching(&self, predicate: impl Fn(&RequestRecord) -> bool) -> Vec<RequestRecord> {
        self.lock()
            .iter()
            .filter(|record| predicate(record))
            .cloned()
            .collect()
    }

    /// How many requests had this verb on this resource (plural).
    pub fn count(&self, verb: &str, resource: &str) -> usize {
        self.lock()
            .iter()
            .filter(|record| record.verb == verb && record.resource == resource)
            .count()
    }

    /// How many writes addressed one object (any subresource).
    pub fn writes_to(&self, resource: &str, namespace: Option<&str>, name: &str) -> usize {
        self.lock()
            .iter()
            .filter(|record| {
                record.is_write()
                    && record.resource == resource
                    && record.name.as_deref() == Some(name)
                    && (namespace.is_none() || record.namespace.as_deref() == namespace)
            })
            .count()
    }
}
