//! The message tables, one file per API package, and the kinds they decode.

mod core;
mod meta;
mod pod;
mod workloads;

use super::schema::Message;

/// Every decodable kind: `(apiVersion, kind, message)`.
pub(crate) static KINDS: &[(&str, &str, &Message)] = &[
    ("v1", "Namespace", &core::NAMESPACE),
    ("v1", "Secret", &core::SECRET),
    ("v1", "ConfigMap", &core::CONFIG_MAP),
    ("v1", "ServiceAccount", &core::SERVICE_ACCOUNT),
    ("v1", "Service", &core::SERVICE),
    ("apps/v1", "Deployment", &workloads::DEPLOYMENT),
    ("batch/v1", "Job", &workloads::JOB),
];
