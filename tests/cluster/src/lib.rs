//! Slipway's test cluster: an in-process stand-in for kube-apiserver, used only by tests and
//! benchmarks (never shipped). See `DESIGN.md`, "The test cluster".
//!
//! Start one with [`TestCluster::start`] and talk to it with the real `kube::Client`
//! ([`TestCluster::client`]) or real kubectl ([`TestCluster::write_kubeconfig`]). In-cluster
//! simulators use the [`Cluster`] handle, which takes the same write path as HTTP requests.
//!
//! Layout: [`store`] (objects, revisions, history) ← [`ops`] (the verbs: strategies, admission,
//! preconditions, deletion) ← [`http`] (REST, discovery, OpenAPI, tables, watch streams,
//! admin); [`gc`] runs the garbage collector and namespace controller in the background;
//! [`registry`] holds the served kinds; [`schema`] and [`patch`] are the CRD-schema and
//! patch engines; [`simulate`] plays kube-controller-manager and the kubelet.
//!
//! # Known divergences from kube-apiserver
//! Controller authors should not rely on the following:
//! * **Transport**: plain HTTP, no TLS, no authentication or authorization (every request is
//!   allowed; `blockOwnerDeletion` needs no permission), no admission webhooks, no API Priority
//!   and Fairness (429s only when injected), protobuf only for some request bodies (see
//!   *Content types*; responses are always JSON), no aggregated discovery
//!   (the legacy discovery documents only), no `/openapi/v2`.
//! * **Built-in kinds are schemaless**: no validation or defaulting of their fields beyond the
//!   object name (DNS-1123), no unknown-field detection (fieldValidation only affects custom
//!   resources), no immutable-field checks (e.g. a Deployment's selector can change), no
//!   `spec.clusterIP` allocation, no Pod graceful termination (pods without finalizers are
//!   removed at once), no Pod `generation`. Status written on create is reset (Pods start
//!   `Pending`, other built-ins with `{}`).
//! * **Built-in controllers**: only the garbage collector and the namespace controller run
//!   here; Deployments, ReplicaSets, Jobs, Services and EndpointSlices do nothing unless the
//!   simulators (`simulate`) drive them.
//! * **Versions**: `core/v1 Event` and `events.k8s.io/v1 Event` are separate collections (no
//!   conversion between them). A CRD's versions share one collection with no conversion but
//!   the `apiVersion` (the `None` strategy); conversion webhooks are not supported.
//! * **CRDs**: accepted immediately (`Established`/`NamesAccepted` set in the create's own
//!   write, no second status update); name conflicts between CRDs are not detected; the
//!   structural-schema rules and CEL cost limits are not enforced (see [`schema`] for the
//!   schema engine's own divergences); `selectableFields` are ignored (custom resources select
//!   on `metadata.name`/`metadata.namespace` only). Deleting a CRD removes its objects at once
//!   (each with a DELETED event), ignoring their finalizers.
//! * **Tables** (`kubectl get`): custom resources get their printer columns; built-ins only
//!   `Name` and `Created At`.
//! * **OpenAPI v3**: custom resources' schemas as written in the CRD; built-in kinds get a
//!   skeleton (so `kubectl explain` of built-ins shows nothing useful); strategic merge is not
//!   advertised, so kubectl computes strategic patches from its compiled-in types.
//! * **Lists and watches**: served from the store at the current revision, never from a lagging
//!   cache; `resourceVersionMatch=NotOlderThan` always answers the newest state; a list at a
//!   future version answers 504 at once instead of waiting; `limit` is honoured even with
//!   `resourceVersion=0`; continue tokens are this server's own format. Watch bookmarks come
//!   every [`ClusterConfig::bookmark_interval`] (default 5 s, the apiserver's is about a
//!   minute); a watch without `timeoutSeconds` ends after 30 minutes. The history window counts
//!   changes (default 100 000), not time (etcd compacts every 5 minutes). Watches of one
//!   resource see changes in revision order across all resources, as etcd does.
//! * **Deletion**: `gracePeriodSeconds` is ignored (deletion is immediate unless finalizers
//!   remain; `deletionGracePeriodSeconds` is set to 0). Delete answers with the object for
//!   custom resources and Pods and with a success `Status` for other built-ins. An update that
//!   removes the last finalizer is recorded as a MODIFIED then a DELETED event. The garbage
//!   collector matches owners by UID only (not kind or apiVersion), does not check that owner
//!   and dependent share a namespace, and runs within milliseconds rather than seconds.
//! * **Field managers**: a non-apply request without `fieldManager` gets the user agent's
//!   program name (`unknown` without a user agent); managedFields come from the patch module,
//!   whose own divergences are listed in [`patch`].
//! * **Content types**: request bodies are JSON (or YAML for apply patches and
//!   `application/yaml`), or Kubernetes protobuf (`application/vnd.kubernetes.protobuf`) for
//!   creates and updates of `v1` Namespace, Secret, ConfigMap, ServiceAccount and Service,
//!   `apps/v1` Deployment and `batch/v1` Job — what kubectl's typed commands send (`kubectl
//!   create namespace|secret|configmap|serviceaccount|deployment|job|service`; `kubectl run`,
//!   `expose` and `scale` send JSON). The [`protobuf`] decoder reads the fields those commands
//!   fill and the scalars Go always writes; pod templates leave out volumes, probes, security
//!   contexts, affinity and env `valueFrom`, and status parts only their counters. Any other
//!   protobuf body (another kind, such a field, a compressed or malformed envelope) answers 415
//!   with a `Status` naming the kind and saying to send JSON (`kubectl apply -f`). CBOR and
//!   protobuf patches answer 415. Without `/openapi/v2`, `kubectl apply -f` of a document
//!   whose kind the server does not serve (e.g. a `kustomization.yaml` in the directory) fails
//!   with `error validating data: the server could not find the requested resource` rather than
//!   `resource mapping not found`.
//! * **Faults and the request log** apply to HTTP requests only, not to the simulators'
//!   internal calls.
#![forbid(unsafe_code)]

pub mod cluster;
pub mod crd_files;
pub mod error;
pub mod faults;
pub mod gc;
pub mod gvr;
pub mod http;
pub mod kubeconfig;
pub mod meta;
pub mod ops;
pub mod patch;
pub mod patching;
pub mod protobuf;
pub mod registry;
pub mod requests;
pub mod schema;
pub mod selector;
pub mod simulate;
pub mod store;
pub mod testcluster;
pub mod watch;

pub use cluster::{Cluster, ClusterConfig, ClusterEvent};
pub use error::ApiError;
pub use faults::{Fault, Faults};
pub use gvr::{GroupResource, Gvr};
pub use requests::{RequestLog, RequestRecord};
pub use schema::{CrdSchema, FieldError, FieldErrorKind, FieldErrors, SchemaError};
pub use store::EventKind;
pub use testcluster::TestCluster;
