//! Real git repositories for the fetch tests: built with the `git` CLI in a temp dir and served
//! over smart HTTP by `git http-backend` behind a small axum server (with optional basic auth),
//! or read through `file://` (gix spawns `git-upload-pack`).
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};

/// A scratch folder removed when dropped.
pub struct TempFolder(pub PathBuf);

impl TempFolder {
    /// A fresh folder named after `label`, unique within this process.
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let count = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!(
            "slipway-fetch-{label}-{}-{count}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create the scratch folder");
        TempFolder(path)
    }

    /// A path inside the folder.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `git` with a fixed identity and no user or system configuration; returns its stdout.
pub fn git(directory: &Path, arguments: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(directory)
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(arguments)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Slipway Test")
        .env("GIT_AUTHOR_EMAIL", "test@slipway.invalid")
        .env("GIT_COMMITTER_NAME", "Slipway Test")
        .env("GIT_COMMITTER_EMAIL", "test@slipway.invalid")
        .output()
        .expect("the `git` CLI is needed by these tests: install git (Debian package `git`)");
    assert!(
        output.status.success(),
        "git {arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Commits `file` with `text` in the repository at `directory`; returns the commit SHA.
pub fn commit(directory: &Path, file: &str, text: &str, message: &str) -> String {
    std::fs::write(directory.join(file), text).unwrap();
    git(directory, &["add", file]);
    git(directory, &["commit", "-q", "-m", message]);
    git(directory, &["rev-parse", "HEAD"])
}

/// The number of commits reachable from `HEAD` in a clone.
pub fn commit_count(clone: &Path) -> usize {
    git(clone, &["rev-list", "--count", "HEAD"])
        .parse()
        .unwrap()
}

/// The upstream repository the tests fetch from, and its commits.
///
/// ```text
/// main:    one ── two ── three          (v1 = annotated tag on one, light = tag on three)
///            └── feature-work           (branch `feature`)
/// ```
/// `two` is no branch's or tag's tip: fetching it exercises fetch-by-id.
pub struct Upstream {
    /// Holds the working repository and the bare one served.
    pub folder: TempFolder,
    /// The bare repository (`<folder>/served/repo.git`).
    pub bare: PathBuf,
    /// Commit `one`.
    pub one: String,
    /// Commit `two`.
    pub two: String,
    /// Commit `three` (main's tip).
    pub three: String,
    /// The tip of `feature`.
    pub feature: String,
}

impl Upstream {
    /// Builds the repositories.
    pub fn create() -> Self {
        let folder = TempFolder::new("upstream");
        let work = folder.join("work");
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["init", "-q"]);
        let one = commit(&work, "version.txt", "one\n", "one");
        git(&work, &["tag", "-a", "v1", "-m", "release one"]);
        git(&work, &["branch", "feature"]);
        let two = commit(&work, "version.txt", "two\n", "two");
        let three = commit(&work, "version.txt", "three\n", "three");
        git(&work, &["tag", "light"]);
        git(&work, &["checkout", "-q", "feature"]);
        let feature = commit(&work, "feature.txt", "feature\n", "feature work");
        git(&work, &["checkout", "-q", "main"]);
        let served = folder.join("served");
        std::fs::create_dir_all(&served).unwrap();
        git(
            &served,
            &["clone", "-q", "--bare", work.to_str().unwrap(), "repo.git"],
        );
        Upstream {
            bare: served.join("repo.git"),
            folder,
            one,
            two,
            three,
            feature,
        }
    }

    /// The folder `git http-backend` serves (`GIT_PROJECT_ROOT`).
    pub fn project_root(&self) -> PathBuf {
        self.folder.join("served")
    }

    /// The `file://` URL of the bare repository.
    pub fn file_url(&self) -> String {
        format!("file://{}", self.bare.display())
    }

    /// Commits `file` with `text` on `branch` of the working repository and pushes it to the
    /// served one, as a developer's push; returns the new commit.
    pub fn push(&self, branch: &str, file: &str, text: &str, message: &str) -> String {
        let work = self.folder.join("work");
        git(&work, &["checkout", "-q", branch]);
        let commit = commit(&work, file, text, message);
        let bare = self.bare.to_str().unwrap().to_owned();
        git(&work, &["push", "-q", &bare, branch]);
        git(&work, &["checkout", "-q", "main"]);
        commit
    }
}

/// A bare repository with one commit on `main` holding given files (text or binary), read
/// through `file://`: the source of a build that really runs.
pub struct Repository {
    /// Holds the working repository and the bare one.
    pub folder: TempFolder,
    /// The bare repository (`<folder>/repo.git`).
    pub bare: PathBuf,
    /// The commit.
    pub commit: String,
}

impl Repository {
    /// Commits `files` (`(path, content)`, folders created) as the only commit of `main`.
    pub fn with_files(label: &str, files: &[(&str, &[u8])]) -> Self {
        let folder = TempFolder::new(label);
        let work = folder.join("work");
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["init", "-q"]);
        for (path, content) in files {
            let file = work.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, content).unwrap();
            git(&work, &["add", path]);
        }
        git(&work, &["commit", "-q", "-m", "the build's source"]);
        let commit = git(&work, &["rev-parse", "HEAD"]);
        git(
            &folder.0,
            &["clone", "-q", "--bare", work.to_str().unwrap(), "repo.git"],
        );
        Repository {
            bare: folder.join("repo.git"),
            folder,
            commit,
        }
    }

    /// The `file://` URL of the bare repository.
    pub fn file_url(&self) -> String {
        format!("file://{}", self.bare.display())
    }
}

/// `git http-backend` behind axum on a loopback port, in its own thread and runtime.
pub struct GitHttpServer {
    /// The address it listens on.
    pub address: SocketAddr,
    /// Requests answered so far.
    pub requests: Arc<AtomicUsize>,
    /// The bodies of the requests answered so far, in order.
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What the server accepts.
#[derive(Clone)]
struct ServerConfig {
    project_root: PathBuf,
    /// The `Authorization` header value required, when basic auth is on.
    expected_authorization: Option<String>,
    requests: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl GitHttpServer {
    /// Serves `project_root`; with `basic_auth`, only that user and password get in.
    pub fn start(project_root: &Path, basic_auth: Option<(&str, &str)>) -> Self {
        let requests = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let config = ServerConfig {
            project_root: project_root.to_owned(),
            expected_authorization: basic_auth.map(|(user, password)| {
                format!(
                    "Basic {}",
                    base64_encode(format!("{user}:{password}").as_bytes())
                )
            }),
            requests: requests.clone(),
            bodies: bodies.clone(),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let (shutdown, shutdown_signal) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(
                    move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                        let config = config.clone();
                        async move {
                            tokio::task::spawn_blocking(move || {
                                handle(&config, &method, &uri, &headers, &body)
                            })
                            .await
                            .unwrap()
                        }
                    },
                );
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = shutdown_signal.await;
                    })
                    .await
                    .unwrap();
            });
        });
        GitHttpServer {
            address,
            requests,
            bodies,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The bodies of the requests answered so far (the git protocol's commands), as text.
    pub fn request_bodies(&self) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|body| String::from_utf8_lossy(body).into_owned())
            .collect()
    }

    /// The URL of `repository` (a path under the project root).
    pub fn url(&self, repository: &str) -> String {
        format!("http://{}/{repository}", self.address)
    }
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One request: the auth check, then `git http-backend` as a CGI program.
fn handle(
    config: &ServerConfig,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response<Body> {
    config.requests.fetch_add(1, Ordering::SeqCst);
    config.bodies.lock().unwrap().push(body.to_vec());
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    if let Some(expected) = &config.expected_authorization
        && header("authorization") != *expected
    {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("WWW-Authenticate", "Basic realm=\"slipway-test\"")
            .body(Body::from("authentication required"))
            .unwrap();
    }
    let mut child = Command::new("git")
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", &config.project_root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", uri.path())
        .env("QUERY_STRING", uri.query().unwrap_or(""))
        .env("REQUEST_METHOD", method.as_str())
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("HTTP_GIT_PROTOCOL", header("git-protocol"))
        .env("GIT_PROTOCOL", header("git-protocol"))
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`git http-backend` is needed by these tests: install git (Debian package `git`)");
    child.stdin.take().unwrap().write_all(body).unwrap();
    let output = child.wait_with_output().unwrap();
    cgi_response(&output.stdout)
}

/// Turns a CGI program's output (headers, blank line, body) into an HTTP response.
fn cgi_response(output: &[u8]) -> Response<Body> {
    let separator = output
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|index| (index, 4))
        .or_else(|| {
            output
                .windows(2)
                .position(|window| window == b"\n\n")
                .map(|index| (index, 2))
        });
    let Some((end, length)) = separator else {
        return Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .body(Body::from(output.to_vec()))
            .unwrap();
    };
    let head = String::from_utf8_lossy(&output[..end]);
    let mut builder = Response::builder().status(StatusCode::OK);
    let mut extra: HashMap<String, String> = HashMap::new();
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value.split_whitespace().next().unwrap_or("200");
            builder = builder.status(code.parse::<u16>().unwrap_or(500));
        } else {
            extra.insert(name.to_owned(), value.to_owned());
        }
    }
    for (name, value) in extra {
        builder = builder.header(name, value);
    }
    builder
        .body(Body::from(output[end + length..].to_vec()))
        .unwrap()
}

/// Standard base64 with padding (the `Authorization: Basic` header).
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let value = chunk.iter().enumerate().fold(0u32, |value, (index, byte)| {
            value | u32::from(*byte) << (16 - 8 * index)
        });
        for index in 0..4 {
            if index <= chunk.len() {
                text.push(ALPHABET[(value >> (18 - 6 * index) & 63) as usize] as char);
            } else {
                text.push('=');
            }
        }
    }
    text
}

#[test]
fn base64_matches_the_rfc_examples() {
    for (input, expected) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foobar", "Zm9vYmFy"),
        ("user:pass", "dXNlcjpwYXNz"),
    ] {
        assert_eq!(base64_encode(input.as_bytes()), expected);
    }
}
