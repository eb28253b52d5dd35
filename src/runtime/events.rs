//! Kubernetes Events for every controller: one publisher (kube's `Recorder`, events.k8s.io/v1,
//! repeats folded into a series by kube) and one truncation rule for notes.
//!
//! Publishing never fails a reconcile: an Event is a courtesy to people, status is the record.
//! A failure to publish is logged with the object and reason.

use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Client, Resource, ResourceExt};

/// Longest Event note the API accepts (events.k8s.io/v1 `note`: 1 KiB).
pub const NOTE_LIMIT: usize = 1024;

/// An Event a decision asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventIntent {
    /// `Warning` rather than `Normal`.
    pub warning: bool,
    /// One CamelCase word (a constant of the kind's reasons list).
    pub reason: &'static str,
    /// What happened, for people.
    pub note: String,
}

impl EventIntent {
    /// A `Normal` Event.
    pub fn normal(reason: &'static str, note: impl Into<String>) -> Self {
        Self {
            warning: false,
            reason,
            note: note.into(),
        }
    }

    /// A `Warning` Event.
    pub fn warning(reason: &'static str, note: impl Into<String>) -> Self {
        Self {
            warning: true,
            reason,
            note: note.into(),
        }
    }
}

/// Publishes Events as Slipway's controller (reporting instance: `POD_NAME` when set).
#[derive(Clone)]
pub struct EventPublisher {
    recorder: Recorder,
}

impl EventPublisher {
    /// A publisher writing through `client`.
    pub fn new(client: Client) -> Self {
        Self {
            recorder: Recorder::new(
                client,
                Reporter {
                    controller: super::FIELD_MANAGER.to_owned(),
                    instance: std::env::var("POD_NAME")
                        .ok()
                        .filter(|name| !name.is_empty()),
                },
            ),
        }
    }

    /// Publishes `event` on `object` (a failure is logged).
    pub async fn publish<K>(&self, object: &K, event: &EventIntent)
    where
        K: Resource<DynamicType = ()>,
    {
        let published = self
            .recorder
            .publish(
                &Event {
                    type_: if event.warning {
                        EventType::Warning
                    } else {
                        EventType::Normal
                    },
                    reason: event.reason.to_owned(),
                    note: Some(truncate_note(&event.note)),
                    action: action_of(&event.note),
                    secondary: None,
                },
                &object.object_ref(&()),
            )
            .await;
        if let Err(error) = published {
            tracing::warn!(%error, reason = event.reason, kind = %K::kind(&()), name = %object.name_any(), "unable to publish an Event");
        }
    }

    /// Publishes every event of `events` on `object`, in order.
    pub async fn publish_all<K>(&self, object: &K, events: &[EventIntent])
    where
        K: Resource<DynamicType = ()>,
    {
        for event in events {
            self.publish(object, event).await;
        }
    }
}

/// The Event's `action`: `Reconcile/<hash of the note>`. kube's `Recorder` folds Events with the
/// same type, reason and action on one object into a series of the *first* Event (later notes
/// are dropped), so a run's second `StageStarted` would read as its first. Keying the action by
/// the note keeps every distinct message while exact repeats still become a series.
fn action_of(note: &str) -> String {
    format!(
        "Reconcile/{}",
        &super::names::short_hash(note.as_bytes())[..8]
    )
}

/// `note` cut to [`NOTE_LIMIT`] bytes at a character boundary, ending in `…` when cut.
pub fn truncate_note(note: &str) -> String {
    if note.len() <= NOTE_LIMIT {
        return note.to_owned();
    }
    let mut cut = NOTE_LIMIT - '…'.len_utf8();
    while !note.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &note[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_notes_get_distinct_actions_and_repeats_the_same() {
        assert_ne!(
            action_of("stage Build started"),
            action_of("stage Test started")
        );
        assert_eq!(
            action_of("stage Build started"),
            action_of("stage Build started")
        );
        assert!(action_of("x").len() <= 128);
    }

    #[test]
    fn short_notes_are_kept_and_long_ones_cut_at_a_character() {
        assert_eq!(truncate_note("fine"), "fine");
        let long = "é".repeat(1000);
        let cut = truncate_note(&long);
        assert!(cut.len() <= NOTE_LIMIT, "{}", cut.len());
        assert!(cut.ends_with('…'));
        assert!(cut.starts_with("éé"));
    }
}
