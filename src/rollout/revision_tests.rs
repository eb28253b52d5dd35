use super::*;
use crate::runtime::names::HASH_LENGTH;
use serde_json::json;

fn workload(value: Value) -> AppsDeployment {
    serde_json::from_value(value).expect("a valid apps/v1 Deployment")
}

fn web() -> AppsDeployment {
    workload(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "uid": "u-1",
            "resourceVersion": "7",
            "labels": {"app.kubernetes.io/instance": "shop-web"},
            "annotations": {"deployment.kubernetes.io/revision": "3"}
        },
        "spec": {
            "replicas": 4,
            "minReadySeconds": 5,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "Recreate"},
            "template": {
                "metadata": {"labels": {"app": "web", "tier": "frontend"}},
                "spec": {
                    "initContainers": [{"name": "migrate", "image": "migrate:1"}],
                    "containers": [
                        {"name": "web", "image": "web:1", "ports": [{"containerPort": 8080}]},
                        {"name": "proxy", "image": "envoy:1"}
                    ]
                }
            }
        }
    }))
}

fn image(container: &str, image: &str) -> ContainerImage {
    ContainerImage {
        container: container.into(),
        image: image.into(),
    }
}

fn images_of(revision: &RevisionWorkload) -> Vec<(String, String)> {
    let pod = revision
        .deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap();
    pod.init_containers
        .iter()
        .flatten()
        .chain(pod.containers.iter())
        .map(|container| (container.name.clone(), container.image.clone().unwrap()))
        .collect()
}

#[test]
fn images_replace_only_the_named_containers() {
    let cases: [(&str, Vec<ContainerImage>, [&str; 3]); 4] = [
        (
            "one container",
            vec![image("web", "web:2")],
            ["migrate:1", "web:2", "envoy:1"],
        ),
        (
            "two containers",
            vec![image("web", "web:2"), image("proxy", "envoy:2")],
            ["migrate:1", "web:2", "envoy:2"],
        ),
        (
            "an init container",
            vec![image("migrate", "migrate:2")],
            ["migrate:2", "web:1", "envoy:1"],
        ),
        (
            "the same image",
            vec![image("web", "web:1")],
            ["migrate:1", "web:1", "envoy:1"],
        ),
    ];
    for (case, images, expected) in cases {
        let revision = render_revision(&web(), &images, 2).unwrap();
        let got: Vec<String> = images_of(&revision).into_iter().map(|(_, i)| i).collect();
        assert_eq!(got, expected, "{case}");
        assert_eq!(revision.images, images, "{case}");
    }
}

#[test]
fn revision_is_labelled_on_metadata_selector_and_template() {
    let revision = render_revision(&web(), &[image("web", "web:2")], 3).unwrap();
    let deployment = &revision.deployment;
    let spec = deployment.spec.as_ref().unwrap();
    let hash = revision.hash.as_str();
    assert_eq!(revision.name, format!("web-{hash}"));
    assert_eq!(
        deployment.metadata.name.as_deref(),
        Some(revision.name.as_str())
    );
    assert_eq!(
        deployment.metadata.labels.clone().unwrap(),
        BTreeMap::from([
            (MANAGED_BY_LABEL.to_owned(), "slipway".to_owned()),
            (REVISION_LABEL.to_owned(), hash.to_owned()),
            (TARGET_LABEL.to_owned(), "web".to_owned()),
        ]),
        "the workload's own metadata labels (GitOps tracking) are not copied"
    );
    assert_eq!(
        deployment.metadata.annotations.clone().unwrap(),
        BTreeMap::from([(WORKLOAD_ANNOTATION.to_owned(), "web".to_owned())])
    );
    assert_eq!(
        spec.selector.match_labels.clone().unwrap(),
        BTreeMap::from([
            ("app".to_owned(), "web".to_owned()),
            (REVISION_LABEL.to_owned(), hash.to_owned()),
            (TARGET_LABEL.to_owned(), "web".to_owned()),
        ])
    );
    assert_eq!(
        spec.template
            .metadata
            .as_ref()
            .unwrap()
            .labels
            .clone()
            .unwrap(),
        BTreeMap::from([
            ("app".to_owned(), "web".to_owned()),
            ("tier".to_owned(), "frontend".to_owned()),
            (REVISION_LABEL.to_owned(), hash.to_owned()),
            (TARGET_LABEL.to_owned(), "web".to_owned()),
        ])
    );
    assert_eq!(spec.replicas, Some(3));
    assert_eq!(spec.min_ready_seconds, Some(5));
    assert_eq!(spec.strategy, None, "the workload's strategy is not copied");
    assert_eq!(deployment.metadata.owner_references, None);
    assert_eq!(deployment.metadata.namespace, None);
    assert_eq!(deployment.metadata.resource_version, None);
}

#[test]
fn hash_follows_the_template_after_image_substitution() {
    let base = render_revision(&web(), &[image("web", "web:2")], 1).unwrap();
    let cases: [(&str, AppsDeployment, Vec<ContainerImage>, i32, bool); 5] = [
        ("same inputs", web(), vec![image("web", "web:2")], 1, true),
        (
            "other replicas",
            web(),
            vec![image("web", "web:2")],
            9,
            true,
        ),
        (
            "workload metadata changed",
            {
                let mut other = web();
                other.metadata.labels = None;
                other.metadata.resource_version = Some("8".into());
                other
            },
            vec![image("web", "web:2")],
            1,
            true,
        ),
        ("other image", web(), vec![image("web", "web:3")], 1, false),
        (
            "template annotation changed",
            {
                let mut other = web();
                other
                    .spec
                    .as_mut()
                    .unwrap()
                    .template
                    .metadata
                    .as_mut()
                    .unwrap()
                    .annotations = Some(BTreeMap::from([("restartedAt".into(), "now".into())]));
                other
            },
            vec![image("web", "web:2")],
            1,
            false,
        ),
    ];
    for (case, workload, images, replicas, same) in cases {
        let revision = render_revision(&workload, &images, replicas).unwrap();
        assert_eq!(revision.hash == base.hash, same, "{case}");
        assert_eq!(revision.hash.len(), HASH_LENGTH, "{case}");
    }
}

#[test]
fn hash_ignores_key_order_and_is_pinned() {
    // The same template with keys in other orders: the canonical form sorts them.
    let first: PodTemplateSpec = serde_json::from_value(json!({
        "metadata": {"labels": {"a": "1", "b": "2"}},
        "spec": {"containers": [{"name": "web", "image": "web:2"}]}
    }))
    .unwrap();
    let second: PodTemplateSpec = serde_json::from_str(
        r#"{"spec": {"containers": [{"image": "web:2", "name": "web"}]},
            "metadata": {"labels": {"b": "2", "a": "1"}}}"#,
    )
    .unwrap();
    assert_eq!(revision_hash(&first), revision_hash(&second));
    // Pinned: changing the algorithm would orphan every running revision after an upgrade.
    let mut canonical = String::new();
    write_canonical(&serde_json::to_value(&first).unwrap(), &mut canonical);
    assert_eq!(
        canonical,
        r#"{"metadata":{"labels":{"a":"1","b":"2"}},"spec":{"containers":[{"image":"web:2","name":"web"}]}}"#
    );
    assert_eq!(revision_hash(&first), short_hash(canonical.as_bytes()));
    assert_eq!(revision_hash(&first), "0328a7b93a");
}

#[test]
fn long_names_are_shortened_to_valid_lengths() {
    let cases = [
        ("web", "web", "web-0123456789"),
        (
            &"a".repeat(63) as &str,
            &"a".repeat(63) as &str,
            &format!("{}-0123456789", "a".repeat(63)) as &str,
        ),
    ];
    for (workload, target, name) in cases {
        assert_eq!(label_value(workload), target);
        assert_eq!(revision_name(workload, "0123456789"), name);
    }
    let long = format!("{}-x", "b".repeat(300));
    let target = label_value(&long);
    assert_eq!(target.len(), 63);
    assert!(target.starts_with(&"b".repeat(52)));
    assert_eq!(target, label_value(&long), "deterministic");
    assert_ne!(target, label_value(&format!("{}-y", "b".repeat(300))));
    let name = revision_name(&long, "0123456789");
    assert_eq!(name.len(), 236);
    assert!(name.ends_with("-0123456789"));
    // A cut that lands on a dash does not leave `--`.
    let dashed = format!("{}-{}", "c".repeat(51), "d".repeat(40));
    assert!(!label_value(&dashed).contains("--"));
}

#[test]
fn broken_inputs_name_the_workload_and_field() {
    let mut nameless = web();
    nameless.metadata.name = None;
    let mut specless = web();
    specless.spec = None;
    let mut podless = web();
    podless.spec.as_mut().unwrap().template.spec = None;
    let cases: [(&str, AppsDeployment, RevisionWorkloadError); 4] = [
        ("no name", nameless, RevisionWorkloadError::MissingName),
        (
            "no spec",
            specless,
            RevisionWorkloadError::MissingField {
                workload: "web".into(),
                field: "spec",
            },
        ),
        (
            "no pod spec",
            podless,
            RevisionWorkloadError::MissingField {
                workload: "web".into(),
                field: "spec.template.spec",
            },
        ),
        (
            "unknown container",
            web(),
            RevisionWorkloadError::UnknownContainer {
                workload: "web".into(),
                container: "api".into(),
                available: "web, proxy, migrate".into(),
            },
        ),
    ];
    for (case, workload, expected) in cases {
        let images = [image("web", "web:2"), image("api", "api:2")];
        assert_eq!(
            render_revision(&workload, &images, 1).unwrap_err(),
            expected,
            "{case}"
        );
    }
    assert!(
        RevisionWorkloadError::UnknownContainer {
            workload: "web".into(),
            container: "api".into(),
            available: "web".into(),
        }
        .to_string()
        .starts_with("unable to derive a revision from workload web: spec.revision.images names container \"api\"")
    );
}

#[test]
fn images_come_from_the_revision_or_its_appspec() {
    let template = |revision: Value| -> DeploymentTemplate {
        serde_json::from_value(json!({
            "target": {"service": "web", "workload": "web", "container": "web"},
            "revision": revision
        }))
        .unwrap()
    };
    assert_eq!(
        revision_images(&template(
            json!({"images": [{"container": "web", "image": "web:2"}]})
        ))
        .unwrap(),
        [image("web", "web:2")]
    );
    let appspec = "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: \"registry.example/web:7\"\n        LoadBalancerInfo:\n          ContainerName: web\n          ContainerPort: 8080\n";
    assert_eq!(
        revision_images(&template(json!({"appSpec": appspec}))).unwrap(),
        [image("web", "registry.example/web:7")]
    );
    assert_eq!(
        revision_images(&template(json!({}))).unwrap_err(),
        RevisionWorkloadError::NoImages
    );
    assert!(matches!(
        revision_images(&template(json!({"appSpec": "version: 0.0\nos: linux\n"}))).unwrap_err(),
        RevisionWorkloadError::AppSpec(_)
    ));
}
