//! Names of images: the registry host of a repository, the plain-HTTP rule, tag checks and the
//! variables exported for an image output. Pure.
//!
//! # Registry host
//! As Docker reads a reference: the first path component is a registry host when it contains
//! `.` or `:` or is `localhost`; otherwise the image lives on Docker Hub ([`DOCKER_HUB`]).
//!
//! # Plain HTTP
//! The digest is read back over plain HTTP only from loopback registries — `localhost`,
//! `127.0.0.0/8` and `::1` — the same registries the Docker Engine itself treats as insecure by
//! default. Every other registry is reached over HTTPS.

use std::net::IpAddr;

/// Docker Hub's canonical registry name (images without a host, `alpine`, live there).
pub const DOCKER_HUB: &str = "docker.io";

/// Names under which Docker Hub appears in credential files and references.
pub const DOCKER_HUB_ALIASES: [&str; 4] = [
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];

/// The registry host (`host[:port]`) of `repository` (`127.0.0.1:5000/team/app` →
/// `127.0.0.1:5000`; `team/app` → [`DOCKER_HUB`]).
pub fn registry_host(repository: &str) -> String {
    match repository.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => {
            canonical_host(first)
        }
        _ => DOCKER_HUB.to_owned(),
    }
}

/// A registry name as written in a credentials file (`https://index.docker.io/v1/`,
/// `http://127.0.0.1:5000`, `Registry.Example:443`) reduced to the host used for matching:
/// scheme and path removed, lower-cased, Docker Hub's aliases folded into [`DOCKER_HUB`].
pub fn canonical_host(name: &str) -> String {
    let name = name.to_ascii_lowercase();
    let without_scheme = name
        .strip_prefix("https://")
        .or_else(|| name.strip_prefix("http://"))
        .unwrap_or(&name);
    let host = without_scheme
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    if DOCKER_HUB_ALIASES.contains(&host.as_str()) {
        DOCKER_HUB.to_owned()
    } else {
        host
    }
}

/// Whether `host` (`host[:port]`, `[::1]:5000`) is a loopback registry reached over plain HTTP.
pub fn is_loopback_registry(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else if host.matches(':').count() > 1 {
        host // a bare IPv6 address
    } else {
        host.split(':').next().unwrap_or_default()
    };
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether `tag` is a valid Docker tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`).
pub fn is_valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    tag.len() <= 128
        && chars
            .next()
            .is_some_and(|first| first == '_' || first.is_ascii_alphanumeric())
        && chars.all(|c| c == '_' || c == '.' || c == '-' || c.is_ascii_alphanumeric())
}

/// Whether `repository` looks like a repository without tag or digest (lower-case path
/// components, an optional `host[:port]/` first).
pub fn is_valid_repository(repository: &str) -> bool {
    if repository.is_empty() || repository.contains('@') || repository.ends_with('/') {
        return false;
    }
    let host = registry_host(repository);
    let path = if host == DOCKER_HUB && !repository.starts_with("docker.io/") {
        repository
    } else {
        repository.split_once('/').map_or("", |(_, path)| path)
    };
    !path.is_empty()
        && path.split('/').all(|component| {
            !component.is_empty()
                && component.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
                })
                && component
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric())
        })
}

/// The names of the variables exported for an image output named `name`:
/// `IMAGE_<NAME>_URI`, `IMAGE_<NAME>_DIGEST`, `IMAGE_<NAME>_TAG` (`my-web` → `MY_WEB`).
pub fn image_variables(name: &str) -> [String; 3] {
    let upper = name.to_ascii_uppercase().replace('-', "_");
    ["URI", "DIGEST", "TAG"].map(|what| format!("IMAGE_{upper}_{what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_host_follows_docker_reference_rules() {
        for (repository, host) in [
            ("127.0.0.1:5000/team/app", "127.0.0.1:5000"),
            ("localhost/app", "localhost"),
            ("Registry.Example/app", "registry.example"),
            ("team/app", "docker.io"),
            ("alpine", "docker.io"),
            ("index.docker.io/library/alpine", "docker.io"),
            ("[::1]:5000/app", "[::1]:5000"),
        ] {
            assert_eq!(registry_host(repository), host, "{repository}");
        }
    }

    #[test]
    fn credential_keys_reduce_to_their_host() {
        for (key, host) in [
            ("https://index.docker.io/v1/", "docker.io"),
            ("registry-1.docker.io", "docker.io"),
            ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
            ("127.0.0.1:5000", "127.0.0.1:5000"),
            ("HTTPS://Registry.Example:443", "registry.example:443"),
        ] {
            assert_eq!(canonical_host(key), host, "{key}");
        }
    }

    #[test]
    fn only_loopback_registries_use_plain_http() {
        for host in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.10.0.3",
            "[::1]:5000",
            "::1",
        ] {
            assert!(is_loopback_registry(host), "{host}");
        }
        for host in [
            "registry.example",
            "10.0.0.1:5000",
            "128.0.0.1",
            "localhost.example:5000",
            "[::2]:5000",
        ] {
            assert!(!is_loopback_registry(host), "{host}");
        }
    }

    #[test]
    fn tags_are_checked_as_docker_checks_them() {
        for tag in ["latest", "v1.2.3", "_x", "abc-DEF_1"] {
            assert!(is_valid_tag(tag), "{tag}");
        }
        for tag in ["", "-x", ".x", "a b", "a:b", "a/b", &"x".repeat(129)] {
            assert!(!is_valid_tag(tag), "{tag}");
        }
    }

    #[test]
    fn repositories_are_lower_case_paths_without_tag() {
        for repository in ["127.0.0.1:5000/team/app", "alpine", "team/my-app.v2"] {
            assert!(is_valid_repository(repository), "{repository}");
        }
        for repository in ["", "Team/App", "127.0.0.1:5000/", "app@sha256:0", "a//b"] {
            assert!(!is_valid_repository(repository), "{repository}");
        }
    }

    #[test]
    fn image_variables_upper_case_the_name() {
        assert_eq!(
            image_variables("my-web"),
            [
                "IMAGE_MY_WEB_URI",
                "IMAGE_MY_WEB_DIGEST",
                "IMAGE_MY_WEB_TAG"
            ]
        );
    }
}
