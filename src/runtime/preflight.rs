//! Start-up check that the cluster serves Slipway's kinds, so a missing CRD install fails fast
//! with the command that fixes it instead of as a stream of watch errors.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList;

use crate::api::{GROUP, VERSION};

/// The resources (plural names) the controller needs.
pub const REQUIRED_RESOURCES: [&str; 4] = [
    "pipelines",
    "pipelineexecutions",
    "buildruns",
    "deployments",
];

/// Why the preflight check failed.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    /// Some CRDs are not installed (or not established yet).
    #[error(
        "failed to find {missing} in API group {GROUP}/{VERSION}: install the CRDs with \
         `kubectl apply --server-side -f crds/` (or `helm install slipway charts/slipway`) and start again",
        missing = .0.join(", ")
    )]
    MissingCrds(Vec<String>),
    /// The API server could not be asked.
    #[error(
        "unable to ask the API server which {GROUP}/{VERSION} kinds it serves (is the cluster reachable?)"
    )]
    Discovery(#[source] kube::Error),
}

/// Lists the required resources the API server does not serve.
pub fn missing_resources(served: Option<&APIResourceList>) -> Vec<String> {
    REQUIRED_RESOURCES
        .iter()
        .filter(|plural| {
            !served.is_some_and(|list| {
                list.resources
                    .iter()
                    .any(|resource| resource.name == **plural)
            })
        })
        .map(|plural| format!("{plural}.{GROUP}"))
        .collect()
}

/// Checks that the API server serves every Slipway kind.
///
/// # Errors
/// [`PreflightError::MissingCrds`] naming the missing kinds, or [`PreflightError::Discovery`].
pub async fn check_crds_served(client: &kube::Client) -> Result<(), PreflightError> {
    let served = match client
        .list_api_group_resources(&format!("{GROUP}/{VERSION}"))
        .await
    {
        Ok(list) => Some(list),
        Err(kube::Error::Api(status)) if status.code == 404 => None,
        Err(error) => return Err(PreflightError::Discovery(error)),
    };
    let missing = missing_resources(served.as_ref());
    if missing.is_empty() {
        Ok(())
    } else {
        Err(PreflightError::MissingCrds(missing))
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResource;

    use super::*;

    fn served(names: &[&str]) -> APIResourceList {
        APIResourceList {
            group_version: format!("{GROUP}/{VERSION}"),
            resources: names
                .iter()
                .map(|name| APIResource {
                    name: (*name).to_owned(),
                    ..APIResource::default()
                })
                .collect(),
        }
    }

    #[test]
    fn a_missing_group_reports_every_kind() {
        assert_eq!(missing_resources(None).len(), 4);
    }

    #[test]
    fn a_partial_install_names_what_is_missing() {
        let list = served(&["pipelines", "pipelines/status", "buildruns", "deployments"]);
        assert_eq!(
            missing_resources(Some(&list)),
            vec!["pipelineexecutions.slipway.dev"]
        );
    }

    #[test]
    fn a_complete_install_passes() {
        let list = served(&REQUIRED_RESOURCES);
        assert!(missing_resources(Some(&list)).is_empty());
    }

    #[test]
    fn the_error_says_how_to_install_the_crds() {
        let text = PreflightError::MissingCrds(missing_resources(None)).to_string();
        assert!(
            text.contains("kubectl apply --server-side -f crds/"),
            "{text}"
        );
        assert!(text.contains("buildruns.slipway.dev"), "{text}");
    }
}
