//! A real registry for tests: Debian's `docker-registry` (Distribution 2.8) on a free loopback
//! port, with its own configuration and storage in a temporary directory (never the packaged
//! configuration) and htpasswd authentication. Killed and cleaned up when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

/// The user every test registry accepts.
pub const USER: &str = "slipway";
/// That user's password.
pub const PASSWORD: &str = "correct-horse";

/// The manifest media types asked for: Docker v2 and OCI, single and multi-platform.
const MANIFEST_TYPES: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json";

/// A running registry.
pub struct TestRegistry {
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// Its configuration, storage and htpasswd file.
    pub dir: PathBuf,
    child: Child,
}

impl TestRegistry {
    /// Starts a registry with htpasswd authentication for [`USER`]/[`PASSWORD`].
    ///
    /// # Panics
    /// With what to install when `docker-registry` or `htpasswd` is missing, or when the
    /// registry does not answer within ten seconds.
    pub fn start() -> TestRegistry {
        let dir = std::env::temp_dir().join(format!(
            "slipway-test-registry-{}-{}",
            std::process::id(),
            unique()
        ));
        std::fs::create_dir_all(dir.join("data")).expect("create the registry directory");
        let htpasswd = Command::new("htpasswd")
            .args(["-Bbn", USER, PASSWORD])
            .output()
            .unwrap_or_else(|error| {
                panic!("these tests need htpasswd: apt-get install apache2-utils ({error})")
            });
        assert!(htpasswd.status.success(), "htpasswd failed: {htpasswd:?}");
        std::fs::write(dir.join("htpasswd"), &htpasswd.stdout).expect("write htpasswd");
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let config = format!(
            "version: 0.1\nlog: {{level: warn}}\nstorage: {{filesystem: {{rootdirectory: {data}}}, delete: {{enabled: true}}}}\nhttp: {{addr: {address}}}\nauth: {{htpasswd: {{realm: slipway-test, path: {htpasswd}}}}}\n",
            data = dir.join("data").display(),
            htpasswd = dir.join("htpasswd").display(),
        );
        std::fs::write(dir.join("config.yml"), config).expect("write the registry config");
        let log = std::fs::File::create(dir.join("registry.log")).expect("create the registry log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "these tests need Debian's registry: apt-get install docker-registry ({error})"
                )
            });
        let registry = TestRegistry {
            address,
            dir,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        // `/v2/` answers 200 to the test user once the registry is up.
        while registry.get("/v2/", None).map(|(status, _, _)| status) != Some(200) {
            assert!(
                Instant::now() < deadline,
                "the registry did not answer on {}: {}",
                registry.address,
                std::fs::read_to_string(registry.dir.join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    /// A dockerconfigjson document for this registry with `user` and `password`.
    pub fn docker_config(&self, user: &str, password: &str) -> String {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            self.address
        )
    }

    /// The `Docker-Content-Digest` of `repository:tag` (repository without the host), asked
    /// with the Docker v2 and OCI manifest media types and the test user's credentials.
    pub fn manifest_digest(&self, repository: &str, tag: &str) -> Option<String> {
        let (status, headers, _) = self.get(
            &format!("/v2/{repository}/manifests/{tag}"),
            Some(MANIFEST_TYPES),
        )?;
        if status != 200 {
            return None;
        }
        headers.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("docker-content-digest")
                .then(|| value.trim().to_owned())
        })
    }

    /// A manifest (OCI and Docker v2 media types accepted) with the test user's credentials:
    /// status and body.
    ///
    /// # Panics
    /// When the registry does not answer.
    pub fn manifest(&self, repository: &str, reference: &str) -> (u16, String) {
        let (status, _, body) = self
            .get(
                &format!("/v2/{repository}/manifests/{reference}"),
                Some(MANIFEST_TYPES),
            )
            .expect("the registry answers");
        (status, body)
    }

    /// The status of a GET without credentials, `None` when nothing answers.
    pub fn status_of(&self, path: &str) -> Option<u16> {
        self.request(path, None, false).map(|(status, _, _)| status)
    }

    /// A GET with the test user's credentials: status, headers, body.
    fn get(&self, path: &str, accept: Option<&str>) -> Option<(u16, String, String)> {
        self.request(path, accept, true)
    }

    fn request(
        &self,
        path: &str,
        accept: Option<&str>,
        authenticated: bool,
    ) -> Option<(u16, String, String)> {
        let mut stream = TcpStream::connect(&self.address).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        let auth = if authenticated {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
            format!("Authorization: Basic {token}\r\n")
        } else {
            String::new()
        };
        let accept = accept
            .map(|types| format!("Accept: {types}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: {}\r\n{auth}{accept}\r\n",
            self.address
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        let (status_line, headers) = head.split_once("\r\n").unwrap_or((head, ""));
        let status = status_line.split_whitespace().nth(1)?.parse().ok()?;
        Some((status, headers.to_owned(), body.to_owned()))
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("find a free loopback port")
}

/// A number unique within this process.
pub fn unique() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
}
