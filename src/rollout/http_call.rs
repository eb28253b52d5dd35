//! One bounded HTTP call, shared by HTTP health checks, the Prometheus check and HTTP hooks.
//!
//! Built on the client stack kube already compiles (hyper 1, hyper-util's pooled client,
//! hyper-rustls on ring), so probes add no second TLS stack and install no process-wide crypto
//! provider: the ring provider is passed to each rustls configuration explicitly.
//!
//! # Guarantees
//! - The whole call — connect, TLS, request, response head and body — ends within
//!   [`HttpRequest::timeout`]; a slow server yields [`HttpCallError::Timeout`].
//! - At most [`BODY_LIMIT`] bytes of the body are read (the rest is dropped with the
//!   connection), so a large or endless response cannot exhaust memory.
//! - No connection is kept between calls (probes run seconds apart; idle pooled connections to
//!   pods that went away would only fail the next probe).
//!
//! # TLS
//! Certificates are verified against the system's roots (rustls-native-certs) unless
//! [`HttpRequest::verify_certificates`] is false — used only for pod probes, which dial pod IPs
//! that no certificate names (as the kubelet's HTTPS probes do). When the system has no roots,
//! verified calls fail with the TLS error naming the unknown issuer.
//!
//! # Caveats
//! Plain HTTP/1.1 only (no h2), no proxies, no redirects followed: a 3xx is the answer.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, Uri};
use hyper_rustls::ConfigBuilderExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::ClientConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

/// Most response-body bytes read.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A request to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// HTTP method.
    pub method: Method,
    /// Absolute `http://` or `https://` URL.
    pub url: String,
    /// Request headers, in order.
    pub headers: Vec<(String, String)>,
    /// Request body with its content type.
    pub body: Option<(String, Vec<u8>)>,
    /// Bound on the whole call.
    pub timeout: Duration,
    /// Verify the server's certificate (false only for pod probes).
    pub verify_certificates: bool,
}

impl HttpRequest {
    /// A GET of `url` bounded by `timeout`, certificates verified.
    pub fn get(url: impl Into<String>, timeout: Duration) -> Self {
        Self {
            method: Method::GET,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout,
            verify_certificates: true,
        }
    }
}

/// What came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Response headers in the order received, names lowercase (as hyper keeps them); values
    /// that are not visible ASCII are left out.
    pub headers: Vec<(String, String)>,
    /// The body's first [`BODY_LIMIT`] bytes, as UTF-8 (invalid sequences replaced).
    pub body: String,
    /// Bytes of the body read (at most [`BODY_LIMIT`]), before any UTF-8 replacement.
    pub body_bytes: usize,
    /// Whether the server sent more than [`BODY_LIMIT`] bytes (the rest was not read).
    pub truncated: bool,
}

impl HttpResponse {
    /// The first value of header `name` (matched without regard to case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Why a call produced no response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HttpCallError {
    /// The URL, a header or the body cannot form a request.
    #[error("unable to call {url}: {message}")]
    InvalidRequest {
        /// The URL.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// No complete answer within the timeout.
    #[error("unable to call {url}: no answer within {timeout:?}")]
    Timeout {
        /// The URL.
        url: String,
        /// The bound.
        timeout: Duration,
    },
    /// Connection, TLS or protocol failure.
    #[error("unable to call {url}: {message}")]
    Transport {
        /// The URL.
        url: String,
        /// The error chain.
        message: String,
    },
}

/// Sends `request` and reads the answer within its timeout.
///
/// # Errors
/// [`HttpCallError`] naming the URL.
pub async fn send(request: &HttpRequest) -> Result<HttpResponse, HttpCallError> {
    let invalid = |message: String| HttpCallError::InvalidRequest {
        url: request.url.clone(),
        message,
    };
    let uri: Uri = request
        .url
        .parse()
        .map_err(|error: hyper::http::uri::InvalidUri| invalid(error.to_string()))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(invalid(
            "the URL must be absolute http:// or https://".into(),
        ));
    }
    let mut builder = Request::builder().method(request.method.clone()).uri(uri);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = match &request.body {
        Some((content_type, bytes)) => {
            builder = builder.header(hyper::header::CONTENT_TYPE, content_type.as_str());
            Full::new(Bytes::from(bytes.clone()))
        }
        None => Full::new(Bytes::new()),
    };
    let http_request = builder
        .body(body)
        .map_err(|error| invalid(error.to_string()))?;

    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls_config(request.verify_certificates))
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector);
    let call = async {
        let response = client
            .request(http_request)
            .await
            .map_err(|error| transport(&request.url, &error))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect();
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while bytes.len() < BODY_LIMIT {
            match body.frame().await {
                None => break,
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        bytes.extend_from_slice(&data);
                    }
                }
                Some(Err(error)) => return Err(transport(&request.url, &error)),
            }
        }
        let truncated = bytes.len() > BODY_LIMIT
            || (bytes.len() == BODY_LIMIT && !hyper::body::Body::is_end_stream(&body));
        bytes.truncate(BODY_LIMIT);
        Ok(HttpResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            body_bytes: bytes.len(),
            truncated,
        })
    };
    tokio::time::timeout(request.timeout, call)
        .await
        .map_err(|_| HttpCallError::Timeout {
            url: request.url.clone(),
            timeout: request.timeout,
        })?
}

/// The error and its sources, joined (hyper's top-level texts alone say little).
fn transport(url: &str, error: &(dyn std::error::Error + 'static)) -> HttpCallError {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    HttpCallError::Transport {
        url: url.to_owned(),
        message,
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration: verified against the system's roots (loaded once), or not at all.
fn tls_config(verify: bool) -> ClientConfig {
    static VERIFIED: OnceLock<ClientConfig> = OnceLock::new();
    if verify {
        return VERIFIED
            .get_or_init(|| {
                let builder = ClientConfig::builder_with_provider(provider())
                    .with_safe_default_protocol_versions()
                    .expect("ring supports the default protocol versions");
                match builder.clone().with_native_roots() {
                    Ok(with_roots) => with_roots.with_no_client_auth(),
                    // No system roots: every verified call fails with an unknown-issuer error.
                    Err(_) => builder
                        .with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth(),
                }
            })
            .clone();
    }
    let provider = provider();
    ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        .with_no_client_auth()
}

/// Accepts any server certificate but still checks the handshake signatures (pod probes).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::{get, post};

    async fn serve(router: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        format!("http://{address}")
    }

    #[tokio::test]
    async fn answers_carry_status_and_body_with_headers_and_body_sent() {
        let base = serve(
            Router::new()
                .route("/ok", get(|| async { "fine" }))
                .route(
                    "/echo",
                    post(|headers: axum::http::HeaderMap, body: String| async move {
                        let token = headers
                            .get("x-token")
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        let kind = headers
                            .get("content-type")
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        (
                            axum::http::StatusCode::CREATED,
                            format!("{token}|{kind}|{body}"),
                        )
                    }),
                )
                .route("/big", get(|| async { "x".repeat(BODY_LIMIT * 3) })),
        )
        .await;
        let response = send(&HttpRequest::get(
            format!("{base}/ok"),
            Duration::from_secs(5),
        ))
        .await
        .unwrap();
        assert_eq!((response.status, response.body.as_str()), (200, "fine"));

        let mut request = HttpRequest::get(format!("{base}/echo"), Duration::from_secs(5));
        request.method = Method::POST;
        request.headers = vec![("x-token".into(), "t1".into())];
        request.body = Some(("application/json".into(), b"{\"a\":1}".to_vec()));
        let response = send(&request).await.unwrap();
        assert_eq!(response.status, 201);
        assert_eq!(response.body, "t1|application/json|{\"a\":1}");

        let response = send(&HttpRequest::get(
            format!("{base}/big"),
            Duration::from_secs(5),
        ))
        .await
        .unwrap();
        assert_eq!(response.body.len(), BODY_LIMIT, "the body is capped");
    }

    #[tokio::test]
    async fn slow_servers_time_out_and_closed_ports_fail_to_connect() {
        let base = serve(Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        ))
        .await;
        let started = std::time::Instant::now();
        let error = send(&HttpRequest::get(
            format!("{base}/slow"),
            Duration::from_millis(200),
        ))
        .await
        .unwrap_err();
        assert!(matches!(error, HttpCallError::Timeout { .. }), "{error}");
        assert!(started.elapsed() < Duration::from_secs(2));

        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let error = send(&HttpRequest::get(
            format!("http://{closed}/"),
            Duration::from_secs(5),
        ))
        .await
        .unwrap_err();
        assert!(
            matches!(&error, HttpCallError::Transport { message, .. } if message.contains("onnect")),
            "{error}"
        );
        let error = send(&HttpRequest::get("ftp://example/", Duration::from_secs(1)))
            .await
            .unwrap_err();
        assert!(
            matches!(error, HttpCallError::InvalidRequest { .. }),
            "{error}"
        );
    }

    /// A self-signed certificate for `localhost` and `127.0.0.1` made by the openssl CLI.
    fn self_signed() -> (Vec<u8>, Vec<u8>) {
        let directory = std::env::temp_dir().join(format!(
            "slipway-http-call-tls-{}-{}",
            std::process::id(),
            line!()
        ));
        std::fs::create_dir_all(&directory).unwrap();
        let (key, certificate) = (directory.join("key.pem"), directory.join("cert.pem"));
        let status = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ])
            .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&certificate)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("this test needs the openssl command (Debian package `openssl`)");
        assert!(
            status.success(),
            "openssl failed to make a test certificate"
        );
        let pair = (
            std::fs::read(&certificate).unwrap(),
            std::fs::read(&key).unwrap(),
        );
        let _ = std::fs::remove_dir_all(&directory);
        pair
    }

    /// Serves `HTTP/1.1 200` with body `secure` over TLS; returns the port.
    async fn serve_tls() -> u16 {
        use rustls::pki_types::PrivateKeyDer;
        use rustls::pki_types::pem::PemObject;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (certificate, key) = self_signed();
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from_pem_slice(&certificate).unwrap()],
                PrivateKeyDer::from_pem_slice(&key).unwrap(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let mut buffer = [0_u8; 4096];
                    let _ = tls.read(&mut buffer).await;
                    let _ = tls
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nsecure")
                        .await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn pod_probes_accept_any_certificate_while_verified_calls_refuse_an_unknown_issuer() {
        let port = serve_tls().await;
        let url = format!("https://127.0.0.1:{port}/");
        let mut unverified = HttpRequest::get(url.clone(), Duration::from_secs(5));
        unverified.verify_certificates = false;
        let response = send(&unverified).await.unwrap();
        assert_eq!((response.status, response.body.as_str()), (200, "secure"));

        let error = send(&HttpRequest::get(url, Duration::from_secs(5)))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, HttpCallError::Transport { message, .. } if message.contains("certificate")),
            "{error}"
        );
    }
}
