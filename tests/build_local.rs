//! `slipway build --local` as a user runs it: the built binary on a temporary source directory.

use std::path::{Path, PathBuf};
use std::process::Command;

fn source_dir(label: &str, buildspec: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "slipway-build-local-{}-{label}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("buildspec.yml"), buildspec).unwrap();
    dir
}

fn slipway(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `slipway build --local --source DIR ARGS…`.
fn build_local(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["build", "--local", "--source", dir.to_str().unwrap()];
    all.extend_from_slice(args);
    slipway(&all)
}

/// Asserts the build ended SUCCEEDED and its command wrote `out.txt` into the source folder.
#[track_caller]
fn assert_succeeded_and_built(stdout: &str, dir: &Path) {
    assert!(
        stdout.ends_with("Build SUCCEEDED: build succeeded\n"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        "built\n"
    );
}

const BUILDSPEC: &str = r#"version: 0.2
env:
  variables:
    GREETING: hello
phases:
  pre_build:
    commands:
      - IMAGE_TAG=$(echo 0123456789abcdef | cut -c 1-7)
  build:
    commands:
      - echo "$GREETING $TARGET $IMAGE_TAG"
      - echo built > out.txt
  post_build:
    commands:
      - echo "post_build succeeding=$CODEBUILD_BUILD_SUCCEEDING"
"#;

#[test]
fn a_local_build_streams_phases_prints_a_table_and_exits_0() {
    let dir = source_dir("ok", BUILDSPEC);
    let (code, stdout, stderr) = build_local(&dir, &["--env", "TARGET=world"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains(" Entering phase BUILD\n"), "{stdout}");
    assert!(stdout.contains(" Running command echo \"$GREETING $TARGET $IMAGE_TAG\"\n"));
    assert!(stdout.contains("\nhello world 0123456\n"), "{stdout}");
    assert!(stdout.contains("\npost_build succeeding=1\n"), "{stdout}");
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("PHASE "))
        .collect();
    let rows: Vec<(&str, &str)> = table[1..]
        .iter()
        .take_while(|line| !line.starts_with("Build "))
        .map(|line| {
            let mut words = line.split_whitespace();
            (words.next().unwrap(), words.next().unwrap_or(""))
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("INSTALL", "SUCCEEDED"),
            ("PRE_BUILD", "SUCCEEDED"),
            ("BUILD", "SUCCEEDED"),
            ("POST_BUILD", "SUCCEEDED"),
            ("UPLOAD_ARTIFACTS", "SUCCEEDED"),
            ("FINALIZING", "SUCCEEDED"),
            ("COMPLETED", ""),
        ],
        "{stdout}"
    );
    assert!(
        table[1].trim_end().ends_with('s'),
        "durations: {}",
        table[1]
    );
    assert_succeeded_and_built(&stdout, &dir);
}

#[test]
fn a_failing_local_build_exits_1_and_names_the_command() {
    let dir = source_dir("fail", &BUILDSPEC.replace("echo built > out.txt", "exit 7"));
    let (code, stdout, _) = build_local(&dir, &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("\npost_build succeeding=0\n"), "{stdout}");
    assert!(
        stdout.ends_with("Build FAILED: phase BUILD failed: COMMAND_EXECUTION_ERROR: Error while executing command: exit 7. Reason: exit status 7\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\nBUILD              FAILED "), "{stdout}");
}

const CONTAINER_BUILDSPEC: &str = r#"version: 0.2
phases:
  pre_build:
    commands:
      - IMAGE_TAG=abc1234
  build:
    commands:
      - echo "$GREETING $TARGET $IMAGE_TAG in $CODEBUILD_SRC_DIR image $CODEBUILD_BUILD_IMAGE"
      - echo built > out.txt
      - test "$FAIL" != yes
  post_build:
    commands:
      - echo "post_build succeeding=$CODEBUILD_BUILD_SUCCEEDING"
env:
  variables:
    GREETING: hello
    TARGET: buildspec
"#;

#[test]
fn a_local_build_with_an_image_runs_the_executor_inside_that_image() {
    let image = slipway_testcluster::simulate::test_images::busybox_image();
    let dir = source_dir("image", CONTAINER_BUILDSPEC);
    let (code, stdout, stderr) = build_local(&dir, &["--image", image, "--env", "TARGET=world"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains(" Entering phase BUILD\n"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "\nhello world abc1234 in /workspace/src image {image}\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nBUILD              SUCCEEDED "),
        "{stdout}"
    );
    assert_succeeded_and_built(&stdout, &dir);
}

#[test]
fn a_failing_local_build_in_an_image_exits_1_as_on_the_host() {
    let image = slipway_testcluster::simulate::test_images::busybox_image();
    let dir = source_dir("image-fail", CONTAINER_BUILDSPEC);
    let (code, stdout, stderr) = build_local(&dir, &["--image", image, "--env", "FAIL=yes"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stdout.contains("\npost_build succeeding=0\n"), "{stdout}");
    assert!(stdout.contains("\nBUILD              FAILED "), "{stdout}");
}

#[test]
fn a_missing_image_is_named() {
    let dir = source_dir("image-missing", BUILDSPEC);
    let (code, _, stderr) = build_local(&dir, &["--image", "slipway-test-no-such-image:never"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("failed to find the image slipway-test-no-such-image:never"),
        "{stderr}"
    );
}

#[test]
fn the_executor_writes_the_termination_message_and_exits_with_the_status() {
    let dir = source_dir("executor", BUILDSPEC);
    let termination = dir.join("termination-log");
    let (code, stdout, stderr) = slipway(&[
        "executor",
        "run",
        "--source",
        dir.to_str().unwrap(),
        "--project",
        "web",
        "--build-number",
        "9",
        "--termination-message-path",
        termination.to_str().unwrap(),
        "--shell",
        "/bin/busybox sh",
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let message: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&termination).unwrap()).unwrap();
    assert_eq!(message["buildStatus"], "SUCCEEDED");
    assert_eq!(message["complete"], true);
    assert_eq!(message["phases"][2]["phaseType"], "BUILD");
    assert!(stdout.contains("Running build web:"), "{stdout}");
}
