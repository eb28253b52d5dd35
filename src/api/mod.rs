//! The Slipway API (`slipway.dev/v1alpha1`): one module per kind, plus the types they share.
//!
//! The CRDs under `crds/` are generated from these types by `slipway crd`; every field's doc
//! comment becomes its `kubectl explain` text.

pub mod buildrun;
pub mod common;
pub mod crd;
pub mod deployment;
pub mod execution;
pub mod pipeline;

pub use buildrun::{BuildRun, BuildRunSpec, BuildRunStatus};
pub use common::{GROUP, VERSION};
pub use deployment::{Deployment, DeploymentSpec, DeploymentStatus};
pub use execution::{PipelineExecution, PipelineExecutionSpec, PipelineExecutionStatus};
pub use pipeline::{Pipeline, PipelineSpec, PipelineStatus};
