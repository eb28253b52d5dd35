//! List: selectors, `resourceVersion` semantics and `limit`/`continue` pagination over
//! consistent snapshots.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::{as_served, resolve};
use crate::cluster::Cluster;
use crate::error::ApiError;
use crate::gvr::Gvr;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::namespace_prefix;

/// List query parameters.
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    /// `labelSelector`.
    pub label_selector: Option<String>,
    /// `fieldSelector`.
    pub field_selector: Option<String>,
    /// `limit` (0 or absent: everything).
    pub limit: Option<usize>,
    /// `continue`.
    pub continue_token: Option<String>,
    /// `resourceVersion`.
    pub resource_version: Option<String>,
    /// `resourceVersionMatch` (`Exact`, `NotOlderThan`).
    pub resource_version_match: Option<String>,
}

/// One page of a list.
#[derive(Clone, Debug)]
pub struct ListPage {
    /// The objects, in key order.
    pub items: Vec<Arc<Value>>,
    /// The revision the page was read at (the list's `metadata.resourceVersion`).
    pub resource_version: u64,
    /// `metadata.continue`, when more items follow.
    pub continue_token: Option<String>,
    /// `metadata.remainingItemCount` (only for lists without selectors).
    pub remaining: Option<u64>,
}

const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// An opaque continue token: the revision of the first page and where the next page starts.
fn encode_continue(revision: i64, start: &str) -> String {
    STANDARD.encode(json!({"v": "meta.k8s.io/v1", "rv": revision, "start": start}).to_string())
}

fn decode_continue(token: &str) -> Result<(i64, String), ApiError> {
    let invalid = || ApiError::bad_request(format!("continue key is not valid: {token}"));
    let bytes = STANDARD.decode(token).map_err(|_| invalid())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let revision = value
        .get("rv")
        .and_then(Value::as_i64)
        .ok_or_else(invalid)?;
    let start = value
        .get("start")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    Ok((revision, start.to_string()))
}

fn parse_revision(text: &str) -> Result<u64, ApiError> {
    text.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "resourceVersion: Invalid value: {text:?}: must be a positive integer"
        ))
    })
}

/// Lists objects.
///
/// # Errors
/// 400 for bad selectors or tokens, 410 when a continue token or exact version expired, 504
/// for a version from the future.
pub fn list(
    cluster: &Cluster,
    gvr: &Gvr,
    namespace: Option<&str>,
    options: &ListOptions,
) -> Result<ListPage, ApiError> {
    let resource = resolve(cluster, gvr)?;
    let labels = LabelSelector::parse(options.label_selector.as_deref().unwrap_or_default())
        .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(
        options.field_selector.as_deref().unwrap_or_default(),
        &resource.gvr.group,
        &resource.gvr.resource,
    )
    .map_err(ApiError::bad_request)?;
    let requested = options
        .resource_version
        .as_deref()
        .filter(|version| !version.is_empty());
    let prefix = match namespace.filter(|_| resource.namespaced) {
        Some(namespace) => namespace_prefix(namespace),
        None => String::new(),
    };
    let state = cluster.read();
    let current = state.store.revision();
    let (revision, start, continuing) = match options
        .continue_token
        .as_deref()
        .filter(|token| !token.is_empty())
    {
        Some(token) => {
            if requested.is_some_and(|version| version != "0") {
                return Err(ApiError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            let (revision, start) = decode_continue(token)?;
            // A negative revision is the "inconsistent" token handed out with a 410.
            let revision = u64::try_from(revision).unwrap_or(current);
            (revision, start, true)
        }
        None => {
            let revision = match (requested, options.resource_version_match.as_deref()) {
                (None | Some("0"), _) => current,
                (Some(text), Some("Exact")) => parse_revision(text)?,
                (Some(text), _) => {
                    let revision = parse_revision(text)?;
                    if revision > current {
                        return Err(ApiError::new(
                            504,
                            "Timeout",
                            format!("Too large resource version: {revision}, current: {current}"),
                            Some(json!({"retryAfterSeconds": 1})),
                        ));
                    }
                    current
                }
            };
            (revision, prefix.clone(), false)
        }
    };
    let start = if start < prefix {
        prefix.clone()
    } else {
        start
    };
    let snapshot = state
        .store
        .snapshot(&resource.group_resource(), revision, &start)
        .map_err(|_| {
            if continuing {
                let mut error = ApiError::expired(CONTINUE_EXPIRED);
                error.status["metadata"]["continue"] = Value::String(encode_continue(-1, &start));
                error
            } else {
                ApiError::expired("The resourceVersion for the provided list is too old.")
            }
        })?;
    drop(state);
    let limit = options
        .limit
        .filter(|limit| *limit > 0)
        .unwrap_or(usize::MAX);
    let mut items = Vec::new();
    let mut continue_token = None;
    let mut remaining = None;
    let mut matching = snapshot
        .iter()
        .take_while(|(key, _)| key.starts_with(&prefix))
        .filter(|(_, object)| labels.matches(object) && fields.matches(object));
    for (key, object) in matching.by_ref() {
        items.push(as_served(&resource, object.clone()));
        if items.len() == limit {
            let rest = matching.clone().count();
            if rest > 0 {
                continue_token = Some(encode_continue(revision as i64, &format!("{key}\u{0}")));
                if labels.is_empty() && fields.is_empty() {
                    remaining = Some(rest as u64);
                }
            }
            break;
        }
    }
    Ok(ListPage {
        items,
        resource_version: revision,
        continue_token,
        remaining,
    })
}

/// Every object of a resource (in one namespace, or all), without paging.
///
/// # Errors
/// 404 when the resource is not served.
pub fn list_all(
    cluster: &Cluster,
    gvr: &Gvr,
    namespace: Option<&str>,
) -> Result<Vec<Arc<Value>>, ApiError> {
    list(cluster, gvr, namespace, &ListOptions::default()).map(|page| page.items)
}
