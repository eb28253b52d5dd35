//! Moving traffic: Service selectors and Gateway API HTTPRoute weights, with the reads observe
//! needs to know where traffic goes now. The pure parts (which selector, which patch) are
//! separate functions; the async ones make at most one read and one write per call.
//!
//! # Service selectors (blue-green, test traffic, replica-ratio canaries)
//! A revision's pods carry the target's labels plus `slipway.dev/target` and
//! `slipway.dev/revision` ([`crate::rollout::revision`]). The Service's *base* selector is its
//! selector without those two keys (the user's own labels, e.g. `app: web`), and:
//! - "revision X" is base + target + `slipway.dev/revision: X` ([`SelectorTarget::Revision`]);
//! - "spanning both revisions" keeps only the pairs the two revision selectors share — base +
//!   target — so traffic splits by ready-replica ratio ([`SelectorTarget::Spanning`]). The target
//!   label keeps the user's own (scaled-down) workload's pods out.
//!
//! The write is **server-side apply** of `spec.selector` alone under field manager
//! [`FIELD_MANAGER`] with `force: true`, carrying the `resourceVersion` that was read. Why:
//! `spec.selector` is an atomic map upstream (`+mapType=atomic`), so an apply replaces it whole
//! (a merge patch would keep keys it does not mention, needing `null`s computed from a read);
//! `force` takes the selector over from whoever applied the Service (the first switch always
//! conflicts with them — afterwards their own server-side apply reports the conflict instead of
//! silently rerouting production); the `resourceVersion` makes the read-compute-write
//! atomic, so a concurrent edit of the base selector answers 409 instead of being overwritten;
//! and ports, type and every other field stay with their owners. Nothing is written when the
//! selector already matches (no write, no watch event). A Service without a selector (manually
//! managed endpoints) is refused: giving it one would drop those endpoints.
//!
//! # HTTPRoute weights (canary, linear)
//! `gateway.networking.k8s.io/v1` HTTPRoute is modelled locally ([`HttpRouteSpec`]; the
//! gateway-api crate does not build with kube 5), read-only: it holds just the rules and
//! backendRefs, and unknown fields are never written back because the typed model never is.
//!
//! The write is a **JSON patch** (RFC 6902) under [`FIELD_MANAGER`] with, for each backendRef
//! whose weight changes, a `test` that `/spec/rules/i/backendRefs/j/name` still names the
//! Service read, then an `add` of `/spec/rules/i/backendRefs/j/weight` (add sets a member
//! whether or not it exists). Why not server-side apply: `spec.rules` (and each rule's
//! `backendRefs`) is an atomic list upstream, so an applied configuration cannot name one weight;
//! it would have to carry the whole rule list, force ownership of it away from the route's
//! author, and replace it with Slipway's copy — clobbering any change made since the read
//! (filters, matches, a new rule). The JSON patch changes exactly the weights, and the server
//! applies it to the current object atomically: if the rules moved so that an index no longer
//! names the Service, the `test` fails (422) and [`set_route_weights`] reads again and retries
//! (up to [`ROUTE_ATTEMPTS`] times; a 409 is retried too). A 422 after which a fresh read
//! yields the very same patch is final — the route did not move, the server refused the
//! values (a weight over the schema's maximum) — and is returned at once. Unlike a `resourceVersion` precondition it does not fail on
//! unrelated writes such as the Gateway controller's status updates.
//!
//! # Caveats
//! - Field ownership: any non-apply write to an atomic list makes the writer its owner, so
//!   after the first weight change the route's managedFields list `slipway-controller`
//!   (operation `Update`) as the owner of `spec.rules`. The route author's next server-side
//!   apply with other weights reports a conflict on `.spec.rules` — which is the truth: both
//!   want to set the weights. GitOps tools should ignore `backendRefs[].weight` of routes under
//!   Slipway's control (Argo CD `ignoreDifferences`), as with any progressive-delivery tool.
//! - The route must already list a backendRef for every Service whose weight is set, in every
//!   selected rule; Slipway does not add or remove backendRefs (it would have to invent ports
//!   and own more of the route than weights).
//! - backendRefs match a Service by name, `kind` `Service` (or absent), `group` `""` (or
//!   absent) and `namespace` equal to the route's (or absent). A weight absent from the object
//!   reads as 1, the Gateway API default.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::ApiResource;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::deployment::{HttpRouteReference, TrafficSplit};
use crate::runtime::error_policy::{ErrorClass, classify_kube, remedy_for_kube};
use crate::runtime::labels::{REVISION_LABEL, TARGET_LABEL};

pub use crate::runtime::FIELD_MANAGER;

/// How often [`set_route_weights`] reads and patches before giving up on a moving route.
pub const ROUTE_ATTEMPTS: usize = 3;

/// A Service selector (an atomic map of labels).
pub type Selector = BTreeMap<String, String>;

/// Where a Service should send traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelectorTarget {
    /// The pods of one revision.
    Revision {
        /// The revision hash.
        hash: String,
    },
    /// The pods of both revisions (traffic by replica ratio).
    Spanning {
        /// The stable revision's hash.
        stable: String,
        /// The new revision's hash.
        canary: String,
    },
}

/// What a selector switch found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorSwitch {
    /// The selector before the call.
    pub previous: Selector,
    /// The selector after the call.
    pub selector: Selector,
    /// Whether a write was made.
    pub changed: bool,
}

/// A Service's weight on an HTTPRoute rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendWeight {
    /// The Service's name.
    pub service: String,
    /// Its weight (Gateway API weights are relative, 0–1 000 000).
    pub weight: i32,
}

/// The weights of the chosen Services on one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleWeights {
    /// Index of the rule in `spec.rules`.
    pub rule: usize,
    /// The matching backendRefs in order.
    pub backends: Vec<BackendWeight>,
}

/// What a weight change found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightChange {
    /// The weights after the call, per selected rule.
    pub weights: Vec<RuleWeights>,
    /// Whether a write was made.
    pub changed: bool,
}

/// Why traffic could not be read or moved.
#[derive(Debug, thiserror::Error)]
pub enum TrafficApplyError {
    /// An API call failed.
    #[error("unable to {action}: {source}")]
    Api {
        /// What was attempted, naming the object.
        action: String,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
    /// The Service has no selector.
    #[error(
        "unable to switch Service {service}: it has no spec.selector (its endpoints are managed by hand), so Slipway cannot steer it"
    )]
    ServiceWithoutSelector {
        /// The Service.
        service: String,
    },
    /// The computed selector would be empty or not name the target.
    #[error(
        "unable to switch Service {service}: the computed selector {selector:?} has no {TARGET_LABEL} label"
    )]
    SelectorWithoutTarget {
        /// The Service.
        service: String,
        /// The computed selector.
        selector: Selector,
    },
    /// The HTTPRoute's spec cannot be read.
    #[error("unable to read HTTPRoute {route}: {message}")]
    InvalidRoute {
        /// The route.
        route: String,
        /// The decoding error.
        message: String,
    },
    /// `spec.target.httpRoute.rule` is past the route's rules.
    #[error(
        "unable to weight HTTPRoute {route}: spec.target.httpRoute.rule is {rule} but the route has {rules} rule(s)"
    )]
    RuleOutOfRange {
        /// The route.
        route: String,
        /// The rule index asked for.
        rule: i32,
        /// How many rules the route has.
        rules: usize,
    },
    /// No rule of the route names any of the Services.
    #[error("unable to weight HTTPRoute {route}: no rule has a backendRef to {services}")]
    NoRuleNamesBackends {
        /// The route.
        route: String,
        /// The Services, comma-separated.
        services: String,
    },
    /// A selected rule lacks a backendRef to one of the Services.
    #[error(
        "unable to weight HTTPRoute {route}: spec.rules[{rule}].backendRefs has no entry for Service {service}; add one (with its port) to the route"
    )]
    BackendMissing {
        /// The route.
        route: String,
        /// The rule index.
        rule: usize,
        /// The missing Service.
        service: String,
    },
    /// The route kept changing under the patch.
    #[error(
        "unable to weight HTTPRoute {route}: its rules changed during each of {attempts} attempts"
    )]
    RouteKeptChanging {
        /// The route.
        route: String,
        /// Attempts made.
        attempts: usize,
    },
}

impl TrafficApplyError {
    /// Whether retrying can help: API failures by their code and a route that kept changing
    /// are transient; a Service or route the rollout cannot steer waits for a user.
    pub fn class(&self) -> ErrorClass {
        match self {
            TrafficApplyError::Api { source, .. } => classify_kube(source),
            TrafficApplyError::RouteKeptChanging { .. } => ErrorClass::Transient,
            _ => ErrorClass::Permanent,
        }
    }

    /// What a user can do about it when it is permanent.
    pub fn remedy(&self) -> &'static str {
        match self {
            TrafficApplyError::Api { source, .. } => remedy_for_kube(source),
            _ => "fix the Service or HTTPRoute the message names, then change the record to retry",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Service selectors
// ---------------------------------------------------------------------------------------------

/// The user's part of a selector: everything but Slipway's target and revision labels.
pub fn base_selector(current: &Selector) -> Selector {
    current
        .iter()
        .filter(|(key, _)| key.as_str() != TARGET_LABEL && key.as_str() != REVISION_LABEL)
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// The selector of one revision: base + target + revision.
pub fn revision_selector(base: &Selector, target: &str, hash: &str) -> Selector {
    let mut selector = base_selector(base);
    selector.insert(TARGET_LABEL.to_owned(), target.to_owned());
    selector.insert(REVISION_LABEL.to_owned(), hash.to_owned());
    selector
}

/// The pairs two selectors share: a selector matching the pods of both.
pub fn spanning_selector(first: &Selector, second: &Selector) -> Selector {
    first
        .iter()
        .filter(|(key, value)| second.get(*key) == Some(*value))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// The selector a Service with selector `current` should have to send traffic to `to`.
pub fn desired_selector(current: &Selector, target: &str, to: &SelectorTarget) -> Selector {
    match to {
        SelectorTarget::Revision { hash } => revision_selector(current, target, hash),
        SelectorTarget::Spanning { stable, canary } => spanning_selector(
            &revision_selector(current, target, stable),
            &revision_selector(current, target, canary),
        ),
    }
}

/// Whether a selector matches a pod's labels (every pair present).
pub fn selector_matches(selector: &Selector, labels: &Selector) -> bool {
    selector
        .iter()
        .all(|(key, value)| labels.get(key) == Some(value))
}

/// Reads a Service's selector (empty when it has none).
///
/// # Errors
/// [`TrafficApplyError::Api`] when the Service cannot be read (404 included).
pub async fn read_service_selector(
    client: &kube::Client,
    namespace: &str,
    service: &str,
) -> Result<Selector, TrafficApplyError> {
    let api: Api<Service> = Api::namespaced(client.clone(), namespace);
    Ok(read_known_selector(&api, namespace, service)
        .await?
        .selector)
}

async fn read_known_selector(
    api: &Api<Service>,
    namespace: &str,
    service: &str,
) -> Result<KnownSelector, TrafficApplyError> {
    Ok(KnownSelector::of(
        read(api, format!("read Service {namespace}/{service}"), service).await?,
    ))
}

/// A Service's selector and the `resourceVersion` it was read at (observe keeps it so a
/// rollback writes without reading the Service again).
#[derive(Clone, Debug, PartialEq)]
pub struct KnownSelector {
    /// The selector as read.
    pub selector: Selector,
    /// The Service's `metadata.resourceVersion` at that read.
    pub resource_version: Option<String>,
}

impl KnownSelector {
    /// What `service` (as read) selects, at its `resourceVersion`.
    pub fn of(service: Service) -> Self {
        KnownSelector {
            selector: service
                .spec
                .and_then(|spec| spec.selector)
                .unwrap_or_default(),
            resource_version: service.metadata.resource_version,
        }
    }
}

/// Points Service `service` at `to` (target label value `target`); one read, and one
/// server-side apply only when the selector differs.
///
/// # Errors
/// [`TrafficApplyError::Api`] (a 409 means the Service changed since the read: call again),
/// [`TrafficApplyError::ServiceWithoutSelector`], [`TrafficApplyError::SelectorWithoutTarget`].
pub async fn switch_service_selector(
    client: &kube::Client,
    namespace: &str,
    service: &str,
    target: &str,
    to: &SelectorTarget,
) -> Result<SelectorSwitch, TrafficApplyError> {
    let api: Api<Service> = Api::namespaced(client.clone(), namespace);
    let known = read_known_selector(&api, namespace, service).await?;
    apply_selector(&api, namespace, service, target, to, &known).await
}

/// [`switch_service_selector`] starting from `known` (what observe read) instead of a read: the
/// apply carries `known`'s `resourceVersion`, so a Service changed since is never overwritten —
/// that 409 falls back to a fresh read, as does "no change" (`known` may predate a write made
/// since in the same reconcile, so only a fresh read may conclude nothing needs writing).
///
/// # Errors
/// As [`switch_service_selector`].
pub async fn switch_service_selector_from(
    client: &kube::Client,
    namespace: &str,
    service: &str,
    target: &str,
    to: &SelectorTarget,
    known: &KnownSelector,
) -> Result<SelectorSwitch, TrafficApplyError> {
    let api: Api<Service> = Api::namespaced(client.clone(), namespace);
    if known.resource_version.is_none()
        || desired_selector(&known.selector, target, to) == known.selector
    {
        return switch_service_selector(client, namespace, service, target, to).await;
    }
    match apply_selector(&api, namespace, service, target, to, known).await {
        Err(TrafficApplyError::Api {
            source: kube::Error::Api(status),
            ..
        }) if status.code == 409 => {
            switch_service_selector(client, namespace, service, target, to).await
        }
        result => result,
    }
}

/// Server-side applies the selector that sends `known`'s Service to `to`, unless it already does.
async fn apply_selector(
    api: &Api<Service>,
    namespace: &str,
    service: &str,
    target: &str,
    to: &SelectorTarget,
    known: &KnownSelector,
) -> Result<SelectorSwitch, TrafficApplyError> {
    let previous = known.selector.clone();
    if previous.is_empty() {
        return Err(TrafficApplyError::ServiceWithoutSelector {
            service: format!("{namespace}/{service}"),
        });
    }
    let selector = desired_selector(&previous, target, to);
    if !selector.contains_key(TARGET_LABEL) {
        return Err(TrafficApplyError::SelectorWithoutTarget {
            service: format!("{namespace}/{service}"),
            selector,
        });
    }
    if selector == previous {
        return Ok(SelectorSwitch {
            previous,
            selector,
            changed: false,
        });
    }
    let applied = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": service,
            "namespace": namespace,
            "resourceVersion": known.resource_version,
        },
        "spec": {"selector": selector},
    });
    api.patch(
        service,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(applied),
    )
    .await
    .map_err(|source| TrafficApplyError::Api {
        action: format!("apply spec.selector of Service {namespace}/{service}"),
        source,
    })?;
    Ok(SelectorSwitch {
        previous,
        selector,
        changed: true,
    })
}

// ---------------------------------------------------------------------------------------------
// HTTPRoute weights
// ---------------------------------------------------------------------------------------------

/// The Gateway API HTTPRoute kind (`gateway.networking.k8s.io/v1`).
pub fn httproute_resource() -> ApiResource {
    ApiResource {
        group: "gateway.networking.k8s.io".into(),
        version: "v1".into(),
        api_version: "gateway.networking.k8s.io/v1".into(),
        kind: "HTTPRoute".into(),
        plural: "httproutes".into(),
    }
}

/// The part of an HTTPRoute's spec Slipway reads (never written back as a whole).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    /// The rules.
    #[serde(default)]
    pub rules: Vec<HttpRouteRule>,
}

/// One HTTPRoute rule, as far as backends go.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    /// Where matching requests go.
    #[serde(default)]
    pub backend_refs: Vec<HttpBackendRef>,
}

/// One backendRef of a rule.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpBackendRef {
    /// API group of the backend (`""` for a Service).
    #[serde(default)]
    pub group: Option<String>,
    /// Kind of the backend (`Service` by default).
    #[serde(default)]
    pub kind: Option<String>,
    /// Name of the backend.
    pub name: String,
    /// Namespace of the backend (the route's by default).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Port of the backend.
    #[serde(default)]
    pub port: Option<i32>,
    /// Relative weight (1 by default).
    #[serde(default)]
    pub weight: Option<i32>,
}

impl HttpBackendRef {
    /// Whether this backendRef is Service `service` in `namespace`.
    pub fn is_service(&self, namespace: &str, service: &str) -> bool {
        self.name == service
            && self.kind.as_deref().is_none_or(|kind| kind == "Service")
            && self.group.as_deref().is_none_or(str::is_empty)
            && self.namespace.as_deref().is_none_or(|own| own == namespace)
    }

    /// The weight, 1 when absent (the Gateway API default).
    pub fn effective_weight(&self) -> i32 {
        self.weight.unwrap_or(1)
    }
}

/// The rules weighted for `reference`: the one it names, else every rule naming any Service.
///
/// # Errors
/// [`TrafficApplyError::RuleOutOfRange`], [`TrafficApplyError::NoRuleNamesBackends`].
pub fn selected_rules(
    spec: &HttpRouteSpec,
    namespace: &str,
    reference: &HttpRouteReference,
    services: &[&str],
) -> Result<Vec<usize>, TrafficApplyError> {
    if let Some(rule) = reference.rule {
        return match usize::try_from(rule) {
            Ok(index) if index < spec.rules.len() => Ok(vec![index]),
            _ => Err(TrafficApplyError::RuleOutOfRange {
                route: reference.name.clone(),
                rule,
                rules: spec.rules.len(),
            }),
        };
    }
    let rules: Vec<usize> = spec
        .rules
        .iter()
        .enumerate()
        .filter(|(_, rule)| {
            rule.backend_refs.iter().any(|backend| {
                services
                    .iter()
                    .any(|service| backend.is_service(namespace, service))
            })
        })
        .map(|(index, _)| index)
        .collect();
    if rules.is_empty() {
        return Err(TrafficApplyError::NoRuleNamesBackends {
            route: reference.name.clone(),
            services: services.join(", "),
        });
    }
    Ok(rules)
}

/// The current weights of `services` on the rules `reference` selects.
///
/// # Errors
/// As [`selected_rules`].
pub fn route_weights(
    spec: &HttpRouteSpec,
    namespace: &str,
    reference: &HttpRouteReference,
    services: &[&str],
) -> Result<Vec<RuleWeights>, TrafficApplyError> {
    let rules = selected_rules(spec, namespace, reference, services)?;
    Ok(rules
        .into_iter()
        .map(|rule| RuleWeights {
            rule,
            backends: spec.rules[rule]
                .backend_refs
                .iter()
                .filter(|backend| {
                    services
                        .iter()
                        .any(|service| backend.is_service(namespace, service))
                })
                .map(|backend| BackendWeight {
                    service: backend.name.clone(),
                    weight: backend.effective_weight(),
                })
                .collect(),
        })
        .collect())
}

/// The JSON patch operations that set `desired` on the selected rules: a `test` of the name and
/// an `add` of the weight per backendRef that differs; empty when nothing differs.
///
/// # Errors
/// As [`selected_rules`], and [`TrafficApplyError::BackendMissing`] when a selected rule lacks a
/// Service of `desired`.
pub fn weight_patch(
    spec: &HttpRouteSpec,
    namespace: &str,
    reference: &HttpRouteReference,
    desired: &[BackendWeight],
) -> Result<Vec<Value>, TrafficApplyError> {
    let services: Vec<&str> = desired.iter().map(|b| b.service.as_str()).collect();
    let mut operations = Vec::new();
    for rule in selected_rules(spec, namespace, reference, &services)? {
        let backends = &spec.rules[rule].backend_refs;
        for wanted in desired {
            let mut found = false;
            for (index, backend) in backends.iter().enumerate() {
                if !backend.is_service(namespace, &wanted.service) {
                    continue;
                }
                found = true;
                if backend.weight == Some(wanted.weight) {
                    continue;
                }
                let path = format!("/spec/rules/{rule}/backendRefs/{index}");
                operations.push(
                    json!({"op": "test", "path": format!("{path}/name"), "value": backend.name}),
                );
                operations.push(
                    json!({"op": "add", "path": format!("{path}/weight"), "value": wanted.weight}),
                );
            }
            if !found {
                return Err(TrafficApplyError::BackendMissing {
                    route: reference.name.clone(),
                    rule,
                    service: wanted.service.clone(),
                });
            }
        }
    }
    Ok(operations)
}

/// Reads `name`; a failure is [`TrafficApplyError::Api`] saying `action`.
async fn read<K>(api: &Api<K>, action: String, name: &str) -> Result<K, TrafficApplyError>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.get(name)
        .await
        .map_err(|source| TrafficApplyError::Api { action, source })
}

fn route_api(client: &kube::Client, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), namespace, &httproute_resource())
}

async fn read_route_spec(
    api: &Api<DynamicObject>,
    namespace: &str,
    route: &str,
) -> Result<HttpRouteSpec, TrafficApplyError> {
    let object = read(api, format!("read HTTPRoute {namespace}/{route}"), route).await?;
    decode_spec(namespace, route, &object)
}

fn decode_spec(
    namespace: &str,
    route: &str,
    object: &DynamicObject,
) -> Result<HttpRouteSpec, TrafficApplyError> {
    match object.data.get("spec") {
        None | Some(Value::Null) => Ok(HttpRouteSpec::default()),
        Some(spec) => {
            serde_json::from_value(spec.clone()).map_err(|error| TrafficApplyError::InvalidRoute {
                route: format!("{namespace}/{route}"),
                message: error.to_string(),
            })
        }
    }
}

/// The traffic split (percent, summing to 100) between `stable` and `canary` that every
/// selected rule agrees on; `None` when rules disagree, a Service is missing from a rule, or
/// both weights are 0. Weights are summed per Service within a rule; other backends are not
/// counted (the split is between the two revisions).
pub fn traffic_split(weights: &[RuleWeights], stable: &str, canary: &str) -> Option<TrafficSplit> {
    let mut agreed: Option<TrafficSplit> = None;
    for rule in weights {
        let sum = |service: &str| -> Option<i64> {
            let matching: Vec<i64> = rule
                .backends
                .iter()
                .filter(|backend| backend.service == service)
                .map(|backend| i64::from(backend.weight))
                .collect();
            (!matching.is_empty()).then(|| matching.iter().sum())
        };
        let (stable_weight, canary_weight) = (sum(stable)?, sum(canary)?);
        let total = stable_weight + canary_weight;
        if total == 0 {
            return None;
        }
        // Rounded to the nearest percent, ties to the stable revision.
        let canary_percent = i32::try_from((canary_weight * 200 + total - 1) / (2 * total)).ok()?;
        let split = TrafficSplit {
            stable: 100 - canary_percent,
            canary: canary_percent,
        };
        match &agreed {
            Some(previous) if *previous != split => return None,
            _ => agreed = Some(split),
        }
    }
    agreed
}

/// Reads the weights of `services` on the rules `reference` selects (for observe).
///
/// # Errors
/// [`TrafficApplyError::Api`], [`TrafficApplyError::InvalidRoute`], and as [`selected_rules`].
pub async fn read_route_weights(
    client: &kube::Client,
    namespace: &str,
    reference: &HttpRouteReference,
    services: &[&str],
) -> Result<Vec<RuleWeights>, TrafficApplyError> {
    let api = route_api(client, namespace);
    let spec = read_route_spec(&api, namespace, &reference.name).await?;
    route_weights(&spec, namespace, reference, services)
}

/// Sets exact weights for `desired` Services on the rules `reference` selects, touching nothing
/// else; a read, then one JSON patch only when a weight differs (retried on a moving route).
///
/// # Errors
/// [`TrafficApplyError::Api`], [`TrafficApplyError::InvalidRoute`], as [`weight_patch`], and
/// [`TrafficApplyError::RouteKeptChanging`].
pub async fn set_route_weights(
    client: &kube::Client,
    namespace: &str,
    reference: &HttpRouteReference,
    desired: &[BackendWeight],
) -> Result<WeightChange, TrafficApplyError> {
    let api = route_api(client, namespace);
    let services: Vec<&str> = desired.iter().map(|b| b.service.as_str()).collect();
    let route = &reference.name;
    let action = || format!("patch backendRefs weights of HTTPRoute {namespace}/{route}");
    let parameters = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    };
    // The operations and error of a patch refused as invalid: when a fresh read yields the same
    // operations, the route did not move and the refusal is final (e.g. a weight the schema
    // rejects); otherwise a `test` failed because it moved, and the new operations are tried.
    let mut refused: Option<(Vec<Value>, kube::Error)> = None;
    for _ in 0..ROUTE_ATTEMPTS {
        let spec = read_route_spec(&api, namespace, route).await?;
        let operations = weight_patch(&spec, namespace, reference, desired)?;
        if operations.is_empty() {
            return Ok(WeightChange {
                weights: route_weights(&spec, namespace, reference, &services)?,
                changed: false,
            });
        }
        if let Some((previous, source)) = refused.take()
            && previous == operations
        {
            return Err(TrafficApplyError::Api {
                action: action(),
                source,
            });
        }
        let patch = Patch::Json::<()>(
            serde_json::from_value(Value::Array(operations.clone())).map_err(|error| {
                TrafficApplyError::InvalidRoute {
                    route: format!("{namespace}/{route}"),
                    message: error.to_string(),
                }
            })?,
        );
        match api.patch(route, &parameters, &patch).await {
            Ok(object) => {
                let spec = decode_spec(namespace, route, &object)?;
                return Ok(WeightChange {
                    weights: route_weights(&spec, namespace, reference, &services)?,
                    changed: true,
                });
            }
            // A conflict is transient by definition: read again.
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            // A failed `test` (422) when the rules moved since the read; else a final refusal.
            Err(kube::Error::Api(status)) if status.code == 422 => {
                refused = Some((operations, kube::Error::Api(status)));
            }
            Err(source) => {
                return Err(TrafficApplyError::Api {
                    action: action(),
                    source,
                });
            }
        }
    }
    Err(TrafficApplyError::RouteKeptChanging {
        route: format!("{namespace}/{route}"),
        attempts: ROUTE_ATTEMPTS,
    })
}

/// Reads the HTTPRoute's spec (for observe, which keeps it for [`set_route_weights_from`]).
///
/// # Errors
/// [`TrafficApplyError::Api`] (404 included), [`TrafficApplyError::InvalidRoute`].
pub async fn read_route(
    client: &kube::Client,
    namespace: &str,
    route: &str,
) -> Result<HttpRouteSpec, TrafficApplyError> {
    read_route_spec(&route_api(client, namespace), namespace, route).await
}

/// As [`set_route_weights`], but the first patch is computed from `known`, a spec read earlier
/// in the same reconcile, instead of a fresh read: one round trip instead of two on the
/// rollback path. The patch's `test` operations keep it exact — if the rules moved since
/// `known` was read, the server refuses it (422) and this falls back to [`set_route_weights`]
/// (read, patch, retry), as it does on a 409. When `known` already carries the weights it also
/// falls back (it may be older than a write made since), so "no change" is always confirmed by a
/// fresh read.
///
/// # Errors
/// As [`set_route_weights`].
pub async fn set_route_weights_from(
    client: &kube::Client,
    namespace: &str,
    reference: &HttpRouteReference,
    desired: &[BackendWeight],
    known: &HttpRouteSpec,
) -> Result<WeightChange, TrafficApplyError> {
    let operations = weight_patch(known, namespace, reference, desired)?;
    if operations.is_empty() {
        return set_route_weights(client, namespace, reference, desired).await;
    }
    let route = &reference.name;
    let services: Vec<&str> = desired.iter().map(|b| b.service.as_str()).collect();
    let patch = Patch::Json::<()>(serde_json::from_value(Value::Array(operations)).map_err(
        |error| TrafficApplyError::InvalidRoute {
            route: format!("{namespace}/{route}"),
            message: error.to_string(),
        },
    )?);
    let parameters = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    };
    match route_api(client, namespace)
        .patch(route, &parameters, &patch)
        .await
    {
        Ok(object) => {
            let spec = decode_spec(namespace, route, &object)?;
            Ok(WeightChange {
                weights: route_weights(&spec, namespace, reference, &services)?,
                changed: true,
            })
        }
        Err(kube::Error::Api(status)) if status.code == 409 || status.code == 422 => {
            set_route_weights(client, namespace, reference, desired).await
        }
        Err(source) => Err(TrafficApplyError::Api {
            action: format!("patch backendRefs weights of HTTPRoute {namespace}/{route}"),
            source,
        }),
    }
}

#[cfg(test)]
#[path = "traffic_apply_tests.rs"]
mod tests;
