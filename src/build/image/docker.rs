//! Connecting to the Docker Engine: `DOCKER_HOST` (`unix://`, `tcp://`, `http://`) or the local
//! socket, with the API version negotiated (the engine may be older than bollard's default).
//!
//! The daemon of a build pod is a sidecar that may still be starting when the build reaches
//! its images, so a refused connection is retried until `wait` has passed; then the build is a
//! `FAULT` naming `DOCKER_HOST`.

use std::time::{Duration, Instant};

use bollard::Docker;

use super::error::{ImageError, docker_message};

/// The socket used when `DOCKER_HOST` is unset.
pub const LOCAL_SOCKET: &str = "unix:///var/run/docker.sock";

/// How often a connection is retried while waiting for the daemon.
const RETRY_EVERY: Duration = Duration::from_millis(500);

/// Connects to the engine at `host` (`None`: the local socket) and negotiates the API version,
/// retrying for up to `wait`; `on_wait` is told once when waiting starts.
///
/// # Errors
/// [`ImageError::Daemon`] when no engine answered in time.
pub async fn connect(
    host: Option<&str>,
    wait: Duration,
    on_wait: &dyn Fn(&str),
) -> Result<Docker, ImageError> {
    let endpoint = host.filter(|host| !host.is_empty()).unwrap_or(LOCAL_SOCKET);
    let fail = |message: String| ImageError::Daemon {
        endpoint: endpoint.to_owned(),
        message,
    };
    let deadline = Instant::now() + wait;
    let mut told = false;
    loop {
        let docker = Docker::connect_with_host(endpoint).map_err(|e| fail(docker_message(&e)))?;
        match docker.negotiate_version().await {
            Ok(docker) => return Ok(docker),
            Err(error) if Instant::now() + RETRY_EVERY < deadline => {
                if !told {
                    on_wait(&format!(
                        "Waiting for the Docker Engine at {endpoint} ({})",
                        docker_message(&error)
                    ));
                    told = true;
                }
                tokio::time::sleep(RETRY_EVERY).await;
            }
            Err(error) => return Err(fail(docker_message(&error))),
        }
    }
}
