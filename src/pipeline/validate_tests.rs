use super::*;

/// A pipeline from YAML (the spec only).
fn spec(yaml: &str) -> PipelineSpec {
    serde_saphyr::from_str(yaml).expect("test spec parses")
}

const BASE: &str = r##"
source:
  git: {url: "https://git.test/acme/web.git"}
variables:
  - {name: TITLE, default: hi}
stages:
  - name: Build
    actions:
      - name: Image
        namespace: BuildVariables
        inputArtifacts: [SourceArtifact]
        outputArtifacts: [BuildArtifact]
        build:
          environment: {image: busybox, env: [{name: T, value: "#{variables.TITLE} #{SourceVariables.CommitId} #{slipway.PipelineExecutionId}"}]}
  - name: Deploy
    actions:
      - name: Test
        runOrder: 1
        namespace: TestVariables
        inputArtifacts: [BuildArtifact]
        job:
          template: {template: {spec: {containers: [{name: t, image: "#{BuildVariables.IMAGE_WEB_URI}"}]}}}
      - name: Roll
        runOrder: 2
        deploy:
          target: {service: web, workload: web}
          revision:
            images: [{container: web, image: "#{BuildVariables.IMAGE_WEB_URI}:#{TestVariables.OK}"}]
"##;

fn messages(problems: &[SpecProblem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

#[test]
fn a_pipeline_whose_artifacts_and_variables_flow_forward_is_valid() {
    assert_eq!(messages(&check_pipeline(&spec(BASE))), Vec::<String>::new());
}

#[test]
fn an_input_no_earlier_action_produces_is_named_with_its_field() {
    let text = BASE.replace(
        "inputArtifacts: [BuildArtifact]",
        "inputArtifacts: [Missing]",
    );
    let problems = check_pipeline(&spec(&text));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        problems[0].field,
        "spec.stages[1].actions[0].inputArtifacts[0]"
    );
    assert!(
        problems[0]
            .message
            .contains("\"Missing\" is not produced before action \"Test\"")
    );
}

#[test]
fn an_output_of_the_same_run_order_is_not_yet_available() {
    let text = BASE
        .replace("outputArtifacts: [BuildArtifact]", "")
        .replace("runOrder: 1\n        namespace: TestVariables\n        inputArtifacts: [BuildArtifact]", "runOrder: 1\n        namespace: TestVariables\n        outputArtifacts: [BuildArtifact]")
        .replace("      - name: Roll\n        runOrder: 2", "      - name: Roll\n        runOrder: 1");
    let problems = messages(&check_pipeline(&spec(&text)));
    assert!(
        problems.iter().any(|p| p.contains("TestVariables")),
        "a same-runOrder namespace is not visible: {problems:?}"
    );
}

#[test]
fn a_reference_to_a_later_or_unknown_namespace_fails_the_spec() {
    let text = BASE.replace("#{variables.TITLE}", "#{TestVariables.OK}");
    let problems = messages(&check_pipeline(&spec(&text)));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("spec.stages[0].actions[0]: action \"Image\" uses #{TestVariables.OK}: no action that runs earlier"));
}

#[test]
fn undeclared_pipeline_variables_builtins_and_source_variables_are_named() {
    for (reference, expected) in [
        ("#{variables.NOPE}", "declare it in spec.variables"),
        (
            "#{slipway.Nope}",
            "the built-ins are PipelineExecutionId, PipelineName",
        ),
        ("#{SourceVariables.ImageTag}", "the source exports CommitId"),
    ] {
        let text = BASE.replace("#{variables.TITLE}", reference);
        let problems = messages(&check_pipeline(&spec(&text)));
        assert_eq!(problems.len(), 1, "{reference}: {problems:?}");
        assert!(problems[0].contains(expected), "{reference}: {problems:?}");
    }
}

#[test]
fn duplicate_outputs_and_namespaces_are_refused() {
    let text = BASE.replace("namespace: TestVariables", "namespace: BuildVariables");
    let problems = messages(&check_pipeline(&spec(&text)));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("spec.stages[1].actions[0].namespace")),
        "{problems:?}"
    );
    let text = BASE.replace(
        "namespace: TestVariables",
        "namespace: TestVariables\n        outputArtifacts: [SourceArtifact]",
    );
    let problems = messages(&check_pipeline(&spec(&text)));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("already produced by the source")),
        "{problems:?}"
    );
}

#[test]
fn actions_that_cannot_use_artifacts_say_so() {
    let text = BASE.replace(
        "inputArtifacts: [SourceArtifact]",
        "inputArtifacts: [SourceArtifact, SourceArtifact]",
    );
    assert!(
        messages(&check_pipeline(&spec(&text)))
            .iter()
            .any(|p| p.contains("secondary sources are not supported"))
    );
    let text = BASE.replace(
        "      - name: Roll\n        runOrder: 2\n",
        "      - name: Roll\n        runOrder: 2\n        outputArtifacts: [X]\n",
    );
    assert!(
        messages(&check_pipeline(&spec(&text)))
            .iter()
            .any(|p| p.contains("a deploy action produces no artifacts"))
    );
}

#[test]
fn overrides_must_name_declared_variables() {
    let problems = check_overrides(
        &spec(BASE),
        &[
            NameValue {
                name: "TITLE".into(),
                value: "x".into(),
            },
            NameValue {
                name: "OTHER".into(),
                value: "y".into(),
            },
        ],
    );
    assert_eq!(
        messages(&problems),
        [
            "spec.variables[1].name: \"OTHER\" is not a variable of the pipeline (it declares TITLE): remove it or declare it in the Pipeline's spec.variables"
        ]
    );
}

#[test]
fn the_samples_and_the_example_pipeline_are_valid() {
    for path in [
        "config/samples/slipway_v1alpha1_pipeline.yaml",
        "examples/webapp/pipeline.yaml",
    ] {
        let text =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
                .unwrap();
        let object: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let spec: PipelineSpec = serde_json::from_value(object["spec"].clone()).unwrap();
        assert_eq!(
            messages(&check_pipeline(&spec)),
            Vec::<String>::new(),
            "{path}"
        );
    }
}
