//! `artifacts`, `reports`, `cache` and `proxy`.

use super::{BUILD, Error, Expected, Warning, assert_diagnostics, parse_clean};
use crate::build::buildspec::{ArtifactSet, CacheAction, Proxy, ReportFileFormat};

#[test]
fn artifacts_read_every_key() {
    let spec = parse_clean(&format!(
        "version: 0.2\n{BUILD}artifacts:\n  files:\n    - '**/*'\n    - $BUILD_LOG\n  name: fuzz-$(date +%Y%m%d)-$CODEBUILD_BUILD_NUMBER\n  base-directory: \"./out\"\n  discard-paths: no\n  exclude-paths: ['**/*.tmp', cache/**/*]\n  enable-symlinks: yes\n  s3-prefix: builds\n  secondary-artifacts:\n    logs:\n      files:\n        - '**/*_results.txt'\n      name: logs.zip\n      discard-paths: yes\n      base-directory: ./tests\n"
    ));
    let artifacts = spec.artifacts.expect("artifacts");
    assert_eq!(
        artifacts.primary,
        ArtifactSet {
            files: vec!["**/*".into(), "$BUILD_LOG".into()],
            name: Some("fuzz-$(date +%Y%m%d)-$CODEBUILD_BUILD_NUMBER".into()),
            base_directory: Some("./out".into()),
            discard_paths: false,
            exclude_paths: vec!["**/*.tmp".into(), "cache/**/*".into()],
            enable_symlinks: true,
            s3_prefix: Some("builds".into()),
        }
    );
    assert_eq!(artifacts.secondary_artifacts.len(), 1);
    let logs = &artifacts.secondary_artifacts[0];
    assert_eq!(logs.identifier, "logs");
    assert_eq!(
        logs.set,
        ArtifactSet {
            files: vec!["**/*_results.txt".into()],
            name: Some("logs.zip".into()),
            base_directory: Some("./tests".into()),
            discard_paths: true,
            ..ArtifactSet::default()
        }
    );
}

#[test]
fn discard_paths_accepts_yes_no_true_false() {
    let cases = [
        ("yes", true),
        ("no", false),
        ("true", true),
        ("false", false),
        ("Yes", true),
        ("'no'", false),
        ("\"TRUE\"", true),
        ("on", true),
    ];
    for (value, expected) in cases {
        let spec = parse_clean(&format!(
            "version: 0.2\n{BUILD}artifacts:\n  files: [a]\n  discard-paths: {value}\n"
        ));
        assert_eq!(
            spec.artifacts.unwrap().primary.discard_paths,
            expected,
            "for {value}"
        );
    }
}

#[test]
fn exclude_paths_may_be_a_single_glob() {
    let spec = parse_clean(&format!(
        "version: 0.2\n{BUILD}artifacts:\n  files: ['**/*']\n  exclude-paths: '**/*.log'\n"
    ));
    assert_eq!(spec.artifacts.unwrap().primary.exclude_paths, ["**/*.log"]);
}

#[test]
fn wrong_artifact_settings_are_errors_with_positions() {
    let cases: &[(&str, &[Expected])] = &[
        (
            "artifacts:\n  name: out\n",
            &[(6, 1, Error, "`artifacts` has no `files`")],
        ),
        (
            "artifacts:\n  files: target/app.jar\n",
            &[(
                7,
                10,
                Error,
                "`artifacts.files` must be a list, found a single value",
            )],
        ),
        (
            "artifacts:\n  files: [a]\n  discard-paths: maybe\n",
            &[(
                8,
                18,
                Error,
                "`artifacts.discard-paths` must be yes or no, found `maybe`",
            )],
        ),
        (
            "artifacts:\n  files: [a]\n  discard_paths: yes\n",
            &[(8, 3, Warning, "did you mean `discard-paths`?")],
        ),
        (
            "artifacts:\n  files: [a]\n  secondary-artifacts:\n    extra:\n      name: x\n",
            &[(
                9,
                5,
                Error,
                "`artifacts.secondary-artifacts.extra` has no `files`",
            )],
        ),
        (
            "artifacts:\n  files: [a]\n  type: zip\n",
            &[(8, 3, Warning, "`artifacts.type` is a version 0.1 setting")],
        ),
        (
            "artifacts:\n  files: [a]\n  base-directory: $env:TEMP/out\n",
            &[(
                8,
                19,
                Warning,
                "`artifacts.base-directory` uses `$env:TEMP`",
            )],
        ),
        (
            "artifacts: [a]\n",
            &[(6, 12, Error, "`artifacts` must be a mapping")],
        ),
    ];
    for (artifacts, expected) in cases {
        assert_diagnostics(&format!("version: 0.2\n{BUILD}{artifacts}"), expected);
    }
}

#[test]
fn version_0_1_accepts_artifacts_type_silently() {
    let spec = parse_clean(&format!(
        "version: 0.1\n{BUILD}artifacts:\n  type: zip\n  files: [a]\n"
    ));
    assert_eq!(spec.artifacts.unwrap().primary.files, ["a"]);
}

#[test]
fn reports_read_every_key_and_default_to_junit() {
    let spec = parse_clean(&format!(
        "version: 0.2\n{BUILD}reports:\n  e2e-reports:\n    files:\n      - '*.xml'\n    file-format: 'JUNITXML'\n    base-directory: '$CODEBUILD_SRC_DIR/reports'\n  coverage:\n    files: [coverage.xml]\n    file-format: CoberturaXml\n    discard-paths: yes\n  IntegTests:\n    files: ['reports/**/*']\n"
    ));
    let summary: Vec<(&str, ReportFileFormat, bool, Option<&str>)> = spec
        .reports
        .iter()
        .map(|group| {
            (
                group.name.as_str(),
                group.file_format,
                group.discard_paths,
                group.base_directory.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "e2e-reports",
                ReportFileFormat::JunitXml,
                false,
                Some("$CODEBUILD_SRC_DIR/reports")
            ),
            ("coverage", ReportFileFormat::CoberturaXml, true, None),
            ("IntegTests", ReportFileFormat::JunitXml, false, None),
        ]
    );
}

#[test]
fn wrong_report_settings_are_errors() {
    let cases: &[(&str, &[Expected])] = &[
        (
            "reports:\n  unit:\n    base-directory: out\n",
            &[(7, 3, Error, "report group `unit` has no `files`")],
        ),
        (
            "reports:\n  unit:\n    files: [a]\n    file-format: JUNIT\n",
            &[(9, 18, Error, "unknown report file format `JUNIT`")],
        ),
        (
            "reports:\n  unit:\n    files: [a]\n    format: JUNITXML\n",
            &[(
                9,
                5,
                Warning,
                "unknown key `format` in `reports.unit` is ignored",
            )],
        ),
    ];
    for (reports, expected) in cases {
        assert_diagnostics(&format!("version: 0.2\n{BUILD}{reports}"), expected);
    }
}

#[test]
fn cache_reads_paths_key_fallback_keys_and_action() {
    let spec = parse_clean(&format!(
        "version: 0.2\n{BUILD}cache:\n  key: npm-$(codebuild-hash-files package-lock.json)\n  fallback-keys:\n    - npm-\n  action: restore\n  paths:\n    - /cache/**/*\n"
    ));
    let cache = spec.cache.unwrap();
    assert_eq!(cache.paths, ["/cache/**/*"]);
    assert_eq!(
        cache.key.as_deref(),
        Some("npm-$(codebuild-hash-files package-lock.json)")
    );
    assert_eq!(cache.fallback_keys, ["npm-"]);
    assert_eq!(cache.action, CacheAction::Restore);
    let plain = parse_clean(&format!(
        "version: 0.2\n{BUILD}cache:\n  paths: ['/root/.m2/**/*']\n"
    ))
    .cache
    .unwrap();
    assert_eq!(
        (plain.key, plain.action),
        (None, CacheAction::RestoreAndSave)
    );
}

#[test]
fn wrong_cache_settings_are_diagnosed() {
    let cases: &[(&str, &[Expected])] = &[
        (
            "cache:\n  key: k\n",
            &[(6, 1, Error, "`cache` has no `paths`")],
        ),
        (
            "cache:\n  paths: [a]\n  action: both\n",
            &[(
                8,
                11,
                Error,
                "`cache.action` must be `restore` or `save`, found `both`",
            )],
        ),
        (
            "cache:\n  paths: [a]\n  fallback-keys: [k]\n",
            &[(
                8,
                3,
                Warning,
                "`cache.fallback-keys` is ignored without `cache.key`",
            )],
        ),
    ];
    for (cache, expected) in cases {
        assert_diagnostics(&format!("version: 0.2\n{BUILD}{cache}"), expected);
    }
}

#[test]
fn proxy_switches_are_read() {
    let spec = parse_clean(&format!(
        "version: 0.2\nproxy:\n  upload-artifacts: yes\n  logs: no\n{BUILD}"
    ));
    assert_eq!(
        spec.proxy,
        Proxy {
            upload_artifacts: true,
            logs: false
        }
    );
}
