//! The executor against plain `bash` running the same 50 commands.
//!
//! `cargo bench -j 1 -p slipway --bench executor` prints the median of each over N runs and the
//! ratio. The target (issue 4) is executor ≤ 1.05 × bash + 200 ms; the run fails when missed.
//! A plain `main` (no criterion): the figure needed is one ratio, and this keeps the
//! dev-dependencies unchanged.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slipway::api::buildrun::BuildStatus;
use slipway::build::executor::{
    BuildMetadata, EnvironmentSources, ExecutorConfig, LogSink, NoArtifactStore, ShellProgram,
    run_build,
};

const COMMANDS: usize = 50;
const RUNS: usize = 20;

/// Builtins, arithmetic, state carried between commands, and a process started every fifth.
fn commands() -> Vec<String> {
    (0..COMMANDS)
        .map(|index| match index % 5 {
            0 => "ls / >/dev/null".to_owned(),
            1 => format!("COUNT=$((${{COUNT:-0}} + {index}))"),
            2 => format!("echo \"step {index} count $COUNT\""),
            3 => "cd / && cd - >/dev/null".to_owned(),
            _ => format!("export LAST={index}"),
        })
        .collect()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time_bash(script: &str) -> Duration {
    let start = Instant::now();
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(script)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash is needed for this benchmark");
    let mut output = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut output)
        .unwrap();
    assert!(child.wait().unwrap().success());
    start.elapsed()
}

fn time_executor(buildspec: &str, source: &std::path::Path) -> Duration {
    let start = Instant::now();
    let config = ExecutorConfig {
        buildspec: buildspec.to_owned(),
        buildspec_name: "buildspec.yml".to_owned(),
        metadata: BuildMetadata::new("bench"),
        src_dir: source.to_owned(),
        work_dir: None,
        shell: Some(ShellProgram::parse("bash")),
        sources: EnvironmentSources {
            inherited: std::env::vars().collect(),
            ..EnvironmentSources::default()
        },
    };
    let sink: LogSink = Arc::new(Mutex::new(Vec::<u8>::new()));
    let result = run_build(&config, sink, &mut NoArtifactStore);
    assert_eq!(result.build_status, BuildStatus::Succeeded);
    start.elapsed()
}

fn main() {
    let commands = commands();
    let script = commands.join("\n");
    let mut buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n".to_owned();
    for command in &commands {
        buildspec.push_str(&format!(
            "      - {}\n",
            serde_json::to_string(command).unwrap()
        ));
    }
    let source = std::env::temp_dir().join(format!("slipway-bench-{}", std::process::id()));
    std::fs::create_dir_all(&source).unwrap();
    // Warm up both (page cache, first fork of bash).
    time_bash(&script);
    time_executor(&buildspec, &source);
    let bash = median((0..RUNS).map(|_| time_bash(&script)).collect());
    let executor = median(
        (0..RUNS)
            .map(|_| time_executor(&buildspec, &source))
            .collect(),
    );
    let _ = std::fs::remove_dir_all(&source);
    let ratio = executor.as_secs_f64() / bash.as_secs_f64();
    let budget = bash.mul_f64(1.05) + Duration::from_millis(200);
    println!("{COMMANDS} commands, median of {RUNS} runs");
    println!("plain bash : {:>9.3} ms", bash.as_secs_f64() * 1000.0);
    println!("executor   : {:>9.3} ms", executor.as_secs_f64() * 1000.0);
    println!(
        "ratio      : {ratio:.2}x (overhead {:+.3} ms; budget 1.05x + 200 ms = {:.3} ms)",
        (executor.as_secs_f64() - bash.as_secs_f64()) * 1000.0,
        budget.as_secs_f64() * 1000.0
    );
    assert!(executor <= budget, "the executor missed its budget");
}
