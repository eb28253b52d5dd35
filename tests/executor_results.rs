//! What the executor reports: the environment it builds, masked secrets, parameter and secret
//! lookups, exported variables, the termination message, and real compat buildspecs run with
//! stand-ins for `aws` and `docker`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use slipway::api::buildrun::BuildStatus;
use slipway::build::executor::{
    BuildMetadata, BuildResult, EnvironmentSources, ExecutorConfig, LogSink, NoArtifactStore,
    ParameterMounts, ShellProgram, TERMINATION_MESSAGE_LIMIT, run_build, termination_message,
    write_result,
};

const COMPAT: &str = "../shared/compat/buildspec";

struct Build {
    result: BuildResult,
    log: String,
}

impl Build {
    fn exported(&self, name: &str) -> Option<&str> {
        self.result
            .exported_variables
            .iter()
            .find(|variable| variable.name == name)
            .map(|variable| variable.value.as_str())
    }
}

fn temp_dir(label: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!(
        "slipway-executor-results-{}-{label}-{count}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn config(buildspec: &str, source: &Path) -> ExecutorConfig {
    ExecutorConfig {
        buildspec: buildspec.to_owned(),
        buildspec_name: "buildspec.yml".to_owned(),
        metadata: BuildMetadata::new("test"),
        src_dir: source.to_owned(),
        work_dir: None,
        shell: Some(ShellProgram::parse("/bin/sh")),
        sources: EnvironmentSources {
            inherited: vec![("PATH".into(), std::env::var("PATH").unwrap_or_default())],
            ..EnvironmentSources::default()
        },
    }
}

fn run(config: &ExecutorConfig) -> Build {
    let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink: LogSink = buffer.clone();
    let result = run_build(config, sink, &mut NoArtifactStore);
    let log = String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned();
    Build { result, log }
}

fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, content) in files {
        std::fs::write(dir.join(name), content).unwrap();
    }
}

#[test]
fn commands_see_the_codebuild_and_slipway_variables() {
    let source = temp_dir("vars");
    let mut config = config(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - env | grep -E '^(CODEBUILD|SLIPWAY)_' | sort\n",
        &source,
    );
    config.metadata.build_id = "web:0000-1111".into();
    config.metadata.namespace = Some("team".into());
    config.metadata.build_number = 42;
    config.metadata.source_version = Some("main".into());
    config.metadata.resolved_source_version = Some("abc123".into());
    config.metadata.source_repo_url = Some("https://git.example/web.git".into());
    config.metadata.initiator = Some("pipeline/web".into());
    config.metadata.image = Some("alpine:3".into());
    config
        .metadata
        .webhook
        .insert("EVENT".into(), "PUSH".into());
    let build = run(&config);
    let start = config.metadata.start_time.as_millisecond();
    for expected in [
        "CODEBUILD_CI=true".to_owned(),
        "CODEBUILD_BUILD_ID=web:0000-1111".to_owned(),
        "CODEBUILD_BUILD_ARN=slipway:team:build/web:0000-1111".to_owned(),
        "CODEBUILD_BUILD_NUMBER=42".to_owned(),
        "CODEBUILD_BUILD_IMAGE=alpine:3".to_owned(),
        "CODEBUILD_BUILD_SUCCEEDING=1".to_owned(),
        "CODEBUILD_INITIATOR=pipeline/web".to_owned(),
        "CODEBUILD_SOURCE_VERSION=main".to_owned(),
        "CODEBUILD_RESOLVED_SOURCE_VERSION=abc123".to_owned(),
        "CODEBUILD_SOURCE_REPO_URL=https://git.example/web.git".to_owned(),
        format!("CODEBUILD_SRC_DIR={}", source.display()),
        format!("CODEBUILD_START_TIME={start}"),
        "CODEBUILD_WEBHOOK_EVENT=PUSH".to_owned(),
        "SLIPWAY_BUILD_ID=web:0000-1111".to_owned(),
        "SLIPWAY_RESOLVED_SOURCE_VERSION=abc123".to_owned(),
        "SLIPWAY_NAMESPACE=team".to_owned(),
    ] {
        assert!(
            build.log.lines().any(|line| line == expected),
            "{expected} missing:\n{}",
            build.log
        );
    }
}

#[test]
fn project_variables_beat_the_buildspecs_and_build_variables_beat_both() {
    let source = temp_dir("layers");
    let mut config = config(
        "version: 0.2\nenv:\n  variables:\n    A: buildspec\n    B: buildspec\n    CODEBUILD_CI: buildspec\nphases:\n  build:\n    commands:\n      - echo \"A=$A B=$B CI=$CODEBUILD_CI\"\n",
        &source,
    );
    config.sources.inherited.push(("A".into(), "image".into()));
    config.sources.project.push(("B".into(), "project".into()));
    let build = run(&config);
    assert!(
        build.log.contains("\nA=buildspec B=project CI=true\n"),
        "{}",
        build.log
    );
}

#[test]
fn parameter_store_and_secrets_manager_names_are_read_from_mounted_keys() {
    let source = temp_dir("params");
    let config_map = temp_dir("configmap");
    let secret = temp_dir("secret");
    write_files(&config_map, &[("app.db-host", "db.internal")]);
    write_files(
        &secret,
        &[
            ("prod.db.password", "s3cr3t-value"),
            ("prod.api", r#"{"token":"tok-123456"}"#),
        ],
    );
    let mut config = config(
        "version: 0.2\nenv:\n  parameter-store:\n    DB_HOST: /app/db-host\n  secrets-manager:\n    DB_PASSWORD: prod/db:password\n    API_TOKEN: prod/api:token\n  exported-variables: [DB_PASSWORD]\nphases:\n  build:\n    commands:\n      - echo \"host=$DB_HOST password=$DB_PASSWORD token=$API_TOKEN\"\n      - echo \"$DB_PASSWORD\" | rev\n",
        &source,
    );
    config.sources.parameters = ParameterMounts {
        parameter_store_dir: Some(config_map),
        parameter_store_config_map: Some("app-config".into()),
        secrets_manager_dir: Some(secret),
        secrets_manager_secret: Some("app-secrets".into()),
    };
    let build = run(&config);
    assert_eq!(
        build.result.build_status,
        BuildStatus::Succeeded,
        "{}",
        build.log
    );
    assert!(
        build
            .log
            .contains("\nhost=db.internal password=*** token=***\n"),
        "{}",
        build.log
    );
    assert!(!build.log.contains("s3cr3t-value"), "{}", build.log);
    // A transformed value is not recognised: masking is a safety net, as in CodeBuild.
    assert!(build.log.contains("eulav-t3rc3s"), "{}", build.log);
    assert_eq!(build.exported("DB_PASSWORD"), Some("***"));
}

#[test]
fn a_missing_secret_key_is_a_fault_naming_the_key_and_the_secret() {
    let source = temp_dir("missing");
    let secret = temp_dir("empty-secret");
    let mut config = config(
        "version: 0.2\nenv:\n  secrets-manager:\n    DB_PASSWORD: prod/db:password\nphases:\n  build:\n    commands:\n      - echo never\n",
        &source,
    );
    config.sources.parameters.secrets_manager_dir = Some(secret.clone());
    config.sources.parameters.secrets_manager_secret = Some("app-secrets".into());
    let build = run(&config);
    assert_eq!(build.result.build_status, BuildStatus::Fault);
    assert_eq!(build.result.exit_code(), 2);
    let message = build.result.message.clone().unwrap();
    assert_eq!(
        message,
        format!(
            "CLIENT_ERROR: failed to resolve `env.secrets-manager.DB_PASSWORD`: key `prod.db.password` (for `prod/db`) not found in Secret `app-secrets` mounted at {}",
            secret.display()
        )
    );
    assert!(!build.log.contains("never\n"));
}

#[test]
fn secret_environment_variables_are_masked_in_output_and_messages() {
    let source = temp_dir("masked");
    let mut config = config(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"token is $TOKEN\"\n      - test \"$TOKEN\" = nope || exit 4\n",
        &source,
    );
    config
        .sources
        .inherited
        .push(("TOKEN".into(), "ghp_abcdef123456".into()));
    config.sources.secret_names.push("TOKEN".into());
    let build = run(&config);
    assert!(build.log.contains("\ntoken is ***\n"), "{}", build.log);
    assert!(!build.log.contains("ghp_abcdef123456"));
    assert!(!build.result.to_json().contains("ghp_abcdef123456"));
}

#[test]
fn an_invalid_buildspec_fails_before_any_phase_with_its_position() {
    let source = temp_dir("invalid");
    let build = run(&config(
        "version: 0.2\nphases:\n  build:\n    commands: make\n",
        &source,
    ));
    assert_eq!(build.result.build_status, BuildStatus::Failed);
    let message = build.result.message.clone().unwrap();
    assert!(
        message.starts_with("YAML_FILE_ERROR: buildspec.yml:4:15: error:"),
        "{message}"
    );
    let first = serde_json::to_value(build.result.phases[0].phase_type).unwrap();
    assert_eq!(first, "DOWNLOAD_SOURCE");
}

#[test]
fn a_missing_shell_is_a_fault() {
    let source = temp_dir("noshell");
    let mut config = config(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n",
        &source,
    );
    config.shell = Some(ShellProgram::parse("/nonexistent/sh"));
    let build = run(&config);
    assert_eq!(
        build.result.build_status,
        BuildStatus::Fault,
        "{}",
        build.log
    );
    let message = build.result.message.clone().unwrap();
    assert!(
        message.contains("failed to start the shell `/nonexistent/sh`"),
        "{message}"
    );
}

#[test]
fn exported_variables_come_from_the_environment_in_0_1() {
    let source = temp_dir("export01");
    let build = run(&config(
        "version: 0.1\nenv:\n  variables:\n    STAGE: prod\n  exported-variables: [STAGE, CHANGED]\nphases:\n  build:\n    commands:\n      - export STAGE=changed CHANGED=yes\n",
        &source,
    ));
    assert_eq!(build.exported("STAGE"), Some("prod"), "{}", build.log);
    assert_eq!(build.exported("CHANGED"), None);
}

#[test]
fn a_huge_exported_variable_keeps_the_termination_message_within_4_kib() {
    let source = temp_dir("huge");
    let out = temp_dir("out");
    let build = run(&config(
        "version: 0.2\nenv:\n  exported-variables: [SMALL, HUGE, AFTER]\nphases:\n  build:\n    commands:\n      - SMALL=tag-1; AFTER=x\n      - HUGE=$(i=0; while [ $i -lt 1000 ]; do printf 'abcdefghij'; i=$((i+1)); done)\n",
        &source,
    ));
    assert_eq!(build.exported("HUGE").map(str::len), Some(10_000));
    let termination = out.join("termination-log");
    let result_file = out.join("result.json");
    write_result(&build.result, Some(&termination), Some(&result_file)).unwrap();
    let message = std::fs::read_to_string(&termination).unwrap();
    assert!(
        message.len() <= TERMINATION_MESSAGE_LIMIT,
        "{} bytes",
        message.len()
    );
    let summary: serde_json::Value = serde_json::from_str(&message).unwrap();
    assert_eq!(summary["kind"], "slipway.dev/BuildResult");
    assert_eq!(summary["complete"], false);
    assert_eq!(summary["buildStatus"], "SUCCEEDED");
    assert_eq!(summary["resultFile"], result_file.display().to_string());
    assert_eq!(summary["exportedVariables"][0]["value"], "tag-1");
    assert_eq!(
        summary["omittedExportedVariables"],
        serde_json::json!(["HUGE", "AFTER"])
    );
    let full: BuildResult =
        serde_json::from_str(&std::fs::read_to_string(&result_file).unwrap()).unwrap();
    assert!(full.complete);
    assert_eq!(full.exported_variables.len(), 3);
}

#[test]
fn a_small_result_is_the_whole_termination_message() {
    let source = temp_dir("small");
    let build = run(&config(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - 'true'\n",
        &source,
    ));
    let message = termination_message(&build.result, Some("/results/r.json"));
    // Kubernetes times have whole seconds, so compare what the controller reads.
    let parsed: serde_json::Value = serde_json::from_str(&message).unwrap();
    let full: serde_json::Value = serde_json::from_str(&build.result.to_json()).unwrap();
    assert_eq!(parsed, full);
    assert_eq!(parsed["complete"], true);
    assert!(parsed.get("resultFile").is_none());
}

/// A directory with `aws` and `docker` stand-ins that print what they were asked.
fn stub_tools() -> PathBuf {
    let dir = temp_dir("stubs");
    write_files(
        &dir,
        &[
            (
                "aws",
                "#!/bin/sh\ncase \"$*\" in\n  *get-login-password*) echo not-a-real-password ;;\n  *get-login*) echo 'echo Login Succeeded' ;;\nesac\n",
            ),
            ("docker", "#!/bin/sh\necho \"docker $*\"\n"),
        ],
    );
    for tool in ["aws", "docker"] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join(tool), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

fn compat_config(file: &str, source: &Path) -> ExecutorConfig {
    let text = std::fs::read_to_string(Path::new(COMPAT).join(file))
        .unwrap_or_else(|error| panic!("the compat corpus is needed at {COMPAT}/{file}: {error}"));
    let mut config = config(&text, source);
    let path = format!(
        "{}:{}",
        stub_tools().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    config.sources.project.push(("PATH".into(), path));
    config
}

#[test]
fn the_ecs_blue_green_image_tag_flow_runs_and_exports_the_image_uri() {
    let source = temp_dir("ecs");
    let mut config = compat_config(
        "aws-samples__ecs-blue-green-deployment-with-codedeploy__iac_pipeline_codebuild_buildspec-container.yaml",
        &source,
    );
    config.metadata.source_version = Some("arn:aws:s3:::bucket/pipeline/source/v42.zip".into());
    config
        .sources
        .project
        .push(("REPOSITORY_URI".into(), "registry.local/web".into()));
    let build = run(&config);
    assert_eq!(
        build.result.build_status,
        BuildStatus::Succeeded,
        "{}",
        build.log
    );
    assert!(build.log.contains("\nv42\n"), "{}", build.log);
    assert!(
        build
            .log
            .contains("\ndocker tag registry.local/web:latest registry.local/web:v42\n")
    );
    assert!(build.log.contains("\ndocker push registry.local/web:v42\n"));
    assert_eq!(build.exported("IMAGE_URI"), Some("registry.local/web:v42"));
    let detail = std::fs::read_to_string(source.join("imageDetail.json")).unwrap();
    assert_eq!(detail, r#"{"ImageURI":"registry.local/web:v42"}"#);
}

#[test]
fn the_codebuild_samples_docker_buildspec_runs_its_login_substitution() {
    let source = temp_dir("samples");
    let mut config = compat_config(
        "aws-samples__aws-codebuild-samples__dockerbuildspec.yml",
        &source,
    );
    for (name, value) in [
        ("IMAGE_REPO_NAME", "web"),
        ("IMAGE_TAG", "1.0"),
        ("AWS_ACCOUNT_ID", "123"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
    ] {
        config.sources.project.push((name.into(), value.into()));
    }
    let build = run(&config);
    assert_eq!(
        build.result.build_status,
        BuildStatus::Succeeded,
        "{}",
        build.log
    );
    assert!(build.log.contains("\nLogin Succeeded\n"), "{}", build.log);
    assert!(
        build
            .log
            .contains("\ndocker push 123.dkr.ecr.eu-west-1.amazonaws.com/web:1.0\n")
    );
}
