//! Reading a pushed image's manifest digest back from the registry (oci-client).
//!
//! The push stream only mentions the digest in a status text line; the registry is the
//! authority, so the digest recorded (`ImageResult.digest`, `imageURI = repository@digest`) is
//! the `Docker-Content-Digest` the registry answers for `repository:tag`, asking for Docker v2
//! and OCI manifests and indexes.
//!
//! # Plain HTTP
//! Loopback registries (`localhost`, `127.0.0.0/8`, `::1`; see
//! [`super::reference::is_loopback_registry`]) are asked over plain HTTP, as the Docker Engine
//! pushes to them by default; every other registry over HTTPS.
//!
//! # TLS provider
//! oci-client is built without its own rustls provider; [`install_crypto_provider`] installs
//! ring (the provider kube and bollard use) once per process before the first client exists.

use std::str::FromStr;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use super::error::ImageError;
use super::reference::{is_loopback_registry, registry_host};

/// Installs ring as the process's rustls provider, unless one is installed already.
pub fn install_crypto_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // An error means another part of the process installed one first: that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The protocol for `repository`'s registry (see the module docs).
pub fn protocol_for(repository: &str) -> ClientProtocol {
    let host = registry_host(repository);
    if is_loopback_registry(&host) {
        ClientProtocol::HttpsExcept(vec![host])
    } else {
        ClientProtocol::Https
    }
}

/// The manifest digest (`sha256:…`) the registry holds for `repository:tag`.
///
/// # Errors
/// [`ImageError::Digest`] with the registry's answer.
pub async fn fetch_manifest_digest(
    repository: &str,
    tag: &str,
    auth: &RegistryAuth,
) -> Result<String, ImageError> {
    install_crypto_provider();
    let text = format!("{repository}:{tag}");
    let fail = |message: String| ImageError::Digest {
        reference: text.clone(),
        message,
    };
    let reference = Reference::from_str(&text).map_err(|error| fail(error.to_string()))?;
    let client = Client::new(ClientConfig {
        protocol: protocol_for(repository),
        ..ClientConfig::default()
    });
    client
        .fetch_manifest_digest(&reference, auth)
        .await
        .map_err(|error| fail(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_are_asked_over_plain_http() {
        assert_eq!(
            protocol_for("127.0.0.1:5000/team/app"),
            ClientProtocol::HttpsExcept(vec!["127.0.0.1:5000".to_owned()])
        );
        assert_eq!(
            protocol_for("localhost:5000/app"),
            ClientProtocol::HttpsExcept(vec!["localhost:5000".to_owned()])
        );
        assert_eq!(protocol_for("registry.example/app"), ClientProtocol::Https);
        assert_eq!(protocol_for("team/app"), ClientProtocol::Https);
    }
}
