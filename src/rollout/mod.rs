//! The rollout capability: CodeDeploy's semantics on Kubernetes.
pub mod appspec;
pub mod decide;
pub mod health;
pub mod hooks;
mod progress;
mod rollback;
mod shift;
pub mod state;
pub mod strategy;
pub mod traffic;

pub use decide::decide;
pub use state::{DecideInput, Decision, Intent, ObservedWorld};

#[cfg(test)]
mod decide_tests;
#[cfg(test)]
mod simulation;
#[cfg(test)]
mod properties;
