//! Reading the executor's result from the build container's termination message.
//!
//! The document is [`crate::build::executor::BuildResult`] (`kind: slipway.dev/BuildResult`).
//! It is read through a tolerant view, [`ReportedResult`], so fields other parts of the build add
//! (`images` from the image builder, `artifacts` from the artifact store) are picked up when
//! present and a document without them still reads.

use serde::Deserialize;

use crate::api::buildrun::{BuildPhase, BuildStatus, ImageResult};
use crate::api::common::{ArtifactRecord, NameValue};
use crate::build::executor::report::RESULT_KIND;

/// The executor's result as the controller reads it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReportedResult {
    /// `slipway.dev/BuildResult`.
    pub kind: String,
    /// Whether the message holds the whole result (a summary names `result_file`).
    #[serde(default)]
    pub complete: bool,
    /// How the build ended.
    pub build_status: BuildStatus,
    /// One line on why.
    #[serde(default)]
    pub message: Option<String>,
    /// Phase records, in order.
    #[serde(default)]
    pub phases: Vec<BuildPhase>,
    /// Exported variables.
    #[serde(default)]
    pub exported_variables: Vec<NameValue>,
    /// Exported variables left out of a summary.
    #[serde(default)]
    pub omitted_exported_variables: Vec<String>,
    /// The file holding the full result, for a summary (inside the pod: gone with it).
    #[serde(default)]
    pub result_file: Option<String>,
    /// Where the artifact store keeps the full result, for a summary.
    #[serde(default)]
    pub result_location: Option<String>,
    /// Artifact records left out of a summary.
    #[serde(default)]
    pub omitted_artifacts: Vec<String>,
    /// Images pushed.
    #[serde(default)]
    pub images: Vec<ImageResult>,
    /// Artifacts uploaded.
    #[serde(default)]
    pub artifacts: Vec<ArtifactRecord>,
    /// The commit the source resolved to, when the executor reports it.
    #[serde(default)]
    pub resolved_source_version: Option<String>,
}

/// The result in a termination message, or `None` when the message is not one.
pub fn parse_result(message: &str) -> Option<ReportedResult> {
    let result: ReportedResult = serde_json::from_str(message.trim()).ok()?;
    (result.kind == RESULT_KIND).then_some(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::executor::BuildResult;

    #[test]
    fn the_executors_document_reads_back() {
        let mut result = BuildResult::new(BuildStatus::Failed, k8s_openapi::jiff::Timestamp::now());
        result.message = Some("phase BUILD failed".into());
        result.exported_variables = vec![NameValue {
            name: "TAG".into(),
            value: "v1".into(),
        }];
        let read = parse_result(&result.to_json()).expect("reads");
        assert!(read.complete);
        assert_eq!(read.build_status, BuildStatus::Failed);
        assert_eq!(read.exported_variables, result.exported_variables);
        assert!(read.images.is_empty());
    }

    #[test]
    fn fields_added_by_other_parts_are_read_when_present() {
        let text = r#"{"kind":"slipway.dev/BuildResult","version":1,"complete":true,"buildStatus":"SUCCEEDED",
            "images":[{"name":"web","repository":"r/web","digest":"sha256:aa","imageURI":"r/web@sha256:aa"}],
            "artifacts":[{"name":"out","location":"oci://r/a@sha256:bb"}]}"#;
        let read = parse_result(text).expect("reads");
        assert_eq!(read.images[0].image_uri.as_deref(), Some("r/web@sha256:aa"));
        assert_eq!(read.artifacts[0].name, "out");
    }

    #[test]
    fn other_messages_are_not_results() {
        assert_eq!(parse_result(""), None);
        assert_eq!(parse_result("panic: out of memory"), None);
        assert_eq!(
            parse_result(r#"{"kind":"Other","buildStatus":"SUCCEEDED"}"#),
            None
        );
    }
}
