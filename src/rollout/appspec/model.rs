//! The typed appspec: what the parser produces and the mapping reads. Nothing downstream of the
//! parser sees YAML.

use std::fmt;

use crate::api::deployment::LifecycleEvent;
use crate::yaml::Position;

/// A value and where it is written (the start of the value, 1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where it is written.
    pub position: Position,
}

/// An appspec Slipway reads: ECS or Lambda (EC2/on-premises appspecs are rejected by the parser).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppSpec {
    /// An ECS service deployment: a task definition rolled out behind a load balancer.
    Ecs(EcsAppSpec),
    /// A Lambda alias shifted from one function version to another.
    Lambda(LambdaAppSpec),
}

impl AppSpec {
    /// The compute platform the appspec is written for.
    pub fn platform(&self) -> ComputePlatform {
        match self {
            AppSpec::Ecs(_) => ComputePlatform::Ecs,
            AppSpec::Lambda(_) => ComputePlatform::Lambda,
        }
    }

    /// The lifecycle hooks, in file order.
    pub fn hooks(&self) -> &[HookReference] {
        match self {
            AppSpec::Ecs(spec) => &spec.hooks,
            AppSpec::Lambda(spec) => &spec.hooks,
        }
    }
}

/// CodeDeploy's compute platforms, as an appspec reveals them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComputePlatform {
    /// Amazon ECS (`AWS::ECS::Service`).
    Ecs,
    /// AWS Lambda (`AWS::Lambda::Function`).
    Lambda,
    /// EC2 instances or on-premises servers (`os`, `files`, `permissions`, script hooks).
    Ec2OnPremises,
}

impl ComputePlatform {
    /// The lifecycle events an appspec for this platform may hook, in the order they run.
    pub fn hookable_events(self) -> &'static [LifecycleEvent] {
        match self {
            ComputePlatform::Ecs => &[
                LifecycleEvent::BeforeInstall,
                LifecycleEvent::AfterInstall,
                LifecycleEvent::AfterAllowTestTraffic,
                LifecycleEvent::BeforeAllowTraffic,
                LifecycleEvent::AfterAllowTraffic,
            ],
            ComputePlatform::Lambda => &[
                LifecycleEvent::BeforeAllowTraffic,
                LifecycleEvent::AfterAllowTraffic,
            ],
            // Its events (ApplicationStop, ValidateService, …) have no Slipway equivalent.
            ComputePlatform::Ec2OnPremises => &[],
        }
    }
}

impl fmt::Display for ComputePlatform {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            ComputePlatform::Ecs => "ECS",
            ComputePlatform::Lambda => "Lambda",
            ComputePlatform::Ec2OnPremises => "EC2/on-prem",
        })
    }
}

/// The appspec spelling of a lifecycle event (the same as Slipway's).
pub fn event_name(event: LifecycleEvent) -> &'static str {
    match event {
        LifecycleEvent::BeforeInstall => "BeforeInstall",
        LifecycleEvent::Install => "Install",
        LifecycleEvent::AfterInstall => "AfterInstall",
        LifecycleEvent::AllowTestTraffic => "AllowTestTraffic",
        LifecycleEvent::AfterAllowTestTraffic => "AfterAllowTestTraffic",
        LifecycleEvent::BeforeAllowTraffic => "BeforeAllowTraffic",
        LifecycleEvent::AllowTraffic => "AllowTraffic",
        LifecycleEvent::AfterAllowTraffic => "AfterAllowTraffic",
    }
}

/// An ECS appspec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EcsAppSpec {
    /// `version` as written (`0.0`), when present.
    pub version: Option<String>,
    /// The one `AWS::ECS::Service` resource.
    pub target_service: TargetService,
    /// `Hooks`: one Lambda function (name or ARN) per lifecycle event, in file order.
    pub hooks: Vec<HookReference>,
}

/// The `TargetService` resource of an ECS appspec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetService {
    /// The resource's key (conventionally `TargetService`).
    pub name: String,
    /// `Properties.TaskDefinition`: what carries the image(s).
    pub task_definition: Located<TaskDefinition>,
    /// `LoadBalancerInfo.ContainerName`: the container that serves traffic.
    pub container_name: Option<Located<Templated<String>>>,
    /// `LoadBalancerInfo.ContainerPort`: the port traffic is routed to.
    pub container_port: Option<Located<Templated<i32>>>,
    /// `PlatformVersion` (Fargate's; no meaning on Kubernetes).
    pub platform_version: Option<String>,
    /// `NetworkConfiguration.AwsvpcConfiguration` (no meaning on Kubernetes).
    pub network_configuration: Option<NetworkConfiguration>,
    /// `CapacityProviderStrategy` (no meaning on Kubernetes).
    pub capacity_provider_strategy: Vec<CapacityProviderItem>,
}

/// What `TaskDefinition` holds. See the module docs of [`super`] for how each form is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskDefinition {
    /// An image reference (`registry/app@sha256:…`, `app:1.2`): the target container's image.
    Image(String),
    /// An inline task definition (`containerDefinitions` with `name` and `image`).
    Containers(Vec<TaskContainer>),
    /// An ECS task-definition ARN: Slipway has no ECS to read its images from.
    Arn(String),
    /// A value still to be substituted (`<TASK_DEFINITION>`, `#{Build.ImageURI}`).
    Placeholder(Placeholder),
}

/// A container of an inline task definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskContainer {
    /// `name`: the container's name in the workload's pod template.
    pub name: String,
    /// `image`: its new image.
    pub image: Templated<String>,
    /// Where the container definition starts.
    pub position: Position,
}

/// A value, or a placeholder standing where the value will go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Templated<T> {
    /// A concrete value.
    Value(T),
    /// A placeholder to be replaced before the appspec is rolled out.
    Placeholder(Placeholder),
}

/// A placeholder in a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder {
    /// The whole value as written.
    pub text: String,
    /// Who is expected to replace it.
    pub kind: PlaceholderKind,
}

/// Who replaces a placeholder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaceholderKind {
    /// A Slipway pipeline variable (`#{Build.ImageURI}`): the pipeline's deploy action
    /// substitutes it before it creates the Deployment.
    PipelineVariable,
    /// A template marker (`<TASK_DEFINITION>`, `<CONTAINER_NAME>`): replaced by the author's own
    /// tooling (CodePipeline, `sed`); Slipway does not replace it.
    Template,
}

impl Placeholder {
    /// The placeholder in `text`, if it holds one; a template marker wins over a variable, since
    /// it is the one Slipway never replaces.
    pub fn find(text: &str) -> Option<Placeholder> {
        let kind = if has_template_marker(text) {
            PlaceholderKind::Template
        } else if text.contains("#{") && text.contains('}') {
            PlaceholderKind::PipelineVariable
        } else {
            return None;
        };
        Some(Placeholder {
            text: text.to_owned(),
            kind,
        })
    }
}

/// Whether `text` holds `<NAME>`: a `<`, then at least one character that is neither space nor
/// angle bracket, then `>`.
fn has_template_marker(text: &str) -> bool {
    text.split('<').skip(1).any(|after| {
        after
            .find('>')
            .is_some_and(|end| end > 0 && !after[..end].contains(char::is_whitespace))
    })
}

/// `NetworkConfiguration.AwsvpcConfiguration`, kept as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkConfiguration {
    /// `Subnets`.
    pub subnets: Vec<String>,
    /// `SecurityGroups`.
    pub security_groups: Vec<String>,
    /// `AssignPublicIp` (`ENABLED` or `DISABLED`).
    pub assign_public_ip: Option<String>,
}

/// One entry of `CapacityProviderStrategy`, kept as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CapacityProviderItem {
    /// `CapacityProvider` (`FARGATE`, `FARGATE_SPOT`, a provider name).
    pub capacity_provider: Option<String>,
    /// `Base`.
    pub base: Option<String>,
    /// `Weight`.
    pub weight: Option<String>,
}

/// A Lambda appspec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LambdaAppSpec {
    /// `version` as written (`0.0`), when present.
    pub version: Option<String>,
    /// The resource's key (often the function's name).
    pub resource: Located<String>,
    /// `Name`: the function.
    pub function_name: String,
    /// `Alias`: the alias whose traffic shifts.
    pub alias: String,
    /// `CurrentVersion`: the version the alias points to now.
    pub current_version: String,
    /// `TargetVersion`: the version traffic shifts to.
    pub target_version: String,
    /// `Hooks`: `BeforeAllowTraffic` and `AfterAllowTraffic` functions, in file order.
    pub hooks: Vec<HookReference>,
}

/// One entry of `Hooks`: a lifecycle event and the Lambda function (name or ARN) that runs at it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookReference {
    /// The lifecycle event.
    pub event: LifecycleEvent,
    /// The function as written: a name, or an ARN `arn:aws:lambda:…:function:NAME`.
    pub function: String,
    /// Where the event's key is written.
    pub position: Position,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_told_apart_from_values() {
        let cases = [
            ("<TASK_DEFINITION>", Some(PlaceholderKind::Template)),
            (
                "arn:aws:lambda:<REGION>:1:function:x",
                Some(PlaceholderKind::Template),
            ),
            ("#{Build.ImageURI}", Some(PlaceholderKind::PipelineVariable)),
            (
                "repo/app:#{Source.CommitId}",
                Some(PlaceholderKind::PipelineVariable),
            ),
            ("<A> and #{B.C}", Some(PlaceholderKind::Template)),
            ("nginx:1.27", None),
            ("a < b > c", None),
            ("<>", None),
            ("80", None),
        ];
        for (text, expected) in cases {
            assert_eq!(
                Placeholder::find(text).map(|placeholder| placeholder.kind),
                expected,
                "for {text:?}"
            );
        }
    }

    #[test]
    fn lambda_hooks_are_the_traffic_events_only() {
        let names: Vec<&str> = ComputePlatform::Lambda
            .hookable_events()
            .iter()
            .map(|event| event_name(*event))
            .collect();
        assert_eq!(names, ["BeforeAllowTraffic", "AfterAllowTraffic"]);
        assert_eq!(ComputePlatform::Ecs.hookable_events().len(), 5);
    }
}
