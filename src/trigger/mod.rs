//! Sources and triggers: what starts a pipeline run by itself.
//!
//! - [`event`]: one shape for what a delivery says, whatever the provider.
//! - [`signature`]: the signature (or token) check over the raw body, before anything is parsed.
//! - [`payload`]: each provider's payload read into a [`event::SourceEvent`].
//! - [`filter`]: the Pipeline's triggers (CodePipeline V2 semantics) judging an event.

pub mod event;
pub mod filter;
pub mod payload;
pub mod signature;
