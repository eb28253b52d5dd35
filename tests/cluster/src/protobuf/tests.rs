//! The decoder against bodies kubectl 1.32 sent (`fixtures/protobuf/`, see its README) and
//! against hand-built bodies for the error paths.

use base64::Engine;
use serde_json::{Value, json};

use super::{FieldError, FieldProblem, ProtobufError, WireError, decode_object};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/protobuf")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn decoded(name: &str) -> Value {
    decode_object(&fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unbase64(text: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text.as_str().expect("a base64 string"))
        .unwrap()
}

/// A protobuf key and varint, for hand-built bodies.
fn varint(mut value: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            bytes.push(byte);
            return bytes;
        }
        bytes.push(byte | 0x80);
    }
}

fn varint_field(number: u64, value: u64) -> Vec<u8> {
    [varint(number << 3), varint(value)].concat()
}

fn bytes_field(number: u64, value: &[u8]) -> Vec<u8> {
    [
        varint(number << 3 | 2),
        varint(value.len() as u64),
        value.to_vec(),
    ]
    .concat()
}

/// A body as kubectl frames it: magic, then `runtime.Unknown` around `raw`.
fn body(api_version: &str, kind: &str, raw: &[u8], content_encoding: &str) -> Vec<u8> {
    let type_meta = [
        bytes_field(1, api_version.as_bytes()),
        bytes_field(2, kind.as_bytes()),
    ]
    .concat();
    [
        b"k8s\0".to_vec(),
        bytes_field(1, &type_meta),
        bytes_field(2, raw),
        bytes_field(3, content_encoding.as_bytes()),
        bytes_field(4, b""),
    ]
    .concat()
}

fn metadata(name: &str) -> Vec<u8> {
    bytes_field(1, &bytes_field(1, name.as_bytes()))
}

#[test]
fn create_namespace_decodes_to_the_json_kubectl_would_have_sent() {
    assert_eq!(
        decoded("create-namespace.pb"),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "webapp"}, "spec": {}, "status": {}})
    );
}

#[test]
fn generic_secret_data_arrives_base64_encoded_with_the_literal_value() {
    let secret = decoded("create-secret-generic.pb");
    assert_eq!(
        secret["metadata"],
        json!({"name": "webapp-webhook", "namespace": "webapp"})
    );
    assert_eq!(unbase64(&secret["data"]["secret"]), b"6f1c2b9e0d4a7358");
    // kubectl leaves the type empty (the apiserver defaults it); an empty string is omitted.
    assert_eq!(secret.get("type"), None);
}

#[test]
fn docker_registry_secret_keeps_its_type_and_dockerconfigjson() {
    let secret = decoded("create-secret-docker-registry.pb");
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    let config: Value = serde_json::from_slice(&unbase64(&secret["data"][".dockerconfigjson"]))
        .expect(".dockerconfigjson is JSON");
    assert_eq!(
        config,
        json!({"auths": {"registry.example.com": {
            "username": "robot", "password": "t0ken-value", "auth": base64(b"robot:t0ken-value"),
        }}})
    );
}

#[test]
fn configmap_literals_become_data_and_files_with_binary_become_binary_data() {
    assert_eq!(
        decoded("create-configmap.pb")["data"],
        json!({"level": "3", "mode": "fast"})
    );
    let binary = decoded("create-configmap-binary.pb");
    assert_eq!(binary["binaryData"], json!({"blob": base64(&[0, 1, 0xff])}));
    assert_eq!(binary.get("data"), None);
}

#[test]
fn service_account_is_its_metadata() {
    assert_eq!(
        decoded("create-serviceaccount.pb"),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder", "namespace": "webapp"}})
    );
}

#[test]
fn create_deployment_keeps_replicas_selector_template_and_ports() {
    let deployment = decoded("create-deployment.pb");
    assert_eq!(
        deployment["spec"],
        json!({
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{
                    "name": "nginx", "image": "nginx:1.27",
                    "ports": [{"containerPort": 8080}], "resources": {},
                }]},
            },
            "strategy": {},
        })
    );
    assert_eq!(deployment["status"], json!({}));
}

#[test]
fn zero_replicas_are_kept_because_the_go_field_is_a_pointer() {
    let deployment = decoded("create-deployment-command.pb");
    assert_eq!(deployment["spec"]["replicas"], 0);
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["command"],
        json!(["sleep", "3600"])
    );
}

#[test]
fn create_job_carries_the_command_and_restart_policy_never() {
    let job = decoded("create-job.pb");
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(
        job["spec"],
        json!({"template": {"metadata": {}, "spec": {
            "containers": [{"name": "once", "image": "busybox", "command": ["echo", "hello"], "resources": {}}],
            "restartPolicy": "Never",
        }}})
    );
}

#[test]
fn service_ports_keep_numeric_and_named_target_ports() {
    let cluster_ip = decoded("create-service-clusterip.pb");
    assert_eq!(
        cluster_ip["spec"],
        json!({
            "ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}],
            "selector": {"app": "web"},
            "type": "ClusterIP",
        })
    );
    let node_port = decoded("create-service-nodeport.pb");
    assert_eq!(
        node_port["spec"]["ports"],
        json!([{"name": "80-http", "protocol": "TCP", "port": 80, "targetPort": "http", "nodePort": 30080}])
    );
    let external = decoded("create-service-externalname.pb");
    assert_eq!(
        (&external["spec"]["type"], &external["spec"]["externalName"]),
        (&json!("ExternalName"), &json!("db.example.com"))
    );
    assert_eq!(
        decoded("create-service-loadbalancer.pb")["spec"]["type"],
        "LoadBalancer"
    );
    assert_eq!(cluster_ip["status"], json!({"loadBalancer": {}}));
}

#[test]
fn a_kind_without_a_table_is_named_in_the_error() {
    let error = decode_object(&body("v1", "Pod", &metadata("web"), "")).unwrap_err();
    assert_eq!(
        error,
        ProtobufError::UnsupportedKind {
            api_version: "v1".into(),
            kind: "Pod".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "the test cluster has no protobuf decoder for v1 Pod"
    );
    assert_eq!(error.kind(), Some("Pod"));
}

#[test]
fn a_field_with_data_missing_from_the_table_fails_with_its_path() {
    // A deployment whose pod spec has a volume (PodSpec field 1), which is not decoded.
    let pod_spec = bytes_field(1, &bytes_field(1, b"data"));
    let template = bytes_field(2, &pod_spec);
    let spec = bytes_field(3, &template);
    let raw = [metadata("web"), bytes_field(2, &spec)].concat();
    let error = decode_object(&body("apps/v1", "Deployment", &raw, "")).unwrap_err();
    assert_eq!(
        error,
        ProtobufError::Object {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            source: Box::new(FieldError {
                path: "spec.template.spec".into(),
                message: "PodSpec",
                problem: FieldProblem::NotDecoded { number: 1 },
            }),
        }
    );
    assert_eq!(
        error.to_string(),
        "unable to decode apps/v1 Deployment: field 1 is not decoded by the test cluster in PodSpec at spec.template.spec"
    );
}

#[test]
fn list_elements_are_named_by_index_in_error_paths() {
    // The second container carries a liveness probe (Container field 10).
    let containers = [
        bytes_field(2, &bytes_field(1, b"first")),
        bytes_field(2, &bytes_field(10, &bytes_field(1, b"probe"))),
    ]
    .concat();
    let raw = [
        metadata("web"),
        bytes_field(2, &bytes_field(6, &bytes_field(2, &containers))),
    ]
    .concat();
    let Err(ProtobufError::Object { source, .. }) =
        decode_object(&body("batch/v1", "Job", &raw, ""))
    else {
        panic!("expected a field error");
    };
    assert_eq!(source.path, "spec.template.spec.containers[1]");
    assert_eq!(source.message, "Container");
}

#[test]
fn unknown_fields_holding_zero_values_are_skipped() {
    let raw = [metadata("web"), varint_field(99, 0), bytes_field(98, b"")].concat();
    assert_eq!(
        decode_object(&body("v1", "ConfigMap", &raw, "")).unwrap(),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"}})
    );
}

#[test]
fn negative_integers_times_and_pointer_booleans_decode() {
    let minus_one = u64::MAX; // int32 -1, sign-extended as protobuf writes it
    let created = bytes_field(8, &varint_field(1, 1_767_225_600));
    let meta = bytes_field(1, &[bytes_field(1, b"web"), created].concat());
    let spec = [varint_field(1, minus_one), varint_field(7, 0)].concat();
    let raw = [meta, bytes_field(2, &spec)].concat();
    let deployment = decode_object(&body("apps/v1", "Deployment", &raw, "")).unwrap();
    assert_eq!(deployment["spec"], json!({"replicas": -1}));
    assert_eq!(
        deployment["metadata"]["creationTimestamp"],
        "2026-01-01T00:00:00Z"
    );
    let immutable = [metadata("s"), varint_field(5, 0)].concat();
    let secret = decode_object(&body("v1", "Secret", &immutable, "")).unwrap();
    assert_eq!(secret["immutable"], false);
}

#[test]
fn bodies_that_are_not_kubernetes_protobuf_are_refused() {
    assert_eq!(
        decode_object(br#"{"kind":"Namespace"}"#),
        Err(ProtobufError::MissingMagic)
    );
    let truncated = fixture("create-deployment.pb");
    assert!(matches!(
        decode_object(&truncated[..truncated.len() - 20]),
        Err(ProtobufError::Envelope(WireError::Truncated { .. }))
    ));
    assert_eq!(
        decode_object(&body("", "", b"", "")),
        Err(ProtobufError::MissingTypeMeta)
    );
    let gzip = decode_object(&body("v1", "Secret", &metadata("s"), "gzip")).unwrap_err();
    assert!(
        matches!(&gzip, ProtobufError::UnsupportedEncoding { encoding, .. } if encoding == "gzip"),
        "{gzip}"
    );
    assert_eq!(gzip.kind(), Some("Secret"));
}

#[test]
fn a_wire_type_that_does_not_fit_the_field_is_reported() {
    // ConfigMap field 4 (immutable) is a varint; send it length-delimited.
    let raw = [metadata("c"), bytes_field(4, b"yes")].concat();
    let error = decode_object(&body("v1", "ConfigMap", &raw, "")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "unable to decode v1 ConfigMap: field 4 (immutable) is length-delimited, expected varint in ConfigMap at the top level"
    );
}
