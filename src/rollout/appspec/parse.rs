//! YAML tree → [`AppSpec`]: the top level of the walk (platform, `version`, `Hooks`).
//!
//! The platform is settled first, because it decides everything else: a file with `Resources`
//! is ECS or Lambda by its resource's `Type`; a file without `Resources` but with EC2/on-premises
//! sections (`os`, `files`, `permissions`, script hooks) is rejected as a whole, with one
//! diagnostic saying why, rather than a dozen about keys an ECS appspec does not have.

use crate::api::deployment::LifecycleEvent;
use crate::yaml::diagnostics::Position;
use crate::yaml::suggest::closest_key;
use crate::yaml::tree::{Node, NodeKind};

use super::model::{
    AppSpec, ComputePlatform, EcsAppSpec, HookReference, LambdaAppSpec, Placeholder,
    PlaceholderKind, event_name,
};
use super::platform::{self, EC2_ONLY_KEYS, Rejection};
use super::resources::{self, Resource};
use super::walk::{Entry, Fields, Walker, is_known, quoted_list};

/// The top-level keys of an ECS or Lambda appspec.
const TOP_LEVEL_KEYS: &[&str] = &["version", "Resources", "Hooks"];

/// What walking a document gave.
pub(crate) enum Walked {
    /// An ECS or Lambda appspec (valid unless errors were recorded); boxed, as it is large.
    Spec(Box<AppSpec>),
    /// An appspec for a platform Slipway does not run (EC2/on-premises).
    Rejected(Rejection),
    /// Nothing usable; errors were recorded.
    Invalid,
}

/// Walks a loaded document, recording diagnostics on the way.
pub(crate) fn document(root: &Node, walker: &mut Walker) -> Walked {
    if !matches!(root.kind, NodeKind::Mapping(_)) {
        walker.diagnostics.error(
            root.position,
            format!(
                "an appspec must be a mapping of keys (`version`, `Resources`, `Hooks`), found {}",
                root.kind.describe()
            ),
            "start the file with `version: 0.0` followed by `Resources:`",
        );
        return Walked::Invalid;
    }
    let Some(fields) = walker.entries(root, "") else {
        return Walked::Invalid;
    };
    if fields.get("Resources").is_none()
        && let Some(rejection) = platform::ec2_rejection(&fields)
    {
        return Walked::Rejected(rejection);
    }
    top_level_keys(walker, &fields);
    let version = version(walker, &fields);
    let Some(resources) = fields.entry("Resources") else {
        walker.diagnostics.error(
            Position::START,
            "missing `Resources`: an appspec names the ECS service (or Lambda function) it deploys",
            "add `Resources:` with one `- TargetService:` item whose `Properties` hold `TaskDefinition` and `LoadBalancerInfo`",
        );
        return Walked::Invalid;
    };
    let resource = resources::resource(walker, resources);
    let platform = match &resource {
        Some(Resource::Lambda(_)) => ComputePlatform::Lambda,
        _ => ComputePlatform::Ecs,
    };
    let hooks = fields
        .entry("Hooks")
        .map(|entry| hooks(walker, entry, platform))
        .unwrap_or_default();
    match resource {
        Some(Resource::Ecs(target_service)) => Walked::Spec(Box::new(AppSpec::Ecs(EcsAppSpec {
            version,
            target_service,
            hooks,
        }))),
        Some(Resource::Lambda(function)) => {
            Walked::Spec(Box::new(AppSpec::Lambda(LambdaAppSpec {
                version,
                resource: function.resource,
                function_name: function.name,
                alias: function.alias,
                current_version: function.current_version,
                target_version: function.target_version,
                hooks,
            })))
        }
        None => Walked::Invalid,
    }
}

/// Warns about unknown top-level keys, and about EC2/on-premises sections in an ECS or Lambda
/// appspec (which CodeDeploy ignores there too).
fn top_level_keys(walker: &mut Walker, fields: &Fields) {
    for entry in fields.all() {
        if is_known(entry.name, TOP_LEVEL_KEYS) {
            continue;
        }
        if is_known(entry.name, EC2_ONLY_KEYS) {
            walker.diagnostics.warning(
                entry.key.position,
                format!(
                    "`{}` is an EC2/on-premises section; an ECS or Lambda appspec does not copy files onto hosts, so it is ignored",
                    entry.name
                ),
                format!("remove `{}`", entry.name),
            );
            continue;
        }
        walker.unknown_key(entry.key.position, entry.name, "", TOP_LEVEL_KEYS);
    }
}

/// `version`: optional; `0.0` when present (CodeDeploy has no other).
fn version(walker: &mut Walker, fields: &Fields) -> Option<String> {
    let node = fields.get("version")?;
    match walker.text(node, "version") {
        Some(text) if text == "0.0" => Some(text),
        Some(other) => {
            walker.diagnostics.error(
                node.position,
                format!(
                    "unsupported appspec version `{other}`; CodeDeploy's appspec version is 0.0"
                ),
                "write `version: 0.0`, or leave `version` out",
            );
            None
        }
        None => {
            if node.kind == NodeKind::Null {
                walker.diagnostics.error(
                    node.position,
                    "`version` has no value",
                    "write `version: 0.0`, or leave `version` out",
                );
            }
            None
        }
    }
}

/// Lifecycle events only EC2/on-premises deployments have (`Install` and `AllowTraffic` exist on
/// ECS too, but cannot be hooked there).
const EC2_ONLY_EVENTS: &[&str] = &[
    "ApplicationStop",
    "DownloadBundle",
    "Install",
    "ApplicationStart",
    "ValidateService",
    "BeforeBlockTraffic",
    "BlockTraffic",
    "AfterBlockTraffic",
    "AllowTraffic",
];

/// Whether `name` is an EC2/on-premises lifecycle event (in any case).
pub(crate) fn is_ec2_event(name: &str) -> bool {
    is_known(name, EC2_ONLY_EVENTS)
}

/// `Hooks`: a list of `- EVENT: function` items, each event at most once.
fn hooks(walker: &mut Walker, entry: Entry, platform: ComputePlatform) -> Vec<HookReference> {
    let allowed = platform.hookable_events();
    let names: Vec<&str> = allowed.iter().map(|event| event_name(*event)).collect();
    if matches!(entry.value.kind, NodeKind::Mapping(_)) {
        walker.diagnostics.error(
            entry.value.position,
            "`Hooks` must be a list of `- EVENT: function` items, found a mapping (a mapping of scripts per event is the EC2/on-premises form)",
            format!("write each hook as a list item, e.g. `- {}: my-hook-function`", names[0]),
        );
        return Vec::new();
    }
    let fix = format!(
        "write each hook as a list item, e.g. `- {}: my-hook-function`",
        names[0]
    );
    let Some(items) = walker.list(entry.value, "Hooks", &fix) else {
        return Vec::new();
    };
    let mut hooks: Vec<HookReference> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("Hooks[{index}]");
        if !matches!(item.kind, NodeKind::Mapping(_)) {
            walker.diagnostics.error(
                item.position,
                format!(
                    "`{path}` must be `EVENT: function`, found {}",
                    item.kind.describe()
                ),
                fix.as_str(),
            );
            continue;
        }
        let Some(fields) = walker.entries(item, &path) else {
            continue;
        };
        for hook in fields.all() {
            let Some(event) = hook_event(walker, *hook, platform, &names) else {
                continue;
            };
            let Some(function) = hook_function(walker, *hook, &path) else {
                continue;
            };
            if let Some(first) = hooks.iter().find(|seen| seen.event == event) {
                walker.diagnostics.error(
                    hook.key.position,
                    format!(
                        "a second `{}` hook (the first is at {}); CodeDeploy runs one function per lifecycle event",
                        event_name(event),
                        first.position
                    ),
                    "keep one of them, or call the second check from the first function",
                );
                continue;
            }
            hooks.push(HookReference {
                event,
                function,
                position: hook.key.position,
            });
        }
    }
    hooks
}

/// The lifecycle event a hook key names, if `platform` lets it be hooked.
fn hook_event(
    walker: &mut Walker,
    hook: Entry,
    platform: ComputePlatform,
    names: &[&str],
) -> Option<LifecycleEvent> {
    let allowed = platform.hookable_events();
    if let Some(event) = allowed
        .iter()
        .find(|event| event_name(**event).eq_ignore_ascii_case(hook.name))
    {
        return Some(*event);
    }
    let why = if is_ec2_event(hook.name) {
        format!(" (`{}` is an EC2/on-premises event)", hook.name)
    } else {
        String::new()
    };
    let fix = match closest_key(hook.name, names) {
        Some(suggestion) => format!("rename `{}` to `{suggestion}`", hook.name),
        None => format!("use one of {}", quoted_list(names)),
    };
    walker.diagnostics.error(
        hook.key.position,
        format!(
            "`{}` is not a lifecycle event a{} {platform} appspec can hook{why}; the allowed ones are {}",
            hook.name,
            if platform == ComputePlatform::Ecs { "n" } else { "" },
            quoted_list(names)
        ),
        fix,
    );
    None
}

/// The function a hook names: a non-empty name or ARN. Warns when the function's own name is a
/// template placeholder, since that can never match `spec.hookFunctions`.
fn hook_function(walker: &mut Walker, hook: Entry, path: &str) -> Option<String> {
    let full = format!("{path}.{}", hook.name);
    let fix = format!(
        "write the Lambda function's name or ARN after `{}:`; Slipway runs the hook of that name in `spec.hookFunctions`",
        hook.name
    );
    let function = match walker.text(hook.value, &full) {
        Some(text) if !text.trim().is_empty() => text,
        Some(_) => {
            walker
                .diagnostics
                .error(hook.value.position, format!("`{full}` is empty"), fix);
            return None;
        }
        None => {
            if hook.value.kind == NodeKind::Null {
                walker.diagnostics.error(
                    hook.key.position,
                    format!("`{full}` names no function"),
                    fix,
                );
            }
            return None;
        }
    };
    let name = super::mapping::lambda_function_name(&function);
    if let Some(placeholder) = Placeholder::find(name)
        && placeholder.kind == PlaceholderKind::Template
    {
        walker.diagnostics.warning(
            hook.value.position,
            format!(
                "the function of `{full}` is the placeholder `{name}`, which Slipway does not replace"
            ),
            "replace it with the hook's name in `spec.hookFunctions` before rolling the appspec out",
        );
    }
    Some(function)
}
