//! `on-failure` rules — `ABORT`, `CONTINUE`, `RETRY[-count][-regex]` — and a failed upload,
//! with the trace helpers of [`super::plan`], for versions 0.1 and 0.2.

use super::plan::{
    ALWAYS, FOUR, FOUR_INSTALL_AND_PRE_BUILD, FOUR_POST_BUILD_AND_UPLOAD, assert_trace,
    assert_trace_with, four_with, trace_with,
};

#[test]
fn abort_stops_the_build_after_the_phases_finally_even_in_build() {
    let phases =
        four_with("build", "ABORT").replace("commands: [b]", "commands: [b, b2]\n    finally: [f]");
    assert_trace(
        &phases,
        &[("b", ALWAYS)],
        &[
            FOUR_INSTALL_AND_PRE_BUILD,
            &[
                "enter BUILD",
                "run BUILD commands[0] b",
                "run BUILD finally[0] f",
                "complete BUILD FAILED",
                "capture",
                "finish FAILED",
            ],
        ]
        .concat(),
    );
}

#[test]
fn abort_on_a_phase_that_succeeds_changes_nothing() {
    assert_trace_with(
        &four_with("install", "ABORT"),
        &[],
        true,
        &trace_with("0.2", FOUR, &[], true)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
}

#[test]
fn continue_runs_the_next_phase_but_the_build_still_fails() {
    assert_trace(
        &four_with("install", "CONTINUE"),
        &[("i", ALWAYS)],
        &[
            "enter INSTALL",
            "run INSTALL commands[0] i",
            "complete INSTALL FAILED",
            "enter PRE_BUILD",
            "run PRE_BUILD commands[0] p [succeeding=0]",
            "complete PRE_BUILD SUCCEEDED",
            "enter BUILD",
            "run BUILD commands[0] b [succeeding=0]",
            "complete BUILD SUCCEEDED",
            "enter POST_BUILD",
            "run POST_BUILD commands[0] pb [succeeding=0]",
            "complete POST_BUILD SUCCEEDED",
            "capture",
            "upload",
            "finish FAILED",
        ],
    );
}

#[test]
fn continue_on_post_build_goes_on_to_the_upload() {
    let trace = trace_with(
        "0.2",
        &four_with("post_build", "CONTINUE"),
        &[("pb", ALWAYS)],
        true,
    );
    assert_eq!(
        trace[trace.len() - 3..],
        ["capture", "upload", "finish FAILED"]
    );
}

#[test]
fn retry_runs_the_phase_again_from_its_first_command_until_it_succeeds() {
    let phases = four_with("build", "RETRY-2")
        .replace("commands: [b]", "commands: [b0, b]\n    finally: [f]");
    assert_trace(
        &phases,
        &[("b", 2)],
        &[
            FOUR_INSTALL_AND_PRE_BUILD,
            &[
                "enter BUILD",
                "run BUILD commands[0] b0",
                "run BUILD commands[1] b",
                "run BUILD finally[0] f",
                "complete BUILD FAILED retry #2",
                "enter BUILD #2",
                "run BUILD commands[0] b0",
                "run BUILD commands[1] b",
                "run BUILD finally[0] f",
                "complete BUILD FAILED retry #3",
                "enter BUILD #3",
                "run BUILD commands[0] b0",
                "run BUILD commands[1] b",
                "run BUILD finally[0] f",
                "complete BUILD SUCCEEDED",
            ],
            FOUR_POST_BUILD_AND_UPLOAD,
            &["finish SUCCEEDED"],
        ]
        .concat(),
    );
}

#[test]
fn retry_without_a_count_tries_three_more_times_then_takes_the_default_transition() {
    assert_trace(
        &four_with("pre_build", "RETRY"),
        &[("p", ALWAYS)],
        &[
            "enter INSTALL",
            "run INSTALL commands[0] i",
            "complete INSTALL SUCCEEDED",
            "enter PRE_BUILD",
            "run PRE_BUILD commands[0] p",
            "complete PRE_BUILD FAILED retry #2",
            "enter PRE_BUILD #2",
            "run PRE_BUILD commands[0] p",
            "complete PRE_BUILD FAILED retry #3",
            "enter PRE_BUILD #3",
            "run PRE_BUILD commands[0] p",
            "complete PRE_BUILD FAILED retry #4",
            "enter PRE_BUILD #4",
            "run PRE_BUILD commands[0] p",
            "complete PRE_BUILD FAILED",
            "capture",
            "finish FAILED",
        ],
    );
}

#[test]
fn retry_with_a_pattern_retries_only_failures_whose_message_matches() {
    let matching = trace_with(
        "0.2",
        &four_with("build", "RETRY-1-status [0-9]+ from b$"),
        &[("b", 1)],
        true,
    );
    assert!(
        matching.contains(&"enter BUILD #2".to_owned()),
        "{matching:#?}"
    );
    assert_eq!(
        matching.last().map(String::as_str),
        Some("finish SUCCEEDED")
    );
    let other = trace_with(
        "0.2",
        &four_with("build", "RETRY-1-^timeout"),
        &[("b", 1)],
        true,
    );
    assert!(!other.contains(&"enter BUILD #2".to_owned()), "{other:#?}");
    assert_eq!(other.last().map(String::as_str), Some("finish FAILED"));
}

#[test]
fn a_failed_upload_fails_the_build() {
    let trace = trace_with("0.2", FOUR, &[], false);
    assert_eq!(trace[trace.len() - 2..], ["upload", "finish FAILED"]);
}
