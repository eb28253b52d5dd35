//! How a message table describes a Kubernetes message: for each field number, its JSON name,
//! its type and whether the Go field is a value, a pointer or a list. The numbers come from
//! Kubernetes' `generated.proto` files.

/// One protobuf message: its Go name (for error messages) and its decoded fields.
pub(crate) struct Message {
    /// The Go type name, e.g. `PodSpec`.
    pub(crate) name: &'static str,
    /// The fields this decoder knows, in any order.
    pub(crate) fields: &'static [Field],
}

impl Message {
    /// A message table.
    pub(crate) const fn new(name: &'static str, fields: &'static [Field]) -> Self {
        Self { name, fields }
    }

    /// The field with this number, if the table has it.
    pub(crate) fn field(&self, number: u32) -> Option<&Field> {
        self.fields.iter().find(|field| field.number == number)
    }
}

/// One field of a message.
pub(crate) struct Field {
    /// The protobuf field number.
    pub(crate) number: u32,
    /// The JSON name the API uses for it.
    pub(crate) json: &'static str,
    /// What the bytes mean.
    pub(crate) value: FieldType,
    /// How the Go struct holds it, which decides when the JSON has it.
    pub(crate) presence: Presence,
}

impl Field {
    /// A value field (`string`, `int32`, a nested struct) of the Go type.
    pub(crate) const fn new(number: u32, json: &'static str, value: FieldType) -> Self {
        Self {
            number,
            json,
            value,
            presence: Presence::Value,
        }
    }

    /// The Go field is a pointer (`*int32`, `*bool`): on the wire only when set, kept when 0.
    pub(crate) const fn pointer(self) -> Self {
        Self {
            presence: Presence::Pointer,
            ..self
        }
    }

    /// The Go field is a slice: each occurrence on the wire is one element.
    pub(crate) const fn repeated(self) -> Self {
        Self {
            presence: Presence::Repeated,
            ..self
        }
    }
}

/// How the Go struct holds a field.
///
/// Go's protobuf encoder writes every value field, zero or not, and a pointer field only when
/// it is non-nil; `encoding/json` with `omitempty` drops zero values but keeps non-nil pointers.
/// So a zero scalar of a value field is left out of the JSON and a pointer's zero is kept —
/// `kubectl create deployment --replicas=0` must mean `replicas: 0`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Presence {
    /// A value field: zero scalars are omitted, nested messages always kept (Go writes `{}`).
    Value,
    /// A pointer field: kept whenever present.
    Pointer,
    /// A slice: a JSON array, omitted when empty.
    Repeated,
}

/// What a field's bytes mean and how they become JSON.
#[derive(Clone, Copy)]
pub(crate) enum FieldType {
    /// A UTF-8 string.
    Text,
    /// Bytes, base64 in JSON (as `encoding/json` writes `[]byte`).
    Bytes,
    /// A boolean varint.
    Bool,
    /// A 32-bit integer varint (negative values take ten bytes).
    Int32,
    /// A 64-bit integer varint.
    Int64,
    /// A nested message, a JSON object.
    Object(&'static Message),
    /// A `map<string, …>`: repeated entries with the key in field 1 and the value in field 2.
    Map(&'static FieldType),
    /// `metav1.Time`: seconds and nanos, RFC 3339 at second precision in JSON.
    Time,
    /// `intstr.IntOrString`: a JSON number or string.
    IntOrString,
    /// `resource.Quantity`: its string form.
    Quantity,
    /// `metav1.FieldsV1`: raw JSON bytes, embedded as JSON.
    RawJson,
}
