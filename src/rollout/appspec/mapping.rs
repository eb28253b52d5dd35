//! An appspec → what a Deployment rolls out: images, target container and port, and hooks.
//! Pure functions over the parsed appspec and the Deployment's template; see the module docs of
//! [`super`] for the rules and why.

use crate::api::deployment::{
    ContainerImage, DeploymentTemplate, Hook, LifecycleEvent, LifecycleHooks, NamedHook,
};

use super::model::{
    AppSpec, EcsAppSpec, HookReference, Placeholder, PlaceholderKind, TaskDefinition, Templated,
    event_name,
};
use super::platform::{Rejection, rejection};

/// What a Deployment rolls out, read from its ECS appspec.
#[derive(Clone, Debug, PartialEq)]
pub struct AppSpecRollout {
    /// New images by container; the workload's other containers keep theirs.
    pub images: Vec<ContainerImage>,
    /// The container that serves traffic: `LoadBalancerInfo.ContainerName`, else
    /// `spec.target.container`; `None` leaves the choice to the target's default.
    pub container: Option<String>,
    /// The container port that serves traffic: `LoadBalancerInfo.ContainerPort`, else
    /// `spec.target.port`; `None` leaves it to the Service's target port.
    pub port: Option<i32>,
    /// The appspec's hooks resolved to `spec.hookFunctions`, in lifecycle order.
    pub hooks: Vec<ResolvedHook>,
}

/// An appspec hook resolved to the hook that runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedHook {
    /// The lifecycle event it runs at.
    pub event: LifecycleEvent,
    /// The function as the appspec names it (name or ARN).
    pub function: String,
    /// The name of the matching `spec.hookFunctions` entry.
    pub hook_function: String,
    /// The hook (a Job or an HTTP call).
    pub hook: Hook,
}

/// Why an appspec cannot be rolled out as this Deployment's revision.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// The appspec is for a platform Slipway does not roll out.
    #[error("{}", .0.message)]
    Rejected(Rejection),
    /// A value still holds a placeholder.
    #[error("unable to roll out the appspec: `{field}` still holds {}", describe_placeholder(.placeholder))]
    UnresolvedPlaceholder {
        /// The appspec field.
        field: String,
        /// What it holds.
        placeholder: Placeholder,
    },
    /// `TaskDefinition` is an ECS ARN.
    #[error(
        "unable to roll out the appspec: `TaskDefinition` is the ECS task definition `{0}`, and Slipway has no ECS to read its images from; write the image reference there (or an inline `containerDefinitions` list)"
    )]
    TaskDefinitionArn(String),
    /// One image, but nothing says which container gets it.
    #[error(
        "unable to roll out the appspec: `TaskDefinition` names one image but no container to put it in; set `LoadBalancerInfo.ContainerName` in the appspec or `spec.target.container`"
    )]
    NoContainerForImage,
    /// The traffic container is not in the inline task definition.
    #[error("unable to roll out the appspec: container `{container}` serves traffic but the inline task definition defines only {}", listed(.defined))]
    ContainerNotInTaskDefinition {
        /// The traffic container.
        container: String,
        /// The containers the task definition defines.
        defined: Vec<String>,
    },
    /// `ContainerName` and `spec.target.container` disagree.
    #[error(
        "unable to roll out the appspec: `LoadBalancerInfo.ContainerName` is `{appspec}` but `spec.target.container` is `{target}`; make them agree or remove one"
    )]
    ContainerConflict {
        /// The appspec's container.
        appspec: String,
        /// The Deployment's.
        target: String,
    },
    /// `ContainerPort` and `spec.target.port` disagree.
    #[error(
        "unable to roll out the appspec: `LoadBalancerInfo.ContainerPort` is {appspec} but `spec.target.port` is {target}; make them agree or remove one"
    )]
    PortConflict {
        /// The appspec's port.
        appspec: i32,
        /// The Deployment's.
        target: i32,
    },
    /// A lifecycle event has a hook in both the appspec and `spec.hooks`.
    #[error("unable to roll out the appspec: `{}` has a hook both in the appspec's `Hooks` and in `spec.hooks`; keep one", event_name(*.0))]
    HookConflict(LifecycleEvent),
    /// A hook names a function that `spec.hookFunctions` does not have.
    #[error("unable to roll out the appspec: hook `{}` names function `{function}`, which is not in `spec.hookFunctions` ({})", event_name(*.event), available_names(.available))]
    UnknownHookFunction {
        /// The lifecycle event.
        event: LifecycleEvent,
        /// The function as written.
        function: String,
        /// The names `spec.hookFunctions` has.
        available: Vec<String>,
    },
    /// A hook's function name matches several `spec.hookFunctions` entries.
    #[error("unable to roll out the appspec: hook `{}` names function `{function}`, which matches several `spec.hookFunctions` entries ({}); name one exactly", event_name(*.event), listed(.candidates))]
    AmbiguousHookFunction {
        /// The lifecycle event.
        event: LifecycleEvent,
        /// The function as written.
        function: String,
        /// The entries it matches.
        candidates: Vec<String>,
    },
}

/// Maps a parsed appspec onto `template` (the Deployment's target, hooks and hook functions).
///
/// # Errors
/// Every reason it cannot be rolled out, not just the first: a Lambda appspec, placeholders,
/// an ARN, conflicts with `spec.target` or `spec.hooks`, unknown hook functions.
pub fn rollout_from_appspec(
    spec: &AppSpec,
    template: &DeploymentTemplate,
) -> Result<AppSpecRollout, Vec<MappingError>> {
    if let Some(rejected) = rejection(spec) {
        return Err(vec![MappingError::Rejected(rejected)]);
    }
    let AppSpec::Ecs(ecs) = spec else {
        unreachable!("every platform but ECS is rejected above");
    };
    let mut errors = Vec::new();
    let container = container(ecs, template, &mut errors);
    // A container already reported (placeholder, conflict) is not reported again as missing.
    let container_reported = !errors.is_empty();
    let port = port(ecs, template, &mut errors);
    let images = images(ecs, container.as_deref(), container_reported, &mut errors);
    let hooks = hooks(&ecs.hooks, template, &mut errors);
    if errors.is_empty() {
        Ok(AppSpecRollout {
            images,
            container,
            port,
            hooks,
        })
    } else {
        Err(errors)
    }
}

/// The traffic container: the appspec's, unless `spec.target.container` says otherwise.
fn container(
    ecs: &EcsAppSpec,
    template: &DeploymentTemplate,
    errors: &mut Vec<MappingError>,
) -> Option<String> {
    let target = template.target.container.clone();
    let Some(name) = &ecs.target_service.container_name else {
        return target;
    };
    let appspec = concrete(&name.value, "LoadBalancerInfo.ContainerName", errors)?;
    match target {
        Some(target) if target != appspec => {
            errors.push(MappingError::ContainerConflict { appspec, target });
            None
        }
        _ => Some(appspec),
    }
}

/// The traffic port: the appspec's, unless `spec.target.port` says otherwise.
fn port(
    ecs: &EcsAppSpec,
    template: &DeploymentTemplate,
    errors: &mut Vec<MappingError>,
) -> Option<i32> {
    let target = template.target.port;
    let Some(port) = &ecs.target_service.container_port else {
        return target;
    };
    let appspec = concrete(&port.value, "LoadBalancerInfo.ContainerPort", errors)?;
    match target {
        Some(target) if target != appspec => {
            errors.push(MappingError::PortConflict { appspec, target });
            None
        }
        _ => Some(appspec),
    }
}

/// The images `TaskDefinition` names.
fn images(
    ecs: &EcsAppSpec,
    container: Option<&str>,
    container_reported: bool,
    errors: &mut Vec<MappingError>,
) -> Vec<ContainerImage> {
    match &ecs.target_service.task_definition.value {
        TaskDefinition::Image(image) => match container {
            Some(container) => vec![ContainerImage {
                container: container.to_owned(),
                image: image.clone(),
            }],
            None => {
                if !container_reported {
                    errors.push(MappingError::NoContainerForImage);
                }
                Vec::new()
            }
        },
        TaskDefinition::Containers(containers) => {
            let defined: Vec<String> = containers.iter().map(|c| c.name.clone()).collect();
            if let Some(container) = container
                && !defined.iter().any(|name| name == container)
            {
                errors.push(MappingError::ContainerNotInTaskDefinition {
                    container: container.to_owned(),
                    defined,
                });
            }
            containers
                .iter()
                .filter_map(|definition| {
                    let field = format!("containerDefinitions[{}].image", definition.name);
                    let image = concrete(&definition.image, &field, errors)?;
                    Some(ContainerImage {
                        container: definition.name.clone(),
                        image,
                    })
                })
                .collect()
        }
        TaskDefinition::Arn(arn) => {
            errors.push(MappingError::TaskDefinitionArn(arn.clone()));
            Vec::new()
        }
        TaskDefinition::Placeholder(placeholder) => {
            errors.push(MappingError::UnresolvedPlaceholder {
                field: "TaskDefinition".to_owned(),
                placeholder: placeholder.clone(),
            });
            Vec::new()
        }
    }
}

/// The appspec's hooks, each resolved to its `spec.hookFunctions` entry, in lifecycle order.
fn hooks(
    references: &[HookReference],
    template: &DeploymentTemplate,
    errors: &mut Vec<MappingError>,
) -> Vec<ResolvedHook> {
    let mut resolved = Vec::with_capacity(references.len());
    for reference in references {
        if let Some(hooks) = &template.hooks
            && spec_hook(hooks, reference.event).is_some()
        {
            errors.push(MappingError::HookConflict(reference.event));
            continue;
        }
        match find_hook_function(reference, &template.hook_functions) {
            Ok(named) => resolved.push(ResolvedHook {
                event: reference.event,
                function: reference.function.clone(),
                hook_function: named.name.clone(),
                hook: named.hook.clone(),
            }),
            Err(error) => errors.push(error),
        }
    }
    resolved.sort_by_key(|hook| lifecycle_order(hook.event));
    resolved
}

/// The `spec.hookFunctions` entry a hook names: the entry of exactly that name, else the one
/// entry whose Lambda function name (the last part of an ARN) is the hook's function name.
/// Matching by function name lets an appspec keep ARNs with `<REGION>`/`<ACCOUNT_ID>`
/// placeholders, or real ARNs, while `spec.hookFunctions` uses plain names (or the reverse).
fn find_hook_function<'h>(
    reference: &HookReference,
    hook_functions: &'h [NamedHook],
) -> Result<&'h NamedHook, MappingError> {
    if let Some(exact) = hook_functions
        .iter()
        .find(|named| named.name == reference.function)
    {
        return Ok(exact);
    }
    let wanted = lambda_function_name(&reference.function);
    let candidates: Vec<&NamedHook> = hook_functions
        .iter()
        .filter(|named| lambda_function_name(&named.name) == wanted)
        .collect();
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => Err(MappingError::UnknownHookFunction {
            event: reference.event,
            function: reference.function.clone(),
            available: hook_functions
                .iter()
                .map(|named| named.name.clone())
                .collect(),
        }),
        several => Err(MappingError::AmbiguousHookFunction {
            event: reference.event,
            function: reference.function.clone(),
            candidates: several.iter().map(|named| named.name.clone()).collect(),
        }),
    }
}

/// A Lambda function's name: `NAME` of `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`,
/// or the text itself when it is not a Lambda function ARN.
pub fn lambda_function_name(text: &str) -> &str {
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", name, ..] if !name.is_empty() => name,
        _ => text,
    }
}

/// The hook `spec.hooks` sets for `event`, if any.
fn spec_hook(hooks: &LifecycleHooks, event: LifecycleEvent) -> Option<&Hook> {
    match event {
        LifecycleEvent::BeforeInstall => hooks.before_install.as_ref(),
        LifecycleEvent::AfterInstall => hooks.after_install.as_ref(),
        LifecycleEvent::AfterAllowTestTraffic => hooks.after_allow_test_traffic.as_ref(),
        LifecycleEvent::BeforeAllowTraffic => hooks.before_allow_traffic.as_ref(),
        LifecycleEvent::AfterAllowTraffic => hooks.after_allow_traffic.as_ref(),
        LifecycleEvent::Install
        | LifecycleEvent::AllowTestTraffic
        | LifecycleEvent::AllowTraffic => None,
    }
}

/// Where an event falls in a rollout (CodeDeploy's order).
fn lifecycle_order(event: LifecycleEvent) -> u8 {
    match event {
        LifecycleEvent::BeforeInstall => 0,
        LifecycleEvent::Install => 1,
        LifecycleEvent::AfterInstall => 2,
        LifecycleEvent::AllowTestTraffic => 3,
        LifecycleEvent::AfterAllowTestTraffic => 4,
        LifecycleEvent::BeforeAllowTraffic => 5,
        LifecycleEvent::AllowTraffic => 6,
        LifecycleEvent::AfterAllowTraffic => 7,
    }
}

/// The value, or an error naming `field` when it is still a placeholder.
fn concrete<T: Clone>(
    value: &Templated<T>,
    field: &str,
    errors: &mut Vec<MappingError>,
) -> Option<T> {
    match value {
        Templated::Value(value) => Some(value.clone()),
        Templated::Placeholder(placeholder) => {
            errors.push(MappingError::UnresolvedPlaceholder {
                field: field.to_owned(),
                placeholder: placeholder.clone(),
            });
            None
        }
    }
}

/// "the placeholder `<X>`, which Slipway does not replace", or the variable equivalent.
fn describe_placeholder(placeholder: &Placeholder) -> String {
    match placeholder.kind {
        PlaceholderKind::Template => format!(
            "the placeholder `{}`, which Slipway does not replace; replace it before the appspec reaches the Deployment",
            placeholder.text
        ),
        PlaceholderKind::PipelineVariable => format!(
            "the pipeline variable `{}`, which only a pipeline's deploy action substitutes",
            placeholder.text
        ),
    }
}

/// "`a`, `b`", or "none".
fn listed(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "available: `a`, `b`", or a note that there are none.
fn available_names(names: &[String]) -> String {
    if names.is_empty() {
        "`spec.hookFunctions` is empty".to_owned()
    } else {
        format!("available: {}", listed(names))
    }
}
