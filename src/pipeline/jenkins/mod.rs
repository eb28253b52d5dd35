//! Jenkins actions: trigger a job over Jenkins' REST API and follow it to its result.
//!
//! # Calls
//! - **Trigger** ([`JenkinsClient::trigger`]): reads the job's declared parameters
//!   (`…/job/a/job/b/api/json`; 404 means no such job), fetches a crumb from
//!   `/crumbIssuer/api/json` when Jenkins issues them (CSRF protection), sending its header and
//!   the session cookie it came with, then `POST …/buildWithParameters` with the action's
//!   parameters and `SLIPWAY_ACTION_ID=<action id>` — or `POST …/build` for a job that declares
//!   no parameters. The answer's `Location` is the queue item.
//! - **Follow** ([`follow`], pure; [`JenkinsClient::poll`] runs it): queue item
//!   (`executable`, `cancelled`, `why`) → build (`building`, `result`). `SUCCESS` succeeds;
//!   any other result fails with the result and the console URL.
//! - Every call uses HTTP basic auth (user and API token from the action's Secret), is bounded
//!   by [`client::CALL_TIMEOUT`], follows no redirect and only ever goes to the origin of
//!   `spec.url` (see [`address`] for why URLs Jenkins answers with are rebased).
//!
//! # Exactly once, and when it is only at least once
//! A controller can stop between the trigger and the status write that records its queue
//! URL. So before triggering, a poll with nothing recorded searches for the action's id
//! ([`JenkinsClient::find_run`]: the queue, then the job's last [`RECENT_BUILDS`] builds) and
//! follows what it finds instead of triggering again. This needs the job to **declare a
//! string parameter named `SLIPWAY_ACTION_ID`**: Jenkins drops parameters a job does not
//! declare, so for such a job (and for one with no parameters at all, triggered with
//! `…/build`) the search finds nothing and a restart in that window triggers the job a second
//! time: delivery is at least once, and the progress message says so. Two more narrow gaps
//! remain even with the parameter: an item that leaves the queue in the milliseconds between
//! the queue read and the builds read, and a build pushed out of the last
//! [`RECENT_BUILDS`] by newer builds of the job.
//!
//! # Errors
//! [`JenkinsError::is_permanent`]: 401/403 (the Secret's credentials), 404 on the job, a job
//! that does not declare the action's parameters, redirects and other 4xx are permanent;
//! 5xx, transport errors, timeouts and unreadable answers are transient. The API token is never
//! logged or put into a message.
//!
//! # Caveats
//! Parameters are passed as given: substituting `#{…}` variables is the caller's job.

pub mod address;
pub mod client;
pub mod error;
pub mod follow;

#[cfg(test)]
mod follow_tests;

pub use client::{JenkinsClient, JenkinsCredentials, JenkinsJob};
pub use error::JenkinsError;
pub use follow::{NextStep, Progress, RunOutcome, decide_next_step};

/// The build parameter carrying the action id, so that a run can be found again.
pub const ACTION_ID_PARAMETER: &str = "SLIPWAY_ACTION_ID";

/// How many of a job's most recent builds the search by action id reads.
pub const RECENT_BUILDS: usize = 50;
