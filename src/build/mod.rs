//! The build capability: CodeBuild's semantics on Kubernetes.
//!
//! A `BuildRun` (one CodeBuild build) names a source revision, a buildspec and an environment.
//! This folder holds everything that turns it into a finished build:
//!
//! - [`buildspec`] — the `buildspec.yml` model and parser (versions 0.1 and 0.2), with
//!   `file:line:column` diagnostics. Everything downstream reads the typed model, never YAML.
//!   It also decides what Slipway parses but refuses to run (`batch`, Windows shells).
//! - [`executor`] — runs a buildspec's phases with CodeBuild's semantics, in the build pod
//!   (`slipway executor run`) or locally (`slipway build --local`).
//! - [`source`] — fetches the build's git source at an exact revision with gix
//!   (`slipway executor fetch git`, the build pod's `fetch-source` init container).
//! - [`artifacts`] — the buildspec's `artifacts` packaged (deterministic ZIP) and uploaded to
//!   the artifact store (OCI registry or object storage), and fetched back as a source.
//! - [`image`] — image outputs built and pushed through the Docker Engine (bollard), digests
//!   read back from the registry, the layer cache kept in the registry.
//! - [`container`] — `slipway build --local --image IMAGE`: the executor inside a container.
//! - [`job`] — the build Job a BuildRun runs as (the build pod contract), rendered purely.
//! - [`controller`] — the BuildRun controller: creates the Job, follows its pod, turns the
//!   executor's result into status, stops, times out, keeps a bounded history.
//!
//! `slipway buildspec check FILE...` (in [`crate::cli`]) is the parser's command-line face.
pub mod artifacts;
pub mod buildspec;
pub mod container;
pub mod controller;
pub mod executor;
pub mod image;
pub mod job;
pub mod source;
