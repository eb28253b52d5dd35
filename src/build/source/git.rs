//! The clone itself, through gix: one fetch of exactly the asked revision, a checkout with a
//! detached `HEAD` (or `HEAD` on the branch for a short branch name), then the submodules.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use gix::bstr::ByteSlice;

use super::credentials::{BasicCredentials, GitCredentials, ssh_command};
use super::revision::{Revision, Transport, allows_credentials, redact_urls, transport_of};
use super::{FetchedSource, FetchedSubmodule, GitFetchError, GitFetchRequest};

/// A blocking connection to a remote, as gix's `connect` opens it.
pub(super) type Connection<'remote, 'auth, 'repo> = gix::remote::Connection<
    'remote,
    'auth,
    'repo,
    Box<dyn gix::protocol::transport::client::blocking_io::Transport + Send>,
>;

/// What went wrong in gix, sorted by what the user has to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The server has no such branch, tag or commit.
    UnknownRevision,
    /// The server refused the credentials (or wanted some and got none).
    Authentication,
    /// The host cannot be reached or the repository does not exist there.
    Unreachable,
    /// The server's TLS certificate is not trusted (or not valid for the host).
    Certificate,
    /// Anything else.
    Other,
}

/// Decides what a gix failure means from its classification flags and its message text.
pub fn classify_failure(text: &str, not_found: bool, unauthenticated: bool) -> FailureKind {
    let lower = text.to_ascii_lowercase();
    let mentions = |needles: &[&str]| needles.iter().any(|needle| lower.contains(needle));
    // Status codes only in their HTTP wording: a bare "403" also matches the port of
    // `http://127.0.0.1:40361/…`, which the message carries.
    if unauthenticated
        || mentions(&[
            "status 401",
            "status 403",
            "401 unauthorized",
            "403 forbidden",
            "authentication",
            "unauthorized",
            "permission denied (publickey",
            "no git credentials",
        ])
    {
        return FailureKind::Authentication;
    }
    if mentions(&["invalid peer certificate", "certificate verify failed"]) {
        return FailureKind::Certificate;
    }
    if mentions(&[
        "didn't have the requested revision",
        "didn't have any ref",
        "not our ref",
        "no such remote ref",
        "couldn't find remote ref",
        "upload-pack: not our ref",
        "reference not found",
        "could not be found",
        "no match",
        "did not match",
        "not found on remote",
    ]) && !mentions(&["repository", "status 404", "404 not found"])
    {
        return FailureKind::UnknownRevision;
    }
    if mentions(&[
        "connection refused",
        "could not resolve",
        "dns error",
        "failed to lookup address",
        "timed out",
        "connection reset",
        "no route to host",
        "network is unreachable",
        "error sending request",
        "status 404",
        "404 not found",
        "does not appear to be a git repository",
        "is a valid git directory",
        "not a git repository",
        "could not read from remote repository",
        "tcp connect error",
    ]) {
        return FailureKind::Unreachable;
    }
    if not_found {
        return FailureKind::UnknownRevision;
    }
    FailureKind::Other
}

/// Every message in a gix error's chain, each once, joined by `: `, URLs redacted.
fn describe(error: &gix::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.iter_errors() {
        let text = cause.to_string();
        if text.is_empty() || parts.iter().any(|seen| seen.contains(&text)) {
            continue;
        }
        parts.push(text);
    }
    redact_urls(&parts.join(": "))
}

/// The error for a failed gix step on `url`, named after what the user has to fix; failures that
/// depend on the operation (an unknown revision, anything unrecognised) go to `otherwise`, which
/// gets the kind, the redacted URL and gix's message.
fn failure(
    url: &str,
    credentials: &GitCredentials,
    error: &gix::Error,
    otherwise: impl FnOnce(FailureKind, String, String) -> GitFetchError,
) -> GitFetchError {
    let detail = describe(error);
    let not_found = error.classify().is_not_found();
    let unauthenticated = error.classify().is_unauthenticated();
    let redacted = redact_urls(url);
    let has_credentials = match transport_of(url) {
        Some(Transport::Ssh) => credentials.ssh_private_key.is_some(),
        _ => credentials.basic.is_some() || redacted != url,
    };
    match classify_failure(&detail, not_found, unauthenticated) {
        FailureKind::Authentication => GitFetchError::Authentication {
            url: redacted,
            has_credentials,
            detail,
        },
        FailureKind::Unreachable => GitFetchError::Unreachable {
            url: redacted,
            detail,
        },
        FailureKind::Certificate => GitFetchError::Certificate {
            url: redacted,
            detail,
        },
        kind @ (FailureKind::UnknownRevision | FailureKind::Other) => {
            otherwise(kind, redacted, detail)
        }
    }
}

/// What every connection to a remote shares, whether it clones or only lists refs: the checked
/// URL, the credential answers, the SSH setup, and how gix's failures become errors.
pub(super) struct RemoteAccess<'a> {
    url: &'a str,
    credentials: &'a GitCredentials,
    answers: CredentialAnswers,
    ssh: Option<SshSetup>,
}

impl<'a> RemoteAccess<'a> {
    /// Checks `url` without touching the network (scheme, syntax, no credentials in clear
    /// text) and prepares SSH when the URL needs it.
    pub(super) fn open(
        url: &'a str,
        credentials: &'a GitCredentials,
    ) -> Result<Self, GitFetchError> {
        let redacted = redact_urls(url);
        let transport = transport_of(url).ok_or_else(|| GitFetchError::UnsupportedUrl {
            url: redacted.clone(),
        })?;
        gix::url::parse(url.as_bytes().as_bstr()).map_err(|error| GitFetchError::InvalidUrl {
            url: redacted.clone(),
            detail: redact_urls(&error.to_string()),
        })?;
        let credentials_allowed = allows_credentials(url);
        if !credentials_allowed && redacted != url {
            return Err(GitFetchError::InsecureCredentials { url: redacted });
        }
        let ssh = match transport {
            Transport::Ssh => Some(prepare_ssh(url, credentials)?),
            _ => None,
        };
        Ok(RemoteAccess {
            url,
            credentials,
            answers: CredentialAnswers {
                basic: credentials.basic.clone(),
                transport,
                credentials_allowed,
                refused_clear_text: Arc::new(AtomicBool::new(false)),
            },
            ssh,
        })
    }

    /// The in-memory configuration the repository needs for this remote (the `ssh` command).
    pub(super) fn config_overrides(&self) -> Vec<String> {
        match &self.ssh {
            // The variant tells gix the command is OpenSSH (for `-p` and `SendEnv=GIT_PROTOCOL`)
            // without a probing `ssh -G` run.
            Some(ssh) => vec![
                format!("core.sshCommand={}", ssh.command),
                "ssh.variant=ssh".to_owned(),
            ],
            None => Vec::new(),
        }
    }

    /// Makes `connection` answer credential requests from [`GitCredentials`] only.
    pub(super) fn configure(&self, connection: &mut Connection<'_, '_, '_>) {
        self.answers.install(connection);
    }

    /// Makes every connection gix's clone opens answer credential requests from
    /// [`GitCredentials`] only.
    fn configure_connection(
        &self,
    ) -> impl FnMut(&mut Connection<'_, '_, '_>) -> gix::Result<()> + 'static {
        let answers = self.answers.clone();
        move |connection| {
            answers.install(connection);
            Ok(())
        }
    }

    /// The error for a failed gix step; see [`failure`] for `otherwise`.
    pub(super) fn error(
        &self,
        error: &gix::Error,
        otherwise: impl FnOnce(FailureKind, String, String) -> GitFetchError,
    ) -> GitFetchError {
        if self.answers.refused_clear_text.load(Ordering::SeqCst) {
            return GitFetchError::InsecureCredentials {
                url: redact_urls(self.url),
            };
        }
        failure(self.url, self.credentials, error, otherwise)
    }
}

/// Clones `request.url` at `request.revision` into `request.destination`.
pub(super) fn clone_at_revision(request: &GitFetchRequest) -> Result<FetchedSource, GitFetchError> {
    let url = redact_urls(&request.url);
    let access = RemoteAccess::open(&request.url, &request.credentials)?;
    ensure_empty_destination(&request.destination)?;
    std::fs::create_dir_all(&request.destination).map_err(|error| GitFetchError::Destination {
        path: request.destination.clone(),
        reason: error.to_string(),
    })?;
    let outcome = fetch_and_checkout(request, &access);
    drop(access); // removes the SSH key copy before the submodules make their own
    let repository = outcome?;
    let commit = repository
        .head_commit()
        .map_err(|error| GitFetchError::Checkout {
            url: url.clone(),
            revision: request.revision.to_string(),
            detail: describe(&error),
        })?
        .id
        .to_string();
    let submodules = if request.submodules {
        fetch_submodules(request, &repository)?
    } else {
        Vec::new()
    };
    Ok(FetchedSource { commit, submodules })
}

/// The fetch and the checkout, through gix.
fn fetch_and_checkout(
    request: &GitFetchRequest,
    access: &RemoteAccess<'_>,
) -> Result<gix::Repository, GitFetchError> {
    let interrupt = AtomicBool::new(false);
    let revision = request.revision.to_string();
    let fail = |error: gix::Error| {
        access.error(&error, |kind, url, detail| match kind {
            FailureKind::UnknownRevision => GitFetchError::UnknownRevision {
                url,
                revision: revision.clone(),
                detail,
            },
            _ => GitFetchError::Fetch {
                url,
                revision: revision.clone(),
                detail,
            },
        })
    };
    let mut prepare =
        gix::prepare_clone(request.url.as_str(), &request.destination).map_err(|error| {
            GitFetchError::Destination {
                path: request.destination.clone(),
                reason: describe(&error),
            }
        })?;
    if let Some(depth) = NonZeroU32::new(request.depth) {
        prepare = prepare.with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(depth));
    }
    prepare = match &request.revision {
        Revision::Commit(text) | Revision::Reference(text) => {
            prepare.with_revision(Some(text.as_str())).map_err(fail)?
        }
        Revision::Name(name) => prepare.with_ref_name(Some(name.as_str())).map_err(fail)?,
    };
    let overrides = access.config_overrides();
    if !overrides.is_empty() {
        prepare = prepare.with_in_memory_config_overrides(overrides);
    }
    prepare = prepare.configure_connection(access.configure_connection());
    let (mut checkout, _) = prepare
        .fetch_then_checkout(gix::progress::Discard, &interrupt)
        .map_err(fail)?;
    let (repository, _) = checkout
        .main_worktree(gix::progress::Discard, &interrupt)
        .map_err(|error| GitFetchError::Checkout {
            url: redact_urls(&request.url),
            revision: request.revision.to_string(),
            detail: describe(&error),
        })?;
    Ok(repository)
}

/// Answers gix's credential requests for one remote from [`GitCredentials`] only: never a
/// prompt, never a helper program, never the machine's git configuration. Cloned into every
/// connection gix opens; a refusal to send credentials in clear text is shared by the clones.
#[derive(Clone)]
struct CredentialAnswers {
    basic: Option<BasicCredentials>,
    transport: Transport,
    credentials_allowed: bool,
    refused_clear_text: Arc<AtomicBool>,
}

impl CredentialAnswers {
    /// Makes `connection` ask these answers, and nothing else, for credentials.
    fn install(&self, connection: &mut Connection<'_, '_, '_>) {
        let answers = self.clone();
        connection.set_credentials(move |action| answers.answer(action));
    }

    /// The answer to one request: the basic credentials, or an authentication error.
    fn answer(
        &self,
        action: gix::credentials::helper::Action,
    ) -> gix::Result<Option<gix::credentials::protocol::Outcome>> {
        if !self.credentials_allowed && self.basic.is_some() {
            self.refused_clear_text.store(true, Ordering::SeqCst);
            return Err(
                gix::error::message("refusing to send git credentials in clear text")
                    .unauthenticated_error(),
            );
        }
        provide_credentials(self.basic.as_ref(), self.transport, action)
    }
}

/// The credentials for one request, or why there are none.
fn provide_credentials(
    basic: Option<&BasicCredentials>,
    transport: Transport,
    action: gix::credentials::helper::Action,
) -> gix::Result<Option<gix::credentials::protocol::Outcome>> {
    match action {
        gix::credentials::helper::Action::Get(context) => match basic {
            Some(basic) => Ok(Some(gix::credentials::protocol::Outcome {
                identity: gix::sec::identity::Account {
                    username: basic.username.clone(),
                    password: basic.password.clone(),
                    oauth_refresh_token: None,
                },
                next: context.into(),
            })),
            None if transport == Transport::Ssh => Err(gix::error::message(
                "ssh could not log in: check that the `ssh-privatekey` key of the git \
                 credentials Secret is a key the host accepts for this repository",
            )
            .unauthenticated_error()),
            None => Err(gix::error::message(
                "the server asks for credentials and no git credentials are mounted",
            )
            .unauthenticated_error()),
        },
        gix::credentials::helper::Action::Store(_) | gix::credentials::helper::Action::Erase(_) => {
            Ok(None)
        }
    }
}

/// The destination must be absent or an empty directory, so nothing stale mixes into a build.
fn ensure_empty_destination(path: &Path) -> Result<(), GitFetchError> {
    match std::fs::read_dir(path).map(|mut entries| entries.next().is_some()) {
        Ok(true) => Err(GitFetchError::Destination {
            path: path.to_owned(),
            reason: "the directory is not empty".to_owned(),
        }),
        Ok(false) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(GitFetchError::Destination {
            path: path.to_owned(),
            reason: error.to_string(),
        }),
    }
}

/// A private copy of the SSH key (removed when dropped) and the `ssh` command using it.
struct SshSetup {
    command: String,
    key_copy: Option<PathBuf>,
}

impl Drop for SshSetup {
    fn drop(&mut self) {
        if let Some(path) = &self.key_copy {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Checks that `ssh` exists and prepares the key; gix runs the `ssh` program for SSH URLs.
fn prepare_ssh(url: &str, credentials: &GitCredentials) -> Result<SshSetup, GitFetchError> {
    if !program_on_path("ssh") {
        return Err(GitFetchError::SshUnavailable {
            url: redact_urls(url),
        });
    }
    let GitCredentials {
        ssh_private_key,
        ssh_known_hosts,
        ..
    } = credentials;
    let key_copy = match ssh_private_key {
        Some(key) => Some(private_copy(key)?),
        None => None,
    };
    Ok(SshSetup {
        command: ssh_command(key_copy.as_deref(), ssh_known_hosts.as_deref()),
        key_copy,
    })
}

/// Copies the key to a `0600` file in the temp dir (`ssh` refuses group-readable keys).
fn private_copy(key: &Path) -> Result<PathBuf, GitFetchError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let read_error = |source| {
        GitFetchError::Credentials(super::CredentialsError::Read {
            path: key.to_owned(),
            source,
        })
    };
    let mut text = std::fs::read(key).map_err(read_error)?;
    if !text.ends_with(b"\n") {
        text.push(b'\n');
    }
    // One name per copy: the controller lists refs of several repositories at once.
    static COPIES: AtomicUsize = AtomicUsize::new(0);
    let copy = std::env::temp_dir().join(format!(
        "slipway-ssh-key-{}-{}",
        std::process::id(),
        COPIES.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_file(&copy);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&copy)
        .and_then(|mut file| file.write_all(&text).map(|()| file))
        .map_err(read_error)?;
    file.flush().map_err(read_error)?;
    Ok(copy)
}

/// Whether an executable named `program` is in one of `PATH`'s directories.
fn program_on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|directory| {
            std::fs::metadata(directory.join(program)).is_ok_and(|metadata| {
                metadata.is_file() && metadata.permissions().mode() & 0o111 != 0
            })
        })
    })
}

/// Clones every submodule of the checked-out tree at the commit the tree records, with the same
/// depth and credentials, recursively.
fn fetch_submodules(
    request: &GitFetchRequest,
    repository: &gix::Repository,
) -> Result<Vec<FetchedSubmodule>, GitFetchError> {
    let submodule_error = |path: &str, detail: String| GitFetchError::Submodule {
        path: path.to_owned(),
        source: Box::new(GitFetchError::Fetch {
            url: redact_urls(&request.url),
            revision: request.revision.to_string(),
            detail,
        }),
    };
    let Some(modules) = repository
        .submodules()
        .map_err(|error| submodule_error(".gitmodules", describe(&error)))?
    else {
        return Ok(Vec::new());
    };
    let workdir = repository
        .workdir()
        .unwrap_or(&request.destination)
        .to_owned();
    let mut fetched = Vec::new();
    for module in modules {
        let name = module.name().to_str_lossy().into_owned();
        let path = module
            .path()
            .map_err(|error| submodule_error(&name, describe(&error)))?
            .to_str_lossy()
            .into_owned();
        let Some(commit) = module
            .head_id()
            .map_err(|error| submodule_error(&path, describe(&error)))?
        else {
            continue; // listed in .gitmodules but not in the tree: git skips it too
        };
        let url = module
            .resolved_url()
            .map_err(|error| submodule_error(&path, describe(&error)))?
            .to_bstring()
            .to_str_lossy()
            .into_owned();
        let destination = workdir.join(&path);
        let _ = std::fs::remove_dir(&destination); // the checkout leaves an empty folder
        let child = GitFetchRequest {
            url,
            revision: Revision::Commit(commit.to_string()),
            depth: request.depth,
            submodules: true,
            destination,
            credentials: request.credentials.clone(),
        };
        let outcome = clone_at_revision(&child).map_err(|source| GitFetchError::Submodule {
            path: path.clone(),
            source: Box::new(source),
        })?;
        fetched.push(FetchedSubmodule {
            path: path.clone(),
            commit: outcome.commit,
        });
        fetched.extend(
            outcome
                .submodules
                .into_iter()
                .map(|nested| FetchedSubmodule {
                    path: format!("{path}/{}", nested.path),
                    commit: nested.commit,
                }),
        );
    }
    Ok(fetched)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(credentials_allowed: bool) -> CredentialAnswers {
        CredentialAnswers {
            basic: Some(BasicCredentials {
                username: "builder".into(),
                password: "s3cret".into(),
            }),
            transport: Transport::Http,
            credentials_allowed,
            refused_clear_text: Arc::new(AtomicBool::new(false)),
        }
    }

    #[test]
    fn credentials_are_refused_when_a_clear_text_server_asks_and_the_refusal_is_remembered() {
        let answers = answers(false);
        let copy = answers.clone();
        let action =
            gix::credentials::helper::Action::get_for_url("http://git.example.invalid/repo.git");
        let error = copy.answer(action).unwrap_err();
        assert!(error.classify().is_unauthenticated(), "{error}");
        assert!(!error.to_string().contains("s3cret"), "{error}");
        assert!(
            answers.refused_clear_text.load(Ordering::SeqCst),
            "the refusal is seen by every clone, so the error can say why"
        );
    }

    #[test]
    fn credentials_are_given_when_the_url_allows_them() {
        let answers = answers(true);
        let action = gix::credentials::helper::Action::get_for_url("https://example.test/repo.git");
        let outcome = answers.answer(action).unwrap().unwrap();
        assert_eq!(outcome.identity.username, "builder");
        assert_eq!(outcome.identity.password, "s3cret");
        assert!(!answers.refused_clear_text.load(Ordering::SeqCst));
    }

    #[test]
    fn failures_are_sorted_by_what_the_user_must_fix() {
        let cases = [
            (
                "The remote didn't have the requested revision \"refs/heads/nope\"",
                false,
                false,
                FailureKind::UnknownRevision,
            ),
            (
                "upload-pack: not our ref 0123",
                false,
                false,
                FailureKind::UnknownRevision,
            ),
            ("anything", true, false, FailureKind::UnknownRevision),
            ("anything", false, true, FailureKind::Authentication),
            (
                "Received HTTP status 401",
                false,
                false,
                FailureKind::Authentication,
            ),
            (
                "error sending request: tcp connect error: Connection refused",
                false,
                false,
                FailureKind::Unreachable,
            ),
            (
                "Received HTTP status 404",
                false,
                false,
                FailureKind::Unreachable,
            ),
            (
                "Received HTTP status 404: HTTP status client error (404 Not Found) for url (http://127.0.0.1:40361/nope.git/info/refs)",
                false,
                false,
                FailureKind::Unreachable,
            ),
            (
                "HTTP status client error (403 Forbidden) for url (http://127.0.0.1:40401/repo.git)",
                false,
                false,
                FailureKind::Authentication,
            ),
            (
                "client error (Connect): invalid peer certificate: UnknownIssuer",
                false,
                false,
                FailureKind::Certificate,
            ),
            (
                "Could not verify that \"file:///srv/nope.git\" is a valid git directory before \
                 attempting to use it: Could not retrieve metadata of \"/srv/nope.git/.git\"",
                false,
                false,
                FailureKind::Unreachable,
            ),
            ("pack checksum mismatch", false, false, FailureKind::Other),
        ];
        for (text, not_found, unauthenticated, expected) in cases {
            assert_eq!(
                classify_failure(text, not_found, unauthenticated),
                expected,
                "{text}"
            );
        }
    }
}
