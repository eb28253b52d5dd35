//! What a decision function asks the adapter to do: the only output of the pure controllers.

use serde_json::Value;

use super::object;
use super::time::Timestamp;

/// The kinds the simulated controllers read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// core/v1 Pod.
    Pod,
    /// apps/v1 ReplicaSet.
    ReplicaSet,
    /// apps/v1 Deployment.
    Deployment,
    /// batch/v1 Job.
    Job,
    /// core/v1 Service.
    Service,
    /// discovery.k8s.io/v1 EndpointSlice.
    EndpointSlice,
    /// core/v1 Endpoints.
    Endpoints,
    /// core/v1 ConfigMap.
    ConfigMap,
    /// core/v1 Secret.
    Secret,
}

impl Kind {
    /// Every kind, for resyncs.
    pub const ALL: [Kind; 9] = [
        Kind::Pod,
        Kind::ReplicaSet,
        Kind::Deployment,
        Kind::Job,
        Kind::Service,
        Kind::EndpointSlice,
        Kind::Endpoints,
        Kind::ConfigMap,
        Kind::Secret,
    ];

    /// `(group, version, resource)` of the kind.
    pub fn group_version_resource(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Kind::Pod => ("", "v1", "pods"),
            Kind::ReplicaSet => ("apps", "v1", "replicasets"),
            Kind::Deployment => ("apps", "v1", "deployments"),
            Kind::Job => ("batch", "v1", "jobs"),
            Kind::Service => ("", "v1", "services"),
            Kind::EndpointSlice => ("discovery.k8s.io", "v1", "endpointslices"),
            Kind::Endpoints => ("", "v1", "endpoints"),
            Kind::ConfigMap => ("", "v1", "configmaps"),
            Kind::Secret => ("", "v1", "secrets"),
        }
    }

    /// The kind for a `(group, resource)` pair, if the simulation knows it.
    pub fn from_group_resource(group: &str, resource: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| {
            let (g, _, r) = k.group_version_resource();
            g == group && r == resource
        })
    }
}

/// One change the adapter applies through the cluster, or a time to look again.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Create `object`; a `metadata.generateName` without a name gets a random 5-character suffix.
    Create { kind: Kind, object: Value },
    /// Replace `object` (metadata and spec), guarded by its `resourceVersion`.
    Update { kind: Kind, object: Value },
    /// Replace the status of `object`, guarded by its `resourceVersion`.
    UpdateStatus { kind: Kind, object: Value },
    /// Delete an object.
    Delete {
        kind: Kind,
        namespace: String,
        name: String,
    },
    /// Decide again for the same object at `at` (delays, deadlines, TTLs).
    RecheckAt { at: Timestamp },
    /// Kubelet only: start really running the pod's containers.
    StartRun,
}

impl Intent {
    /// A delete intent for `object`.
    pub fn delete(kind: Kind, object: &Value) -> Intent {
        Intent::Delete {
            kind,
            namespace: object::namespace(object).to_owned(),
            name: object::name(object).to_owned(),
        }
    }
}

/// An `UpdateStatus` intent when `status` differs from the stored one, else nothing.
pub fn status_update(kind: Kind, object: &Value, status: Value) -> Option<Intent> {
    if object.get("status") == Some(&status) {
        return None;
    }
    let mut updated = object.clone();
    updated["status"] = status;
    Some(Intent::UpdateStatus {
        kind,
        object: updated,
    })
}

/// The earliest of `times` that lies after `now`, as a recheck.
pub fn earliest_recheck(
    now: Timestamp,
    times: impl IntoIterator<Item = Timestamp>,
) -> Option<Intent> {
    times
        .into_iter()
        .filter(|t| *t > now)
        .min()
        .map(|at| Intent::RecheckAt { at })
}
