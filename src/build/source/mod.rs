//! A build's source: the git repository fetched at an exact revision before the build starts
//! (`slipway executor fetch git`, the build pod's `fetch-source` init container).
//!
//! The fetch uses gix (pure Rust; no `git` binary in the slipway image) and writes the commit it
//! checked out to the resolved file, which the build container reads as
//! `CODEBUILD_RESOLVED_SOURCE_VERSION`.
//!
//! # Supported URLs
//! | form | transport | notes |
//! | --- | --- | --- |
//! | `https://host/org/repo.git`, `http://…` | smart HTTP (gix + reqwest, rustls on ring) | the dumb HTTP protocol is not supported |
//! | `ssh://[user@]host[:port]/path`, `user@host:path` | the `ssh` program | the slipway image has no `ssh`: such a fetch fails with [`GitFetchError::SshUnavailable`] unless an image with OpenSSH runs the command |
//! | `file:///path`, `/path` | the `git-upload-pack` program | for tests and local use |
//! | `git://host/path` | git daemon | unauthenticated |
//!
//! HTTPS trusts the system's roots (`SSL_CERT_FILE` and `SSL_CERT_DIR` are honoured; the slipway
//! image sets `SSL_CERT_FILE` to its CA bundle); an untrusted certificate fails with
//! [`GitFetchError::Certificate`]. gix reads proxies from `http.proxy` and the `http_proxy`,
//! `HTTPS_PROXY` and `all_proxy` variables (not exercised by the tests).
//!
//! # Revisions
//! A full 40-hex commit SHA (fetched by id and checked out with a detached `HEAD`; the server
//! must allow fetching it, as git's protocol v2 servers and the big hosts do for any reachable
//! commit), a full reference (`refs/heads/main`, `refs/tags/v1`, `refs/pull/7/head`: only that
//! reference is fetched, detached `HEAD`) or a short name (`main`, `v1`: a branch of that name,
//! else a tag; a branch is checked out as the branch). Abbreviated SHAs are refused: the
//! protocol cannot ask for them. An annotated tag resolves to the commit it points at.
//!
//! # Depth
//! `0` fetches the revision's whole history; `N > 0` fetches the revision and `N - 1` ancestors
//! (a shallow clone, like `git clone --depth N`).
//!
//! # Credentials
//! From `<credentials dir>/git/` (a Secret mounted read-only; see [`credentials`]):
//! `username` + `password` for HTTP(S), answered whenever the server asks (HTTP basic auth);
//! `ssh-privatekey` (and optionally `known_hosts`, which pins host keys; without it host keys are
//! accepted on first use) for SSH. Credentials written into the URL (`https://user:token@host/…`)
//! also work. The controller, which reads the Secret through the API, builds the same
//! credentials with [`GitCredentials::from_secret_values`]. The machine's git configuration,
//! credential helpers and prompts are never used for credentials. Values are never logged; URLs
//! in messages have their userinfo replaced by `***`. Credentials are never sent over plain
//! `http://` except to loopback hosts (tests, port forwards): such a fetch fails with
//! [`GitFetchError::InsecureCredentials`].
//!
//! # Listing refs
//! [`ls_remote`] and [`resolve_head`] (see [`remote`]) read what a remote's branches and tags
//! point at without cloning, over the same URLs, with the same credentials and errors as the
//! fetch: the pipeline controller resolves a source's branch to a commit before a run starts.
//!
//! # Submodules
//! With `submodules`, every submodule recorded in the checked-out tree is cloned (by gix) at the
//! commit the tree records, with the same depth and credentials, recursively; relative submodule
//! URLs resolve against the superproject's URL. Each submodule gets its own `.git` folder inside
//! its path (not `.git/modules/…` as `git submodule update` does). Without `submodules`, the
//! submodule paths stay empty.
//!
//! # Errors
//! Every [`GitFetchError`] names the (redacted) URL and, where it matters, the revision, and says
//! what to fix: unknown revision, authentication failure, unreachable host, unsupported URL.
pub mod credentials;
mod git;
pub mod remote;
pub mod revision;

use std::path::{Path, PathBuf};

pub use credentials::{BasicCredentials, CredentialsError, GitCredentials};
pub use git::{FailureKind, classify_failure};
pub use remote::{RemoteRef, find_head, ls_remote, resolve_head};
pub use revision::{
    Revision, RevisionError, Transport, allows_credentials, redact_urls, transport_of,
};

/// What to fetch and where.
#[derive(Debug, Clone)]
pub struct GitFetchRequest {
    /// The repository URL (see the module docs for the forms).
    pub url: String,
    /// The revision to check out.
    pub revision: Revision,
    /// `0` for the full history, else the number of commits to fetch.
    pub depth: u32,
    /// Whether to clone the submodules too.
    pub submodules: bool,
    /// The directory to clone into; absent or empty.
    pub destination: PathBuf,
    /// Credentials from the mounted Secret.
    pub credentials: GitCredentials,
}

/// What a fetch checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedSource {
    /// The full SHA of the commit checked out.
    pub commit: String,
    /// The submodules checked out, nested ones with their full path.
    pub submodules: Vec<FetchedSubmodule>,
}

/// A submodule a fetch checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedSubmodule {
    /// Its path inside the superproject's worktree.
    pub path: String,
    /// The commit checked out.
    pub commit: String,
}

/// Why a fetch failed; every message names the URL (userinfo redacted) and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum GitFetchError {
    /// The revision cannot be fetched as written.
    #[error("failed to fetch {url}: {source}")]
    Revision {
        /// The URL, redacted.
        url: String,
        /// What is wrong with the revision.
        source: RevisionError,
    },
    /// A URL scheme Slipway does not fetch from.
    #[error(
        "failed to fetch {url}: the URL scheme is not supported; use https://, http://, ssh://, \
         user@host:path, git:// or file://"
    )]
    UnsupportedUrl {
        /// The URL, redacted.
        url: String,
    },
    /// gix cannot parse the URL.
    #[error("failed to fetch {url}: the URL is invalid: {detail}")]
    InvalidUrl {
        /// The URL, redacted.
        url: String,
        /// gix's message.
        detail: String,
    },
    /// An SSH URL where no `ssh` program exists.
    #[error(
        "failed to fetch {url}: SSH URLs need the `ssh` program, which is not on PATH here (the \
         slipway image has none); use the https:// URL of the repository with `username` and \
         `password` keys in the git credentials Secret, or run the fetch in an image with OpenSSH"
    )]
    SshUnavailable {
        /// The URL, redacted.
        url: String,
    },
    /// Credentials would cross the network in clear text.
    #[error(
        "failed to fetch {url}: refusing to send git credentials in clear text over http:// to a \
         host other than loopback; use the repository's https:// URL"
    )]
    InsecureCredentials {
        /// The URL, redacted.
        url: String,
    },
    /// The credential files cannot be used.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The destination is not an empty directory.
    #[error("failed to fetch into {path}: {reason}; the source directory must be absent or empty")]
    Destination {
        /// The destination.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The repository has no such revision.
    #[error(
        "failed to fetch {url} at revision `{revision}`: the repository has no such branch, tag or \
         commit; check the revision (a commit SHA must be complete and reachable from a branch or \
         tag on the server): {detail}"
    )]
    UnknownRevision {
        /// The URL, redacted.
        url: String,
        /// The revision asked for.
        revision: String,
        /// gix's message.
        detail: String,
    },
    /// The server refused the credentials, or asked for some and none were mounted.
    #[error(
        "failed to fetch {url}: authentication failed ({}); {detail}",
        if *has_credentials {
            "the server rejected the mounted git credentials: check the `username` and `password` \
             (or `ssh-privatekey`) keys of the git credentials Secret"
        } else {
            "no git credentials are mounted: give the source a credentials Secret with `username` \
             and `password` (or `ssh-privatekey`)"
        }
    )]
    Authentication {
        /// The URL, redacted.
        url: String,
        /// Whether credentials were mounted.
        has_credentials: bool,
        /// gix's message.
        detail: String,
    },
    /// The remote has no branch, tag or reference of that name.
    #[error(
        "failed to resolve `{reference}` on {url}: the repository has no such branch or tag ({}); \
         check the branch or tag name of the source",
        remote::existing_refs_hint(existing, *more)
    )]
    UnknownReference {
        /// The URL, redacted.
        url: String,
        /// The name asked for.
        reference: String,
        /// The first few refs that exist, branches first.
        existing: Vec<String>,
        /// How many more exist.
        more: usize,
    },
    /// Listing the remote's refs failed for a reason not covered by the other variants.
    #[error("failed to list the refs of {url}: {detail}")]
    ListRefs {
        /// The URL, redacted.
        url: String,
        /// gix's message.
        detail: String,
    },
    /// The host cannot be reached, or it has no repository at that path.
    #[error(
        "failed to fetch {url}: unable to reach the repository; check the URL (host, port, path) \
         and that the build pod can reach the host: {detail}"
    )]
    Unreachable {
        /// The URL, redacted.
        url: String,
        /// gix's message.
        detail: String,
    },
    /// The server's TLS certificate is not trusted.
    #[error(
        "failed to fetch {url}: the server's TLS certificate is not trusted or not valid for the \
         host; the fetch trusts the system's roots (or the PEM file in SSL_CERT_FILE / folder in \
         SSL_CERT_DIR): {detail}"
    )]
    Certificate {
        /// The URL, redacted.
        url: String,
        /// gix's message.
        detail: String,
    },
    /// Any other failure of the fetch.
    #[error("failed to fetch {url} at revision `{revision}`: {detail}")]
    Fetch {
        /// The URL, redacted.
        url: String,
        /// The revision asked for.
        revision: String,
        /// gix's message.
        detail: String,
    },
    /// The fetch worked but the checkout did not.
    #[error("failed to check out {url} at revision `{revision}`: {detail}")]
    Checkout {
        /// The URL, redacted.
        url: String,
        /// The revision asked for.
        revision: String,
        /// gix's message.
        detail: String,
    },
    /// A submodule failed.
    #[error("failed to fetch the submodule at `{path}`: {source}")]
    Submodule {
        /// The submodule's path.
        path: String,
        /// Why.
        source: Box<GitFetchError>,
    },
    /// The resolved file cannot be written.
    #[error("failed to write the resolved source version to {path}: {source}")]
    WriteResolved {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Fetches `request.url` at `request.revision` into `request.destination` and returns the
/// commit checked out.
///
/// Blocking (gix's HTTP client is reqwest's blocking one): call it outside an async runtime,
/// or through `spawn_blocking`.
///
/// # Errors
/// See [`GitFetchError`]; on failure the destination is removed again if the fetch created it.
pub fn fetch_git(request: &GitFetchRequest) -> Result<FetchedSource, GitFetchError> {
    crate::tls::install_crypto_provider();
    git::clone_at_revision(request)
}

/// Reads `--revision`, naming the URL in the error.
///
/// # Errors
/// See [`Revision::parse`].
pub fn parse_revision(url: &str, text: &str) -> Result<Revision, GitFetchError> {
    Revision::parse(text).map_err(|source| GitFetchError::Revision {
        url: redact_urls(url),
        source,
    })
}

/// Writes the resolved commit to `path` (one line), creating its folder.
///
/// # Errors
/// The folder or file cannot be written.
pub fn write_resolved(path: &Path, commit: &str) -> Result<(), GitFetchError> {
    let write_error = |source| GitFetchError::WriteResolved {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(write_error)?;
    }
    std::fs::write(path, format!("{commit}\n")).map_err(write_error)
}
