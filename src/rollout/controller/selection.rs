//! The pure core's [`Selection`] and the Service selectors [`traffic_apply`] writes, reconciled.
//!
//! Both sides agree with [`crate::rollout::revision`]: a revision's pods carry the target's own
//! labels plus `slipway.dev/target: <label_value(workload)>` and `slipway.dev/revision:
//! <hash>`. So:
//! - [`Selection::Revision`] is [`SelectorTarget::Revision`]: base + target + revision;
//! - [`Selection::AllRevisions`] is [`SelectorTarget::Spanning`]: base + target (the pairs the
//!   two revision selectors share), which keeps the user's own pods (no target label) out.
//!
//! Reading back ([`selection_of`]): a selector that carries this target's label is a Slipway
//! selection — with a revision label it selects that revision, without one every revision; a
//! selector without it (the user's own, before the first takeover) or naming another target is
//! `None`.

use super::super::traffic::Selection;
use super::super::traffic_apply::{Selector, SelectorTarget};
use crate::runtime::labels::{REVISION_LABEL, TARGET_LABEL};

/// The selector target that realises `selection` for a rollout from `stable` to `canary`.
pub fn selector_target(selection: &Selection, stable: &str, canary: &str) -> SelectorTarget {
    match selection {
        Selection::Revision(hash) => SelectorTarget::Revision { hash: hash.clone() },
        Selection::AllRevisions => SelectorTarget::Spanning {
            stable: stable.to_owned(),
            canary: canary.to_owned(),
        },
    }
}

/// What a Service's selector selects of target `target` (a label value), when Slipway wrote it.
pub fn selection_of(selector: &Selector, target: &str) -> Option<Selection> {
    if selector.get(TARGET_LABEL).map(String::as_str) != Some(target) {
        return None;
    }
    Some(match selector.get(REVISION_LABEL) {
        Some(hash) => Selection::Revision(hash.clone()),
        None => Selection::AllRevisions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollout::traffic_apply::desired_selector;

    fn selector(pairs: &[(&str, &str)]) -> Selector {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn the_users_own_selector_is_no_slipway_selection() {
        assert_eq!(selection_of(&selector(&[("app", "web")]), "web"), None);
    }

    #[test]
    fn another_targets_selector_is_no_selection_of_this_one() {
        let other = selector(&[("app", "web"), (TARGET_LABEL, "api")]);
        assert_eq!(selection_of(&other, "web"), None);
    }

    #[test]
    fn every_selection_round_trips_through_the_written_selector() {
        let user = selector(&[("app", "web")]);
        for selection in [Selection::Revision("abc".into()), Selection::AllRevisions] {
            let written =
                desired_selector(&user, "web", &selector_target(&selection, "old", "abc"));
            assert_eq!(selection_of(&written, "web"), Some(selection.clone()));
            assert_eq!(written.get("app").map(String::as_str), Some("web"));
        }
    }

    #[test]
    fn spanning_keeps_the_target_label_and_drops_the_revision() {
        let current = selector(&[
            ("app", "web"),
            (TARGET_LABEL, "web"),
            (REVISION_LABEL, "old"),
        ]);
        let written = desired_selector(
            &current,
            "web",
            &selector_target(&Selection::AllRevisions, "old", "new"),
        );
        assert_eq!(written, selector(&[("app", "web"), (TARGET_LABEL, "web")]));
    }
}
