//! Traffic: where production requests go at a given weight, and how many Ready pods that needs.
//!
//! # Modes
//! - [`TrafficMode::Switch`]: no HTTPRoute and no partial step (all-at-once, blue-green). The
//!   production Service selects exactly one revision; at weight 100 it switches. Both revisions
//!   run at full size, so a rollback is a selector change.
//! - [`TrafficMode::ReplicaRatio`]: no HTTPRoute but partial steps (canary, linear, steps).
//!   While the weight is strictly between 0 and 100 the production Service selects every
//!   revision of the target ([`Selection::AllRevisions`]) and the split follows the Ready pod
//!   counts: the new revision runs `ceil(N × w / 100)` pods (at least 1) and the stable one
//!   `N − floor(N × w / 100)` (at least 1), so the realised share is only as fine as N allows
//!   (N = 1 gives 50% for any partial step). At 0 and 100 the Service selects one revision.
//! - [`TrafficMode::RouteWeights`]: an HTTPRoute is referenced. Its `backendRefs` weights carry
//!   the split exactly: the production Service keeps selecting the stable revision and a canary
//!   Service (`<service>-canary`, managed by Slipway) selects the new one. Only the weights are
//!   changed, under Slipway's field manager. Both revisions run at full size.
//! - [`TrafficMode::Rolling`]: the production Service selects all revisions while pods are
//!   replaced; the share is the pods' ratio.
//!
//! # Guarantee
//! [`may_route`] is the one rule every traffic change passes: never route to a revision with
//! fewer Ready pods than the step needs ([`ReplicaNeeds`]).

use crate::api::deployment::TrafficSplit;
use crate::runtime::names::{LABEL_VALUE_MAX, fit_name};

/// How traffic is split between the stable and the new revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrafficMode {
    /// The production Service selects one revision at a time.
    Switch,
    /// The production Service spans both revisions; pod counts set the split.
    ReplicaRatio,
    /// An HTTPRoute's backend weights set the split.
    RouteWeights {
        /// The HTTPRoute's name.
        route: String,
        /// The rule index whose weights change; every rule naming the Service when absent.
        rule: Option<i32>,
    },
    /// Pods are replaced in place; the Service spans both revisions.
    Rolling,
}

/// Which pods a Service selects. The apply step writes the target workload's own selector plus
/// [`TARGET_LABEL`](crate::runtime::labels::TARGET_LABEL), plus
/// [`REVISION_LABEL`](crate::runtime::labels::REVISION_LABEL) for [`Selection::Revision`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Only the pods of the revision with this hash.
    Revision(String),
    /// The pods of every Slipway revision of the target.
    AllRevisions,
}

/// Ready pods each revision must have at a weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaNeeds {
    /// Pods of the new revision.
    pub canary: i32,
    /// Pods of the stable revision.
    pub stable: i32,
}

/// The split at a canary weight (clamped to 0–100); the two shares always sum to 100.
pub fn split(canary_weight: i32) -> TrafficSplit {
    let canary = canary_weight.clamp(0, 100);
    TrafficSplit {
        stable: 100 - canary,
        canary,
    }
}

/// Whether a split is well formed: both shares within 0–100, summing to 100.
pub fn is_valid(split: &TrafficSplit) -> bool {
    (0..=100).contains(&split.canary)
        && (0..=100).contains(&split.stable)
        && split.canary + split.stable == 100
}

/// New-revision pods for a share `weight` of `replicas`: rounded up, at least 1 when weight > 0.
pub fn canary_pods_for_weight(weight: i32, replicas: i32) -> i32 {
    if weight <= 0 {
        return 0;
    }
    let pods = (i64::from(weight.min(100)) * i64::from(replicas.max(1)) + 99) / 100;
    i32::try_from(pods).unwrap_or(i32::MAX).max(1)
}

/// Stable pods that keep carrying the rest of a share `weight`: at least 1 below 100.
pub fn stable_pods_for_weight(weight: i32, replicas: i32) -> i32 {
    if weight >= 100 {
        return 0;
    }
    let moved = i64::from(weight.max(0)) * i64::from(replicas.max(1)) / 100;
    i32::try_from(i64::from(replicas.max(1)) - moved)
        .unwrap_or(0)
        .max(1)
}

/// Ready pods each revision needs at `weight` in `mode` with `replicas` at full size.
pub fn replica_needs(mode: &TrafficMode, weight: i32, replicas: i32) -> ReplicaNeeds {
    let full = replicas.max(1);
    match mode {
        TrafficMode::ReplicaRatio => ReplicaNeeds {
            canary: canary_pods_for_weight(weight, full),
            stable: stable_pods_for_weight(weight, full),
        },
        TrafficMode::Switch | TrafficMode::RouteWeights { .. } => ReplicaNeeds {
            canary: if weight > 0 { full } else { 0 },
            stable: if weight < 100 { full } else { 0 },
        },
        TrafficMode::Rolling => ReplicaNeeds {
            canary: canary_pods_for_weight(weight, full),
            stable: 0,
        },
    }
}

/// The rule: a revision may receive traffic only with at least `needed` Ready pods (and at
/// least one, whenever it receives any).
pub fn may_route(ready: i32, needed: i32) -> bool {
    ready >= needed.max(1)
}

/// What the production Service selects at `weight`.
pub fn production_selection(
    mode: &TrafficMode,
    weight: i32,
    stable: &str,
    canary: &str,
) -> Selection {
    match mode {
        TrafficMode::RouteWeights { .. } => Selection::Revision(stable.to_owned()),
        _ if weight <= 0 => Selection::Revision(stable.to_owned()),
        _ if weight >= 100 => Selection::Revision(canary.to_owned()),
        TrafficMode::Switch => Selection::Revision(stable.to_owned()),
        TrafficMode::ReplicaRatio | TrafficMode::Rolling => Selection::AllRevisions,
    }
}

/// The HTTPRoute weights at a canary weight: `(production Service, canary Service)`.
pub fn route_weights(weight: i32) -> (i32, i32) {
    let split = split(weight);
    (split.stable, split.canary)
}

/// The canary Service an HTTPRoute rollout weights against the production Service:
/// `<service>-canary`, fitted to a DNS label (Service names are) with a hash of the whole, so two
/// long production Services never share a canary Service.
pub fn canary_service_name(service: &str) -> String {
    fit_name(service, "-canary", LABEL_VALUE_MAX)
}

/// The rolling update's next desired pod counts, as apps/v1 computes them: grow the new
/// revision within `replicas + surge` total pods (only when `may_grow`, the health gate), and
/// shrink the old one while at least `replicas − unavailable` pods stay Ready.
pub fn rolling_next(
    replicas: i32,
    (surge, unavailable): (i32, i32),
    canary: (i32, i32),
    stable: (i32, i32),
    may_grow: bool,
) -> (i32, i32) {
    let (canary_desired, canary_ready) = canary;
    let (stable_desired, stable_ready) = stable;
    let mut next_canary = canary_desired.min(replicas);
    if may_grow {
        let room = replicas + surge - (canary_desired + stable_desired);
        next_canary = (canary_desired + room.max(0))
            .min(replicas)
            .max(canary_desired);
    }
    let minimum_ready = replicas - unavailable;
    let removable = (canary_ready + stable_ready - minimum_ready).max(0);
    // Never keep more old pods than the new ones leave room for.
    let next_stable = (stable_desired - removable)
        .max(0)
        .max(replicas - next_canary.max(canary_ready).min(replicas) - unavailable)
        .min(stable_desired);
    (next_canary, next_stable.max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_always_sum_to_one_hundred() {
        for weight in -5..=105 {
            assert!(is_valid(&split(weight)), "{weight}");
        }
        assert_eq!(
            split(10),
            TrafficSplit {
                stable: 90,
                canary: 10
            }
        );
    }

    #[test]
    fn canary_pods_round_up_and_never_drop_to_zero_for_a_share() {
        let table = [
            (0, 10, 0),
            (1, 10, 1),
            (10, 10, 1),
            (11, 10, 2),
            (50, 3, 2),
            (10, 1, 1),
            (100, 4, 4),
        ];
        for (weight, replicas, pods) in table {
            assert_eq!(
                canary_pods_for_weight(weight, replicas),
                pods,
                "{weight}% of {replicas}"
            );
        }
    }

    #[test]
    fn stable_pods_keep_at_least_one_until_all_traffic_moved() {
        let table = [
            (0, 4, 4),
            (10, 4, 4),
            (50, 4, 2),
            (90, 4, 1),
            (99, 1, 1),
            (100, 4, 0),
        ];
        for (weight, replicas, pods) in table {
            assert_eq!(
                stable_pods_for_weight(weight, replicas),
                pods,
                "{weight}% of {replicas}"
            );
        }
    }

    #[test]
    fn switch_and_route_modes_need_full_revisions() {
        let route = TrafficMode::RouteWeights {
            route: "web".into(),
            rule: None,
        };
        for mode in [TrafficMode::Switch, route] {
            assert_eq!(
                replica_needs(&mode, 10, 3),
                ReplicaNeeds {
                    canary: 3,
                    stable: 3
                }
            );
            assert_eq!(replica_needs(&mode, 0, 3).canary, 0);
            assert_eq!(replica_needs(&mode, 100, 3).stable, 0);
        }
    }

    #[test]
    fn routing_needs_enough_ready_pods_and_at_least_one() {
        assert!(!may_route(2, 3));
        assert!(may_route(3, 3));
        assert!(!may_route(0, 0));
    }

    #[test]
    fn production_selection_spans_revisions_only_for_partial_replica_ratio() {
        let ratio = TrafficMode::ReplicaRatio;
        assert_eq!(
            production_selection(&ratio, 0, "a", "b"),
            Selection::Revision("a".into())
        );
        assert_eq!(
            production_selection(&ratio, 30, "a", "b"),
            Selection::AllRevisions
        );
        assert_eq!(
            production_selection(&ratio, 100, "a", "b"),
            Selection::Revision("b".into())
        );
        let route = TrafficMode::RouteWeights {
            route: "r".into(),
            rule: Some(0),
        };
        assert_eq!(
            production_selection(&route, 100, "a", "b"),
            Selection::Revision("a".into())
        );
        assert_eq!(route_weights(30), (70, 30));
    }

    #[test]
    fn canary_service_name_fits_a_dns_label() {
        assert_eq!(canary_service_name("web"), "web-canary");
        let long = "a".repeat(63);
        assert_eq!(canary_service_name(&long).len(), 63);
        assert!(canary_service_name(&long).ends_with("-canary"));
    }

    #[test]
    fn two_long_services_sharing_56_characters_get_different_canary_services() {
        let shared = "s".repeat(56);
        let left = canary_service_name(&format!("{shared}-left"));
        let right = canary_service_name(&format!("{shared}-right"));
        assert_ne!(left, right);
        for name in [&left, &right] {
            assert!(name.len() <= 63, "{name}");
            assert!(name.ends_with("-canary"), "{name}");
        }
    }

    #[test]
    fn rolling_update_surges_then_removes_old_pods_while_enough_stay_ready() {
        // 4 replicas, surge 1, unavailable 0: one new pod at a time.
        assert_eq!(rolling_next(4, (1, 0), (0, 0), (4, 4), true), (1, 4));
        assert_eq!(rolling_next(4, (1, 0), (1, 1), (4, 4), true), (1, 3));
        assert_eq!(rolling_next(4, (1, 0), (1, 1), (3, 3), true), (2, 3));
        // The health gate holds the new revision where it is.
        assert_eq!(rolling_next(4, (1, 0), (1, 1), (3, 3), false), (1, 3));
        // Unready new pods keep the old ones.
        assert_eq!(rolling_next(4, (1, 0), (2, 1), (3, 3), true), (2, 3));
        assert_eq!(rolling_next(4, (1, 0), (4, 4), (1, 1), true), (4, 0));
    }
}
