//! Every sample and example applies cleanly — Slipway kinds pass the generated CRDs' schema and CEL
//! rules (as the API server would check them) and deserialize into the Rust types; built-in kinds
//! deserialize into their k8s-openapi types — and every object in the invalid table is rejected
//! with an error that names the field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use slipway::api::{
    BuildRun, BuildRunSpec, Deployment, DeploymentSpec, Pipeline, PipelineExecution,
    PipelineExecutionSpec, PipelineSpec, crd,
};
use slipway_testcluster::schema::CrdSchema;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The schemas of the Slipway kinds, by kind name.
fn schemas() -> BTreeMap<String, CrdSchema> {
    crd::all()
        .into_iter()
        .map(|crd| {
            let kind = crd.spec.names.kind.clone();
            let value = serde_json::to_value(&crd).expect("CRD serializes");
            (
                kind,
                CrdSchema::from_crd(&value, "v1alpha1").expect("CRD schema compiles"),
            )
        })
        .collect()
}

fn yaml_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, found);
        } else if path
            .extension()
            .is_some_and(|extension| extension == "yaml" || extension == "yml")
        {
            found.push(path);
        }
    }
}

/// Kubernetes manifests in a file (buildspecs, kustomizations and other non-objects are skipped).
fn manifests(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let documents: Vec<Value> = serde_saphyr::from_multiple(&text)
        .unwrap_or_else(|error| panic!("{}: invalid YAML: {error}", path.display()));
    documents
        .into_iter()
        .filter(|document| document.get("apiVersion").is_some() && document.get("kind").is_some())
        .filter(|document| document["kind"] != "Kustomization")
        .collect()
}

/// Validates one Slipway object like the API server would: prune check, defaults, schema, CEL.
fn admit(schemas: &BTreeMap<String, CrdSchema>, object: &Value) -> Result<Value, String> {
    let kind = object["kind"].as_str().unwrap_or_default();
    let schema = schemas
        .get(kind)
        .ok_or_else(|| format!("unknown Slipway kind {kind}"))?;
    let mut object = object.clone();
    let unknown = schema.prune(&mut object);
    if !unknown.is_empty() {
        return Err(unknown
            .iter()
            .map(|path| format!("unknown field \"{path}\""))
            .collect::<Vec<_>>()
            .join(", "));
    }
    schema.default_object(&mut object);
    schema
        .validate(&object, None)
        .map_err(|errors| errors.to_string())?;
    Ok(object)
}

fn deserializes_as<T: serde::de::DeserializeOwned>(object: &Value) -> Result<(), String> {
    serde_json::from_value::<T>(object.clone())
        .map(|_| ())
        .map_err(|error| error.to_string())
}

/// The object reads into the Rust type, and the same whether or not the API server's schema
/// defaults were applied: the controller sees one spec whether it reads what a user wrote or what
/// the API server stored.
fn same_with_and_without_schema_defaults<T>(raw: &Value, admitted: &Value) -> Result<(), String>
where
    T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let from_raw: T = serde_json::from_value(raw.clone()).map_err(|error| error.to_string())?;
    let from_admitted: T =
        serde_json::from_value(admitted.clone()).map_err(|error| error.to_string())?;
    if from_raw == from_admitted {
        Ok(())
    } else {
        Err(format!(
            "serde defaults differ from schema defaults:\n{from_raw:#?}\nvs\n{from_admitted:#?}"
        ))
    }
}

/// Checks a built-in kind by deserializing it into its k8s-openapi type.
fn check_builtin(object: &Value) -> Result<(), String> {
    use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
    match (
        object["apiVersion"].as_str().unwrap_or_default(),
        object["kind"].as_str().unwrap_or_default(),
    ) {
        ("v1", "Service") => deserializes_as::<core::Service>(object),
        ("v1", "Secret") => deserializes_as::<core::Secret>(object),
        ("v1", "ConfigMap") => deserializes_as::<core::ConfigMap>(object),
        ("v1", "Namespace") => deserializes_as::<core::Namespace>(object),
        ("v1", "ServiceAccount") => deserializes_as::<core::ServiceAccount>(object),
        ("apps/v1", "Deployment") => deserializes_as::<apps::Deployment>(object),
        (api_version, kind) => Err(format!(
            "no check for {api_version} {kind}: add one to tests/samples.rs"
        )),
    }
}

fn check_file(schemas: &BTreeMap<String, CrdSchema>, path: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for object in manifests(path) {
        let name = format!(
            "{} {} {}",
            path.display(),
            object["kind"].as_str().unwrap_or("?"),
            object["metadata"]["name"].as_str().unwrap_or("?")
        );
        let result = if object["apiVersion"] == "slipway.dev/v1alpha1" {
            admit(schemas, &object).and_then(|admitted| {
                let (raw, spec) = (&object["spec"], &admitted["spec"]);
                match object["kind"].as_str() {
                    Some("Pipeline") => deserializes_as::<Pipeline>(&admitted).and_then(|()| {
                        same_with_and_without_schema_defaults::<PipelineSpec>(raw, spec)
                    }),
                    Some("PipelineExecution") => deserializes_as::<PipelineExecution>(&admitted)
                        .and_then(|()| {
                            same_with_and_without_schema_defaults::<PipelineExecutionSpec>(
                                raw, spec,
                            )
                        }),
                    Some("BuildRun") => deserializes_as::<BuildRun>(&admitted).and_then(|()| {
                        same_with_and_without_schema_defaults::<BuildRunSpec>(raw, spec)
                    }),
                    Some("Deployment") => deserializes_as::<Deployment>(&admitted).and_then(|()| {
                        same_with_and_without_schema_defaults::<DeploymentSpec>(raw, spec)
                    }),
                    _ => Err("unknown kind".into()),
                }
            })
        } else {
            check_builtin(&object)
        };
        if let Err(problem) = result {
            problems.push(format!("{name}: {problem}"));
        }
    }
    problems
}

#[test]
fn every_sample_is_valid_and_each_kind_has_one() {
    let schemas = schemas();
    let mut files = Vec::new();
    yaml_files(&root().join("config/samples"), &mut files);
    let mut kinds: Vec<String> = files
        .iter()
        .flat_map(|path| manifests(path))
        .filter(|object| object["apiVersion"] == "slipway.dev/v1alpha1")
        .map(|object| object["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(
        kinds,
        ["BuildRun", "Deployment", "Pipeline", "PipelineExecution"],
        "config/samples needs one object per kind"
    );
    let problems: Vec<String> = files
        .iter()
        .flat_map(|path| check_file(&schemas, path))
        .collect();
    assert!(
        problems.is_empty(),
        "invalid samples:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_example_manifest_is_valid() {
    let schemas = schemas();
    let mut files = Vec::new();
    yaml_files(&root().join("examples"), &mut files);
    let objects: usize = files.iter().map(|path| manifests(path).len()).sum();
    assert!(
        objects >= 4,
        "examples/ should hold a complete pipeline (found {objects} manifests)"
    );
    let problems: Vec<String> = files
        .iter()
        .flat_map(|path| check_file(&schemas, path))
        .collect();
    assert!(
        problems.is_empty(),
        "invalid examples:\n{}",
        problems.join("\n")
    );
}

#[derive(serde::Deserialize)]
struct InvalidCase {
    case: String,
    field: String,
    message: String,
    object: Value,
}

#[test]
fn every_invalid_object_is_rejected_naming_its_field() {
    let schemas = schemas();
    let path = root().join("tests/fixtures/invalid-objects.yaml");
    let text = std::fs::read_to_string(&path).expect("tests/fixtures/invalid-objects.yaml exists");
    let cases: Vec<InvalidCase> = serde_saphyr::from_str(&text).expect("the invalid table parses");
    assert!(
        cases.len() >= 15,
        "the invalid table needs at least 15 cases, has {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        match admit(&schemas, &case.object) {
            Ok(_) => failures.push(format!("{}: accepted", case.case)),
            Err(error) => {
                let names_field = error.contains(&format!("{}:", case.field))
                    || error.contains(&format!("\"{}\"", case.field));
                if !names_field || !error.contains(&case.message) {
                    failures.push(format!(
                        "{}: expected {:?} naming {:?}, got: {error}",
                        case.case, case.message, case.field
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_invalid_table_covers_every_kind() {
    let text = std::fs::read_to_string(root().join("tests/fixtures/invalid-objects.yaml"))
        .expect("table exists");
    let cases: Vec<InvalidCase> = serde_saphyr::from_str(&text).expect("the invalid table parses");
    let mut kinds: Vec<&str> = cases
        .iter()
        .filter_map(|case| case.object["kind"].as_str())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(
        kinds,
        ["BuildRun", "Deployment", "Pipeline", "PipelineExecution"]
    );
}
