//! `k8s.io/api/core/v1`: Namespace, Secret, ConfigMap, ServiceAccount and Service.

use super::meta::{CONDITION, METADATA};
use crate::protobuf::schema::FieldType::{
    Bool, Bytes, Int32, IntOrString, Map, Object, Text, Time,
};
use crate::protobuf::schema::{Field, Message};

/// `v1.Namespace`.
pub(crate) static NAMESPACE: Message = Message::new(
    "Namespace",
    &[
        METADATA,
        Field::new(2, "spec", Object(&NAMESPACE_SPEC)),
        Field::new(3, "status", Object(&NAMESPACE_STATUS)),
    ],
);

static NAMESPACE_SPEC: Message = Message::new(
    "NamespaceSpec",
    &[Field::new(1, "finalizers", Text).repeated()],
);

static NAMESPACE_STATUS: Message = Message::new(
    "NamespaceStatus",
    &[
        Field::new(1, "phase", Text),
        Field::new(2, "conditions", Object(&NAMESPACE_CONDITION)).repeated(),
    ],
);

static NAMESPACE_CONDITION: Message = Message::new(
    "NamespaceCondition",
    &[
        Field::new(1, "type", Text),
        Field::new(2, "status", Text),
        Field::new(4, "lastTransitionTime", Time),
        Field::new(5, "reason", Text),
        Field::new(6, "message", Text),
    ],
);

/// `v1.Secret`: `data` values are bytes on the wire and base64 in JSON.
pub(crate) static SECRET: Message = Message::new(
    "Secret",
    &[
        METADATA,
        Field::new(2, "data", Map(&Bytes)),
        Field::new(3, "type", Text),
        Field::new(4, "stringData", Map(&Text)),
        Field::new(5, "immutable", Bool).pointer(),
    ],
);

/// `v1.ConfigMap`.
pub(crate) static CONFIG_MAP: Message = Message::new(
    "ConfigMap",
    &[
        METADATA,
        Field::new(2, "data", Map(&Text)),
        Field::new(3, "binaryData", Map(&Bytes)),
        Field::new(4, "immutable", Bool).pointer(),
    ],
);

/// `v1.ServiceAccount`.
pub(crate) static SERVICE_ACCOUNT: Message = Message::new(
    "ServiceAccount",
    &[
        METADATA,
        Field::new(2, "secrets", Object(&OBJECT_REFERENCE)).repeated(),
        Field::new(3, "imagePullSecrets", Object(&LOCAL_OBJECT_REFERENCE)).repeated(),
        Field::new(4, "automountServiceAccountToken", Bool).pointer(),
    ],
);

/// `v1.ObjectReference`.
static OBJECT_REFERENCE: Message = Message::new(
    "ObjectReference",
    &[
        Field::new(1, "kind", Text),
        Field::new(2, "namespace", Text),
        Field::new(3, "name", Text),
        Field::new(4, "uid", Text),
        Field::new(5, "apiVersion", Text),
        Field::new(6, "resourceVersion", Text),
        Field::new(7, "fieldPath", Text),
    ],
);

/// `v1.LocalObjectReference` (image pull secrets).
pub(crate) static LOCAL_OBJECT_REFERENCE: Message =
    Message::new("LocalObjectReference", &[Field::new(1, "name", Text)]);

/// `v1.Service`.
pub(crate) static SERVICE: Message = Message::new(
    "Service",
    &[
        METADATA,
        Field::new(2, "spec", Object(&SERVICE_SPEC)),
        Field::new(3, "status", Object(&SERVICE_STATUS)),
    ],
);

static SERVICE_SPEC: Message = Message::new(
    "ServiceSpec",
    &[
        Field::new(1, "ports", Object(&SERVICE_PORT)).repeated(),
        Field::new(2, "selector", Map(&Text)),
        Field::new(3, "clusterIP", Text),
        Field::new(4, "type", Text),
        Field::new(5, "externalIPs", Text).repeated(),
        Field::new(7, "sessionAffinity", Text),
        Field::new(8, "loadBalancerIP", Text),
        Field::new(9, "loadBalancerSourceRanges", Text).repeated(),
        Field::new(10, "externalName", Text),
        Field::new(11, "externalTrafficPolicy", Text),
        Field::new(12, "healthCheckNodePort", Int32),
        Field::new(13, "publishNotReadyAddresses", Bool),
        Field::new(
            14,
            "sessionAffinityConfig",
            Object(&SESSION_AFFINITY_CONFIG),
        ),
        Field::new(17, "ipFamilyPolicy", Text).pointer(),
        Field::new(18, "clusterIPs", Text).repeated(),
        Field::new(19, "ipFamilies", Text).repeated(),
        Field::new(20, "allocateLoadBalancerNodePorts", Bool).pointer(),
        Field::new(21, "loadBalancerClass", Text).pointer(),
        Field::new(22, "internalTrafficPolicy", Text).pointer(),
        Field::new(23, "trafficDistribution", Text).pointer(),
    ],
);

static SERVICE_PORT: Message = Message::new(
    "ServicePort",
    &[
        Field::new(1, "name", Text),
        Field::new(2, "protocol", Text),
        Field::new(3, "port", Int32),
        Field::new(4, "targetPort", IntOrString),
        Field::new(5, "nodePort", Int32),
        Field::new(6, "appProtocol", Text).pointer(),
    ],
);

static SESSION_AFFINITY_CONFIG: Message = Message::new(
    "SessionAffinityConfig",
    &[Field::new(1, "clientIP", Object(&CLIENT_IP_CONFIG))],
);

static CLIENT_IP_CONFIG: Message = Message::new(
    "ClientIPConfig",
    &[Field::new(1, "timeoutSeconds", Int32).pointer()],
);

static SERVICE_STATUS: Message = Message::new(
    "ServiceStatus",
    &[
        Field::new(1, "loadBalancer", Object(&LOAD_BALANCER_STATUS)),
        Field::new(2, "conditions", Object(&CONDITION)).repeated(),
    ],
);

static LOAD_BALANCER_STATUS: Message = Message::new(
    "LoadBalancerStatus",
    &[Field::new(1, "ingress", Object(&LOAD_BALANCER_INGRESS)).repeated()],
);

/// `v1.LoadBalancerIngress` without its `ports` (port status), which clients never send.
static LOAD_BALANCER_INGRESS: Message = Message::new(
    "LoadBalancerIngress",
    &[
        Field::new(1, "ip", Text),
        Field::new(2, "hostname", Text),
        Field::new(3, "ipMode", Text).pointer(),
    ],
);
