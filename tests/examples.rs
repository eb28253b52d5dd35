//! The READMEs' commands work as written against the test cluster: `examples/webapp`'s "Run it on
//! Slipway's test cluster" runs the example's Pipeline end to end (started with
//! `kubectl slipway start`, approved, watched to `Succeeded`), and the repository README's
//! "No cluster?" commands start the test cluster and the controller and apply the sample.
//!
//! The commands run with bash from the repository root as the README has them, with two
//! stand-ins: `cargo` runs the binaries cargo built for this test (see
//! [`readme::write_cargo_stand_in`]), and `TMPDIR` is the test's scratch folder, so `mktemp`
//! and `/tmp` paths stay apart from other runs. Every process the commands start is in one
//! process group, killed when the test ends, whatever the outcome.

mod support;

use std::path::Path;
use std::time::Duration;

use support::Scratch;
use support::readme::{self, ScriptRun};

/// How long the commands of one README section may take: the example's run needs about 30
/// seconds, and a failure must show well before two minutes.
const LIMIT: Duration = Duration::from_secs(90);

/// The environment of a README's commands: its bin folder first on `PATH` (the cargo
/// stand-in), the test's binaries for the stand-in, and a private temporary folder and kubectl
/// cache.
fn environment(scratch: &Path) -> Vec<(&'static str, String)> {
    let bin = scratch.join("bin");
    readme::write_cargo_stand_in(&bin);
    let tmp = scratch.join("tmp");
    std::fs::create_dir_all(&tmp).expect("create the scratch temporary folder");
    let path = std::env::var("PATH").unwrap_or_default();
    let target = readme::binaries()
        .parent()
        .expect("the profile folder is in the target folder");
    vec![
        ("PATH", format!("{}:{path}", bin.display())),
        ("TMPDIR", tmp.display().to_string()),
        (
            "KUBECACHEDIR",
            scratch.join("kube-cache").display().to_string(),
        ),
        // The README derives the binaries' folder from it, as for a developer who sets it.
        ("CARGO_TARGET_DIR", target.display().to_string()),
        (
            "SLIPWAY_EXAMPLE_BINARIES",
            readme::binaries().display().to_string(),
        ),
        ("SLIPWAY_EXAMPLE_LOGS", scratch.display().to_string()),
    ]
}

/// Runs `script` from the repository root under `set -euxo pipefail`, so any failing command
/// fails it; on failure the panic shows its output and every log the commands wrote under
/// `scratch` (`--nocapture` shows the output of a run that passes).
fn run(script: &str, scratch: &Path) {
    let script = format!("set -euxo pipefail\n{script}");
    let run = ScriptRun::start(
        &script,
        readme::repository(),
        &environment(scratch),
        scratch.join("output.txt"),
    );
    match run.finish(LIMIT) {
        Ok(output) => println!("{output}"),
        Err(failure) => panic!("{failure}\n{}", logs(scratch)),
    }
}

/// Every `*.log` file under `folder`, each under its name.
fn logs(folder: &Path) -> String {
    let mut found = Vec::new();
    collect_logs(folder, &mut found);
    found.sort();
    found
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            format!("--- {}\n{text}", path.display())
        })
        .collect()
}

fn collect_logs(folder: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_logs(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "log") {
            found.push(path);
        }
    }
}

#[test]
fn the_webapp_example_runs_end_to_end_on_the_test_cluster_as_its_readme_says() {
    readme::build_testcluster();
    let blocks = readme::sh_blocks_in_section(
        &readme::read("examples/webapp/README.md"),
        "## Run it on Slipway's test cluster",
    );
    let commands = blocks.join("");
    for expected in [
        "kubectl slipway start webapp -n webapp",
        "kubectl slipway approve",
        "--watch",
        "kill ",
    ] {
        assert!(
            commands.contains(expected),
            "the section's commands no longer run `{expected}…`: the test proves the run starts, \
             is approved, watched to its end and cleaned up"
        );
    }
    let scratch = Scratch::new("example-webapp");
    // `get execution --watch` exits 1 unless the run Succeeded, which fails the script.
    run(&commands, &scratch.0);
}

#[test]
fn the_readme_no_cluster_commands_start_the_test_cluster_and_the_controller() {
    readme::build_testcluster();
    let block = readme::sh_block_after(&readme::read("README.md"), "**No cluster?**");
    let scratch = Scratch::new("readme-no-cluster");
    // The README's fixed /tmp paths, inside this test's own folder instead.
    let tmp = scratch.0.join("tmp");
    let commands = block.replace("/tmp/", &format!("{}/", tmp.display()));
    let kubeconfig = tmp.join("slipway.kubeconfig");
    let applied = commands
        .lines()
        .find_map(|line| line.split(" kubectl apply -f ").nth(1))
        .expect("the commands apply a sample with `kubectl apply -f FILE`")
        .trim()
        .to_owned();
    // The controller has read what was applied once it reports on it.
    let check = format!(
        "KUBECONFIG={} kubectl wait -f {applied} --timeout=60s \
         --for=jsonpath='{{.status.observedGeneration}}'=1\n",
        kubeconfig.display()
    );
    run(&format!("{commands}{check}"), &scratch.0);
}
