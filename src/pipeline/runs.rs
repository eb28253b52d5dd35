//! The one shape of a new PipelineExecution, whoever starts it (`kubectl slipway start`, the
//! webhook receiver, the poller): labelled `slipway.dev/pipeline` and owned by the Pipeline (its
//! UID, `controller: true`, `blockOwnerDeletion: false`), so deleting a Pipeline removes its runs
//! and a user who may create runs needs no permission on the Pipeline's finalizers (the
//! `OwnerReferencesPermissionEnforcement` admission plugin asks for it when `blockOwnerDeletion`
//! is true).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::Resource;

use crate::api::common::NameValue;
use crate::api::execution::{ExecutionTrigger, PipelineReference, SourceRevision};
use crate::api::pipeline::Pipeline;
use crate::api::{PipelineExecution, PipelineExecutionSpec};
use crate::runtime::labels::PIPELINE_LABEL;
use crate::runtime::names::label_value;

/// How a new run is named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunName {
    /// `<pipeline>-<random>`, chosen by the API server (`generateName`).
    Generated,
    /// A name derived from what started the run, so a second start of the same thing is a
    /// create conflict rather than a second run.
    Fixed(String),
}

/// A new run of `pipeline`.
pub fn new_run(
    pipeline: &Pipeline,
    name: RunName,
    trigger: ExecutionTrigger,
    source: Option<SourceRevision>,
    variables: Vec<NameValue>,
) -> PipelineExecution {
    let pipeline_name = pipeline.metadata.name.clone().unwrap_or_default();
    let owner = OwnerReference {
        api_version: Pipeline::api_version(&()).into_owned(),
        kind: Pipeline::kind(&()).into_owned(),
        name: pipeline_name.clone(),
        uid: pipeline.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(false),
    };
    let (name, generate_name) = match name {
        RunName::Generated => (None, Some(format!("{pipeline_name}-"))),
        RunName::Fixed(name) => (Some(name), None),
    };
    PipelineExecution {
        metadata: ObjectMeta {
            name,
            generate_name,
            namespace: pipeline.metadata.namespace.clone(),
            labels: Some(BTreeMap::from([(
                PIPELINE_LABEL.to_owned(),
                label_value(&pipeline_name),
            )])),
            owner_references: Some(vec![owner]),
            ..ObjectMeta::default()
        },
        spec: PipelineExecutionSpec {
            pipeline_ref: PipelineReference {
                name: pipeline_name,
            },
            trigger,
            source,
            variables,
            rollback: None,
            control: Default::default(),
        },
        status: None,
    }
}
