//! An ECS `TargetService`'s `Properties`: `TaskDefinition`, `LoadBalancerInfo`, and the
//! placement settings that have no meaning on Kubernetes (kept in the model, not used).

use crate::yaml::diagnostics::Position;
use crate::yaml::tree::{Node, NodeKind};

use super::model::{
    CapacityProviderItem, Located, NetworkConfiguration, Placeholder, PlaceholderKind,
    TargetService, TaskContainer, TaskDefinition, Templated,
};
use super::walk::{Entry, Walker};

/// The properties of an `AWS::ECS::Service` resource.
const PROPERTY_KEYS: &[&str] = &[
    "TaskDefinition",
    "LoadBalancerInfo",
    "PlatformVersion",
    "NetworkConfiguration",
    "CapacityProviderStrategy",
];

/// How to write `TaskDefinition` so Slipway can roll it out.
const TASK_DEFINITION_FIX: &str = "set `TaskDefinition` to the image to roll out (`registry.example.com/web@sha256:…`, or `#{Build.ImageURI}` in a pipeline), or to an inline `containerDefinitions` list of `name` and `image`";

/// The `Properties` of the ECS resource named `name`.
pub(crate) fn target_service(
    walker: &mut Walker,
    name: &str,
    path: &str,
    properties: Entry,
) -> Option<TargetService> {
    let path = format!("{path}.Properties");
    let fields = walker.fields(properties.value, &path, PROPERTY_KEYS)?;
    let task_definition = match fields.get("TaskDefinition") {
        Some(node) => task_definition(walker, node, &format!("{path}.TaskDefinition")),
        None => {
            walker.diagnostics.error(
                properties.key.position,
                format!("missing `{path}.TaskDefinition`"),
                TASK_DEFINITION_FIX,
            );
            None
        }
    };
    let load_balancer = fields
        .get("LoadBalancerInfo")
        .map(|node| load_balancer_info(walker, node, &format!("{path}.LoadBalancerInfo")))
        .unwrap_or_default();
    let platform_version = fields
        .get("PlatformVersion")
        .and_then(|node| walker.text(node, &format!("{path}.PlatformVersion")));
    let network_configuration = fields.get("NetworkConfiguration").and_then(|node| {
        network_configuration(walker, node, &format!("{path}.NetworkConfiguration"))
    });
    let capacity_provider_strategy = fields
        .get("CapacityProviderStrategy")
        .map(|node| capacity_providers(walker, node, &format!("{path}.CapacityProviderStrategy")))
        .unwrap_or_default();
    Some(TargetService {
        name: name.to_owned(),
        task_definition: task_definition?,
        container_name: load_balancer.container_name,
        container_port: load_balancer.container_port,
        platform_version,
        network_configuration,
        capacity_provider_strategy,
    })
}

/// `TaskDefinition`: an ARN, a placeholder, an image reference, or an inline task definition.
fn task_definition(
    walker: &mut Walker,
    node: &Node,
    path: &str,
) -> Option<Located<TaskDefinition>> {
    let value = match &node.kind {
        NodeKind::Mapping(_) => TaskDefinition::Containers(inline_containers(walker, node, path)?),
        _ => {
            let text = walker.text(node, path);
            match text.as_deref().map(str::trim) {
                Some(text) if !text.is_empty() => classify(text),
                _ => {
                    if !matches!(node.kind, NodeKind::Sequence(_)) {
                        walker.diagnostics.error(
                            node.position,
                            format!("`{path}` has no value"),
                            TASK_DEFINITION_FIX,
                        );
                    }
                    return None;
                }
            }
        }
    };
    match &value {
        TaskDefinition::Arn(arn) => walker.diagnostics.warning(
            node.position,
            format!(
                "`{path}` is the ECS task definition `{arn}`; Slipway has no ECS to read its images from, so this appspec cannot be rolled out as it is"
            ),
            TASK_DEFINITION_FIX,
        ),
        TaskDefinition::Placeholder(placeholder) => {
            placeholder_warning(walker, node.position, path, placeholder);
        }
        TaskDefinition::Image(image) if !is_image_reference(image) => {
            walker.diagnostics.error(
                node.position,
                format!(
                    "`{path}` is `{image}`, which is neither an image reference, an ECS task-definition ARN nor a placeholder"
                ),
                TASK_DEFINITION_FIX,
            );
            return None;
        }
        TaskDefinition::Image(_) | TaskDefinition::Containers(_) => {}
    }
    Some(Located {
        value,
        position: node.position,
    })
}

/// What a one-line `TaskDefinition` is. An ARN wins over a placeholder inside it
/// (`arn:aws:ecs:<REGION>:…` is still an ARN), and anything else is an image reference.
pub(crate) fn classify(text: &str) -> TaskDefinition {
    if text.starts_with("arn:") {
        TaskDefinition::Arn(text.to_owned())
    } else if let Some(placeholder) = Placeholder::find(text) {
        TaskDefinition::Placeholder(placeholder)
    } else {
        TaskDefinition::Image(text.to_owned())
    }
}

/// Whether `text` can be an image reference: no whitespace and no URL scheme. The registry
/// judges the rest when the image is pulled.
fn is_image_reference(text: &str) -> bool {
    !text.contains(char::is_whitespace) && !text.contains("://")
}

/// An inline task definition: `containerDefinitions` of `name` and `image`. Other keys (`cpu`,
/// `memory`, `portMappings`, …) are ignored without a warning: a pasted `taskdef.json` carries
/// many, and on Kubernetes the workload's pod template owns them.
fn inline_containers(walker: &mut Walker, node: &Node, path: &str) -> Option<Vec<TaskContainer>> {
    let fields = walker.entries(node, path)?;
    let list_path = format!("{path}.containerDefinitions");
    let Some(list) = fields.get("containerDefinitions") else {
        walker.diagnostics.error(
            node.position,
            format!("`{path}` is a mapping without `containerDefinitions`"),
            TASK_DEFINITION_FIX,
        );
        return None;
    };
    let items = walker.list(list, &list_path, TASK_DEFINITION_FIX)?;
    let mut containers: Vec<TaskContainer> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let item_path = format!("{list_path}[{index}]");
        let Some(container) = walker.entries(item, &item_path) else {
            continue;
        };
        let fix =
            "give each container definition a `name` (the pod template's container) and an `image`";
        let name = walker.required_text(&container, "name", &item_path, item.position, fix);
        let image = walker.required_text(&container, "image", &item_path, item.position, fix);
        let (Some(name), Some(image)) = (name, image) else {
            continue;
        };
        if containers.iter().any(|seen| seen.name == name.value) {
            walker.diagnostics.error(
                name.position,
                format!(
                    "container `{}` is defined twice in `{list_path}`",
                    name.value
                ),
                "keep one definition per container",
            );
            continue;
        }
        let image_path = format!("{item_path}.image");
        let image_value = templated(walker, &image, &image_path)
            .unwrap_or_else(|| Templated::Value(image.value.clone()));
        containers.push(TaskContainer {
            name: name.value,
            image: image_value,
            position: item.position,
        });
    }
    if items.is_empty() {
        walker.diagnostics.error(
            list.position,
            format!("`{list_path}` is empty"),
            TASK_DEFINITION_FIX,
        );
    }
    Some(containers)
}

/// What `LoadBalancerInfo` names: the container and port that serve traffic.
#[derive(Default)]
struct LoadBalancerInfo {
    container_name: Option<Located<Templated<String>>>,
    container_port: Option<Located<Templated<i32>>>,
}

/// `LoadBalancerInfo`: `ContainerName` and `ContainerPort`.
fn load_balancer_info(walker: &mut Walker, node: &Node, path: &str) -> LoadBalancerInfo {
    let Some(fields) = walker.fields(node, path, &["ContainerName", "ContainerPort"]) else {
        return LoadBalancerInfo::default();
    };
    let name_path = format!("{path}.ContainerName");
    let name = fields
        .get("ContainerName")
        .and_then(|node| located_text(walker, node, &name_path))
        .map(|name| Located {
            value: templated(walker, &name, &name_path).unwrap_or(Templated::Value(name.value)),
            position: name.position,
        });
    let port_path = format!("{path}.ContainerPort");
    let port = fields.get("ContainerPort").and_then(|node| {
        let text = located_text(walker, node, &port_path)?;
        let value = match templated(walker, &text, &port_path) {
            Some(placeholder) => placeholder,
            // CodeDeploy wants a number; a quoted one means the same and is read the same.
            None => match text.value.trim().parse::<i32>() {
                Ok(port) if (1..=65535).contains(&port) => Templated::Value(port),
                _ => {
                    walker.diagnostics.error(
                        text.position,
                        format!(
                            "`{port_path}` must be a port number from 1 to 65535, found `{}`",
                            text.value
                        ),
                        "write the container port as a number, e.g. `ContainerPort: 8080`",
                    );
                    return None;
                }
            },
        };
        Some(Located {
            value,
            position: text.position,
        })
    });
    LoadBalancerInfo {
        container_name: name,
        container_port: port,
    }
}

/// A scalar with its position; null and empty values are skipped (the mapping treats the
/// field as unset), lists and mappings are errors.
fn located_text(walker: &mut Walker, node: &Node, path: &str) -> Option<Located<String>> {
    let text = walker.text(node, path)?;
    (!text.trim().is_empty()).then_some(Located {
        value: text,
        position: node.position,
    })
}

/// The placeholder a value holds, if any (warned about when Slipway will not replace it).
fn templated<T>(walker: &mut Walker, text: &Located<String>, path: &str) -> Option<Templated<T>> {
    let placeholder = Placeholder::find(&text.value)?;
    placeholder_warning(walker, text.position, path, &placeholder);
    Some(Templated::Placeholder(placeholder))
}

/// Warns that a `<…>` placeholder must be replaced before rollout; `#{…}` variables pass
/// silently, since the pipeline substitutes them.
fn placeholder_warning(walker: &mut Walker, at: Position, path: &str, placeholder: &Placeholder) {
    if placeholder.kind == PlaceholderKind::Template {
        walker.diagnostics.warning(
            at,
            format!(
                "`{path}` is the placeholder `{}`, which Slipway does not replace: it must be replaced before this appspec is rolled out",
                placeholder.text
            ),
            if path.ends_with("TaskDefinition") || path.ends_with(".image") {
                "replace it with the image reference, or with a pipeline variable such as `#{Build.ImageURI}` that the pipeline substitutes"
            } else {
                "replace it with the value, or with a `#{…}` pipeline variable that the pipeline substitutes"
            },
        );
    }
}

/// `NetworkConfiguration.AwsvpcConfiguration`.
fn network_configuration(
    walker: &mut Walker,
    node: &Node,
    path: &str,
) -> Option<NetworkConfiguration> {
    let fields = walker.fields(node, path, &["AwsvpcConfiguration"])?;
    let vpc_path = format!("{path}.AwsvpcConfiguration");
    let vpc = fields.get("AwsvpcConfiguration")?;
    let vpc = walker.fields(
        vpc,
        &vpc_path,
        &["Subnets", "SecurityGroups", "AssignPublicIp"],
    )?;
    Some(NetworkConfiguration {
        subnets: vpc
            .get("Subnets")
            .map(|node| walker.text_list(node, &format!("{vpc_path}.Subnets")))
            .unwrap_or_default(),
        security_groups: vpc
            .get("SecurityGroups")
            .map(|node| walker.text_list(node, &format!("{vpc_path}.SecurityGroups")))
            .unwrap_or_default(),
        assign_public_ip: vpc
            .get("AssignPublicIp")
            .and_then(|node| walker.text(node, &format!("{vpc_path}.AssignPublicIp"))),
    })
}

/// `CapacityProviderStrategy`: a list of `CapacityProvider`, `Base`, `Weight`.
fn capacity_providers(walker: &mut Walker, node: &Node, path: &str) -> Vec<CapacityProviderItem> {
    let fix = format!("write `{path}` as a list of `- CapacityProvider: FARGATE` items");
    let Some(items) = walker.list(node, path, &fix) else {
        return Vec::new();
    };
    let mut strategy = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{index}]");
        let known = &["CapacityProvider", "Base", "Weight"];
        let Some(fields) = walker.fields(item, &item_path, known) else {
            continue;
        };
        let mut read = |key: &str| {
            fields
                .get(key)
                .and_then(|node| walker.text(node, &format!("{item_path}.{key}")))
        };
        strategy.push(CapacityProviderItem {
            capacity_provider: read("CapacityProvider"),
            base: read("Base"),
            weight: read("Weight"),
        });
    }
    strategy
}
