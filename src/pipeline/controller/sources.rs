//! Resolving the revision a run without a pinned commit builds: the head of the pipeline's git
//! branch (or the run's `branchName`/`tagName`), or the digest behind an image source's tag.
//!
//! The source's credentials Secret is read here (the controller's only reason to read a git
//! token); its values never reach status, Events or logs.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

use crate::api::execution::SourceRevision;
use crate::api::pipeline::PipelineSpec;
use crate::build::source::{GitCredentials, resolve_head};

/// Resolves source revisions (the git and registry clients it needs are made per call).
#[derive(Clone, Default)]
pub struct SourceResolver;

impl SourceResolver {
    /// The revision to run: `Err` with a message for people when it cannot be resolved.
    pub async fn resolve(
        &self,
        client: &Client,
        namespace: &str,
        spec: &PipelineSpec,
        given: Option<&SourceRevision>,
    ) -> Result<SourceRevision, String> {
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
                    .map_err(|error| format!("unable to resolve the source revision: {error}"))??;
            return Ok(SourceRevision {
                commit_id: Some(commit),
                ..SourceRevision::default()
            });
        }
        if let Some(image) = &spec.source.image {
            let tag = given
                .and_then(|source| source.image_tag.clone())
                .unwrap_or_else(|| image.tag.clone());
            let digest = crate::build::image::digest::fetch_manifest_digest(
                &image.repository,
                &tag,
                &oci_client::secrets::RegistryAuth::Anonymous,
            )
            .await
            .map_err(|error| {
                format!(
                    "unable to resolve spec.source.image {}:{tag}: {error}",
                    image.repository
                )
            })?;
            return Ok(SourceRevision {
                image_uri: Some(format!("{}@{digest}", image.repository)),
                image_digest: Some(digest),
                image_tag: Some(tag),
                ..SourceRevision::default()
            });
        }
        Err("an objectStore source has no head to resolve here: start the run with spec.source.objectVersion set".into())
    }
}

/// The raw data of Secret `name` (values are used, never shown).
async fn read_secret(client: &Client, namespace: &str, name: &str) -> Result<SecretData, String> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = api
        .get_opt(name)
        .await
        .map_err(|error| format!("unable to read the source's credentials Secret {name}: {error}"))?
        .ok_or_else(|| format!("the source's credentials Secret {name} does not exist (spec.source.git.credentialsSecret)"))?;
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

/// A Secret's name and raw values.
struct SecretData {
    name: String,
    values: BTreeMap<String, Vec<u8>>,
}

/// The commit `reference` (a branch, tag or `refs/…` name) of `url` points at.
fn git_head(url: &str, reference: &str, secret: Option<&SecretData>) -> Result<String, String> {
    let credentials = match secret {
        Some(secret) => GitCredentials::from_secret_values(
            &format!("Secret {}", secret.name),
            secret.values.get("username").map(Vec::as_slice),
            secret.values.get("password").map(Vec::as_slice),
        )
        .map_err(|error| error.to_string())?,
        None => GitCredentials::default(),
    };
    resolve_head(url, reference, &credentials).map_err(|error| error.to_string())
}
