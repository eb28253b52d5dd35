//! Structural OpenAPI validation, mirroring `k8s.io/kube-openapi/pkg/validation/validate` as the
//! apiserver drives it for custom resources (its `SchemaValidator`, validator order, match counts
//! for `oneOf`/`anyOf`, messages), then converting results the way
//! `apiextensions-apiserver/pkg/apiserver/validation.kubeOpenAPIResultToFieldErrors` does.

use serde_json::Value;

use super::errors::{FieldError, FieldErrorKind};
use super::formats;
use super::gofmt;
use super::node::{AdditionalProperties, Node};

/// kube-openapi's error codes that change how an error becomes a field error.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Code {
    InvalidType,
    Required,
    TooLong,
    MaxItems,
    TooManyProperties,
    Enum,
    /// Any other `errors.Validation` (minimum, pattern, minItems, ...): becomes `Invalid`.
    Other,
    /// A non-`Validation` error (oneOf/anyOf/allOf/not): becomes `<nil>: Invalid value: ""`.
    Composite,
}

#[derive(Clone, Debug)]
struct OpenApiError {
    code: Code,
    /// kube-openapi's path (`spec.a[0].b`, or `.key` under the root).
    name: String,
    /// `Value` of the Go error; `None` is Go's nil.
    value: Option<Value>,
    /// `Valid` of the Go error: the limit for maxLength, maxItems and maxProperties.
    valid: Option<i64>,
    /// Allowed values of an enum.
    values: Vec<Value>,
    message: String,
}

/// kube-openapi's `Result`: errors (deduplicated by text) and the match count that picks which
/// failing `oneOf`/`anyOf` branch gets reported.
#[derive(Default)]
struct Outcome {
    errors: Vec<OpenApiError>,
    match_count: usize,
}

impl Outcome {
    fn single(error: OpenApiError) -> Self {
        Self {
            errors: vec![error],
            match_count: 0,
        }
    }

    fn add(&mut self, error: OpenApiError) {
        if !self
            .errors
            .iter()
            .any(|known| known.message == error.message)
        {
            self.errors.push(error);
        }
    }

    fn merge(&mut self, other: Outcome) {
        for error in other.errors {
            self.add(error);
        }
        self.match_count += other.match_count;
    }

    fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Validates `value` against `root`; `old` enables ratcheting of unchanged values on update.
pub(crate) fn validate(root: &Node, value: &Value, old: Option<&Value>) -> Vec<FieldError> {
    validate_node(root, "", value, old)
        .errors
        .into_iter()
        .map(to_field_error)
        .collect()
}

/// The apiserver's `kubeOpenAPIResultToFieldErrors`.
fn to_field_error(error: OpenApiError) -> FieldError {
    if error.code == Code::Composite {
        return FieldError::invalid("<nil>", Value::String(String::new()), error.message);
    }
    let path = match error.name.as_str() {
        "" | "." => "<nil>".to_string(),
        name => name.strip_prefix('.').unwrap_or(name).to_string(),
    };
    let value = error
        .value
        .clone()
        .unwrap_or_else(|| Value::String(String::new()));
    match error.code {
        Code::Required => FieldError::required(path, ""),
        Code::Enum => {
            let allowed: Vec<String> = error
                .values
                .iter()
                .map(|allowed| {
                    gofmt::quote(
                        &allowed
                            .as_str()
                            .map_or_else(|| gofmt::json(allowed), str::to_string),
                    )
                })
                .collect();
            let detail = if allowed.is_empty() {
                String::new()
            } else {
                format!("supported values: {}", allowed.join(", "))
            };
            FieldError::new(
                path,
                FieldErrorKind::NotSupported,
                Some(error.value.unwrap_or(Value::Null)),
                detail,
            )
        }
        Code::TooLong => {
            let detail = match error.valid {
                Some(1) => "may not be more than 1 byte".to_string(),
                Some(max) => format!("may not be more than {max} bytes"),
                None => "value is too long".to_string(),
            };
            FieldError::new(path, FieldErrorKind::TooLong, Some(value), detail)
        }
        Code::MaxItems | Code::TooManyProperties => {
            let detail = match error.valid {
                Some(1) => "must have at most 1 item".to_string(),
                Some(max) => format!("must have at most {max} items"),
                None => "has too many items".to_string(),
            };
            let actual = error.value.filter(Value::is_number);
            FieldError::new(path, FieldErrorKind::TooMany, actual, detail)
        }
        Code::InvalidType => FieldError::new(
            path,
            FieldErrorKind::TypeInvalid,
            Some(value),
            error.message,
        ),
        Code::Other | Code::Composite => FieldError::invalid(path, value, error.message),
    }
}

/// The JSON type and Go format kube-openapi infers for a decoded value (`schemaInfoForType`).
fn schema_info(value: &Value) -> (&'static str, &'static str) {
    match value {
        Value::Null => ("null", ""),
        Value::Bool(_) => ("boolean", ""),
        Value::Number(number) if number.as_i64().is_some() => ("integer", "int64"),
        Value::Number(_) => ("number", "float64"),
        Value::String(_) => ("string", ""),
        Value::Array(_) => ("array", ""),
        Value::Object(_) => ("object", ""),
    }
}

fn as_float(value: &Value) -> f64 {
    value.as_f64().unwrap_or(f64::NAN)
}

/// swag's `IsFloat64AJSONInteger`.
fn is_json_integer(value: f64) -> bool {
    value.is_finite() && value.fract() == 0.0 && value.abs() <= 9_007_199_254_740_992.0
}

fn invalid_type(name: &str, type_name: &str, found: &str) -> OpenApiError {
    OpenApiError {
        code: Code::InvalidType,
        name: name.to_string(),
        value: Some(Value::String(found.to_string())),
        valid: None,
        values: Vec::new(),
        message: format!(
            "{name} in body must be of type {type_name}: {}",
            gofmt::quote(found)
        ),
    }
}

fn other(name: &str, value: Option<Value>, message: String) -> OpenApiError {
    OpenApiError {
        code: Code::Other,
        name: name.to_string(),
        value,
        valid: None,
        values: Vec::new(),
        message,
    }
}

fn composite(message: String) -> OpenApiError {
    OpenApiError {
        code: Code::Composite,
        name: String::new(),
        value: None,
        valid: None,
        values: Vec::new(),
        message,
    }
}

/// kube-openapi's `SchemaValidator.Validate`, with the ratcheting of `ratchetingValueValidator`.
fn validate_node(node: &Node, at: &str, value: &Value, old: Option<&Value>) -> Outcome {
    let mut result = Outcome::default();
    if value.is_null() {
        result.merge(validate_type(node, at, value));
        result.merge(validate_enum(node, at, value));
    } else {
        if !node.types.is_empty() || !node.format.is_empty() {
            result.merge(validate_type(node, at, value));
            result.match_count += 1;
        }
        result.merge(validate_junctors(node, at, value));
        result.match_count += 1;
        if let Value::String(text) = value {
            result.merge(validate_string(node, at, text));
            result.match_count += 1;
            if !node.format.is_empty() {
                if !formats::satisfies(&node.format, text) {
                    result.add(invalid_type(at, &node.format, text));
                }
                result.match_count += 1;
            }
        }
        if value.is_number() {
            result.merge(validate_number(node, at, value));
            result.match_count += 1;
        }
        if let Value::Array(items) = value {
            result.merge(validate_array(node, at, items, old));
            result.match_count += 1;
        }
        result.merge(validate_enum(node, at, value));
        result.match_count += 1;
        if let Value::Object(_) = value {
            result.merge(validate_object(node, at, value, old));
            result.match_count += 1;
        }
        result.match_count += 1;
    }
    // Ratcheting: errors under a value equal to its correlated old value are only warnings.
    if old.is_some_and(|old| old == value) {
        result.errors.clear();
    }
    result
}

/// kube-openapi's `typeValidator`.
fn validate_type(node: &Node, at: &str, value: &Value) -> Outcome {
    let ok = Outcome {
        errors: Vec::new(),
        match_count: 1,
    };
    if value.is_null() {
        if !node.types.is_empty() && !node.types.iter().any(|t| t == "null") && !node.nullable {
            return Outcome::single(invalid_type(at, &node.types.join(","), "null"));
        }
        return ok;
    }
    let (found_type, found_format) = schema_info(value);
    let has = |wanted: &str| node.types.iter().any(|t| t == wanted);
    let float_is_integer =
        found_type == "number" && is_json_integer(as_float(value)) && has("integer");
    let integer_is_number = found_type == "integer" && has("number");
    let string_or_array = matches!(value, Value::String(_) | Value::Array(_));
    let formatted = !node.format.is_empty();
    let type_or_format_matches =
        has(found_type) || found_format == node.format || float_is_integer || integer_is_number;
    // Only a number, boolean or object can contradict a string format.
    if !string_or_array && formatted && !type_or_format_matches {
        return Outcome::single(invalid_type(at, &node.format, found_format));
    }
    let numeric = has("number") || has("integer");
    // kube-openapi lets any string or list pass the type check of a formatted non-numeric schema.
    if string_or_array && formatted && !numeric {
        return ok;
    }
    if !(has(found_type) || float_is_integer || integer_is_number) {
        return Outcome::single(invalid_type(at, &node.types.join(","), found_type));
    }
    ok
}

/// kube-openapi's `schemaPropsValidator`: `anyOf`, `oneOf`, `allOf` and `not`.
fn validate_junctors(node: &Node, at: &str, value: &Value) -> Outcome {
    let mut main = Outcome::default();
    let quoted = gofmt::quote(at);
    if !node.any_of.is_empty() {
        let mut best: Option<Outcome> = None;
        let mut first_success: Option<Outcome> = None;
        for branch in &node.any_of {
            let result = validate_node(branch, at, value, None);
            if result.is_valid() {
                best = None;
                first_success = Some(result);
                break;
            }
            if best
                .as_ref()
                .is_none_or(|best| result.match_count > best.match_count)
            {
                best = Some(result);
            }
        }
        if first_success.is_none() {
            main.add(composite(format!(
                "{quoted} must validate at least one schema (anyOf)"
            )));
        }
        if let Some(best) = best.or(first_success) {
            main.merge(best);
        }
    }
    if !node.one_of.is_empty() {
        let mut best: Option<Outcome> = None;
        let mut first_success: Option<Outcome> = None;
        let mut validated = 0;
        for branch in &node.one_of {
            let result = validate_node(branch, at, value, None);
            if result.is_valid() {
                validated += 1;
                best = None;
                if first_success.is_none() {
                    first_success = Some(result);
                }
                continue;
            }
            if validated == 0
                && best
                    .as_ref()
                    .is_none_or(|best| result.match_count > best.match_count)
            {
                best = Some(result);
            }
        }
        if validated != 1 {
            let found = if validated == 0 {
                "Found none valid".to_string()
            } else {
                format!("Found {validated} valid alternatives")
            };
            main.add(composite(format!(
                "{quoted} must validate one and only one schema (oneOf). {found}"
            )));
            if let Some(best) = best {
                main.merge(best);
            }
        } else if let Some(first_success) = first_success {
            main.merge(first_success);
        }
    }
    if !node.all_of.is_empty() {
        let mut validated = 0;
        for branch in &node.all_of {
            let result = validate_node(branch, at, value, None);
            if result.is_valid() {
                validated += 1;
            }
            main.merge(result);
        }
        if validated != node.all_of.len() {
            let none = if validated == 0 {
                ". None validated"
            } else {
                ""
            };
            main.add(composite(format!(
                "{quoted} must validate all the schemas (allOf){none}"
            )));
        }
    }
    if let Some(not) = &node.not
        && validate_node(not, at, value, None).is_valid()
    {
        main.add(composite(format!(
            "{quoted} must not validate the schema (not)"
        )));
    }
    main.match_count += 1;
    main
}

/// kube-openapi's `stringValidator`: only the first failing check is reported.
fn validate_string(node: &Node, at: &str, text: &str) -> Outcome {
    let length = text.chars().count() as i64;
    let value = Some(Value::String(text.to_string()));
    if let Some(max) = node.max_length
        && length > max
    {
        return Outcome::single(OpenApiError {
            code: Code::TooLong,
            name: at.to_string(),
            value,
            valid: Some(max),
            values: Vec::new(),
            message: format!("{at} in body should be at most {max} chars long"),
        });
    }
    if let Some(min) = node.min_length
        && length < min
    {
        return Outcome::single(other(
            at,
            value,
            format!("{at} in body should be at least {min} chars long"),
        ));
    }
    if let Some(pattern) = &node.pattern
        && !pattern.regex.is_match(text)
    {
        return Outcome::single(other(
            at,
            value,
            format!("{at} in body should match '{}'", pattern.source),
        ));
    }
    Outcome::default()
}

/// kube-openapi's `numberValidator`: multipleOf, minimum, maximum, compared natively for integers.
fn validate_number(node: &Node, at: &str, value: &Value) -> Outcome {
    let mut result = Outcome::default();
    let integer = value.as_i64();
    let data = as_float(value);
    if let Some(factor) = node.multiple_of {
        let error = if factor < 0.0 {
            Some(other(
                at,
                Some(value.clone()),
                format!(
                    "factor MultipleOf declared for {at} must be positive: {}",
                    gofmt::float(factor)
                ),
            ))
        } else if let Some(data) = integer {
            let factor = factor as i64;
            (factor != 0 && data % factor != 0).then(|| {
                other(
                    at,
                    Some(value.clone()),
                    format!("{at} in body should be a multiple of {factor}"),
                )
            })
        } else {
            let multiple = if factor < 1.0 {
                1.0 / factor * data
            } else {
                data / factor
            };
            (!is_json_integer(multiple)).then(|| {
                other(
                    at,
                    Some(value.clone()),
                    format!(
                        "{at} in body should be a multiple of {}",
                        gofmt::float(factor)
                    ),
                )
            })
        };
        if let Some(error) = error {
            result.add(error);
        }
    }
    let bound = |limit: f64, exclusive: bool, lower: bool| -> Option<OpenApiError> {
        let (fails, shown) = match integer {
            // Go truncates the float bound to int64 for integer data.
            Some(data) => {
                let limit = limit as i64;
                let fails = if lower {
                    data < limit || (exclusive && data == limit)
                } else {
                    data > limit || (exclusive && data == limit)
                };
                (fails, limit.to_string())
            }
            None => {
                let fails = if lower {
                    data < limit || (exclusive && data == limit)
                } else {
                    data > limit || (exclusive && data == limit)
                };
                (fails, gofmt::float(limit))
            }
        };
        let relation = match (lower, exclusive) {
            (true, false) => "greater than or equal to",
            (true, true) => "greater than",
            (false, false) => "less than or equal to",
            (false, true) => "less than",
        };
        fails.then(|| {
            other(
                at,
                Some(value.clone()),
                format!("{at} in body should be {relation} {shown}"),
            )
        })
    };
    if let Some(error) = node
        .minimum
        .and_then(|minimum| bound(minimum, node.exclusive_minimum, true))
    {
        result.add(error);
    }
    if let Some(error) = node
        .maximum
        .and_then(|maximum| bound(maximum, node.exclusive_maximum, false))
    {
        result.add(error);
    }
    result.match_count += 1;
    result
}

/// kube-openapi's `schemaSliceValidator`: items first, then minItems, maxItems, uniqueItems.
fn validate_array(node: &Node, at: &str, items: &[Value], old: Option<&Value>) -> Outcome {
    let mut result = Outcome::default();
    if let Some(item_node) = &node.items {
        for (i, item) in items.iter().enumerate() {
            let old_item = old.and_then(|old| correlated_item(node, old, item));
            result.merge(validate_node(
                item_node,
                &format!("{at}[{i}]"),
                item,
                old_item,
            ));
        }
    }
    let size = items.len() as i64;
    if let Some(min) = node.min_items
        && size < min
    {
        result.add(other(
            at,
            Some(Value::from(size)),
            format!("{at} in body should have at least {min} items"),
        ));
    }
    if let Some(max) = node.max_items
        && size > max
    {
        result.add(OpenApiError {
            code: Code::MaxItems,
            name: at.to_string(),
            value: Some(Value::from(size)),
            valid: Some(max),
            values: Vec::new(),
            message: format!("{at} in body should have at most {max} items"),
        });
    }
    if node.unique_items
        && items
            .iter()
            .enumerate()
            .any(|(i, item)| items[..i].contains(item))
    {
        result.add(other(
            at,
            None,
            format!("{at} in body shouldn't contain duplicates"),
        ));
    }
    result.match_count += 1;
    result
}

/// Ratcheting correlates list items only for list-type `map` (by keys) and `set` (by value).
fn correlated_item<'a>(node: &Node, old: &'a Value, item: &Value) -> Option<&'a Value> {
    match node.list_type.as_deref() {
        Some("map") => super::cel::map_list_match(&node.list_map_keys, old, item),
        Some("set") => old.as_array()?.iter().find(|candidate| *candidate == item),
        _ => None,
    }
}

/// kube-openapi's `basicCommonValidator`: `enum`, compared after Go's type conversion.
fn validate_enum(node: &Node, at: &str, value: &Value) -> Outcome {
    let Some(allowed) = &node.enum_values else {
        return Outcome::default();
    };
    if allowed.is_empty()
        || (!value.is_null() && allowed.iter().any(|candidate| enum_equal(value, candidate)))
    {
        return Outcome::default();
    }
    let listed: Vec<String> = allowed
        .iter()
        .map(|candidate| {
            candidate
                .as_str()
                .map_or_else(|| gofmt::json(candidate), str::to_string)
        })
        .collect();
    Outcome::single(OpenApiError {
        code: Code::Enum,
        name: at.to_string(),
        value: Some(value.clone()),
        valid: None,
        values: allowed.clone(),
        message: format!("{at} in body should be one of [{}]", listed.join(" ")),
    })
}

/// Go's `reflect.Value.Convert` then `DeepEqual`: numbers compare by value, and an integer
/// converts to the one-character string of its code point.
fn enum_equal(value: &Value, candidate: &Value) -> bool {
    match (value, candidate) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Number(a), Value::String(b)) => a
            .as_i64()
            .and_then(|code| u32::try_from(code).ok())
            .and_then(char::from_u32)
            .is_some_and(|c| b.chars().eq(std::iter::once(c))),
        _ => value == candidate,
    }
}

/// kube-openapi's `objectValidator`.
fn validate_object(node: &Node, at: &str, value: &Value, old: Option<&Value>) -> Outcome {
    let Value::Object(fields) = value else {
        return Outcome::default();
    };
    let count = fields.len() as i64;
    if let Some(min) = node.min_properties
        && count < min
    {
        return Outcome::single(other(
            at,
            Some(Value::from(count)),
            format!("{at} in body should have at least {min} properties"),
        ));
    }
    if let Some(max) = node.max_properties
        && count > max
    {
        return Outcome::single(OpenApiError {
            code: Code::TooManyProperties,
            name: at.to_string(),
            value: Some(Value::from(count)),
            valid: Some(max),
            values: Vec::new(),
            message: format!("{at} in body should have at most {max} properties"),
        });
    }
    let mut result = Outcome::default();
    let old_field = |key: &str| old.and_then(|old| old.get(key));
    match &node.additional_properties {
        Some(AdditionalProperties::Allows(false)) => {
            for key in fields
                .keys()
                .filter(|key| !node.properties.contains_key(*key))
            {
                result.add(other(
                    at,
                    Some(Value::String(key.clone())),
                    format!("{at}.{key} in body is a forbidden property"),
                ));
            }
        }
        Some(AdditionalProperties::Schema(child)) => {
            for (key, field) in fields
                .iter()
                .filter(|(key, _)| !node.properties.contains_key(*key))
            {
                result.merge(validate_node(
                    child,
                    &format!("{at}.{key}"),
                    field,
                    old_field(key),
                ));
            }
        }
        _ => {}
    }
    for (name, property) in &node.properties {
        if let Some(field) = fields.get(name) {
            let child_at = if at.is_empty() {
                name.clone()
            } else {
                format!("{at}.{name}")
            };
            result.merge(validate_node(property, &child_at, field, old_field(name)));
        }
    }
    for name in &node.required {
        if !fields.contains_key(name) {
            let name = format!("{at}.{name}");
            result.add(OpenApiError {
                code: Code::Required,
                message: format!("{name} in body is required"),
                name,
                value: None,
                valid: None,
                values: Vec::new(),
            });
        }
    }
    result
}
