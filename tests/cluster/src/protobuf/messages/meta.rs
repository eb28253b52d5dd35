//! `k8s.io/apimachinery/pkg/apis/meta/v1`: object metadata, label selectors and conditions.

use crate::protobuf::schema::FieldType::{Bool, Int64, Map, Object, RawJson, Text, Time};
use crate::protobuf::schema::{Field, FieldType, Message};

/// `metav1.ObjectMeta`.
pub(crate) static OBJECT_META: Message = Message::new(
    "ObjectMeta",
    &[
        Field::new(1, "name", Text),
        Field::new(2, "generateName", Text),
        Field::new(3, "namespace", Text),
        Field::new(4, "selfLink", Text),
        Field::new(5, "uid", Text),
        Field::new(6, "resourceVersion", Text),
        Field::new(7, "generation", Int64),
        Field::new(8, "creationTimestamp", Time),
        Field::new(9, "deletionTimestamp", Time).pointer(),
        Field::new(10, "deletionGracePeriodSeconds", Int64).pointer(),
        Field::new(11, "labels", Map(&Text)),
        Field::new(12, "annotations", Map(&Text)),
        Field::new(13, "ownerReferences", Object(&OWNER_REFERENCE)).repeated(),
        Field::new(14, "finalizers", Text).repeated(),
        Field::new(17, "managedFields", Object(&MANAGED_FIELDS_ENTRY)).repeated(),
    ],
);

/// `metav1.OwnerReference`.
static OWNER_REFERENCE: Message = Message::new(
    "OwnerReference",
    &[
        Field::new(1, "kind", Text),
        Field::new(3, "name", Text),
        Field::new(4, "uid", Text),
        Field::new(5, "apiVersion", Text),
        Field::new(6, "controller", Bool).pointer(),
        Field::new(7, "blockOwnerDeletion", Bool).pointer(),
    ],
);

/// `metav1.ManagedFieldsEntry`.
static MANAGED_FIELDS_ENTRY: Message = Message::new(
    "ManagedFieldsEntry",
    &[
        Field::new(1, "manager", Text),
        Field::new(2, "operation", Text),
        Field::new(3, "apiVersion", Text),
        Field::new(4, "time", Time).pointer(),
        Field::new(6, "fieldsType", Text),
        Field::new(7, "fieldsV1", RawJson).pointer(),
        Field::new(8, "subresource", Text),
    ],
);

/// `metav1.LabelSelector`.
pub(crate) static LABEL_SELECTOR: Message = Message::new(
    "LabelSelector",
    &[
        Field::new(1, "matchLabels", Map(&Text)),
        Field::new(2, "matchExpressions", Object(&LABEL_SELECTOR_REQUIREMENT)).repeated(),
    ],
);

/// `metav1.LabelSelectorRequirement`.
static LABEL_SELECTOR_REQUIREMENT: Message = Message::new(
    "LabelSelectorRequirement",
    &[
        Field::new(1, "key", Text),
        Field::new(2, "operator", Text),
        Field::new(3, "values", Text).repeated(),
    ],
);

/// `metav1.Condition`.
pub(crate) static CONDITION: Message = Message::new(
    "Condition",
    &[
        Field::new(1, "type", Text),
        Field::new(2, "status", Text),
        Field::new(3, "observedGeneration", Int64),
        Field::new(4, "lastTransitionTime", Time),
        Field::new(5, "reason", Text),
        Field::new(6, "message", Text),
    ],
);

/// The `metadata` field every top-level kind has as field 1.
pub(crate) const METADATA: Field = Field::new(1, "metadata", FieldType::Object(&OBJECT_META));
