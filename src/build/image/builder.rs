//! Building an image through the Docker Engine's `/build` endpoint (the classic builder, which
//! every engine has; BuildKit needs a session protocol the sidecar does not expose).
//!
//! The response is a stream of JSON items that ends normally even when the build failed: it
//! is drained to the end and any item carrying an error fails the build with the daemon's
//! message (the failing Dockerfile step and the command's output are already in the log).
//! The image is built with the first tag; the other tags are added afterwards.

use std::collections::HashMap;

use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::{BuildImageOptions, TagImageOptions};
use futures::StreamExt;

use super::context::BuildContext;
use super::error::{ImageError, docker_message};

/// One image build, fully resolved (variables substituted).
#[derive(Clone, Debug)]
pub struct BuildRequest {
    /// The image output's name (for messages).
    pub name: String,
    /// The repository, without tag.
    pub repository: String,
    /// The tags to apply (at least one).
    pub tags: Vec<String>,
    /// The Dockerfile path inside the context stream.
    pub dockerfile: String,
    /// Build arguments.
    pub build_args: HashMap<String, String>,
    /// The multi-stage target, if any.
    pub target: Option<String>,
    /// Images whose layers may be reused (`cachefrom`; they must be in the engine already).
    pub cache_from: Vec<String>,
    /// Build every step anew (the benchmark).
    pub no_cache: bool,
}

impl BuildRequest {
    /// `repository:tag` for each tag.
    pub fn references(&self) -> Vec<String> {
        self.tags
            .iter()
            .map(|tag| format!("{}:{tag}", self.repository))
            .collect()
    }

    /// The engine's parameters for this build.
    pub fn options(&self) -> BuildImageOptions {
        BuildImageOptions {
            dockerfile: self.dockerfile.clone(),
            t: self.references().first().cloned(),
            nocache: self.no_cache,
            cachefrom: (!self.cache_from.is_empty()).then(|| self.cache_from.clone()),
            buildargs: (!self.build_args.is_empty()).then(|| self.build_args.clone()),
            target: self.target.clone().unwrap_or_default(),
            rm: true,
            forcerm: true,
            ..BuildImageOptions::default()
        }
    }
}

/// Builds `request` from `context`, sends the daemon's output to `output` line by line, tags
/// the image with every tag, and returns the image id.
///
/// # Errors
/// [`ImageError::Build`] with the daemon's message when any stream item is an error, or when
/// tagging fails.
pub async fn build_image(
    docker: &Docker,
    request: &BuildRequest,
    context: BuildContext,
    registry_credentials: HashMap<String, DockerCredentials>,
    output: &dyn Fn(&str),
) -> Result<String, ImageError> {
    let fail = |message: String| ImageError::Build {
        image: request.name.clone(),
        message,
    };
    let body = bollard::body_try_stream(context.into_stream());
    let credentials = (!registry_credentials.is_empty()).then_some(registry_credentials);
    let mut stream = docker.build_image(request.options(), credentials, Some(body));
    let mut image_id = None;
    let mut first_error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(text) = &info.stream {
                    for line in text.lines().filter(|line| !line.trim().is_empty()) {
                        output(line.trim_end());
                    }
                }
                if let Some(status) = info
                    .status
                    .as_deref()
                    .filter(|_| info.progress_detail.is_none())
                {
                    output(&match &info.id {
                        Some(id) => format!("{id}: {status}"),
                        None => status.to_owned(),
                    });
                }
                if let Some(id) = info.aux.and_then(|aux| aux.id) {
                    image_id = Some(id);
                }
            }
            Err(error) => {
                let message = docker_message(&error);
                output(&message);
                first_error.get_or_insert(message);
            }
        }
    }
    if let Some(message) = first_error {
        return Err(fail(message));
    }
    let references = request.references();
    let Some(first) = references.first() else {
        return Err(fail("no tag to build".to_owned()));
    };
    let image_id = match image_id {
        Some(id) => id,
        None => docker
            .inspect_image(first)
            .await
            .map_err(|error| fail(docker_message(&error)))?
            .id
            .unwrap_or_else(|| first.clone()),
    };
    for tag in request.tags.iter().skip(1) {
        let options = TagImageOptions {
            repo: Some(request.repository.clone()),
            tag: Some(tag.clone()),
        };
        docker
            .tag_image(&image_id, Some(options))
            .await
            .map_err(|error| {
                fail(format!(
                    "failed to tag {}:{tag}: {}",
                    request.repository,
                    docker_message(&error)
                ))
            })?;
    }
    Ok(image_id)
}
