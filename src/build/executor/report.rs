//! The build's result: phase records, the result file, the termination message and the exit code.
//!
//! # Result
//! [`BuildResult`] is JSON in the shape of `BuildRunStatus` (`buildStatus`, `message`, `phases`
//! as `BuildPhase`, `exportedVariables` as `NameValue`), so the controller copies fields over.
//! Phase records: `DOWNLOAD_SOURCE` only when the executor failed before the first phase
//! (invalid buildspec, missing Secret key); then `INSTALL`, `PRE_BUILD`, `BUILD`, `POST_BUILD`
//! as reached (a retried phase has one record per attempt), `UPLOAD_ARTIFACTS` when attempted,
//! `FINALIZING`, and `COMPLETED` (start time only), as CodeBuild records them.
//!
//! # Termination message (at most [`TERMINATION_MESSAGE_LIMIT`] bytes)
//! The full result when it fits, with `"complete": true`. Otherwise a summary with
//! `"complete": false`: status, message and phases kept (messages shortened), exported variables
//! kept while they fit and the names of the others in `omittedExportedVariables` (artifact
//! records likewise, before the variables: `artifacts` and `omittedArtifacts`), `images`
//! kept (dropped only in the last resort, with the phases), and
//! `resultFile` naming the file that holds the full result (written whenever a result file is
//! configured), and `resultLocation` naming the copy in the artifact store when one is
//! configured (the pod's files are gone once it ends; the store is how the controller reads
//! the rest). The controller reads `complete` to know
//! whether to fetch the rest. Both carry `"kind": "slipway.dev/BuildResult"` and
//! `"version": 1`.
//!
//! # Exit code
//! `0` SUCCEEDED, `1` FAILED (a command or phase failed, or the buildspec is invalid), `2` FAULT
//! (the executor could not run the build: missing Secret key, no shell, unwritable work
//! directory). Any other code (a crash, `137` for OOM) without a termination message is a FAULT
//! for the controller.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::api::buildrun::{BuildPhase, BuildPhaseType, BuildStatus, ImageResult};
use crate::api::common::{ArtifactRecord, NameValue};

/// Kubernetes' limit on a container's termination message.
pub const TERMINATION_MESSAGE_LIMIT: usize = 4096;

/// The `kind` of result documents.
pub const RESULT_KIND: &str = "slipway.dev/BuildResult";

/// How long a phase message may be in a shortened termination message.
const SHORT_MESSAGE_CHARS: usize = 200;

/// What the executor reports to the controller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildResult {
    /// Always [`RESULT_KIND`].
    pub kind: String,
    /// The format version (1).
    pub version: u32,
    /// Whether this document is the whole result (`false`: see `result_file`).
    pub complete: bool,
    /// How the build ended.
    pub build_status: BuildStatus,
    /// One line on why it ended so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the executor started.
    pub start_time: Time,
    /// When it finished.
    pub end_time: Time,
    /// Phase records, in order.
    #[serde(default)]
    pub phases: Vec<BuildPhase>,
    /// `env.exported-variables` as they stood after the last phase (secrets masked).
    #[serde(default)]
    pub exported_variables: Vec<NameValue>,
    /// Image outputs built and pushed, with the digests read back from the registry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageResult>,
    /// Exported variables left out of a shortened termination message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub omitted_exported_variables: Vec<String>,
    /// Artifacts uploaded to the artifact store (see [`crate::build::artifacts`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<ArtifactRecord>,
    /// Artifacts left out of a shortened termination message (their records are in the full
    /// result).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub omitted_artifacts: Vec<String>,
    /// Where the artifact store holds the full result, when this one is shortened (see
    /// [`crate::build::artifacts::StoreUploader::store_full_result`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_location: Option<String>,
    /// The file holding the full result, when this one is shortened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_file: Option<String>,
}

impl BuildResult {
    /// A complete result.
    pub fn new(build_status: BuildStatus, start_time: Timestamp) -> BuildResult {
        BuildResult {
            kind: RESULT_KIND.to_owned(),
            version: 1,
            complete: true,
            build_status,
            message: None,
            start_time: Time(start_time),
            end_time: Time(Timestamp::now()),
            phases: Vec::new(),
            exported_variables: Vec::new(),
            images: Vec::new(),
            omitted_exported_variables: Vec::new(),
            artifacts: Vec::new(),
            omitted_artifacts: Vec::new(),
            result_location: None,
            result_file: None,
        }
    }

    /// The same result with `images` recorded.
    #[must_use]
    pub fn with_images(mut self, images: Vec<ImageResult>) -> BuildResult {
        self.images = images;
        self
    }

    /// The process exit code for this result (see the module docs).
    pub fn exit_code(&self) -> u8 {
        exit_code(self.build_status)
    }

    /// The full result as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The exit code for a build status.
pub fn exit_code(status: BuildStatus) -> u8 {
    match status {
        BuildStatus::Succeeded => 0,
        BuildStatus::Failed => 1,
        _ => 2,
    }
}

/// The termination message for `result` (at most [`TERMINATION_MESSAGE_LIMIT`] bytes).
pub fn termination_message(result: &BuildResult, result_file: Option<&str>) -> String {
    let full = result.to_json();
    if full.len() <= TERMINATION_MESSAGE_LIMIT {
        return full;
    }
    let mut summary = result.clone();
    summary.complete = false;
    summary.result_file = result_file.map(str::to_owned);
    summary.message = summary.message.map(|message| shorten(&message));
    for phase in &mut summary.phases {
        phase.message = phase.message.take().map(|message| shorten(&message));
    }
    // Artifact records first (a pipeline's next action reads them), then exported variables.
    let candidates = std::mem::take(&mut summary.exported_variables);
    summary.omitted_exported_variables = candidates.iter().map(|v| v.name.clone()).collect();
    let records = std::mem::take(&mut summary.artifacts);
    summary.omitted_artifacts = records.iter().map(|r| r.name.clone()).collect();
    for record in records {
        summary.artifacts.push(record);
        summary.omitted_artifacts.remove(0);
        if summary.to_json().len() > TERMINATION_MESSAGE_LIMIT {
            let dropped = summary.artifacts.pop().map(|r| r.name);
            summary
                .omitted_artifacts
                .insert(0, dropped.unwrap_or_default());
            break;
        }
    }
    // Keep variables in order while the summary still fits.
    for variable in candidates {
        summary.exported_variables.push(variable);
        summary.omitted_exported_variables.remove(0);
        if summary.to_json().len() > TERMINATION_MESSAGE_LIMIT {
            let dropped = summary.exported_variables.pop().map(|v| v.name);
            summary
                .omitted_exported_variables
                .insert(0, dropped.unwrap_or_default());
            break;
        }
    }
    let mut text = summary.to_json();
    while text.len() > TERMINATION_MESSAGE_LIMIT
        && (summary.omitted_exported_variables.pop().is_some()
            || summary.omitted_artifacts.pop().is_some())
    {
        text = summary.to_json();
    }
    if text.len() > TERMINATION_MESSAGE_LIMIT {
        // Only status and pointer are sure to fit; the images (the digests a pipeline deploys)
        // stay when they do.
        summary.phases.clear();
        summary.exported_variables.clear();
        summary.omitted_exported_variables.clear();
        summary.artifacts.clear();
        summary.omitted_artifacts.clear();
        text = summary.to_json();
        if text.len() > TERMINATION_MESSAGE_LIMIT {
            summary.images.clear();
            text = summary.to_json();
        }
    }
    text
}

/// `message` cut to [`SHORT_MESSAGE_CHARS`] characters with an ellipsis.
fn shorten(message: &str) -> String {
    if message.chars().count() <= SHORT_MESSAGE_CHARS {
        return message.to_owned();
    }
    let mut short: String = message.chars().take(SHORT_MESSAGE_CHARS - 1).collect();
    short.push('…');
    short
}

/// Builds the phase records as the build moves on.
#[derive(Clone, Debug, Default)]
pub struct PhaseRecorder {
    phases: Vec<BuildPhase>,
}

impl PhaseRecorder {
    /// Starts a record of `phase_type` now.
    pub fn enter(&mut self, phase_type: BuildPhaseType) {
        self.phases.push(BuildPhase {
            phase_type,
            phase_status: None,
            start_time: Some(Time(Timestamp::now())),
            end_time: None,
            duration_in_seconds: None,
            message: None,
        });
    }

    /// Ends the open record with `status` and an optional context message.
    pub fn complete(&mut self, status: BuildStatus, message: Option<String>) {
        let Some(phase) = self.phases.last_mut() else {
            return;
        };
        let end = Timestamp::now();
        phase.phase_status = Some(status);
        phase.end_time = Some(Time(end));
        phase.duration_in_seconds = phase
            .start_time
            .as_ref()
            .map(|start| (end.as_millisecond() - start.0.as_millisecond()) / 1000);
        phase.message = message;
    }

    /// Whether the last record is still open.
    pub fn is_open(&self) -> bool {
        self.phases
            .last()
            .is_some_and(|phase| phase.phase_status.is_none())
    }

    /// The records.
    pub fn into_phases(self) -> Vec<BuildPhase> {
        self.phases
    }
}

/// The `BuildPhaseType` of a buildspec phase.
pub fn phase_type(phase: crate::build::buildspec::PhaseName) -> BuildPhaseType {
    use crate::build::buildspec::PhaseName;
    match phase {
        PhaseName::Install => BuildPhaseType::Install,
        PhaseName::PreBuild => BuildPhaseType::PreBuild,
        PhaseName::Build => BuildPhaseType::Build,
        PhaseName::PostBuild => BuildPhaseType::PostBuild,
    }
}

/// A status as CodeBuild spells it (`SUCCEEDED`).
pub fn status_name(status: BuildStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A phase type as CodeBuild spells it (`POST_BUILD`).
pub fn phase_type_name(phase_type: BuildPhaseType) -> String {
    serde_json::to_value(phase_type)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A table of the phases with their status and duration (milliseconds), for people.
pub fn phase_table(result: &BuildResult) -> String {
    let mut table = format!("{:<18} {:<10} {:>10}\n", "PHASE", "STATUS", "DURATION");
    for phase in &result.phases {
        let status = phase.phase_status.map(status_name).unwrap_or_default();
        let duration = match (&phase.start_time, &phase.end_time) {
            (Some(start), Some(end)) => {
                let millis = end.0.as_millisecond() - start.0.as_millisecond();
                format!("{}.{:03}s", millis / 1000, millis % 1000)
            }
            _ => String::new(),
        };
        table.push_str(&format!(
            "{:<18} {:<10} {:>10}\n",
            phase_type_name(phase.phase_type),
            status,
            duration
        ));
    }
    table
}

#[cfg(test)]
mod image_tests {
    use super::*;

    #[test]
    fn a_shortened_termination_message_keeps_the_images() {
        let mut result = BuildResult::new(BuildStatus::Succeeded, Timestamp::now());
        result.exported_variables = vec![NameValue {
            name: "HUGE".into(),
            value: "x".repeat(10_000),
        }];
        result.images = vec![ImageResult {
            name: "web".into(),
            repository: "127.0.0.1:5000/web".into(),
            tags: vec!["abc1234".into()],
            digest: Some(format!("sha256:{}", "0".repeat(64))),
            image_uri: Some(format!("127.0.0.1:5000/web@sha256:{}", "0".repeat(64))),
        }];
        let message = termination_message(&result, Some("/workspace/.slipway/result.json"));
        assert!(message.len() <= TERMINATION_MESSAGE_LIMIT);
        let summary: BuildResult = serde_json::from_str(&message).unwrap();
        assert!(!summary.complete);
        assert_eq!(summary.images, result.images);
        assert_eq!(summary.omitted_exported_variables, ["HUGE"]);
    }
}
