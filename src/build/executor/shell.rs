//! Running buildspec commands in the build image's shell.
//!
//! # Version 0.2: one shell for the whole build ([`SharedShell`])
//! One long-lived shell process (`/bin/sh`, or `bash` with `env.shell: bash`; implemented in
//! `shared_shell.rs`) runs every command of the build, so variables, `export`s, functions and
//! the working directory carry from one command and phase into the next. Only POSIX `sh` features are used, so dash, busybox `ash`
//! (Alpine, busybox images) and bash all work. The protocol:
//!
//! - The shell reads its *control lines* from stdin, a pipe only the executor writes.
//! - At start-up the shell is given fd 9 (a copy of the output pipe), an `EXIT` trap and one
//!   function, `__sw_done`. Each command's text is written verbatim to a file in the
//!   executor's private work directory, and the executor writes one control line to stdin:
//!   `. FILE </dev/null 9>&-;__sw_done`. The command thus runs at the top level of the shell
//!   (not in a function, where bash's `declare` would make variables local); block commands
//!   and heredocs need no quoting; and a command that reads stdin reads `/dev/null` instead of
//!   swallowing the control lines after it.
//! - `__sw_done` saves `$?`, runs `set +e` (a `set -e` applies to the command that set it, so
//!   it cannot kill the shell on a later failure) and prints `\n<sentinel> <status>` to fd 9,
//!   so a command redirecting its own stdout (`exec >file`) cannot hide the sentinel. The
//!   sentinel is random per build.
//! - The `EXIT` trap writes `export -p` and `pwd` into the work directory when the shell dies
//!   (see below). Doing it there rather than after every command, and keeping the control line
//!   short, matters: bash reads a pipe a byte at a time and writes `export -p` a line per
//!   system call.
//! - stdout and stderr share one pipe, so their lines keep the order they were written in.
//!
//! # Exit handling
//! A command can end the shell itself: `exit 3`, `exec prog`, a syntax error in dash or busybox
//! (fatal in a non-interactive POSIX shell), a `set -e` failure inside a block. The command's
//! status is then the shell's exit status (`128 + n` for signal `n`), so `exit 3` fails the
//! command with exit status 3 and `exit 0` succeeds, as when CodeBuild runs the command. The
//! next command gets a new shell that first restores the snapshot the old shell's `EXIT` trap
//! wrote: exported variables and the working directory carry over; plain variables and
//! functions do not (the log says so). The build goes on by CodeBuild's ordinary rules. When
//! there is no snapshot — the command `exec`ed another program, was killed by a signal, or
//! replaced the `EXIT` trap with its own — the new shell starts clean, with a warning.
//!
//! # Version 0.1: a fresh shell per command ([`FreshShell`])
//! Each command runs as `SHELL -c TEXT` in the source directory with the build environment, so
//! nothing carries over (CodeBuild's 0.1 behaviour).
//!
//! # Caveats
//! Background processes a command starts (`dockerd &`) keep running and keep writing to the
//! log; the executor never waits for them. Locally they outlive the build.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use super::log::{BuildLog, LineSplitter, Piece};
pub use super::shared_shell::SharedShell;

/// The shell program and its leading arguments (`/bin/busybox sh`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShellProgram {
    /// The program (a path, or a name looked up on the build's `PATH`).
    pub program: String,
    /// Arguments before the script (`sh` for busybox).
    pub args: Vec<String>,
}

impl ShellProgram {
    /// The shell for a buildspec's `env.shell` (`/bin/sh` when absent, as in custom images).
    pub fn for_buildspec(shell: Option<crate::build::buildspec::Shell>) -> ShellProgram {
        match shell {
            Some(crate::build::buildspec::Shell::Bash) => ShellProgram::parse("bash"),
            _ => ShellProgram::parse("/bin/sh"),
        }
    }

    /// A program and arguments split at whitespace: `"/bin/busybox sh"`.
    pub fn parse(text: &str) -> ShellProgram {
        let mut words = text.split_whitespace().map(str::to_owned);
        ShellProgram {
            program: words.next().unwrap_or_else(|| "/bin/sh".to_owned()),
            args: words.collect(),
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        command
    }
}

impl std::fmt::Display for ShellProgram {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}", self.program)?;
        for arg in &self.args {
            write!(formatter, " {arg}")?;
        }
        Ok(())
    }
}

/// What a shell needs to run commands.
#[derive(Clone, Debug)]
pub struct ShellSettings {
    /// The shell.
    pub program: ShellProgram,
    /// The complete environment of the build (nothing else is inherited).
    pub env: Vec<(String, String)>,
    /// The directory commands start in (`CODEBUILD_SRC_DIR`).
    pub cwd: PathBuf,
    /// A private directory for command files and snapshots.
    pub work_dir: PathBuf,
    /// Where output goes.
    pub log: BuildLog,
}

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandStatus {
    /// Its exit status (`128 + n` when killed by signal `n`).
    pub exit_code: i32,
    /// Whether the command ended the shared shell (`exit`, `exec`, a fatal error).
    pub ended_shell: bool,
}

/// Why a shell could not run a command (the build is then `FAULT`).
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// The shell program could not be started.
    #[error("failed to start the shell `{program}`: {source}")]
    Spawn {
        /// The shell.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The work directory or the shell's pipes failed.
    #[error("failed to {action}: {source}")]
    Io {
        /// What was being done.
        action: String,
        /// Why.
        source: std::io::Error,
    },
}

pub(super) fn io_error(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> ShellError {
    let action = action.into();
    move |source| ShellError::Io { action, source }
}

/// Runs commands: one shared shell (0.2) or a fresh shell each (0.1).
pub trait CommandRunner {
    /// Runs `text` with `CODEBUILD_BUILD_SUCCEEDING` set from `build_succeeding`.
    ///
    /// # Errors
    /// When the shell cannot be started or talked to (not when the command fails).
    fn run(&mut self, text: &str, build_succeeding: bool) -> Result<CommandStatus, ShellError>;

    /// The current values of `names` (`None` when unset); names must be valid identifiers.
    ///
    /// # Errors
    /// As [`CommandRunner::run`].
    fn read_variables(&mut self, names: &[String]) -> Result<Vec<Option<String>>, ShellError>;

    /// Ends the shell (if one is running).
    fn close(&mut self);
}

/// The two variables that follow the build's success (the executor rewrites them).
pub(super) const SUCCEEDING_VARIABLES: [&str; 2] =
    ["CODEBUILD_BUILD_SUCCEEDING", "SLIPWAY_BUILD_SUCCEEDING"];

/// Events from the reader thread of a shell's output.
pub(super) enum Event {
    /// A command's status.
    Status(i32),
    /// The output pipe reached end-of-file.
    Closed,
}

/// Starts a thread that writes the shell's output to the log and reports sentinels.
pub(super) fn spawn_reader(
    mut stream: std::io::PipeReader,
    sentinel: Option<String>,
    log: BuildLog,
    events: Sender<Event>,
) {
    std::thread::spawn(move || {
        let mut splitter = LineSplitter::default();
        let mut buffer = vec![0_u8; 16 * 1024];
        let mut pieces = Vec::new();
        loop {
            let read = stream.read(&mut buffer);
            match read {
                Ok(0) | Err(_) => splitter.finish(&mut pieces),
                Ok(count) => splitter.feed(&buffer[..count], sentinel.as_deref(), &mut pieces),
            }
            for piece in pieces.drain(..) {
                match piece {
                    Piece::Line(line) => log.output(&line),
                    Piece::Status(status) => {
                        let _ = events.send(Event::Status(status));
                    }
                }
            }
            if !matches!(read, Ok(count) if count > 0) {
                let _ = events.send(Event::Closed);
                return;
            }
        }
    });
}

/// Spawns `settings.program` with `args`, its stdout and stderr on one pipe read by a thread.
pub(super) fn spawn(
    settings: &ShellSettings,
    args: &[&str],
    stdin: Stdio,
    extra_env: &[(&str, &str)],
    sentinel: Option<String>,
) -> Result<(Child, Receiver<Event>), ShellError> {
    let (reader, writer) = std::io::pipe().map_err(io_error("create the output pipe"))?;
    let writer_copy = writer
        .try_clone()
        .map_err(io_error("duplicate the output pipe"))?;
    let mut command = settings.program.command();
    command
        .args(args)
        .env_clear()
        .envs(settings.env.iter().map(|(name, value)| (name, value)))
        .envs(extra_env.iter().copied())
        .current_dir(&settings.cwd)
        .stdin(stdin)
        .stdout(writer_copy)
        .stderr(writer);
    let child = command.spawn().map_err(|source| ShellError::Spawn {
        program: settings.program.to_string(),
        source,
    })?;
    // The parent's copies of the write end go with `command`, so the reader sees end-of-file
    // when the shell and its children are gone.
    drop(command);
    let (sender, events) = channel();
    spawn_reader(reader, sentinel, settings.log.clone(), sender);
    Ok((child, events))
}

/// An exit status as one number: the code, or `128 + signal`.
pub(super) fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|signal| 128 + signal))
        .unwrap_or(1)
}

/// `text` single-quoted for a POSIX shell.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A random token no command prints by accident.
pub(super) fn new_sentinel() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    if let Ok(elapsed) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(elapsed.as_nanos());
    }
    format!("__slipway_done_{:016x}", hasher.finish())
}

/// Version 0.1: each command in its own `SHELL -c TEXT`.
pub struct FreshShell {
    settings: ShellSettings,
}

impl FreshShell {
    /// A runner starting a new shell for every command.
    pub fn new(settings: ShellSettings) -> FreshShell {
        FreshShell { settings }
    }
}

impl CommandRunner for FreshShell {
    fn run(&mut self, text: &str, build_succeeding: bool) -> Result<CommandStatus, ShellError> {
        let value = if build_succeeding { "1" } else { "0" };
        let extra = SUCCEEDING_VARIABLES.map(|name| (name, value));
        let (mut child, events) =
            spawn(&self.settings, &["-c", text], Stdio::null(), &extra, None)?;
        let status = child.wait().map_err(io_error("wait for the command"))?;
        // Let the reader finish the command's output, unless a background job holds the pipe.
        let _ = events.recv_timeout(Duration::from_millis(200));
        Ok(CommandStatus {
            exit_code: exit_code(status),
            ended_shell: false,
        })
    }

    fn read_variables(&mut self, names: &[String]) -> Result<Vec<Option<String>>, ShellError> {
        // Commands cannot change the build's environment in 0.1: values come from it.
        Ok(names
            .iter()
            .map(|name| {
                self.settings
                    .env
                    .iter()
                    .rev()
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value.clone())
            })
            .collect())
    }

    fn close(&mut self) {}
}

/// Creates the executor's private work directory (mode 0700: command files may hold secrets
/// a command spells out).
///
/// # Errors
/// When the directory cannot be created.
pub fn create_work_dir(path: &Path) -> Result<(), ShellError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(io_error(format!(
            "create the work directory {}",
            path.display()
        )))
}
