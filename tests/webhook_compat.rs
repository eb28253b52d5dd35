//! The webhook compatibility corpus: every real-world delivery in `../shared/compat/webhooks/`
//! is rebuilt as a request from its payload file and the `.headers` file beside it, verified with
//! the sender's secret and parsed into the event a trigger filter reads. One byte changed in the
//! body, the signature or the secret is refused, and so is a delivery read as another provider's.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use slipway::api::pipeline::WebhookProvider;
use slipway::trigger::event::{EventKind, PullRequestAction, SourceEvent};
use slipway::trigger::{payload, signature};

/// What a corpus file must parse into.
struct Expected {
    file: &'static str,
    provider: WebhookProvider,
    /// The sender's secret, as the payload's source repository documents it; `None` when the
    /// sample carries no signature (Bitbucket's), so the test signs it with its own.
    secret: Option<&'static str>,
    /// The payload's final newline is not part of what the sender signed.
    signed_without_final_newline: bool,
    kind: EventKind,
    commit: &'static str,
    changed_files: Option<&'static [&'static str]>,
    actor: Option<&'static str>,
    repository: &'static str,
}

fn corpus() -> Vec<Expected> {
    vec![
        Expected {
            file: "go-playground__webhooks__testdata_github_push",
            provider: WebhookProvider::Github,
            secret: Some("IsWishesWereHorsesWedAllBeEatingSteak!"),
            signed_without_final_newline: false,
            kind: EventKind::Push {
                branch: "master".into(),
                deleted: false,
            },
            commit: "fd489864e7642b48eaad6e3f155c10e46810ec72",
            changed_files: Some(&[
                ".razorops.yaml",
                "app/controllers/application_controller.rb",
            ]),
            actor: Some("binkkatal"),
            repository: "binkkatal/sample_app",
        },
        Expected {
            file: "go-playground__webhooks__testdata_github_pull-request",
            provider: WebhookProvider::Github,
            secret: Some("IsWishesWereHorsesWedAllBeEatingSteak!"),
            signed_without_final_newline: false,
            kind: EventKind::PullRequest {
                action: PullRequestAction::Open,
                number: Some(2),
                source_branch: "changes".into(),
                target_branch: "master".into(),
            },
            commit: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
            changed_files: None,
            actor: Some("Codertocat"),
            repository: "Codertocat/Hello-World",
        },
        Expected {
            file: "go-playground__webhooks__testdata_gitlab_push-event",
            provider: WebhookProvider::Gitlab,
            secret: Some("sampleToken!"),
            signed_without_final_newline: false,
            kind: EventKind::Push {
                branch: "master".into(),
                deleted: false,
            },
            commit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
            changed_files: Some(&["CHANGELOG", "app/controller/application.rb"]),
            actor: Some("John Smith"),
            repository: "mike/diaspora",
        },
        Expected {
            file: "go-playground__webhooks__testdata_gitlab_tag-event",
            provider: WebhookProvider::Gitlab,
            secret: Some("sampleToken!"),
            signed_without_final_newline: false,
            kind: EventKind::Tag {
                tag: "v1.0.0".into(),
                deleted: false,
            },
            commit: "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
            changed_files: Some(&[]),
            actor: Some("jsmith"),
            repository: "jsmith/example",
        },
        Expected {
            file: "go-playground__webhooks__testdata_bitbucket_repo-push",
            provider: WebhookProvider::Bitbucket,
            secret: None,
            signed_without_final_newline: false,
            kind: EventKind::Push {
                branch: "name-of-branch".into(),
                deleted: false,
            },
            commit: "709d658dc5b6d6afcd46049c2f332ee3f515a67d",
            changed_files: None,
            actor: Some("Emma"),
            repository: "team_name/repo_name",
        },
        Expected {
            file: "keyporttech__gitea-tekton-interceptor__testEvent",
            provider: WebhookProvider::Gitea,
            secret: Some("TmobileSucks!"),
            signed_without_final_newline: true,
            kind: EventKind::Push {
                branch: "master".into(),
                deleted: false,
            },
            commit: "16b1a0961aa1bd89feb36dd4b86c3a7215c21c91",
            changed_files: Some(&["README.md"]),
            actor: Some("jfelten"),
            repository: "keyporttech/gitea-tektoncd-event-interceptor",
        },
    ]
}

const TEST_SECRET: &str = "a test secret for unsigned samples";

fn folder() -> PathBuf {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/compat/webhooks");
    assert!(
        folder.is_dir(),
        "the webhook compatibility corpus is missing: expected {} (the shared/ folder must sit beside the repository)",
        folder.display()
    );
    folder
}

/// The headers a `.headers` file lists, one `Name: value` per line.
fn headers(path: &Path) -> HeaderMap {
    let text = std::fs::read_to_string(path).unwrap();
    let mut map = HeaderMap::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let (name, value) = line.split_once(':').unwrap();
        map.insert(
            HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            HeaderValue::from_str(value.trim()).unwrap(),
        );
    }
    map
}

/// The request a sender made for `case`: its body bytes, its headers and its secret.
fn request(case: &Expected) -> (Vec<u8>, HeaderMap, String) {
    let folder = folder();
    let mut body = std::fs::read(folder.join(format!("{}.json", case.file))).unwrap();
    if case.signed_without_final_newline && body.last() == Some(&b'\n') {
        body.pop();
    }
    let mut headers = headers(&folder.join(format!("{}.headers", case.file)));
    let secret = match case.secret {
        Some(secret) => secret.to_owned(),
        None => {
            headers.insert(
                "X-Hub-Signature",
                HeaderValue::from_str(&signature::sign(TEST_SECRET.as_bytes(), &body)).unwrap(),
            );
            TEST_SECRET.to_owned()
        }
    };
    (body, headers, secret)
}

fn verify(provider: WebhookProvider, headers: &HeaderMap, body: &[u8], secret: &str) -> bool {
    signature::verify(provider, None, headers, body, secret.as_bytes()).is_ok()
}

#[test]
fn every_corpus_file_has_a_case() {
    let mut files = BTreeSet::new();
    for entry in std::fs::read_dir(folder()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = name.strip_suffix(".json") {
            files.insert(stem.to_owned());
        }
    }
    let covered: BTreeSet<String> = corpus().iter().map(|c| c.file.to_owned()).collect();
    assert_eq!(
        files, covered,
        "every payload in the corpus is a case here, and every case is in the corpus"
    );
}

#[test]
fn every_delivery_verifies_with_its_secret_and_parses_into_its_event() {
    for case in corpus() {
        let (body, headers, secret) = request(&case);
        signature::verify(case.provider, None, &headers, &body, secret.as_bytes())
            .unwrap_or_else(|error| panic!("{}: {error}", case.file));
        let event: SourceEvent = payload::parse(case.provider, &headers, &body)
            .unwrap_or_else(|error| panic!("{}: {error}", case.file));
        assert_eq!(event.kind, case.kind, "{}", case.file);
        assert_eq!(event.commit.as_deref(), Some(case.commit), "{}", case.file);
        assert_eq!(
            event.changed_files,
            case.changed_files
                .map(|files| files.iter().map(|f| f.to_string()).collect()),
            "{}",
            case.file
        );
        assert_eq!(event.actor.as_deref(), case.actor, "{}", case.file);
        assert_eq!(
            event.repository.as_deref(),
            Some(case.repository),
            "{}",
            case.file
        );
    }
}

#[test]
fn one_byte_changed_in_body_signature_or_secret_is_refused() {
    for case in corpus() {
        let (body, headers, secret) = request(&case);
        assert!(
            verify(case.provider, &headers, &body, &secret),
            "{}",
            case.file
        );
        if case.provider != WebhookProvider::Gitlab {
            // GitLab's token does not cover the body; every other provider's signature does.
            for position in [0, body.len() / 2, body.len() - 1] {
                let mut changed = body.clone();
                changed[position] ^= 0x01;
                assert!(
                    !verify(case.provider, &headers, &changed, &secret),
                    "{}: body byte {position} changed",
                    case.file
                );
            }
        }
        let mut wrong_secret = secret.clone().into_bytes();
        wrong_secret[0] ^= 0x01;
        assert!(
            !verify(
                case.provider,
                &headers,
                &body,
                std::str::from_utf8(&wrong_secret).unwrap()
            ),
            "{}: secret changed",
            case.file
        );
        let signature_header = match case.provider {
            WebhookProvider::Github => "X-Hub-Signature-256",
            WebhookProvider::Gitlab => "X-Gitlab-Token",
            WebhookProvider::Bitbucket => "X-Hub-Signature",
            _ => "X-Gitea-Signature",
        };
        let value = headers[signature_header].to_str().unwrap().to_owned();
        let mut bytes = value.into_bytes();
        let last = bytes.len() - 1;
        // Keep it a hex digit (or a printable byte) so the change is a mismatch, not a format error.
        bytes[last] = if bytes[last] == b'0' { b'1' } else { b'0' };
        let mut changed = headers.clone();
        changed.insert(
            HeaderName::from_bytes(signature_header.as_bytes()).unwrap(),
            HeaderValue::from_bytes(&bytes).unwrap(),
        );
        let error = signature::verify(case.provider, None, &changed, &body, secret.as_bytes())
            .expect_err(case.file);
        assert!(
            matches!(error, signature::SignatureError::Mismatch { .. }),
            "{}: {error}",
            case.file
        );
    }
}

#[test]
fn a_delivery_read_as_another_provider_is_refused() {
    let providers = [
        WebhookProvider::Github,
        WebhookProvider::Gitlab,
        WebhookProvider::Bitbucket,
        WebhookProvider::Gitea,
        WebhookProvider::Generic,
    ];
    for case in corpus() {
        let (body, headers, secret) = request(&case);
        for provider in providers {
            let same_proof = provider == case.provider
                // Forgejo also accepts Gitea's header; no other pair shares one.
                || (case.provider == WebhookProvider::Gitea && provider == WebhookProvider::Forgejo);
            if same_proof {
                continue;
            }
            assert!(
                !verify(provider, &headers, &body, &secret),
                "{} verified as {provider:?}",
                case.file
            );
        }
    }
}

#[test]
fn an_unsigned_delivery_is_refused_and_names_the_missing_header() {
    for case in corpus() {
        let (body, mut headers, secret) = request(&case);
        for name in [
            "X-Hub-Signature-256",
            "X-Hub-Signature",
            "X-Gitlab-Token",
            "X-Gitea-Signature",
        ] {
            headers.remove(name);
        }
        let error = signature::verify(case.provider, None, &headers, &body, secret.as_bytes())
            .expect_err(case.file);
        assert!(
            matches!(error, signature::SignatureError::Missing { .. }),
            "{}: {error}",
            case.file
        );
        // No secret configured: nothing verifies, not even a correctly signed delivery.
        let (body, headers, _) = request(&case);
        assert_eq!(
            signature::verify(case.provider, None, &headers, &body, b""),
            Err(signature::SignatureError::EmptySecret),
            "{}",
            case.file
        );
    }
}
