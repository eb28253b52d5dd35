//! Revisions and selectors as data: the pure helpers the observe and apply steps share, so what
//! apply writes is exactly what observe reads back.
//!
//! - [`revision_pod_template`] derives a revision's pod template from the target workload's
//!   template and the new images; [`revision_hash`] names it (FNV-1a over the template's JSON,
//!   stable across processes and releases, unlike `std`'s hasher). The hash is taken before the
//!   Slipway labels are added, so the user's workload and a copy of it share a hash.
//! - [`revision_labels`] are the labels of a revision's object, selector and pods;
//!   [`revision_workload_name`] its name.
//! - [`service_selector`] turns a [`Selection`] into a Service selector: the workload's own
//!   selector plus [`TARGET_LABEL`] (plus [`REVISION_LABEL`] for one revision), so a revision's
//!   pods always match the user's selector too. [`selection_of`] reads one back (`None` for any
//!   selector Slipway did not write, such as the user's own).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodTemplateSpec;

use super::traffic::{REVISION_LABEL, Selection, TARGET_LABEL};
use crate::api::deployment::ContainerImage;

/// Why a revision cannot be derived from the target workload.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RevisionError {
    /// The workload's template has no `spec`.
    #[error("unable to derive a revision: workload {workload} has no pod spec in spec.template")]
    NoPodSpec {
        /// The workload's name.
        workload: String,
    },
    /// An image names a container the template does not have.
    #[error(
        "unable to derive a revision: spec.revision names container {container}, which workload {workload} does not have (it has {available})"
    )]
    UnknownContainer {
        /// The container named.
        container: String,
        /// The workload's name.
        workload: String,
        /// The containers it has, comma-separated.
        available: String,
    },
}

/// The revision's pod template: `template` with each named container's image replaced.
///
/// # Errors
/// [`RevisionError`] when the template has no spec or an image names an unknown container.
pub fn revision_pod_template(
    workload: &str,
    template: &PodTemplateSpec,
    images: &[ContainerImage],
) -> Result<PodTemplateSpec, RevisionError> {
    let mut derived = template.clone();
    let spec = derived
        .spec
        .as_mut()
        .ok_or_else(|| RevisionError::NoPodSpec {
            workload: workload.to_owned(),
        })?;
    for image in images {
        let container = spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten())
            .find(|container| container.name == image.container);
        match container {
            Some(container) => container.image = Some(image.image.clone()),
            None => {
                let available = spec
                    .containers
                    .iter()
                    .map(|container| container.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(RevisionError::UnknownContainer {
                    container: image.container.clone(),
                    workload: workload.to_owned(),
                    available,
                });
            }
        }
    }
    Ok(derived)
}

/// The revision hash of a pod template: 10 lowercase hex digits of FNV-1a 64 over its JSON,
/// ignoring the Slipway labels.
pub fn revision_hash(template: &PodTemplateSpec) -> String {
    let mut unlabelled = template.clone();
    if let Some(labels) = unlabelled
        .metadata
        .as_mut()
        .and_then(|metadata| metadata.labels.as_mut())
    {
        labels.remove(REVISION_LABEL);
        labels.remove(TARGET_LABEL);
    }
    // serde_json::Value keeps object keys sorted, so the text is canonical.
    let text = serde_json::to_value(&unlabelled)
        .map(|value| value.to_string())
        .unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:010x}", hash & 0xff_ffff_ffff)
}

/// The labels on a revision's workload, selector and pods.
pub fn revision_labels(target: &str, hash: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (TARGET_LABEL.to_owned(), target.to_owned()),
        (REVISION_LABEL.to_owned(), hash.to_owned()),
    ])
}

/// The revision workload's name: `<target>-<hash>`, the target cut to fit 63 characters.
pub fn revision_workload_name(target: &str, hash: &str) -> String {
    let room = 63usize.saturating_sub(hash.len() + 1);
    let mut base: String = target.chars().take(room).collect();
    while base.ends_with(['-', '.']) {
        base.pop();
    }
    format!("{base}-{hash}")
}

/// The Service selector for `selection`: the workload's selector plus the Slipway labels.
pub fn service_selector(
    workload_selector: &BTreeMap<String, String>,
    target: &str,
    selection: &Selection,
) -> BTreeMap<String, String> {
    let mut selector = workload_selector.clone();
    selector.insert(TARGET_LABEL.to_owned(), target.to_owned());
    match selection {
        Selection::Revision(hash) => {
            selector.insert(REVISION_LABEL.to_owned(), hash.clone());
        }
        Selection::AllRevisions => {
            selector.remove(REVISION_LABEL);
        }
    }
    selector
}

/// What a Service selector selects, when Slipway wrote it for `target`.
pub fn selection_of(
    selector: &BTreeMap<String, String>,
    workload_selector: &BTreeMap<String, String>,
    target: &str,
) -> Option<Selection> {
    if selector.get(TARGET_LABEL).map(String::as_str) != Some(target) {
        return None;
    }
    let selection = match selector.get(REVISION_LABEL) {
        Some(hash) => Selection::Revision(hash.clone()),
        None => Selection::AllRevisions,
    };
    (service_selector(workload_selector, target, &selection) == *selector).then_some(selection)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn template() -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(BTreeMap::from([("app".to_owned(), "web".to_owned())])),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                containers: vec![
                    Container {
                        name: "web".into(),
                        image: Some("web:1".into()),
                        ..Default::default()
                    },
                    Container {
                        name: "proxy".into(),
                        image: Some("proxy:1".into()),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
        }
    }

    fn image(container: &str, image: &str) -> ContainerImage {
        ContainerImage {
            container: container.into(),
            image: image.into(),
        }
    }

    #[test]
    fn new_images_replace_only_the_named_containers() {
        let derived = revision_pod_template("web", &template(), &[image("web", "web:2")]).unwrap();
        let containers = derived.spec.unwrap().containers;
        assert_eq!(containers[0].image.as_deref(), Some("web:2"));
        assert_eq!(containers[1].image.as_deref(), Some("proxy:1"));
    }

    #[test]
    fn unknown_container_is_refused_with_the_available_names() {
        let error = revision_pod_template("web", &template(), &[image("app", "x")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unable to derive a revision: spec.revision names container app, which workload web does not have (it has web, proxy)"
        );
    }

    #[test]
    fn hash_is_stable_differs_by_image_and_ignores_slipway_labels() {
        let original = template();
        let hash = revision_hash(&original);
        assert_eq!(hash.len(), 10);
        assert_eq!(hash, revision_hash(&original.clone()));
        let derived = revision_pod_template("web", &original, &[image("web", "web:2")]).unwrap();
        assert_ne!(revision_hash(&derived), hash);
        let mut labelled = original.clone();
        labelled
            .metadata
            .as_mut()
            .unwrap()
            .labels
            .as_mut()
            .unwrap()
            .extend(revision_labels("web", &hash));
        assert_eq!(revision_hash(&labelled), hash);
    }

    #[test]
    fn selectors_round_trip_and_foreign_selectors_read_as_none() {
        let base = BTreeMap::from([("app".to_owned(), "web".to_owned())]);
        for selection in [Selection::Revision("abc".into()), Selection::AllRevisions] {
            let selector = service_selector(&base, "web", &selection);
            assert_eq!(selection_of(&selector, &base, "web"), Some(selection));
        }
        assert_eq!(selection_of(&base, &base, "web"), None);
        let other_target = service_selector(&base, "api", &Selection::AllRevisions);
        assert_eq!(selection_of(&other_target, &base, "web"), None);
    }

    #[test]
    fn workload_names_fit_a_dns_label() {
        assert_eq!(
            revision_workload_name("web", "0123456789"),
            "web-0123456789"
        );
        assert!(revision_workload_name(&"w".repeat(70), "0123456789").len() <= 63);
    }
}
