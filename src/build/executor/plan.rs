//! What runs next: CodeBuild's phase transitions as a pure state machine.
//!
//! [`Plan::next`] takes the outcome of the step it last returned and returns the next [`Step`].
//! It never runs anything, so every rule is tested without a shell (`tests/plan.rs`).
//!
//! # Rules
//! - The four buildspec phases are walked in order `INSTALL`, `PRE_BUILD`, `BUILD`, `POST_BUILD`;
//!   a phase the buildspec leaves out is entered and completes at once (CodeBuild records it too).
//! - Inside a phase, `commands` run in order and stop at the first failure; `finally` then runs
//!   (after success too), also stopping at its first failure. The phase fails when any command
//!   of either block failed; its context message is the first failure's.
//! - After a failed phase, `on-failure` decides:
//!   - `RETRY[-count][-regex]`: the phase runs again from its first command while attempts
//!     remain (`count` retries after the first attempt) and the regex, if any, matches the
//!     failure's context message; once exhausted, the default transition applies.
//!   - `ABORT`: nothing else runs — no later phase (`post_build` included), no artifact upload.
//!   - `CONTINUE`: the next phase runs as if this one had succeeded.
//!   - default: a failure in `INSTALL` or `PRE_BUILD` skips to finalizing (no `post_build`, no
//!     upload); a failure in `BUILD` still runs `POST_BUILD`; after `POST_BUILD` artifacts are
//!     uploaded whatever its outcome ("`UPLOAD_ARTIFACTS` is always attempted").
//! - A phase that failed for good (not retried) makes the build fail: from then on
//!   `CODEBUILD_BUILD_SUCCEEDING` is `0` ([`Step::RunCommand::build_succeeding`]), and the build
//!   ends `FAILED` even when `CONTINUE` let later phases run. A failed upload fails the build.
//! - With image outputs ([`Plan::with_image_publishing`]), a `BUILD` phase whose commands and
//!   `finally` succeeded ends with [`Step::PublishImages`]; a failed publication fails the
//!   phase like a failed command (its message becomes the context message), so the rules
//!   above apply to it.
//! - Exported variables are captured once the buildspec phases are over (after `post_build`,
//!   or after the phase that ended the build), before the upload.

use crate::build::buildspec::{Command, OnFailure, Phase, PhaseName, Phases};

use super::retry_pattern;

/// The two command blocks of a phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    /// `commands`.
    Commands,
    /// `finally`.
    Finally,
}

/// How a phase ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PhaseOutcome {
    /// Every command of both blocks succeeded.
    Succeeded,
    /// A command failed; `message` is the first failure's context message.
    Failed {
        /// The phase context message (`COMMAND_EXECUTION_ERROR: …`).
        message: String,
    },
}

/// What the executor does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// Start a phase record (`attempt` counts from 1; above 1 on a retry).
    EnterPhase {
        /// The phase.
        phase: PhaseName,
        /// The attempt, from 1.
        attempt: u32,
    },
    /// Run one command and report a [`Outcome::Command`].
    RunCommand {
        /// The phase it belongs to.
        phase: PhaseName,
        /// Its block.
        block: Block,
        /// Its index within the block.
        index: usize,
        /// The command.
        command: &'a Command,
        /// The value of `CODEBUILD_BUILD_SUCCEEDING` for it.
        build_succeeding: bool,
    },
    /// End the phase record.
    CompletePhase {
        /// The phase.
        phase: PhaseName,
        /// The attempt that ended.
        attempt: u32,
        /// How it ended.
        outcome: PhaseOutcome,
        /// `Some(next attempt)` when the phase runs again (`on-failure: RETRY`).
        retry: Option<u32>,
    },
    /// Build and push the image outputs and report a [`Outcome::Publish`] (end of `BUILD`).
    PublishImages,
    /// Capture `env.exported-variables` from the build's shell.
    CaptureExportedVariables,
    /// Upload artifacts and report a [`Outcome::Upload`].
    UploadArtifacts {
        /// Whether the build has succeeded so far.
        build_succeeding: bool,
    },
    /// The build is over (every later call returns this again).
    Finish {
        /// Whether it succeeded (`SUCCEEDED`) or failed (`FAILED`).
        succeeded: bool,
    },
}

/// What happened in the step [`Plan::next`] returned last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report: the first call, or a step that cannot fail.
    None,
    /// A command ran: its success and, on failure, the context message.
    Command {
        /// Whether it exited 0.
        succeeded: bool,
        /// The context message when it failed.
        message: String,
    },
    /// The image outputs were published: their success and, on failure, the context message.
    Publish {
        /// Whether every image was built and pushed.
        succeeded: bool,
        /// The context message when it failed.
        message: String,
    },
    /// The artifact upload ran.
    Upload {
        /// Whether it worked.
        succeeded: bool,
    },
}

impl Outcome {
    /// A command that succeeded.
    pub fn command_succeeded() -> Outcome {
        Outcome::Command {
            succeeded: true,
            message: String::new(),
        }
    }

    /// A command that failed with the context `message`.
    pub fn command_failed(message: impl Into<String>) -> Outcome {
        Outcome::Command {
            succeeded: false,
            message: message.into(),
        }
    }
}

/// Where the plan stands between two calls.
#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    NotStarted,
    Entered {
        phase: usize,
        attempt: u32,
    },
    Running {
        phase: usize,
        attempt: u32,
        block: Block,
        index: usize,
        failure: Option<String>,
    },
    Publishing {
        phase: usize,
        attempt: u32,
    },
    Completed {
        then: Then,
    },
    Capturing {
        upload: bool,
    },
    Uploading,
    Finished,
}

/// Where the build goes after a phase completes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Then {
    Phase {
        phase: usize,
        attempt: u32,
    },
    /// No more buildspec phases: capture, then upload (or not), then finish.
    EndPhases {
        upload: bool,
    },
}

/// The build's transitions over a buildspec's phases; see the module docs for the rules.
#[derive(Clone, Debug)]
pub struct Plan<'a> {
    phases: &'a Phases,
    state: State,
    succeeding: bool,
    publish_images: bool,
}

impl<'a> Plan<'a> {
    /// A plan over `phases`, before its first step.
    pub fn new(phases: &'a Phases) -> Plan<'a> {
        Plan {
            phases,
            state: State::NotStarted,
            succeeding: true,
            publish_images: false,
        }
    }

    /// The same plan with a [`Step::PublishImages`] at the end of a successful `BUILD` phase.
    #[must_use]
    pub fn with_image_publishing(mut self) -> Plan<'a> {
        self.publish_images = true;
        self
    }

    /// Whether no phase has failed for good so far (`CODEBUILD_BUILD_SUCCEEDING`).
    pub fn build_succeeding(&self) -> bool {
        self.succeeding
    }

    /// The next step, given the outcome of the previous one ([`Outcome::None`] at first).
    pub fn next(&mut self, outcome: Outcome) -> Step<'a> {
        let state = std::mem::replace(&mut self.state, State::Finished);
        match state {
            State::NotStarted => self.enter(0, 1),
            State::Entered { phase, attempt } => self.first_command(phase, attempt),
            State::Running {
                phase,
                attempt,
                block,
                index,
                failure,
            } => self.after_command(phase, attempt, block, index, failure, outcome),
            State::Publishing { phase, attempt } => {
                let failure = match outcome {
                    Outcome::Publish {
                        succeeded: false,
                        message,
                    } => Some(message),
                    _ => None,
                };
                self.complete_phase(phase, attempt, failure)
            }
            State::Completed { then } => match then {
                Then::Phase { phase, attempt } => self.enter(phase, attempt),
                Then::EndPhases { upload } => {
                    self.state = State::Capturing { upload };
                    Step::CaptureExportedVariables
                }
            },
            State::Capturing { upload: true } => {
                self.state = State::Uploading;
                Step::UploadArtifacts {
                    build_succeeding: self.succeeding,
                }
            }
            State::Capturing { upload: false } => self.finish(),
            State::Uploading => {
                if outcome == (Outcome::Upload { succeeded: false }) {
                    self.succeeding = false;
                }
                self.finish()
            }
            State::Finished => self.finish(),
        }
    }

    fn finish(&mut self) -> Step<'a> {
        self.state = State::Finished;
        Step::Finish {
            succeeded: self.succeeding,
        }
    }

    fn enter(&mut self, phase: usize, attempt: u32) -> Step<'a> {
        self.state = State::Entered { phase, attempt };
        Step::EnterPhase {
            phase: PhaseName::ALL[phase],
            attempt,
        }
    }

    fn phase(&self, phase: usize) -> Option<&'a Phase> {
        self.phases.get(PhaseName::ALL[phase])
    }

    fn block(&self, phase: usize, block: Block) -> &'a [Command] {
        match (self.phase(phase), block) {
            (Some(found), Block::Commands) => &found.commands,
            (Some(found), Block::Finally) => &found.finally,
            (None, _) => &[],
        }
    }

    fn first_command(&mut self, phase: usize, attempt: u32) -> Step<'a> {
        self.run_from(phase, attempt, Block::Commands, 0, None)
    }

    /// Runs the command at (`block`, `index`) or the next one that exists; completes the phase
    /// when there is none.
    fn run_from(
        &mut self,
        phase: usize,
        attempt: u32,
        block: Block,
        index: usize,
        failure: Option<String>,
    ) -> Step<'a> {
        if let Some(command) = self.block(phase, block).get(index) {
            self.state = State::Running {
                phase,
                attempt,
                block,
                index,
                failure,
            };
            return Step::RunCommand {
                phase: PhaseName::ALL[phase],
                block,
                index,
                command,
                build_succeeding: self.succeeding,
            };
        }
        match block {
            Block::Commands => self.run_from(phase, attempt, Block::Finally, 0, failure),
            Block::Finally => self.complete(phase, attempt, failure),
        }
    }

    fn after_command(
        &mut self,
        phase: usize,
        attempt: u32,
        block: Block,
        index: usize,
        failure: Option<String>,
        outcome: Outcome,
    ) -> Step<'a> {
        let failed_now = match outcome {
            Outcome::Command {
                succeeded: false,
                message,
            } => Some(message),
            _ => None,
        };
        match (block, failed_now) {
            (_, None) => self.run_from(phase, attempt, block, index + 1, failure),
            // The first failure of `commands` skips the rest of them; `finally` still runs.
            (Block::Commands, Some(message)) => {
                self.run_from(phase, attempt, Block::Finally, 0, Some(message))
            }
            (Block::Finally, Some(message)) => {
                self.complete(phase, attempt, failure.or(Some(message)))
            }
        }
    }

    fn complete(&mut self, phase: usize, attempt: u32, failure: Option<String>) -> Step<'a> {
        if self.publish_images && failure.is_none() && PhaseName::ALL[phase] == PhaseName::Build {
            self.state = State::Publishing { phase, attempt };
            return Step::PublishImages;
        }
        self.complete_phase(phase, attempt, failure)
    }

    fn complete_phase(&mut self, phase: usize, attempt: u32, failure: Option<String>) -> Step<'a> {
        let name = PhaseName::ALL[phase];
        let Some(message) = failure else {
            self.state = State::Completed {
                then: self.after_phase(phase),
            };
            return Step::CompletePhase {
                phase: name,
                attempt,
                outcome: PhaseOutcome::Succeeded,
                retry: None,
            };
        };
        let on_failure = self.phase(phase).and_then(|found| found.on_failure.clone());
        let retry = match &on_failure {
            Some(OnFailure::Retry { count, pattern })
                if attempt <= *count
                    && pattern
                        .as_deref()
                        .is_none_or(|pattern| retry_pattern::matches(pattern, &message)) =>
            {
                Some(attempt + 1)
            }
            _ => None,
        };
        let then = match (retry, &on_failure, name) {
            (Some(next), _, _) => Then::Phase {
                phase,
                attempt: next,
            },
            (None, Some(OnFailure::Abort), _) => Then::EndPhases { upload: false },
            (None, Some(OnFailure::Continue), _) => self.after_phase(phase),
            (None, _, PhaseName::Install | PhaseName::PreBuild) => {
                Then::EndPhases { upload: false }
            }
            (None, _, PhaseName::Build | PhaseName::PostBuild) => self.after_phase(phase),
        };
        if retry.is_none() {
            self.succeeding = false;
        }
        self.state = State::Completed { then };
        Step::CompletePhase {
            phase: name,
            attempt,
            outcome: PhaseOutcome::Failed { message },
            retry,
        }
    }

    /// The ordinary successor of `phase`: the next phase, or the end of the phases (with upload).
    fn after_phase(&self, phase: usize) -> Then {
        if phase + 1 < PhaseName::ALL.len() {
            Then::Phase {
                phase: phase + 1,
                attempt: 1,
            }
        } else {
            Then::EndPhases { upload: true }
        }
    }
}
