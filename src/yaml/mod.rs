//! Reading the YAML files users keep in their repositories — `buildspec.yml` and
//! `appspec.yaml` — with every problem located at `file:line:column`.
//!
//! Both parsers work the same way, so they share these pieces:
//!
//! - `tree` (crate-internal) loads text (YAML, or JSON, which is YAML) into nodes that know
//!   their line and column and keep each scalar's source spelling;
//! - [`diagnostics`] records errors and warnings with a fix, and prints them like a compiler;
//! - [`suggest`] finds the closest known key to a misspelt one ("did you mean …?").
//!
//! The formats themselves live with their capability: [`crate::build::buildspec`] and
//! [`crate::rollout::appspec`].

pub mod diagnostics;
pub mod suggest;
pub(crate) mod tree;

pub use diagnostics::{Diagnostic, Position, Severity};
