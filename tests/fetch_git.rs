//! `slipway executor fetch git` against real repositories: built with the `git` CLI, served by
//! `git http-backend` over loopback HTTP (with basic auth) and read through `file://`.

mod git_fixture;

use std::path::Path;
use std::process::Command;

use git_fixture::{GitHttpServer, TempFolder, Upstream, commit, commit_count, git};
use slipway::build::source::{
    FetchedSource, GitCredentials, GitFetchError, GitFetchRequest, Revision, fetch_git,
};

fn request(url: &str, revision: &str, depth: u32, destination: &Path) -> GitFetchRequest {
    GitFetchRequest {
        url: url.to_owned(),
        revision: Revision::parse(revision).unwrap(),
        depth,
        submodules: false,
        destination: destination.to_owned(),
        credentials: GitCredentials::default(),
    }
}

fn fetch(url: &str, revision: &str, depth: u32, destination: &Path) -> FetchedSource {
    fetch_git(&request(url, revision, depth, destination))
        .unwrap_or_else(|error| panic!("fetch {revision} from {url}: {error}"))
}

/// Fetches expecting an error that `expected` accepts; returns the error's message.
#[track_caller]
fn fetch_error(request: &GitFetchRequest, expected: fn(&GitFetchError) -> bool) -> String {
    let error = fetch_git(request).unwrap_err();
    let message = error.to_string();
    assert!(expected(&error), "{message}");
    message
}

/// Whether an authentication error had credentials to offer (`None` for other errors).
fn authentication_with_credentials(error: &GitFetchError) -> Option<bool> {
    match error {
        GitFetchError::Authentication {
            has_credentials, ..
        } => Some(*has_credentials),
        _ => None,
    }
}

/// `slipway executor fetch git --url URL ARGS… --to TO --resolved-file RESOLVED`, to run.
fn executor_fetch_git(url: &str, args: &[&str], to: &Path, resolved: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slipway"));
    command
        .args(["executor", "fetch", "git", "--url", url])
        .args(args)
        .arg("--to")
        .arg(to)
        .arg("--resolved-file")
        .arg(resolved);
    command
}

fn version_file(clone: &Path) -> String {
    std::fs::read_to_string(clone.join("version.txt")).unwrap()
}

#[test]
fn fetch_by_full_sha_checks_out_a_commit_that_is_no_tip() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), None);
    let scratch = TempFolder::new("by-sha");
    let clone = scratch.join("src");
    let fetched = fetch(&server.url("repo.git"), &upstream.two, 0, &clone);
    assert_eq!(fetched.commit, upstream.two);
    assert_eq!(version_file(&clone), "two\n");
    assert_eq!(commit_count(&clone), 2, "full history of `two`");
    assert_eq!(git(&clone, &["rev-parse", "HEAD"]), upstream.two);
}

#[test]
fn fetch_by_branch_name_checks_out_the_branch_tip() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), None);
    let scratch = TempFolder::new("by-branch");
    let clone = scratch.join("src");
    let fetched = fetch(&server.url("repo.git"), "feature", 0, &clone);
    assert_eq!(fetched.commit, upstream.feature);
    assert_eq!(
        std::fs::read_to_string(clone.join("feature.txt")).unwrap(),
        "feature\n"
    );
    assert_eq!(version_file(&clone), "one\n");
}

#[test]
fn fetch_by_annotated_tag_resolves_to_the_tagged_commit() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), None);
    let scratch = TempFolder::new("by-tag");
    for (index, revision) in ["v1", "refs/tags/v1"].into_iter().enumerate() {
        let clone = scratch.join(&format!("src{index}"));
        let fetched = fetch(&server.url("repo.git"), revision, 0, &clone);
        assert_eq!(fetched.commit, upstream.one, "revision {revision}");
        assert_eq!(version_file(&clone), "one\n", "revision {revision}");
    }
}

#[test]
fn fetch_by_full_reference_names_branches_and_lightweight_tags() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), None);
    let scratch = TempFolder::new("by-reference");
    let cases = [
        ("refs/heads/main", &upstream.three),
        ("refs/heads/feature", &upstream.feature),
        ("refs/tags/light", &upstream.three),
        ("light", &upstream.three),
    ];
    for (index, (revision, expected)) in cases.into_iter().enumerate() {
        let clone = scratch.join(&format!("src{index}"));
        let fetched = fetch(&server.url("repo.git"), revision, 0, &clone);
        assert_eq!(&fetched.commit, expected, "revision {revision}");
    }
}

#[test]
fn shallow_fetch_gets_depth_commits_and_full_fetch_gets_all() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), None);
    let scratch = TempFolder::new("depth");
    let cases = [
        ("main", 1, 1),
        ("main", 2, 2),
        ("main", 0, 3),
        (upstream.three.as_str(), 1, 1),
        ("refs/heads/main", 1, 1),
    ];
    for (index, (revision, depth, expected)) in cases.into_iter().enumerate() {
        let clone = scratch.join(&format!("src{index}"));
        let fetched = fetch(&server.url("repo.git"), revision, depth, &clone);
        assert_eq!(fetched.commit, upstream.three, "{revision} depth {depth}");
        assert_eq!(
            commit_count(&clone),
            expected,
            "{revision} at depth {depth}"
        );
        assert_eq!(
            clone.join(".git/shallow").exists(),
            depth > 0,
            "{revision} depth {depth}: a shallow clone records its boundary"
        );
    }
}

#[test]
fn unknown_revisions_are_reported_with_url_and_revision() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), None);
    let scratch = TempFolder::new("unknown");
    let url = server.url("repo.git");
    for (index, revision) in [
        "no-such-branch",
        "refs/heads/no-such-branch",
        "0123456789abcdef0123456789abcdef01234567",
    ]
    .into_iter()
    .enumerate()
    {
        let clone = scratch.join(&format!("src{index}"));
        let error = fetch_git(&request(&url, revision, 1, &clone)).unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(error, GitFetchError::UnknownRevision { .. }),
            "{revision}: {message}"
        );
        assert!(message.contains(&url), "{message}");
        assert!(message.contains(revision), "{message}");
        assert!(
            !clone.join(".git").exists(),
            "{revision}: a failed fetch leaves no repository behind"
        );
    }
}

#[test]
fn file_urls_fetch_through_git_upload_pack() {
    let upstream = Upstream::create();
    let scratch = TempFolder::new("file");
    let by_branch = fetch(&upstream.file_url(), "main", 1, &scratch.join("a"));
    assert_eq!(by_branch.commit, upstream.three);
    let by_sha = fetch(&upstream.file_url(), &upstream.two, 0, &scratch.join("b"));
    assert_eq!(by_sha.commit, upstream.two);
    assert_eq!(commit_count(&scratch.join("b")), 2);
}

fn credentials(username: &str, password: &str) -> GitCredentials {
    let folder = TempFolder::new("credentials");
    std::fs::create_dir_all(folder.join("git")).unwrap();
    std::fs::write(folder.join("git/username"), username).unwrap();
    std::fs::write(folder.join("git/password"), format!("{password}\n")).unwrap();
    GitCredentials::load(&folder.0).unwrap()
}

#[test]
fn basic_auth_with_the_right_credentials_fetches() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), Some(("builder", "t0ken")));
    let scratch = TempFolder::new("auth-ok");
    let mut fetch_request = request(&server.url("repo.git"), "main", 1, &scratch.join("src"));
    fetch_request.credentials = credentials("builder", "t0ken");
    let fetched = fetch_git(&fetch_request).unwrap();
    assert_eq!(fetched.commit, upstream.three);
}

#[test]
fn wrong_or_missing_credentials_fail_with_an_authentication_error() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), Some(("builder", "t0ken")));
    let scratch = TempFolder::new("auth-bad");
    let url = server.url("repo.git");

    let mut wrong = request(&url, "main", 1, &scratch.join("wrong"));
    wrong.credentials = credentials("builder", "not-the-token");
    let message = fetch_error(&wrong, |error| {
        authentication_with_credentials(error) == Some(true)
    });
    assert!(
        message.contains("rejected the mounted git credentials"),
        "{message}"
    );
    assert!(!message.contains("not-the-token"), "{message}");

    let missing = request(&url, "main", 1, &scratch.join("missing"));
    let message = fetch_error(&missing, |error| {
        authentication_with_credentials(error) == Some(false)
    });
    assert!(
        message.contains("no git credentials are mounted"),
        "{message}"
    );
}

#[test]
fn credentials_in_the_url_work_and_are_redacted_from_errors() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), Some(("builder", "t0ken")));
    let scratch = TempFolder::new("auth-url");
    let address = server.address;
    let good = format!("http://builder:t0ken@{address}/repo.git");
    assert_eq!(
        fetch(&good, "main", 1, &scratch.join("good")).commit,
        upstream.three
    );

    let bad = format!("http://builder:secret-in-url@{address}/repo.git");
    let message = fetch_git(&request(&bad, "main", 1, &scratch.join("bad")))
        .unwrap_err()
        .to_string();
    assert!(!message.contains("secret-in-url"), "{message}");
    assert!(
        message.contains(&format!("http://***@{address}/repo.git")),
        "{message}"
    );
}

#[test]
fn an_unreachable_host_says_so() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let scratch = TempFolder::new("unreachable");
    let url = format!("http://127.0.0.1:{port}/repo.git");
    let message = fetch_error(&request(&url, "main", 1, &scratch.join("src")), |error| {
        matches!(error, GitFetchError::Unreachable { .. })
    });
    assert!(message.contains(&url), "{message}");
}

#[test]
fn a_missing_repository_is_reported_as_unreachable() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), None);
    let scratch = TempFolder::new("missing-repository");
    let url = server.url("nope.git");
    fetch_error(&request(&url, "main", 1, &scratch.join("src")), |error| {
        matches!(error, GitFetchError::Unreachable { .. })
    });
}

#[test]
fn a_non_empty_destination_is_refused() {
    let upstream = Upstream::create();
    let scratch = TempFolder::new("not-empty");
    std::fs::write(scratch.join("stale.txt"), "old").unwrap();
    fetch_error(
        &request(&upstream.file_url(), "main", 1, &scratch.0),
        |error| matches!(error, GitFetchError::Destination { .. }),
    );
    assert!(scratch.join("stale.txt").exists());
}

#[test]
fn submodules_are_cloned_at_the_recorded_commit_only_when_asked() {
    let library = TempFolder::new("library");
    git(&library.0, &["init", "-q"]);
    let library_first = commit(&library.0, "lib.txt", "lib v1\n", "lib v1");
    let app = TempFolder::new("app");
    git(&app.0, &["init", "-q"]);
    commit(&app.0, "app.txt", "app\n", "app");
    let library_url = format!("file://{}", library.0.display());
    git(
        &app.0,
        &["submodule", "add", "-q", &library_url, "vendor/lib"],
    );
    git(&app.0, &["commit", "-q", "-m", "add lib"]);
    // A later library commit must not be what the superproject gets.
    commit(&library.0, "lib.txt", "lib v2\n", "lib v2");
    let app_url = format!("file://{}", app.0.display());

    let scratch = TempFolder::new("submodules");
    let with = scratch.join("with");
    let mut asked = request(&app_url, "main", 0, &with);
    asked.submodules = true;
    let fetched = fetch_git(&asked).unwrap();
    assert_eq!(fetched.submodules.len(), 1, "{fetched:?}");
    assert_eq!(fetched.submodules[0].path, "vendor/lib");
    assert_eq!(fetched.submodules[0].commit, library_first);
    assert_eq!(
        std::fs::read_to_string(with.join("vendor/lib/lib.txt")).unwrap(),
        "lib v1\n"
    );

    let without = scratch.join("without");
    let fetched = fetch(&app_url, "main", 0, &without);
    assert!(fetched.submodules.is_empty());
    assert!(!without.join("vendor/lib/lib.txt").exists());
}

#[test]
fn executor_fetch_git_writes_the_resolved_file_that_executor_run_exports() {
    let upstream = Upstream::create();
    let server = GitHttpServer::start(&upstream.project_root(), Some(("builder", "t0ken")));
    let scratch = TempFolder::new("end-to-end");
    let credentials_dir = scratch.join("credentials");
    std::fs::create_dir_all(credentials_dir.join("git")).unwrap();
    std::fs::write(credentials_dir.join("git/username"), "builder").unwrap();
    std::fs::write(credentials_dir.join("git/password"), "t0ken").unwrap();
    let source = scratch.join("workspace/src");
    let resolved = scratch.join("workspace/.slipway/resolved-source-version");

    let output = executor_fetch_git(
        &server.url("repo.git"),
        &["--revision", "feature", "--depth", "1"],
        &source,
        &resolved,
    )
    .env("SLIPWAY_EXECUTOR_CREDENTIALS_DIR", &credentials_dir)
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(!stdout.contains("t0ken") && !stderr.contains("t0ken"));
    assert_eq!(
        std::fs::read_to_string(&resolved).unwrap().trim(),
        upstream.feature
    );

    let run = |resolved_file: &Path| {
        let output = Command::new(env!("CARGO_BIN_EXE_slipway"))
            .args(["executor", "run", "--termination-message-path", "-"])
            .args(["--shell", "/bin/sh", "--source"])
            .arg(&source)
            .args([
                "--buildspec-inline",
                "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"resolved=$CODEBUILD_RESOLVED_SOURCE_VERSION\"\n",
            ])
            .args(["--resolved-source-version", "from-the-flag"])
            .env("SLIPWAY_EXECUTOR_RESOLVED_SOURCE_VERSION_FILE", resolved_file)
            .env("SLIPWAY_EXECUTOR_WORK_DIR", scratch.join("work"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let log = run(&resolved);
    assert!(
        log.contains(&format!("resolved={}", upstream.feature)),
        "{log}"
    );
    let log = run(&scratch.join("absent"));
    assert!(log.contains("resolved=from-the-flag"), "{log}");
}

#[test]
fn executor_fetch_git_fails_with_a_message_naming_url_and_revision() {
    let upstream = Upstream::create();
    let scratch = TempFolder::new("end-to-end-failure");
    let output = executor_fetch_git(
        &upstream.file_url(),
        &["--revision", "no-such-branch"],
        &scratch.join("src"),
        &scratch.join("resolved"),
    )
    .args(["--credentials-dir"])
    .arg(scratch.join("none"))
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&upstream.file_url()), "{stderr}");
    assert!(stderr.contains("no-such-branch"), "{stderr}");
    assert!(!scratch.join("resolved").exists());
}

#[test]
fn credentials_in_a_plain_http_url_to_another_host_are_refused_before_connecting() {
    let scratch = TempFolder::new("insecure");
    let url = "http://builder:secret@git.example.invalid/repo.git";
    let message = fetch_error(&request(url, "main", 1, &scratch.join("src")), |error| {
        matches!(error, GitFetchError::InsecureCredentials { .. })
    });
    assert!(message.contains("https://"), "{message}");
    assert!(!message.contains("secret"), "{message}");
}

/// An `ssh` stand-in: logs its arguments and the key it was given, then runs the remote command
/// (`git-upload-pack '<path>'`) locally, as sshd would on the host.
const FAKE_SSH: &str = r#"#!/bin/sh
previous=""
for argument in "$@"; do
  echo "arg $argument" >> "$FAKE_SSH_LOG"
  if [ "$previous" = "-i" ]; then
    echo "key-file $argument" >> "$FAKE_SSH_LOG"
    echo "key-mode $(stat -c %a "$argument")" >> "$FAKE_SSH_LOG"
    echo "key-text $(cat "$argument")" >> "$FAKE_SSH_LOG"
  fi
  previous="$argument"
done
while [ "${1#-}" != "$1" ]; do
  case "$1" in -o|-i|-p) shift 2 ;; *) shift ;; esac
done
shift # user@host
exec sh -c "$*"
"#;

#[test]
fn ssh_urls_run_the_ssh_program_with_a_private_copy_of_the_mounted_key() {
    use std::os::unix::fs::PermissionsExt;
    let upstream = Upstream::create();
    let scratch = TempFolder::new("ssh");
    let bin = scratch.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("ssh"), FAKE_SSH).unwrap();
    std::fs::set_permissions(bin.join("ssh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let credentials_dir = scratch.join("credentials");
    std::fs::create_dir_all(credentials_dir.join("git")).unwrap();
    let key = credentials_dir.join("git/ssh-privatekey");
    std::fs::write(&key, "FAKE KEY").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let log = scratch.join("ssh.log");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let url = format!("ssh://git@git.example.invalid{}", upstream.bare.display());

    let output = executor_fetch_git(
        &url,
        &["--revision", "main", "--depth", "1"],
        &scratch.join("src"),
        &scratch.join("resolved"),
    )
    .arg("--credentials-dir")
    .arg(&credentials_dir)
    .env("PATH", path)
    .env("FAKE_SSH_LOG", &log)
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(scratch.join("resolved"))
            .unwrap()
            .trim(),
        upstream.three
    );
    let log = std::fs::read_to_string(&log).unwrap();
    for expected in [
        "arg BatchMode=yes",
        "arg StrictHostKeyChecking=accept-new",
        "arg git@git.example.invalid",
        "key-mode 600",
        "key-text FAKE KEY",
    ] {
        assert!(log.contains(expected), "`{expected}` missing from:\n{log}");
    }
    let key_copy = log
        .lines()
        .find_map(|line| line.strip_prefix("key-file "))
        .unwrap();
    assert_ne!(Path::new(key_copy), key, "ssh gets a private copy");
    assert!(
        !Path::new(key_copy).exists(),
        "the key copy is removed after the fetch"
    );
}

#[test]
fn ssh_urls_without_an_ssh_program_fail_with_what_to_do() {
    let scratch = TempFolder::new("no-ssh");
    let output = executor_fetch_git(
        "git@git.example.invalid:org/repo.git",
        &["--revision", "main"],
        &scratch.join("src"),
        &scratch.join("resolved"),
    )
    .env("PATH", scratch.join("empty-bin"))
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("SSH URLs need the `ssh` program"),
        "{stderr}"
    );
    assert!(stderr.contains("https://"), "{stderr}");
}
