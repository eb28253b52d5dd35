//! Pipelines: CodePipeline's stages and actions on Kubernetes.

pub mod admission;
pub mod children;
pub mod controller;
pub mod jenkins;
pub mod plan;
pub mod reasons;
pub mod rules;
pub mod runs;
pub mod validate;
pub mod variables;
