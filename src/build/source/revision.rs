//! What a build's `--revision` and `--url` say, decided without touching the network: the kind
//! of revision (full commit SHA, full reference name, short branch or tag name), the URL's
//! transport, and the URL as it may be printed (its userinfo redacted).

use std::fmt;

/// The length of a full SHA-1 commit id in hex digits.
const FULL_SHA_LENGTH: usize = 40;

/// The revision of a source fetch, as the fetch treats it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revision {
    /// A full 40-hex-digit commit SHA (lowercased); fetched by id, checked out detached.
    Commit(String),
    /// A full reference name (`refs/heads/main`, `refs/tags/v1`, `refs/pull/7/head`) or `HEAD`;
    /// only that reference is fetched, checked out detached.
    Reference(String),
    /// A short name (`main`, `v1.2.0`): a branch, else a tag of that name (branches win).
    Name(String),
}

impl Revision {
    /// Reads a revision as given on the command line.
    ///
    /// # Errors
    /// An empty revision, an abbreviated SHA (the protocol only fetches full ids), or a name
    /// with whitespace.
    pub fn parse(text: &str) -> Result<Self, RevisionError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(RevisionError::Empty);
        }
        if text.chars().any(char::is_whitespace) {
            return Err(RevisionError::Whitespace(text.to_owned()));
        }
        let is_hex = text.chars().all(|character| character.is_ascii_hexdigit());
        if is_hex && text.len() == FULL_SHA_LENGTH {
            return Ok(Revision::Commit(text.to_ascii_lowercase()));
        }
        if is_hex && (7..FULL_SHA_LENGTH).contains(&text.len()) {
            return Err(RevisionError::AbbreviatedCommit(text.to_owned()));
        }
        if text == "HEAD" || text.starts_with("refs/") {
            return Ok(Revision::Reference(text.to_owned()));
        }
        Ok(Revision::Name(text.to_owned()))
    }

    /// The revision as the user wrote it (after trimming).
    pub fn as_str(&self) -> &str {
        match self {
            Revision::Commit(text) | Revision::Reference(text) | Revision::Name(text) => text,
        }
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Why a revision cannot be fetched as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevisionError {
    /// No revision at all.
    #[error("the revision is empty: give a full commit SHA, a branch or a tag")]
    Empty,
    /// Whitespace inside the revision.
    #[error("the revision `{0}` contains whitespace: give a full commit SHA, a branch or a tag")]
    Whitespace(String),
    /// A short SHA, which the git protocol cannot ask a server for.
    #[error(
        "the revision `{0}` looks like an abbreviated commit SHA: give all 40 hex digits \
         (a branch or tag made only of hex digits can be written as refs/heads/… or refs/tags/…)"
    )]
    AbbreviatedCommit(String),
    /// A name git does not allow for a reference.
    #[error(
        "the reference `{name}` is not a valid git reference name ({detail}): give a branch, a \
         tag or a full reference name such as refs/heads/main"
    )]
    InvalidReferenceName {
        /// The name as given.
        name: String,
        /// What git's rules say is wrong.
        detail: String,
    },
    /// A commit SHA where a reference is needed.
    #[error(
        "`{0}` is a commit SHA, not a reference: a remote lists its branches and tags only; give \
         a branch, a tag or a full reference name"
    )]
    CommitIsNoReference(String),
}

/// How a repository URL is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `https://` or `http://` (smart HTTP).
    Http,
    /// `ssh://…` or scp-like `user@host:path` (needs the `ssh` program).
    Ssh,
    /// `file://…` or a local path (needs `git-upload-pack` on `PATH`).
    File,
    /// `git://` (the unauthenticated git daemon protocol).
    GitDaemon,
}

/// The transport a URL uses, or `None` for a scheme Slipway does not fetch from.
pub fn transport_of(url: &str) -> Option<Transport> {
    if let Some((scheme, _)) = url.split_once("://") {
        return match scheme.to_ascii_lowercase().as_str() {
            "https" | "http" => Some(Transport::Http),
            "ssh" | "git+ssh" | "ssh+git" => Some(Transport::Ssh),
            "file" => Some(Transport::File),
            "git" => Some(Transport::GitDaemon),
            _ => None,
        };
    }
    if url.starts_with('/') || url.starts_with('.') {
        return Some(Transport::File);
    }
    // scp-like syntax: `[user@]host:path`, with no slash before the colon.
    match url.split_once(':') {
        Some((host, _)) if !host.is_empty() && !host.contains('/') => Some(Transport::Ssh),
        _ => Some(Transport::File),
    }
}

/// Whether credentials may travel to `url`: always, except over plain `http://` to a host other
/// than loopback (`localhost`, `127.0.0.0/8`, `::1`), where they would cross the network in
/// clear text.
pub fn allows_credentials(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return true;
    };
    if !scheme.eq_ignore_ascii_case("http") {
        return true;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_and_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = match host_and_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
        None => host_and_port.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// `text` with the userinfo (`user:password@`) of every URL inside replaced by `***@`, so that
/// tokens written into a URL never reach a log, an event or a status message.
pub fn redact_urls(text: &str) -> String {
    let mut output = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find("://") {
        let (before, after) = rest.split_at(index + 3);
        output.push_str(before);
        let authority_end = after
            .find(|character: char| {
                character == '/'
                    || character == '?'
                    || character == '#'
                    || character.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                output.push_str("***");
                output.push_str(&authority[at..]);
            }
            None => output.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    output.push_str(rest);
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn revisions_are_classified_by_their_shape() {
        let cases: &[(&str, Result<Revision, RevisionError>)] = &[
            (SHA, Ok(Revision::Commit(SHA.into()))),
            (&SHA.to_ascii_uppercase(), Ok(Revision::Commit(SHA.into()))),
            (
                "refs/heads/main",
                Ok(Revision::Reference("refs/heads/main".into())),
            ),
            (
                "refs/tags/v1",
                Ok(Revision::Reference("refs/tags/v1".into())),
            ),
            ("HEAD", Ok(Revision::Reference("HEAD".into()))),
            ("main", Ok(Revision::Name("main".into()))),
            ("v1.2.0", Ok(Revision::Name("v1.2.0".into()))),
            ("feature/x", Ok(Revision::Name("feature/x".into()))),
            (" main\n", Ok(Revision::Name("main".into()))),
            ("cafe", Ok(Revision::Name("cafe".into()))),
            ("", Err(RevisionError::Empty)),
            (
                "0123abc",
                Err(RevisionError::AbbreviatedCommit("0123abc".into())),
            ),
            (
                "my branch",
                Err(RevisionError::Whitespace("my branch".into())),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(&Revision::parse(text), expected, "revision {text:?}");
        }
    }

    #[test]
    fn abbreviated_sha_error_says_how_to_fix_it() {
        let message = Revision::parse("abcdef1").unwrap_err().to_string();
        assert!(message.contains("all 40 hex digits"), "{message}");
        assert!(message.contains("refs/heads/"), "{message}");
    }

    #[test]
    fn transports_follow_the_url_form() {
        let cases = [
            ("https://example.test/org/repo.git", Some(Transport::Http)),
            ("HTTP://127.0.0.1:8080/repo", Some(Transport::Http)),
            ("ssh://git@example.test/org/repo.git", Some(Transport::Ssh)),
            ("git@example.test:org/repo.git", Some(Transport::Ssh)),
            ("file:///srv/repo.git", Some(Transport::File)),
            ("/srv/repo.git", Some(Transport::File)),
            ("./repo", Some(Transport::File)),
            ("git://example.test/repo", Some(Transport::GitDaemon)),
            ("ftp://example.test/repo", None),
        ];
        for (url, expected) in cases {
            assert_eq!(transport_of(url), expected, "url {url}");
        }
    }

    #[test]
    fn credentials_never_travel_in_clear_text_beyond_loopback() {
        let cases = [
            ("https://example.test/repo.git", true),
            ("http://127.0.0.1:8080/repo.git", true),
            ("http://user:pw@127.0.0.2/repo.git", true),
            ("http://localhost/repo.git", true),
            ("http://[::1]:3000/repo.git", true),
            ("http://gitea.ci.svc:3000/repo.git", false),
            ("http://user:pw@example.test/repo.git", false),
            ("http://10.0.0.1/repo.git", false),
            ("ssh://git@example.test/repo.git", true),
            ("git@example.test:repo.git", true),
        ];
        for (url, expected) in cases {
            assert_eq!(allows_credentials(url), expected, "url {url}");
        }
    }

    #[test]
    fn userinfo_is_redacted_wherever_a_url_appears() {
        let cases = [
            (
                "https://user:token@example.test/repo.git",
                "https://***@example.test/repo.git",
            ),
            (
                "https://token@example.test:8443/repo",
                "https://***@example.test:8443/repo",
            ),
            (
                "https://example.test/repo.git",
                "https://example.test/repo.git",
            ),
            (
                "failed for https://a:b@h/x and ssh://git@h2/y: 401",
                "failed for https://***@h/x and ssh://***@h2/y: 401",
            ),
            ("https://u:p@host", "https://***@host"),
            ("no url here", "no url here"),
            (
                "git@example.test:org/repo.git",
                "git@example.test:org/repo.git",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(redact_urls(text), expected, "text {text}");
        }
    }
}
