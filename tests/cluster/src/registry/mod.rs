//! The resources the cluster serves: built-in kinds and those registered by CRDs.
//!
//! The registry is plain data, read by the REST layer (routing, discovery, OpenAPI, tables) and
//! the write path (status split, generation, schema admission, merge rules).

mod builtin;
mod crd;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

use crate::gvr::{GroupResource, Gvr};
use crate::patch::MergeRules;
use crate::schema::CrdSchema;

pub use crd::{CrdError, crd_status, resource_types_of_crd};

/// Where a scale subresource reads and writes replicas (JSON paths like `.spec.replicas`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalePaths {
    /// Path of the desired replicas.
    pub spec_replicas: String,
    /// Path of the observed replicas.
    pub status_replicas: String,
    /// Path of the label selector (a string, or a `LabelSelector` object for built-ins).
    pub label_selector: Option<String>,
}

/// One column of `kubectl get` output (a CRD's `additionalPrinterColumns`).
#[derive(Clone, Debug, PartialEq)]
pub struct PrinterColumn {
    /// Column header.
    pub name: String,
    /// OpenAPI type: `string`, `integer`, `number`, `boolean`, `date`.
    pub column_type: String,
    /// OpenAPI format, often empty.
    pub format: String,
    /// Column description.
    pub description: String,
    /// 0 for the default view, higher for `-o wide`.
    pub priority: i64,
    /// Simple JSON path (`.status.phase`, `.status.images[0].uri`).
    pub json_path: String,
}

/// Everything the cluster knows about one served resource version.
#[derive(Debug)]
pub struct ResourceType {
    /// Group, version and plural.
    pub gvr: Gvr,
    /// Kind of its objects.
    pub kind: String,
    /// Kind of its lists (`PodList`).
    pub list_kind: String,
    /// Singular name (`pod`).
    pub singular: String,
    /// Short names (`po`).
    pub short_names: Vec<String>,
    /// Categories (`all`, `slipway`).
    pub categories: Vec<String>,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Whether `status` is a subresource (writes to the main resource ignore status).
    pub status_subresource: bool,
    /// The `scale` subresource, when served.
    pub scale: Option<ScalePaths>,
    /// Whether `metadata.generation` is maintained.
    pub generation: bool,
    /// `kubectl get` columns besides the name.
    pub printer_columns: Vec<PrinterColumn>,
    /// Validation, defaulting and pruning (custom resources only).
    pub schema: Option<Arc<CrdSchema>>,
    /// The raw `openAPIV3Schema`, served on `/openapi/v3`.
    pub openapi_schema: Option<Value>,
    /// How lists and maps merge for strategic merge and apply.
    pub merge_rules: Arc<MergeRules>,
    /// The CRD that defines it (`None` for built-ins).
    pub crd_name: Option<String>,
}

impl ResourceType {
    /// Whether objects of this resource come from a CRD.
    pub fn is_custom(&self) -> bool {
        self.crd_name.is_some()
    }

    /// Group and resource (the storage key and the name in error texts).
    pub fn group_resource(&self) -> GroupResource {
        self.gvr.group_resource()
    }

    /// `apiVersion` of its objects.
    pub fn api_version(&self) -> String {
        self.gvr.api_version()
    }
}

/// All served resources, indexed by `Gvr`.
#[derive(Debug, Default)]
pub struct Registry {
    by_gvr: HashMap<Gvr, Arc<ResourceType>>,
    /// Group → versions in preference order (the first is preferred).
    groups: BTreeMap<String, Vec<String>>,
}

impl Registry {
    /// A registry holding the built-in kinds.
    pub fn with_builtins() -> Self {
        let mut registry = Self::default();
        for resource in builtin::resource_types() {
            registry.insert(resource);
        }
        registry
    }

    /// Adds (or replaces) a served resource version.
    pub fn insert(&mut self, resource: ResourceType) {
        let versions = self.groups.entry(resource.gvr.group.clone()).or_default();
        if !versions.contains(&resource.gvr.version) {
            versions.push(resource.gvr.version.clone());
        }
        self.by_gvr.insert(resource.gvr.clone(), Arc::new(resource));
    }

    /// Removes every version of a CRD-defined resource.
    pub fn remove_crd(&mut self, crd_name: &str) {
        let gone: Vec<Gvr> = self
            .by_gvr
            .values()
            .filter(|resource| resource.crd_name.as_deref() == Some(crd_name))
            .map(|resource| resource.gvr.clone())
            .collect();
        for gvr in gone {
            self.by_gvr.remove(&gvr);
            if let Some(versions) = self.groups.get_mut(&gvr.group) {
                let still_served = self
                    .by_gvr
                    .keys()
                    .any(|other| other.group == gvr.group && other.version == gvr.version);
                if !still_served {
                    versions.retain(|version| *version != gvr.version);
                }
                if versions.is_empty() {
                    self.groups.remove(&gvr.group);
                }
            }
        }
    }

    /// The resource served at `gvr`.
    pub fn get(&self, gvr: &Gvr) -> Option<Arc<ResourceType>> {
        self.by_gvr.get(gvr).cloned()
    }

    /// Every served version of a group and resource.
    pub fn versions_of(&self, resource: &GroupResource) -> Vec<Arc<ResourceType>> {
        self.by_gvr
            .values()
            .filter(|served| served.gvr.group_resource() == *resource)
            .cloned()
            .collect()
    }

    /// Served groups with their versions, the preferred version first.
    pub fn groups(&self) -> impl Iterator<Item = (&String, &Vec<String>)> {
        self.groups.iter()
    }

    /// Resources of one group version, sorted by plural name.
    pub fn resources_in(&self, group: &str, version: &str) -> Vec<Arc<ResourceType>> {
        let mut found: Vec<Arc<ResourceType>> = self
            .by_gvr
            .values()
            .filter(|resource| resource.gvr.group == group && resource.gvr.version == version)
            .cloned()
            .collect();
        found.sort_by(|a, b| a.gvr.resource.cmp(&b.gvr.resource));
        found
    }

    /// Every served resource version.
    pub fn all(&self) -> impl Iterator<Item = &Arc<ResourceType>> {
        self.by_gvr.values()
    }

    /// A served resource holding objects of `api_version` and `kind`.
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<Arc<ResourceType>> {
        self.by_gvr
            .values()
            .find(|resource| resource.kind == kind && resource.api_version() == api_version)
            .cloned()
    }
}
