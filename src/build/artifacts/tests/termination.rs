//! Artifact records in the termination message: all of them when they fit, otherwise as many
//! as fit, the others named in `omittedArtifacts` and kept in the result file.

use crate::api::buildrun::BuildStatus;
use crate::api::common::ArtifactRecord;
use crate::build::executor::{BuildResult, TERMINATION_MESSAGE_LIMIT, termination_message};

fn result_with(count: usize) -> BuildResult {
    let mut result = BuildResult::new(BuildStatus::Succeeded, k8s_openapi::jiff::Timestamp::now());
    result.artifacts = (0..count)
        .map(|index| ArtifactRecord {
            name: format!("artifact-{index}"),
            location: format!(
                "oci://127.0.0.1:5000/team/artifacts@sha256:{}",
                format!("{index:x}").repeat(64)[..64].to_owned()
            ),
            digest: Some(format!("sha256:{}", "a".repeat(64))),
            produced_by: None,
        })
        .collect();
    result
}

#[test]
fn a_few_artifact_records_travel_whole() {
    let message = termination_message(&result_with(3), Some("/workspace/.slipway/result.json"));
    let summary: serde_json::Value = serde_json::from_str(&message).unwrap();
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["artifacts"].as_array().unwrap().len(), 3);
    assert!(summary.get("omittedArtifacts").is_none());
}

#[test]
fn many_artifact_records_are_cut_to_4_kib_and_the_rest_named() {
    let message = termination_message(&result_with(100), Some("/workspace/.slipway/result.json"));
    assert!(
        message.len() <= TERMINATION_MESSAGE_LIMIT,
        "{}",
        message.len()
    );
    let summary: serde_json::Value = serde_json::from_str(&message).unwrap();
    assert_eq!(summary["complete"], false);
    assert_eq!(summary["resultFile"], "/workspace/.slipway/result.json");
    let kept = summary["artifacts"].as_array().unwrap();
    let omitted = summary["omittedArtifacts"].as_array().unwrap();
    assert!(!kept.is_empty(), "records are kept while they fit");
    assert!(!omitted.is_empty());
    assert_eq!(
        kept.len() + omitted.len(),
        100,
        "every record is kept or named"
    );
    assert_eq!(kept[0]["name"], "artifact-0", "in order");
    assert_eq!(omitted[0], format!("artifact-{}", kept.len()).as_str());
}
