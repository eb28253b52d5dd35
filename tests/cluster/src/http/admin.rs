//! The admin API under `/_testcluster/`: request log, faults, watch dropping and history
//! compaction, for tests and scripts that drive the standalone binary.
//!
//! | method and path | effect |
//! | --- | --- |
//! | `GET /_testcluster/requests` | the request log as a JSON array |
//! | `DELETE /_testcluster/requests` | clear the log |
//! | `GET /_testcluster/faults` | active fault rules with ids |
//! | `POST /_testcluster/faults` | add a rule (a `Fault` as JSON); answers `{"id": n}` |
//! | `DELETE /_testcluster/faults[/{id}]` | remove all rules, or one |
//! | `POST /_testcluster/watches/drop` | end every open watch stream |
//! | `POST /_testcluster/history/compact` | expire every older resourceVersion |
//! | `PUT /_testcluster/history/window` | `{"size": n}`: retained change count |
//! | `PUT /_testcluster/bookmarks/interval` | `{"millis": n}`: bookmark period |

use std::time::Duration;

use axum::body::Bytes;
use axum::response::Response;
use serde_json::{Value, json};

use super::json_response;
use super::resource::decode_body;
use crate::cluster::Cluster;
use crate::error::ApiError;
use crate::faults::Fault;

fn number(body: &Bytes, field: &str) -> Result<u64, ApiError> {
    decode_body(body, "application/json")?
        .get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| ApiError::bad_request(format!("expected {{\"{field}\": <number>}}")))
}

/// Handles one admin request.
pub(crate) fn handle(
    cluster: &Cluster,
    method: &str,
    path: &str,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let ok = || json_response(200, &json!({"status": "ok"}));
    match (method, path) {
        ("GET", "requests") => Ok(json_response(200, &json!(cluster.requests().all()))),
        ("DELETE", "requests") => {
            cluster.requests().clear();
            Ok(ok())
        }
        ("GET", "faults") => {
            let rules: Vec<Value> = cluster
                .faults()
                .list()
                .into_iter()
                .map(|(id, fault)| json!({"id": id, "fault": fault}))
                .collect();
            Ok(json_response(200, &json!(rules)))
        }
        ("POST", "faults") => {
            let fault: Fault = serde_json::from_value(decode_body(body, "application/json")?)
                .map_err(|error| ApiError::bad_request(format!("invalid fault: {error}")))?;
            Ok(json_response(
                201,
                &json!({"id": cluster.faults().inject(fault)}),
            ))
        }
        ("DELETE", "faults") => {
            cluster.faults().clear();
            Ok(ok())
        }
        ("DELETE", path) if path.starts_with("faults/") => {
            let id = path["faults/".len()..]
                .parse()
                .map_err(|_| ApiError::bad_request("fault ids are numbers"))?;
            cluster.faults().remove(id);
            Ok(ok())
        }
        ("POST", "watches/drop") => {
            cluster.drop_watches();
            Ok(ok())
        }
        ("POST", "history/compact") => {
            cluster.compact_history();
            Ok(ok())
        }
        ("PUT", "history/window") => {
            cluster.set_history_window(number(body, "size")? as usize);
            Ok(ok())
        }
        ("PUT", "bookmarks/interval") => {
            cluster.set_bookmark_interval(Duration::from_millis(number(body, "millis")?));
            Ok(ok())
        }
        _ => Err(ApiError::no_route()),
    }
}
