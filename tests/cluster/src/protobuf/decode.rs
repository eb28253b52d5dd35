//! The table-driven decoder: one Kubernetes message's protobuf bytes → the JSON object
//! `encoding/json` would write for the same Go struct.

use base64::Engine;
use serde_json::{Map, Value};

use super::schema::{Field, FieldType, Message, Presence};
use super::wire::{WireError, WireValue, fields};

/// What is wrong with one field of a decoded object.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FieldProblem {
    /// The field carries data but the message table has no entry for it.
    #[error("field {number} is not decoded by the test cluster")]
    NotDecoded {
        /// The protobuf field number.
        number: u32,
    },
    /// The wire type does not fit the field's type.
    #[error("field {number} ({json}) is {found}, expected {expected}")]
    WireType {
        /// The protobuf field number.
        number: u32,
        /// The field's JSON name.
        json: &'static str,
        /// The wire type the field's type needs.
        expected: &'static str,
        /// The wire type found.
        found: &'static str,
    },
    /// A string field holds bytes that are not UTF-8.
    #[error("field {number} ({json}) is not valid UTF-8")]
    Utf8 {
        /// The protobuf field number.
        number: u32,
        /// The field's JSON name.
        json: &'static str,
    },
    /// `FieldsV1` holds bytes that are not JSON.
    #[error("field {number} ({json}) does not hold JSON: {reason}")]
    Json {
        /// The protobuf field number.
        number: u32,
        /// The field's JSON name.
        json: &'static str,
        /// The JSON parser's message.
        reason: String,
    },
    /// The message's framing is broken.
    #[error("{0}")]
    Wire(WireError),
}

/// A field the decoder could not turn into JSON, with where it sits in the object.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{problem} in {message} at {}", if path.is_empty() { "the top level" } else { path })]
pub struct FieldError {
    /// The JSON path of the message holding the field (`spec.template.spec`), empty at the top.
    pub path: String,
    /// The Go name of that message (`PodSpec`).
    pub message: &'static str,
    /// What is wrong.
    pub problem: FieldProblem,
}

impl FieldError {
    fn new(message: &Message, problem: FieldProblem) -> Self {
        Self {
            path: String::new(),
            message: message.name,
            problem,
        }
    }

    /// The same error seen from the enclosing message, under its field `segment`.
    fn within(mut self, segment: &str) -> Self {
        self.path = if self.path.is_empty() {
            segment.to_string()
        } else {
            format!("{segment}.{}", self.path)
        };
        self
    }
}

/// Decodes one message into a JSON object.
///
/// # Errors
/// A field the table lacks that carries data (zero values of unknown fields are skipped: Go
/// writes every value field, so newer clients add zeros this table need not know), a wire type
/// that does not fit, or broken framing.
pub(crate) fn decode_message(
    bytes: &[u8],
    message: &'static Message,
) -> Result<Map<String, Value>, FieldError> {
    let mut object = Map::new();
    for entry in fields(bytes) {
        let (number, wire) =
            entry.map_err(|error| FieldError::new(message, FieldProblem::Wire(error)))?;
        let Some(field) = message.field(number) else {
            if wire.is_zero() {
                continue;
            }
            return Err(FieldError::new(
                message,
                FieldProblem::NotDecoded { number },
            ));
        };
        match (field.value, field.presence) {
            (FieldType::Map(value_type), _) => {
                let (key, value) = map_entry(message, field, value_type, wire)?;
                let map = object
                    .entry(field.json)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(map) = map {
                    map.insert(key, value);
                }
            }
            (_, Presence::Repeated) => {
                let list = object
                    .entry(field.json)
                    .or_insert_with(|| Value::Array(Vec::new()));
                let Value::Array(list) = list else { continue };
                for element in elements(message, field, wire)? {
                    let segment = format!("{}[{}]", field.json, list.len());
                    list.extend(value(message, field, field.value, element, true, &segment)?);
                }
            }
            (value_type, presence) => {
                let keep_zero = presence == Presence::Pointer;
                match value(message, field, value_type, wire, keep_zero, field.json)? {
                    Some(value) => object.insert(field.json.to_string(), value),
                    None => object.remove(field.json),
                };
            }
        }
    }
    Ok(object)
}

/// The elements of one occurrence of a repeated field: one, or many for packed varints.
fn elements<'a>(
    message: &Message,
    field: &Field,
    wire: WireValue<'a>,
) -> Result<Vec<WireValue<'a>>, FieldError> {
    let packable = matches!(
        field.value,
        FieldType::Bool | FieldType::Int32 | FieldType::Int64
    );
    match wire {
        WireValue::Bytes(bytes) if packable => {
            let mut values = Vec::new();
            let mut offset = 0;
            while offset < bytes.len() {
                let (value, next) = super::wire::read_varint(bytes, offset)
                    .map_err(|error| FieldError::new(message, FieldProblem::Wire(error)))?;
                values.push(WireValue::Varint(value));
                offset = next;
            }
            Ok(values)
        }
        wire => Ok(vec![wire]),
    }
}

fn map_entry(
    message: &'static Message,
    field: &Field,
    value_type: &FieldType,
    wire: WireValue<'_>,
) -> Result<(String, Value), FieldError> {
    let bytes = length_delimited(message, field, wire)?;
    let mut key = String::new();
    let mut value = None;
    for entry in fields(bytes) {
        let (number, wire) =
            entry.map_err(|error| FieldError::new(message, FieldProblem::Wire(error)))?;
        match number {
            1 => key = text(message, field, wire)?.to_string(),
            2 => value = self::value(message, field, *value_type, wire, true, field.json)?,
            _ if wire.is_zero() => {}
            number => {
                return Err(
                    FieldError::new(message, FieldProblem::NotDecoded { number })
                        .within(field.json),
                );
            }
        }
    }
    // A map value left off the wire is the value type's zero.
    let value = value.unwrap_or_else(|| match value_type {
        FieldType::Quantity => Value::String("0".to_string()),
        _ => Value::String(String::new()),
    });
    Ok((key, value))
}

/// One value as JSON; `None` for a zero scalar that `omitempty` drops. `segment` names the
/// value in error paths (`containers[0]`).
fn value(
    message: &'static Message,
    field: &Field,
    value_type: FieldType,
    wire: WireValue<'_>,
    keep_zero: bool,
    segment: &str,
) -> Result<Option<Value>, FieldError> {
    let decoded = match value_type {
        FieldType::Text => Value::String(text(message, field, wire)?.to_string()),
        FieldType::Bytes => Value::String(
            base64::engine::general_purpose::STANDARD
                .encode(length_delimited(message, field, wire)?),
        ),
        FieldType::Bool => Value::Bool(varint(message, field, wire)? != 0),
        // Protobuf sign-extends negative int32s to 64 bits; the low half is the value.
        FieldType::Int32 => Value::from(varint(message, field, wire)? as u32 as i32),
        FieldType::Int64 => Value::from(varint(message, field, wire)? as i64),
        FieldType::Object(nested) => {
            let bytes = length_delimited(message, field, wire)?;
            let object = decode_message(bytes, nested).map_err(|error| error.within(segment))?;
            return Ok(Some(Value::Object(object)));
        }
        FieldType::Map(_) => unreachable!("maps are decoded entry by entry"),
        FieldType::Time => return time(message, field, wire, segment),
        FieldType::IntOrString => {
            return int_or_string(message, field, wire, segment).map(Some);
        }
        FieldType::Quantity => {
            let object = nested(message, field, wire, &QUANTITY, segment)?;
            let text = object.get("string").cloned();
            return Ok(Some(text.unwrap_or_else(|| Value::String("0".into()))));
        }
        FieldType::RawJson => {
            let raw = fields_v1_raw(message, field, wire, segment)?;
            if raw.is_empty() {
                return Ok(Some(Value::Object(Map::new())));
            }
            let json = serde_json::from_slice(raw).map_err(|error| {
                FieldError::new(
                    message,
                    FieldProblem::Json {
                        number: field.number,
                        json: field.json,
                        reason: error.to_string(),
                    },
                )
            })?;
            return Ok(Some(json));
        }
    };
    let zero = match &decoded {
        Value::String(text) => text.is_empty(),
        Value::Bool(flag) => !flag,
        Value::Number(number) => number.as_i64() == Some(0),
        _ => false,
    };
    Ok((keep_zero || !zero).then_some(decoded))
}

/// `metav1.Time` (`google.protobuf.Timestamp`'s layout).
static TIME: Message = Message::new(
    "Time",
    &[
        Field::new(1, "seconds", FieldType::Int64),
        Field::new(2, "nanos", FieldType::Int32),
    ],
);

/// `intstr.IntOrString`: `type` 0 is an int, 1 a string.
static INT_OR_STRING: Message = Message::new(
    "IntOrString",
    &[
        Field::new(1, "type", FieldType::Int64),
        Field::new(2, "intVal", FieldType::Int32),
        Field::new(3, "strVal", FieldType::Text),
    ],
);

/// `resource.Quantity`: its canonical string.
static QUANTITY: Message = Message::new("Quantity", &[Field::new(1, "string", FieldType::Text)]);

/// A small well-known message decoded by its own table.
fn nested(
    message: &'static Message,
    field: &Field,
    wire: WireValue<'_>,
    table: &'static Message,
    segment: &str,
) -> Result<Map<String, Value>, FieldError> {
    let bytes = length_delimited(message, field, wire)?;
    decode_message(bytes, table).map_err(|error| error.within(segment))
}

/// The JSON bytes of a `metav1.FieldsV1` (its field 1, `Raw`).
fn fields_v1_raw<'a>(
    message: &'static Message,
    field: &Field,
    wire: WireValue<'a>,
    segment: &str,
) -> Result<&'a [u8], FieldError> {
    static FIELDS_V1: Message = Message::new("FieldsV1", &[]);
    let mut raw: &[u8] = &[];
    for entry in fields(length_delimited(message, field, wire)?) {
        let within = |problem| FieldError::new(&FIELDS_V1, problem).within(segment);
        match entry.map_err(|error| within(FieldProblem::Wire(error)))? {
            (1, WireValue::Bytes(bytes)) => raw = bytes,
            (_, wire) if wire.is_zero() => {}
            (number, _) => return Err(within(FieldProblem::NotDecoded { number })),
        }
    }
    Ok(raw)
}

fn time(
    message: &'static Message,
    field: &Field,
    wire: WireValue<'_>,
    segment: &str,
) -> Result<Option<Value>, FieldError> {
    let object = nested(message, field, wire, &TIME, segment)?;
    if object.is_empty() {
        // Go writes the zero time as an empty message; its JSON is null, i.e. absent.
        return Ok(None);
    }
    let seconds = object.get("seconds").and_then(Value::as_i64).unwrap_or(0);
    let text = jiff::Timestamp::from_second(seconds)
        .map(|timestamp| timestamp.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    Ok(Some(Value::String(text)))
}

fn int_or_string(
    message: &'static Message,
    field: &Field,
    wire: WireValue<'_>,
    segment: &str,
) -> Result<Value, FieldError> {
    let object = nested(message, field, wire, &INT_OR_STRING, segment)?;
    let is_string = object.get("type").and_then(Value::as_i64) == Some(1);
    Ok(if is_string {
        object
            .get("strVal")
            .cloned()
            .unwrap_or_else(|| Value::String(String::new()))
    } else {
        object
            .get("intVal")
            .cloned()
            .unwrap_or_else(|| Value::from(0))
    })
}

fn wire_type(field: &Field, expected: &'static str, found: WireValue<'_>) -> FieldProblem {
    FieldProblem::WireType {
        number: field.number,
        json: field.json,
        expected,
        found: found.wire_name(),
    }
}

fn length_delimited<'a>(
    message: &Message,
    field: &Field,
    wire: WireValue<'a>,
) -> Result<&'a [u8], FieldError> {
    match wire {
        WireValue::Bytes(bytes) => Ok(bytes),
        other => Err(FieldError::new(
            message,
            wire_type(field, "length-delimited", other),
        )),
    }
}

fn varint(message: &Message, field: &Field, wire: WireValue<'_>) -> Result<u64, FieldError> {
    match wire {
        WireValue::Varint(value) => Ok(value),
        other => Err(FieldError::new(message, wire_type(field, "varint", other))),
    }
}

fn text<'a>(message: &Message, field: &Field, wire: WireValue<'a>) -> Result<&'a str, FieldError> {
    std::str::from_utf8(length_delimited(message, field, wire)?).map_err(|_| {
        FieldError::new(
            message,
            FieldProblem::Utf8 {
                number: field.number,
                json: field.json,
            },
        )
    })
}
