//! A revision's workload: the apps/v1 Deployment that runs one revision of a target, derived
//! from the target workload (the user's own apps/v1 Deployment, used as a template) and the new
//! images. Pure: no API calls; observe/apply create, scale and delete what this renders.
//!
//! # What is rendered
//! - The pod template is the workload's `spec.template` with each named container's image
//!   replaced ([`ContainerImage`]; containers first, then init containers, so a versioned
//!   sidecar can move too). Every other field is kept as written.
//! - The **revision hash** is [`revision_hash`] of that template (after image substitution,
//!   before Slipway's labels are added).
//! - Labels `slipway.dev/revision: <hash>` and `slipway.dev/target: <target>` go on the
//!   Deployment's metadata, its selector (`matchLabels`, next to the workload's own selector)
//!   and the pod template. The target value is [`label_value`] of the workload's name,
//!   so the user's own pods (which lack the label) never match a Slipway selector, while every
//!   revision of the same target does.
//! - The name is `<workload>-<hash>` ([`revision_name`]); `spec.replicas` is the caller's;
//!   `minReadySeconds` and `progressDeadlineSeconds` are copied (they define when a pod counts
//!   as available); the workload's `strategy` is not (a revision's template never changes).
//! - The workload's metadata labels and annotations are **not** copied: GitOps tools track
//!   objects by them (Argo CD's `app.kubernetes.io/instance`), and a revision carrying them would
//!   look like an object missing from Git and be pruned.
//!
//! # The revision hash
//! [`short_hash`] (FNV-1a 64-bit, offset basis `0xcbf29ce484222325`, prime `0x100000001b3`)
//! over the pod template serialized as canonical JSON — object keys sorted by their UTF-8 bytes
//! at every level, no whitespace, serde_json's number and string encoding — rendered as the
//! first [`HASH_LENGTH`](crate::runtime::names::HASH_LENGTH) lowercase hex digits of the
//! big-endian value. It depends only on the template, never on the process, platform, pointer
//! width or map iteration order, so a restarted controller finds the same revision again.
//!
//! # Caveats
//! - The hash covers the template as the API server returned it, defaults included. A cluster
//!   upgrade that defaults a new pod field changes the hash of an unchanged workload; so the
//!   controller records the hash in `status.canaryRevision.hash` when it creates the revision and
//!   finds the workload by that hash (and its UID) afterwards, instead of recomputing it.
//! - The revision's selector overlaps the user's workload's selector (it is a superset of it).
//!   That is harmless — Deployments and ReplicaSets only manage what they own — but `kubectl`
//!   warns about overlapping selectors, which is expected.
//!
//! # Ownership: revisions are owned by nothing
//! A revision's Deployment has **no owner reference**. Owned by the `deployments.slipway.dev`
//! record, deleting the record (by hand, or a pipeline pruning its history) would garbage-collect
//! production. Owned by the target workload, a `helm uninstall`/reinstall, a GitOps tool's
//! delete-and-recreate of the workload, or someone deleting the scaled-to-zero "idle" workload
//! would do the same. A revision can also outlive the record that created it: a later record
//! that rolls back to the same hash reuses it. So revisions carry `app.kubernetes.io/managed-by:
//! slipway` ([`MANAGED_BY_LABEL`]) plus the target and revision labels, the controller finds them
//! by those labels and matches them by the UID recorded in status (never by name alone), and it
//! deletes superseded revisions explicitly once a later rollout has succeeded. Removing an
//! application for good is `kubectl delete deployments.apps -l slipway.dev/target=<target>`.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment as AppsDeployment, DeploymentSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::Value;

use crate::api::deployment::{ContainerImage, DeploymentTemplate};
use crate::rollout::appspec::{self, RevisionError};
use crate::runtime::labels::{
    MANAGED_BY_LABEL, MANAGED_BY_VALUE, REVISION_LABEL, TARGET_LABEL, WORKLOAD_ANNOTATION,
};
use crate::runtime::names::{NAME_MAX, fit_name, label_value, short_hash};

/// Longest revision Deployment name: pods are named `<deployment>-<10>-<5>` and must stay within
/// a DNS subdomain.
const REVISION_NAME_MAX: usize = NAME_MAX - 17;

/// One revision's workload, ready to create.
#[derive(Clone, Debug, PartialEq)]
pub struct RevisionWorkload {
    /// The revision hash (the `slipway.dev/revision` label).
    pub hash: String,
    /// The Deployment's name, `<workload>-<hash>`.
    pub name: String,
    /// The `slipway.dev/target` label value.
    pub target: String,
    /// The images that were substituted, as given.
    pub images: Vec<ContainerImage>,
    /// The apps/v1 Deployment (no namespace, no owner reference).
    pub deployment: AppsDeployment,
}

/// Why a revision cannot be rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RevisionWorkloadError {
    /// The workload has no `metadata.name`.
    #[error("unable to derive a revision: the target workload has no metadata.name")]
    MissingName,
    /// The workload has no `spec.template.spec` or `spec.selector`.
    #[error("unable to derive a revision from workload {workload}: it has no {field}")]
    MissingField {
        /// The workload's name.
        workload: String,
        /// The missing field.
        field: &'static str,
    },
    /// An image names a container the pod template does not have.
    #[error(
        "unable to derive a revision from workload {workload}: spec.revision.images names container {container:?}, which is not in its pod template (containers: {available})"
    )]
    UnknownContainer {
        /// The workload's name.
        workload: String,
        /// The container named.
        container: String,
        /// The template's containers, comma-separated.
        available: String,
    },
    /// Neither `spec.revision.images` nor `spec.revision.appSpec` is set, or the list is empty.
    #[error("unable to derive a revision: spec.revision names no images")]
    NoImages,
    /// `spec.revision.appSpec` cannot be rolled out.
    #[error("unable to read spec.revision.appSpec: {0}")]
    AppSpec(RevisionError),
}

/// The images a Deployment rolls out: `spec.revision.images`, or those its appspec names.
///
/// # Errors
/// [`RevisionWorkloadError::NoImages`] when there are none; [`RevisionWorkloadError::AppSpec`]
/// when the appspec does not parse or map.
pub fn revision_images(
    template: &DeploymentTemplate,
) -> Result<Vec<ContainerImage>, RevisionWorkloadError> {
    let images = match (&template.revision.images, &template.revision.app_spec) {
        (Some(images), _) => images.clone(),
        (None, Some(text)) => {
            appspec::rollout_from_revision(text, template)
                .map_err(RevisionWorkloadError::AppSpec)?
                .images
        }
        (None, None) => Vec::new(),
    };
    if images.is_empty() {
        return Err(RevisionWorkloadError::NoImages);
    }
    Ok(images)
}

/// Renders the Deployment that runs `images` on `workload`'s pod template with `replicas` pods.
///
/// # Errors
/// [`RevisionWorkloadError`] naming the workload and the missing field or unknown container.
pub fn render_revision(
    workload: &AppsDeployment,
    images: &[ContainerImage],
    replicas: i32,
) -> Result<RevisionWorkload, RevisionWorkloadError> {
    let workload_name = workload
        .metadata
        .name
        .clone()
        .ok_or(RevisionWorkloadError::MissingName)?;
    let missing = |field| RevisionWorkloadError::MissingField {
        workload: workload_name.clone(),
        field,
    };
    let spec = workload.spec.as_ref().ok_or_else(|| missing("spec"))?;
    let mut template = spec.template.clone();
    let pod = template
        .spec
        .as_mut()
        .ok_or_else(|| missing("spec.template.spec"))?;
    let available = pod
        .containers
        .iter()
        .chain(pod.init_containers.iter().flatten())
        .map(|container| container.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    for image in images {
        let container = pod
            .containers
            .iter_mut()
            .chain(pod.init_containers.iter_mut().flatten())
            .find(|container| container.name == image.container)
            .ok_or_else(|| RevisionWorkloadError::UnknownContainer {
                workload: workload_name.clone(),
                container: image.container.clone(),
                available: available.clone(),
            })?;
        container.image = Some(image.image.clone());
    }

    let hash = revision_hash(&template);
    let target = label_value(&workload_name);
    let name = revision_name(&workload_name, &hash);
    let slipway_labels = [
        (TARGET_LABEL.to_owned(), target.clone()),
        (REVISION_LABEL.to_owned(), hash.clone()),
    ];

    let template_metadata = template.metadata.get_or_insert_with(ObjectMeta::default);
    template_metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .extend(slipway_labels.clone());

    let mut selector: LabelSelector = spec.selector.clone();
    selector
        .match_labels
        .get_or_insert_with(BTreeMap::new)
        .extend(slipway_labels.clone());

    let mut labels: BTreeMap<String, String> = slipway_labels.into_iter().collect();
    labels.insert(MANAGED_BY_LABEL.to_owned(), MANAGED_BY_VALUE.to_owned());
    let deployment = AppsDeployment {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([(
                WORKLOAD_ANNOTATION.to_owned(),
                workload_name.clone(),
            )])),
            ..ObjectMeta::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            selector,
            template,
            min_ready_seconds: spec.min_ready_seconds,
            progress_deadline_seconds: spec.progress_deadline_seconds,
            ..DeploymentSpec::default()
        }),
        status: None,
    };
    Ok(RevisionWorkload {
        hash,
        name,
        target,
        images: images.to_vec(),
        deployment,
    })
}

/// The revision hash of a pod template (see the module docs for the algorithm).
pub fn revision_hash(template: &PodTemplateSpec) -> String {
    // Serializing k8s-openapi types to a Value cannot fail (string keys, finite numbers).
    let value = serde_json::to_value(template).unwrap_or(Value::Null);
    let mut canonical = String::new();
    write_canonical(&value, &mut canonical);
    short_hash(canonical.as_bytes())
}

/// The Deployment name of a revision: `<workload>-<hash>`, the workload part fitted (with a
/// hash of it) when pods' names would otherwise pass 253 characters.
pub fn revision_name(workload: &str, hash: &str) -> String {
    // The workload part is fitted on its own, so a revision's name is the same for every hash
    // length and the names of revisions created before this rule stay as they were.
    let room = REVISION_NAME_MAX - 1 - hash.len();
    format!("{}-{hash}", fit_name(workload, "", room))
}

/// Canonical JSON: keys sorted at every level, no whitespace.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(fields) => {
            let mut keys: Vec<&String> = fields.keys().collect();
            keys.sort();
            out.push('{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&fields[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
#[path = "revision_tests.rs"]
mod tests;
