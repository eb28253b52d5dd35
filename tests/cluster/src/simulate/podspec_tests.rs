use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;

struct Objects(Vec<(Kind, Value)>);

impl ObjectSource for Objects {
    fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<Value> {
        self.0
            .iter()
            .find(|(k, o)| {
                *k == kind && object::namespace(o) == namespace && object::name(o) == name
            })
            .map(|(_, o)| o.clone())
    }
}

fn objects() -> Objects {
    Objects(vec![
        (
            Kind::ConfigMap,
            json!({"metadata": {"name": "settings", "namespace": "ci"}, "data": {"MODE": "fast", "LEVEL": "3"}}),
        ),
        (
            Kind::Secret,
            json!({"metadata": {"name": "creds", "namespace": "ci"}, "data": {"token": "czNjcjN0"}}),
        ),
    ])
}

fn pod(container: Value) -> Value {
    json!({
        "metadata": {"name": "build-x", "namespace": "ci", "uid": "u1", "labels": {"app": "build"}},
        "spec": {"containers": [container], "volumes": [
            {"name": "work", "emptyDir": {}},
            {"name": "config", "configMap": {"name": "settings", "items": [{"key": "MODE", "path": "mode.txt"}]}},
            {"name": "secret", "secret": {"secretName": "creds"}}
        ]},
        "status": {"podIP": "10.244.0.9"}
    })
}

#[test]
fn env_resolves_literals_references_fields_and_expansions() {
    let container = json!({
        "name": "main", "image": "busybox",
        "command": ["sh", "-c"], "args": ["echo $(GREETING) $$(literal) $(UNDEFINED)"],
        "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}],
        "env": [
            {"name": "NAME", "value": "world"},
            {"name": "GREETING", "value": "hello $(NAME)"},
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
            {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "MODE"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "GONE", "valueFrom": {"configMapKeyRef": {"name": "missing", "key": "x", "optional": true}}}
        ]
    });
    let plan = plan_run(&pod(container), &objects()).unwrap();
    let env: BTreeMap<String, String> = plan.containers[0].env.iter().cloned().collect();
    assert_eq!(env["CFG_MODE"], "fast");
    assert_eq!(env["CFG_LEVEL"], "3");
    assert_eq!(env["GREETING"], "hello world");
    assert_eq!(env["TOKEN"], "s3cr3t");
    assert_eq!(env["MODE"], "fast");
    assert_eq!(env["POD"], "build-x");
    assert_eq!(env["APP"], "build");
    assert_eq!(env["IP"], "10.244.0.9");
    assert!(!env.contains_key("GONE"));
    assert_eq!(
        plan.containers[0].args,
        vec!["echo hello world $(literal) $(UNDEFINED)"]
    );
    assert_eq!(
        plan.containers[0].termination_message_path,
        DEFAULT_TERMINATION_MESSAGE_PATH
    );
}

#[test]
fn a_missing_key_fails_the_container_with_the_kubelet_message() {
    let container = json!({"name": "main", "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "nope"}}}]});
    let error = plan_run(&pod(container), &objects()).unwrap_err();
    assert_eq!(error.container, "main");
    assert_eq!(error.message, "couldn't find key nope in Secret ci/creds");
    let container = json!({"name": "main", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k"}}}]});
    assert_eq!(
        plan_run(&pod(container), &objects()).unwrap_err().message,
        "configmap \"absent\" not found"
    );
}

#[test]
fn volumes_carry_their_files_and_mounts_their_paths() {
    let container = json!({
        "name": "main", "workingDir": "/work", "terminationMessagePath": "/work/result",
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": "work", "mountPath": "/work"}, {"name": "config", "mountPath": "/etc/cfg", "readOnly": true, "subPath": ""}]
    });
    let plan = plan_run(&pod(container), &objects()).unwrap();
    assert_eq!(
        plan.volumes[0],
        VolumePlan::Empty {
            name: "work".into()
        }
    );
    assert_eq!(
        plan.volumes[1],
        VolumePlan::Files {
            name: "config".into(),
            files: BTreeMap::from([("mode.txt".into(), b"fast".to_vec())])
        }
    );
    assert_eq!(
        plan.volumes[2],
        VolumePlan::Files {
            name: "secret".into(),
            files: BTreeMap::from([("token".into(), b"s3cr3t".to_vec())])
        }
    );
    let container = &plan.containers[0];
    assert_eq!(container.working_dir.as_deref(), Some("/work"));
    assert_eq!(container.termination_message_path, "/work/result");
    assert!(container.fallback_to_logs_on_error);
    assert_eq!(
        container.mounts[1],
        MountPlan {
            volume: "config".into(),
            mount_path: "/etc/cfg".into(),
            sub_path: None,
            read_only: true
        }
    );
}

#[test]
fn expansion_matches_kubernetes_rules() {
    let vars = BTreeMap::from([("A".to_string(), "1".to_string())]);
    assert_eq!(expand("$(A)-$(B)-$$(A)-$A-$", &vars), "1-$(B)-$(A)-$A-$");
    assert_eq!(expand("$(A", &vars), "$(A");
}

#[test]
fn a_replaced_command_drops_the_args_and_unknown_containers_are_reported() {
    let pod = json!({
        "metadata": {"name": "build-x", "namespace": "ci", "uid": "u1"},
        "spec": {
            "initContainers": [{"name": "docker", "image": "docker:dind", "args": ["dockerd", "--host=unix:///run/d.sock"]}],
            "containers": [{"name": "build", "image": "alpine", "command": ["/tools/run"], "args": ["--fast"]}]
        }
    });
    let mut plan = plan_run(&pod, &objects()).unwrap();
    let commands = BTreeMap::from([
        ("docker".to_owned(), vec!["ln".to_owned(), "-s".to_owned()]),
        ("sidecar".to_owned(), vec!["true".to_owned()]),
    ]);
    assert_eq!(plan.replace_commands(&commands), vec!["sidecar".to_owned()]);
    let docker = &plan.init_containers[0];
    assert_eq!(docker.command, vec!["ln", "-s"]);
    assert!(docker.args.is_empty(), "{:?}", docker.args);
    let build = &plan.containers[0];
    assert_eq!(
        (build.command.clone(), build.args.clone()),
        (vec!["/tools/run".to_owned()], vec!["--fast".to_owned()]),
        "containers not named keep their command"
    );
}
