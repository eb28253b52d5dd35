//! The compatibility corpus: every real-world buildspec in `../shared/compat/buildspec/` is a
//! test case with its own expectation — valid, valid with these warnings, or invalid with these
//! errors — at exact lines and columns, plus a look at what the model made of it.
//!
//! The corpus lives beside the repository (`<repo>/../shared`), as in CI.

use std::path::PathBuf;

use slipway::build::buildspec::{
    BatchKind, BuildSpec, BuildSpecVersion, CacheAction, OnFailure, ReportFileFormat, Severity,
    Shell, parse_buildspec,
};

/// A diagnostic expected at (line, column) whose message contains the fragment.
type At = (u32, u32, &'static str);

/// What a file must give.
enum Outcome {
    /// Valid; the warnings listed (possibly none), and a look at the model.
    Valid(&'static [At], fn(&BuildSpec)),
    /// Invalid with exactly these errors (and no warnings).
    Invalid(&'static [At]),
}

/// The corpus folder, or a clear failure when it is missing.
fn corpus() -> PathBuf {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/compat/buildspec");
    assert!(
        folder.is_dir(),
        "the buildspec compatibility corpus is missing: expected {} (the shared/ folder must sit beside the repository)",
        folder.display()
    );
    folder
}

/// Parses the corpus file `name` and checks it against `outcome`.
fn check(name: &str, outcome: Outcome) {
    let path = corpus().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("unable to read {}: {error}", path.display()));
    let result = parse_buildspec(&text, name);
    let (found, expected, severity) = match (&result, &outcome) {
        (Ok(parsed), Outcome::Valid(warnings, look)) => {
            look(&parsed.spec);
            (&parsed.warnings, *warnings, Severity::Warning)
        }
        (Err(invalid), Outcome::Invalid(errors)) => {
            (&invalid.diagnostics, *errors, Severity::Error)
        }
        (Ok(parsed), Outcome::Invalid(_)) => panic!(
            "{name} parsed but must be invalid; warnings: {:#?}",
            parsed.warnings
        ),
        (Err(invalid), Outcome::Valid(..)) => panic!("{name} must be valid:\n{invalid}"),
    };
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

/// The texts of a list of commands.
fn texts(commands: &[slipway::build::buildspec::Command]) -> Vec<&str> {
    commands
        .iter()
        .map(|command| command.text.as_str())
        .collect()
}

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
            let declared = [$($file),*];
            let mut listed: Vec<String> = std::fs::read_dir(corpus())
                .expect("readable corpus")
                .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            listed.sort();
            let mut declared: Vec<String> = declared.iter().map(|name| (*name).to_owned()).collect();
            declared.sort();
            assert_eq!(listed, declared, "each corpus file needs exactly one case in this test");
        }
    };
}

corpus_cases! {
    windows_shell_is_warned_about_and_refused_at_run_time:
        "aws-amplify__amplify-cli__codebuild_specs_build_windows.yml" => Outcome::Valid(
            &[(3, 10, "`powershell.exe` is a Windows shell; Slipway runs Linux containers")],
            |spec| {
                assert_eq!(spec.env.shell.as_ref().map(|shell| shell.value), Some(Shell::PowerShell));
                let refused = spec.unsupported_features("build_windows.yml");
                assert_eq!(refused.len(), 1);
                assert!(refused[0].message.contains("env.shell: powershell.exe"));
            });
    bash_shell_with_many_variables_and_junit_reports_is_valid:
        "aws-amplify__amplify-cli__codebuild_specs_run_e2e_tests_linux.yml" => Outcome::Valid(&[], |spec| {
            assert_eq!(spec.env.shell.as_ref().map(|shell| shell.value), Some(Shell::Bash));
            assert_eq!(spec.env.variables.len(), 16);
            assert_eq!(spec.env.variables[2].value, "true");
            assert!(spec.env.variables[15].value.starts_with("----BEGIN PRIVATE KEY-----"));
            assert_eq!(spec.reports[0].file_format, ReportFileFormat::JunitXml);
            assert_eq!(spec.reports[0].base_directory.as_deref(), Some("$CODEBUILD_SRC_DIR/packages/amplify-e2e-tests/jest-reports/junit"));
            assert!(spec.unsupported_features("f").is_empty());
        });
    parameter_store_names_without_a_slash_are_valid:
        "aws-samples__aws-codebuild-samples__buildspecs_sonarqube.yml" => Outcome::Valid(&[], |spec| {
            let names: Vec<(&str, &str)> = spec.env.parameter_store.iter().map(|p| (p.name.as_str(), p.value.as_str())).collect();
            assert_eq!(names, [("SONARQUBE_TOKEN", "SonarQubeToken"), ("SONARQUBE_ENDPOINT", "SonarQubeEndpoint")]);
        });
    docker_runtime_as_a_number_and_trailing_spaces_are_valid:
        "aws-samples__aws-codebuild-samples__dockerbuildspec.yml" => Outcome::Valid(&[], |spec| {
            let install = spec.phases.install.as_ref().unwrap();
            assert_eq!((install.runtime_versions[0].name.as_str(), install.runtime_versions[0].value.as_str()), ("docker", "18"));
            assert_eq!(texts(&spec.phases.build.as_ref().unwrap().commands)[1], "echo Building the Docker image...");
        });
    version_0_1_commands_given_as_a_string_are_an_error:
        "aws-samples__codepipeline-nested-cfn__cfn-nested-repo_buildspec.yml" => Outcome::Invalid(
            &[(22, 7, "`phases.install.commands` must be a list, found a single value")]);
    exported_variables_and_discarded_paths_are_valid:
        "aws-samples__ecs-blue-green-deployment-with-codedeploy__iac_pipeline_codebuild_buildspec-container.yaml" => Outcome::Valid(&[], |spec| {
            assert_eq!(spec.env.exported_variables, ["IMAGE_URI"]);
            let artifacts = spec.artifacts.as_ref().unwrap();
            assert_eq!(artifacts.primary.files, ["/tmp/build.json", "imageDetail.json"]);
            assert!(artifacts.primary.discard_paths);
            assert_eq!(spec.phases.pre_build.as_ref().unwrap().commands.len(), 5);
        });
    version_0_1_empty_command_item_is_an_error:
        "aws-samples__ecs-demo-php-simple-app__buildspec.yml" => Outcome::Invalid(
            &[(6, 7, "`phases.install.commands[0]` is empty")]);
    null_post_build_commands_are_a_warning_and_case_esac_folds_into_one_command:
        "aws__amazon-ecs-agent__buildspecs_pr-build-stephyr" => Outcome::Valid(
            &[(79, 5, "`phases.post_build.commands` is empty")],
            |spec| {
                let install = texts(&spec.phases.install.as_ref().unwrap().commands);
                assert_eq!(install[1], "case $(uname -m) in x86_64) architecture=\"amd64\" ;; aarch64) architecture=\"arm64\" ;; esac");
                assert!(spec.phases.post_build.as_ref().unwrap().commands.is_empty());
                assert_eq!(spec.artifacts.as_ref().unwrap().primary.name.as_deref(), Some("$CODEBUILD_RESOLVED_SOURCE_VERSION"));
            });
    batch_build_graph_without_phases_is_valid_with_a_warning:
        "aws__aws-encryption-sdk-javascript__codebuild_release_prod-release.yml" => Outcome::Valid(
            &[(3, 1, "batch builds are not run by Slipway")],
            |spec| {
                let batch = spec.batch.as_ref().unwrap();
                assert_eq!(batch.fast_fail, Some(true));
                let Some(BatchKind::BuildGraph(tasks)) = &batch.kind else { panic!("not a graph") };
                let identifiers: Vec<&str> = tasks.iter().filter_map(|task| task.identifier.as_deref()).collect();
                assert_eq!(identifiers, ["nodejs10", "nodejs12", "version", "publish"]);
                assert_eq!(tasks[2].depend_on, ["nodejs10", "nodejs12"]);
                assert_eq!(spec.unsupported_features("prod-release.yml")[0].line, 3);
            });
    secrets_manager_ids_with_slashes_and_folded_scripts_are_valid:
        "aws__aws-encryption-sdk-javascript__codebuild_release_publish.yml" => Outcome::Valid(&[], |spec| {
            let secrets: Vec<(&str, &str, Option<&str>)> = spec.env.secrets_manager.iter()
                .map(|secret| (secret.name.as_str(), secret.secret_id.as_str(), secret.json_key.as_deref()))
                .collect();
            assert_eq!(secrets, [
                ("OTP_SECRET_KEY", "npm/aws-crypto-tools-ci-bot/2FA", Some("OTP_SECRET_KEY")),
                ("NPM_TOKEN", "npm/aws-crypto-tools-ci-bot/2FA", Some("NPM_TOKEN")),
            ]);
            let build = texts(&spec.phases.build.as_ref().unwrap().commands);
            assert!(build[0].starts_with("OTP=`node -e \"\n  auth=require('otplib').authenticator;\n"), "{}", build[0]);
            assert_eq!(spec.phases.install.as_ref().unwrap().runtime_versions[0].value, "16");
        });
    git_credential_helper_and_empty_variables_are_valid:
        "aws__aws-encryption-sdk-javascript__codebuild_release_version.yml" => Outcome::Valid(&[], |spec| {
            assert!(spec.env.git_credential_helper);
            assert_eq!(spec.env.variables[2].name, "VERSION_BUMP");
            assert_eq!(spec.env.variables[2].value, "");
        });
    runtime_version_from_a_variable_and_finally_are_valid:
        "aws__aws-sdk-java-v2__buildspecs_integ-test.yml" => Outcome::Valid(&[], |spec| {
            assert_eq!(spec.phases.install.as_ref().unwrap().runtime_versions[0].value, "$JAVA_RUNTIME");
            let build = spec.phases.build.as_ref().unwrap();
            assert_eq!(build.commands.len(), 5);
            assert_eq!(texts(&build.finally)[1], "find ./ -name 'TEST-*.xml' -type f -exec cp {} codebuild-test-reports/ \\;");
            assert_eq!(spec.reports[0].name, "IntegTests");
        });
    cache_reports_and_secondary_artifacts_are_valid:
        "aws__aws-toolkit-jetbrains__buildspec_linuxTests.yml" => Outcome::Valid(&[], |spec| {
            let cache = spec.cache.as_ref().unwrap();
            assert_eq!((cache.paths.as_slice(), cache.action), (&["/root/.gradle/wrapper/**/*".to_owned()][..], CacheAction::RestoreAndSave));
            assert!(spec.reports[0].discard_paths);
            let plugin = &spec.artifacts.as_ref().unwrap().secondary_artifacts[0];
            assert_eq!((plugin.identifier.as_str(), plugin.set.name.as_deref(), plugin.set.discard_paths), ("plugin", Some("plugin.zip"), true));
        });
    four_space_indentation_and_inline_comments_are_valid:
        "aws__aws-toolkit-vscode__buildspec_linuxTests.yml" => Outcome::Valid(&[], |spec| {
            let build = texts(&spec.phases.build.as_ref().unwrap().commands);
            assert_eq!(build[4], "CI_BUILD_URL=$(echo $CODEBUILD_BUILD_URL | sed 's/#/%23/g')");
            assert_eq!(spec.env.variables[1].value, "1");
        });
    capitalised_commands_key_is_warned_about_with_the_right_spelling:
        "aws__aws-toolkit-vscode__buildspec_release_50githubrelease.yml" => Outcome::Valid(
            &[(8, 9, "unknown key `Commands` in `phases.install` is ignored; did you mean `commands`?")],
            |spec| {
                assert!(spec.phases.install.as_ref().unwrap().commands.is_empty());
                assert_eq!(texts(&spec.phases.build.as_ref().unwrap().commands)[5], "HASH=$(sha384sum -b $UPLOAD_TARGET | cut -d\" \" -f1)");
            });
    powershell_syntax_without_a_shell_is_warned_about_where_it_appears:
        "aws__aws-toolkit-vscode__buildspec_windowsTests.yml" => Outcome::Valid(
            &[
                (12, 9, "`phases.install.commands` uses `$Env:CODE_COV_TOKEN`, PowerShell syntax"),
                (25, 9, "`phases.post_build.commands` uses `$env:TEMP`"),
                (59, 21, "`reports.unit-test.base-directory` uses `$env:TEMP`"),
                (63, 21, "`artifacts.base-directory` uses `$env:TEMP`"),
            ],
            |spec| assert_eq!(spec.artifacts.as_ref().unwrap().primary.files, ["**/*"]));
    batch_build_matrix_of_eighteen_builds_is_valid_with_a_warning:
        "aws__s2n-tls__codebuild_spec_buildspec_integ_matrix.yml" => Outcome::Valid(
            &[(21, 1, "batch builds are not run by Slipway")],
            |spec| {
                let Some(BatchKind::BuildMatrix(matrix)) = &spec.batch.as_ref().unwrap().kind else { panic!("not a matrix") };
                assert_eq!(matrix.build_count(), 18);
                assert_eq!(matrix.variables[1].1, ["4.8", "6", "9"]);
                assert_eq!(matrix.static_settings.env.privileged_mode, Some(false));
                assert_eq!(spec.phases.install.as_ref().unwrap().runtime_versions[0].value, "3.7");
            });
    batch_build_list_with_fleets_is_valid_with_a_warning:
        "aws__s2n-tls__codebuild_spec_buildspec_ktls_batch.yml" => Outcome::Valid(
            &[(24, 1, "batch builds are not run by Slipway")],
            |spec| {
                let Some(BatchKind::BuildList(tasks)) = &spec.batch.as_ref().unwrap().kind else { panic!("not a list") };
                assert_eq!(tasks[0].env.fleet.as_deref(), Some("ubuntu25_x86_64-x86_64"));
                assert_eq!(tasks[1].env.variables[0].value, "1");
                assert_eq!(spec.env.shell.as_ref().map(|shell| shell.value), Some(Shell::Bash));
            });
    artifact_names_with_shell_expansions_are_valid:
        "aws__s2n-tls__codebuild_spec_buildspec_ubuntu_fuzz_artifacts.yml" => Outcome::Valid(&[], |spec| {
            let artifacts = spec.artifacts.as_ref().unwrap();
            assert_eq!(artifacts.primary.name.as_deref(), Some("fuzz-corpus-$FUZZ_TESTS-$(date +%Y%m%d)-$CODEBUILD_BUILD_NUMBER"));
            assert!(!artifacts.primary.discard_paths);
            assert_eq!(artifacts.primary.base_directory.as_deref(), Some("./tests/fuzz/corpus"));
            assert!(artifacts.secondary_artifacts[0].set.discard_paths);
        });
    finally_only_post_build_and_folded_plain_commands_are_valid:
        "aws__sagemaker-python-sdk__buildspec.yml" => Outcome::Valid(&[], |spec| {
            let build = texts(&spec.phases.build.as_ref().unwrap().commands);
            assert_eq!(build[4], "AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY= AWS_SESSION_TOKEN= AWS_CONTAINER_CREDENTIALS_RELATIVE_URI= AWS_DEFAULT_REGION= tox -e py36,py27 -- tests/unit");
            let post_build = spec.phases.post_build.as_ref().unwrap();
            assert!(post_build.commands.is_empty());
            assert_eq!(post_build.finally.len(), 4);
        });
    multi_line_blocks_with_continuations_are_valid:
        "awslabs__aws-deployment-framework__samples_sample-python-cdk-app_buildspec.yml" => Outcome::Valid(&[], |spec| {
            let runtimes: Vec<(&str, &str)> = spec.phases.install.as_ref().unwrap().runtime_versions.iter()
                .map(|runtime| (runtime.name.as_str(), runtime.value.as_str())).collect();
            assert_eq!(runtimes, [("python", "3.12"), ("nodejs", "24")]);
            assert_eq!(spec.artifacts.as_ref().unwrap().primary.files, ["template.yml", "params/*.json", "params/*.yml"]);
        });
    block_indicator_with_a_trailing_space_is_valid:
        "cohalz__kaniko-codebuild-example__buildspec.yml" => Outcome::Valid(&[], |spec| {
            let build = texts(&spec.phases.build.as_ref().unwrap().commands);
            assert!(build[6].starts_with("docker run \\\n  -v $(pwd):/workspace \\\n"), "{}", build[6]);
            assert_eq!(spec.cache.as_ref().unwrap().paths, ["/cache/**/*"]);
        });
    on_failure_abort_and_continue_are_valid:
        "shashank0490__terraform-iacdevops-with-aws-codepipeline__buildspec-dev.yml" => Outcome::Valid(&[], |spec| {
            let on_failure: Vec<Option<OnFailure>> = spec.phases.iter().map(|(_, phase)| phase.on_failure.clone()).collect();
            assert_eq!(on_failure, [Some(OnFailure::Abort), Some(OnFailure::Abort), Some(OnFailure::Abort), Some(OnFailure::Continue)]);
            assert_eq!(spec.env.parameter_store[0].value, "/CodeBuild/MY_AWS_ACCESS_KEY_ID");
            assert_eq!(spec.version, BuildSpecVersion::V0_2);
        });
}
