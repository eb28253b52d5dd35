//! `ls_remote` and `resolve_head` against real repositories: built with the `git` CLI, served by
//! `git http-backend` over loopback HTTP (with basic auth) and read through `file://`.

mod git_fixture;

use git_fixture::{GitHttpServer, TempFolder, Upstream, git};
use slipway::build::source::{
    GitCredentials, GitFetchError, RemoteRef, find_head, ls_remote, resolve_head,
};

fn no_credentials() -> GitCredentials {
    GitCredentials::default()
}

fn secret(username: &str, password: &str) -> GitCredentials {
    GitCredentials::from_secret_values(
        "ci/git-credentials",
        Some(username.as_bytes()),
        Some(password.as_bytes()),
    )
    .unwrap()
}

fn names(refs: &[&str]) -> Vec<String> {
    refs.iter().map(|name| (*name).to_owned()).collect()
}

fn remote_ref(name: &str, commit: &str) -> RemoteRef {
    RemoteRef {
        name: name.to_owned(),
        commit: commit.to_owned(),
    }
}

#[track_caller]
fn resolve(url: &str, name: &str, credentials: &GitCredentials) -> String {
    resolve_head(url, name, credentials)
        .unwrap_or_else(|error| panic!("resolve {name} on {url}: {error}"))
}

#[test]
fn a_branch_resolves_to_its_head_commit_over_http() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), None);
    let url = server.url("repo.git");
    for (name, expected) in [
        ("main", &upstream.three),
        ("feature", &upstream.feature),
        ("refs/heads/main", &upstream.three),
        ("HEAD", &upstream.three),
    ] {
        assert_eq!(&resolve(&url, name, &no_credentials()), expected, "{name}");
    }
}

#[test]
fn an_annotated_tag_resolves_to_the_commit_it_tags_not_the_tag_object() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), None);
    let url = server.url("repo.git");
    let tag_object = git(&upstream.bare, &["rev-parse", "refs/tags/v1"]);
    assert_ne!(
        tag_object, upstream.one,
        "the fixture's v1 is an annotated tag"
    );

    assert_eq!(resolve(&url, "v1", &no_credentials()), upstream.one);
    assert_eq!(
        resolve(&url, "refs/tags/v1", &no_credentials()),
        upstream.one
    );
    assert_eq!(resolve(&url, "light", &no_credentials()), upstream.three);
    let tags = ls_remote(&url, &names(&["refs/tags/"]), &no_credentials()).unwrap();
    assert_eq!(
        tags,
        [
            remote_ref("refs/tags/light", &upstream.three),
            remote_ref("refs/tags/v1", &upstream.one),
        ]
    );
}

#[test]
fn several_refs_are_listed_in_one_call_and_each_head_is_found() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), None);
    let url = server.url("repo.git");
    let refs = ls_remote(
        &url,
        &names(&["main", "feature", "refs/heads/absent"]),
        &no_credentials(),
    )
    .unwrap();
    assert_eq!(
        refs,
        [
            remote_ref("refs/heads/feature", &upstream.feature),
            remote_ref("refs/heads/main", &upstream.three),
        ]
    );
    assert_eq!(
        find_head(&refs, "feature").map(|head| head.commit.as_str()),
        Some(upstream.feature.as_str())
    );
    assert_eq!(find_head(&refs, "absent"), None);
}

#[test]
fn the_server_is_asked_for_the_named_refs_only() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), None);
    let url = server.url("repo.git");
    assert_eq!(
        resolve(&url, "feature", &no_credentials()),
        upstream.feature
    );
    let commands = server.request_bodies().concat();
    assert!(commands.contains("command=ls-refs"), "{commands}");
    for expected in [
        "ref-prefix refs/heads/feature",
        "ref-prefix refs/tags/feature",
    ] {
        assert!(
            commands.contains(expected),
            "`{expected}` missing from {commands}"
        );
    }
    assert!(!commands.contains("ref-prefix refs/heads/\n"), "{commands}");
    assert!(
        !commands.contains("command=fetch"),
        "listing refs fetches no objects: {commands}"
    );
}

#[test]
fn an_unknown_branch_is_reported_with_the_refs_that_exist() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), None);
    let url = server.url("repo.git");
    for name in ["mian", "refs/heads/mian"] {
        let error = resolve_head(&url, name, &no_credentials()).unwrap_err();
        let message = error.to_string();
        let GitFetchError::UnknownReference { existing, more, .. } = &error else {
            panic!("{name}: {message}");
        };
        assert_eq!(
            existing,
            &names(&[
                "refs/heads/feature",
                "refs/heads/main",
                "refs/tags/light",
                "refs/tags/v1"
            ]),
            "{message}"
        );
        assert_eq!(*more, 0);
        assert!(message.contains(&format!("`{name}`")), "{message}");
        assert!(message.contains(&url), "{message}");
        assert!(message.contains("`refs/heads/main`"), "{message}");
    }
}

#[test]
fn basic_auth_credentials_from_a_secret_list_refs() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), Some(("builder", "t0ken")));
    let url = server.url("repo.git");
    assert_eq!(
        resolve(&url, "main", &secret("builder", "t0ken")),
        upstream.three
    );
}

#[test]
fn wrong_or_missing_credentials_fail_with_an_authentication_error() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), Some(("builder", "t0ken")));
    let url = server.url("repo.git");

    let error = resolve_head(&url, "main", &secret("builder", "not-the-token")).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(
            error,
            GitFetchError::Authentication {
                has_credentials: true,
                ..
            }
        ),
        "{message}"
    );
    assert!(
        message.contains("rejected the mounted git credentials"),
        "{message}"
    );
    assert!(!message.contains("not-the-token"), "{message}");

    let error = ls_remote(&url, &[], &no_credentials()).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(
            error,
            GitFetchError::Authentication {
                has_credentials: false,
                ..
            }
        ),
        "{message}"
    );
}

#[test]
fn credentials_in_a_plain_http_url_to_another_host_are_refused_before_connecting() {
    let url = "http://builder:secret@git.example.invalid/repo.git";
    for error in [
        resolve_head(url, "main", &no_credentials()).unwrap_err(),
        ls_remote(url, &[], &no_credentials()).unwrap_err(),
    ] {
        let message = error.to_string();
        assert!(
            matches!(error, GitFetchError::InsecureCredentials { .. }),
            "{message}"
        );
        assert!(message.contains("https://"), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }
}

#[test]
fn file_urls_list_every_ref_through_git_upload_pack() {
    let upstream = Upstream::create();
    let url = upstream.file_url();
    assert_eq!(resolve(&url, "main", &no_credentials()), upstream.three);
    assert_eq!(resolve(&url, "v1", &no_credentials()), upstream.one);
    let refs = ls_remote(&url, &[], &no_credentials()).unwrap();
    assert_eq!(
        refs,
        [
            remote_ref("HEAD", &upstream.three),
            remote_ref("refs/heads/feature", &upstream.feature),
            remote_ref("refs/heads/main", &upstream.three),
            remote_ref("refs/tags/light", &upstream.three),
            remote_ref("refs/tags/v1", &upstream.one),
        ]
    );
}

#[test]
fn a_missing_repository_or_host_is_reported_as_unreachable() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), None);
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let scratch = TempFolder::new("ls-remote-missing");
    for url in [
        server.url("nope.git"),
        format!("http://127.0.0.1:{port}/repo.git"),
        format!("file://{}", scratch.join("nope.git").display()),
    ] {
        let error = resolve_head(&url, "main", &no_credentials()).unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(error, GitFetchError::Unreachable { .. }),
            "{url}: {message}"
        );
        assert!(message.contains(&url), "{message}");
    }
}

#[test]
fn a_full_commit_sha_resolves_to_itself_without_asking_the_server() {
    let sha = "0123456789ABCDEF0123456789abcdef01234567";
    // No server listens at this URL: resolving must not connect.
    let resolved = resolve_head("http://127.0.0.1:9/repo.git", sha, &no_credentials()).unwrap();
    assert_eq!(resolved, sha.to_ascii_lowercase());
}
