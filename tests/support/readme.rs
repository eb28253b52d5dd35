//! Running a README's shell commands as written: finding its fenced `sh` blocks, a `cargo` that
//! runs the binaries the test already has, and one bash process group per script, killed
//! whole when the test ends (passing, failing or timing out).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The repository root.
pub fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Reads `path` (relative to the repository root).
pub fn read(path: &str) -> String {
    std::fs::read_to_string(repository().join(path))
        .unwrap_or_else(|error| panic!("failed to read {path}: {error}"))
}

/// The fenced `sh` blocks of the section headed exactly `heading` (e.g. `## Run it`), up to the
/// next heading of the same or a higher level.
pub fn sh_blocks_in_section(markdown: &str, heading: &str) -> Vec<String> {
    let level = heading.chars().take_while(|c| *c == '#').count();
    let mut lines = markdown
        .lines()
        .skip_while(|line| line.trim_end() != heading);
    assert!(
        lines.next().is_some(),
        "no heading {heading:?}: the test runs the commands of that section"
    );
    let section: Vec<&str> = lines
        .take_while(|line| {
            let hashes = line.chars().take_while(|c| *c == '#').count();
            !(1..=level).contains(&hashes) || !line[hashes..].starts_with(' ')
        })
        .collect();
    sh_blocks(&section)
}

/// The first fenced `sh` block after the first line that starts with `marker`.
pub fn sh_block_after(markdown: &str, marker: &str) -> String {
    let lines: Vec<&str> = markdown
        .lines()
        .skip_while(|line| !line.starts_with(marker))
        .collect();
    assert!(
        !lines.is_empty(),
        "no line starting with {marker:?}: the test runs the commands after it"
    );
    sh_blocks(&lines)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no ```sh block after {marker:?}"))
}

fn sh_blocks(lines: &[&str]) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in lines {
        match current.as_mut() {
            None if line.trim_end() == "```sh" => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_end() == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    blocks
}

/// The folder cargo built this test's `slipway` in (also where it puts `slipway-testcluster`).
pub fn binaries() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_slipway"))
        .parent()
        .expect("the slipway binary is in a folder")
}

/// Builds the test cluster's binary as the README does (`cargo build -p slipway-testcluster`,
/// once per test process): the root package's tests do not get it from cargo, and an old one
/// left in the target folder might lack a flag the README uses.
pub fn build_testcluster() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let target = binaries()
            .parent()
            .expect("the profile folder is in the target folder");
        let output = Command::new(&cargo)
            .current_dir(repository())
            .args([
                "build",
                "-p",
                "slipway-testcluster",
                "--bin",
                "slipway-testcluster",
            ])
            .arg("--target-dir")
            .arg(target)
            .output()
            .unwrap_or_else(|error| panic!("failed to run {cargo}: {error}"));
        assert!(
            output.status.success(),
            "failed to build slipway-testcluster:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let binary = binaries().join("slipway-testcluster");
        assert!(binary.exists(), "cargo built no {}", binary.display());
        binary
    })
}

/// A `cargo` for README commands, written into `folder`: `cargo build` of the two packages
/// finds their binaries built, `cargo run -p slipway-testcluster -- ARGS` and
/// `cargo run -- ARGS` run them. A real cargo would rebuild them without the test profile's
/// features, taking minutes; any other cargo command fails, naming itself.
///
/// `cargo run -- controller` runs until stopped, so the README shows it in a terminal of its
/// own: the stand-in starts it in the background (log in `$SLIPWAY_EXAMPLE_LOGS/controller.log`)
/// once `$KUBECONFIG` exists, as a person does after seeing the test cluster's URL.
pub fn write_cargo_stand_in(folder: &Path) -> PathBuf {
    let script = r#"#!/usr/bin/env bash
set -euo pipefail
bin="$SLIPWAY_EXAMPLE_BINARIES"
case "$*" in
  "build" | "build -p slipway" | "build -p slipway -p slipway-testcluster" | "build -p slipway-testcluster")
    exec test -x "$bin/slipway" -a -x "$bin/slipway-testcluster" ;;
  "run -p slipway-testcluster -- "*)
    shift 4; exec "$bin/slipway-testcluster" "$@" ;;
  "run -- controller"*)
    shift 2
    until [ -s "${KUBECONFIG:?the controller needs KUBECONFIG here}" ]; do sleep 0.1; done
    "$bin/slipway" "$@" > "$SLIPWAY_EXAMPLE_LOGS/controller.log" 2>&1 &
    exit 0 ;;
  "run -- "*)
    shift 2; exec "$bin/slipway" "$@" ;;
esac
echo "tests/examples.rs: its cargo stand-in runs the two packages' binaries, not \`cargo $*\`: teach it the new command" >&2
exit 2
"#;
    std::fs::create_dir_all(folder).expect("create the stand-in's folder");
    let path = folder.join("cargo");
    std::fs::write(&path, script).expect("write the cargo stand-in");
    let status = Command::new("chmod")
        .arg("+x")
        .arg(&path)
        .status()
        .expect("run chmod");
    assert!(
        status.success(),
        "failed to make {} executable",
        path.display()
    );
    path
}

/// A bash script running in a process group of its own, with its output in a file. Dropping it
/// kills the whole group, so background commands of the script never outlive the test.
pub struct ScriptRun {
    child: Child,
    output: PathBuf,
}

impl ScriptRun {
    /// Starts `bash -c SCRIPT` in `directory` with `environment` added and no `KUBECONFIG`
    /// from the developer's shell (the commands name their own).
    pub fn start(
        script: &str,
        directory: &Path,
        environment: &[(&str, String)],
        output: PathBuf,
    ) -> ScriptRun {
        use std::os::unix::process::CommandExt;
        let file = std::fs::File::create(&output).expect("create the script's output file");
        let child = Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(directory)
            .env_remove("KUBECONFIG")
            .envs(environment.iter().map(|(name, value)| (*name, value)))
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("share the output file"))
            .stderr(file)
            .process_group(0)
            .spawn()
            .expect("run bash");
        ScriptRun { child, output }
    }

    /// Waits for the script to exit, at most `limit`; `Err` with its output when it fails or
    /// runs out of time.
    pub fn finish(mut self, limit: Duration) -> Result<String, String> {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for bash") {
                break Some(status);
            }
            if Instant::now() >= deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let output = std::fs::read_to_string(&self.output).unwrap_or_default();
        match status {
            Some(status) if status.success() => Ok(output),
            Some(status) => Err(format!("the commands failed ({status}):\n{output}")),
            None => Err(format!(
                "the commands did not finish within {limit:?}:\n{output}"
            )),
        }
    }
}

impl Drop for ScriptRun {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        for signal in ["-TERM", "-KILL"] {
            // Fails harmlessly once the group is gone.
            let _ = Command::new("kill")
                .args([signal, "--", &group])
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            // Reaping bash as soon as it exits: a zombie would still count as the group alive.
            while Instant::now() < deadline && {
                let _ = self.child.try_wait();
                group_alive(&group)
            } {
                std::thread::sleep(Duration::from_millis(50));
            }
            if !group_alive(&group) {
                break;
            }
        }
        let _ = self.child.wait();
    }
}

/// Whether any process of `group` (as `-PGID`) is still alive.
fn group_alive(group: &str) -> bool {
    Command::new("kill")
        .args(["-0", "--", group])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
