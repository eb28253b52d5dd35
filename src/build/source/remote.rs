//! What a remote's branches and tags point at, without cloning (`git ls-remote`): the pipeline
//! controller resolves a source's branch to the commit a run builds, and polls the heads of the
//! branches it watches.
//!
//! One connection per call, through the same transport, URL checks and credential answers as
//! the fetch (see the [module docs](super) for URL forms and credentials). Only the reference
//! advertisement is read: the server sends names and ids, no objects.
//!
//! # Guarantees
//! - An annotated tag is reported with the commit it points at (the server peels it), never
//!   the tag object's id, so a tag and a branch at the same commit report the same id.
//! - Only the asked refs are returned, even from servers that advertise every ref (protocol v1);
//!   with protocol v2 the server is asked for the asked names only (`ref-prefix`).
//!
//! # Caveats
//! gix connects through a `Remote`, which belongs to a repository (its configuration gives the
//! transport options, proxies and protocol version), and gix has no repository without a git
//! directory. Each call therefore creates an empty bare repository (gix's `init` skeleton:
//! `HEAD`, `config`, empty `refs/` and `objects/`, sample hooks) in the temp dir and removes it
//! when the call returns; nothing is fetched into it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use gix::bstr::{BStr, ByteSlice};

use super::git::RemoteAccess;
use super::revision::{Revision, RevisionError, redact_urls};
use super::{GitCredentials, GitFetchError};

/// How many existing refs an unknown-ref error names.
const EXISTING_REFS_SHOWN: usize = 8;

/// A reference on a remote and the commit it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRef {
    /// The full name: `refs/heads/main`, `refs/tags/v1`, `HEAD`.
    pub name: String,
    /// The full SHA of the commit (an annotated tag's target, not the tag object).
    pub commit: String,
}

/// Lists the refs of `url` that `refs` asks for, with their commits, sorted by name.
///
/// Each entry of `refs` is a full reference name (`refs/heads/main`, `refs/pull/7/head`,
/// `HEAD`), matched exactly; a prefix ending in `/` (`refs/heads/`), matching every ref below
/// it; or a short name (`main`, `v1`), matching `refs/heads/<name>` and `refs/tags/<name>`
/// (pick one with [`find_head`]). An empty `refs` lists every ref. Refs the remote does not
/// have are simply absent from the result.
///
/// Blocking (gix's HTTP client is reqwest's blocking one): the controller calls it through
/// `spawn_blocking`.
///
/// # Errors
/// An entry that is no valid ref name (or a commit SHA), and the URL and connection errors of
/// [`GitFetchError`] (authentication, unreachable host, certificate, clear-text credentials).
pub fn ls_remote(
    url: &str,
    refs: &[String],
    credentials: &GitCredentials,
) -> Result<Vec<RemoteRef>, GitFetchError> {
    let filter = RefFilter::parse(refs).map_err(|source| GitFetchError::Revision {
        url: redact_urls(url),
        source,
    })?;
    crate::tls::install_crypto_provider();
    let access = RemoteAccess::open(url, credentials)?;
    let advertised = advertised_refs(&access, url, &filter.refspecs())?;
    Ok(filter.select(advertised))
}

/// The commit `branch_or_tag` points at on `url`: a short name is a branch (`main` →
/// `refs/heads/main`), else a tag (`refs/tags/main`); a full `refs/…` name or `HEAD` is taken
/// as is.
///
/// # Caveats
/// A full 40-hex commit SHA is returned as is, without asking the server (it names its commit
/// already); whether the server has it shows when the build fetches it.
///
/// # Errors
/// [`GitFetchError::UnknownReference`] naming a few refs that do exist when the remote has no
/// such ref (found with a second listing, of the branches and tags); an empty, abbreviated or
/// malformed name; and the connection errors of [`ls_remote`].
pub fn resolve_head(
    url: &str,
    branch_or_tag: &str,
    credentials: &GitCredentials,
) -> Result<String, GitFetchError> {
    let revision = super::parse_revision(url, branch_or_tag)?;
    let name = match revision {
        Revision::Commit(commit) => return Ok(commit),
        Revision::Reference(name) | Revision::Name(name) => name,
    };
    let found = ls_remote(url, std::slice::from_ref(&name), credentials)?;
    if let Some(head) = find_head(&found, &name) {
        return Ok(head.commit.clone());
    }
    let existing = ls_remote(
        url,
        &["refs/heads/".to_owned(), "refs/tags/".to_owned()],
        credentials,
    )?;
    Err(unknown_reference(url, &name, &existing))
}

/// The ref `branch_or_tag` names among `refs` (an [`ls_remote`] result): the exact name for a
/// full `refs/…` name or `HEAD`; for a short name the branch, else the tag.
pub fn find_head<'a>(refs: &'a [RemoteRef], branch_or_tag: &str) -> Option<&'a RemoteRef> {
    candidate_names(branch_or_tag)
        .into_iter()
        .find_map(|candidate| refs.iter().find(|found| found.name == candidate))
}

/// The full names a name may stand for, in the order they win: a full name itself; for a short
/// name its branch, then its tag.
fn candidate_names(name: &str) -> Vec<String> {
    if name == "HEAD" || name.starts_with("refs/") {
        vec![name.to_owned()]
    } else {
        vec![format!("refs/heads/{name}"), format!("refs/tags/{name}")]
    }
}

/// The error for a name the remote lacks, naming the first branches and tags it has.
fn unknown_reference(url: &str, name: &str, existing: &[RemoteRef]) -> GitFetchError {
    let mut names: Vec<String> = existing.iter().map(|found| found.name.clone()).collect();
    // Branches before tags: the branch is what a misspelt source most likely meant.
    names.sort_by_key(|name| (!name.starts_with("refs/heads/"), name.clone()));
    let more = names.len().saturating_sub(EXISTING_REFS_SHOWN);
    names.truncate(EXISTING_REFS_SHOWN);
    GitFetchError::UnknownReference {
        url: redact_urls(url),
        reference: name.to_owned(),
        existing: names,
        more,
    }
}

/// Which advertised refs an [`ls_remote`] call keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RefFilter {
    /// Full names kept when advertised exactly so.
    names: Vec<String>,
    /// Prefixes (ending in `/`) whose refs are all kept.
    prefixes: Vec<String>,
}

impl RefFilter {
    /// Reads the `refs` argument of [`ls_remote`]; no entries (or `refs/`) keep every ref.
    fn parse(refs: &[String]) -> Result<Self, RevisionError> {
        let mut filter = RefFilter {
            names: Vec::new(),
            prefixes: Vec::new(),
        };
        if refs.is_empty() {
            filter.prefixes.push("refs/".to_owned());
            filter.names.push("HEAD".to_owned());
        }
        for entry in refs {
            match Revision::parse(entry)? {
                Revision::Commit(commit) => return Err(RevisionError::CommitIsNoReference(commit)),
                Revision::Reference(name) if name.ends_with('/') => {
                    // A prefix is valid when a ref below it can be.
                    check_name(&name, &format!("{name}x"), false)?;
                    filter.prefixes.push(name);
                }
                Revision::Reference(name) => {
                    check_name(&name, &name, false)?;
                    filter.names.push(name);
                }
                Revision::Name(name) => {
                    check_name(&name, &name, true)?;
                    filter.names.extend(candidate_names(&name));
                }
            }
        }
        Ok(filter)
    }

    /// Whether a ref of this name is kept.
    fn matches(&self, name: &str) -> bool {
        self.names.iter().any(|kept| kept == name)
            || self.prefixes.iter().any(|prefix| name.starts_with(prefix))
    }

    /// The refspecs that make a protocol v2 server send only what is kept (its `ref-prefix`
    /// arguments); none, and so every ref, when every ref under `refs/` is kept, since gix
    /// cannot express `refs/` itself as a prefix.
    fn refspecs(&self) -> Vec<String> {
        if self.prefixes.iter().any(|prefix| prefix == "refs/") {
            return Vec::new();
        }
        let mut refspecs = self.names.clone();
        // A glob needs a destination to parse; nothing is written there.
        refspecs.extend(
            self.prefixes
                .iter()
                .map(|prefix| format!("{prefix}*:{prefix}*")),
        );
        refspecs
    }

    /// The advertised refs kept, sorted by name, each once.
    fn select(&self, advertised: Vec<RemoteRef>) -> Vec<RemoteRef> {
        let mut kept: Vec<RemoteRef> = advertised
            .into_iter()
            .filter(|found| self.matches(&found.name))
            .collect();
        kept.sort_by(|left, right| left.name.cmp(&right.name));
        kept.dedup_by(|left, right| left.name == right.name);
        kept
    }
}

/// Refuses names git would refuse, before any of them reaches the wire; `checked` is what is
/// validated (for a prefix, a name below it).
fn check_name(entry: &str, checked: &str, short: bool) -> Result<(), RevisionError> {
    let checked = BStr::new(checked);
    let outcome = if short {
        gix::validate::reference::name_partial(checked).map(drop)
    } else {
        gix::validate::reference::name(checked).map(drop)
    };
    outcome.map_err(|error| RevisionError::InvalidReferenceName {
        name: entry.to_owned(),
        detail: error.to_string(),
    })
}

/// One advertised ref as a [`RemoteRef`]; `None` for an unborn `HEAD` (an empty repository).
fn remote_ref(advertised: &gix::protocol::handshake::Ref) -> Option<RemoteRef> {
    use gix::protocol::handshake::Ref;
    let (name, commit) = match advertised {
        // `object` is what the tag points at: the server peeled it for us.
        Ref::Peeled {
            full_ref_name,
            object,
            ..
        }
        | Ref::Direct {
            full_ref_name,
            object,
        }
        | Ref::Symbolic {
            full_ref_name,
            object,
            ..
        } => (full_ref_name, object),
        Ref::Unborn { .. } => return None,
    };
    Some(RemoteRef {
        name: name.to_str_lossy().into_owned(),
        commit: commit.to_string(),
    })
}

/// The refs the server advertises for `refspecs` (all of them with none), over one connection.
fn advertised_refs(
    access: &RemoteAccess<'_>,
    url: &str,
    refspecs: &[String],
) -> Result<Vec<RemoteRef>, GitFetchError> {
    let fail = |error: gix::Error| {
        access.error(&error, |_, url, detail| GitFetchError::ListRefs {
            url,
            detail,
        })
    };
    let scratch = ScratchRepository::create(url)?;
    let repository = scratch.open(access.config_overrides()).map_err(fail)?;
    let mut parsed_url =
        gix::url::parse(url.as_bytes().as_bstr()).map_err(|error| GitFetchError::InvalidUrl {
            url: redact_urls(url),
            detail: redact_urls(&error.to_string()),
        })?;
    if let Ok(current) = std::env::current_dir() {
        // A relative `file` path means the process's folder, not the scratch repository's.
        let _ = parsed_url.canonicalize(&current);
    }
    let remote = repository
        .remote_at(parsed_url)
        .map_err(fail)?
        // Tags only when asked: gix would otherwise add `refs/tags/*` to every listing.
        .with_fetch_tags(gix::remote::fetch::Tags::None);
    let mut connection = remote
        .connect(gix::remote::Direction::Fetch)
        .map_err(fail)?;
    access.configure(&mut connection);
    let extra_refspecs = refspecs
        .iter()
        .map(|refspec| {
            gix::refspec::parse(
                refspec.as_bytes().as_bstr(),
                gix::refspec::parse::Operation::Fetch,
            )
            .map(|parsed| parsed.to_owned())
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| GitFetchError::ListRefs {
            url: redact_urls(url),
            detail: format!("unable to ask the server for {refspecs:?}: {error}"),
        })?;
    let options = gix::remote::ref_map::Options {
        prefix_from_spec_as_filter_on_remote: !extra_refspecs.is_empty(),
        extra_refspecs,
        ..Default::default()
    };
    let (ref_map, _) = connection
        .ref_map(gix::progress::Discard, options)
        .map_err(fail)?;
    Ok(ref_map.remote_refs.iter().filter_map(remote_ref).collect())
}

/// The empty bare repository gix needs to connect (see the module's caveats), removed when
/// dropped.
struct ScratchRepository {
    path: PathBuf,
}

impl ScratchRepository {
    /// A fresh, unique folder in the temp dir, named for this process.
    fn create(url: &str) -> Result<Self, GitFetchError> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "slipway-ls-remote-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path); // left by a crashed process of the same id
        std::fs::create_dir_all(&path).map_err(|error| GitFetchError::ListRefs {
            url: redact_urls(url),
            detail: format!(
                "unable to create the scratch repository {}: {error}; the temp dir must be \
                 writable",
                path.display()
            ),
        })?;
        Ok(ScratchRepository { path })
    }

    /// Initialises and opens it the way `gix::prepare_clone` does its destination, so that a
    /// listing sees the same git configuration (proxies, CA files, URL rewrites) as a fetch,
    /// plus `overrides` in memory.
    fn open(&self, overrides: Vec<String>) -> gix::Result<gix::Repository> {
        use gix::sec::trust::DefaultForLevel;
        let mut options = gix::open::Options::default_for_level(gix::sec::Trust::Full);
        let mut permissions = gix::open::Permissions::default_for_level(gix::sec::Trust::Full);
        permissions.config.git_binary = true;
        options = options.permissions(permissions).config_overrides(overrides);
        gix::ThreadSafeRepository::init_opts(
            &self.path,
            gix::create::Kind::Bare,
            gix::create::Options::default(),
            options,
        )
        .map(gix::Repository::from)
    }
}

impl Drop for ScratchRepository {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The unknown-ref error's list of refs that exist: `` `a`, `b` (and 3 more)``.
pub(super) fn existing_refs_hint(existing: &[String], more: usize) -> String {
    if existing.is_empty() {
        return "the repository has no branches or tags".to_owned();
    }
    let listed = existing
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match more {
        0 => format!("it has {listed}"),
        more => format!("it has {listed} (and {more} more)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "1111111111111111111111111111111111111111";
    const TWO: &str = "2222222222222222222222222222222222222222";

    fn found(name: &str, commit: &str) -> RemoteRef {
        RemoteRef {
            name: name.to_owned(),
            commit: commit.to_owned(),
        }
    }

    fn entries(refs: &[&str]) -> Vec<String> {
        refs.iter().map(|entry| (*entry).to_owned()).collect()
    }

    #[test]
    fn short_names_ask_for_the_branch_and_the_tag_and_full_names_for_themselves() {
        let filter =
            RefFilter::parse(&entries(&["main", "refs/pull/7/head", "refs/tags/"])).unwrap();
        assert_eq!(
            filter.refspecs(),
            [
                "refs/heads/main",
                "refs/tags/main",
                "refs/pull/7/head",
                "refs/tags/*:refs/tags/*"
            ]
        );
        for (name, kept) in [
            ("refs/heads/main", true),
            ("refs/tags/main", true),
            ("refs/tags/v1", true),
            ("refs/pull/7/head", true),
            ("refs/heads/main-old", false),
            ("refs/pull/7/merge", false),
            ("refs/remotes/origin/main", false),
            ("HEAD", false),
        ] {
            assert_eq!(filter.matches(name), kept, "{name}");
        }
    }

    #[test]
    fn no_entries_list_every_ref_without_a_server_side_filter() {
        let filter = RefFilter::parse(&[]).unwrap();
        assert!(filter.refspecs().is_empty());
        for name in [
            "HEAD",
            "refs/heads/main",
            "refs/tags/v1",
            "refs/pull/1/head",
        ] {
            assert!(filter.matches(name), "{name}");
        }
        assert!(
            RefFilter::parse(&entries(&["refs/"]))
                .unwrap()
                .refspecs()
                .is_empty()
        );
    }

    #[test]
    fn entries_that_are_no_ref_names_are_refused_before_connecting() {
        let cases = [
            ("", "empty"),
            ("feat*", "not a valid git reference name"),
            ("refs/heads/a..b", "not a valid git reference name"),
            ("refs//", "not a valid git reference name"),
            (ONE, "commit SHA"),
            ("abcdef1", "abbreviated"),
        ];
        for (entry, expected) in cases {
            let message = RefFilter::parse(&entries(&[entry]))
                .unwrap_err()
                .to_string();
            assert!(message.contains(expected), "{entry:?}: {message}");
        }
    }

    #[test]
    fn selection_keeps_asked_refs_once_sorted_by_name() {
        let filter = RefFilter::parse(&entries(&["main", "refs/heads/main"])).unwrap();
        let advertised = vec![
            found("refs/tags/main", TWO),
            found("refs/heads/other", TWO),
            found("refs/heads/main", ONE),
        ];
        assert_eq!(
            filter.select(advertised),
            [found("refs/heads/main", ONE), found("refs/tags/main", TWO)]
        );
    }

    #[test]
    fn the_scratch_repository_is_bare_carries_the_overrides_and_is_removed_when_dropped() {
        let scratch = ScratchRepository::create("file:///srv/repo.git").unwrap();
        let path = scratch.path.clone();
        let repository = scratch
            .open(vec!["core.sshCommand=ssh -o BatchMode=yes".to_owned()])
            .unwrap();
        assert!(repository.is_bare());
        assert_eq!(
            repository
                .config_snapshot()
                .string("core.sshCommand")
                .map(|value| value.to_string()),
            Some("ssh -o BatchMode=yes".to_owned())
        );
        drop(repository);
        drop(scratch);
        assert!(!path.exists(), "{}", path.display());
    }

    #[test]
    fn a_branch_wins_over_a_tag_of_the_same_short_name() {
        let refs = [found("refs/heads/v1", ONE), found("refs/tags/v1", TWO)];
        assert_eq!(find_head(&refs, "v1"), Some(&refs[0]));
        assert_eq!(find_head(&refs[1..], "v1"), Some(&refs[1]));
        assert_eq!(find_head(&refs, "refs/tags/v1"), Some(&refs[1]));
        assert_eq!(find_head(&refs, "v2"), None);
        assert_eq!(find_head(&refs, "heads/v1"), None);
    }

    #[test]
    fn unknown_reference_errors_name_a_few_branches_first() {
        let existing: Vec<RemoteRef> = (0..6)
            .map(|index| found(&format!("refs/tags/t{index}"), ONE))
            .chain((0..5).map(|index| found(&format!("refs/heads/b{index}"), TWO)))
            .collect();
        let error = unknown_reference("https://user:pw@example.test/repo.git", "mian", &existing);
        let message = error.to_string();
        assert!(message.contains("`mian`"), "{message}");
        assert!(
            message.contains("https://***@example.test/repo.git"),
            "{message}"
        );
        assert!(
            message.contains(
                "it has `refs/heads/b0`, `refs/heads/b1`, `refs/heads/b2`, `refs/heads/b3`, \
                 `refs/heads/b4`, `refs/tags/t0`, `refs/tags/t1`, `refs/tags/t2` (and 3 more)"
            ),
            "{message}"
        );
        let empty = unknown_reference("file:///srv/repo.git", "main", &[]).to_string();
        assert!(empty.contains("no branches or tags"), "{empty}");
    }
}
