//! The EndpointSlice and Endpoints controllers: a Service with a selector lists its pods' IPs
//! and resolved target ports (named ports resolved per pod).
//!
//! One slice per distinct resolved port list (pods may resolve a named port differently), a
//! placeholder slice with no endpoints when nothing matches, and the legacy `Endpoints` object
//! with `addresses` / `notReadyAddresses` subsets.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::intent::{Intent, Kind};
use super::object::{self, owner_reference};

/// Label naming a slice's Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// Label naming a slice's manager.
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
/// The EndpointSlice controller's manager label value.
pub const MANAGED_BY: &str = "endpointslice-controller.k8s.io";
/// Label the endpoints controller sets on `Endpoints`.
pub const ENDPOINTS_MANAGED_BY_LABEL: &str = "endpoints.kubernetes.io/managed-by";

/// One pod as an endpoint of the Service.
struct PodEndpoint<'a> {
    pod: &'a Value,
    ip: &'a str,
    ready: bool,
    serving: bool,
    terminating: bool,
    ports: Vec<Value>,
}

/// Decides the slices and `Endpoints` of `service` from the namespace's pods and the existing
/// slices (any; those not managed for this Service are ignored) and `Endpoints`.
pub fn decide_endpoints(
    service: &Value,
    pods: &[Value],
    slices: &[Value],
    endpoints: Option<&Value>,
) -> Vec<Intent> {
    let selector = object::string_map(service.pointer("/spec/selector"));
    if object::is_deleting(service)
        || selector.is_empty()
        || service.pointer("/spec/type").and_then(Value::as_str) == Some("ExternalName")
    {
        return Vec::new();
    }
    let publish_not_ready = service
        .pointer("/spec/publishNotReadyAddresses")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let service_ports: Vec<Value> = service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();

    let mut members: Vec<PodEndpoint> = pods
        .iter()
        .filter(|pod| {
            object::map_selector_matches(&selector, &object::labels(pod))
                && !object::pod_is_terminal(pod)
        })
        .filter_map(|pod| {
            let ip = pod
                .pointer("/status/podIP")
                .and_then(Value::as_str)
                .filter(|ip| !ip.is_empty())?;
            let terminating = object::is_deleting(pod);
            let pod_ready = object::pod_is_ready(pod);
            Some(PodEndpoint {
                pod,
                ip,
                ready: publish_not_ready || (pod_ready && !terminating),
                serving: publish_not_ready || pod_ready,
                terminating,
                ports: service_ports
                    .iter()
                    .filter_map(|port| resolve_port(port, pod))
                    .collect(),
            })
        })
        .collect();
    members.sort_by(|a, b| object::name(a.pod).cmp(object::name(b.pod)));

    let mut intents = decide_slices(service, &members, slices);
    intents.extend(decide_legacy_endpoints(
        service,
        &members,
        endpoints,
        publish_not_ready,
    ));
    intents
}

/// A Service port resolved against one pod, or `None` when a named target port is missing.
fn resolve_port(service_port: &Value, pod: &Value) -> Option<Value> {
    let protocol = service_port
        .get("protocol")
        .and_then(Value::as_str)
        .unwrap_or("TCP");
    let port = match service_port.get("targetPort") {
        Some(Value::Number(n)) => n.as_i64()?,
        Some(Value::String(name)) => match name.parse::<i64>() {
            Ok(number) => number,
            Err(_) => find_named_port(pod, name, protocol)?,
        },
        _ => service_port.get("port")?.as_i64()?,
    };
    let mut resolved = json!({
        "name": service_port.get("name").and_then(Value::as_str).unwrap_or(""),
        "port": port,
        "protocol": protocol,
    });
    if let Some(app_protocol) = service_port.get("appProtocol") {
        resolved["appProtocol"] = app_protocol.clone();
    }
    Some(resolved)
}

fn find_named_port(pod: &Value, name: &str, protocol: &str) -> Option<i64> {
    pod.pointer("/spec/containers")?
        .as_array()?
        .iter()
        .find_map(|container| {
            container.get("ports")?.as_array()?.iter().find_map(|port| {
                let port_protocol = port
                    .get("protocol")
                    .and_then(Value::as_str)
                    .unwrap_or("TCP");
                (port.get("name").and_then(Value::as_str) == Some(name)
                    && port_protocol == protocol)
                    .then(|| port.get("containerPort")?.as_i64())
                    .flatten()
            })
        })
}

fn target_ref(pod: &Value) -> Value {
    json!({"kind": "Pod", "namespace": object::namespace(pod), "name": object::name(pod), "uid": object::uid(pod)})
}

fn decide_slices(service: &Value, members: &[PodEndpoint], slices: &[Value]) -> Vec<Intent> {
    // Desired slices keyed by their port list; an empty Service still gets one placeholder.
    let mut desired: BTreeMap<String, (Value, Vec<Value>)> = BTreeMap::new();
    for member in members {
        let key = Value::Array(member.ports.clone()).to_string();
        let mut endpoint = json!({
            "addresses": [member.ip],
            "conditions": {"ready": member.ready, "serving": member.serving, "terminating": member.terminating},
            "targetRef": target_ref(member.pod),
        });
        if let Some(node) = member.pod.pointer("/spec/nodeName") {
            endpoint["nodeName"] = node.clone();
        }
        desired
            .entry(key)
            .or_insert_with(|| (Value::Array(member.ports.clone()), Vec::new()))
            .1
            .push(endpoint);
    }
    if desired.is_empty() {
        desired.insert("null".into(), (Value::Null, Vec::new()));
    }

    let mut labels: Map<String, Value> = service
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    labels.insert(SERVICE_NAME_LABEL.into(), json!(object::name(service)));
    labels.insert(MANAGED_BY_LABEL.into(), json!(MANAGED_BY));

    let mut existing: Vec<&Value> = slices
        .iter()
        .filter(|s| {
            let l = object::labels(s);
            l.get(SERVICE_NAME_LABEL).map(String::as_str) == Some(object::name(service))
                && l.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY)
                && !object::is_deleting(s)
        })
        .collect();
    existing.sort_by_key(|s| object::name(s).to_owned());

    let mut intents = Vec::new();
    let mut unmatched = Vec::new();
    let labels = &labels;
    for (key, (ports, endpoints)) in desired {
        let body = move |mut slice: Value| {
            slice["metadata"]["labels"] = Value::Object(labels.clone());
            slice["addressType"] = json!("IPv4");
            slice["endpoints"] = Value::Array(endpoints.clone());
            match &ports {
                Value::Null => slice.as_object_mut().map(|o| o.remove("ports")),
                ports => slice
                    .as_object_mut()
                    .map(|o| o.insert("ports".into(), ports.clone())),
            };
            slice
        };
        let same_ports = existing.iter().position(|s| {
            s.get("ports")
                .map(Value::to_string)
                .unwrap_or_else(|| "null".into())
                == key
        });
        match same_ports {
            Some(index) => {
                let slice = existing.remove(index);
                let updated = body(slice.clone());
                if &updated != slice {
                    intents.push(Intent::Update {
                        kind: Kind::EndpointSlice,
                        object: updated,
                    });
                }
            }
            None => unmatched.push(body),
        }
    }
    // Reuse leftover slices for new port lists before creating any.
    for body in unmatched {
        match existing.pop() {
            Some(slice) => intents.push(Intent::Update {
                kind: Kind::EndpointSlice,
                object: body(slice.clone()),
            }),
            None => intents.push(Intent::Create {
                kind: Kind::EndpointSlice,
                object: body(json!({
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "metadata": {
                        "generateName": format!("{}-", object::name(service)),
                        "namespace": object::namespace(service),
                        "ownerReferences": [owner_reference(service, "v1", "Service")],
                    },
                })),
            }),
        }
    }
    intents.extend(
        existing
            .into_iter()
            .map(|s| Intent::delete(Kind::EndpointSlice, s)),
    );
    intents
}

/// One `Endpoints` subset being built: ports, ready addresses, not-ready addresses.
type Subset = (Vec<Value>, Vec<Value>, Vec<Value>);

fn decide_legacy_endpoints(
    service: &Value,
    members: &[PodEndpoint],
    current: Option<&Value>,
    publish_not_ready: bool,
) -> Option<Intent> {
    let mut subsets: BTreeMap<String, Subset> = BTreeMap::new();
    for member in members
        .iter()
        .filter(|m| publish_not_ready || !m.terminating)
    {
        let ports: Vec<Value> = member
            .ports
            .iter()
            .map(|p| {
                let mut port = p.clone();
                if port["name"] == "" {
                    port.as_object_mut().map(|o| o.remove("name"));
                }
                port
            })
            .collect();
        let mut address = json!({"ip": member.ip, "targetRef": target_ref(member.pod)});
        if let Some(node) = member.pod.pointer("/spec/nodeName") {
            address["nodeName"] = node.clone();
        }
        let entry = subsets
            .entry(Value::Array(ports.clone()).to_string())
            .or_insert((ports, vec![], vec![]));
        if member.ready {
            entry.1.push(address)
        } else {
            entry.2.push(address)
        }
    }
    let subsets: Vec<Value> = subsets
        .into_values()
        .map(|(ports, ready, not_ready)| {
            let mut subset = json!({"ports": ports});
            if !ready.is_empty() {
                subset["addresses"] = Value::Array(ready);
            }
            if !not_ready.is_empty() {
                subset["notReadyAddresses"] = Value::Array(not_ready);
            }
            subset
        })
        .collect();
    let mut labels: Map<String, Value> = service
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    labels.insert(
        ENDPOINTS_MANAGED_BY_LABEL.into(),
        json!("endpoint-controller"),
    );

    let mut desired = current.cloned().unwrap_or_else(|| {
        json!({
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": object::name(service), "namespace": object::namespace(service)},
        })
    });
    desired["metadata"]["labels"] = Value::Object(labels);
    if subsets.is_empty() {
        desired.as_object_mut().map(|o| o.remove("subsets"));
    } else {
        desired["subsets"] = Value::Array(subsets);
    }
    match current {
        None => Some(Intent::Create {
            kind: Kind::Endpoints,
            object: desired,
        }),
        Some(current) if current != &desired => Some(Intent::Update {
            kind: Kind::Endpoints,
            object: desired,
        }),
        Some(_) => None,
    }
}

#[cfg(test)]
#[path = "endpoints_tests.rs"]
mod tests;
