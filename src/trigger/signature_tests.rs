use axum::http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;

use super::*;

const SECRET: &[u8] = b"It's a Secret to Everybody";
const BODY: &[u8] = b"Hello, World!";
/// GitHub's documented example: this body signed with this secret.
const GITHUB_EXAMPLE: &str =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| {
            (
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            )
        })
        .collect()
}

fn bare(signature: &str) -> &str {
    signature.strip_prefix("sha256=").unwrap()
}

#[test]
fn sign_matches_githubs_documented_example() {
    assert_eq!(sign(SECRET, BODY), GITHUB_EXAMPLE);
}

#[test]
fn each_provider_accepts_its_own_header() {
    let signed = sign(SECRET, BODY);
    let cases: [(WebhookProvider, Option<&str>, &str, &str); 8] = [
        (
            WebhookProvider::Github,
            None,
            "X-Hub-Signature-256",
            &signed,
        ),
        (WebhookProvider::Bitbucket, None, "X-Hub-Signature", &signed),
        (
            WebhookProvider::Gitea,
            None,
            "X-Gitea-Signature",
            bare(&signed),
        ),
        (
            WebhookProvider::Forgejo,
            None,
            "X-Forgejo-Signature",
            bare(&signed),
        ),
        (
            WebhookProvider::Forgejo,
            None,
            "X-Gitea-Signature",
            bare(&signed),
        ),
        (
            WebhookProvider::Generic,
            None,
            GENERIC_SIGNATURE_HEADER,
            &signed,
        ),
        (
            WebhookProvider::Generic,
            None,
            GENERIC_SIGNATURE_HEADER,
            bare(&signed),
        ),
        (
            WebhookProvider::Generic,
            Some("X-Ci-Sig"),
            "x-ci-sig",
            &signed,
        ),
    ];
    for (provider, custom, name, value) in cases {
        let result = verify(provider, custom, &headers(&[(name, value)]), BODY, SECRET);
        assert_eq!(result, Ok(()), "{provider:?} with {name}");
    }
    let token = headers(&[("X-Gitlab-Token", "It's a Secret to Everybody")]);
    assert_eq!(
        verify(WebhookProvider::Gitlab, None, &token, BODY, SECRET),
        Ok(())
    );
}

#[test]
fn a_changed_body_secret_or_signature_is_a_mismatch() {
    let signed = sign(SECRET, BODY);
    let good = headers(&[("X-Hub-Signature-256", &signed)]);
    let mismatch = Err(SignatureError::Mismatch {
        header: "X-Hub-Signature-256".into(),
    });
    assert_eq!(
        verify(
            WebhookProvider::Github,
            None,
            &good,
            b"Hello, World?",
            SECRET
        ),
        mismatch
    );
    assert_eq!(
        verify(
            WebhookProvider::Github,
            None,
            &good,
            BODY,
            b"It's a secret to everybody"
        ),
        mismatch
    );
    let mut flipped = signed.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
    let flipped = headers(&[(
        "X-Hub-Signature-256",
        std::str::from_utf8(&flipped).unwrap(),
    )]);
    assert_eq!(
        verify(WebhookProvider::Github, None, &flipped, BODY, SECRET),
        mismatch
    );
    let short = headers(&[("X-Hub-Signature-256", &signed[..signed.len() - 2])]);
    assert_eq!(
        verify(WebhookProvider::Github, None, &short, BODY, SECRET),
        mismatch
    );
}

#[test]
fn gitlab_token_must_match_exactly() {
    for wrong in [
        "It's a Secret to Everybod",
        "It's a Secret to Everybodyy",
        "",
        "it's a secret to everybody",
    ] {
        let token = headers(&[("X-Gitlab-Token", wrong)]);
        assert_eq!(
            verify(WebhookProvider::Gitlab, None, &token, BODY, SECRET),
            Err(SignatureError::Mismatch {
                header: "X-Gitlab-Token".into()
            }),
            "{wrong:?}"
        );
    }
}

#[test]
fn an_empty_secret_never_verifies() {
    let token = headers(&[("X-Gitlab-Token", "")]);
    assert_eq!(
        verify(WebhookProvider::Gitlab, None, &token, BODY, b""),
        Err(SignatureError::EmptySecret)
    );
    let signed = headers(&[("X-Hub-Signature-256", &sign(b"", BODY))]);
    assert_eq!(
        verify(WebhookProvider::Github, None, &signed, BODY, b""),
        Err(SignatureError::EmptySecret)
    );
}

#[test]
fn another_providers_header_is_missing_not_accepted() {
    let signed = sign(SECRET, BODY);
    let github = headers(&[("X-Hub-Signature-256", &signed)]);
    for provider in [
        WebhookProvider::Gitea,
        WebhookProvider::Bitbucket,
        WebhookProvider::Gitlab,
        WebhookProvider::Generic,
    ] {
        let error = verify(provider, None, &github, BODY, SECRET).unwrap_err();
        assert!(
            matches!(error, SignatureError::Missing { .. }),
            "{provider:?}: {error}"
        );
    }
    // A generic Pipeline that names its header does not fall back to the default one.
    let default = headers(&[(GENERIC_SIGNATURE_HEADER, &signed)]);
    let error = verify(
        WebhookProvider::Generic,
        Some("X-Ci-Sig"),
        &default,
        BODY,
        SECRET,
    )
    .unwrap_err();
    assert_eq!(
        error,
        SignatureError::Missing {
            header: "X-Ci-Sig".into()
        }
    );
    assert!(error.to_string().contains("X-Ci-Sig"));
}

#[test]
fn the_prefix_rules_are_each_providers_own() {
    let signed = sign(SECRET, BODY);
    // GitHub and Bitbucket need `sha256=`: a bare hex (or the legacy sha1) is malformed.
    for value in [bare(&signed).to_owned(), format!("sha1={}", bare(&signed))] {
        let error = verify(
            WebhookProvider::Github,
            None,
            &headers(&[("X-Hub-Signature-256", &value)]),
            BODY,
            SECRET,
        )
        .unwrap_err();
        assert!(
            matches!(error, SignatureError::Malformed { .. }),
            "{value}: {error}"
        );
    }
    // Gitea sends bare hex: a prefixed value is not hex.
    let error = verify(
        WebhookProvider::Gitea,
        None,
        &headers(&[("X-Gitea-Signature", &signed)]),
        BODY,
        SECRET,
    )
    .unwrap_err();
    assert!(matches!(error, SignatureError::Malformed { .. }), "{error}");
}

#[test]
fn errors_never_echo_the_signature_or_secret() {
    let signed = sign(SECRET, BODY);
    let wrong = sign(b"other", BODY);
    let errors = [
        verify(
            WebhookProvider::Github,
            None,
            &headers(&[("X-Hub-Signature-256", &wrong)]),
            BODY,
            SECRET,
        ),
        verify(
            WebhookProvider::Gitea,
            None,
            &headers(&[("X-Gitea-Signature", "zz-not-hex")]),
            BODY,
            SECRET,
        ),
        verify(
            WebhookProvider::Gitlab,
            None,
            &headers(&[("X-Gitlab-Token", "guess")]),
            BODY,
            SECRET,
        ),
    ];
    for error in errors {
        let message = error.unwrap_err().to_string();
        for secretish in [
            bare(&signed),
            bare(&wrong),
            "zz-not-hex",
            "guess",
            "Secret to Everybody",
        ] {
            assert!(!message.contains(secretish), "{message}");
        }
    }
}

#[test]
fn delivery_ids_come_from_each_providers_header() {
    let all = headers(&[
        ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        ("X-Gitea-Delivery", "gitea-1"),
        ("X-Forgejo-Delivery", "forgejo-1"),
        ("X-Request-UUID", "bitbucket-1"),
        ("X-Gitlab-Event-UUID", "gitlab-1"),
        (GENERIC_DELIVERY_HEADER, "generic-1"),
    ]);
    let cases = [
        (
            WebhookProvider::Github,
            "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        ),
        (WebhookProvider::Gitea, "gitea-1"),
        (WebhookProvider::Forgejo, "forgejo-1"),
        (WebhookProvider::Bitbucket, "bitbucket-1"),
        (WebhookProvider::Gitlab, "gitlab-1"),
        (WebhookProvider::Generic, "generic-1"),
    ];
    for (provider, id) in cases {
        assert_eq!(
            delivery_id(provider, &all).as_deref(),
            Some(id),
            "{provider:?}"
        );
    }
    let gitea_only = headers(&[("X-Gitea-Delivery", "gitea-1")]);
    assert_eq!(
        delivery_id(WebhookProvider::Forgejo, &gitea_only).as_deref(),
        Some("gitea-1")
    );
}

#[test]
fn unusable_delivery_ids_are_none() {
    let long = "a".repeat(MAX_DELIVERY_ID + 1);
    for value in ["", "   ", "has space", long.as_str()] {
        let map = headers(&[("X-GitHub-Delivery", value)]);
        assert_eq!(
            delivery_id(WebhookProvider::Github, &map),
            None,
            "{value:?}"
        );
    }
    assert_eq!(
        delivery_id(WebhookProvider::Github, &HeaderMap::new()),
        None
    );
}

proptest! {
    /// Random bodies, secrets and signature values never panic, and never verify unless the
    /// signature is the body's HMAC under the secret.
    #[test]
    fn random_signatures_never_verify(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        secret in proptest::collection::vec(any::<u8>(), 0..64),
        value in "[ -~]{0,80}",
        provider in prop_oneof![
            Just(WebhookProvider::Github),
            Just(WebhookProvider::Bitbucket),
            Just(WebhookProvider::Gitea),
            Just(WebhookProvider::Forgejo),
            Just(WebhookProvider::Gitlab),
            Just(WebhookProvider::Generic),
        ],
    ) {
        let mut map = HeaderMap::new();
        for name in ["X-Hub-Signature-256", "X-Hub-Signature", "X-Gitea-Signature", "X-Forgejo-Signature", "X-Gitlab-Token", GENERIC_SIGNATURE_HEADER] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                map.insert(HeaderName::from_static(name_lower(name)), value);
            }
        }
        let accepted = verify(provider, None, &map, &body, &secret).is_ok();
        let genuine = !secret.is_empty()
            && (value.as_bytes() == secret.as_slice() && provider == WebhookProvider::Gitlab
                || value.trim().eq_ignore_ascii_case(&sign(&secret, &body))
                || value.trim().eq_ignore_ascii_case(bare(&sign(&secret, &body))));
        prop_assert!(!accepted || genuine);
    }
}

fn name_lower(name: &'static str) -> &'static str {
    match name {
        "X-Hub-Signature-256" => "x-hub-signature-256",
        "X-Hub-Signature" => "x-hub-signature",
        "X-Gitea-Signature" => "x-gitea-signature",
        "X-Forgejo-Signature" => "x-forgejo-signature",
        "X-Gitlab-Token" => "x-gitlab-token",
        _ => "x-slipway-signature-256",
    }
}
