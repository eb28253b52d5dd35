//! Types shared by more than one kind: references, conditions, name/value pairs, artifact stores.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// The API group of every Slipway kind.
pub const GROUP: &str = "slipway.dev";
/// The API version of every Slipway kind.
pub const VERSION: &str = "v1alpha1";

/// A Secret in the object's own namespace, by name.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecretReference {
    /// Name of the Secret, in the same namespace as the object that refers to it.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// One key of a Secret in the object's own namespace.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyReference {
    /// Name of the Secret, in the same namespace as the object that refers to it.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key inside the Secret's data.
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// A child object this object created, found by owner reference and matched by UID.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ChildReference {
    /// API version of the child, e.g. `batch/v1`.
    pub api_version: String,
    /// Kind of the child, e.g. `Job`.
    pub kind: String,
    /// Name of the child, in the parent's namespace.
    pub name: String,
    /// UID of the child; a child with the same name but another UID is not this child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// A name and a string value (build arguments, variables, exported variables).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NameValue {
    /// The name.
    #[schemars(length(min = 1, max = 256))]
    pub name: String,
    /// The value.
    #[serde(default)]
    pub value: String,
}

/// Where build artifacts are kept between actions. Exactly one store is named.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = exactly_one_of(&["oci", "objectStore"]))]
pub struct ArtifactStore {
    /// Keep artifacts as OCI artifacts in a registry repository (the default store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci: Option<OciArtifactStore>,
    /// Keep artifacts in S3-compatible, GCS or Azure object storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_store: Option<ObjectArtifactStore>,
}

/// An OCI registry repository used as an artifact store.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OciArtifactStore {
    /// Repository that receives artifacts, e.g. `registry.example.com/team/artifacts`.
    #[schemars(length(min = 1, max = 512))]
    pub repository: String,
    /// Secret of type `kubernetes.io/dockerconfigjson` with push and pull credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<SecretReference>,
    /// Talk plain HTTP to the registry (only for registries on a trusted local network).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
}

/// An object storage location used as an artifact store.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectArtifactStore {
    /// Bucket and prefix as a URL: `s3://bucket/prefix`, `gs://bucket/prefix` or `az://container/prefix`.
    #[schemars(regex(pattern = r"^(s3|gs|az)://[^/]+(/.*)?$"), length(max = 1024))]
    pub url: String,
    /// S3-compatible endpoint URL, for stores other than AWS S3 (MinIO, Ceph, R2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Region of the bucket, where the store needs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Secret with the store's credentials (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, or the
    /// provider's equivalent keys); without it the pod's ambient identity is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<SecretReference>,
}

/// An artifact produced by a run and where it was stored.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactRecord {
    /// The artifact's name (an output artifact of an action, or a buildspec secondary artifact id).
    pub name: String,
    /// Where it is stored: `oci://repository@sha256:…` or an object store URL.
    pub location: String,
    /// Content digest (`sha256:…`) of the stored artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Who produced it, as `Stage/Action` (or `Source`), in a pipeline run's list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub produced_by: Option<String>,
}

/// Conditions with the Kubernetes shape, as a list-map keyed by `type` (server-side apply merges
/// by type, and kstatus, Argo CD and Flux read them).
pub type Conditions = Vec<Condition>;

/// Schema for a `conditions` field: the upstream `Condition` array plus the list-map markers that
/// k8s-openapi's generated schema lacks.
pub fn conditions_schema(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = generator.subschema_for::<Conditions>();
    schema.insert("x-kubernetes-list-type".into(), "map".into());
    schema.insert(
        "x-kubernetes-list-map-keys".into(),
        serde_json::json!(["type"]),
    );
    schema
}

/// Schema for an embedded Kubernetes object kept opaque in the CRD (a Job template): inlining the
/// full upstream schema at every use would push the CRDs towards the API server's size limit, and the
/// API server validates the object when the controller creates it.
pub fn opaque_object_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// A Go-style duration string (`30s`, `5m`, `1h30m`), as the API server's `duration()` CEL function reads it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct DurationString(pub String);

impl DurationString {
    /// Builds a duration string from its text.
    pub fn new(text: &str) -> Self {
        Self(text.to_owned())
    }

    /// Parses the text as a duration.
    ///
    /// # Errors
    /// When the text is not a Go duration; the schema rejects such text on admission.
    pub fn to_duration(&self) -> Result<std::time::Duration, String> {
        let parsed: kube::core::Duration = self
            .0
            .parse()
            .map_err(|error| format!("invalid duration {:?}: {error}", self.0))?;
        if parsed.is_negative() {
            return Err(format!(
                "invalid duration {:?}: must not be negative",
                self.0
            ));
        }
        Ok(parsed.into())
    }
}

impl JsonSchema for DurationString {
    fn schema_name() -> Cow<'static, str> {
        "DurationString".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "maxLength": 32,
            "pattern": r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
        })
    }
}

/// A schema transform adding a CEL rule: exactly one of the named optional fields is set.
pub(crate) fn exactly_one_of(fields: &'static [&'static str]) -> impl Fn(&mut Schema) {
    move |schema| {
        let rule = format!("{} == 1", count_set(fields));
        add_rule(
            schema,
            &rule,
            &format!("set exactly one of {}", list_names(fields)),
        );
    }
}

/// A schema transform adding a CEL rule: at most one of the named optional fields is set.
pub(crate) fn at_most_one_of(fields: &'static [&'static str]) -> impl Fn(&mut Schema) {
    move |schema| {
        let rule = format!("{} <= 1", count_set(fields));
        add_rule(
            schema,
            &rule,
            &format!("set at most one of {}", list_names(fields)),
        );
    }
}

/// A schema transform for a list of objects whose `name` must be unique.
pub(crate) fn unique_names(what: &'static str) -> impl Fn(&mut Schema) {
    move |schema| {
        add_rule(
            schema,
            "self.all(x, self.exists_one(y, y.name == x.name))",
            &format!("{what} names must be unique"),
        );
    }
}

/// A root-level transition rule: the named `spec` fields (each optional) keep their old values.
pub(crate) fn unchanged_rule(fields: &[&str], message: &str) -> kube::core::Rule {
    let clauses: Vec<String> = fields
        .iter()
        .map(|field| {
            format!(
                "(has(self.spec.{field}) == has(oldSelf.spec.{field}) && \
                 (!has(self.spec.{field}) || self.spec.{field} == oldSelf.spec.{field}))"
            )
        })
        .collect();
    kube::core::Rule::new(clauses.join(" && ")).message(message)
}

/// Appends one `x-kubernetes-validations` rule to a schema.
pub(crate) fn add_rule(schema: &mut Schema, rule: &str, message: &str) {
    let entry = serde_json::json!({ "rule": rule, "message": message });
    match schema
        .ensure_object()
        .entry("x-kubernetes-validations")
        .or_insert_with(|| serde_json::Value::Array(Vec::new()))
    {
        serde_json::Value::Array(rules) => rules.push(entry),
        other => *other = serde_json::Value::Array(vec![entry]),
    }
}

fn count_set(fields: &[&str]) -> String {
    fields
        .iter()
        .map(|field| format!("(has(self.{field}) ? 1 : 0)"))
        .collect::<Vec<_>>()
        .join(" + ")
}

fn list_names(fields: &[&str]) -> String {
    match fields {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_go_durations() {
        assert_eq!(
            DurationString::new("90s").to_duration(),
            Ok(std::time::Duration::from_secs(90))
        );
        assert_eq!(
            DurationString::new("1h30m").to_duration(),
            Ok(std::time::Duration::from_secs(5400))
        );
        assert!(DurationString::new("5 minutes").to_duration().is_err());
        assert!(DurationString::new("-5m").to_duration().is_err());
    }

    #[test]
    fn exactly_one_of_names_every_field_in_its_message() {
        let mut schema = json_schema!({"type": "object"});
        exactly_one_of(&["git", "image", "objectStore"])(&mut schema);
        let rule = &schema.as_object().unwrap()["x-kubernetes-validations"][0];
        assert_eq!(
            rule["rule"],
            "(has(self.git) ? 1 : 0) + (has(self.image) ? 1 : 0) + (has(self.objectStore) ? 1 : 0) == 1"
        );
        assert_eq!(
            rule["message"],
            "set exactly one of git, image or objectStore"
        );
    }

    #[test]
    fn rules_accumulate_on_one_schema() {
        let mut schema = json_schema!({"type": "object"});
        at_most_one_of(&["path", "inline"])(&mut schema);
        unique_names("stage")(&mut schema);
        let rules = schema.as_object().unwrap()["x-kubernetes-validations"]
            .as_array()
            .unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0]["message"], "set at most one of path or inline");
        assert_eq!(rules[1]["message"], "stage names must be unique");
    }

    #[test]
    fn unchanged_rule_tolerates_absent_optional_fields() {
        let rule = unchanged_rule(&["source"], "immutable");
        assert_eq!(
            rule.rule,
            "(has(self.spec.source) == has(oldSelf.spec.source) && \
             (!has(self.spec.source) || self.spec.source == oldSelf.spec.source))"
        );
    }
}
