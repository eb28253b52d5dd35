//! The layer cache that survives between builds lives in the registry.
//!
//! A build pod's Docker daemon is a sidecar with an `emptyDir` for `/var/lib/docker`: it starts
//! empty and is gone when the pod ends, so nothing local survives. What does survive is what
//! earlier builds pushed. Before building, the executor pulls (best effort) the repository's
//! cache candidates — this build's own tags, then `latest` ([`cache_candidates`]) — and passes
//! those it got as `cachefrom`; the classic builder then reuses every layer whose instruction
//! and inputs match ("Using cache" in the log). To get cache hits across commits, push a stable
//! tag such as `latest` along with the commit tag. A candidate that does not exist (the first
//! build) or cannot be pulled is logged and skipped; it never fails the build.

use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::CreateImageOptions;
use futures::StreamExt;

use super::error::docker_message;

/// The tag every build also tries as a cache source.
pub const CACHE_TAG: &str = "latest";

/// The references tried as cache sources for `repository` built with `tags`, in order, once each.
pub fn cache_candidates(repository: &str, tags: &[String]) -> Vec<String> {
    let mut candidates: Vec<String> = Vec::new();
    for tag in tags.iter().map(String::as_str).chain([CACHE_TAG]) {
        let reference = format!("{repository}:{tag}");
        if !candidates.contains(&reference) {
            candidates.push(reference);
        }
    }
    candidates
}

/// Pulls each candidate; returns those now in the engine. Failures are reported to `output`.
pub async fn pull_cache_sources(
    docker: &Docker,
    candidates: &[String],
    credentials: Option<DockerCredentials>,
    output: &dyn Fn(&str),
) -> Vec<String> {
    let mut pulled = Vec::new();
    for reference in candidates {
        let options = CreateImageOptions {
            from_image: Some(reference.clone()),
            ..CreateImageOptions::default()
        };
        let mut stream = docker.create_image(Some(options), None, credentials.clone());
        let mut failure = None;
        while let Some(item) = stream.next().await {
            if let Err(error) = item {
                failure.get_or_insert(docker_message(&error));
            }
        }
        match failure {
            None => {
                output(&format!("Layer cache: using {reference}"));
                pulled.push(reference.clone());
            }
            Some(message) => output(&format!("Layer cache: {reference} not used ({message})")),
        }
    }
    pulled
}

#[cfg(test)]
mod tests {
    use super::cache_candidates;

    #[test]
    fn candidates_are_the_build_tags_then_latest_once_each() {
        assert_eq!(
            cache_candidates(
                "r/app",
                &["abc1234".into(), "latest".into(), "abc1234".into()]
            ),
            ["r/app:abc1234", "r/app:latest"]
        );
        assert_eq!(
            cache_candidates("r/app", &["v1".into()]),
            ["r/app:v1", "r/app:latest"]
        );
    }
}
