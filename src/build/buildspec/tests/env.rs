//! `env` and `environment_variables`.

use super::{BUILD, Error, Expected, Warning, assert_diagnostics, parse_clean};
use crate::build::buildspec::env::split_secret_reference;
use crate::build::buildspec::{SecretReference, Shell, Variable};

fn variables(pairs: &[(&str, &str)]) -> Vec<Variable> {
    pairs
        .iter()
        .map(|(name, value)| Variable {
            name: (*name).to_owned(),
            value: (*value).to_owned(),
        })
        .collect()
}

#[test]
fn variables_keep_numbers_and_booleans_as_written() {
    let spec = parse_clean(&format!(
        "version: 0.2\nenv:\n  variables:\n    CI: true\n    FLAG: yes\n    COUNT: 6\n    GCC: 4.8\n    PY: 3.10\n    EMPTY: \"\"\n    TEXT: 'a b'\n    BLOCK: |\n      one\n      two\n{BUILD}"
    ));
    assert_eq!(
        spec.env.variables,
        variables(&[
            ("CI", "true"),
            ("FLAG", "yes"),
            ("COUNT", "6"),
            ("GCC", "4.8"),
            ("PY", "3.10"),
            ("EMPTY", ""),
            ("TEXT", "a b"),
            ("BLOCK", "one\ntwo\n"),
        ])
    );
}

#[test]
fn parameter_store_and_secrets_manager_are_read() {
    let spec = parse_clean(&format!(
        "version: 0.2\nenv:\n  parameter-store:\n    TOKEN: /CodeBuild/token\n    NAME: plain\n  secrets-manager:\n    OTP: npm/bot/2FA:OTP_SECRET_KEY\n    WHOLE: my-secret\n{BUILD}"
    ));
    assert_eq!(
        spec.env.parameter_store,
        variables(&[("TOKEN", "/CodeBuild/token"), ("NAME", "plain")])
    );
    let ids: Vec<(&str, Option<&str>)> = spec
        .env
        .secrets_manager
        .iter()
        .map(|secret| (secret.secret_id.as_str(), secret.json_key.as_deref()))
        .collect();
    assert_eq!(
        ids,
        [("npm/bot/2FA", Some("OTP_SECRET_KEY")), ("my-secret", None)]
    );
}

#[test]
fn secret_references_split_into_id_key_stage_and_version() {
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf";
    let cases = [
        ("name", Some(("name", None, None, None))),
        ("name:key", Some(("name", Some("key"), None, None))),
        (
            "name:key:AWSPREVIOUS",
            Some(("name", Some("key"), Some("AWSPREVIOUS"), None)),
        ),
        (
            "name::AWSCURRENT",
            Some(("name", None, Some("AWSCURRENT"), None)),
        ),
        (
            "name:key::v-1",
            Some(("name", Some("key"), None, Some("v-1"))),
        ),
        ("a/b/c:key", Some(("a/b/c", Some("key"), None, None))),
        (":key", None),
        ("", None),
    ];
    for (reference, expected) in cases {
        let found = split_secret_reference("VAR", reference);
        let expected = expected.map(
            |(id, key, stage, version): (&str, Option<&str>, Option<&str>, Option<&str>)| {
                SecretReference {
                    name: "VAR".to_owned(),
                    secret_id: id.to_owned(),
                    json_key: key.map(str::to_owned),
                    version_stage: stage.map(str::to_owned),
                    version_id: version.map(str::to_owned),
                }
            },
        );
        assert_eq!(found, expected, "for {reference:?}");
    }
    let with_arn = split_secret_reference("VAR", &format!("{arn}:password")).unwrap();
    assert_eq!(
        (with_arn.secret_id.as_str(), with_arn.json_key.as_deref()),
        (arn, Some("password"))
    );
}

#[test]
fn exported_variables_and_git_credential_helper_are_read() {
    let spec = parse_clean(&format!(
        "version: 0.2\nenv:\n  exported-variables:\n    - IMAGE_URI\n    - TAG\n  git-credential-helper: yes\n{BUILD}"
    ));
    assert_eq!(spec.env.exported_variables, ["IMAGE_URI", "TAG"]);
    assert!(spec.env.git_credential_helper);
    for (value, expected) in [
        ("no", false),
        ("yes", true),
        ("true", true),
        ("False", false),
        ("'YES'", true),
    ] {
        let spec = parse_clean(&format!(
            "version: 0.2\nenv:\n  git-credential-helper: {value}\n{BUILD}"
        ));
        assert_eq!(spec.env.git_credential_helper, expected, "for {value}");
    }
}

#[test]
fn linux_shells_are_accepted_and_windows_shells_are_warned_about() {
    for (tag, shell) in [
        ("bash", Shell::Bash),
        ("/bin/sh", Shell::Sh),
        ("sh", Shell::Sh),
        ("/bin/bash", Shell::Bash),
    ] {
        let spec = parse_clean(&format!("version: 0.2\nenv:\n  shell: {tag}\n{BUILD}"));
        assert_eq!(
            spec.env.shell.map(|shell| shell.value),
            Some(shell),
            "for {tag}"
        );
    }
    let cases: &[(&str, &[Expected])] = &[
        (
            "powershell.exe",
            &[(
                3,
                10,
                Warning,
                "`powershell.exe` is a Windows shell; Slipway runs Linux containers",
            )],
        ),
        (
            "cmd.exe",
            &[(3, 10, Warning, "`cmd.exe` is a Windows shell")],
        ),
        (
            "powershell",
            &[(3, 10, Warning, "`powershell` is a Windows shell")],
        ),
        ("zsh", &[(3, 10, Error, "unknown shell `zsh`")]),
    ];
    for (tag, expected) in cases {
        assert_diagnostics(
            &format!("version: 0.2\nenv:\n  shell: {tag}\n{BUILD}"),
            expected,
        );
    }
}

#[test]
fn version_0_1_reads_environment_variables_plaintext() {
    let spec = parse_clean(&format!(
        "version: 0.1\nenvironment_variables:\n  plaintext:\n    FILES: |\n      a.yml\n      b.yml\n    N: 1\n{BUILD}"
    ));
    assert_eq!(
        spec.env.variables,
        variables(&[("FILES", "a.yml\nb.yml\n"), ("N", "1")])
    );
}

#[test]
fn version_0_2_ignores_environment_variables_with_a_warning() {
    let text = format!("version: 0.2\nenvironment_variables:\n  plaintext:\n    A: b\n{BUILD}");
    assert_diagnostics(
        &text,
        &[(
            2,
            1,
            Warning,
            "`environment_variables` is the version 0.1 spelling of `env`",
        )],
    );
    let parsed = crate::build::buildspec::parse_buildspec(&text, "b.yml").unwrap();
    assert!(parsed.spec.env.variables.is_empty());
}

#[test]
fn questionable_variables_are_warned_about_and_wrong_shapes_are_errors() {
    let cases: &[(&str, &[Expected])] = &[
        (
            "  variables:\n    CODEBUILD_X: a\n",
            &[(4, 5, Warning, "`CODEBUILD_X` starts with `CODEBUILD_`")],
        ),
        (
            "  variables:\n    MY-VAR: a\n",
            &[(4, 5, Warning, "`MY-VAR` is not a valid shell variable name")],
        ),
        (
            "  variables:\n    EMPTY:\n",
            &[(4, 5, Warning, "`env.variables.EMPTY` has no value")],
        ),
        (
            "  variables:\n    LIST: [a, b]\n",
            &[(
                4,
                11,
                Error,
                "`env.variables.LIST` must be a single value, found a list",
            )],
        ),
        (
            "  variables:\n    - A=b\n",
            &[(4, 5, Error, "`env.variables` must be a mapping")],
        ),
        (
            "  exported-variables:\n    - AWS_REGION\n",
            &[(4, 7, Warning, "`AWS_REGION` cannot be exported")],
        ),
        (
            "  exported-variables: IMAGE\n",
            &[(3, 23, Error, "`env.exported-variables` must be a list")],
        ),
        (
            "  git-credential-helper: maybe\n",
            &[(
                3,
                26,
                Error,
                "`env.git-credential-helper` must be yes or no, found `maybe`",
            )],
        ),
        (
            "  secrets-manager:\n    X: ':key'\n",
            &[(4, 8, Error, "`env.secrets-manager.X` has no secret id")],
        ),
        (
            "  parameter_store:\n    X: y\n",
            &[(
                3,
                3,
                Warning,
                "unknown key `parameter_store` in `env` is ignored; did you mean `parameter-store`?",
            )],
        ),
    ];
    for (env, expected) in cases {
        assert_diagnostics(&format!("version: 0.2\nenv:\n{env}{BUILD}"), expected);
    }
}
