//! CodeBuild's transition rules, one test per rule, each run for buildspec versions 0.1 and 0.2
//! (transitions do not depend on the version; only the shell does).
//!
//! A case is a buildspec's `phases:` section, the commands that fail (and how many times), and
//! the expected trace of steps:
//! `enter BUILD`, `run BUILD commands[0] make`, `complete BUILD FAILED`, `capture`, `upload`,
//! `finish FAILED`. A command running with `CODEBUILD_BUILD_SUCCEEDING=0` is suffixed
//! `[succeeding=0]`; a retried phase shows `#attempt`.

use std::collections::HashMap;

use crate::build::buildspec::parse_buildspec;
use crate::build::executor::plan::{Block, Outcome, PhaseOutcome, Plan, Step};

/// The key in `failures` that gives the plan image outputs; its count is how many times
/// publishing fails.
pub(super) const PUBLISH: &str = "<publish images>";

/// The steps taken for `phases` when the commands in `failures` fail (each the given number
/// of times before succeeding) and the upload succeeds or not.
pub(super) fn trace_with(
    version: &str,
    phases: &str,
    failures: &[(&str, u32)],
    upload_ok: bool,
) -> Vec<String> {
    let text = format!("version: {version}\nphases:\n{phases}");
    let spec = match parse_buildspec(&text, "buildspec.yml") {
        Ok(parsed) => parsed.spec,
        Err(invalid) => panic!("invalid test buildspec:\n{invalid}"),
    };
    let mut remaining: HashMap<&str, u32> = failures.iter().copied().collect();
    let mut plan = Plan::new(&spec.phases);
    if remaining.contains_key(PUBLISH) {
        plan = plan.with_image_publishing();
    }
    let mut outcome = Outcome::None;
    let mut trace = Vec::new();
    for _ in 0..200 {
        match plan.next(std::mem::replace(&mut outcome, Outcome::None)) {
            Step::EnterPhase { phase, attempt } => trace.push(match attempt {
                1 => format!("enter {}", phase.build_phase_type()),
                _ => format!("enter {} #{attempt}", phase.build_phase_type()),
            }),
            Step::RunCommand {
                phase,
                block,
                index,
                command,
                build_succeeding,
            } => {
                let block = match block {
                    Block::Commands => "commands",
                    Block::Finally => "finally",
                };
                let suffix = if build_succeeding {
                    ""
                } else {
                    " [succeeding=0]"
                };
                trace.push(format!(
                    "run {} {block}[{index}] {}{suffix}",
                    phase.build_phase_type(),
                    command.text
                ));
                outcome = match remaining.get_mut(command.text.as_str()) {
                    Some(left) if *left > 0 => {
                        *left -= 1;
                        Outcome::command_failed(format!("exit status 1 from {}", command.text))
                    }
                    _ => Outcome::command_succeeded(),
                };
            }
            Step::CompletePhase {
                phase,
                outcome: phase_outcome,
                retry,
                ..
            } => {
                let status = match phase_outcome {
                    PhaseOutcome::Succeeded => "SUCCEEDED",
                    PhaseOutcome::Failed { .. } => "FAILED",
                };
                let retry = retry
                    .map(|next| format!(" retry #{next}"))
                    .unwrap_or_default();
                trace.push(format!(
                    "complete {} {status}{retry}",
                    phase.build_phase_type()
                ));
            }
            Step::PublishImages => {
                trace.push("publish".to_owned());
                let failed = remaining.get_mut(PUBLISH).filter(|left| **left > 0);
                outcome = Outcome::Publish {
                    succeeded: failed.is_none(),
                    message: "IMAGE_PUSH_ERROR: denied".to_owned(),
                };
                if let Some(left) = failed {
                    *left -= 1;
                }
            }
            Step::CaptureExportedVariables => trace.push("capture".to_owned()),
            Step::UploadArtifacts { .. } => {
                trace.push("upload".to_owned());
                outcome = Outcome::Upload {
                    succeeded: upload_ok,
                };
            }
            Step::Finish { succeeded } => {
                trace.push(format!(
                    "finish {}",
                    if succeeded { "SUCCEEDED" } else { "FAILED" }
                ));
                return trace;
            }
        }
    }
    panic!("the plan did not finish: {trace:#?}");
}

/// Asserts the trace for both versions.
pub(super) fn assert_trace(phases: &str, failures: &[(&str, u32)], expected: &[&str]) {
    assert_trace_with(phases, failures, true, expected);
}

pub(super) fn assert_trace_with(
    phases: &str,
    failures: &[(&str, u32)],
    upload_ok: bool,
    expected: &[&str],
) {
    for version in ["0.1", "0.2"] {
        assert_eq!(
            trace_with(version, phases, failures, upload_ok),
            expected,
            "version {version}, phases:\n{phases}"
        );
    }
}

pub(super) const ALWAYS: u32 = u32::MAX;

/// All four phases, one command each (`i`, `p`, `b`, `pb`).
pub(super) const FOUR: &str = "  install:\n    commands: [i]\n  pre_build:\n    commands: [p]\n  build:\n    commands: [b]\n  post_build:\n    commands: [pb]\n";

/// The start of `FOUR`'s trace when `INSTALL` and `PRE_BUILD` succeed.
pub(super) const FOUR_INSTALL_AND_PRE_BUILD: &[&str] = &[
    "enter INSTALL",
    "run INSTALL commands[0] i",
    "complete INSTALL SUCCEEDED",
    "enter PRE_BUILD",
    "run PRE_BUILD commands[0] p",
    "complete PRE_BUILD SUCCEEDED",
];

/// `FOUR`'s trace from `POST_BUILD` to the upload when the build is still succeeding.
pub(super) const FOUR_POST_BUILD_AND_UPLOAD: &[&str] = &[
    "enter POST_BUILD",
    "run POST_BUILD commands[0] pb",
    "complete POST_BUILD SUCCEEDED",
    "capture",
    "upload",
];

/// The end of `FOUR`'s trace after `BUILD` failed: `POST_BUILD` runs with
/// `CODEBUILD_BUILD_SUCCEEDING=0`, the artifacts upload and the build fails.
pub(super) const FOUR_POST_BUILD_AFTER_FAILED_BUILD: &[&str] = &[
    "enter POST_BUILD",
    "run POST_BUILD commands[0] pb [succeeding=0]",
    "complete POST_BUILD SUCCEEDED",
    "capture",
    "upload",
    "finish FAILED",
];

/// The four phases with `on-failure: VALUE` on `phase`.
pub(super) fn four_with(phase: &str, on_failure: &str) -> String {
    FOUR.replace(
        &format!("  {phase}:\n"),
        &format!("  {phase}:\n    on-failure: {on_failure}\n"),
    )
}

#[test]
fn a_build_whose_commands_succeed_runs_every_phase_then_uploads_and_succeeds() {
    assert_trace(
        FOUR,
        &[],
        &[
            FOUR_INSTALL_AND_PRE_BUILD,
            &[
                "enter BUILD",
                "run BUILD commands[0] b",
                "complete BUILD SUCCEEDED",
            ],
            FOUR_POST_BUILD_AND_UPLOAD,
            &["finish SUCCEEDED"],
        ]
        .concat(),
    );
}

#[test]
fn phases_the_buildspec_leaves_out_are_entered_and_complete_at_once() {
    assert_trace(
        "  build:\n    commands: [b]\n",
        &[],
        &[
            "enter INSTALL",
            "complete INSTALL SUCCEEDED",
            "enter PRE_BUILD",
            "complete PRE_BUILD SUCCEEDED",
            "enter BUILD",
            "run BUILD commands[0] b",
            "complete BUILD SUCCEEDED",
            "enter POST_BUILD",
            "complete POST_BUILD SUCCEEDED",
            "capture",
            "upload",
            "finish SUCCEEDED",
        ],
    );
}

#[test]
fn commands_run_in_order_and_a_failure_skips_the_rest_of_the_phase() {
    assert_trace(
        "  build:\n    commands: [one, two, three]\n",
        &[("two", ALWAYS)],
        &[
            "enter INSTALL",
            "complete INSTALL SUCCEEDED",
            "enter PRE_BUILD",
            "complete PRE_BUILD SUCCEEDED",
            "enter BUILD",
            "run BUILD commands[0] one",
            "run BUILD commands[1] two",
            "complete BUILD FAILED",
            "enter POST_BUILD",
            "complete POST_BUILD SUCCEEDED",
            "capture",
            "upload",
            "finish FAILED",
        ],
    );
}

#[test]
fn finally_runs_after_the_commands_succeed() {
    let trace = trace_with(
        "0.2",
        "  build:\n    commands: [b]\n    finally: [f1, f2]\n",
        &[],
        true,
    );
    let build: Vec<&str> = trace.iter().map(String::as_str).skip(4).take(5).collect();
    assert_eq!(
        build,
        [
            "enter BUILD",
            "run BUILD commands[0] b",
            "run BUILD finally[0] f1",
            "run BUILD finally[1] f2",
            "complete BUILD SUCCEEDED",
        ]
    );
}

#[test]
fn finally_runs_after_a_command_fails_and_the_phase_still_fails() {
    assert_trace(
        "  pre_build:\n    commands: [p1, p2]\n    finally: [f]\n",
        &[("p1", ALWAYS)],
        &[
            "enter INSTALL",
            "complete INSTALL SUCCEEDED",
            "enter PRE_BUILD",
            "run PRE_BUILD commands[0] p1",
            "run PRE_BUILD finally[0] f",
            "complete PRE_BUILD FAILED",
            "capture",
            "finish FAILED",
        ],
    );
}

#[test]
fn a_failing_finally_command_fails_the_phase_and_stops_the_finally_block() {
    let trace = trace_with(
        "0.2",
        "  build:\n    commands: [b]\n    finally: [f1, f2]\n",
        &[("f1", ALWAYS)],
        true,
    );
    let build: Vec<&str> = trace.iter().map(String::as_str).skip(4).take(4).collect();
    assert_eq!(
        build,
        [
            "enter BUILD",
            "run BUILD commands[0] b",
            "run BUILD finally[0] f1",
            "complete BUILD FAILED"
        ]
    );
    assert_eq!(trace.last().map(String::as_str), Some("finish FAILED"));
}

#[test]
fn an_install_failure_skips_to_finalizing_without_post_build_or_upload() {
    assert_trace(
        FOUR,
        &[("i", ALWAYS)],
        &[
            "enter INSTALL",
            "run INSTALL commands[0] i",
            "complete INSTALL FAILED",
            "capture",
            "finish FAILED",
        ],
    );
}

#[test]
fn a_pre_build_failure_skips_to_finalizing_without_post_build_or_upload() {
    assert_trace(
        FOUR,
        &[("p", ALWAYS)],
        &[
            "enter INSTALL",
            "run INSTALL commands[0] i",
            "complete INSTALL SUCCEEDED",
            "enter PRE_BUILD",
            "run PRE_BUILD commands[0] p",
            "complete PRE_BUILD FAILED",
            "capture",
            "finish FAILED",
        ],
    );
}

#[test]
fn a_build_failure_still_runs_post_build_with_codebuild_build_succeeding_0() {
    assert_trace(
        FOUR,
        &[("b", ALWAYS)],
        &[
            FOUR_INSTALL_AND_PRE_BUILD,
            &[
                "enter BUILD",
                "run BUILD commands[0] b",
                "complete BUILD FAILED",
            ],
            FOUR_POST_BUILD_AFTER_FAILED_BUILD,
        ]
        .concat(),
    );
}

#[test]
fn a_post_build_failure_still_uploads_artifacts_and_fails_the_build() {
    let trace = trace_with("0.2", FOUR, &[("pb", ALWAYS)], true);
    assert_eq!(
        trace[trace.len() - 4..],
        [
            "complete POST_BUILD FAILED",
            "capture",
            "upload",
            "finish FAILED"
        ]
    );
}

#[test]
fn the_first_failure_message_of_a_phase_is_its_context_message() {
    let text = "version: 0.2\nphases:\n  build:\n    commands: [a]\n    finally: [f]\n";
    let spec = parse_buildspec(text, "b.yml").unwrap().spec;
    let mut plan = Plan::new(&spec.phases);
    let mut outcome = Outcome::None;
    loop {
        match plan.next(std::mem::replace(&mut outcome, Outcome::None)) {
            Step::RunCommand { command, .. } => {
                outcome = Outcome::command_failed(format!("failed {}", command.text));
            }
            Step::CompletePhase {
                outcome: PhaseOutcome::Failed { message },
                ..
            } => {
                assert_eq!(message, "failed a");
                assert!(!plan.build_succeeding());
                return;
            }
            Step::Finish { .. } => panic!("BUILD never failed"),
            _ => {}
        }
    }
}

#[test]
fn a_finished_plan_stays_finished() {
    let spec = parse_buildspec(
        "version: 0.2\nphases:\n  build:\n    commands: [a]\n",
        "b.yml",
    )
    .unwrap()
    .spec;
    let mut plan = Plan::new(&spec.phases);
    let mut last = plan.next(Outcome::None);
    for _ in 0..50 {
        let outcome = match last {
            Step::RunCommand { .. } => Outcome::command_succeeded(),
            Step::UploadArtifacts { .. } => Outcome::Upload { succeeded: true },
            _ => Outcome::None,
        };
        last = plan.next(outcome);
    }
    assert_eq!(last, Step::Finish { succeeded: true });
}
