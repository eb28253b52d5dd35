//! What can go wrong while publishing an image, and whether it is the build's fault.

use std::path::PathBuf;

use super::context::ContextError;
use super::credentials::CredentialsError;

/// Why an image output was not built or pushed.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// No Docker Engine answered.
    #[error(
        "unable to reach the Docker Engine at {endpoint}: {message}. Image outputs are built by the Docker daemon named by DOCKER_HOST (the local socket when unset); in a BuildRun that is the `docker` sidecar, added when `environment.privileged` is true or `images` is not empty"
    )]
    Daemon {
        /// `DOCKER_HOST`'s value, or the local socket.
        endpoint: String,
        /// The connection error.
        message: String,
    },
    /// The credentials file is unusable.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// An image output's field is invalid once variables are substituted.
    #[error("failed to use image {image}: `{field}` {message}")]
    InvalidOutput {
        /// The image output's name.
        image: String,
        /// The field (`tags`, `repository`, `buildArgs`).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A build variable could not be substituted (the shell failed).
    #[error("failed to substitute build variables in image {image}: {message}")]
    Substitution {
        /// The image output's name.
        image: String,
        /// Why.
        message: String,
    },
    /// The build context cannot be read.
    #[error("failed to build image {image}: {source}")]
    Context {
        /// The image output's name.
        image: String,
        /// Why.
        source: ContextError,
    },
    /// The Docker Engine reported a build error.
    #[error("failed to build image {image}: {message}")]
    Build {
        /// The image output's name.
        image: String,
        /// The daemon's message.
        message: String,
    },
    /// Tagging or pushing failed (the registry's message when it gave one).
    #[error("failed to push {reference}: {message}")]
    Push {
        /// `repository:tag`.
        reference: String,
        /// The registry's or daemon's message.
        message: String,
    },
    /// The pushed digest could not be read back from the registry.
    #[error("failed to read the digest of {reference} from the registry: {message}")]
    Digest {
        /// `repository:tag`.
        reference: String,
        /// Why.
        message: String,
    },
    /// A work file for substitution could not be written.
    #[error("failed to prepare {path}: {source}")]
    WorkFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl ImageError {
    /// Whether the build could not run as asked (`FAULT`: no daemon, unusable credentials
    /// file, the executor's own files) rather than failed (`FAILED`: the Dockerfile, the
    /// registry's answer, a bad tag).
    pub fn is_fault(&self) -> bool {
        matches!(
            self,
            ImageError::Daemon { .. } | ImageError::Credentials(_) | ImageError::WorkFile { .. }
        )
    }

    /// The phase context message: `CLIENT_ERROR: …` for a fault, `IMAGE_BUILD_ERROR: …` or
    /// `IMAGE_PUSH_ERROR: …` otherwise.
    pub fn context_message(&self) -> String {
        let code = match self {
            _ if self.is_fault() => "CLIENT_ERROR",
            ImageError::Push { .. } | ImageError::Digest { .. } => "IMAGE_PUSH_ERROR",
            _ => "IMAGE_BUILD_ERROR",
        };
        format!("{code}: {self}")
    }
}

/// The message inside a Docker Engine error (the daemon's or registry's own text).
pub fn docker_message(error: &bollard::errors::Error) -> String {
    use bollard::errors::Error;
    match error {
        Error::DockerResponseServerError { message, .. } => message.trim().to_owned(),
        Error::DockerStreamError { error } => error.trim().to_owned(),
        other => other.to_string(),
    }
}
