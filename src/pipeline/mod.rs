//! Pipelines: CodePipeline's stages and actions on Kubernetes.

pub mod jenkins;
pub mod rules;
