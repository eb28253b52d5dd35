//! Resolving the revision a run without a pinned commit builds: the head of the pipeline's git
//! branch (or the run's `branchName`/`tagName`), the digest behind an image source's tag, or the
//! version of an object-store source's object.
//!
//! The source's credentials Secret is read here (the controller's only reason to read a git
//! token); its values never reach status, Events or logs. Failures say what kind they are
//! ([`SourceFailure`]), which the Pipeline's `SourceAvailable` condition reports.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

use crate::api::execution::SourceRevision;
use crate::api::pipeline::PipelineSpec;
use crate::build::source::{GitCredentials, GitFetchError, resolve_head};

/// Why a source cannot be read, in the `SourceAvailable` condition's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFailure {
    /// The host refused the credentials (or asked for some and none were given).
    Unauthorized,
    /// The host has no such repository, branch, tag or image.
    NotFound,
    /// The host cannot be reached, or answered with an error.
    Unreachable,
}

impl SourceFailure {
    /// The condition reason.
    pub fn reason(self) -> &'static str {
        match self {
            SourceFailure::Unauthorized => "Unauthorized",
            SourceFailure::NotFound => "NotFound",
            SourceFailure::Unreachable => "Unreachable",
        }
    }
}

/// A source that cannot be read: what kind of failure, and the host's words (URLs redacted).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SourceError {
    /// The kind of failure.
    pub failure: SourceFailure,
    /// For people.
    pub message: String,
}

impl SourceError {
    fn new(failure: SourceFailure, message: impl Into<String>) -> Self {
        SourceError {
            failure,
            message: message.into(),
        }
    }
}

/// Resolves source revisions (the git and registry clients it needs are made per call).
#[derive(Clone, Default)]
pub struct SourceResolver;

impl SourceResolver {
    /// The revision to run: `Err` with a message for people when it cannot be resolved.
    ///
    /// # Errors
    /// [`SourceError`] naming the kind of failure and the host's words.
    pub async fn resolve(
        &self,
        client: &Client,
        namespace: &str,
        spec: &PipelineSpec,
        given: Option<&SourceRevision>,
    ) -> Result<SourceRevision, SourceError> {
        if let Some(git) = &spec.source.git {
            let reference = given
                .and_then(|source| {
                    source
                        .tag_name
                        .clone()
                        .map(|tag| format!("refs/tags/{tag}"))
                })
                .or_else(|| given.and_then(|source| source.branch_name.clone()))
                .unwrap_or_else(|| git.branch.clone());
            let secret = match &git.credentials_secret {
                Some(reference) => Some(read_secret(client, namespace, &reference.name).await?),
                None => None,
            };
            let url = git.url.clone();
            let commit =
                tokio::task::spawn_blocking(move || git_head(&url, &reference, secret.as_ref()))
                    .await
                    .map_err(|error| {
                        SourceError::new(
                            SourceFailure::Unreachable,
                            format!("unable to resolve the source revision: {error}"),
                        )
                    })??;
            return Ok(SourceRevision {
                commit_id: Some(commit),
                ..SourceRevision::default()
            });
        }
        if let Some(image) = &spec.source.image {
            let tag = given
                .and_then(|source| source.image_tag.clone())
                .unwrap_or_else(|| image.tag.clone());
            let auth = match &image.credentials_secret {
                Some(reference) => registry_auth(
                    &read_secret(client, namespace, &reference.name).await?,
                    &image.repository,
                )?,
                None => oci_client::secrets::RegistryAuth::Anonymous,
            };
            let digest =
                crate::build::image::digest::fetch_manifest_digest(&image.repository, &tag, &auth)
                    .await
                    .map_err(|error| {
                        let message = format!(
                            "unable to resolve spec.source.image {}:{tag}: {error}",
                            image.repository
                        );
                        SourceError::new(registry_failure(&message), message)
                    })?;
            return Ok(SourceRevision {
                image_uri: Some(format!("{}@{digest}", image.repository)),
                image_digest: Some(digest),
                image_tag: Some(tag),
                ..SourceRevision::default()
            });
        }
        if let Some(object) = &spec.source.object_store {
            if let Some(version) = given.and_then(|source| source.object_version.clone()) {
                return Ok(SourceRevision {
                    object_version: Some(version),
                    ..SourceRevision::default()
                });
            }
            let secret = match &object.credentials_secret {
                Some(reference) => Some(read_secret(client, namespace, &reference.name).await?),
                None => None,
            };
            return Ok(SourceRevision {
                object_version: Some(object_version(object, secret.as_ref()).await?),
                ..SourceRevision::default()
            });
        }
        Err(SourceError::new(
            SourceFailure::NotFound,
            "spec.source names no git, image or objectStore source",
        ))
    }
}

impl SourceResolver {
    /// The source's head now, for the poll and the connection check (at most [`CHECK_TIMEOUT`]).
    pub async fn check(
        &self,
        client: &Client,
        namespace: &str,
        spec: &PipelineSpec,
    ) -> crate::trigger::poll::SourceCheck {
        use crate::trigger::poll::SourceCheck;
        match tokio::time::timeout(CHECK_TIMEOUT, self.resolve(client, namespace, spec, None)).await
        {
            Ok(Ok(mut head)) => {
                if let Some(git) = &spec.source.git {
                    head.branch_name = Some(git.branch.clone());
                }
                SourceCheck::Head(Box::new(head))
            }
            Ok(Err(error)) => SourceCheck::Failed(error),
            Err(_) => SourceCheck::Failed(SourceError::new(
                SourceFailure::Unreachable,
                format!(
                    "the source did not answer within {} seconds",
                    CHECK_TIMEOUT.as_secs()
                ),
            )),
        }
    }
}

/// How long a source check may take.
pub const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The raw data of Secret `name` (values are used, never shown).
async fn read_secret(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<SecretData, SourceError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = api
        .get_opt(name)
        .await
        .map_err(|error| {
            SourceError::new(
                SourceFailure::Unreachable,
                format!("unable to read the source's credentials Secret {name}: {error}"),
            )
        })?
        .ok_or_else(|| {
            SourceError::new(
                SourceFailure::Unauthorized,
                format!(
                    "the source's credentials Secret {name} does not exist (the credentialsSecret of spec.source)"
                ),
            )
        })?;
    Ok(SecretData {
        name: name.to_owned(),
        values: secret
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(key, value)| (key, value.0))
            .collect(),
    })
}

/// The pull credentials for `repository`'s registry in a `kubernetes.io/dockerconfigjson`
/// Secret; anonymous when it names other registries only.
fn registry_auth(
    secret: &SecretData,
    repository: &str,
) -> Result<oci_client::secrets::RegistryAuth, SourceError> {
    use crate::build::image::credentials::{DOCKER_CONFIG_KEY, DockerConfig};
    let origin = format!(
        "Secret {} (spec.source.image.credentialsSecret)",
        secret.name
    );
    let text = secret
        .values
        .get(DOCKER_CONFIG_KEY)
        .and_then(|value| std::str::from_utf8(value).ok())
        .ok_or_else(|| {
            SourceError::new(
                SourceFailure::Unauthorized,
                format!("{origin} has no {DOCKER_CONFIG_KEY} key: create it with kubectl create secret docker-registry"),
            )
        })?;
    let config = DockerConfig::parse(text, std::path::Path::new(&origin))
        .map_err(|error| SourceError::new(SourceFailure::Unauthorized, error.to_string()))?;
    Ok(config.registry_auth(&crate::build::image::reference::registry_host(repository)))
}

/// The version of `object` now: its S3 version id, or else its ETag.
async fn object_version(
    object: &crate::api::pipeline::ObjectSource,
    secret: Option<&SecretData>,
) -> Result<String, SourceError> {
    use crate::build::artifacts::object::{StoreCredentials, open_store, split_location};
    use object_store::ObjectStoreExt;
    let config = |message: String| SourceError::new(SourceFailure::NotFound, message);
    let (store_url, key) = split_location(&object.url).map_err(|e| config(e.to_string()))?;
    let settings = crate::api::common::ObjectArtifactStore {
        url: store_url,
        endpoint: object.endpoint.clone(),
        region: object.region.clone(),
        ..Default::default()
    };
    let empty = BTreeMap::new();
    let origin = secret.map_or_else(String::new, |secret| {
        format!(
            "Secret {} (spec.source.objectStore.credentialsSecret)",
            secret.name
        )
    });
    let credentials = StoreCredentials::Values {
        origin: &origin,
        values: secret.map_or(&empty, |secret| &secret.values),
    };
    let opened = open_store(&settings, &credentials)
        .map_err(|error| SourceError::new(SourceFailure::Unauthorized, error.to_string()))?;
    let meta = opened
        .store
        .head(&object_store::path::Path::from(key))
        .await
        .map_err(|error| {
            let failure = match &error {
                object_store::Error::NotFound { .. } => SourceFailure::NotFound,
                object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. } => SourceFailure::Unauthorized,
                _ => SourceFailure::Unreachable,
            };
            SourceError::new(
                failure,
                format!(
                    "unable to read spec.source.objectStore {}: {}",
                    object.url,
                    crate::build::artifacts::store::describe_error(&error)
                ),
            )
        })?;
    meta.version
        .or(meta.e_tag)
        .map(|version| version.trim_matches('"').to_owned())
        .filter(|version| !version.is_empty())
        .ok_or_else(|| {
            SourceError::new(
                SourceFailure::Unreachable,
                format!(
                    "the store answered for {} with neither a version id nor an ETag",
                    object.url
                ),
            )
        })
}

/// A Secret's name and raw values.
struct SecretData {
    name: String,
    values: BTreeMap<String, Vec<u8>>,
}

/// The commit `reference` (a branch, tag or `refs/…` name) of `url` points at.
fn git_head(
    url: &str,
    reference: &str,
    secret: Option<&SecretData>,
) -> Result<String, SourceError> {
    let credentials = match secret {
        Some(secret) => GitCredentials::from_secret_values(
            &format!("Secret {}", secret.name),
            secret.values.get("username").map(Vec::as_slice),
            secret.values.get("password").map(Vec::as_slice),
        )
        .map_err(|error| SourceError::new(SourceFailure::Unauthorized, error.to_string()))?,
        None => GitCredentials::default(),
    };
    resolve_head(url, reference, &credentials)
        .map_err(|error| SourceError::new(git_failure(&error), error.to_string()))
}

/// The kind of a git failure.
fn git_failure(error: &GitFetchError) -> SourceFailure {
    match error {
        GitFetchError::Authentication { .. } | GitFetchError::InsecureCredentials { .. } => {
            SourceFailure::Unauthorized
        }
        GitFetchError::UnknownReference { .. } | GitFetchError::UnknownRevision { .. } => {
            SourceFailure::NotFound
        }
        GitFetchError::Unreachable { detail, .. } if mentions_not_found(detail) => {
            SourceFailure::NotFound
        }
        _ => SourceFailure::Unreachable,
    }
}

/// The kind of a registry failure, read from the registry's words (oci-client gives no codes).
fn registry_failure(message: &str) -> SourceFailure {
    let lower = message.to_ascii_lowercase();
    if ["401", "403", "unauthorized", "not authorized", "denied"]
        .iter()
        .any(|word| lower.contains(word))
    {
        SourceFailure::Unauthorized
    } else if mentions_not_found(&lower) || lower.contains("manifest_unknown") {
        SourceFailure::NotFound
    } else {
        SourceFailure::Unreachable
    }
}

fn mentions_not_found(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("404") || lower.contains("not found")
}
