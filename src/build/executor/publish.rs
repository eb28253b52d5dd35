//! The hook where image outputs are built and pushed: at the end of the `BUILD` phase, once its
//! commands (and `finally`) succeeded.
//!
//! A failure fails the `BUILD` phase with the publisher's message, so CodeBuild's rules go on
//! from there (`post_build` still runs with `CODEBUILD_BUILD_SUCCEEDING=0`; `on-failure`
//! applies). A fault (no Docker daemon, unusable credentials) ends the build at once with
//! status `FAULT`. The real publisher is [`crate::build::image::DockerImagePublisher`];
//! [`NoImages`] keeps builds without image outputs (and tests) free of Docker.

use crate::api::buildrun::ImageResult;

use super::log::BuildLog;
use super::shell::CommandRunner;

/// How publishing ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PublishOutcome {
    /// The images pushed (or built, with `push: false`) before any failure.
    pub images: Vec<ImageResult>,
    /// What went wrong, if anything.
    pub failure: Option<PublishFailure>,
}

/// A failed publication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishFailure {
    /// The phase context message (`IMAGE_PUSH_ERROR: …`).
    pub message: String,
    /// `true`: the build could not run as asked (`FAULT`); `false`: it failed (`FAILED`).
    pub fault: bool,
}

/// Builds and pushes a build's image outputs.
pub trait ImagePublisher {
    /// Whether there are image outputs (the plan has a publishing step only then).
    fn has_images(&self) -> bool;

    /// Builds and pushes every image output. `runner` evaluates tags and build arguments in the
    /// build's shell and receives the `IMAGE_<NAME>_*` variables.
    fn publish(&mut self, runner: &mut dyn CommandRunner, log: &BuildLog) -> PublishOutcome;
}

/// No image outputs.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoImages;

impl ImagePublisher for NoImages {
    fn has_images(&self) -> bool {
        false
    }

    fn publish(&mut self, _runner: &mut dyn CommandRunner, _log: &BuildLog) -> PublishOutcome {
        PublishOutcome::default()
    }
}
