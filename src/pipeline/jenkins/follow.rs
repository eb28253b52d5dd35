//! Following a Jenkins run (pure): from what the action's status recorded and what was just read
//! from Jenkins, the next step and the record to write back.
//!
//! # Steps
//! ```text
//!  (nothing recorded) ─▶ Search ─┬─ found queued ──────────────▶ ReadQueue
//!                                ├─ found a build ─────────────▶ ReadBuild / Finished
//!                                └─ nothing ─▶ Trigger ─▶ queue URL recorded ─▶ ReadQueue
//!  ReadQueue ─┬─ waiting ─▶ ReadQueue         ReadBuild ─┬─ building ─▶ ReadBuild
//!             ├─ started ─▶ ReadBuild                    ├─ a result ─▶ Finished
//!             ├─ cancelled ─▶ Finished (failed)           └─ gone ─▶ Finished (failed)
//!             └─ gone (Jenkins forgets left items after ~5 minutes) ─▶ Search
//! ```
//! Every fact needed to continue is in [`ExternalRun`], so a controller that restarts resumes
//! from the action's status alone. The one gap — a trigger whose queue URL never reached the
//! status — is closed by searching for the action id before triggering (see the parent
//! module's docs).
//!
//! # Results
//! `SUCCESS` succeeds; `FAILURE`, `UNSTABLE`, `ABORTED`, `NOT_BUILT` (and anything else)
//! fail, naming the result and the build's console URL.

use serde::Deserialize;

use crate::api::execution::ExternalRun;

/// A queue item as `…/queue/item/N/api/json` shows it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct QueueItem {
    /// Whether someone cancelled it before it started.
    #[serde(default)]
    pub cancelled: bool,
    /// Why it is still waiting.
    #[serde(default)]
    pub why: Option<String>,
    /// The build it became, once started.
    #[serde(default)]
    pub executable: Option<Executable>,
}

/// The build a queue item became.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Executable {
    /// The build number.
    pub number: i64,
    /// The build's URL, as Jenkins writes it.
    pub url: String,
}

/// A build as `…/job/…/N/api/json` shows it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct BuildState {
    /// The build number.
    pub number: i64,
    /// The build's URL, as Jenkins writes it.
    pub url: String,
    /// Whether it still runs.
    #[serde(default)]
    pub building: bool,
    /// `SUCCESS`, `FAILURE`, `UNSTABLE`, `ABORTED`, `NOT_BUILT`; none while it runs.
    #[serde(default)]
    pub result: Option<String>,
}

/// A run started for an action id earlier, found again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FoundRun {
    /// Still in the queue, at this queue item URL.
    Queued {
        /// The queue item's URL.
        queue_url: String,
    },
    /// A build.
    Build(BuildState),
}

/// What a trigger returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Triggered {
    /// The queue item (the answer's `Location`).
    pub queue_url: String,
    /// Whether the job declares `SLIPWAY_ACTION_ID`, so that a restart can find this run again.
    pub findable: bool,
}

/// What was just read from Jenkins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observation {
    /// The search by action id.
    Search(Option<FoundRun>),
    /// The trigger's answer.
    Triggered(Triggered),
    /// The queue item.
    Queue(QueueItem),
    /// The queue item answered 404.
    QueueGone,
    /// The build.
    Build(BuildState),
    /// The build answered 404.
    BuildGone,
}

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// Look for a run started for this action id (queue, then the job's recent builds).
    Search,
    /// Nothing was started yet: trigger the job.
    Trigger,
    /// Read the queue item.
    ReadQueue {
        /// Its URL, as Jenkins wrote it.
        queue_url: String,
    },
    /// Read the build.
    ReadBuild {
        /// Its URL, as Jenkins wrote it.
        build_url: String,
    },
    /// The run ended.
    Finished(RunOutcome),
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// Whether the action succeeded.
    pub succeeded: bool,
    /// One line for the action's status.
    pub message: String,
}

/// The decision: the record to write to the action's status, the next step, and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The action's `externalRun` after this step.
    pub record: ExternalRun,
    /// What the next poll does.
    pub next: NextStep,
    /// One line saying where the run is.
    pub message: String,
}

/// Decides the next step from the `recorded` run and what was just `observed` (`None`: from
/// the record alone, as a poll starts).
pub fn decide_next_step(recorded: &ExternalRun, observed: Option<Observation>) -> Progress {
    let mut record = recorded.clone();
    let Some(observed) = observed else {
        return from_record(record);
    };
    match observed {
        Observation::Search(None) if record.queue_url.is_some() || record.build_url.is_some() => {
            let message = format!(
                "Jenkins no longer knows {}, and no recent build of the job carries this action's SLIPWAY_ACTION_ID (does the job declare it?)",
                record
                    .build_url
                    .as_deref()
                    .or(record.queue_url.as_deref())
                    .unwrap_or_default()
            );
            finished(record, false, message)
        }
        Observation::Search(None) => Progress {
            record,
            next: NextStep::Trigger,
            message: "triggering the Jenkins job".into(),
        },
        Observation::Search(Some(FoundRun::Queued { queue_url })) => {
            record.queue_url = Some(queue_url.clone());
            Progress {
                message: format!("found the run queued in Jenkins at {queue_url}"),
                record,
                next: NextStep::ReadQueue { queue_url },
            }
        }
        Observation::Search(Some(FoundRun::Build(build))) => observe_build(record, build),
        Observation::Triggered(triggered) => {
            record.queue_url = Some(triggered.queue_url.clone());
            let caveat = if triggered.findable {
                ""
            } else {
                "; the job does not declare the string parameter SLIPWAY_ACTION_ID, so a controller restart before this is recorded could trigger it again"
            };
            Progress {
                message: format!("queued in Jenkins at {}{caveat}", triggered.queue_url),
                record,
                next: NextStep::ReadQueue {
                    queue_url: triggered.queue_url,
                },
            }
        }
        Observation::Queue(item) => observe_queue(record, item),
        Observation::QueueGone => Progress {
            message: format!(
                "Jenkins forgot queue item {}; looking for its build",
                record.queue_url.as_deref().unwrap_or_default()
            ),
            record,
            next: NextStep::Search,
        },
        Observation::Build(build) => observe_build(record, build),
        Observation::BuildGone => {
            let message = format!(
                "Jenkins build {} no longer exists (deleted, or discarded by the job's build retention)",
                record.build_url.as_deref().unwrap_or_default()
            );
            finished(record, false, message)
        }
    }
}

fn from_record(record: ExternalRun) -> Progress {
    if let (Some(result), Some(url)) = (record.result.clone(), record.build_url.clone()) {
        let (succeeded, message) = judge(&result, record.build_number, &url);
        return finished(record, succeeded, message);
    }
    let (next, message) = match (&record.build_url, &record.queue_url) {
        (Some(build_url), _) => (
            NextStep::ReadBuild {
                build_url: build_url.clone(),
            },
            format!("following Jenkins build {build_url}"),
        ),
        (None, Some(queue_url)) => (
            NextStep::ReadQueue {
                queue_url: queue_url.clone(),
            },
            format!("following Jenkins queue item {queue_url}"),
        ),
        (None, None) => (
            NextStep::Search,
            "looking for an earlier trigger of this action in Jenkins".to_owned(),
        ),
    };
    Progress {
        record,
        next,
        message,
    }
}

fn observe_queue(mut record: ExternalRun, item: QueueItem) -> Progress {
    let queue_url = record.queue_url.clone().unwrap_or_default();
    if item.cancelled {
        let message = format!("the Jenkins queue item {queue_url} was cancelled before it started");
        return finished(record, false, message);
    }
    match item.executable {
        Some(executable) => {
            record.build_number = Some(executable.number);
            record.build_url = Some(executable.url.clone());
            Progress {
                message: format!(
                    "Jenkins started build #{} at {}",
                    executable.number, executable.url
                ),
                record,
                next: NextStep::ReadBuild {
                    build_url: executable.url,
                },
            }
        }
        None => Progress {
            message: format!(
                "waiting in the Jenkins queue: {}",
                item.why.as_deref().unwrap_or("no reason given")
            ),
            record,
            next: NextStep::ReadQueue { queue_url },
        },
    }
}

fn observe_build(mut record: ExternalRun, build: BuildState) -> Progress {
    record.build_number = Some(build.number);
    if record.build_url.is_none() {
        record.build_url = Some(build.url.clone());
    }
    let url = record.build_url.clone().unwrap_or_default();
    match build.result {
        Some(result) if !build.building => {
            record.result = Some(result.clone());
            let (succeeded, message) = judge(&result, Some(build.number), &url);
            finished(record, succeeded, message)
        }
        _ => Progress {
            message: format!("Jenkins build #{} is running: {url}", build.number),
            record,
            next: NextStep::ReadBuild { build_url: url },
        },
    }
}

/// Whether `result` succeeds, and the message naming it and the console.
fn judge(result: &str, number: Option<i64>, url: &str) -> (bool, String) {
    let build = number.map_or_else(|| "build".to_owned(), |number| format!("build #{number}"));
    let console = format!("{}/console", url.trim_end_matches('/'));
    if result == "SUCCESS" {
        (true, format!("Jenkins {build} succeeded: {console}"))
    } else {
        (false, format!("Jenkins {build} ended {result}: {console}"))
    }
}

fn finished(record: ExternalRun, succeeded: bool, message: String) -> Progress {
    Progress {
        record,
        message: message.clone(),
        next: NextStep::Finished(RunOutcome { succeeded, message }),
    }
}
