//! `slipway appspec check` run as the built binary: output on stdout, exit status for CI.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::Scratch;

/// Runs `slipway appspec check` on `files` from inside `dir`, so names print relative.
fn check(dir: &Path, files: &[&str]) -> Output {
    support::check("appspec", dir, files)
}

const ECS_YAML: &str = "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: \"#{Build.ImageURI}\"\n        LoadBalancerInfo:\n          ContainerName: web\n          ContainerPort: 8080\nHooks:\n  - AfterAllowTestTraffic: smoke-test\n";
const ECS_JSON: &str = r#"{"Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {"TaskDefinition": "<TASK_DEFINITION>", "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 80}}}}]}"#;
const EC2: &str = "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /srv/app\nhooks:\n  ApplicationStart:\n    - location: start.sh\n";
const INVALID: &str = "Resources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: web:2\n        LoadBalancerInfo:\n          ContainerPort: eighty\n";

#[test]
fn valid_yaml_and_json_files_exit_zero_and_print_ok() {
    let scratch = Scratch::new("appspec-valid");
    scratch.write("appspec.yaml", ECS_YAML);
    scratch.write("appspec.json", ECS_JSON);
    let output = check(&scratch.0, &["appspec.yaml", "appspec.json"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "appspec.yaml: ok\n\
         \n\
         appspec.json:1:97: warning: `Resources[0].TargetService.Properties.TaskDefinition` is the placeholder `<TASK_DEFINITION>`, which Slipway does not replace: it must be replaced before this appspec is rolled out\n  \
         fix: replace it with the image reference, or with a pipeline variable such as `#{Build.ImageURI}` that the pipeline substitutes\n\
         appspec.json: ok (1 warning)\n"
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn invalid_and_rejected_files_make_the_exit_status_non_zero() {
    let scratch = Scratch::new("appspec-invalid");
    scratch.write("appspec.yaml", ECS_YAML);
    scratch.write("broken.yaml", INVALID);
    scratch.write("ec2.yml", EC2);
    let output = check(&scratch.0, &["appspec.yaml", "broken.yaml", "ec2.yml"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let blocks: Vec<&str> = stdout.split("\n\n").collect();
    assert_eq!(blocks.len(), 3, "{stdout}");
    assert_eq!(blocks[0], "appspec.yaml: ok");
    assert_eq!(
        blocks[1],
        "broken.yaml:7:26: error: `Resources[0].TargetService.Properties.LoadBalancerInfo.ContainerPort` must be a port number from 1 to 65535, found `eighty`\n  \
         fix: write the container port as a number, e.g. `ContainerPort: 8080`\n\
         broken.yaml: invalid (1 error)"
    );
    assert!(
        blocks[2].starts_with("ec2.yml:2:1: error: this is an EC2/on-premises appspec (`os: linux`, `files`, `hooks` with scripts at ApplicationStart)"),
        "{}",
        blocks[2]
    );
    assert!(
        blocks[2].ends_with("\nec2.yml: rejected: EC2/on-prem appspec: it copies files onto hosts and runs scripts there; Slipway rolls out containers on Kubernetes (write the ECS form)\n"),
        "{}",
        blocks[2]
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: 2 of 3 appspec files are invalid, rejected or unreadable\n"
    );
}

#[test]
fn the_corpus_files_that_check_ok_are_the_ecs_ones() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/compat/appspec");
    assert!(
        corpus.is_dir(),
        "the appspec corpus is missing: expected {}",
        corpus.display()
    );
    let mut names: Vec<String> = std::fs::read_dir(&corpus)
        .expect("readable corpus")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    let files: Vec<&str> = names.iter().map(String::as_str).collect();
    let output = check(&corpus, &files);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summaries: Vec<&str> = stdout
        .lines()
        .filter(|line| {
            names
                .iter()
                .any(|name| line.starts_with(&format!("{name}: ")))
        })
        .map(|line| line.split_once(": ").unwrap().1)
        .map(|summary| summary.split(':').next().unwrap())
        .collect();
    assert_eq!(
        summaries,
        [
            "rejected",        // AkshaySiv: EC2 (os: ubuntu)
            "ok (2 warnings)", // Andrew-Chen-Wang: ECS JSON, files section + ARN
            "ok (2 warnings)", // DevOps94: ECS JSON template
            "rejected",        // YoonHyunWoo: Lambda
            "ok (1 warning)",  // workshop appspec/: ARN
            "ok (1 warning)",  // workshop assets/: ARN
            "rejected",        // codebuild-samples: EC2 Linux
            "rejected",        // codedeploy-samples: EC2 Windows
            "rejected",        // ecs-demo-php: EC2 Linux
            "ok (3 warnings)", // ecs-windows template
        ],
        "{stdout}"
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: 5 of 10 appspec files are invalid, rejected or unreadable\n"
    );
}

#[test]
fn an_unreadable_file_is_reported_and_check_needs_a_file() {
    let scratch = Scratch::new("appspec-missing");
    let output = check(&scratch.0, &["missing.yaml"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("missing.yaml: unreadable: "), "{stdout}");
    let output = check(&scratch.0, &[]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "clap's usage error: {output:?}"
    );
}
