//! Sources and triggers: what starts a pipeline run by itself.
//!
//! - [`event`]: one shape for what a delivery says, whatever the provider.
//! - [`signature`]: the signature (or token) check over the raw body, before anything is parsed.
//! - [`payload`]: each provider's payload read into a [`event::SourceEvent`].
//! - [`filter`]: the Pipeline's triggers (CodePipeline V2 semantics) judging an event.
//! - [`receiver`]: the webhook receiver (every replica): verify, parse, judge, answer, start.
//! - [`poll`]: the source check (the poll and the connection test) the Pipeline controller runs.
//! - [`runs`]: the names of triggered runs, so a trigger seen twice starts one run.

pub mod event;
pub mod filter;
pub mod payload;
pub mod poll;
pub mod receiver;
pub mod runs;
pub mod signature;
