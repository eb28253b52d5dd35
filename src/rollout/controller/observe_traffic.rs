//! Observe's traffic step: what the production, test and canary Services select and the
//! HTTPRoute's production/canary weights, read once per reconcile.
//!
//! - Selectors are parsed back into the pure core's [`Selection`] by [`selection_of`]; the
//!   Services read are kept (with their `resourceVersion`) so apply switches selectors from them.
//! - The route's weights are those of its first selected rule; a missing canary backend reads
//!   as weight 0. The route's spec is kept so apply patches the weights from it.
//! - A referenced object that is missing or unusable — the production Service, the test
//!   Service, the HTTPRoute (missing, a rule out of range, no backendRef to the Services) — is
//!   not an error: it becomes an [`InvalidReference`] in the observed world and the decision
//!   reports it (`Stalled=True`, reason `InvalidReference`, naming the field). The canary Service
//!   is Slipway's own and simply absent until apply creates it.
//!
//! Only API failures are errors ([`ObserveError`]).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use kube::{Api, Client};

use super::observe::{ObserveError, api_error};
use super::selection::selection_of;
use crate::api::deployment::DeploymentTarget;
use crate::rollout::state::InvalidReference;
use crate::rollout::traffic::{Selection, canary_service_name};
use crate::rollout::traffic_apply::{
    HttpRouteSpec, KnownSelector, TrafficApplyError, read_route, route_weights,
};

/// What observe read of the rollout's traffic.
#[derive(Clone, Debug, Default)]
pub struct TrafficObservation {
    /// What the production Service selects (`None`: the user's own selector, or missing).
    pub production_selection: Option<Selection>,
    /// What the test Service selects, when it selects a Slipway revision.
    pub test_selection: Option<Selection>,
    /// What the canary Service selects, when it exists (HTTPRoute mode).
    pub canary_selection: Option<Selection>,
    /// The route's `(production, canary)` weights, when a route is referenced and usable.
    pub route_weights: Option<(i32, i32)>,
    /// The route's spec as read (apply patches weights from it).
    pub route_spec: Option<HttpRouteSpec>,
    /// The Services read, by name.
    pub services: BTreeMap<String, KnownSelector>,
    /// Referenced objects that are missing or unusable, in the order of the spec's fields.
    pub invalid_references: Vec<InvalidReference>,
}

/// Reads the Services and the HTTPRoute `target` names, in `namespace`, for the target whose
/// `slipway.dev/target` label value is `target_label`.
///
/// # Errors
/// [`ObserveError`] when the API fails.
pub async fn observe_traffic(
    client: &Client,
    namespace: &str,
    target: &DeploymentTarget,
    target_label: &str,
) -> Result<TrafficObservation, ObserveError> {
    let services: Api<Service> = Api::namespaced(client.clone(), namespace);
    let mut seen = TrafficObservation::default();
    let missing = |field, service: &str| InvalidReference {
        field,
        object: format!("Service {namespace}/{service}"),
        problem: "which does not exist".into(),
    };

    match read_service(&services, namespace, &target.service, "spec.target.service").await? {
        Some(known) => {
            seen.production_selection = selection_of(&known.selector, target_label);
            seen.services.insert(target.service.clone(), known);
        }
        None => seen
            .invalid_references
            .push(missing("spec.target.service", &target.service)),
    }
    if let Some(test) = &target.test_service {
        match read_service(&services, namespace, test, "spec.target.testService").await? {
            Some(known) => {
                seen.test_selection = selection_of(&known.selector, target_label);
                seen.services.insert(test.clone(), known);
            }
            None => seen
                .invalid_references
                .push(missing("spec.target.testService", test)),
        }
    }
    let Some(route) = &target.http_route else {
        return Ok(seen);
    };
    let canary_service = canary_service_name(&target.service);
    if let Some(known) =
        read_service(&services, namespace, &canary_service, "canary Service").await?
    {
        seen.canary_selection = selection_of(&known.selector, target_label);
        seen.services.insert(canary_service.clone(), known);
    }
    let spec = match read_route(client, namespace, &route.name).await {
        Ok(spec) => spec,
        Err(error) => {
            seen.invalid_references
                .push(route_problem(error, namespace, &route.name)?);
            return Ok(seen);
        }
    };
    let backends = [target.service.as_str(), canary_service.as_str()];
    match route_weights(&spec, namespace, route, &backends) {
        Ok(weights) => {
            let weight_of = |service: &str| {
                weights.first().and_then(|rule| {
                    rule.backends
                        .iter()
                        .find(|backend| backend.service == service)
                        .map(|backend| backend.weight)
                })
            };
            seen.route_weights = Some((
                weight_of(&target.service).unwrap_or(0),
                weight_of(&canary_service).unwrap_or(0),
            ));
            seen.route_spec = Some(spec);
        }
        Err(error) => seen
            .invalid_references
            .push(route_problem(error, namespace, &route.name)?),
    }
    Ok(seen)
}

/// A route that cannot be used: missing or unusable (an invalid reference), or an API failure
/// (the error).
fn route_problem(
    error: TrafficApplyError,
    namespace: &str,
    route: &str,
) -> Result<InvalidReference, ObserveError> {
    let object = format!("HTTPRoute {namespace}/{route}");
    match error {
        TrafficApplyError::Api {
            source: kube::Error::Api(status),
            ..
        } if status.code == 404 => Ok(InvalidReference {
            field: "spec.target.httpRoute.name",
            object,
            problem: "which does not exist".into(),
        }),
        TrafficApplyError::Api { .. } => Err(ObserveError::Traffic(error)),
        other => Ok(InvalidReference {
            field: "spec.target.httpRoute",
            object,
            problem: other.to_string(),
        }),
    }
}

/// The Service's selector and resourceVersion; `None` when the Service does not exist.
async fn read_service(
    services: &Api<Service>,
    namespace: &str,
    name: &str,
    field: &str,
) -> Result<Option<KnownSelector>, ObserveError> {
    let service = services.get_opt(name).await.map_err(api_error(format!(
        "read Service {namespace}/{name} ({field})"
    )))?;
    Ok(service.map(KnownSelector::of))
}
