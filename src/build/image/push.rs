//! Pushing every tag of an image with the registry's credentials.
//!
//! Like the build, a push reports failure inside its response stream (`unauthorized: …`,
//! `denied: …`): the stream is drained and the first error item fails the push with the
//! registry's own text, so an authentication failure says what the registry said.

use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::PushImageOptions;
use futures::StreamExt;

use super::error::{ImageError, docker_message};

/// Pushes `repository:tag` and reports progress lines (not the progress bars) to `output`.
///
/// # Errors
/// [`ImageError::Push`] with the registry's message.
pub async fn push_tag(
    docker: &Docker,
    repository: &str,
    tag: &str,
    credentials: Option<DockerCredentials>,
    output: &dyn Fn(&str),
) -> Result<(), ImageError> {
    let reference = format!("{repository}:{tag}");
    let options = PushImageOptions {
        tag: Some(tag.to_owned()),
        platform: None,
    };
    let mut stream = docker.push_image(repository, Some(options), credentials);
    let mut first_error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                let Some(status) = info.status else {
                    continue;
                };
                let in_progress = info
                    .progress_detail
                    .as_ref()
                    .is_some_and(|detail| detail.current.is_some());
                if !in_progress {
                    output(&status);
                }
            }
            Err(error) => {
                let message = docker_message(&error);
                output(&message);
                first_error.get_or_insert(message);
            }
        }
    }
    match first_error {
        Some(message) => Err(ImageError::Push { reference, message }),
        None => Ok(()),
    }
}
