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
//! - [`job`] — the build Job a BuildRun runs as (the build pod contract), rendered purely.
//! - [`controller`] — the BuildRun controller: creates the Job, follows its pod, turns the
//!   executor's result into status, stops, times out, keeps a bounded history.
//! - *(later issues)* the image builder (bollard) and artifact packaging.
//!
//! `slipway buildspec check FILE...` (in [`crate::cli`]) is the parser's command-line face.
pub mod buildspec;
pub mod controller;
pub mod executor;
pub mod job;
