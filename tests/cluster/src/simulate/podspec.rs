//! What a runner needs from a pod: per container the command, resolved environment, working
//! directory, mounts and termination-message path; per volume the files to lay out.
//!
//! Environment resolution follows the kubelet: `envFrom` first, then `env` (later wins);
//! `valueFrom` reads ConfigMap/Secret keys and pod fields; `$(VAR)` in values, commands and
//! arguments expands to earlier variables (`$$` escapes). A missing non-optional key fails the
//! container with the kubelet's `CreateContainerConfigError` message.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::Value;

use super::intent::Kind;
use super::object;

/// Default `terminationMessagePath`.
pub const DEFAULT_TERMINATION_MESSAGE_PATH: &str = "/dev/termination-log";

/// Looks up objects the pod refers to (ConfigMaps, Secrets).
pub trait ObjectSource {
    /// The object of `kind` named `name` in `namespace`.
    fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<Value>;
}

/// A pod ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPlan {
    /// Pod namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Pod UID.
    pub uid: String,
    /// Init containers (`spec.initContainers`, run one after the other before the others).
    pub init_containers: Vec<ContainerPlan>,
    /// Containers (`spec.containers`, in order).
    pub containers: Vec<ContainerPlan>,
    /// Volumes the containers may mount.
    pub volumes: Vec<VolumePlan>,
}

/// One container ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerPlan {
    /// Container name.
    pub name: String,
    /// Image reference.
    pub image: String,
    /// `command` (overrides the image entrypoint), `$(VAR)`-expanded.
    pub command: Vec<String>,
    /// `args` (override the image command), `$(VAR)`-expanded.
    pub args: Vec<String>,
    /// Resolved environment, in definition order.
    pub env: Vec<(String, String)>,
    /// `workingDir`.
    pub working_dir: Option<String>,
    /// Volume mounts.
    pub mounts: Vec<MountPlan>,
    /// `terminationMessagePath`.
    pub termination_message_path: String,
    /// `terminationMessagePolicy: FallbackToLogsOnError`.
    pub fallback_to_logs_on_error: bool,
}

/// One volume mount.
#[derive(Debug, Clone, PartialEq)]
pub struct MountPlan {
    /// Volume name.
    pub volume: String,
    /// Path inside the container.
    pub mount_path: String,
    /// `subPath` within the volume.
    pub sub_path: Option<String>,
    /// `readOnly`.
    pub read_only: bool,
}

/// One volume and its initial content.
#[derive(Debug, Clone, PartialEq)]
pub enum VolumePlan {
    /// An empty directory (emptyDir, and volume types the stand-in cannot provide).
    Empty { name: String },
    /// Files from a ConfigMap or Secret (relative path → bytes).
    Files {
        name: String,
        files: BTreeMap<String, Vec<u8>>,
    },
    /// A directory of this machine (hostPath).
    Host { name: String, path: String },
}

impl RunPlan {
    /// Replaces the `command` of each container named in `commands` (init containers
    /// included) with the given argv and drops its `args`; returns the names that match no
    /// container, so a misspelt replacement is reported rather than silently ignored.
    pub fn replace_commands(&mut self, commands: &BTreeMap<String, Vec<String>>) -> Vec<String> {
        let mut unknown = Vec::new();
        for (name, argv) in commands {
            let mut found = false;
            for container in self
                .init_containers
                .iter_mut()
                .chain(self.containers.iter_mut())
                .filter(|container| container.name == *name)
            {
                container.command = argv.clone();
                container.args.clear();
                found = true;
            }
            if !found {
                unknown.push(name.clone());
            }
        }
        unknown
    }
}

impl VolumePlan {
    /// The volume's name.
    pub fn name(&self) -> &str {
        match self {
            VolumePlan::Empty { name }
            | VolumePlan::Files { name, .. }
            | VolumePlan::Host { name, .. } => name,
        }
    }
}

/// A container that cannot be configured (the kubelet's `CreateContainerConfigError`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ContainerConfigError {
    /// The container that cannot start.
    pub container: String,
    /// The kubelet's message.
    pub message: String,
}

/// Resolves `pod` (with `status.podIP`/`hostIP` already set) into a run plan.
///
/// # Errors
/// A missing ConfigMap, Secret or key that is not optional, naming the container.
pub fn plan_run(pod: &Value, source: &dyn ObjectSource) -> Result<RunPlan, ContainerConfigError> {
    let namespace = object::namespace(pod).to_owned();
    let mut volumes = Vec::new();
    for volume in pod
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        volumes.push(plan_volume(volume, &namespace, source).map_err(|message| {
            ContainerConfigError {
                container: String::new(),
                message,
            }
        })?);
    }
    let containers = plan_containers(pod, "/spec/containers", &namespace, source)?;
    // An init container that cannot be configured stops the pod before anything runs.
    let init_containers = plan_containers(pod, "/spec/initContainers", &namespace, source)?;
    Ok(RunPlan {
        namespace,
        pod: object::name(pod).to_owned(),
        uid: object::uid(pod).to_owned(),
        init_containers,
        containers,
        volumes,
    })
}

/// Resolves the containers listed at `pointer` (`/spec/containers` or `/spec/initContainers`).
fn plan_containers(
    pod: &Value,
    pointer: &str,
    namespace: &str,
    source: &dyn ObjectSource,
) -> Result<Vec<ContainerPlan>, ContainerConfigError> {
    let mut containers = Vec::new();
    for container in pod
        .pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = str_at(container, "name");
        let error = |message: String| ContainerConfigError {
            container: name.clone(),
            message,
        };
        let env = resolve_env(container, pod, namespace, source).map_err(error)?;
        let vars: BTreeMap<String, String> = env.iter().cloned().collect();
        let strings = |key: &str| -> Vec<String> {
            container
                .get(key)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|s| expand(s, &vars))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mounts = container
            .get("volumeMounts")
            .and_then(Value::as_array)
            .map(|mounts| {
                mounts
                    .iter()
                    .map(|m| MountPlan {
                        volume: str_at(m, "name"),
                        mount_path: str_at(m, "mountPath"),
                        sub_path: m
                            .get("subPath")
                            .and_then(Value::as_str)
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned),
                        read_only: m.get("readOnly").and_then(Value::as_bool).unwrap_or(false),
                    })
                    .collect()
            })
            .unwrap_or_default();
        containers.push(ContainerPlan {
            image: str_at(container, "image"),
            command: strings("command"),
            args: strings("args"),
            working_dir: container
                .get("workingDir")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            mounts,
            termination_message_path: container
                .get("terminationMessagePath")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or(DEFAULT_TERMINATION_MESSAGE_PATH)
                .to_owned(),
            fallback_to_logs_on_error: container
                .get("terminationMessagePolicy")
                .and_then(Value::as_str)
                == Some("FallbackToLogsOnError"),
            env,
            name,
        });
    }
    Ok(containers)
}

fn str_at(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

/// The string data of a ConfigMap (`data` + `binaryData`) or Secret (`data`, base64-decoded).
fn key_values(kind: Kind, object: &Value) -> BTreeMap<String, Vec<u8>> {
    let mut values = BTreeMap::new();
    let engine = base64::engine::general_purpose::STANDARD;
    let data = object.get("data").and_then(Value::as_object);
    for (key, value) in data.into_iter().flatten() {
        let Some(text) = value.as_str() else { continue };
        let bytes = match kind {
            Kind::Secret => engine
                .decode(text)
                .unwrap_or_else(|_| text.as_bytes().to_vec()),
            _ => text.as_bytes().to_vec(),
        };
        values.insert(key.clone(), bytes);
    }
    if kind == Kind::Secret {
        // stringData is write-only on a real server; honour it if the store kept it.
        for (key, value) in object
            .get("stringData")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(text) = value.as_str() {
                values.insert(key.clone(), text.as_bytes().to_vec());
            }
        }
    }
    for (key, value) in object
        .get("binaryData")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(bytes) = value.as_str().and_then(|t| engine.decode(t).ok()) {
            values.insert(key.clone(), bytes);
        }
    }
    values
}

fn kind_label(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Secret => ("secret", "Secret"),
        _ => ("configmap", "ConfigMap"),
    }
}

fn resolve_env(
    container: &Value,
    pod: &Value,
    namespace: &str,
    source: &dyn ObjectSource,
) -> Result<Vec<(String, String)>, String> {
    let mut env: Vec<(String, String)> = Vec::new();
    let set = |env: &mut Vec<(String, String)>, name: String, value: String| {
        env.retain(|(n, _)| *n != name);
        env.push((name, value));
    };
    for from in container
        .get("envFrom")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let prefix = from.get("prefix").and_then(Value::as_str).unwrap_or("");
        for (key, kind) in [
            ("configMapRef", Kind::ConfigMap),
            ("secretRef", Kind::Secret),
        ] {
            let Some(reference) = from.get(key) else {
                continue;
            };
            let name = reference.get("name").and_then(Value::as_str).unwrap_or("");
            let optional = reference
                .get("optional")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            match source.get(kind, namespace, name) {
                Some(object) => {
                    for (k, v) in key_values(kind, &object) {
                        set(
                            &mut env,
                            format!("{prefix}{k}"),
                            String::from_utf8_lossy(&v).into_owned(),
                        );
                    }
                }
                None if optional => {}
                None => return Err(format!("{} \"{name}\" not found", kind_label(kind).0)),
            }
        }
    }
    for variable in container
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = str_at(variable, "name");
        let vars: BTreeMap<String, String> = env.iter().cloned().collect();
        let value = if let Some(value) = variable.get("value").and_then(Value::as_str) {
            Some(expand(value, &vars))
        } else if let Some(from) = variable.get("valueFrom") {
            value_from(from, container, pod, namespace, source)?
        } else {
            Some(String::new())
        };
        if let Some(value) = value {
            set(&mut env, name, value);
        }
    }
    Ok(env)
}

/// One `valueFrom`; `Ok(None)` for an optional reference that is missing.
fn value_from(
    from: &Value,
    container: &Value,
    pod: &Value,
    namespace: &str,
    source: &dyn ObjectSource,
) -> Result<Option<String>, String> {
    for (key, kind) in [
        ("configMapKeyRef", Kind::ConfigMap),
        ("secretKeyRef", Kind::Secret),
    ] {
        let Some(reference) = from.get(key) else {
            continue;
        };
        let name = reference.get("name").and_then(Value::as_str).unwrap_or("");
        let wanted = reference.get("key").and_then(Value::as_str).unwrap_or("");
        let optional = reference
            .get("optional")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let (lower, title) = kind_label(kind);
        let Some(object) = source.get(kind, namespace, name) else {
            return if optional {
                Ok(None)
            } else {
                Err(format!("{lower} \"{name}\" not found"))
            };
        };
        return match key_values(kind, &object).remove(wanted) {
            Some(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
            None if optional => Ok(None),
            None => Err(format!(
                "couldn't find key {wanted} in {title} {namespace}/{name}"
            )),
        };
    }
    if let Some(field) = from.pointer("/fieldRef/fieldPath").and_then(Value::as_str) {
        return field_value(pod, field)
            .map(Some)
            .ok_or_else(|| format!("unsupported fieldPath: {field}"));
    }
    if let Some(resource) = from
        .pointer("/resourceFieldRef/resource")
        .and_then(Value::as_str)
    {
        // Without a node there is no allocatable to default to; report the declared value or 0.
        let (section, name) = resource.split_once('.').unwrap_or(("limits", resource));
        let declared = container.pointer(&format!("/resources/{section}/{name}"));
        return Ok(Some(
            declared
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string())
                })
                .unwrap_or_else(|| "0".into()),
        ));
    }
    Ok(Some(String::new()))
}

/// A downward-API field of the pod.
pub fn field_value(pod: &Value, field: &str) -> Option<String> {
    let text = |pointer: &str| {
        pod.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let map_entry = |map: &str, rest: &str| {
        let key = rest.strip_prefix("['")?.strip_suffix("']")?;
        Some(
            pod.pointer(&format!("/metadata/{map}"))?
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        )
    };
    Some(match field {
        "metadata.name" => text("/metadata/name"),
        "metadata.namespace" => text("/metadata/namespace"),
        "metadata.uid" => text("/metadata/uid"),
        "spec.nodeName" => text("/spec/nodeName"),
        "spec.serviceAccountName" => text("/spec/serviceAccountName"),
        "status.podIP" | "status.podIPs" => text("/status/podIP"),
        "status.hostIP" | "status.hostIPs" => text("/status/hostIP"),
        other => {
            if let Some(rest) = other.strip_prefix("metadata.labels") {
                return map_entry("labels", rest);
            }
            if let Some(rest) = other.strip_prefix("metadata.annotations") {
                return map_entry("annotations", rest);
            }
            return None;
        }
    })
}

/// Kubernetes' `$(VAR)` expansion: defined variables are replaced, `$$` is a literal `$`,
/// anything else is left as written.
pub fn expand(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find('$') {
        out.push_str(&rest[..index]);
        let after = &rest[index + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(end) = inner.find(')')
            && let Some(value) = vars.get(&inner[..end])
        {
            out.push_str(value);
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn plan_volume(
    volume: &Value,
    namespace: &str,
    source: &dyn ObjectSource,
) -> Result<VolumePlan, String> {
    let name = str_at(volume, "name");
    for (key, kind, name_key) in [
        ("configMap", Kind::ConfigMap, "name"),
        ("secret", Kind::Secret, "secretName"),
    ] {
        let Some(spec) = volume.get(key) else {
            continue;
        };
        let object_name = spec.get(name_key).and_then(Value::as_str).unwrap_or("");
        let optional = spec
            .get("optional")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let Some(object) = source.get(kind, namespace, object_name) else {
            return if optional {
                Ok(VolumePlan::Empty { name })
            } else {
                Err(format!(
                    "{} \"{object_name}\" not found",
                    kind_label(kind).0
                ))
            };
        };
        let mut values = key_values(kind, &object);
        let files = match spec.get("items").and_then(Value::as_array) {
            Some(items) => items
                .iter()
                .filter_map(|item| {
                    let key = item.get("key")?.as_str()?;
                    let path = item.get("path").and_then(Value::as_str).unwrap_or(key);
                    Some((path.to_owned(), values.remove(key)?))
                })
                .collect(),
            None => values,
        };
        return Ok(VolumePlan::Files { name, files });
    }
    if let Some(path) = volume.pointer("/hostPath/path").and_then(Value::as_str) {
        return Ok(VolumePlan::Host {
            name,
            path: path.to_owned(),
        });
    }
    Ok(VolumePlan::Empty { name })
}

#[cfg(test)]
#[path = "podspec_tests.rs"]
mod tests;
