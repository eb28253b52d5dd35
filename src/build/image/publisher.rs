//! [`DockerImagePublisher`]: the executor's [`ImagePublisher`] backed by the Docker Engine.
//!
//! For each image output, in order: substitute build variables in its tags and build
//! arguments by evaluating them in the build's shell; load its credentials; pull cache
//! sources ([`super::cache`]); build ([`super::builder`]); push every tag ([`super::push`]);
//! read the digest back ([`super::digest`]); export `IMAGE_<NAME>_URI`, `IMAGE_<NAME>_DIGEST`
//! and `IMAGE_<NAME>_TAG` (the first tag) into the shell. The first failure stops the rest.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use bollard::Docker;

use crate::api::buildrun::{ImageOutput, ImageResult};
use crate::build::executor::shell::{CommandRunner, shell_quote};
use crate::build::executor::{BuildLog, ImagePublisher, PublishFailure, PublishOutcome};

use super::builder::{BuildRequest, build_image};
use super::cache::{cache_candidates, pull_cache_sources};
use super::context::{BuildContext, ContextError};
use super::credentials::{DockerConfig, credentials_path};
use super::digest::fetch_manifest_digest;
use super::docker::connect;
use super::error::ImageError;
use super::push::push_tag;
use super::reference::{image_variables, is_valid_repository, is_valid_tag, registry_host};

/// How long to wait for the Docker daemon by default (a sidecar may still be starting).
pub const DEFAULT_DOCKER_WAIT: Duration = Duration::from_secs(30);

/// Where the publisher finds things.
#[derive(Clone, Debug)]
pub struct PublisherSettings {
    /// The source directory; image contexts are relative to it.
    pub src_dir: PathBuf,
    /// The directory with `image-<name>/.dockerconfigjson`.
    pub credentials_dir: PathBuf,
    /// The daemon when the build's shell has no `DOCKER_HOST` (`None`: the local socket).
    pub docker_host: Option<String>,
    /// How long to wait for the daemon to answer.
    pub docker_wait: Duration,
}

/// Builds and pushes image outputs through the Docker Engine.
pub struct DockerImagePublisher {
    images: Vec<ImageOutput>,
    settings: PublisherSettings,
}

impl DockerImagePublisher {
    /// A publisher for `images`.
    pub fn new(images: Vec<ImageOutput>, settings: PublisherSettings) -> DockerImagePublisher {
        DockerImagePublisher { images, settings }
    }
}

impl ImagePublisher for DockerImagePublisher {
    fn has_images(&self) -> bool {
        !self.images.is_empty()
    }

    fn publish(&mut self, runner: &mut dyn CommandRunner, log: &BuildLog) -> PublishOutcome {
        let mut outcome = PublishOutcome::default();
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                outcome.failure = Some(PublishFailure {
                    message: format!("CLIENT_ERROR: failed to start the image publisher: {error}"),
                    fault: true,
                });
                return outcome;
            }
        };
        let mut docker: Option<Docker> = None;
        for image in &self.images {
            match self.publish_one(image, runner, log, &runtime, &mut docker) {
                Ok(result) => outcome.images.push(result),
                Err(error) => {
                    log.container(&format!("Image {}: {error}", image.name));
                    outcome.failure = Some(PublishFailure {
                        message: error.context_message(),
                        fault: error.is_fault(),
                    });
                    break;
                }
            }
        }
        outcome
    }
}

impl DockerImagePublisher {
    fn publish_one(
        &self,
        image: &ImageOutput,
        runner: &mut dyn CommandRunner,
        log: &BuildLog,
        runtime: &tokio::runtime::Runtime,
        docker: &mut Option<Docker>,
    ) -> Result<ImageResult, ImageError> {
        let resolved = resolve_output(image, runner)?;
        log.container(&format!(
            "Building image {} as {}",
            image.name,
            resolved.references().join(", ")
        ));
        let credentials_file = credentials_path(&self.settings.credentials_dir, &image.name);
        let config = DockerConfig::load(&credentials_file)?;
        let registry = registry_host(&resolved.repository);
        let registry_credentials = config.for_registry(&registry);
        if config.is_empty() {
            log.container(&format!(
                "No credentials at {}: the registry {registry} is used anonymously",
                credentials_file.display()
            ));
        } else if registry_credentials.is_none() {
            log.container(&format!(
                "Warning: {} has no credentials for the registry {registry}",
                credentials_file.display()
            ));
        }
        let context_dir = self.settings.src_dir.join(&image.context);
        let context = BuildContext::collect(&context_dir, &image.dockerfile).map_err(
            |source: ContextError| ImageError::Context {
                image: image.name.clone(),
                source,
            },
        )?;
        let output = |line: &str| log.output(line.as_bytes());
        let notice = |line: &str| log.container(line);
        runtime.block_on(async {
            if docker.is_none() {
                let host = docker_host(runner, self.settings.docker_host.as_deref());
                *docker = Some(connect(host.as_deref(), self.settings.docker_wait, &notice).await?);
            }
            let Some(docker) = docker.as_ref() else {
                unreachable!("connected above");
            };
            let mut request = resolved;
            let candidates = cache_candidates(&request.repository, &request.tags);
            let push_credentials = registry_credentials.map(|found| found.to_docker());
            request.cache_from =
                pull_cache_sources(docker, &candidates, push_credentials.clone(), &notice).await;
            build_image(docker, &request, context, config.to_docker_map(), &output).await?;
            let first_tag = request.tags[0].clone();
            if !image.push {
                log.container(&format!(
                    "Image {} built; not pushed (push: false)",
                    image.name
                ));
                export_variables(runner, &image.name, None, &first_tag, log);
                return Ok(ImageResult {
                    name: image.name.clone(),
                    repository: request.repository.clone(),
                    tags: request.tags.clone(),
                    digest: None,
                    image_uri: None,
                });
            }
            for tag in &request.tags {
                notice(&format!("Pushing {}:{tag}", request.repository));
                push_tag(
                    docker,
                    &request.repository,
                    tag,
                    push_credentials.clone(),
                    &output,
                )
                .await?;
            }
            let auth = registry_credentials
                .map(|found| found.to_oci())
                .unwrap_or(oci_client::secrets::RegistryAuth::Anonymous);
            let digest = fetch_manifest_digest(&request.repository, &first_tag, &auth).await?;
            let uri = format!("{}@{digest}", request.repository);
            log.container(&format!("Image {} pushed: {uri}", image.name));
            export_variables(runner, &image.name, Some((&uri, &digest)), &first_tag, log);
            Ok(ImageResult {
                name: image.name.clone(),
                repository: request.repository.clone(),
                tags: request.tags.clone(),
                digest: Some(digest),
                image_uri: Some(uri),
            })
        })
    }
}

/// `DOCKER_HOST` as the build's shell has it (a buildspec may start its own daemon), else
/// `fallback`.
fn docker_host(runner: &mut dyn CommandRunner, fallback: Option<&str>) -> Option<String> {
    runner
        .read_variables(&["DOCKER_HOST".to_owned()])
        .ok()
        .and_then(|values| values.into_iter().next().flatten())
        .filter(|host| !host.is_empty())
        .or_else(|| fallback.map(str::to_owned))
}

/// The image output with variables substituted and fields checked.
fn resolve_output(
    image: &ImageOutput,
    runner: &mut dyn CommandRunner,
) -> Result<BuildRequest, ImageError> {
    let invalid = |field: &'static str, message: String| ImageError::InvalidOutput {
        image: image.name.clone(),
        field,
        message,
    };
    if !is_valid_repository(&image.repository) {
        return Err(invalid(
            "repository",
            format!(
                "`{}` is not a repository (lower-case path, optional `host[:port]/`, no tag)",
                image.repository
            ),
        ));
    }
    if image.tags.is_empty() {
        return Err(invalid("tags", "is empty".to_owned()));
    }
    let mut texts: Vec<String> = image.tags.clone();
    texts.extend(
        image
            .build_args
            .iter()
            .map(|argument| argument.value.clone()),
    );
    let values = substitute(&image.name, &texts, runner)?;
    let (tags, argument_values) = values.split_at(image.tags.len());
    for (written, tag) in image.tags.iter().zip(tags) {
        if !is_valid_tag(tag) {
            return Err(invalid(
                "tags",
                format!(
                    "`{written}` became `{tag}`, which is not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}; is a variable unset?)"
                ),
            ));
        }
    }
    let mut unique_tags: Vec<String> = Vec::new();
    for tag in tags {
        if !unique_tags.contains(tag) {
            unique_tags.push(tag.clone());
        }
    }
    let build_args: HashMap<String, String> = image
        .build_args
        .iter()
        .zip(argument_values)
        .map(|(argument, value)| (argument.name.clone(), value.clone()))
        .collect();
    Ok(BuildRequest {
        name: image.name.clone(),
        repository: image.repository.clone(),
        tags: unique_tags,
        dockerfile: image.dockerfile.clone(),
        build_args,
        target: image.target.clone().filter(|target| !target.is_empty()),
        cache_from: Vec::new(),
        no_cache: false,
    })
}

/// Evaluates each text as the inside of a double-quoted shell word in the build's shell
/// (`$IMAGE_TAG`, `${CODEBUILD_RESOLVED_SOURCE_VERSION}`, `$(date +%Y%m%d)`), with `printf`
/// (a builtin of every POSIX shell) writing each value to a private file.
fn substitute(
    image: &str,
    texts: &[String],
    runner: &mut dyn CommandRunner,
) -> Result<Vec<String>, ImageError> {
    let fail = |message: String| ImageError::Substitution {
        image: image.to_owned(),
        message,
    };
    if let Some(text) = texts
        .iter()
        .find(|text| text.contains(['"', '\n', '\\', '`']))
    {
        return Err(fail(format!(
            "`{text}` contains a double quote, backslash, backquote or newline, which cannot be substituted"
        )));
    }
    let directory = std::env::temp_dir().join(format!(
        "slipway-image-values-{}",
        crate::build::executor::environment::random_uuid()
    ));
    crate::build::executor::shell::create_work_dir(&directory).map_err(|error| {
        ImageError::WorkFile {
            path: directory.clone(),
            source: std::io::Error::other(error.to_string()),
        }
    })?;
    let mut script = String::new();
    for (index, text) in texts.iter().enumerate() {
        let file = shell_quote(&directory.join(index.to_string()).to_string_lossy());
        script.push_str(&format!("printf '%s' \"{text}\" >{file}\n"));
    }
    let status = runner.run(&script, true);
    let values: Result<Vec<String>, ImageError> = match status {
        Ok(status) if status.exit_code == 0 => texts
            .iter()
            .enumerate()
            .map(|(index, _)| {
                let path = directory.join(index.to_string());
                std::fs::read_to_string(&path)
                    .map_err(|source| ImageError::WorkFile { path, source })
            })
            .collect(),
        Ok(status) => Err(fail(format!(
            "the shell exited with status {}",
            status.exit_code
        ))),
        Err(error) => Err(fail(error.to_string())),
    };
    let _ = std::fs::remove_dir_all(&directory);
    values
}

/// Exports the image's variables into the build's shell (0.2; in 0.1 no shell outlives a
/// command, so later commands do not see them).
fn export_variables(
    runner: &mut dyn CommandRunner,
    name: &str,
    pushed: Option<(&str, &str)>,
    tag: &str,
    log: &BuildLog,
) {
    let [uri_name, digest_name, tag_name] = image_variables(name);
    let mut command = format!("export {tag_name}={}", shell_quote(tag));
    if let Some((uri, digest)) = pushed {
        command.push_str(&format!(
            " {uri_name}={} {digest_name}={}",
            shell_quote(uri),
            shell_quote(digest)
        ));
    }
    match runner.run(&command, true) {
        Ok(status) if status.exit_code == 0 => {}
        _ => log.container(&format!(
            "Warning: unable to export the variables of image {name} into the build's shell"
        )),
    }
}
