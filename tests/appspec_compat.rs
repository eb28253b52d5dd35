//! The compatibility corpus: every real-world appspec in `../shared/compat/appspec/` is a test
//! case with its own expectation — an ECS appspec that parses (with these warnings, at exact
//! lines and columns) and maps onto a Deployment as stated, a Lambda appspec that parses and is
//! rejected, or an EC2/on-premises appspec rejected with the reason.
//!
//! The corpus lives beside the repository (`<repo>/../shared`), as in CI.

use std::path::PathBuf;

use serde_json::json;
use slipway::api::deployment::{DeploymentTemplate, LifecycleEvent};
use slipway::rollout::appspec::{
    AppSpec, AppSpecError, AppSpecRollout, ComputePlatform, EcsAppSpec, LambdaAppSpec,
    MappingError, PlaceholderKind, TaskDefinition, Templated, parse_appspec, rejection,
    rollout_from_appspec,
};
use slipway::yaml::Severity;

/// A diagnostic expected at (line, column) whose message contains the fragment.
type At = (u32, u32, &'static str);

/// What a file must give.
enum Outcome {
    /// ECS: valid with exactly these warnings; a look at the model; a look at the mapping
    /// (given the file's text).
    Ecs(&'static [At], fn(&EcsAppSpec), fn(&str)),
    /// Lambda: parses without diagnostics, then is rejected with its error at (line, column).
    LambdaRejected((u32, u32), fn(&LambdaAppSpec)),
    /// EC2/on-premises: rejected by the parser at (line, column), naming what it found.
    Ec2Rejected((u32, u32), &'static str),
}

/// The corpus folder, or a clear failure when it is missing.
fn corpus() -> PathBuf {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/compat/appspec");
    assert!(
        folder.is_dir(),
        "the appspec compatibility corpus is missing: expected {} (the shared/ folder must sit beside the repository)",
        folder.display()
    );
    folder
}

/// The text of corpus file `name`.
fn read(name: &str) -> String {
    let path = corpus().join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("unable to read {}: {error}", path.display()))
}

/// Parses the corpus file `name` and checks it against `outcome`.
fn check(name: &str, outcome: Outcome) {
    let text = read(name);
    let result = parse_appspec(&text, name);
    match (result, outcome) {
        (Ok(parsed), Outcome::Ecs(warnings, look, mapping)) => {
            let AppSpec::Ecs(spec) = &parsed.spec else {
                panic!("{name} must be ECS, found {:?}", parsed.spec.platform());
            };
            assert_at(name, &parsed.warnings, warnings, Severity::Warning);
            look(spec);
            mapping(&text);
        }
        (Ok(parsed), Outcome::LambdaRejected((line, column), look)) => {
            assert!(parsed.warnings.is_empty(), "{name}: {:#?}", parsed.warnings);
            let AppSpec::Lambda(spec) = &parsed.spec else {
                panic!("{name} must be Lambda");
            };
            look(spec);
            let rejected = rejection(&parsed.spec).expect("Lambda appspecs are rejected");
            assert_eq!(rejected.platform, ComputePlatform::Lambda);
            let diagnostic = rejected.diagnostic(name);
            assert_at(
                name,
                &[diagnostic],
                &[(line, column, "this is a Lambda appspec")],
                Severity::Error,
            );
        }
        (
            Err(AppSpecError::Rejected { rejection, .. }),
            Outcome::Ec2Rejected((line, column), found),
        ) => {
            assert_eq!(rejection.platform, ComputePlatform::Ec2OnPremises);
            let diagnostic = rejection.diagnostic(name);
            assert_at(
                name,
                &[diagnostic],
                &[(line, column, found)],
                Severity::Error,
            );
            assert!(
                rejection
                    .message
                    .contains("copies a revision's files onto hosts and runs scripts there")
            );
            assert!(
                rejection.fix.starts_with("write an ECS appspec instead"),
                "{}",
                rejection.fix
            );
        }
        (Ok(parsed), _) => panic!(
            "{name} parsed as {:?}, not as expected",
            parsed.spec.platform()
        ),
        (Err(error), _) => panic!("{name} failed unexpectedly:\n{error}"),
    }
}

/// Asserts `found` diagnostics are exactly `expected`, each with a fix.
fn assert_at(name: &str, found: &[slipway::yaml::Diagnostic], expected: &[At], severity: Severity) {
    let printed: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        found.len(),
        expected.len(),
        "{name}:\n{}",
        printed.join("\n")
    );
    for (diagnostic, (line, column, fragment)) in found.iter().zip(expected) {
        assert_eq!(
            (diagnostic.severity, diagnostic.line, diagnostic.column),
            (severity, *line, *column),
            "{diagnostic}"
        );
        assert!(
            diagnostic.message.contains(fragment),
            "`{fragment}` not in {diagnostic}"
        );
        assert!(
            diagnostic
                .to_string()
                .starts_with(&format!("{name}:{line}:{column}: "))
        );
        assert!(diagnostic.fix.is_some(), "no fix: {diagnostic}");
    }
}

/// A Deployment template: target `web`, plus `extra` (e.g. `hookFunctions`).
fn template(extra: serde_json::Value) -> DeploymentTemplate {
    let mut value =
        json!({"target": {"service": "web", "workload": "web"}, "revision": {"appSpec": "-"}});
    if let (Some(base), serde_json::Value::Object(extra)) = (value.as_object_mut(), extra) {
        base.extend(extra);
    }
    serde_json::from_value(value).expect("a valid template")
}

/// HTTP hook functions with these names.
fn hook_functions(names: &[&str]) -> serde_json::Value {
    json!({"hookFunctions": names.iter().map(|name| json!({"name": name, "http": {"url": "http://hooks.local/"}})).collect::<Vec<_>>()})
}

/// Maps `text` onto `template`; the text must parse.
fn map(text: &str, template: &DeploymentTemplate) -> Result<AppSpecRollout, Vec<MappingError>> {
    let parsed = parse_appspec(text, "appspec").expect("parses");
    rollout_from_appspec(&parsed.spec, template)
}

/// Asserts the mapping fails with exactly errors containing these fragments.
fn assert_unmappable(text: &str, template: &DeploymentTemplate, fragments: &[&str]) {
    let errors: Vec<String> = match map(text, template) {
        Ok(rollout) => panic!("must not map as it is: {rollout:?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    };
    assert_eq!(errors.len(), fragments.len(), "{errors:#?}");
    for (error, fragment) in errors.iter().zip(fragments) {
        assert!(error.contains(fragment), "`{fragment}` not in {error}");
    }
}

/// The (event, hook function) pairs of a rollout.
fn hooks(rollout: &AppSpecRollout) -> Vec<(LifecycleEvent, &str)> {
    rollout
        .hooks
        .iter()
        .map(|hook| (hook.event, hook.hook_function.as_str()))
        .collect()
}

/// The workshop's task-definition ARN (two corpus files share it).
const WORKSHOP_ARN: &str = "arn:aws:ecs:us-east-1:117645918752:task-definition/cdkcodeworkshopecsbluegreendeploystackcodeDeployTaskDef16FC7A58:2";

/// The names declared by one test per corpus file, checked against the folder's listing.
macro_rules! corpus_cases {
    ($($test:ident: $file:literal => $outcome:expr;)*) => {
        $(
            #[test]
            fn $test() {
                check($file, $outcome);
            }
        )*

        #[test]
        fn every_corpus_file_has_an_expectation() {
            let mut listed: Vec<String> = std::fs::read_dir(corpus())
                .expect("readable corpus")
                .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            listed.sort();
            let mut declared: Vec<String> = [$($file),*].iter().map(|name| (*name).to_owned()).collect();
            declared.sort();
            assert_eq!(listed, declared, "each corpus file needs exactly one case in this test");
        }
    };
}

corpus_cases! {
    ecs_json_template_with_all_five_hooks_maps_once_its_placeholders_are_filled:
        "DevOps94-lk__fargate-bluegreen-expense-tracker__infra_templates_appspec.json" => Outcome::Ecs(
            &[(8, 29, "is the placeholder `<TASK_DEFINITION_ARN>`"), (10, 30, "is the placeholder `<CONTAINER_NAME>`")],
            |spec| {
                let service = &spec.target_service;
                assert!(matches!(&service.task_definition.value, TaskDefinition::Placeholder(p) if p.kind == PlaceholderKind::Template));
                assert_eq!(service.container_port.as_ref().unwrap().value, Templated::Value(3000));
                assert_eq!(service.platform_version.as_deref(), Some("LATEST"));
                let network = service.network_configuration.as_ref().unwrap();
                assert_eq!(network.subnets, ["<PRIVATE_APP_SUBNET_ID_1>", "<PRIVATE_APP_SUBNET_ID_2>"]);
                assert_eq!(network.assign_public_ip.as_deref(), Some("DISABLED"));
                assert_eq!(service.capacity_provider_strategy[0].capacity_provider.as_deref(), Some("FARGATE"));
                let events: Vec<LifecycleEvent> = spec.hooks.iter().map(|hook| hook.event).collect();
                assert_eq!(events, ComputePlatform::Ecs.hookable_events());
            },
            |text| {
                let functions = hook_functions(&["expense-tracker-before-install", "expense-tracker-after-install", "expense-tracker-smoke-test", "expense-tracker-before-prod-traffic", "expense-tracker-after-prod-traffic"]);
                assert_unmappable(text, &template(functions.clone()), &["`LoadBalancerInfo.ContainerName` still holds the placeholder `<CONTAINER_NAME>`", "`TaskDefinition` still holds the placeholder `<TASK_DEFINITION_ARN>`"]);
                // The author's own substitution of the two placeholders is all it takes; the hook
                // ARNs keep their `<REGION>`/`<ACCOUNT_ID>` and match by function name.
                let filled = text.replace("<TASK_DEFINITION_ARN>", "registry.example.com/expense@sha256:0d1e").replace("<CONTAINER_NAME>", "app");
                let rollout = map(&filled, &template(functions)).expect("maps once filled");
                assert_eq!((rollout.images[0].container.as_str(), rollout.images[0].image.as_str()), ("app", "registry.example.com/expense@sha256:0d1e"));
                assert_eq!(rollout.port, Some(3000));
                assert_eq!(hooks(&rollout)[2], (LifecycleEvent::AfterAllowTestTraffic, "expense-tracker-smoke-test"));
                assert_eq!(rollout.hooks.len(), 5);
            });
    ecs_yaml_with_a_task_definition_arn_parses_but_needs_an_image:
        "aws-6w8hnx__code-workshop-ecs-lambda-codedeploy__ECS-BlueGreen_assets_appspec.yml" => Outcome::Ecs(
            &[(8, 25, "is the ECS task definition `arn:aws:ecs:us-east-1:117645918752:task-definition/")],
            |spec| {
                assert_eq!(spec.target_service.task_definition.value, TaskDefinition::Arn(WORKSHOP_ARN.into()));
                assert_eq!(spec.hooks.len(), 1);
                assert_eq!(spec.hooks[0].event, LifecycleEvent::AfterAllowTestTraffic);
                assert_eq!((spec.hooks[0].position.line, spec.hooks[0].position.column), (22, 5));
            },
            |text| {
                let functions = hook_functions(&["cdk-code-workshop-ecs-blue-green--Function76856677-y24JcYrrwGYL"]);
                assert_unmappable(text, &template(functions.clone()), &["Slipway has no ECS to read its images from"]);
                let with_image = text.replace(WORKSHOP_ARN, "registry.example.com/amazon-sample:2");
                let rollout = map(&with_image, &template(functions)).expect("maps with an image");
                assert_eq!(rollout.images[0].container, "amazonSample");
                assert_eq!(hooks(&rollout), [(LifecycleEvent::AfterAllowTestTraffic, "cdk-code-workshop-ecs-blue-green--Function76856677-y24JcYrrwGYL")]);
                // Without the hook function, the error names the hook and what is available.
                assert_unmappable(&with_image, &template(json!({})), &["hook `AfterAllowTestTraffic` names function `arn:aws:lambda:us-east-1:117645918752:function:cdk-code-workshop-ecs-blue-green--Function76856677-y24JcYrrwGYL`, which is not in `spec.hookFunctions` (`spec.hookFunctions` is empty)"]);
            });
    ecs_yaml_whose_hooks_are_all_commented_out_has_no_hooks:
        "aws-6w8hnx__code-workshop-ecs-lambda-codedeploy__ECS-BlueGreen_appspec_appspec.yml" => Outcome::Ecs(
            &[(8, 25, "Slipway has no ECS to read its images from")],
            |spec| {
                assert!(spec.hooks.is_empty());
                assert_eq!(spec.target_service.container_port.as_ref().unwrap().value, Templated::Value(80));
                assert!(spec.target_service.platform_version.is_none());
            },
            |text| {
                let with_image = text.replace(WORKSHOP_ARN, "registry.example.com/amazon-sample:2");
                let rollout = map(&with_image, &template(json!({}))).expect("maps with an image");
                assert!(rollout.hooks.is_empty());
                assert_eq!(rollout.port, Some(80));
            });
    ecs_template_with_an_unindented_capacity_provider_list_and_a_placeholder_port:
        "aws-samples__ecs-windows-ci-cd-blue-green__asset_appspec_template.yaml" => Outcome::Ecs(
            &[(6, 25, "`<TASK_DEFINITION>`"), (8, 26, "`<CONTAINER_NAME>`"), (9, 26, "`<CONTAINER_PORT>`")],
            |spec| {
                let service = &spec.target_service;
                assert!(matches!(service.container_port.as_ref().unwrap().value, Templated::Placeholder(_)));
                assert_eq!(service.capacity_provider_strategy.len(), 1);
                assert_eq!(service.capacity_provider_strategy[0].capacity_provider.as_deref(), Some("<CAPACITY_PROVIDER>"));
                assert_eq!(service.capacity_provider_strategy[0].weight.as_deref(), Some("1"));
            },
            |text| {
                assert_unmappable(text, &template(json!({})), &["`<CONTAINER_NAME>`", "`<CONTAINER_PORT>`", "`<TASK_DEFINITION>`"]);
                let filled = text.replace("<TASK_DEFINITION>", "\"#{Build.ImageURI}\"").replace("<CONTAINER_NAME>", "web").replace("<CONTAINER_PORT>", "80");
                // A pipeline substitutes `#{…}` before the Deployment exists; left in, it is named.
                assert_unmappable(&filled, &template(json!({})), &["the pipeline variable `#{Build.ImageURI}`"]);
                let substituted = filled.replace("#{Build.ImageURI}", "registry.example.com/web:7");
                assert_eq!(map(&substituted, &template(json!({}))).expect("maps").images[0].image, "registry.example.com/web:7");
            });
    ecs_json_with_tabs_a_wildcard_arn_and_an_ec2_files_section:
        "Andrew-Chen-Wang__cookiecutter-django-ecs-github__appspec.json" => Outcome::Ecs(
            &[(3, 3, "`files` is an EC2/on-premises section"), (14, 24, "`arn:aws:ecs:us-east-2:*:task-definition/application-stack:*`")],
            |spec| {
                assert_eq!(spec.version.as_deref(), Some("0.0"));
                assert_eq!(spec.target_service.container_name.as_ref().unwrap().value, Templated::Value("nginx".to_owned()));
            },
            |text| assert_unmappable(text, &template(json!({})), &["`TaskDefinition` is the ECS task definition `arn:aws:ecs:us-east-2:*:task-definition/application-stack:*`"]));
    lambda_json_with_string_versions_is_rejected:
        "YoonHyunWoo__CodeDeploy_For_Lambda-function__appspec.json" => Outcome::LambdaRejected((4, 9), |spec| {
            assert_eq!(spec.resource.value, "LambdaCICDTest");
            assert_eq!((spec.function_name.as_str(), spec.alias.as_str()), ("LambdaCICDTest", "one"));
            assert_eq!((spec.current_version.as_str(), spec.target_version.as_str()), ("1", "2"));
            let hooks: Vec<(LifecycleEvent, &str)> = spec.hooks.iter().map(|hook| (hook.event, hook.function.as_str())).collect();
            assert_eq!(hooks, [
                (LifecycleEvent::BeforeAllowTraffic, "LambdaFunctionToValidateBeforeTrafficShift"),
                (LifecycleEvent::AfterAllowTraffic, "LambdaFunctionToValidateAfterTrafficShift"),
            ]);
        });
    ec2_linux_with_files_permissions_and_script_hooks_is_rejected:
        "aws-samples__aws-codebuild-samples__appspec_ec2.yml" => Outcome::Ec2Rejected(
            (2, 1), "(`os: linux`, `files`, `permissions`, `hooks` with scripts at ApplicationStop, ApplicationStart, ValidateService)");
    ec2_windows_with_crlf_line_endings_is_rejected:
        "aws-samples__aws-codedeploy-samples__applications_SampleApp_Windows_appspec.yml" => Outcome::Ec2Rejected(
            (2, 1), "(`os: windows`, `files`, `hooks` with scripts)");
    malformed_ec2_appspec_with_run_hooks_is_rejected_as_ec2:
        "AkshaySiv__aws-devops-essentials__appspec.yaml" => Outcome::Ec2Rejected(
            (2, 1), "(`os: ubuntu`, `hooks` with scripts at ApplicationStop, ApplicationStart)");
    ec2_linux_with_nine_files_and_two_after_install_scripts_is_rejected:
        "aws-samples__ecs-demo-php-simple-app__src_PHPSlim_appspec.yml" => Outcome::Ec2Rejected(
            (2, 1), "(`os: linux`, `files`, `hooks` with scripts at ApplicationStop)");
}
