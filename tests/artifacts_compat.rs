//! Real `artifacts` sections from the compat corpus (../shared/compat/buildspec), each selected
//! on a synthetic tree that looks like the project after its build. Variables are substituted
//! as the build's shell would have them (the shell evaluation itself is tested through the
//! executor in tests/artifact_store.rs).

use std::path::Path;

use slipway::build::artifacts::selection::select_files;
use slipway::build::artifacts::store::archive_file_name;
use slipway::build::artifacts::tree::MemoryTree;
use slipway::build::buildspec::{ArtifactSet, parse_buildspec};

const COMPAT: &str = "../shared/compat/buildspec";

/// The artifact sets of a corpus file: `(identifier, set)`, primary first.
fn artifact_sets(file: &str) -> Vec<(String, ArtifactSet)> {
    let path = Path::new(COMPAT).join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    let parsed = parse_buildspec(&text, file).unwrap_or_else(|error| panic!("{file}: {error}"));
    let artifacts = parsed
        .spec
        .artifacts
        .expect("the file has an artifacts section");
    let mut sets = vec![("primary".to_owned(), artifacts.primary)];
    sets.extend(
        artifacts
            .secondary_artifacts
            .into_iter()
            .map(|secondary| (secondary.identifier, secondary.set)),
    );
    sets
}

/// `$NAME` and `${NAME}` replaced from `variables` (what the build's shell would expand).
fn substitute(text: &str, variables: &[(&str, &str)]) -> String {
    let mut text = text.to_owned();
    // Longest names first, so `$ECS_AGENT_TAR` is not cut at `$ECS`.
    let mut sorted = variables.to_vec();
    sorted.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    for (name, value) in sorted {
        text = text.replace(&format!("${{{name}}}"), value);
        text = text.replace(&format!("${name}"), value);
    }
    text
}

fn evaluated(set: &ArtifactSet, variables: &[(&str, &str)]) -> ArtifactSet {
    let mut set = set.clone();
    set.files = set.files.iter().map(|f| substitute(f, variables)).collect();
    set.base_directory = set.base_directory.map(|b| substitute(&b, variables));
    set.name = set.name.map(|n| substitute(&n, variables));
    set
}

/// The archive names selected for each set, keyed by identifier and archive file name.
fn select(
    file: &str,
    tree: &MemoryTree,
    variables: &[(&str, &str)],
) -> Vec<(String, String, Result<Vec<String>, String>)> {
    artifact_sets(file)
        .iter()
        .map(|(identifier, set)| {
            let set = evaluated(set, variables);
            let names = select_files(tree, Path::new("/src"), &set)
                .map(|selection| selection.names().into_iter().map(str::to_owned).collect())
                .map_err(|error| error.to_string());
            (
                identifier.clone(),
                archive_file_name(set.name.as_deref(), identifier),
                names,
            )
        })
        .collect()
}

fn ok(
    identifier: &str,
    file_name: &str,
    names: &[&str],
) -> (String, String, Result<Vec<String>, String>) {
    (
        identifier.to_owned(),
        file_name.to_owned(),
        Ok(names.iter().map(|name| (*name).to_owned()).collect()),
    )
}

#[test]
fn a_single_file_artifact() {
    let tree = MemoryTree::new()
        .file("/src/shared-scripts.sh")
        .file("/src/scripts/other.sh");
    assert_eq!(
        select(
            "aws-amplify__amplify-cli__codebuild_specs_build_windows.yml",
            &tree,
            &[]
        ),
        vec![ok("primary", "primary.zip", &["shared-scripts.sh"])]
    );
}

#[test]
fn an_absolute_file_and_a_missing_one_with_discard_paths() {
    let tree = MemoryTree::new()
        .file("/src/imageDetail.json")
        .file("/src/Dockerfile")
        .file("/tmp/build.json");
    assert_eq!(
        select(
            "aws-samples__ecs-blue-green-deployment-with-codedeploy__iac_pipeline_codebuild_buildspec-container.yaml",
            &tree,
            &[]
        ),
        vec![ok(
            "primary",
            "primary.zip",
            &["build.json", "imageDetail.json"]
        )]
    );
}

#[test]
fn an_absolute_base_directory_and_a_named_secondary_artifact() {
    let tree = MemoryTree::new()
        .file("/src/build.gradle")
        .file("/tmp/testArtifacts/reports/tests/index.html")
        .file("/tmp/testArtifacts/test-results/TEST-a.xml")
        .file("/tmp/buildArtifacts/plugin-1.0.zip")
        .file("/tmp/buildArtifacts/nested/ignored.txt");
    assert_eq!(
        select(
            "aws__aws-toolkit-jetbrains__buildspec_linuxTests.yml",
            &tree,
            &[]
        ),
        vec![
            ok(
                "primary",
                "primary.zip",
                &["reports/tests/index.html", "test-results/TEST-a.xml"]
            ),
            ok("plugin", "plugin.zip", &["plugin-1.0.zip"]),
        ]
    );
}

#[test]
fn fuzz_corpus_and_logs_with_evaluated_names_and_base_directories() {
    let tree = MemoryTree::new()
        .file("/src/tests/fuzz/corpus/s2n_cert_fuzz_test/seed1")
        .file("/src/tests/fuzz/corpus/s2n_cert_fuzz_test/seed2")
        .file("/src/tests/fuzz/corpus/other_test/seed")
        .file("/src/tests/fuzz/s2n_cert_fuzz_test_results.txt")
        .file("/src/tests/fuzz/logs/s2n_cert_fuzz_test_output.txt")
        .file("/src/tests/fuzz/Makefile");
    let variables = [
        ("FUZZ_TESTS", "s2n_cert_fuzz_test"),
        ("CODEBUILD_BUILD_NUMBER", "42"),
    ];
    let selected = select(
        "aws__s2n-tls__codebuild_spec_buildspec_ubuntu_fuzz_artifacts.yml",
        &tree,
        &variables,
    );
    // `$(date +%Y%m%d)` stays unevaluated here; the shell evaluates it in a real build.
    assert_eq!(
        selected,
        vec![
            ok(
                "primary",
                "fuzz-corpus-s2n_cert_fuzz_test-$(date +%Y%m%d)-42.zip",
                &["s2n_cert_fuzz_test/seed1", "s2n_cert_fuzz_test/seed2"]
            ),
            ok(
                "logs",
                "fuzz-logs-s2n_cert_fuzz_test-$(date +%Y%m%d)-42.zip",
                &[
                    "s2n_cert_fuzz_test_output.txt",
                    "s2n_cert_fuzz_test_results.txt"
                ]
            ),
        ]
    );
}

#[test]
fn a_cdk_template_and_parameter_files() {
    let tree = MemoryTree::new()
        .file("/src/template.yml")
        .file("/src/params/global.json")
        .file("/src/params/prod.yml")
        .file("/src/params/README.md")
        .file("/src/app.py");
    assert_eq!(
        select(
            "awslabs__aws-deployment-framework__samples_sample-python-cdk-app_buildspec.yml",
            &tree,
            &[]
        ),
        vec![ok(
            "primary",
            "primary.zip",
            &["params/global.json", "params/prod.yml", "template.yml"]
        )]
    );
}

#[test]
fn files_named_by_variables_and_an_absolute_source_path() {
    let tree = MemoryTree::new()
        .file("/src/packages/amplify-e2e-tests/amplify-e2e-reports/junit.xml")
        .file("/src/packages/amplify-e2e-tests/amplify-e2e-reports/index.html");
    assert_eq!(
        select(
            "aws-amplify__amplify-cli__codebuild_specs_run_e2e_tests_linux.yml",
            &tree,
            &[("CODEBUILD_SRC_DIR", "/src")]
        ),
        vec![ok(
            "primary",
            "primary.zip",
            &[
                "src/packages/amplify-e2e-tests/amplify-e2e-reports/index.html",
                "src/packages/amplify-e2e-tests/amplify-e2e-reports/junit.xml"
            ]
        )]
    );
    let agent = MemoryTree::new()
        .file("/src/ecs-agent-v1.tar")
        .file("/src/ecs-agent-v1.rpm")
        .file("/src/build.log")
        .file("/src/csi-driver.tar");
    assert_eq!(
        select(
            "aws__amazon-ecs-agent__buildspecs_pr-build-stephyr",
            &agent,
            &[
                ("ECS_AGENT_TAR", "ecs-agent-v1.tar"),
                ("ECS_AGENT_RPM", "ecs-agent-v1.rpm"),
                ("BUILD_LOG", "build.log"),
                ("CSI_DRIVER_TAR", "csi-driver.tar"),
                ("CODEBUILD_RESOLVED_SOURCE_VERSION", "3f2a9c"),
            ]
        ),
        vec![ok(
            "primary",
            "3f2a9c.zip",
            &[
                "build.log",
                "csi-driver.tar",
                "ecs-agent-v1.rpm",
                "ecs-agent-v1.tar"
            ]
        )]
    );
}

#[test]
fn a_build_that_produced_nothing_fails_like_codebuild() {
    let empty = MemoryTree::new().file("/src/buildspec.yml");
    assert_eq!(
        select(
            "aws-amplify__amplify-cli__codebuild_specs_build_windows.yml",
            &empty,
            &[]
        ),
        vec![(
            "primary".to_owned(),
            "primary.zip".to_owned(),
            Err("no matching artifact paths found".to_owned())
        )]
    );
}
