//! `k8s.io/api/core/v1` pod templates: the part of `PodSpec` and `Container` that kubectl's
//! typed commands fill (images, commands, ports, env values, resources, restart policy) and the
//! scalar fields Go always writes. Volumes, probes, security contexts, affinity and env
//! `valueFrom` are not in the tables: a body that sets them answers 415.

use super::core::LOCAL_OBJECT_REFERENCE;
use super::meta::OBJECT_META;
use crate::protobuf::schema::FieldType::{Bool, Int32, Int64, Map, Object, Quantity, Text};
use crate::protobuf::schema::{Field, Message};

/// `v1.PodTemplateSpec`.
pub(crate) static POD_TEMPLATE_SPEC: Message = Message::new(
    "PodTemplateSpec",
    &[
        Field::new(1, "metadata", Object(&OBJECT_META)),
        Field::new(2, "spec", Object(&POD_SPEC)),
    ],
);

static POD_SPEC: Message = Message::new(
    "PodSpec",
    &[
        Field::new(2, "containers", Object(&CONTAINER)).repeated(),
        Field::new(3, "restartPolicy", Text),
        Field::new(4, "terminationGracePeriodSeconds", Int64).pointer(),
        Field::new(5, "activeDeadlineSeconds", Int64).pointer(),
        Field::new(6, "dnsPolicy", Text),
        Field::new(7, "nodeSelector", Map(&Text)),
        Field::new(8, "serviceAccountName", Text),
        Field::new(9, "serviceAccount", Text),
        Field::new(10, "nodeName", Text),
        Field::new(11, "hostNetwork", Bool),
        Field::new(12, "hostPID", Bool),
        Field::new(13, "hostIPC", Bool),
        Field::new(15, "imagePullSecrets", Object(&LOCAL_OBJECT_REFERENCE)).repeated(),
        Field::new(16, "hostname", Text),
        Field::new(17, "subdomain", Text),
        Field::new(19, "schedulerName", Text),
        Field::new(20, "initContainers", Object(&CONTAINER)).repeated(),
        Field::new(21, "automountServiceAccountToken", Bool).pointer(),
        Field::new(22, "tolerations", Object(&TOLERATION)).repeated(),
        Field::new(24, "priorityClassName", Text),
        Field::new(25, "priority", Int32).pointer(),
        Field::new(27, "shareProcessNamespace", Bool).pointer(),
        Field::new(29, "runtimeClassName", Text).pointer(),
        Field::new(30, "enableServiceLinks", Bool).pointer(),
        Field::new(31, "preemptionPolicy", Text).pointer(),
        Field::new(35, "setHostnameAsFQDN", Bool).pointer(),
        Field::new(37, "hostUsers", Bool).pointer(),
        Field::new(41, "hostnameOverride", Text).pointer(),
    ],
);

static CONTAINER: Message = Message::new(
    "Container",
    &[
        Field::new(1, "name", Text),
        Field::new(2, "image", Text),
        Field::new(3, "command", Text).repeated(),
        Field::new(4, "args", Text).repeated(),
        Field::new(5, "workingDir", Text),
        Field::new(6, "ports", Object(&CONTAINER_PORT)).repeated(),
        Field::new(7, "env", Object(&ENV_VAR)).repeated(),
        Field::new(8, "resources", Object(&RESOURCE_REQUIREMENTS)),
        Field::new(13, "terminationMessagePath", Text),
        Field::new(14, "imagePullPolicy", Text),
        Field::new(16, "stdin", Bool),
        Field::new(17, "stdinOnce", Bool),
        Field::new(18, "tty", Bool),
        Field::new(20, "terminationMessagePolicy", Text),
        Field::new(24, "restartPolicy", Text).pointer(),
    ],
);

static CONTAINER_PORT: Message = Message::new(
    "ContainerPort",
    &[
        Field::new(1, "name", Text),
        Field::new(2, "hostPort", Int32),
        Field::new(3, "containerPort", Int32),
        Field::new(4, "protocol", Text),
        Field::new(5, "hostIP", Text),
    ],
);

/// `v1.EnvVar` with a literal value (`valueFrom` is not decoded).
static ENV_VAR: Message = Message::new(
    "EnvVar",
    &[Field::new(1, "name", Text), Field::new(2, "value", Text)],
);

static RESOURCE_REQUIREMENTS: Message = Message::new(
    "ResourceRequirements",
    &[
        Field::new(1, "limits", Map(&Quantity)),
        Field::new(2, "requests", Map(&Quantity)),
        Field::new(3, "claims", Object(&RESOURCE_CLAIM)).repeated(),
    ],
);

static RESOURCE_CLAIM: Message = Message::new(
    "ResourceClaim",
    &[Field::new(1, "name", Text), Field::new(2, "request", Text)],
);

static TOLERATION: Message = Message::new(
    "Toleration",
    &[
        Field::new(1, "key", Text),
        Field::new(2, "operator", Text),
        Field::new(3, "value", Text),
        Field::new(4, "effect", Text),
        Field::new(5, "tolerationSeconds", Int64).pointer(),
    ],
);
