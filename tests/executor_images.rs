//! The executor's image hook without Docker: a stand-in publisher shows where publishing sits
//! in the build, what its results and failures do to the build, and that it reaches the
//! build's shell.

use std::sync::{Arc, Mutex};

use slipway::api::buildrun::{BuildPhaseType, BuildStatus, ImageResult};
use slipway::build::executor::shell::CommandRunner;
use slipway::build::executor::{
    BuildLog, BuildMetadata, BuildResult, EnvironmentSources, ExecutorConfig, ImagePublisher,
    LogSink, NoArtifactStore, PublishFailure, PublishOutcome, ShellProgram, run_build_with_images,
};

const BUILDSPEC: &str = r#"version: 0.2
phases:
  pre_build:
    commands:
      - IMAGE_TAG=v7
  build:
    commands:
      - echo building
  post_build:
    commands:
      - echo "post_build succeeding=$CODEBUILD_BUILD_SUCCEEDING uri=$IMAGE_WEB_URI"
"#;

/// Publishes one image, reading `IMAGE_TAG` from the shell, or fails as told.
struct StandIn {
    failure: Option<PublishFailure>,
    calls: u32,
}

impl ImagePublisher for StandIn {
    fn has_images(&self) -> bool {
        true
    }

    fn publish(&mut self, runner: &mut dyn CommandRunner, log: &BuildLog) -> PublishOutcome {
        self.calls += 1;
        log.container("stand-in publisher");
        if let Some(failure) = self.failure.clone() {
            return PublishOutcome {
                images: Vec::new(),
                failure: Some(failure),
            };
        }
        let tag = runner.read_variables(&["IMAGE_TAG".to_owned()]).unwrap()[0]
            .clone()
            .unwrap_or_default();
        let uri = format!("127.0.0.1:5000/web@sha256:{tag}");
        runner
            .run(&format!("export IMAGE_WEB_URI='{uri}'"), true)
            .unwrap();
        PublishOutcome {
            images: vec![ImageResult {
                name: "web".into(),
                repository: "127.0.0.1:5000/web".into(),
                tags: vec![tag],
                digest: Some("sha256:v7".into()),
                image_uri: Some(uri),
            }],
            failure: None,
        }
    }
}

fn run(publisher: &mut StandIn) -> (BuildResult, String) {
    let source =
        std::env::temp_dir().join(format!("slipway-executor-images-{}", std::process::id()));
    std::fs::create_dir_all(&source).unwrap();
    let config = ExecutorConfig {
        buildspec: BUILDSPEC.to_owned(),
        buildspec_name: "buildspec.yml".to_owned(),
        metadata: BuildMetadata::new("images"),
        src_dir: source,
        work_dir: None,
        shell: Some(ShellProgram::parse("/bin/sh")),
        sources: EnvironmentSources {
            inherited: vec![("PATH".into(), std::env::var("PATH").unwrap_or_default())],
            ..EnvironmentSources::default()
        },
    };
    let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink: LogSink = buffer.clone();
    let result = run_build_with_images(&config, sink, &mut NoArtifactStore, publisher);
    let log = String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned();
    (result, log)
}

#[test]
fn published_images_are_recorded_and_post_build_sees_their_variables() {
    let mut publisher = StandIn {
        failure: None,
        calls: 0,
    };
    let (result, log) = run(&mut publisher);
    assert_eq!(result.build_status, BuildStatus::Succeeded, "{log}");
    assert_eq!(publisher.calls, 1);
    assert_eq!(result.images[0].tags, ["v7"]);
    assert!(
        log.contains("\npost_build succeeding=1 uri=127.0.0.1:5000/web@sha256:v7\n"),
        "{log}"
    );
    let publish = log.find("stand-in publisher").unwrap();
    assert!(log.find("\nbuilding\n").unwrap() < publish, "{log}");
    assert!(
        publish < log.find("Phase complete: BUILD").unwrap(),
        "{log}"
    );
    let json: serde_json::Value = serde_json::from_str(&result.to_json()).unwrap();
    assert_eq!(
        json["images"][0]["imageURI"],
        "127.0.0.1:5000/web@sha256:v7"
    );
}

#[test]
fn a_failed_publication_fails_build_with_its_message_and_post_build_still_runs() {
    let mut publisher = StandIn {
        failure: Some(PublishFailure {
            message: "IMAGE_PUSH_ERROR: failed to push r/web:v7: denied".into(),
            fault: false,
        }),
        calls: 0,
    };
    let (result, log) = run(&mut publisher);
    assert_eq!(result.build_status, BuildStatus::Failed, "{log}");
    let build = result
        .phases
        .iter()
        .find(|phase| phase.phase_type == BuildPhaseType::Build)
        .unwrap();
    assert_eq!(build.phase_status, Some(BuildStatus::Failed));
    assert_eq!(
        build.message.as_deref(),
        Some("IMAGE_PUSH_ERROR: failed to push r/web:v7: denied")
    );
    assert!(log.contains("\npost_build succeeding=0 uri=\n"), "{log}");
}

#[test]
fn a_publication_fault_ends_the_build_as_fault_without_post_build() {
    let mut publisher = StandIn {
        failure: Some(PublishFailure {
            message: "CLIENT_ERROR: unable to reach the Docker Engine".into(),
            fault: true,
        }),
        calls: 0,
    };
    let (result, log) = run(&mut publisher);
    assert_eq!(result.build_status, BuildStatus::Fault, "{log}");
    assert_eq!(result.exit_code(), 2);
    assert!(!log.contains("post_build succeeding"), "{log}");
    assert_eq!(
        result.phases.last().map(|phase| phase.phase_type),
        Some(BuildPhaseType::Completed)
    );
}
