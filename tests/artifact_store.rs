//! Artifacts end to end through the `slipway` binary: `executor run` packages and uploads the
//! buildspec's artifacts to a real registry (Debian's `docker-registry` with htpasswd auth) or
//! to object storage (`file://`, the same `object_store` trait path as S3), and
//! `executor fetch artifact` brings them back, digest checked.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::Scratch;
use support::registry::{PASSWORD, TestRegistry, USER};

const BUILDSPEC: &str = r#"version: 0.2
phases:
  build:
    commands:
      - mkdir -p dist/bin reports
      - echo 'console.log(1)' > dist/app.js
      - printf '#!/bin/sh\necho run\n' > dist/bin/run.sh && chmod 755 dist/bin/run.sh
      - echo '<testsuite/>' > reports/junit.xml
      - STAMP=stamp-$CODEBUILD_BUILD_NUMBER
artifacts:
  files:
    - '**/*'
  base-directory: dist
  name: web-$STAMP
  secondary-artifacts:
    reports:
      files:
        - reports/*.xml
      discard-paths: yes
"#;

struct Run {
    code: i32,
    result: Value,
    stdout: String,
}

/// Runs `slipway executor run` on a source folder with `buildspec`.
fn executor_run(scratch: &Scratch, buildspec: &str, store: &str, credentials: &Path) -> Run {
    let source = scratch.0.join("src");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(source.join("buildspec.yml"), buildspec).unwrap();
    let result_file = scratch.0.join("result.json");
    let output = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["executor", "run", "--termination-message-path", "-"])
        .arg("--source")
        .arg(&source)
        .arg("--result-file")
        .arg(&result_file)
        .args(["--build-id", "web:0f4c0000-aaaa-4bbb-8ccc-123456789abc"])
        .args([
            "--namespace",
            "team",
            "--build-run",
            "web-7",
            "--build-number",
            "7",
        ])
        .args(["--artifact-store", store])
        .arg("--credentials-dir")
        .arg(credentials)
        .env_remove("SLIPWAY_EXECUTOR_ARTIFACT_STORE")
        .output()
        .expect("run slipway executor run");
    let result = std::fs::read_to_string(&result_file).expect("the result file is written");
    Run {
        code: output.status.code().unwrap_or(-1),
        result: serde_json::from_str(&result).expect("the result is JSON"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
    }
}

/// Runs `slipway executor fetch artifact`.
fn executor_fetch(args: &[&str], to: &Path, credentials: &Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["executor", "fetch", "artifact"])
        .args(args)
        .arg("--to")
        .arg(to)
        .arg("--credentials-dir")
        .arg(credentials)
        .env_remove("SLIPWAY_EXECUTOR_ARTIFACT_STORE")
        .output()
        .expect("run slipway executor fetch artifact");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

/// Every file under `dir` with its content and mode.
fn tree(dir: &Path) -> BTreeMap<String, (String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                files.insert(name, (std::fs::read_to_string(&path).unwrap(), mode));
            }
        }
    }
    files
}

fn records(run: &Run) -> Vec<(String, String, String)> {
    run.result["artifacts"]
        .as_array()
        .unwrap_or_else(|| panic!("no artifacts recorded: {}\n{}", run.result, run.stdout))
        .iter()
        .map(|record| {
            (
                record["name"].as_str().unwrap().to_owned(),
                record["location"].as_str().unwrap().to_owned(),
                record["digest"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn upload_phase(run: &Run) -> Value {
    run.result["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|phase| phase["phaseType"] == "UPLOAD_ARTIFACTS")
        .cloned()
        .unwrap_or_else(|| panic!("no UPLOAD_ARTIFACTS phase: {}", run.result))
}

/// Registry credentials for `USER` with `password`, in `scratch`.
fn registry_credentials(scratch: &Scratch, registry: &TestRegistry, password: &str) -> PathBuf {
    credentials_with(
        scratch,
        ".dockerconfigjson",
        &registry.docker_config(USER, password),
    )
}

/// The store setting for the registry's `team/artifacts` repository.
fn registry_store(registry: &TestRegistry) -> String {
    format!(
        r#"{{"oci":{{"repository":"{}/team/artifacts"}}}}"#,
        registry.address
    )
}

/// The store setting for the file-URL bucket `bucket` in `scratch`.
fn bucket_store(scratch: &Scratch) -> String {
    format!(
        r#"{{"objectStore":{{"url":"file://{}/bucket"}}}}"#,
        scratch.0.display()
    )
}

fn credentials_with(scratch: &Scratch, file: &str, text: &str) -> PathBuf {
    scratch.write(&format!("credentials/artifact-store/{file}"), text);
    scratch.0.join("credentials")
}

#[test]
fn artifacts_pushed_to_a_registry_fetch_back_with_the_same_digest_and_files() {
    let registry = TestRegistry::start();
    let scratch = Scratch::new("registry-roundtrip");
    let credentials = registry_credentials(&scratch, &registry, PASSWORD);
    let store = registry_store(&registry);
    let run = executor_run(&scratch, BUILDSPEC, &store, &credentials);
    assert_eq!(run.code, 0, "{}\n{}", run.result, run.stdout);
    let records = records(&run);
    let prefix = format!("oci://{}/team/artifacts@sha256:", registry.address);
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(
        (records[0].0.as_str(), records[1].0.as_str()),
        ("primary", "reports")
    );
    for (_, location, digest) in &records {
        assert!(location.starts_with(&prefix), "{location}");
        assert!(
            digest.starts_with("sha256:") && digest.len() == 71,
            "{digest}"
        );
    }
    assert!(
        run.stdout.contains("Uploaded primary (2 file(s)"),
        "{}",
        run.stdout
    );
    // The tag derived from the build id and the evaluated name is in the repository, and the
    // manifest is a Slipway artifact whose one layer is the recorded ZIP.
    let tag = "web-0f4c0000-aaaa-4bbb-8ccc-123456789abc-web-stamp-7";
    assert_eq!(
        registry.status_of(&format!("/v2/team/artifacts/manifests/{tag}")),
        Some(401),
        "the repository needs credentials"
    );
    let (status, body) = registry.manifest("team/artifacts", tag);
    assert_eq!(status, 200, "{body}");
    let manifest: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        manifest["artifactType"],
        "application/vnd.slipway.artifact.v1+zip"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], "application/zip");
    assert_eq!(manifest["layers"][0]["digest"], records[0].2.as_str());
    assert_eq!(
        manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
        "web-stamp-7.zip"
    );
    let manifest_digest = records[0].1.rsplit('@').next().unwrap();
    assert_eq!(registry.manifest("team/artifacts", manifest_digest).0, 200);

    let to = scratch.0.join("fetched");
    let resolved = scratch.0.join("resolved/version");
    let (code, output) = executor_fetch(
        &[
            "--location",
            &records[0].1,
            "--digest",
            &records[0].2,
            "--resolved-file",
            resolved.to_str().unwrap(),
        ],
        &to,
        &credentials,
    );
    assert_eq!(code, 0, "{output}");
    assert_eq!(std::fs::read_to_string(&resolved).unwrap(), records[0].2);
    let fetched = tree(&to);
    assert_eq!(
        fetched.keys().cloned().collect::<Vec<_>>(),
        vec!["app.js", "bin/run.sh"],
        "the primary artifact holds dist/ relative to it"
    );
    assert_eq!(
        fetched["bin/run.sh"],
        ("#!/bin/sh\necho run\n".to_owned(), 0o755)
    );

    let reports = scratch.0.join("reports");
    let (code, output) = executor_fetch(&["--location", &records[1].1], &reports, &credentials);
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        tree(&reports),
        BTreeMap::from([("junit.xml".to_owned(), ("<testsuite/>\n".to_owned(), 0o644))])
    );

    // The same build again gives the same artifact digest (deterministic packaging).
    let again = Scratch::new("registry-roundtrip-again");
    let credentials_again = registry_credentials(&again, &registry, PASSWORD);
    let second = executor_run(&again, BUILDSPEC, &store, &credentials_again);
    assert_eq!(self::records(&second)[0].2, records[0].2);
}

#[test]
fn a_wrong_registry_password_fails_the_upload_with_the_registry_message() {
    let registry = TestRegistry::start();
    let scratch = Scratch::new("registry-wrong-password");
    let credentials = registry_credentials(&scratch, &registry, "wrong-pass");
    let store = registry_store(&registry);
    let run = executor_run(&scratch, BUILDSPEC, &store, &credentials);
    assert_eq!(run.code, 1, "{}", run.result);
    assert_eq!(run.result["buildStatus"], "FAILED");
    let phase = upload_phase(&run);
    assert_eq!(phase["phaseStatus"], "FAILED");
    let message = phase["message"].as_str().unwrap();
    assert!(
        message.starts_with("UPLOAD_ARTIFACTS_ERROR: failed to upload the artifact to oci://"),
        "{message}"
    );
    assert!(
        message.ends_with("code: 401, message: UNAUTHORIZED: authentication required"),
        "the registry's own words: {message}"
    );
    assert!(
        !message.contains("wrong-pass"),
        "the password never appears: {message}"
    );
    assert!(!run.stdout.contains("wrong-pass"));
    assert!(run.result.get("artifacts").is_none(), "{}", run.result);
}

#[test]
fn a_fetch_with_another_digest_unpacks_nothing() {
    let registry = TestRegistry::start();
    let scratch = Scratch::new("registry-digest-mismatch");
    let credentials = registry_credentials(&scratch, &registry, PASSWORD);
    let store = registry_store(&registry);
    let run = executor_run(&scratch, BUILDSPEC, &store, &credentials);
    assert_eq!(run.code, 0, "{}\n{}", run.result, run.stdout);
    let (_, location, _) = records(&run).remove(0);
    let other = format!("sha256:{}", "0".repeat(64));
    let to = scratch.0.join("fetched");
    let (code, output) = executor_fetch(
        &["--location", &location, "--digest", &other],
        &to,
        &credentials,
    );
    assert_eq!(code, 1, "{output}");
    assert!(output.contains(&format!("expected {other}")), "{output}");
    assert!(!to.exists(), "nothing is unpacked");
}

#[test]
fn object_storage_uploads_under_the_documented_key_and_fetches_back() {
    let scratch = Scratch::new("object-store");
    let bucket = scratch.0.join("bucket");
    let credentials = scratch.0.join("credentials");
    let store = format!(
        r#"{{"objectStore":{{"url":"file://{}/builds"}}}}"#,
        bucket.display()
    );
    let run = executor_run(&scratch, BUILDSPEC, &store, &credentials);
    assert_eq!(run.code, 0, "{}\n{}", run.result, run.stdout);
    let records = records(&run);
    assert_eq!(
        records[0].1,
        format!(
            "file://{}/builds/team/web-7/web-stamp-7.zip",
            bucket.display()
        )
    );
    assert_eq!(
        records[1].1,
        format!("file://{}/builds/team/web-7/reports.zip", bucket.display())
    );
    assert!(bucket.join("builds/team/web-7/web-stamp-7.zip").is_file());
    let to = scratch.0.join("fetched");
    let (code, output) = executor_fetch(
        &["--location", &records[0].1, "--digest", &records[0].2],
        &to,
        &credentials,
    );
    assert_eq!(code, 0, "{output}");
    assert_eq!(tree(&to)["app.js"].0, "console.log(1)\n");
}

#[test]
fn no_matching_files_fail_the_upload_with_codebuilds_client_error() {
    let scratch = Scratch::new("no-match");
    let store = bucket_store(&scratch);
    let buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo built\nartifacts:\n  files:\n    - target/*.jar\n";
    let run = executor_run(&scratch, buildspec, &store, &scratch.0.join("credentials"));
    assert_eq!(run.code, 1, "{}", run.result);
    let phase = upload_phase(&run);
    assert_eq!(phase["phaseStatus"], "FAILED");
    assert_eq!(
        phase["message"],
        "CLIENT_ERROR: no matching artifact paths found"
    );
    assert!(
        run.stdout.contains(
            "Phase context status code: CLIENT_ERROR Message: no matching artifact paths found"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn artifact_settings_are_evaluated_in_the_builds_shell_without_globbing() {
    let buildspec = r#"version: 0.2
env:
  variables:
    OUT: out
phases:
  pre_build:
    commands:
      - SUFFIX=$(echo built)
  build:
    commands:
      - mkdir -p out && echo a > out/a.txt && echo b > out/b.log
      - echo r > README.md && echo n > NOTES.md
artifacts:
  files:
    - $OUT/*.txt
    - "*.md"
  name: $(echo report)-$SUFFIX-${CODEBUILD_BUILD_NUMBER}
"#;
    for (version, name) in [("0.2", "report-built-7.zip"), ("0.1", "report--7.zip")] {
        let scratch = Scratch::new(&format!("evaluation-{version}"));
        let store = bucket_store(&scratch);
        let text = buildspec.replace("version: 0.2", &format!("version: {version}"));
        let run = executor_run(&scratch, &text, &store, &scratch.0.join("credentials"));
        assert_eq!(run.code, 0, "{version}: {}\n{}", run.result, run.stdout);
        let records = records(&run);
        // 0.1 runs each command in a fresh shell: the plain SUFFIX assignment is gone.
        assert!(
            records[0].1.ends_with(&format!("/team/web-7/{name}")),
            "{version}: {records:?}"
        );
        let to = scratch.0.join("fetched");
        let (code, output) = executor_fetch(
            &["--location", &records[0].1],
            &to,
            &scratch.0.join("credentials"),
        );
        assert_eq!(code, 0, "{output}");
        assert_eq!(
            tree(&to).keys().cloned().collect::<Vec<_>>(),
            vec!["NOTES.md", "README.md", "out/a.txt"],
            "{version}"
        );
    }
}

#[test]
fn an_upload_failure_keeps_the_records_of_earlier_artifacts() {
    let scratch = Scratch::new("partial");
    let store = bucket_store(&scratch);
    let buildspec = BUILDSPEC.replace("reports/*.xml", "missing/*.xml");
    let run = executor_run(&scratch, &buildspec, &store, &scratch.0.join("credentials"));
    assert_eq!(run.code, 1, "{}", run.result);
    assert_eq!(records(&run).len(), 1, "the primary artifact was uploaded");
    assert_eq!(
        upload_phase(&run)["message"],
        "CLIENT_ERROR: no matching artifact paths found"
    );
}

#[test]
fn a_result_too_large_for_the_termination_message_is_stored_with_the_artifacts() {
    let registry = TestRegistry::start();
    let buildspec = r#"version: 0.2
env:
  exported-variables:
    - BIG
phases:
  build:
    commands:
      - BIG=$(printf '%05000d' 7)
      - echo a > a.txt
artifacts:
  files:
    - a.txt
"#;
    let scratch = Scratch::new("large-result");
    let credentials = registry_credentials(&scratch, &registry, PASSWORD);
    let stores = [
        (
            bucket_store(&scratch),
            format!(
                "file://{}/bucket/team/web-7/result.json",
                scratch.0.display()
            ),
        ),
        (
            registry_store(&registry),
            format!("oci://{}/team/artifacts@sha256:", registry.address),
        ),
    ];
    for (store, expected_location) in stores {
        let termination = scratch.0.join("termination-log");
        let source = scratch.0.join("src");
        std::fs::create_dir_all(&source).unwrap();
        std::fs::write(source.join("buildspec.yml"), buildspec).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_slipway"))
            .args([
                "executor",
                "run",
                "--build-id",
                "web:1",
                "--namespace",
                "team",
                "--build-run",
                "web-7",
            ])
            .arg("--source")
            .arg(&source)
            .arg("--termination-message-path")
            .arg(&termination)
            .args(["--artifact-store", &store])
            .arg("--credentials-dir")
            .arg(&credentials)
            .env_remove("SLIPWAY_EXECUTOR_ARTIFACT_STORE")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
        let message = std::fs::read_to_string(&termination).unwrap();
        assert!(message.len() <= 4096);
        let summary: Value = serde_json::from_str(&message).unwrap();
        assert_eq!(summary["complete"], false);
        assert_eq!(summary["omittedExportedVariables"][0], "BIG");
        assert_eq!(
            summary["artifacts"][0]["name"], "primary",
            "records stay in the message"
        );
        let location = summary["resultLocation"]
            .as_str()
            .expect("the full result's location");
        assert!(location.starts_with(&expected_location), "{location}");
        if let Some(path) = location.strip_prefix("file://") {
            let stored: Value =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            assert_eq!(stored["complete"], true);
            assert_eq!(
                stored["exportedVariables"][0]["value"]
                    .as_str()
                    .unwrap()
                    .len(),
                5000
            );
        } else {
            let digest = location.rsplit('@').next().unwrap();
            let (status, body) = registry.manifest("team/artifacts", digest);
            assert_eq!(status, 200, "{body}");
            let manifest: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(
                manifest["artifactType"],
                "application/vnd.slipway.build-result.v1+json"
            );
            assert_eq!(manifest["layers"][0]["mediaType"], "application/json");
        }
    }
}

#[test]
fn a_large_artifact_streams_through_either_store_and_back() {
    let registry = TestRegistry::start();
    let scratch = Scratch::new("large");
    let credentials = registry_credentials(&scratch, &registry, PASSWORD);
    // Incompressible, so the ZIP is past the 16 MiB single-request limit of both stores.
    let buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n      - head -c 17000000 /dev/urandom > big.bin\nartifacts:\n  files:\n    - big.bin\n";
    let stores = [registry_store(&registry), bucket_store(&scratch)];
    for store in stores {
        let run = executor_run(&scratch, buildspec, &store, &credentials);
        assert_eq!(run.code, 0, "{}\n{}", run.result, run.stdout);
        let (_, location, digest) = records(&run).remove(0);
        let to = scratch.0.join("fetched");
        let _ = std::fs::remove_dir_all(&to);
        let (code, output) = executor_fetch(
            &["--location", &location, "--digest", &digest],
            &to,
            &credentials,
        );
        assert_eq!(code, 0, "{output}");
        let original = std::fs::read(scratch.0.join("src/big.bin")).unwrap();
        assert!(original.len() == 17_000_000);
        assert!(
            std::fs::read(to.join("big.bin")).unwrap() == original,
            "{location}"
        );
    }
}
