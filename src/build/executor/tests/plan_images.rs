//! Image outputs in the plan: published at the end of a successful `BUILD` phase, and a
//! failed publication treated as a failure of that phase.

use super::plan::{
    ALWAYS, FOUR, FOUR_INSTALL_AND_PRE_BUILD, FOUR_POST_BUILD_AFTER_FAILED_BUILD,
    FOUR_POST_BUILD_AND_UPLOAD, PUBLISH, assert_trace, four_with,
};

#[test]
fn images_are_published_after_the_build_commands_succeed_and_before_post_build() {
    assert_trace(
        FOUR,
        &[(PUBLISH, 0)],
        &[
            FOUR_INSTALL_AND_PRE_BUILD,
            &[
                "enter BUILD",
                "run BUILD commands[0] b",
                "publish",
                "complete BUILD SUCCEEDED",
            ],
            FOUR_POST_BUILD_AND_UPLOAD,
            &["finish SUCCEEDED"],
        ]
        .concat(),
    );
}

#[test]
fn a_failed_publication_fails_build_and_post_build_runs_with_succeeding_0() {
    assert_trace(
        FOUR,
        &[(PUBLISH, ALWAYS)],
        &[
            FOUR_INSTALL_AND_PRE_BUILD,
            &[
                "enter BUILD",
                "run BUILD commands[0] b",
                "publish",
                "complete BUILD FAILED",
            ],
            FOUR_POST_BUILD_AFTER_FAILED_BUILD,
        ]
        .concat(),
    );
}

#[test]
fn images_are_not_published_when_a_build_command_fails() {
    assert_trace(
        "  build:\n    commands: [b]\n    finally: [f]\n",
        &[(PUBLISH, 0), ("b", ALWAYS)],
        &[
            "enter INSTALL",
            "complete INSTALL SUCCEEDED",
            "enter PRE_BUILD",
            "complete PRE_BUILD SUCCEEDED",
            "enter BUILD",
            "run BUILD commands[0] b",
            "run BUILD finally[0] f",
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
fn a_build_phase_left_out_of_the_buildspec_still_publishes() {
    assert_trace(
        "  install:\n    commands: [i]\n",
        &[(PUBLISH, 0)],
        &[
            "enter INSTALL",
            "run INSTALL commands[0] i",
            "complete INSTALL SUCCEEDED",
            "enter PRE_BUILD",
            "complete PRE_BUILD SUCCEEDED",
            "enter BUILD",
            "publish",
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
fn a_retried_build_phase_publishes_again_after_its_commands_succeed() {
    assert_trace(
        &four_with("build", "RETRY-1"),
        &[(PUBLISH, 1)],
        &[
            FOUR_INSTALL_AND_PRE_BUILD,
            &[
                "enter BUILD",
                "run BUILD commands[0] b",
                "publish",
                "complete BUILD FAILED retry #2",
                "enter BUILD #2",
                "run BUILD commands[0] b",
                "publish",
                "complete BUILD SUCCEEDED",
            ],
            FOUR_POST_BUILD_AND_UPLOAD,
            &["finish SUCCEEDED"],
        ]
        .concat(),
    );
}

#[test]
fn abort_after_a_failed_publication_skips_post_build() {
    assert_trace(
        &four_with("build", "ABORT"),
        &[(PUBLISH, ALWAYS)],
        &[
            FOUR_INSTALL_AND_PRE_BUILD,
            &[
                "enter BUILD",
                "run BUILD commands[0] b",
                "publish",
                "complete BUILD FAILED",
                "capture",
                "finish FAILED",
            ],
        ]
        .concat(),
    );
}
