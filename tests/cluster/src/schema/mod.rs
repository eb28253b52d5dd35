//! Validation, defaulting and pruning of custom resources from a CRD's OpenAPI v3 schema, the way
//! kube-apiserver 1.33 does it, with the apiserver's own error texts.
//!
//! # Contract
//! * [`CrdSchema::from_crd`] takes an `apiextensions.k8s.io/v1` `CustomResourceDefinition` as
//!   JSON and a version name, parses that version's `openAPIV3Schema` once and compiles every CEL
//!   rule once. A CRD the apiserver would refuse for its schema (a bad `pattern`, a CEL rule that
//!   does not compile, an unknown `reason`, a `fieldPath` that names no field) is an error, never
//!   a panic.
//! * [`CrdSchema::prune`] removes fields the schema does not know (respecting
//!   `x-kubernetes-preserve-unknown-fields`, `additionalProperties` and embedded resources, and
//!   dropping unknown `metadata` fields), returns their sorted paths (what kubectl's
//!   `--validate=strict` reports as `unknown field "spec.foo"`), and drops `null` values of fields
//!   that are neither `nullable` nor defaulted, as the apiserver's decoder does.
//! * [`CrdSchema::default_object`] applies `default`s: a property's default when it is absent
//!   (or `null` and not `nullable`) and its parent object exists, recursively into defaults it
//!   just added, never into unknown fields kept by `x-kubernetes-preserve-unknown-fields`.
//! * [`CrdSchema::validate`] returns the errors the apiserver returns, in its order: the object's
//!   `metadata.name`, then the OpenAPI schema (kube-openapi's validator: `type`, `nullable`,
//!   `format`, `enum`, `pattern`, lengths, bounds, `multipleOf`, item and property counts,
//!   `required`, `additionalProperties`, `allOf`/`oneOf`/`anyOf`/`not`), then embedded resources'
//!   `apiVersion`/`kind`/`metadata`, then `x-kubernetes-list-type` `set`/`map` uniqueness, then CEL
//!   `x-kubernetes-validations`. As in the apiserver, CEL is skipped altogether once any error of
//!   kind Required, NotSupported, TooLong, TooMany or TypeInvalid exists, and the note
//!   `<nil>: Invalid value: "null": some validation rules were not checked ...` is added instead.
//!   With `old` (an update), transition rules (`oldSelf`) run, and ratcheting forgives schema and
//!   CEL errors on values equal to their correlated old value, like the apiserver's
//!   `CRDValidationRatcheting` (on by default since 1.30).
//! * [`CrdSchema::admit`] chains prune → default → validate as a create or update does (the
//!   apiserver's decoder prunes and defaults, then the registry validates).
//! * Errors that concern the whole object, not a field, have the path `<nil>`, as the apiserver
//!   prints a nil `field.Path` (`oneOf`/`anyOf`/`allOf`/`not` failures, CEL rules on the root).
//! * [`FieldErrors`] prints and serialises like the apiserver: `Display` is the aggregate text of
//!   a 422 message and [`FieldErrors::to_status`] the full `Status` body.
//! * Apiserver oddities are kept on purpose: maxLength counts characters yet says "bytes"
//!   (`Too long: may not be more than 5 bytes`, the 1.32+ wording), `3.0` passes `type: integer`,
//!   and an integer matches a one-character string enum value of its code point (Go's conversion).
//!
//! # Known divergences from kube-apiserver
//! * Texts follow 1.33: composite bad values print Go-style (`map[string]interface {}{...}`),
//!   CEL failures show the schema type name as the value (`Invalid value: "object"`). 1.34 prints
//!   JSON and omits the value of objects and arrays.
//! * Go map iteration makes the apiserver's order of sibling errors random; here siblings come in
//!   key order.
//! * CEL runs on the `cel` crate through `kube-cel`, not cel-go: rules are parsed but not
//!   type-checked when the CRD is loaded (a rule naming a missing field fails at evaluation instead
//!   of at CRD creation), runtime error texts differ from cel-go's, there is no cost budget, macros
//!   `kube-cel` lacks (e.g. `sortBy`, `cel.bind`, two-variable comprehensions) fail closed as
//!   evaluation errors, `optionalOldSelf` binds `oldSelf` to `null` rather than `optional.none()`,
//!   CEL rules nested inside `allOf` entries below the entry's top level are ignored, and a root
//!   rule sees all of `metadata` (the apiserver exposes only `name` and `generateName`).
//! * Formats: `isbn`, `isbn10`, `isbn13`, `creditcard` and `password` are not checked; `email`,
//!   `uri`, `duration` and `mac` are approximations of Go's parsers. As in the apiserver, numeric
//!   formats (`int32`, `int64`, `float`, `double`) are stripped and constrain nothing beyond `type`.
//! * `pattern` uses the `regex` crate after rewriting Go's ASCII-only `\d \w \s \b`; constructs Go
//!   rejects but `regex` accepts (or the reverse) are not detected.
//! * `metadata` of the object: only `name` (DNS-1123 subdomain, or `generateName` present) is
//!   checked here; namespace, labels, annotations, owner references, finalizers and immutability
//!   on update belong to the REST layer. Embedded resources' metadata: `name` as a path segment
//!   and `namespace` as a DNS-1123 label only.
//! * Structural-schema rules the apiserver enforces when a CRD is created (e.g. no
//!   `additionalProperties: false`, no defaults under `metadata`, `type` everywhere) are not
//!   checked; such schemas are applied as written (`additionalProperties: false` keys are pruned).
//! * `x-kubernetes-validations`: `messageExpression` results are not held to the apiserver's
//!   size limit; rules placed where `oldSelf` cannot be correlated are not refused (they simply
//!   never run, as on the apiserver).
//! * Ratcheting is approximated: schema errors anywhere under a value equal to its correlated old
//!   value are dropped (objects correlate by key, `list-type: map` items by key, `set` items by
//!   value, other list items not at all); CEL errors of non-transition rules are dropped when the
//!   node, or for uncorrelated nodes the nearest correlated ancestor, is unchanged. Rules that
//!   come from an `allOf` entry ratchet like the node's own rules. `x-kubernetes-map-type` is not
//!   consulted (every object correlates).
//! * The apiserver's scale subresource checks and admission webhooks are out of scope.

mod cel;
mod defaulting;
mod errors;
mod formats;
mod gofmt;
mod listtype;
mod metadata;
mod node;
mod openapi;
mod pruning;
#[cfg(test)]
mod tests;

use serde_json::Value;

pub use errors::{FieldError, FieldErrorKind, FieldErrors};
use node::{Node, Spine};

/// Why a CRD cannot be turned into a [`CrdSchema`].
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The CRD has no version with that name.
    #[error("unable to find version {version:?} in CustomResourceDefinition {crd:?}")]
    VersionNotFound {
        /// The version asked for.
        version: String,
        /// The CRD's `metadata.name`.
        crd: String,
    },
    /// The version carries no `schema.openAPIV3Schema`.
    #[error("unable to find schema.openAPIV3Schema of version {version:?}")]
    MissingSchema {
        /// The version asked for.
        version: String,
    },
    /// A schema keyword the apiserver would refuse.
    #[error("invalid schema at {location}: {detail}")]
    Invalid {
        /// Where in the CRD, e.g. `openAPIV3Schema.properties[spec].pattern`.
        location: String,
        /// What is wrong.
        detail: String,
    },
    /// A CEL rule that does not compile.
    #[error("failed to compile CEL rule {rule:?} at {location}: {detail}")]
    Cel {
        /// Where in the CRD.
        location: String,
        /// The rule text.
        rule: String,
        /// The compiler's message.
        detail: String,
    },
    /// Several of the above.
    #[error("invalid CustomResourceDefinition: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Many(Vec<SchemaError>),
}

/// One version of a CRD, ready to prune, default and validate objects.
pub struct CrdSchema {
    group: String,
    kind: String,
    version: String,
    root: Node,
}

impl std::fmt::Debug for CrdSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrdSchema")
            .field("group", &self.group)
            .field("kind", &self.kind)
            .field("version", &self.version)
            .finish()
    }
}

impl CrdSchema {
    /// Parses `version` of a `CustomResourceDefinition` and compiles its CEL rules.
    ///
    /// # Errors
    /// [`SchemaError`] when the version or its schema is missing, or the schema holds something
    /// the apiserver would reject when the CRD is created (bad pattern, CEL that does not compile).
    pub fn from_crd(crd: &Value, version: &str) -> Result<Self, SchemaError> {
        let text = |pointer: &str| {
            crd.pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let crd_name = text("/metadata/name");
        let entry = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .and_then(|versions| {
                versions
                    .iter()
                    .find(|entry| entry.get("name").and_then(Value::as_str) == Some(version))
            })
            .ok_or_else(|| SchemaError::VersionNotFound {
                version: version.to_string(),
                crd: crd_name,
            })?;
        let raw =
            entry
                .pointer("/schema/openAPIV3Schema")
                .ok_or_else(|| SchemaError::MissingSchema {
                    version: version.to_string(),
                })?;
        Self::from_openapi_schema(
            raw,
            &text("/spec/group"),
            &text("/spec/names/kind"),
            version,
        )
    }

    /// Builds from a bare `openAPIV3Schema` (as `from_crd` does after finding the version).
    ///
    /// # Errors
    /// As [`CrdSchema::from_crd`], for problems inside the schema.
    pub fn from_openapi_schema(
        raw: &Value,
        group: &str,
        kind: &str,
        version: &str,
    ) -> Result<Self, SchemaError> {
        let mut problems = Vec::new();
        let root = Node::parse(raw, "openAPIV3Schema", Spine::Structural, &mut problems);
        match problems.len() {
            0 => Ok(Self {
                group: group.to_string(),
                kind: kind.to_string(),
                version: version.to_string(),
                root,
            }),
            1 => Err(problems.remove(0)),
            _ => Err(SchemaError::Many(problems)),
        }
    }

    /// The CRD's API group (`spec.group`).
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The resource kind (`spec.names.kind`).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The version this schema belongs to.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Removes unknown fields and non-nullable nulls; returns the removed fields' paths, sorted.
    pub fn prune(&self, object: &mut Value) -> Vec<String> {
        let unknown = pruning::prune_object(object, &self.root);
        defaulting::prune_nulls(object, Some(&self.root));
        unknown
    }

    /// Applies the schema's `default`s to `object` in place.
    pub fn default_object(&self, object: &mut Value) {
        defaulting::apply(object, &self.root);
    }

    /// Validates `object` (and, on update, its transition from `old`) as the apiserver does.
    ///
    /// # Errors
    /// The apiserver's field errors, in its order; see the module docs.
    pub fn validate(&self, object: &Value, old: Option<&Value>) -> Result<(), FieldErrors> {
        let mut errors = metadata::validate_object_name(object);
        errors.extend(openapi::validate(&self.root, object, old));
        errors.extend(metadata::validate_embedded(&self.root, object));
        // On update, list uniqueness is only enforced when the old object honoured it.
        if old.is_none_or(|old| listtype::validate(&self.root, old).is_empty()) {
            errors.extend(listtype::validate(&self.root, object));
        }
        if errors.iter().any(|error| error.kind.blocks_cel()) {
            errors.push(FieldError::invalid(
                "<nil>",
                Value::Null,
                "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
            ));
        } else {
            cel::validate(&self.root, "", object, cel::Cursor::root(old), &mut errors);
        }
        FieldErrors::from_vec(errors).map_or(Ok(()), Err)
    }

    /// Prunes, defaults and validates `object` as a create (`old` = `None`) or update does.
    ///
    /// # Errors
    /// The field errors of [`CrdSchema::validate`] on the pruned and defaulted object.
    pub fn admit(
        &self,
        object: &mut Value,
        old: Option<&Value>,
    ) -> Result<Vec<String>, FieldErrors> {
        let unknown = self.prune(object);
        self.default_object(object);
        self.validate(object, old)?;
        Ok(unknown)
    }
}
