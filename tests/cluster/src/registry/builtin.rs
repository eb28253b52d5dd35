//! The built-in kinds the cluster serves (the ones Slipway and its tests use).

use std::sync::Arc;

use super::{ResourceType, ScalePaths};
use crate::gvr::Gvr;
use crate::patching;

/// One row of the built-in table.
struct Builtin {
    group: &'static str,
    version: &'static str,
    resource: &'static str,
    kind: &'static str,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    namespaced: bool,
    status: bool,
    scale: bool,
    generation: bool,
}

const ALL: &[&str] = &["all"];

#[rustfmt::skip]
const BUILTINS: &[Builtin] = &[
    Builtin { group: "", version: "v1", resource: "namespaces", kind: "Namespace", short_names: &["ns"], categories: &[], namespaced: false, status: true, scale: false, generation: false },
    Builtin { group: "", version: "v1", resource: "pods", kind: "Pod", short_names: &["po"], categories: ALL, namespaced: true, status: true, scale: false, generation: false },
    Builtin { group: "", version: "v1", resource: "services", kind: "Service", short_names: &["svc"], categories: ALL, namespaced: true, status: true, scale: false, generation: false },
    Builtin { group: "", version: "v1", resource: "secrets", kind: "Secret", short_names: &[], categories: &[], namespaced: true, status: false, scale: false, generation: false },
    Builtin { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", short_names: &["cm"], categories: &[], namespaced: true, status: false, scale: false, generation: false },
    Builtin { group: "", version: "v1", resource: "serviceaccounts", kind: "ServiceAccount", short_names: &["sa"], categories: &[], namespaced: true, status: false, scale: false, generation: false },
    Builtin { group: "", version: "v1", resource: "events", kind: "Event", short_names: &["ev"], categories: &[], namespaced: true, status: false, scale: false, generation: false },
    Builtin { group: "", version: "v1", resource: "endpoints", kind: "Endpoints", short_names: &["ep"], categories: &[], namespaced: true, status: false, scale: false, generation: false },
    Builtin { group: "apps", version: "v1", resource: "deployments", kind: "Deployment", short_names: &["deploy"], categories: ALL, namespaced: true, status: true, scale: true, generation: true },
    Builtin { group: "apps", version: "v1", resource: "replicasets", kind: "ReplicaSet", short_names: &["rs"], categories: ALL, namespaced: true, status: true, scale: true, generation: true },
    Builtin { group: "batch", version: "v1", resource: "jobs", kind: "Job", short_names: &[], categories: ALL, namespaced: true, status: true, scale: false, generation: true },
    Builtin { group: "coordination.k8s.io", version: "v1", resource: "leases", kind: "Lease", short_names: &[], categories: &[], namespaced: true, status: false, scale: false, generation: false },
    Builtin { group: "events.k8s.io", version: "v1", resource: "events", kind: "Event", short_names: &["ev"], categories: &[], namespaced: true, status: false, scale: false, generation: false },
    Builtin { group: "discovery.k8s.io", version: "v1", resource: "endpointslices", kind: "EndpointSlice", short_names: &[], categories: &[], namespaced: true, status: false, scale: false, generation: false },
    Builtin { group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions", kind: "CustomResourceDefinition", short_names: &["crd", "crds"], categories: &["api-extensions"], namespaced: false, status: true, scale: false, generation: true },
];

/// The built-in resource types, in the table's order.
pub(super) fn resource_types() -> Vec<ResourceType> {
    BUILTINS
        .iter()
        .map(|builtin| ResourceType {
            gvr: Gvr::new(builtin.group, builtin.version, builtin.resource),
            kind: builtin.kind.to_string(),
            list_kind: format!("{}List", builtin.kind),
            singular: builtin.kind.to_lowercase(),
            short_names: builtin
                .short_names
                .iter()
                .map(ToString::to_string)
                .collect(),
            categories: builtin.categories.iter().map(ToString::to_string).collect(),
            namespaced: builtin.namespaced,
            status_subresource: builtin.status,
            scale: builtin.scale.then(|| ScalePaths {
                spec_replicas: ".spec.replicas".to_string(),
                status_replicas: ".status.replicas".to_string(),
                label_selector: Some(".spec.selector".to_string()),
            }),
            generation: builtin.generation,
            printer_columns: Vec::new(),
            schema: None,
            openapi_schema: None,
            merge_rules: Arc::new(patching::builtin_rules(
                builtin.group,
                builtin.version,
                builtin.kind,
            )),
            crd_name: None,
        })
        .collect()
}
