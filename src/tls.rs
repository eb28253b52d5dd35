//! The process's one rustls crypto provider.
//!
//! kube, bollard, gix (through reqwest) and the rollout probes use rustls on ring, while
//! object_store's cloud backends and oci-client switch on rustls' aws-lc-rs provider too. With
//! two providers compiled in, rustls refuses to pick one and the first TLS client (even a
//! plain-HTTP kube `Client`, which still builds a connector) panics. Every entry point calls
//! [`install_crypto_provider`] before it builds a client.

/// Installs ring as rustls' process-wide provider; a provider installed earlier is kept.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
