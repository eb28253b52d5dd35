//! Slipway's test cluster: an in-process stand-in for kube-apiserver, used only by tests and
//! benchmarks (never shipped). See `DESIGN.md`, "The test cluster".
//!
//! This first piece is [`schema`]: validating, defaulting and pruning custom resources from a
//! CustomResourceDefinition's OpenAPI v3 schema the way kube-apiserver does, so the operator's
//! tests can check samples and invalid objects today and the REST handlers can reuse it later.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod schema;

pub use schema::{CrdSchema, FieldError, FieldErrorKind, FieldErrors, SchemaError};
