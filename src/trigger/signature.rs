//! The signature (or token) check over a delivery's raw body, before anything is parsed.
//!
//! Each provider proves a delivery differently: GitHub, Gitea, Forgejo, Bitbucket Cloud and the
//! generic provider send an HMAC-SHA256 of the body under the shared secret; GitLab sends the
//! secret itself. Every comparison is constant time (`Mac::verify_slice`, `subtle`), and an empty
//! secret never verifies, so a Pipeline whose Secret is blank cannot be driven by anyone.

use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::api::pipeline::WebhookProvider;

/// The generic provider's signature header when the Pipeline names none.
pub const GENERIC_SIGNATURE_HEADER: &str = "X-Slipway-Signature-256";

/// The generic provider's delivery id header.
pub const GENERIC_DELIVERY_HEADER: &str = "X-Slipway-Delivery";

/// The longest delivery id taken from a header (GUIDs are 36 characters).
const MAX_DELIVERY_ID: usize = 128;

/// Why a delivery's signature was not accepted. Messages name the header, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The provider's signature header is absent.
    #[error(
        "the {header} header is missing: configure the webhook's secret at the sender (or check spec.webhook.provider)"
    )]
    Missing {
        /// The header that was expected.
        header: String,
    },
    /// The header is present but not in the provider's format.
    #[error("the {header} header is not {format}")]
    Malformed {
        /// The header that was read.
        header: String,
        /// What it should hold.
        format: &'static str,
    },
    /// The signature or token does not match the shared secret.
    #[error(
        "the {header} header does not match the body and the shared secret in spec.webhook.secretRef"
    )]
    Mismatch {
        /// The header that was checked.
        header: String,
    },
    /// The Pipeline's secret is empty: nothing verifies.
    #[error(
        "the webhook secret is empty: deliveries are refused until spec.webhook.secretRef holds one"
    )]
    EmptySecret,
}

/// How a provider carries its proof.
enum Proof {
    /// `sha256=<hex>` (or bare hex where `bare` allows it) HMAC-SHA256 of the body.
    Hmac { prefixed: bool, bare: bool },
    /// The shared secret itself.
    Token,
}

/// Checks that `body` was sent by someone holding `secret`, as `provider` proves it.
pub fn verify(
    provider: WebhookProvider,
    signature_header: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    secret: &[u8],
) -> Result<(), SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::EmptySecret);
    }
    let (names, proof): (&[&str], Proof) = match provider {
        WebhookProvider::Github => (
            &["X-Hub-Signature-256"],
            Proof::Hmac {
                prefixed: true,
                bare: false,
            },
        ),
        WebhookProvider::Bitbucket => (
            &["X-Hub-Signature"],
            Proof::Hmac {
                prefixed: true,
                bare: false,
            },
        ),
        WebhookProvider::Gitea => (
            &["X-Gitea-Signature"],
            Proof::Hmac {
                prefixed: false,
                bare: true,
            },
        ),
        WebhookProvider::Forgejo => (
            &["X-Forgejo-Signature", "X-Gitea-Signature"],
            Proof::Hmac {
                prefixed: false,
                bare: true,
            },
        ),
        WebhookProvider::Gitlab => (&["X-Gitlab-Token"], Proof::Token),
        WebhookProvider::Generic => (
            &[],
            Proof::Hmac {
                prefixed: true,
                bare: true,
            },
        ),
    };
    let generic = [signature_header.unwrap_or(GENERIC_SIGNATURE_HEADER)];
    let names = if names.is_empty() {
        &generic[..]
    } else {
        names
    };
    let Some((header, value)) = names
        .iter()
        .find_map(|name| headers.get(*name).map(|value| (*name, value.as_bytes())))
    else {
        return Err(SignatureError::Missing {
            header: names[0].to_owned(),
        });
    };
    let header = header.to_owned();
    match proof {
        Proof::Token => {
            if bool::from(value.ct_eq(secret)) {
                Ok(())
            } else {
                Err(SignatureError::Mismatch { header })
            }
        }
        Proof::Hmac { prefixed, bare } => {
            let hex_part = match value.strip_prefix(b"sha256=") {
                Some(rest) if prefixed => rest,
                _ if bare => value,
                _ => {
                    return Err(SignatureError::Malformed {
                        header,
                        format: "sha256=<hex HMAC-SHA256 of the body>",
                    });
                }
            };
            let Ok(expected) = hex::decode(hex_part.trim_ascii()) else {
                return Err(SignatureError::Malformed {
                    header,
                    format: "a hex HMAC-SHA256 of the body",
                });
            };
            let mut mac =
                Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
            mac.update(body);
            mac.verify_slice(&expected)
                .map_err(|_| SignatureError::Mismatch { header })
        }
    }
}

/// The provider's delivery id (a redelivery repeats it), when the delivery carries one.
pub fn delivery_id(provider: WebhookProvider, headers: &HeaderMap) -> Option<String> {
    let names: &[&str] = match provider {
        WebhookProvider::Github => &["X-GitHub-Delivery"],
        WebhookProvider::Gitea => &["X-Gitea-Delivery"],
        WebhookProvider::Forgejo => &["X-Forgejo-Delivery", "X-Gitea-Delivery"],
        WebhookProvider::Bitbucket => &["X-Request-UUID"],
        WebhookProvider::Gitlab => &["X-Gitlab-Event-UUID"],
        WebhookProvider::Generic => &[GENERIC_DELIVERY_HEADER],
    };
    names.iter().find_map(|name| {
        let value = headers.get(*name)?.to_str().ok()?.trim();
        let printable = value.chars().all(|c| c.is_ascii_graphic());
        (!value.is_empty() && value.len() <= MAX_DELIVERY_ID && printable).then(|| value.to_owned())
    })
}

/// `sha256=<hex>` of `body` under `secret`: what a sender puts in the signature header.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
#[path = "signature_tests.rs"]
mod tests;
