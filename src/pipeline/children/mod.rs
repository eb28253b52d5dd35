//! The objects a PipelineExecution creates for its actions, rendered purely: a BuildRun for a
//! `build` action ([`build`]), a `deployments.slipway.dev` record for `deploy` ([`deploy`]), a
//! batch/v1 Job for `job` ([`job`]). Approval and Jenkins actions create nothing in the cluster.
//!
//! # Names
//! `<execution>-<stage>-<action>-<attempt>`, lowercased with every character a DNS label does not
//! allow turned into `-`, fitted to 63 characters by [`crate::runtime::names::fit_name`]. When the
//! lowering changed anything (`Build_1` and `build-1` would meet) the hash of the exact stage
//! and action names is inserted, so two actions never share a child. The same inputs always give
//! the same name: a create after a restart meets the existing child (409) instead of starting
//! the action twice.
//!
//! # Ownership and labels
//! Every child has the execution as its controller owner (deleting the execution deletes them)
//! and carries `slipway.dev/pipeline`, `slipway.dev/execution` and `slipway.dev/execution-uid`
//! labels plus stage/action/attempt annotations, so the controller selects them by UID and a
//! person can tell which action made them.

pub mod build;
pub mod deploy;
pub mod job;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::runtime::labels::{
    ACTION_ANNOTATION, ATTEMPT_ANNOTATION, EXECUTION_ANNOTATION, EXECUTION_LABEL,
    EXECUTION_UID_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, PIPELINE_LABEL, STAGE_ANNOTATION,
};
use crate::runtime::names::{LABEL_VALUE_MAX, fit_name, label_value, short_hash};

/// Which run, stage, action and attempt a child is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildOwner {
    /// The execution's name.
    pub execution: String,
    /// The execution's UID.
    pub execution_uid: String,
    /// The execution's namespace.
    pub namespace: String,
    /// The Pipeline's name.
    pub pipeline: String,
    /// The stage.
    pub stage: String,
    /// The action.
    pub action: String,
    /// The stage attempt.
    pub attempt: i32,
}

/// The child's name (see the module docs).
pub fn child_name(execution: &str, stage: &str, action: &str, attempt: i32) -> String {
    let raw = format!("{stage}-{action}");
    let lowered = dns_label_text(&raw);
    let base = if lowered == raw {
        format!("{}-{lowered}", dns_label_text(execution))
    } else {
        format!(
            "{}-{lowered}-{}",
            dns_label_text(execution),
            &short_hash(format!("{stage}\0{action}").as_bytes())[..6]
        )
    };
    fit_name(&base, &format!("-{attempt}"), LABEL_VALUE_MAX)
}

/// `text` lowercased with characters outside `[a-z0-9-]` turned into `-`, runs of `-` folded
/// and none at the ends.
pub fn dns_label_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// The metadata every child gets: name, namespace, labels, annotations, controller owner.
pub fn child_metadata(owner: &ChildOwner, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(owner.namespace.clone()),
        labels: Some(child_labels(owner)),
        annotations: Some(child_annotations(owner)),
        owner_references: Some(vec![owner_reference(owner)]),
        ..ObjectMeta::default()
    }
}

/// The labels of a child (and of the pods of a Job child).
pub fn child_labels(owner: &ChildOwner) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY_LABEL.to_owned(), MANAGED_BY_VALUE.to_owned()),
        (PIPELINE_LABEL.to_owned(), label_value(&owner.pipeline)),
        (EXECUTION_LABEL.to_owned(), label_value(&owner.execution)),
        (EXECUTION_UID_LABEL.to_owned(), owner.execution_uid.clone()),
    ])
}

/// The annotations of a child.
pub fn child_annotations(owner: &ChildOwner) -> BTreeMap<String, String> {
    BTreeMap::from([
        (EXECUTION_ANNOTATION.to_owned(), owner.execution.clone()),
        (STAGE_ANNOTATION.to_owned(), owner.stage.clone()),
        (ACTION_ANNOTATION.to_owned(), owner.action.clone()),
        (ATTEMPT_ANNOTATION.to_owned(), owner.attempt.to_string()),
    ])
}

/// The controller owner reference to the execution.
pub fn owner_reference(owner: &ChildOwner) -> OwnerReference {
    OwnerReference {
        api_version: format!(
            "{}/{}",
            crate::api::common::GROUP,
            crate::api::common::VERSION
        ),
        kind: "PipelineExecution".to_owned(),
        name: owner.execution.clone(),
        uid: owner.execution_uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_name_reads_as_execution_stage_action_attempt() {
        assert_eq!(
            child_name("webapp-x7k2p", "build", "image", 1),
            "webapp-x7k2p-build-image-1"
        );
    }

    #[test]
    fn names_unfit_for_dns_are_lowered_with_a_hash_of_the_exact_names() {
        let upper = child_name("webapp-1", "Build", "BuildImage", 2);
        assert!(upper.starts_with("webapp-1-build-buildimage-"), "{upper}");
        assert!(upper.ends_with("-2"));
        assert_ne!(
            child_name("run", "Build_1", "a", 1),
            child_name("run", "build-1", "a", 1),
            "two stages that lower alike keep distinct children"
        );
        assert_ne!(
            child_name("run", "Build", "A", 1),
            child_name("run", "build", "a", 1)
        );
    }

    #[test]
    fn long_names_fit_a_dns_label_and_keep_the_attempt() {
        let name = child_name(&"e".repeat(60), &"s".repeat(90), &"a".repeat(90), 12);
        assert!(name.len() <= 63, "{name}");
        assert!(name.ends_with("-12"));
        assert_ne!(
            name,
            child_name(&"e".repeat(60), &"s".repeat(90), &"b".repeat(90), 12)
        );
    }

    #[test]
    fn dns_label_text_folds_what_a_label_cannot_hold() {
        assert_eq!(dns_label_text("Prod.EU@west__1-"), "prod-eu-west-1");
        assert_eq!(dns_label_text("--a--"), "a");
    }
}
