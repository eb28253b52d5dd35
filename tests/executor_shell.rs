//! The executor against real shells: dash (`/bin/sh` here), busybox `sh` (as in Alpine and
//! busybox images) and bash. Shell state carries across commands and phases in 0.2 and not in
//! 0.1; stdin, `exit`, `set -e`, `exec >file`, blocks and heredocs behave as documented in
//! `slipway::build::executor::shell`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use slipway::api::buildrun::BuildStatus;
use slipway::build::executor::{
    BuildMetadata, BuildResult, EnvironmentSources, ExecutorConfig, LogSink, NoArtifactStore,
    ShellProgram, run_build,
};

/// The shells every semantic test runs with.
const SHELLS: [&str; 3] = ["/bin/sh", "/bin/busybox sh", "bash"];

struct Build {
    result: BuildResult,
    log: String,
}

impl Build {
    /// Asserts the build's status, showing the shell and the whole log when it differs.
    fn expect_status(&self, shell: &str, status: BuildStatus) {
        assert_eq!(self.result.build_status, status, "{shell}:\n{}", self.log);
    }

    fn exported(&self, name: &str) -> Option<&str> {
        self.result
            .exported_variables
            .iter()
            .find(|variable| variable.name == name)
            .map(|variable| variable.value.as_str())
    }

    fn phase_message(&self, phase: &str) -> Option<String> {
        self.result
            .phases
            .iter()
            .find(|record| serde_json::to_value(record.phase_type).unwrap() == phase)
            .and_then(|record| record.message.clone())
    }
}

fn temp_dir(label: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!(
        "slipway-executor-test-{}-{label}-{count}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn check_shell(shell: &str) {
    let program = shell.split_whitespace().next().unwrap();
    let found = std::process::Command::new(program)
        .args(shell.split_whitespace().skip(1))
        .args(["-c", "true"])
        .status();
    assert!(
        matches!(found, Ok(status) if status.success()),
        "`{shell}` is needed: install dash, busybox-static and bash"
    );
}

fn run(shell: &str, buildspec: &str) -> Build {
    check_shell(shell);
    let source = temp_dir("src");
    let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink: LogSink = buffer.clone();
    let config = ExecutorConfig {
        buildspec: buildspec.to_owned(),
        buildspec_name: "buildspec.yml".to_owned(),
        metadata: BuildMetadata::new("test"),
        src_dir: source.clone(),
        work_dir: None,
        shell: Some(ShellProgram::parse(shell)),
        sources: EnvironmentSources {
            inherited: vec![
                ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
                ("HOME".into(), source.display().to_string()),
            ],
            ..EnvironmentSources::default()
        },
    };
    let result = run_build(&config, sink, &mut NoArtifactStore);
    let log = String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned();
    let _ = std::fs::remove_dir_all(&source);
    let _ = std::io::stdout().flush();
    Build { result, log }
}

/// The output lines of commands (the executor's own lines removed).
fn output(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| !line.starts_with("[Container] "))
        .collect()
}

#[test]
fn variables_functions_and_cd_carry_across_commands_and_phases_in_0_2() {
    let buildspec = r#"version: 0.2
env:
  exported-variables: [PLAIN, EXPORTED]
phases:
  install:
    commands:
      - PLAIN=one
      - export EXPORTED=two
      - greet() { echo "hello $1"; }
      - mkdir -p deep/er && cd deep
  build:
    commands:
      - echo "plain=$PLAIN exported=$EXPORTED"
      - greet world
      - cd er
  post_build:
    commands:
      - echo "in ${PWD#$CODEBUILD_SRC_DIR}"
      - sh -c 'echo "child sees plain=[$PLAIN] exported=[$EXPORTED]"'
"#;
    for shell in SHELLS {
        let build = run(shell, buildspec);
        build.expect_status(shell, BuildStatus::Succeeded);
        assert_eq!(
            output(&build.log),
            [
                "plain=one exported=two",
                "hello world",
                "in /deep/er",
                "child sees plain=[] exported=[two]",
            ],
            "{shell}"
        );
        assert_eq!(build.exported("PLAIN"), Some("one"), "{shell}");
        assert_eq!(build.exported("EXPORTED"), Some("two"), "{shell}");
    }
}

#[test]
fn nothing_carries_across_commands_in_0_1() {
    let buildspec = r#"version: 0.1
phases:
  build:
    commands:
      - export EXPORTED=two; PLAIN=one; mkdir -p sub; cd sub
      - echo "plain=[$PLAIN] exported=[$EXPORTED] dir=${PWD#$CODEBUILD_SRC_DIR}"
"#;
    for shell in SHELLS {
        let build = run(shell, buildspec);
        build.expect_status(shell, BuildStatus::Succeeded);
        assert_eq!(output(&build.log), ["plain=[] exported=[] dir="], "{shell}");
    }
}

#[test]
fn block_commands_and_heredocs_run_as_one_script() {
    let buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n      - |\n        for word in a b; do\n          echo \"word $word\"\n        done\n        cat <<EOF\n        heredoc $CODEBUILD_CI\n        EOF\n      - echo after\n";
    for shell in SHELLS {
        let build = run(shell, buildspec);
        build.expect_status(shell, BuildStatus::Succeeded);
        // The block is echoed on its "Running command" line; its output follows.
        assert!(
            build.log.contains(
                "done\ncat <<EOF\nheredoc $CODEBUILD_CI\nEOF\nword a\nword b\nheredoc true\n"
            ),
            "{shell}:\n{}",
            build.log
        );
        assert!(
            build.log.ends_with("\nafter\n") || build.log.contains("\nafter\n["),
            "{shell}"
        );
    }
}

#[test]
fn a_command_reading_stdin_does_not_swallow_the_next_commands() {
    let buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n      - cat\n      - read line || echo \"read got end of input\"\n      - echo still here\n";
    for shell in SHELLS {
        let build = run(shell, buildspec);
        build.expect_status(shell, BuildStatus::Succeeded);
        assert_eq!(
            output(&build.log),
            ["read got end of input", "still here"],
            "{shell}"
        );
    }
}

#[test]
fn exit_fails_the_command_and_a_new_shell_keeps_exported_variables_and_the_directory() {
    let buildspec = r#"version: 0.2
phases:
  build:
    commands:
      - export KEPT=yes; PLAIN=lost; mkdir -p sub; cd sub
      - exit 3
    finally:
      - echo "finally kept=$KEPT plain=[$PLAIN] dir=${PWD#$CODEBUILD_SRC_DIR}"
  post_build:
    commands:
      - echo "post_build succeeding=$CODEBUILD_BUILD_SUCCEEDING"
"#;
    for shell in SHELLS {
        let build = run(shell, buildspec);
        build.expect_status(shell, BuildStatus::Failed);
        assert_eq!(
            output(&build.log),
            [
                "finally kept=yes plain=[] dir=/sub",
                "post_build succeeding=0"
            ],
            "{shell}"
        );
        assert_eq!(
            build.phase_message("BUILD").as_deref(),
            Some(
                "COMMAND_EXECUTION_ERROR: Error while executing command: exit 3. Reason: exit status 3"
            ),
            "{shell}"
        );
        assert!(
            build.log.contains("The shell ended with exit status 3"),
            "{shell}"
        );
    }
}

#[test]
fn exit_0_succeeds_and_the_build_goes_on() {
    let buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n      - export A=1\n      - exit 0\n      - echo \"next A=$A\"\n";
    for shell in SHELLS {
        let build = run(shell, buildspec);
        build.expect_status(shell, BuildStatus::Succeeded);
        assert_eq!(output(&build.log), ["next A=1"], "{shell}");
    }
}

#[test]
fn set_e_applies_only_to_the_command_that_sets_it() {
    let buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n      - X=kept; set -e\n      - false || echo handled\n      - echo \"X=$X\"\n";
    for shell in SHELLS {
        let build = run(shell, buildspec);
        build.expect_status(shell, BuildStatus::Succeeded);
        assert_eq!(output(&build.log), ["handled", "X=kept"], "{shell}");
        assert!(!build.log.contains("The shell ended"), "{shell}");
    }
}

#[test]
fn a_syntax_error_fails_its_command_only() {
    let buildspec = "version: 0.2\nphases:\n  build:\n    on-failure: CONTINUE\n    commands:\n      - 'if then fi'\n  post_build:\n    commands:\n      - echo after\n";
    for shell in SHELLS {
        let build = run(shell, buildspec);
        build.expect_status(shell, BuildStatus::Failed);
        assert!(build.log.contains("\nafter\n"), "{shell}:\n{}", build.log);
    }
}

#[test]
fn redirecting_stdout_cannot_hide_the_end_of_a_command() {
    let buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n      - exec >/dev/null\n      - echo hidden\n      - exec >&2\n      - echo shown on stderr\n";
    for shell in SHELLS {
        let build = run(shell, buildspec);
        build.expect_status(shell, BuildStatus::Succeeded);
        assert_eq!(output(&build.log), ["shown on stderr"], "{shell}");
    }
}

#[test]
fn stdout_and_stderr_keep_their_order_and_open_last_lines_are_kept() {
    let buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo one; echo two >&2; echo three\n      - printf 'no newline'\n      - printf 'blank next\\n\\n'\n      - echo end\n";
    for shell in SHELLS {
        let build = run(shell, buildspec);
        assert_eq!(
            output(&build.log),
            ["one", "two", "three", "no newline", "blank next", "", "end"],
            "{shell}"
        );
    }
}

#[test]
fn finally_abort_and_continue_follow_codebuild() {
    let buildspec = r#"version: 0.2
phases:
  install:
    on-failure: CONTINUE
    commands:
      - echo install; false
      - echo skipped
    finally:
      - echo install finally
  pre_build:
    commands:
      - echo "pre_build succeeding=$CODEBUILD_BUILD_SUCCEEDING"
  build:
    on-failure: ABORT
    commands:
      - false
    finally:
      - echo build finally
  post_build:
    commands:
      - echo never
"#;
    for shell in SHELLS {
        let build = run(shell, buildspec);
        build.expect_status(shell, BuildStatus::Failed);
        assert_eq!(
            output(&build.log),
            [
                "install",
                "install finally",
                "pre_build succeeding=0",
                "build finally"
            ],
            "{shell}"
        );
        let phases: Vec<String> = build
            .result
            .phases
            .iter()
            .map(|phase| {
                serde_json::to_value(phase.phase_type)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            phases,
            ["INSTALL", "PRE_BUILD", "BUILD", "FINALIZING", "COMPLETED"],
            "{shell}"
        );
    }
}

#[test]
fn a_build_failure_still_runs_post_build_with_build_succeeding_0() {
    let buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"build succeeding=$CODEBUILD_BUILD_SUCCEEDING $SLIPWAY_BUILD_SUCCEEDING\"\n      - exit 2\n  post_build:\n    commands:\n      - echo \"post_build succeeding=$CODEBUILD_BUILD_SUCCEEDING $SLIPWAY_BUILD_SUCCEEDING\"\n";
    for version in ["0.1", "0.2"] {
        for shell in SHELLS {
            let build = run(shell, &buildspec.replace("0.2", version));
            assert_eq!(build.result.build_status, BuildStatus::Failed, "{shell}");
            assert_eq!(
                output(&build.log),
                ["build succeeding=1 1", "post_build succeeding=0 0"],
                "{shell} {version}"
            );
            assert!(
                build.log.contains("Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: exit 2. Reason: exit status 2"),
                "{shell} {version}:\n{}",
                build.log
            );
        }
    }
}

#[test]
fn the_log_has_codebuilds_phase_headers() {
    let build = run(
        "/bin/sh",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n",
    );
    let headers: Vec<&str> = build
        .log
        .lines()
        .filter_map(|line| line.strip_prefix("[Container] "))
        .map(|line| &line[27..])
        .collect();
    assert!(headers.contains(&"Entering phase BUILD"), "{headers:#?}");
    assert!(headers.contains(&"Running command echo hi"), "{headers:#?}");
    assert!(
        headers.contains(&"Phase complete: BUILD State: SUCCEEDED"),
        "{headers:#?}"
    );
    assert!(
        headers.contains(&"Phase context status code:  Message: "),
        "{headers:#?}"
    );
    let stamp = &build.log.lines().next().unwrap()["[Container] ".len()..][..26];
    assert_eq!(stamp.len(), 26, "{stamp}");
    assert_eq!(
        (&stamp[4..5], &stamp[10..11], &stamp[19..20]),
        ("/", " ", ".")
    );
}

#[test]
fn bash_declarations_stay_global_across_commands() {
    let buildspec = "version: 0.2\nenv:\n  shell: bash\nphases:\n  build:\n    commands:\n      - declare -a parts=(alpha beta); declare -x DECLARED=yes\n      - echo \"${parts[1]} $DECLARED\"\n";
    let build = run("bash", buildspec);
    assert_eq!(
        build.result.build_status,
        BuildStatus::Succeeded,
        "{}",
        build.log
    );
    assert_eq!(output(&build.log), ["beta yes"]);
}

#[test]
fn a_set_e_failure_inside_a_block_ends_the_shell_but_keeps_the_exported_state() {
    let buildspec = "version: 0.2\nphases:\n  build:\n    on-failure: CONTINUE\n    commands:\n      - export KEPT=yes\n      - |\n        set -e\n        false\n        echo unreachable\n  post_build:\n    commands:\n      - echo \"kept=$KEPT\"\n";
    for shell in SHELLS {
        let build = run(shell, buildspec);
        assert_eq!(build.result.build_status, BuildStatus::Failed, "{shell}");
        // The block is echoed in the log; its own output stops at `false`.
        assert!(
            build.log.contains("\nkept=yes\n"),
            "{shell}:\n{}",
            build.log
        );
        assert!(!build.log.contains("\nunreachable\n"), "{shell}");
        assert!(build.log.contains("Reason: exit status 1"), "{shell}");
    }
}

#[test]
fn a_command_that_execs_another_program_leaves_a_clean_shell_with_a_warning() {
    let buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n      - export LOST=yes\n      - exec true\n      - echo \"lost=[$LOST]\"\n";
    for shell in SHELLS {
        let build = run(shell, buildspec);
        assert_eq!(build.result.build_status, BuildStatus::Succeeded, "{shell}");
        assert_eq!(output(&build.log), ["lost=[]"], "{shell}");
        assert!(
            build.log.contains("continuing in a clean shell"),
            "{shell}:\n{}",
            build.log
        );
    }
}
