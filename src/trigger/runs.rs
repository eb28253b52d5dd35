//! The names of the runs triggers start, and their idempotent create.
//!
//! A run's name derives from what started it — the delivery id of a webhook, the revision of a
//! poll — so a redelivery, a second replica or a restart between create and status write meets
//! a create conflict (409 `AlreadyExists`) instead of starting a second run.

use kube::api::PostParams;
use kube::{Api, Client, ResourceExt};

use crate::api::PipelineExecution;
use crate::runtime::names::{NAME_MAX, fit_name, short_hash};

/// The run a webhook delivery starts.
pub fn webhook_run_name(pipeline: &str, delivery_id: &str) -> String {
    fit_name(
        pipeline,
        &format!("-wh-{}", short_hash(delivery_id.as_bytes())),
        NAME_MAX,
    )
}

/// The run a poll that found `revision` starts.
pub fn poll_run_name(pipeline: &str, revision: &str) -> String {
    fit_name(
        pipeline,
        &format!("-poll-{}", short_hash(revision.as_bytes())),
        NAME_MAX,
    )
}

/// What a create found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Created {
    /// The run is new.
    New,
    /// A run of that name already exists: the same trigger started it before.
    AlreadyExisted,
}

/// Creates `run`; a run of the same name already there is [`Created::AlreadyExisted`].
///
/// # Errors
/// The API's refusal for anything but a name conflict.
pub async fn create_run(client: &Client, run: &PipelineExecution) -> Result<Created, kube::Error> {
    let api: Api<PipelineExecution> =
        Api::namespaced(client.clone(), &run.namespace().unwrap_or_default());
    match api.create(&PostParams::default(), run).await {
        Ok(_) => Ok(Created::New),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(Created::AlreadyExisted),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_names_are_stable_and_tell_the_trigger_apart() {
        let delivery = webhook_run_name("web", "76cfa806-1c16-448b-b50d-2fe0789cf397");
        assert_eq!(
            delivery,
            webhook_run_name("web", "76cfa806-1c16-448b-b50d-2fe0789cf397")
        );
        assert!(delivery.starts_with("web-wh-"), "{delivery}");
        assert_ne!(delivery, webhook_run_name("web", "another delivery"));
        let poll = poll_run_name("web", "0123456789abcdef0123456789abcdef01234567");
        assert!(poll.starts_with("web-poll-"), "{poll}");
        assert!(webhook_run_name(&"x".repeat(300), "d").len() <= NAME_MAX);
    }
}
