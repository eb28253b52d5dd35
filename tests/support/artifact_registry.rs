//! A real OCI registry for artifact tests: Debian's `docker-registry` (Distribution 2.8) on a
//! free loopback port, with its own config and htpasswd file in a temp dir (never the
//! packaged config, which listens on all interfaces). Stopped and removed on drop.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The registry binary the tests need.
pub const REGISTRY_BINARY: &str = "/usr/bin/docker-registry";

/// A running registry.
pub struct ArtifactRegistry {
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// The user htpasswd accepts.
    pub user: String,
    /// Its password.
    pub password: String,
    dir: PathBuf,
    child: Child,
}

impl ArtifactRegistry {
    /// Starts a registry requiring `user`/`password` (bcrypt htpasswd).
    pub fn start(label: &str, user: &str, password: &str) -> ArtifactRegistry {
        assert!(
            Path::new(REGISTRY_BINARY).exists(),
            "{REGISTRY_BINARY} is missing: install Debian's registry with `apt-get install docker-registry`"
        );
        let dir = std::env::temp_dir().join(format!(
            "slipway-artifact-registry-{label}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).expect("create the registry folder");
        let htpasswd = Command::new("htpasswd")
            .args(["-Bbn", user, password])
            .output()
            .expect("htpasswd is missing: install it with `apt-get install apache2-utils`");
        assert!(htpasswd.status.success(), "htpasswd failed: {htpasswd:?}");
        std::fs::write(dir.join("htpasswd"), &htpasswd.stdout).expect("write htpasswd");
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let config = format!(
            "version: 0.1\nlog: {{level: warn}}\nstorage: {{filesystem: {{rootdirectory: {}}}, delete: {{enabled: true}}}}\nhttp: {{addr: {address}}}\nauth: {{htpasswd: {{realm: slipway-test, path: {}}}}}\n",
            dir.join("data").display(),
            dir.join("htpasswd").display()
        );
        std::fs::write(dir.join("config.yml"), config).expect("write the registry config");
        let log = std::fs::File::create(dir.join("registry.log")).expect("create the log");
        let child = Command::new(REGISTRY_BINARY)
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log"))
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let registry = ArtifactRegistry {
            address,
            user: user.to_owned(),
            password: password.to_owned(),
            dir,
            child,
        };
        registry.wait_until_ready();
        registry
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.status_of("/v2/") {
                assert!(
                    status == 401 || status == 200,
                    "unexpected /v2/ status {status}"
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "the registry did not answer on {}; its log: {}",
            self.address,
            std::fs::read_to_string(self.dir.join("registry.log")).unwrap_or_default()
        );
    }

    /// The HTTP status of an unauthenticated GET, or `None` when nothing answers.
    pub fn status_of(&self, path: &str) -> Option<u16> {
        self.request(path, "").map(|(status, _)| status)
    }

    /// An authenticated GET of a manifest (OCI media type accepted): status and body.
    pub fn manifest(&self, repository: &str, reference: &str) -> (u16, String) {
        use base64::Engine;
        let credentials = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.user, self.password));
        let headers = format!(
            "Authorization: Basic {credentials}\r\nAccept: application/vnd.oci.image.manifest.v1+json\r\n"
        );
        self.request(&format!("/v2/{repository}/manifests/{reference}"), &headers)
            .expect("the registry answers")
    }

    fn request(&self, path: &str, headers: &str) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect(&self.address).ok()?;
        stream
            .write_all(
                format!(
                    "GET {path} HTTP/1.0\r\nHost: {}\r\n{headers}\r\n",
                    self.address
                )
                .as_bytes(),
            )
            .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let status = response.split_whitespace().nth(1)?.parse().ok()?;
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned());
        Some((status, body.unwrap_or_default()))
    }

    /// A `.dockerconfigjson` document for this registry with `password`.
    pub fn docker_config(&self, password: &str) -> String {
        use base64::Engine;
        let auth =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{password}", self.user));
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, self.address)
    }
}

impl Drop for ArtifactRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A loopback port nothing listens on (the listener is dropped before the registry binds it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("find a free loopback port")
}
