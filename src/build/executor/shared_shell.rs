//! Version 0.2's shared shell: one long-lived process for every command of the build.
//!
//! The protocol and the exit handling are described in [`super::shell`]; this file is their
//! implementation.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use super::shell::{
    CommandRunner, CommandStatus, Event, SUCCEEDING_VARIABLES, ShellError, ShellSettings,
    exit_code, io_error, new_sentinel, shell_quote, spawn,
};

/// The file each command is written to (one at a time: the next is written after the last ended).
const COMMAND_FILE: &str = "command.sh";

/// The exported variables of a shell that ended (`export -p`, written by its `EXIT` trap).
const ENV_SNAPSHOT: &str = "env.snapshot";

/// The working directory of a shell that ended.
const CWD_SNAPSHOT: &str = "cwd.snapshot";

/// The live process of a [`SharedShell`].
struct SharedProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Event>,
}

/// Version 0.2: all commands in one long-lived shell (see the module docs for the protocol).
pub struct SharedShell {
    settings: ShellSettings,
    sentinel: String,
    process: Option<SharedProcess>,
    started: bool,
    /// The `CODEBUILD_BUILD_SUCCEEDING` the running shell has, when known.
    succeeding: Option<bool>,
}

impl SharedShell {
    /// A shared shell; the process starts with the first command.
    pub fn new(settings: ShellSettings) -> SharedShell {
        SharedShell {
            settings,
            sentinel: new_sentinel(),
            process: None,
            started: false,
            succeeding: None,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.settings.work_dir.join(name)
    }

    fn quoted_path(&self, name: &str) -> String {
        shell_quote(&self.path(name).to_string_lossy())
    }

    /// What the shell reads first: fd 9 for sentinels, the command file's path, an `EXIT`
    /// trap that snapshots the exported variables and the working directory when the shell
    /// dies, and the function that reports a command's status (`$?` on entry is the command's
    /// status). The command itself runs at the top level: in a function, bash's `declare`
    /// would make its variables local. Short names keep each control line short (bash reads a
    /// pipe a byte at a time), and the snapshot is taken only at exit because bash writes
    /// `export -p` a line per system call.
    fn start_script(&self) -> String {
        format!(
            "exec 9>&1\n__sw_f={file}\n__sw_snapshot() {{ export -p >{env} 2>/dev/null; pwd >{cwd} 2>/dev/null; }}\ntrap __sw_snapshot EXIT\n__sw_done() {{ __sw_s=$?; set +e; printf '\\n%s %s\\n' '{sentinel}' \"$__sw_s\" >&9; }}\n",
            file = self.quoted_path(COMMAND_FILE),
            env = self.quoted_path(ENV_SNAPSHOT),
            cwd = self.quoted_path(CWD_SNAPSHOT),
            sentinel = self.sentinel,
        )
    }

    /// Starts the process; when it replaces one that ended, first restores the snapshot that
    /// shell's `EXIT` trap wrote.
    fn ensure_started(&mut self) -> Result<(), ShellError> {
        if self.process.is_some() {
            return Ok(());
        }
        let restarting = std::mem::replace(&mut self.started, true);
        self.start_process()?;
        if !restarting {
            return Ok(());
        }
        let snapshot = self.path(ENV_SNAPSHOT);
        let restored = if snapshot.exists() {
            let cwd = std::fs::read_to_string(self.path(CWD_SNAPSHOT)).unwrap_or_default();
            let mut restore = format!(". {}\n", self.quoted_path(ENV_SNAPSHOT));
            if let Some(cwd) = cwd.strip_suffix('\n').filter(|cwd| !cwd.is_empty()) {
                restore.push_str(&format!("cd {}\n", shell_quote(cwd)));
            }
            matches!(
                self.run_file(&restore, ""),
                Ok(CommandStatus {
                    exit_code: 0,
                    ended_shell: false
                })
            )
        } else {
            false
        };
        if !restored {
            // `exec`, a signal, or a command's own `trap ... EXIT` leave no (usable) snapshot.
            self.settings.log.container(
                "Warning: unable to restore the exported variables and working directory of the shell that ended; continuing in a clean shell",
            );
            self.close();
            self.start_process()?;
        }
        // A later restart must never restore this (by then stale) state.
        let _ = std::fs::remove_file(snapshot);
        let _ = std::fs::remove_file(self.path(CWD_SNAPSHOT));
        Ok(())
    }

    fn start_process(&mut self) -> Result<(), ShellError> {
        let (mut child, events) = spawn(
            &self.settings,
            &[],
            Stdio::piped(),
            &[],
            Some(self.sentinel.clone()),
        )?;
        let mut stdin = child.stdin.take();
        if let Some(stdin) = stdin.as_mut() {
            // fd 9 keeps the output pipe for sentinels whatever a command does to stdout.
            stdin
                .write_all(self.start_script().as_bytes())
                .map_err(io_error("start the shell"))?;
        }
        self.succeeding = None;
        self.process = Some(SharedProcess {
            child,
            stdin,
            events,
        });
        Ok(())
    }

    /// Writes `text` to the command file, runs it in the shell after `prelude` and waits for
    /// its status.
    fn run_file(&mut self, text: &str, prelude: &str) -> Result<CommandStatus, ShellError> {
        std::fs::write(self.path(COMMAND_FILE), text).map_err(io_error(format!(
            "write the command file in {}",
            self.settings.work_dir.display()
        )))?;
        let script = format!("{prelude}. \"$__sw_f\" </dev/null 9>&-;__sw_done\n");
        let Some(process) = self.process.as_mut() else {
            return Err(ShellError::Io {
                action: "reach the shell".to_owned(),
                source: std::io::Error::other("the shell is not running"),
            });
        };
        let written = process.stdin.as_mut().map(|stdin| {
            stdin
                .write_all(script.as_bytes())
                .and_then(|()| stdin.flush())
        });
        if !matches!(written, Some(Ok(()))) {
            // The shell is gone (a background job killed it); report how it ended.
            return Ok(self.ended());
        }
        self.wait()
    }

    /// Waits for the sentinel, or for the shell to end.
    fn wait(&mut self) -> Result<CommandStatus, ShellError> {
        loop {
            let Some(process) = self.process.as_mut() else {
                return Ok(self.ended());
            };
            match process.events.recv_timeout(Duration::from_millis(100)) {
                Ok(Event::Status(exit_code)) => {
                    return Ok(CommandStatus {
                        exit_code,
                        ended_shell: false,
                    });
                }
                Ok(Event::Closed) | Err(RecvTimeoutError::Disconnected) => return Ok(self.ended()),
                Err(RecvTimeoutError::Timeout) => {
                    let exited = process
                        .child
                        .try_wait()
                        .map_err(io_error("wait for the shell"))?;
                    if exited.is_some() {
                        // Background jobs may still hold the pipe: give the reader a moment
                        // for the shell's last lines, without waiting for end-of-file.
                        let _ = process.events.recv_timeout(Duration::from_millis(50));
                        return Ok(self.ended());
                    }
                }
            }
        }
    }

    /// The shell ended: its exit status becomes the command's, and the next command restarts it.
    fn ended(&mut self) -> CommandStatus {
        let exit_code = match self.process.take() {
            Some(mut process) => {
                drop(process.stdin.take());
                process.child.wait().map(exit_code).unwrap_or(1)
            }
            None => 1,
        };
        CommandStatus {
            exit_code,
            ended_shell: true,
        }
    }
}

impl CommandRunner for SharedShell {
    fn run(&mut self, text: &str, build_succeeding: bool) -> Result<CommandStatus, ShellError> {
        self.ensure_started()?;
        let mut prelude = String::new();
        if self.succeeding != Some(build_succeeding) {
            let value = if build_succeeding { "1" } else { "0" };
            prelude = format!(
                "{a}={value}; {b}={value}; export {a} {b}\n",
                a = SUCCEEDING_VARIABLES[0],
                b = SUCCEEDING_VARIABLES[1]
            );
        }
        let status = self.run_file(text, &prelude)?;
        self.succeeding = (!status.ended_shell).then_some(build_succeeding);
        if status.ended_shell {
            self.settings.log.container(&format!(
                "The shell ended with exit status {}; the next command starts in a new shell with the exported variables and working directory of the last completed command",
                status.exit_code
            ));
        }
        Ok(status)
    }

    fn read_variables(&mut self, names: &[String]) -> Result<Vec<Option<String>>, ShellError> {
        self.ensure_started()?;
        let mut script = String::new();
        for (index, name) in names.iter().enumerate() {
            script.push_str(&format!(
                "if [ \"${{{name}+set}}\" = set ]; then printf '%s' \"${name}\" >{file}; fi\n",
                file = self.quoted_path(&format!("exported.{index}"))
            ));
        }
        self.run_file(&script, "")?;
        Ok((0..names.len())
            .map(|index| {
                let path = self.path(&format!("exported.{index}"));
                let value = std::fs::read(&path)
                    .ok()
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
                let _ = std::fs::remove_file(path);
                value
            })
            .collect())
    }

    fn close(&mut self) {
        if let Some(mut process) = self.process.take() {
            // End of input ends a non-interactive shell; a shell stuck in a command is killed.
            drop(process.stdin.take());
            for _ in 0..20 {
                if matches!(process.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = process.child.kill();
            let _ = process.child.wait();
        }
    }
}

impl Drop for SharedShell {
    fn drop(&mut self) {
        self.close();
    }
}
