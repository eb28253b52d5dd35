//! `slipway executor fetch git` over HTTPS: the TLS stack (reqwest + rustls on ring, the
//! system's roots or `SSL_CERT_FILE`) against `openssl s_server` with a certificate from a test
//! CA. The server is not a git server, so a trusted handshake ends in gix's "not smart HTTP"
//! error and an untrusted one in a certificate error: the two tell the TLS layer apart.

mod git_fixture;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use git_fixture::TempFolder;

/// Runs `openssl` with `arguments` in `directory`.
fn openssl(directory: &Path, arguments: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(directory)
        .args(arguments)
        .output()
        .expect(
            "the `openssl` CLI is needed by this test: install openssl (Debian package `openssl`)",
        );
    assert!(
        output.status.success(),
        "openssl {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A test CA (`ca.pem`) and a certificate for 127.0.0.1 signed by it (`server.pem`, `server.key`).
fn certificates(directory: &Path) {
    let days = ["-days", "1"];
    openssl(
        directory,
        &[
            &[
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
            ][..],
            &["-out", "ca.pem", "-subj", "/CN=slipway test CA"],
            &days,
        ]
        .concat(),
    );
    openssl(
        directory,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        directory.join("extensions.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        directory,
        &[
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
            ][..],
            &[
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-extfile",
                "extensions.cnf",
            ],
            &days,
        ]
        .concat(),
    );
}

/// `openssl s_server` answering HTTPS requests with its status page; killed when dropped.
struct TlsServer {
    child: Child,
    port: u16,
}

impl TlsServer {
    fn start(directory: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("openssl")
            .current_dir(directory)
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-cert", "server.pem", "-key", "server.key"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run `openssl s_server`");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "openssl s_server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        TlsServer { child, port }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the fetch against the server with `SSL_CERT_FILE` set to `roots`; returns stderr.
fn fetch_over_https(scratch: &TempFolder, server: &TlsServer, roots: &Path, label: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["executor", "fetch", "git", "--url"])
        .arg(format!("https://127.0.0.1:{}/org/repo.git", server.port))
        .args(["--revision", "main", "--depth", "1", "--to"])
        .arg(scratch.join(&format!("src-{label}")))
        .arg("--resolved-file")
        .arg(scratch.join(&format!("resolved-{label}")))
        .arg("--credentials-dir")
        .arg(scratch.join("no-credentials"))
        .env("SSL_CERT_FILE", roots)
        .env_remove("SSL_CERT_DIR")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "the server is no git server");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn https_fetch_trusts_the_roots_in_ssl_cert_file_and_rejects_others() {
    let scratch = TempFolder::new("tls");
    certificates(&scratch.0);
    let server = TlsServer::start(&scratch.0);

    let trusted = fetch_over_https(&scratch, &server, &scratch.join("ca.pem"), "trusted");
    assert!(
        trusted.contains("'dumb' protocol is not supported"),
        "a trusted handshake reaches the HTTP exchange: {trusted}"
    );

    // A file holding only an unrelated certificate: the server's CA is not among the roots.
    let other = TempFolder::new("tls-other");
    certificates(&other.0);
    let untrusted = fetch_over_https(&scratch, &server, &other.join("ca.pem"), "untrusted");
    assert!(
        untrusted.contains("TLS certificate is not trusted")
            && untrusted.contains("invalid peer certificate"),
        "an untrusted server fails in the TLS handshake: {untrusted}"
    );
    assert!(!untrusted.contains("'dumb' protocol"), "{untrusted}");
}
