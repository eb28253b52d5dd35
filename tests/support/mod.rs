//! Helpers shared by the tests that run the built `slipway` binary (on files, or against the test cluster).
#![allow(dead_code, reason = "each test binary uses a different subset")]

pub mod pipeline;
pub mod plugin;
pub mod readme;
pub mod registry;
pub mod requests;
pub mod rollout;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch folder for one test's files, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// A fresh folder named after the test (and this process, so parallel runs do not meet).
    pub fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("slipway-{name}-{}", std::process::id()));
        // A folder left by a killed earlier run with the same process id starts empty again.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create scratch folder");
        Scratch(path)
    }

    /// Writes `text` to `name` (a relative path) inside the folder, creating its folders.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the test file's folder");
        }
        std::fs::write(&path, text).expect("write the test file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `slipway <command> check` on `files` from inside `dir`, so names print relative.
pub fn check(command: &str, dir: &Path, files: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slipway"))
        .current_dir(dir)
        .args([command, "check"])
        .args(files)
        .output()
        .expect("run the slipway binary")
}
