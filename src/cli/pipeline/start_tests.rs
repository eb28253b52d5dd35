//! The PipelineExecution `start` builds, and its refusals.

use serde_json::json;

use super::request_tests::pipeline;
use super::start::{StartError, StartRequest, execution_for, is_commit_id};

fn request(variables: &[&str], revision: Option<&str>) -> StartRequest {
    StartRequest {
        variables: variables.iter().map(|text| (*text).to_owned()).collect(),
        revision: revision.map(str::to_owned),
        actor: Some("jane".into()),
    }
}

#[test]
fn a_run_is_named_labelled_and_owned_after_its_pipeline() {
    let run = execution_for(
        &pipeline(json!({})),
        &request(&["LOG_LEVEL=debug", "REGION=eu=west"], Some("3f9c2d7")),
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&run).unwrap(),
        json!({
            "apiVersion": "slipway.dev/v1alpha1", "kind": "PipelineExecution",
            "metadata": {
                "generateName": "web-", "namespace": "shop",
                "labels": {"slipway.dev/pipeline": "web"},
                "ownerReferences": [{"apiVersion": "slipway.dev/v1alpha1", "kind": "Pipeline",
                    "name": "web", "uid": "0b7e-pipe", "controller": true,
                    "blockOwnerDeletion": false}]
            },
            "spec": {
                "pipelineRef": {"name": "web"},
                "trigger": {"type": "StartPipelineExecution", "actor": "jane"},
                "source": {"commitId": "3f9c2d7"},
                "variables": [{"name": "LOG_LEVEL", "value": "debug"},
                              {"name": "REGION", "value": "eu=west"}],
                "control": {}
            }
        })
    );
}

#[test]
fn without_flags_the_run_takes_the_head_of_the_source_and_the_defaults() {
    let run = execution_for(&pipeline(json!({})), &request(&[], None)).unwrap();
    assert_eq!(run.spec.source, None);
    assert!(run.spec.variables.is_empty());
}

#[test]
fn a_long_pipeline_name_is_fitted_into_its_label() {
    let mut long = pipeline(json!({}));
    long.metadata.name = Some("a".repeat(80));
    let run = execution_for(&long, &request(&[], None)).unwrap();
    let label = &run.metadata.labels.unwrap()["slipway.dev/pipeline"];
    assert!(label.len() <= 63, "{label}");
    assert_eq!(
        run.metadata.generate_name,
        Some(format!("{}-", "a".repeat(80)))
    );
}

#[test]
fn a_revision_is_a_commit_when_it_is_lowercase_hex_of_7_to_64_digits() {
    let cases = [
        ("3f9c2d7", true),
        ("3f9c2d7e41b08a6c5d2e9f1a7b3c4d5e6f708192", true),
        (&"a".repeat(64), true),
        (&"a".repeat(65), false),
        ("3f9c2d", false),
        ("3F9C2D7", false),
        ("main", false),
        ("release/1.2", false),
        ("deadbeefcafe-fix", false),
    ];
    for (revision, commit) in cases {
        assert_eq!(is_commit_id(revision), commit, "for {revision}");
        let run = execution_for(&pipeline(json!({})), &request(&[], Some(revision))).unwrap();
        let source = run.spec.source.unwrap();
        let expected = Some(revision.to_owned());
        if commit {
            assert_eq!((source.commit_id, source.branch_name), (expected, None));
        } else {
            assert_eq!((source.commit_id, source.branch_name), (None, expected));
        }
    }
}

#[test]
fn variables_must_be_declared_well_formed_and_given_once() {
    let cases = [
        (
            vec!["LOG_LEVEL"],
            "--var \"LOG_LEVEL\" is not NAME=VALUE: write e.g. --var LOG_LEVEL=debug",
        ),
        (
            vec!["=debug"],
            "--var \"=debug\" is not NAME=VALUE: write e.g. --var LOG_LEVEL=debug",
        ),
        (
            vec!["LOG_LEVEL=debug", "LOG_LEVEL=info"],
            "--var LOG_LEVEL is given more than once: give each variable once",
        ),
        (
            vec!["LOG_LEVEL=debug", "LOGLEVEL=info", "ZONE=b"],
            "Pipeline web declares no variable LOGLEVEL, ZONE: it declares LOG_LEVEL, REGION",
        ),
    ];
    for (variables, message) in cases {
        let refusal = execution_for(&pipeline(json!({})), &request(&variables, None)).unwrap_err();
        assert_eq!(refusal.to_string(), message, "for {variables:?}");
    }
    let mut bare = pipeline(json!({}));
    bare.spec.variables.clear();
    assert_eq!(
        execution_for(&bare, &request(&["LOG_LEVEL=debug"], None))
            .unwrap_err()
            .to_string(),
        "Pipeline web declares no variable LOG_LEVEL: it declares none; add them to its \
         spec.variables first"
    );
}

#[test]
fn a_revision_is_refused_for_sources_without_commits() {
    let mut images = pipeline(json!({}));
    images.spec.source =
        serde_json::from_value(json!({"image": {"repository": "registry.example.com/shop/web"}}))
            .unwrap();
    assert_eq!(
        execution_for(&images, &request(&[], Some("main"))).unwrap_err(),
        StartError::RevisionWithoutGit {
            pipeline: "web".into(),
            source_kind: "an image",
            what: "digest of its tag",
        }
    );
    assert_eq!(
        execution_for(&images, &request(&[], Some("main")))
            .unwrap_err()
            .to_string(),
        "--revision is for git sources, and Pipeline web's source is an image: leave it out, and \
         the run takes the source's newest digest of its tag"
    );
}
