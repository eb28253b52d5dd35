//! The mapping: an appspec onto a Deployment's target, hooks and hook functions.

use serde_json::json;

use super::ecs_yaml;
use crate::api::deployment::{ContainerImage, DeploymentTemplate, LifecycleEvent};
use crate::rollout::appspec::{
    AppSpecRollout, MappingError, RevisionError, lambda_function_name, parse_appspec,
    rollout_from_appspec, rollout_from_revision,
};

/// A Deployment template from JSON, with the target's required fields filled in.
fn template(extra: serde_json::Value) -> DeploymentTemplate {
    let mut value = json!({
        "target": {"service": "web", "workload": "web"},
        "revision": {"appSpec": "unused"}
    });
    merge(&mut value, extra);
    serde_json::from_value(value).expect("a valid Deployment template")
}

/// Merges `extra` into `base`, object by object.
fn merge(base: &mut serde_json::Value, extra: serde_json::Value) {
    match (base, extra) {
        (serde_json::Value::Object(base), serde_json::Value::Object(extra)) => {
            for (key, value) in extra {
                merge(base.entry(key).or_insert(serde_json::Value::Null), value);
            }
        }
        (base, extra) => *base = extra,
    }
}

/// A hook function entry named `name` (an HTTP hook).
fn hook_function(name: &str) -> serde_json::Value {
    json!({"name": name, "http": {"url": format!("http://hooks.local/{name}")}})
}

/// Maps appspec `text` onto `template`.
fn map(text: &str, template: &DeploymentTemplate) -> Result<AppSpecRollout, Vec<MappingError>> {
    let parsed = parse_appspec(text, "appspec.yaml").expect("the appspec parses");
    rollout_from_appspec(&parsed.spec, template)
}

/// The error messages of a mapping that must fail.
fn errors(text: &str, template: &DeploymentTemplate) -> Vec<String> {
    match map(text, template) {
        Ok(rollout) => panic!("must not map: {rollout:?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

const LOAD_BALANCED: &str = "LoadBalancerInfo:\n  ContainerName: web\n  ContainerPort: 8080";

#[test]
fn an_image_task_definition_becomes_the_traffic_containers_image() {
    let text = ecs_yaml(
        &format!("TaskDefinition: repo/web@sha256:ab\n{LOAD_BALANCED}"),
        "",
    );
    let rollout = map(&text, &template(json!({}))).unwrap();
    assert_eq!(
        rollout,
        AppSpecRollout {
            images: vec![ContainerImage {
                container: "web".into(),
                image: "repo/web@sha256:ab".into()
            }],
            container: Some("web".into()),
            port: Some(8080),
            hooks: vec![],
        }
    );
}

#[test]
fn the_targets_container_and_port_fill_in_what_the_appspec_leaves_out() {
    let text = ecs_yaml("TaskDefinition: web:2", "");
    let target = template(json!({"target": {"container": "app", "port": 9000}}));
    let rollout = map(&text, &target).unwrap();
    assert_eq!(rollout.images[0].container, "app");
    assert_eq!(
        (rollout.container.as_deref(), rollout.port),
        (Some("app"), Some(9000))
    );
    // Agreeing values are no conflict.
    let agreeing = template(json!({"target": {"container": "web", "port": 8080}}));
    let text = ecs_yaml(&format!("TaskDefinition: web:2\n{LOAD_BALANCED}"), "");
    assert!(map(&text, &agreeing).is_ok());
}

#[test]
fn an_inline_task_definition_sets_each_containers_image() {
    let text = ecs_yaml(
        &format!(
            "TaskDefinition:\n  containerDefinitions:\n    - {{name: web, image: web:2}}\n    - {{name: proxy, image: envoy:1.30}}\n{LOAD_BALANCED}"
        ),
        "",
    );
    let rollout = map(&text, &template(json!({}))).unwrap();
    let images: Vec<(&str, &str)> = rollout
        .images
        .iter()
        .map(|image| (image.container.as_str(), image.image.as_str()))
        .collect();
    assert_eq!(images, [("web", "web:2"), ("proxy", "envoy:1.30")]);
}

#[test]
fn what_cannot_be_rolled_out_is_reported_all_at_once() {
    let cases: Vec<(&str, String, DeploymentTemplate, Vec<&str>)> = vec![
        ("no container for one image", ecs_yaml("TaskDefinition: web:2", ""), template(json!({})),
            vec!["names one image but no container to put it in"]),
        ("container and port conflict", ecs_yaml(&format!("TaskDefinition: web:2\n{LOAD_BALANCED}"), ""),
            template(json!({"target": {"container": "api", "port": 80}})),
            vec!["`LoadBalancerInfo.ContainerName` is `web` but `spec.target.container` is `api`", "`LoadBalancerInfo.ContainerPort` is 8080 but `spec.target.port` is 80"]),
        ("template placeholders", ecs_yaml("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo:\n  ContainerName: <CONTAINER_NAME>", ""), template(json!({})),
            vec!["`LoadBalancerInfo.ContainerName` still holds the placeholder `<CONTAINER_NAME>`, which Slipway does not replace", "`TaskDefinition` still holds the placeholder `<TASK_DEFINITION>`"]),
        ("pipeline variable outside a pipeline", ecs_yaml(&format!("TaskDefinition: \"#{{Build.ImageURI}}\"\n{LOAD_BALANCED}"), ""), template(json!({})),
            vec!["`TaskDefinition` still holds the pipeline variable `#{Build.ImageURI}`, which only a pipeline's deploy action substitutes"]),
        ("an ECS ARN", ecs_yaml(&format!("TaskDefinition: arn:aws:ecs:us-east-1:1:task-definition/web:3\n{LOAD_BALANCED}"), ""), template(json!({})),
            vec!["`TaskDefinition` is the ECS task definition `arn:aws:ecs:us-east-1:1:task-definition/web:3`, and Slipway has no ECS to read its images from"]),
        ("traffic container missing from the inline definition", ecs_yaml(&format!("TaskDefinition:\n  containerDefinitions: [{{name: api, image: api:2}}]\n{LOAD_BALANCED}"), ""), template(json!({})),
            vec!["container `web` serves traffic but the inline task definition defines only `api`"]),
        ("a Lambda appspec", "Resources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties: {Name: fn, Alias: live, CurrentVersion: 1, TargetVersion: 2}\n".to_owned(), template(json!({})),
            vec!["this is a Lambda appspec: it moves alias `live` of function `fn` from version 1 to 2"]),
    ];
    for (name, text, template, expected) in cases {
        let found = errors(&text, &template);
        assert_eq!(found.len(), expected.len(), "{name}: {found:#?}");
        for (found, fragment) in found.iter().zip(expected) {
            assert!(
                found.contains(fragment),
                "{name}: `{fragment}` not in {found}"
            );
        }
    }
}

#[test]
fn hooks_run_the_hook_functions_they_name_in_lifecycle_order() {
    let text = ecs_yaml(
        &format!("TaskDefinition: web:2\n{LOAD_BALANCED}"),
        "Hooks:\n  - AfterAllowTraffic: after\n  - BeforeInstall: \"arn:aws:lambda:<REGION>:<ACCOUNT_ID>:function:before:live\"\n  - AfterInstall: arn:aws:lambda:us-east-1:1:function:smoke\n",
    );
    let target = template(json!({"hookFunctions": [
        hook_function("after"),
        hook_function("before"),
        hook_function("arn:aws:lambda:eu-west-1:2:function:smoke"),
    ]}));
    let rollout = map(&text, &target).unwrap();
    let hooks: Vec<(LifecycleEvent, &str)> = rollout
        .hooks
        .iter()
        .map(|hook| (hook.event, hook.hook_function.as_str()))
        .collect();
    assert_eq!(
        hooks,
        [
            (LifecycleEvent::BeforeInstall, "before"),
            (
                LifecycleEvent::AfterInstall,
                "arn:aws:lambda:eu-west-1:2:function:smoke"
            ),
            (LifecycleEvent::AfterAllowTraffic, "after"),
        ]
    );
    assert_eq!(
        rollout.hooks[0].hook.http.as_ref().unwrap().url,
        "http://hooks.local/before"
    );
}

#[test]
fn hooks_that_match_no_single_hook_function_are_errors_naming_them() {
    let text = ecs_yaml(
        &format!("TaskDefinition: web:2\n{LOAD_BALANCED}"),
        "Hooks:\n  - BeforeInstall: missing\n  - AfterInstall: smoke\n  - AfterAllowTraffic: after\n",
    );
    let target = template(json!({
        "hookFunctions": [
            hook_function("arn:aws:lambda:us-east-1:1:function:smoke"),
            hook_function("arn:aws:lambda:eu-west-1:1:function:smoke"),
            hook_function("after"),
        ],
        "hooks": {"afterAllowTraffic": {"http": {"url": "http://hooks.local/x"}}}
    }));
    assert_eq!(
        errors(&text, &target),
        [
            "unable to roll out the appspec: hook `BeforeInstall` names function `missing`, which is not in `spec.hookFunctions` (available: `arn:aws:lambda:us-east-1:1:function:smoke`, `arn:aws:lambda:eu-west-1:1:function:smoke`, `after`)",
            "unable to roll out the appspec: hook `AfterInstall` names function `smoke`, which matches several `spec.hookFunctions` entries (`arn:aws:lambda:us-east-1:1:function:smoke`, `arn:aws:lambda:eu-west-1:1:function:smoke`); name one exactly",
            "unable to roll out the appspec: `AfterAllowTraffic` has a hook both in the appspec's `Hooks` and in `spec.hooks`; keep one",
        ]
    );
    let empty = errors(&text, &template(json!({})));
    assert!(
        empty[0].ends_with("(`spec.hookFunctions` is empty)"),
        "{}",
        empty[0]
    );
}

#[test]
fn lambda_function_names_are_read_from_arns() {
    let cases = [
        ("smoke", "smoke"),
        ("arn:aws:lambda:us-east-1:123:function:smoke", "smoke"),
        (
            "arn:aws:lambda:<REGION>:<ACCOUNT_ID>:function:smoke:live",
            "smoke",
        ),
        ("arn:aws-cn:lambda:cn-north-1:1:function:smoke", "smoke"),
        (
            "arn:aws:ecs:us-east-1:1:task-definition/web:3",
            "arn:aws:ecs:us-east-1:1:task-definition/web:3",
        ),
        (
            "arn:aws:lambda:us-east-1:1:function:",
            "arn:aws:lambda:us-east-1:1:function:",
        ),
    ];
    for (text, name) in cases {
        assert_eq!(lambda_function_name(text), name, "{text}");
    }
}

#[test]
fn a_revision_text_is_parsed_and_mapped_in_one_call() {
    let json = r#"{"Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
        "TaskDefinition": "web:2", "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 80}}}}]}"#;
    let rollout = rollout_from_revision(json, &template(json!({}))).unwrap();
    assert_eq!(rollout.port, Some(80));
    let Err(RevisionError::AppSpec(error)) =
        rollout_from_revision("os: linux\n", &template(json!({})))
    else {
        panic!("an EC2 appspec must not map");
    };
    assert!(
        error
            .to_string()
            .starts_with("spec.revision.appSpec:1:1: error: this is an EC2/on-premises appspec"),
        "{error}"
    );
}
