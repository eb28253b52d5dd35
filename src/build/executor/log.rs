//! The build log: command output and the executor's own lines, masked, in CodeBuild's layout.
//!
//! Command output is written as the commands print it (stdout and stderr interleaved in the
//! order they were written). The executor's lines carry CodeBuild's prefix so that people (and
//! scripts) used to CodeBuild logs read them unchanged:
//!
//! ```text
//! [Container] 2026/11/26 03:20:00.123456 Entering phase BUILD
//! [Container] 2026/11/26 03:20:00.123789 Running command make
//! [Container] 2026/11/26 03:20:01.002345 Phase complete: BUILD State: SUCCEEDED
//! [Container] 2026/11/26 03:20:01.002360 Phase context status code:  Message:
//! ```
//!
//! Times are UTC. Every line goes through the [`Masker`] first.

use std::io::Write;
use std::sync::{Arc, Mutex};

use k8s_openapi::jiff::Timestamp;

use super::masking::Masker;

/// Where the log goes: the executor's stdout in a pod, a buffer in tests.
pub type LogSink = Arc<Mutex<dyn Write + Send>>;

/// The longest line kept whole; longer output (progress bars without newlines) is cut there,
/// so memory stays bounded and masking still sees whole secrets in ordinary lines.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// The build log: a sink and the masker every line goes through.
#[derive(Clone)]
pub struct BuildLog {
    sink: LogSink,
    masker: Arc<Masker>,
}

impl std::fmt::Debug for BuildLog {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("BuildLog").finish_non_exhaustive()
    }
}

impl BuildLog {
    /// A log writing to `sink`, masking with `masker`.
    pub fn new(sink: LogSink, masker: Arc<Masker>) -> BuildLog {
        BuildLog { sink, masker }
    }

    /// A log writing to the process's stdout.
    pub fn stdout(masker: Arc<Masker>) -> BuildLog {
        BuildLog::new(Arc::new(Mutex::new(std::io::stdout())), masker)
    }

    /// The masker (for messages that leave the executor by other ways than the log).
    pub fn masker(&self) -> &Masker {
        &self.masker
    }

    /// Writes an executor line: `[Container] <time> <message>`.
    pub fn container(&self, message: &str) {
        let line = format!("[Container] {} {message}", log_time(Timestamp::now()));
        self.write_line(&line);
    }

    /// Writes one line of command output (bytes as printed, without the newline).
    pub fn output(&self, line: &[u8]) {
        self.write_line(&String::from_utf8_lossy(line));
    }

    /// Writes text as it is (the phase table), masked.
    pub fn raw(&self, text: &str) {
        let masked = self.masker.mask(text);
        if let Ok(mut sink) = self.sink.lock() {
            // A closed stdout must not fail the build: the result still reaches the controller.
            let _ = sink.write_all(masked.as_bytes());
            let _ = sink.flush();
        }
    }

    fn write_line(&self, line: &str) {
        let mut masked = self.masker.mask(line);
        masked.push('\n');
        if let Ok(mut sink) = self.sink.lock() {
            let _ = sink.write_all(masked.as_bytes());
            let _ = sink.flush();
        }
    }
}

/// CodeBuild's log time: `2026/11/26 03:20:00.123456` (UTC).
pub fn log_time(time: Timestamp) -> String {
    time.strftime("%Y/%m/%d %H:%M:%S%.6f").to_string()
}

/// Splits a byte stream into lines, holding back what the shell protocol needs held back.
///
/// The shared shell ends each command with `\n<sentinel> <status>\n` ([`super::shell`]); the
/// sentinel's leading newline ends a last line the command left open, and must not show as an
/// empty line when the command's output did end with a newline. So an empty line is held until
/// the next line shows whether it was the sentinel's.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
    held_empty_line: bool,
}

/// What a [`LineSplitter`] found in the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    /// A line of output.
    Line(Vec<u8>),
    /// The sentinel with a command's exit status.
    Status(i32),
}

impl LineSplitter {
    /// Feeds `bytes`; `sentinel` (when the stream has one) marks status lines.
    pub fn feed(&mut self, bytes: &[u8], sentinel: Option<&str>, found: &mut Vec<Piece>) {
        self.partial.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(offset) = self.partial[start..].iter().position(|b| *b == b'\n') {
            let line = self.partial[start..start + offset].to_vec();
            start += offset + 1;
            self.line(line, sentinel, found);
        }
        self.partial.drain(..start);
        if self.partial.len() >= MAX_LINE_BYTES {
            let line = std::mem::take(&mut self.partial);
            self.line(line, None, found);
        }
    }

    /// The end of the stream: what is left is output.
    pub fn finish(&mut self, found: &mut Vec<Piece>) {
        if std::mem::take(&mut self.held_empty_line) {
            found.push(Piece::Line(Vec::new()));
        }
        if !self.partial.is_empty() {
            found.push(Piece::Line(std::mem::take(&mut self.partial)));
        }
    }

    fn line(&mut self, line: Vec<u8>, sentinel: Option<&str>, found: &mut Vec<Piece>) {
        if let Some(status) = sentinel.and_then(|sentinel| parse_status(&line, sentinel)) {
            self.held_empty_line = false;
            found.push(Piece::Status(status));
            return;
        }
        if std::mem::take(&mut self.held_empty_line) {
            found.push(Piece::Line(Vec::new()));
        }
        if line.is_empty() && sentinel.is_some() {
            self.held_empty_line = true;
        } else {
            found.push(Piece::Line(line));
        }
    }
}

/// The status in a `<sentinel> <status>` line.
fn parse_status(line: &[u8], sentinel: &str) -> Option<i32> {
    let rest = line.strip_prefix(sentinel.as_bytes())?.strip_prefix(b" ")?;
    std::str::from_utf8(rest).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&str]) -> Vec<Piece> {
        let mut splitter = LineSplitter::default();
        let mut found = Vec::new();
        for chunk in chunks {
            splitter.feed(chunk.as_bytes(), Some("@@S"), &mut found);
        }
        splitter.finish(&mut found);
        found
    }

    fn line(text: &str) -> Piece {
        Piece::Line(text.as_bytes().to_vec())
    }

    #[test]
    fn the_sentinels_newline_never_shows_as_an_empty_line() {
        assert_eq!(split(&["a\n", "\n@@S 0\n"]), [line("a"), Piece::Status(0)]);
        assert_eq!(split(&["a", "\n@@S 2\n"]), [line("a"), Piece::Status(2)]);
        assert_eq!(split(&["\n\n@@S 0\n"]), [line(""), Piece::Status(0)]);
    }

    #[test]
    fn lines_split_across_chunks_are_joined() {
        assert_eq!(
            split(&["he", "llo\nwor", "ld\n\n@", "@S 1", "27\n"]),
            [line("hello"), line("world"), Piece::Status(127)]
        );
    }

    #[test]
    fn an_unterminated_last_line_is_kept() {
        assert_eq!(split(&["tail"]), [line("tail")]);
    }

    #[test]
    fn log_times_look_like_codebuilds() {
        let time: Timestamp = "2026-11-26T03:20:00.123456789Z".parse().unwrap();
        assert_eq!(log_time(time), "2026/11/26 03:20:00.123456");
    }
}
