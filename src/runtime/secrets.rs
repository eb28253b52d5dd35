//! Reading one key of a Secret the same way everywhere.

use k8s_openapi::api::core::v1::Secret;

/// The non-empty value of `key` in `secret`: its `data`, or its `stringData` where the server
/// returned that unfolded.
pub fn key_value(secret: &Secret, key: &str) -> Option<Vec<u8>> {
    secret
        .data
        .as_ref()
        .and_then(|data| data.get(key))
        .map(|value| value.0.clone())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|data| data.get(key))
                .map(|value| value.clone().into_bytes())
        })
        .filter(|value| !value.is_empty())
}
