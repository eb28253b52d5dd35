//! Names of resources: group, version and plural resource name.

use std::fmt;

/// A group, version and resource (plural name), e.g. `apps/v1 deployments`; the core group is `""`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvr {
    /// API group (`""` for core).
    pub group: String,
    /// API version (`v1`, `v1alpha1`).
    pub version: String,
    /// Plural resource name (`deployments`).
    pub resource: String,
}

impl Gvr {
    /// Builds a `Gvr` from its three parts.
    pub fn new(group: &str, version: &str, resource: &str) -> Self {
        Self {
            group: group.to_string(),
            version: version.to_string(),
            resource: resource.to_string(),
        }
    }

    /// `group/version`, or just `version` for the core group (an object's `apiVersion`).
    pub fn api_version(&self) -> String {
        api_version(&self.group, &self.version)
    }

    /// The group and resource, without the version (what storage and error texts use).
    pub fn group_resource(&self) -> GroupResource {
        GroupResource {
            group: self.group.clone(),
            resource: self.resource.clone(),
        }
    }
}

impl fmt::Display for Gvr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} {}", self.group, self.version, self.resource)
    }
}

/// A group and resource: objects of every version of a resource share one collection.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupResource {
    /// API group (`""` for core).
    pub group: String,
    /// Plural resource name.
    pub resource: String,
}

impl fmt::Display for GroupResource {
    /// `pipelines.slipway.dev`, or `pods` for the core group — the apiserver's qualified name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.resource)
        } else {
            write!(f, "{}.{}", self.resource, self.group)
        }
    }
}

/// `group/version`, or `version` for the core group.
pub fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// Splits an `apiVersion` into group and version (`v1` is the core group).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}
