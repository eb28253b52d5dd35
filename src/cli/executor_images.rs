//! `slipway executor run`'s image-output flags (flattened into its options).
//!
//! - `--images JSON` (`SLIPWAY_EXECUTOR_IMAGES`): a JSON array of
//!   [`crate::api::buildrun::ImageOutput`] (camelCase, as in the BuildRun), built and pushed at
//!   the end of a successful `BUILD` phase.
//! - credentials come from `--credentials-dir` (defined with the artifact-store flags):
//!   `image-<name>/.dockerconfigjson`.
//! - `--docker-wait-seconds N` (`SLIPWAY_EXECUTOR_DOCKER_WAIT_SECONDS`, default 30): how long
//!   to wait for the Docker daemon before the build is a `FAULT`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::api::buildrun::ImageOutput;
use crate::build::image::{DockerImagePublisher, PublisherSettings};

/// The image-output flags of `slipway executor run`.
#[derive(Debug, Args)]
pub struct ImageOutputOptions {
    /// Image outputs to build and push: a JSON array of ImageOutput.
    #[arg(long, env = "SLIPWAY_EXECUTOR_IMAGES", value_name = "JSON")]
    pub images: Option<String>,
    /// Seconds to wait for the Docker daemon before the build is a FAULT.
    #[arg(
        long,
        env = "SLIPWAY_EXECUTOR_DOCKER_WAIT_SECONDS",
        default_value_t = 30
    )]
    pub docker_wait_seconds: u64,
}

impl ImageOutputOptions {
    /// The image outputs named by `--images` (none when absent or empty).
    ///
    /// # Errors
    /// When the JSON is not an array of image outputs.
    pub fn image_outputs(&self) -> anyhow::Result<Vec<ImageOutput>> {
        match self.images.as_deref().map(str::trim) {
            None | Some("") => Ok(Vec::new()),
            Some(text) => serde_json::from_str(text)
                .context("failed to read --images (SLIPWAY_EXECUTOR_IMAGES) as a JSON array of image outputs"),
        }
    }

    /// The publisher for these options, the build's source directory and the mounted
    /// credentials (`--credentials-dir`, shared with the artifact store).
    ///
    /// # Errors
    /// As [`ImageOutputOptions::image_outputs`].
    pub fn publisher(
        &self,
        src_dir: PathBuf,
        credentials_dir: PathBuf,
    ) -> anyhow::Result<DockerImagePublisher> {
        Ok(DockerImagePublisher::new(
            self.image_outputs()?,
            PublisherSettings {
                src_dir,
                credentials_dir,
                docker_host: std::env::var("DOCKER_HOST").ok(),
                docker_wait: Duration::from_secs(self.docker_wait_seconds),
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(images: Option<&str>) -> ImageOutputOptions {
        ImageOutputOptions {
            images: images.map(str::to_owned),
            docker_wait_seconds: 1,
        }
    }

    #[test]
    fn images_json_uses_the_crd_field_names_and_defaults() {
        let images = options(Some(
            r#"[{"name": "web", "repository": "127.0.0.1:5000/web", "tags": ["$IMAGE_TAG"], "buildArgs": [{"name": "A", "value": "b"}]}]"#,
        ))
        .image_outputs()
        .unwrap();
        assert_eq!(images[0].name, "web");
        assert_eq!(images[0].dockerfile, "Dockerfile");
        assert_eq!(images[0].build_args[0].name, "A");
        assert!(images[0].push);
        assert!(options(None).image_outputs().unwrap().is_empty());
    }

    #[test]
    fn malformed_images_json_names_the_flag() {
        let error = options(Some("{")).image_outputs().unwrap_err();
        assert!(
            format!("{error:#}").contains("SLIPWAY_EXECUTOR_IMAGES"),
            "{error:#}"
        );
    }
}
