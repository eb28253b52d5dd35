//! The gate every reconcile passes first: the object must have deserialized, and this replica
//! must lead.

use std::time::Duration;

use kube::core::DeserializeGuard;
use kube::runtime::controller::Action;

use super::Leadership;

/// How often a standby looks again whether it leads.
const STANDBY_RECHECK: Duration = Duration::from_secs(5);

/// The object a reconcile may act on, or the requeue to return instead: an object that does not
/// deserialize is logged and waits for a change (`kind` names it in the log); a standby waits
/// for leadership without reading or writing.
///
/// # Errors
/// The [`Action`] to return from the reconcile.
pub fn admit<'a, K>(
    object: &'a DeserializeGuard<K>,
    leadership: &Leadership,
    kind: &str,
) -> Result<&'a K, Action> {
    let object = match &object.0 {
        Ok(object) => object,
        Err(invalid) => {
            tracing::warn!(error = %invalid.error, "unable to read a {kind}; it is skipped until it changes");
            return Err(Action::await_change());
        }
    };
    if !leadership.is_leader() {
        return Err(Action::requeue(STANDBY_RECHECK));
    }
    Ok(object)
}
