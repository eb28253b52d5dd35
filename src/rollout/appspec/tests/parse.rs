//! The parser: what it reads, what it warns about, and where it points.

use super::{diagnostics, ecs, ecs_yaml};
use crate::api::deployment::LifecycleEvent;
use crate::rollout::appspec::{
    AppSpec, AppSpecError, ComputePlatform, PlaceholderKind, TaskDefinition, Templated,
    parse_appspec,
};
use crate::yaml::Severity::{self, Error, Warning};

/// A diagnostic expected at (severity, line, column) whose message contains the fragment.
type Expected = (Severity, u32, u32, &'static str);

/// Checks every case's diagnostics, in order, against its expectations.
fn assert_diagnostics(cases: &[(&str, String, &[Expected])]) {
    for (name, text, expected) in cases {
        let found = diagnostics(text);
        let shown = format!("{name}: {found:#?}");
        assert_eq!(found.len(), expected.len(), "{shown}");
        for (found, (severity, line, column, fragment)) in found.iter().zip(expected.iter()) {
            assert_eq!(
                (found.0, found.1, found.2),
                (*severity, *line, *column),
                "{shown}"
            );
            assert!(found.3.contains(fragment), "`{fragment}` not in {shown}");
        }
    }
}

const IMAGE_AND_PORT: &str =
    "TaskDefinition: web:2\nLoadBalancerInfo:\n  ContainerName: web\n  ContainerPort: 8080";

#[test]
fn yaml_and_json_appspecs_read_to_the_same_model() {
    let yaml = ecs_yaml(IMAGE_AND_PORT, "Hooks:\n  - AfterInstall: smoke\n");
    let json = r#"{"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service",
        "Properties": {"TaskDefinition": "web:2",
        "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 8080}}}}],
        "Hooks": [{"AfterInstall": "smoke"}]}"#;
    let (from_yaml, from_json) = (ecs(&yaml), ecs(json));
    for spec in [&from_yaml, &from_json] {
        assert_eq!(spec.version.as_deref(), Some("0.0"));
        assert_eq!(spec.target_service.name, "TargetService");
        assert_eq!(
            spec.target_service.task_definition.value,
            TaskDefinition::Image("web:2".into())
        );
        let name = spec.target_service.container_name.as_ref().unwrap();
        assert_eq!(name.value, Templated::Value("web".to_owned()));
        let port = spec.target_service.container_port.as_ref().unwrap();
        assert_eq!(port.value, Templated::Value(8080));
        assert_eq!(spec.hooks.len(), 1);
        assert_eq!(spec.hooks[0].event, LifecycleEvent::AfterInstall);
        assert_eq!(spec.hooks[0].function, "smoke");
    }
    assert_eq!(
        from_yaml.target_service.container_port.unwrap().position,
        crate::yaml::Position {
            line: 9,
            column: 26
        }
    );
}

#[test]
fn version_is_optional_and_keys_match_in_any_case() {
    let lower = "resources:\n  - fn:\n      type: AWS::Lambda::Function\n      properties:\n        name: fn\n        alias: live\n        currentversion: 1\n        targetversion: \"2\"\nhooks:\n  - beforeAllowTraffic: check\n";
    let Ok(parsed) = parse_appspec(lower, "a.yml") else {
        panic!("the lowercase form of AWS's docs must parse");
    };
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let AppSpec::Lambda(lambda) = parsed.spec else {
        panic!("not Lambda");
    };
    assert_eq!(lambda.version, None);
    assert_eq!(
        (
            lambda.function_name.as_str(),
            lambda.alias.as_str(),
            lambda.current_version.as_str(),
            lambda.target_version.as_str()
        ),
        ("fn", "live", "1", "2")
    );
    assert_eq!(lambda.hooks[0].event, LifecycleEvent::BeforeAllowTraffic);
    assert_eq!(parsed_platform(lower), ComputePlatform::Lambda);
}

fn parsed_platform(text: &str) -> ComputePlatform {
    parse_appspec(text, "a.yml").unwrap().spec.platform()
}

#[test]
fn task_definition_forms_are_told_apart() {
    let cases = [
        (
            "TaskDefinition: registry.example.com/web@sha256:abc",
            TaskDefinition::Image("registry.example.com/web@sha256:abc".into()),
        ),
        (
            "TaskDefinition: \"arn:aws:ecs:us-east-1:1:task-definition/web:3\"",
            TaskDefinition::Arn("arn:aws:ecs:us-east-1:1:task-definition/web:3".into()),
        ),
        (
            "TaskDefinition: \"arn:aws:ecs:<REGION>:1:task-definition/web:3\"",
            TaskDefinition::Arn("arn:aws:ecs:<REGION>:1:task-definition/web:3".into()),
        ),
    ];
    for (properties, expected) in cases {
        let spec = ecs(&ecs_yaml(properties, ""));
        assert_eq!(
            spec.target_service.task_definition.value, expected,
            "{properties}"
        );
    }
    let placeholders = [
        (
            "TaskDefinition: <TASK_DEFINITION>",
            PlaceholderKind::Template,
        ),
        (
            "TaskDefinition: \"#{Build.ImageURI}\"",
            PlaceholderKind::PipelineVariable,
        ),
    ];
    for (properties, kind) in placeholders {
        let spec = ecs(&ecs_yaml(properties, ""));
        let TaskDefinition::Placeholder(placeholder) = spec.target_service.task_definition.value
        else {
            panic!("not a placeholder: {properties}");
        };
        assert_eq!(placeholder.kind, kind, "{properties}");
    }
    let inline = ecs(&ecs_yaml(
        "TaskDefinition:\n  family: web\n  containerDefinitions:\n    - name: web\n      image: web:2\n      cpu: 256\n    - name: sidecar\n      image: \"#{Build.SidecarURI}\"",
        "",
    ));
    let TaskDefinition::Containers(containers) = inline.target_service.task_definition.value else {
        panic!("not inline");
    };
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["web", "sidecar"]);
    assert_eq!(containers[0].image, Templated::Value("web:2".to_owned()));
    assert!(matches!(containers[1].image, Templated::Placeholder(_)));
}

#[test]
fn mistakes_in_an_ecs_appspec_are_located_with_a_fix() {
    assert_diagnostics(&[
        (
            "unsupported version",
            "version: 0.2\n".to_owned() + &ecs_yaml(IMAGE_AND_PORT, "")[13..],
            &[(Error, 1, 10, "unsupported appspec version `0.2`")],
        ),
        (
            "misspelt property",
            ecs_yaml(
                "TaskDefinition: web:2\nLoadBalancerInfo:\n  ContainerNmae: web",
                "",
            ),
            &[(
                Warning,
                8,
                11,
                "unknown key `ContainerNmae` in `Resources[0].TargetService.Properties.LoadBalancerInfo` is ignored; did you mean `ContainerName`?",
            )],
        ),
        (
            "unknown top-level key",
            ecs_yaml(IMAGE_AND_PORT, "Extra: 1\n"),
            &[(Warning, 10, 1, "unknown key `Extra` at the top level")],
        ),
        (
            "duplicate key in two cases",
            ecs_yaml("TaskDefinition: web:2\ntaskdefinition: web:3", ""),
            &[(
                Error,
                7,
                9,
                "duplicate key `taskdefinition` in `Resources[0].TargetService.Properties` (first at 6:9 as `TaskDefinition`)",
            )],
        ),
        (
            "missing task definition",
            ecs_yaml("PlatformVersion: LATEST", ""),
            &[(
                Error,
                5,
                7,
                "missing `Resources[0].TargetService.Properties.TaskDefinition`",
            )],
        ),
        (
            "port out of range",
            ecs_yaml(
                "TaskDefinition: web:2\nLoadBalancerInfo:\n  ContainerPort: 70000",
                "",
            ),
            &[(
                Error,
                8,
                26,
                "must be a port number from 1 to 65535, found `70000`",
            )],
        ),
        (
            "port is a word",
            ecs_yaml(
                "TaskDefinition: web:2\nLoadBalancerInfo:\n  ContainerPort: http",
                "",
            ),
            &[(Error, 8, 26, "found `http`")],
        ),
        (
            "template placeholders warn",
            ecs_yaml(
                "TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo:\n  ContainerPort: <PORT>",
                "",
            ),
            &[
                (
                    Warning,
                    6,
                    25,
                    "the placeholder `<TASK_DEFINITION>`, which Slipway does not replace",
                ),
                (Warning, 8, 26, "the placeholder `<PORT>`"),
            ],
        ),
        (
            "pipeline variables pass",
            ecs_yaml("TaskDefinition: \"#{Build.ImageURI}\"", ""),
            &[],
        ),
        (
            "an ECS ARN warns",
            ecs_yaml(
                "TaskDefinition: arn:aws:ecs:us-east-1:1:task-definition/web:3",
                "",
            ),
            &[(Warning, 6, 25, "Slipway has no ECS to read its images from")],
        ),
        (
            "inline definition without containers",
            ecs_yaml("TaskDefinition:\n  family: web", ""),
            &[(Error, 7, 11, "without `containerDefinitions`")],
        ),
        (
            "inline container without image",
            ecs_yaml(
                "TaskDefinition:\n  containerDefinitions:\n    - name: web",
                "",
            ),
            &[(
                Error,
                8,
                15,
                "missing `Resources[0].TargetService.Properties.TaskDefinition.containerDefinitions[0].image`",
            )],
        ),
        (
            "EC2 section in an ECS appspec",
            ecs_yaml(IMAGE_AND_PORT, "files:\n  - source: /\n"),
            &[(Warning, 10, 1, "`files` is an EC2/on-premises section")],
        ),
    ]);
}

#[test]
fn mistakes_in_resources_are_located_with_a_fix() {
    let head = "Resources:\n  - TargetService:\n";
    assert_diagnostics(&[
        ("no resources", "version: 0.0\nHooks: []\n".to_owned(), &[(Error, 1, 1, "missing `Resources`")]),
        ("empty resources", "Resources: []\n".to_owned(), &[(Error, 1, 1, "`Resources` is empty")]),
        ("two resources", format!("{head}      Type: AWS::ECS::Service\n      Properties: {{TaskDefinition: a:1}}\n  - Other:\n      Type: AWS::ECS::Service\n"), &[(Error, 5, 5, "`Resources` has 2 items")]),
        ("Type not indented under the resource", format!("{head}    Type: AWS::ECS::Service\n"), &[(Error, 3, 5, "`Resources[0]` holds 2 keys (TargetService, Type)")]),
        ("unknown Type", format!("{head}      Type: AWS::EC2::Instance\n      Properties: {{}}\n"), &[(Error, 3, 13, "must be `AWS::ECS::Service` or `AWS::Lambda::Function`, found `AWS::EC2::Instance`")]),
        ("missing Type is inferred", format!("{head}      Properties:\n        TaskDefinition: web:2\n"), &[(Warning, 2, 5, "missing `Resources[0].TargetService.Type`; read as `AWS::ECS::Service` because `Properties` has `TaskDefinition`")]),
        ("missing Properties", format!("{head}      Type: AWS::ECS::Service\n"), &[(Error, 2, 5, "missing `Resources[0].TargetService.Properties`")]),
        ("Lambda without TargetVersion", "Resources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties: {Name: fn, Alias: live, CurrentVersion: 1}\n".to_owned(), &[(Error, 4, 7, "missing `Resources[0].fn.Properties.TargetVersion`")]),
    ]);
}

#[test]
fn hooks_are_checked_against_the_platforms_events() {
    let lambda = "Resources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties: {Name: fn, Alias: live, CurrentVersion: 1, TargetVersion: 2}\n";
    assert_diagnostics(&[
        (
            "all five ECS events",
            ecs_yaml(
                IMAGE_AND_PORT,
                "Hooks:\n  - BeforeInstall: a\n  - AfterInstall: b\n  - AfterAllowTestTraffic: c\n  - BeforeAllowTraffic: d\n  - AfterAllowTraffic: e\n",
            ),
            &[],
        ),
        ("null hooks", ecs_yaml(IMAGE_AND_PORT, "Hooks:\n"), &[]),
        (
            "EC2 event in ECS",
            ecs_yaml(IMAGE_AND_PORT, "Hooks:\n  - ValidateService: a\n"),
            &[(
                Error,
                11,
                5,
                "`ValidateService` is not a lifecycle event an ECS appspec can hook (`ValidateService` is an EC2/on-premises event); the allowed ones are `BeforeInstall`, `AfterInstall`, `AfterAllowTestTraffic`, `BeforeAllowTraffic`, `AfterAllowTraffic`",
            )],
        ),
        (
            "misspelt event",
            ecs_yaml(IMAGE_AND_PORT, "Hooks:\n  - AfterInstal: a\n"),
            &[(Error, 11, 5, "`AfterInstal` is not a lifecycle event")],
        ),
        (
            "install event in Lambda",
            format!("{lambda}Hooks:\n  - BeforeInstall: a\n"),
            &[(
                Error,
                6,
                5,
                "`BeforeInstall` is not a lifecycle event a Lambda appspec can hook; the allowed ones are `BeforeAllowTraffic`, `AfterAllowTraffic`",
            )],
        ),
        (
            "one function per event",
            ecs_yaml(
                IMAGE_AND_PORT,
                "Hooks:\n  - AfterInstall: a\n  - AfterInstall: b\n",
            ),
            &[(
                Error,
                12,
                5,
                "a second `AfterInstall` hook (the first is at 11:5)",
            )],
        ),
        (
            "hooks as a mapping",
            ecs_yaml(IMAGE_AND_PORT, "Hooks:\n  AfterInstall: a\n"),
            &[(
                Error,
                11,
                3,
                "found a mapping (a mapping of scripts per event is the EC2/on-premises form)",
            )],
        ),
        (
            "hook without function",
            ecs_yaml(IMAGE_AND_PORT, "Hooks:\n  - AfterInstall:\n"),
            &[(Error, 11, 5, "`Hooks[0].AfterInstall` names no function")],
        ),
        (
            "EC2-style hook item",
            ecs_yaml(
                IMAGE_AND_PORT,
                "Hooks:\n  - AfterInstall:\n      - location: x.sh\n",
            ),
            &[(
                Error,
                12,
                7,
                "`Hooks[0].AfterInstall` must be a single value, found a list",
            )],
        ),
        (
            "placeholder as function name",
            ecs_yaml(
                IMAGE_AND_PORT,
                "Hooks:\n  - AfterInstall: \"arn:aws:lambda:us-east-1:1:function:<FN>\"\n",
            ),
            &[(Warning, 11, 19, "is the placeholder `<FN>`")],
        ),
        (
            "placeholders around a function name pass",
            ecs_yaml(
                IMAGE_AND_PORT,
                "Hooks:\n  - AfterInstall: \"arn:aws:lambda:<REGION>:<ACCOUNT_ID>:function:smoke\"\n",
            ),
            &[],
        ),
    ]);
}

#[test]
fn ec2_appspecs_are_rejected_with_one_error_saying_why() {
    let cases = [
        (
            "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /srv\n",
            (2, 1),
            "(`os: linux`, `files`)",
        ),
        (
            "hooks:\n  ApplicationStart:\n    - location: start.sh\n",
            (1, 1),
            "(`hooks` with scripts at ApplicationStart)",
        ),
        (
            "version: 0.0\r\nos: windows\r\nfiles:\r\n  - source: \\index.html\r\n    destination: C:\\inetpub\r\n",
            (2, 1),
            "`os: windows`",
        ),
    ];
    for (text, (line, column), fragment) in cases {
        let Err(AppSpecError::Rejected { rejection, .. }) = parse_appspec(text, "a.yml") else {
            panic!("must be rejected: {text:?}");
        };
        assert_eq!(rejection.platform, ComputePlatform::Ec2OnPremises);
        assert_eq!(
            (rejection.position.line, rejection.position.column),
            (line, column)
        );
        assert!(
            rejection.message.contains(fragment),
            "{}",
            rejection.message
        );
        assert!(
            rejection
                .message
                .contains("Slipway rolls out container images")
        );
        assert!(
            rejection.fix.contains("TaskDefinition"),
            "{}",
            rejection.fix
        );
    }
}

#[test]
fn unusable_documents_are_errors_at_their_start() {
    assert_diagnostics(&[
        (
            "empty",
            String::new(),
            &[(Error, 1, 1, "the appspec is empty")],
        ),
        (
            "a list",
            "- a\n".to_owned(),
            &[(Error, 1, 1, "an appspec must be a mapping of keys")],
        ),
        (
            "broken JSON",
            "{\"version\": 0.0,\n \"Resources\": [\n}\n".to_owned(),
            &[(Error, 2, 15, "invalid YAML: mismatched bracket")],
        ),
    ]);
}
