//! Notifications: a run's state changes sent to the sinks of its Pipeline
//! (`spec.notifications`), at least once, never holding up or failing the run.
//!
//! - [`notices`]: what a run's status has to say (pure): each start and end of the run, its
//!   stage attempts and action attempts, under a stable key, and which a sink still lacks.
//! - [`message`]: one notice as an HTTP request (pure): CloudEvents binary mode or a JSON
//!   document, optionally HMAC-signed.
//! - [`sender`]: the loop on the leader that sends what is pending, retries with backoff, and
//!   records each sink's progress in the run's `status.notifications`.
//!
//! At least once: a notice counts as delivered when the sink answered 2xx and the key is in the
//! run's status; a restart between the two sends it again under the same id (`ce-id`), which a
//! receiver uses to drop the repeat.

pub mod message;
pub mod notices;
pub mod sender;
