//! Condition types and Event/condition reasons of the `deployments.slipway.dev` kind. The
//! decision's own reasons live in [`crate::rollout::state::reasons`] and are re-exported here, so
//! this is the one list to read.

pub use crate::rollout::state::reasons::*;

/// Condition: the rollout succeeded (kstatus `Current`); False with the phase's reason otherwise.
pub const READY: &str = "Ready";
/// Condition: work is in flight.
pub const RECONCILING: &str = "Reconciling";
/// Condition: only a user can unblock the rollout.
pub const STALLED: &str = "Stalled";
/// A referenced Service or HTTPRoute is missing or unusable.
pub const INVALID_REFERENCE: &str = "InvalidReference";
/// A reconcile failed for a transient reason (the category is in the message).
pub const RECONCILE_FAILED: &str = "ReconcileFailed";
