//! Image outputs: built and pushed through the Docker Engine API (bollard), digests read back
//! from the registry (oci-client).
//!
//! ```text
//! ImageOutput ─substitute in the build's shell─▶ tags, build args
//!     context dir ─.dockerignore─▶ tar stream ─▶ /build (cachefrom: pulled earlier pushes)
//!     ─▶ /images/{name}/push per tag (credentials) ─▶ registry HEAD manifest ─▶ digest
//!     ─▶ ImageResult {name, repository, tags, digest, imageURI = repository@digest}
//!     ─▶ IMAGE_<NAME>_URI / _DIGEST / _TAG exported into the build's shell
//! ```
//!
//! # When
//! At the end of the `BUILD` phase, once its commands and `finally` succeeded (see
//! [`crate::build::executor::publish`]); `post_build` then sees the exported variables
//! `IMAGE_<NAME>_URI` (`repository@digest`), `IMAGE_<NAME>_DIGEST` and `IMAGE_<NAME>_TAG` (the
//! first tag; `<NAME>` upper-cased, `-` → `_`). With `push: false` the image is only built and
//! only `IMAGE_<NAME>_TAG` is set. In buildspec version 0.1 no shell outlives a command, so the
//! variables do not reach later commands (as any variable in 0.1).
//! Images listed in `SLIPWAY_EXECUTOR_IMAGES` (`--images`, a JSON array of
//! [`crate::api::buildrun::ImageOutput`]) are published, in order; the first failure stops.
//!
//! # Substitution
//! Tags and build argument values are evaluated in the build's shell as the inside of a
//! double-quoted word, so `$IMAGE_TAG` set in `pre_build` works, as do `${VAR:-default}` and
//! `$(date +%s)`. A value may not contain `"`, `\`, `` ` `` or a newline. A tag that comes out
//! invalid (an unset variable leaves it empty) fails the build, naming what it became.
//!
//! # Credentials
//! From `<credentials dir>/image-<name>/.dockerconfigjson` (the image output's
//! `credentialsSecret`, mounted read-only; flag `--credentials-dir`, env
//! `SLIPWAY_EXECUTOR_CREDENTIALS_DIR`, default `/slipway/credentials`), matched to the
//! repository's registry by host ([`credentials`]). No file: anonymous. The same credentials
//! serve the cache pulls, the push and the digest read; all registries of the file are offered
//! to the build for `FROM` pulls. Credentials never reach the log, the result or build args.
//!
//! # Layer cache
//! It lives in the registry ([`cache`]): the pod's daemon is ephemeral, so before each build the
//! image's tags and `latest` are pulled best-effort and passed as `cachefrom`.
//!
//! # Registry protocol
//! The digest is read over plain HTTP from loopback registries only (`localhost`,
//! `127.0.0.0/8`, `::1`), as the Docker Engine treats them as insecure by default; HTTPS
//! everywhere else ([`digest`]).
//!
//! # FAULT or FAILED
//! - `FAULT` (the build could not run as asked; ends the build at once): no Docker daemon
//!   answered at `DOCKER_HOST` (or the local socket) within the wait; the credentials file
//!   exists but is unreadable or malformed.
//! - `FAILED` (the `BUILD` phase fails, `post_build` still runs with
//!   `CODEBUILD_BUILD_SUCCEEDING=0`): a bad repository or tag, an unreadable context or
//!   missing Dockerfile, a build error (the daemon's message), a push error (the registry's
//!   message, e.g. `unauthorized: authentication required`), a digest that cannot be read.
//!
//! # Daemon
//! `DOCKER_HOST` as the build's shell has it at that point (so a buildspec that starts its own
//! daemon works), else the executor's, else `unix:///var/run/docker.sock`; the API version is
//! negotiated. In a build pod it is `unix:///var/run/slipway-docker/docker.sock`: the `docker`
//! sidecar's dockerd listens on that socket in a volume shared with the build container, on no
//! TCP port ([`crate::build::job`]). `DOCKER_HOST` stays visible to buildspec commands, so
//! `docker build` and `docker push` in a buildspec reach the same daemon.

//!
//! # Caveats
//! Images are built by the engine's classic builder (the only one reachable without a BuildKit
//! session), so BuildKit-only Dockerfile syntax (`RUN --mount`, heredocs) fails with the
//! daemon's message; one platform (the daemon's) is built. Tags are pushed one after another;
//! the digest is read for the first tag (all tags name the same manifest).

pub mod builder;
pub mod cache;
pub mod context;
pub mod credentials;
pub mod digest;
pub mod docker;
pub mod dockerignore;
pub mod error;
pub mod publisher;
pub mod push;
pub mod reference;

pub use error::ImageError;
pub use publisher::{DEFAULT_DOCKER_WAIT, DockerImagePublisher, PublisherSettings};
