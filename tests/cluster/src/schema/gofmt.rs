//! Renders JSON values the way Go's `fmt` does inside kube-apiserver's error texts.
//!
//! kube-apiserver 1.33 prints a field error's bad value with `%v` for numbers and booleans, `%q`
//! for strings and `%#v` for maps and slices (1.34 switched composites to JSON). The operator's
//! tests compare whole messages, so these renderings must match byte for byte.

use serde_json::Value;

/// Go's `strconv.Quote`: double-quoted, with Go escapes for non-printable characters.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            // Go treats only ASCII space as printable white space.
            c if c.is_control() || (c.is_whitespace() && c != ' ') => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%v` of a `float64`: shortest digits, `%e` form for exponents below -4 or from 6 on.
pub(crate) fn float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // Rust's `{:e}` gives the shortest round-tripping digits, like Go's shortest formatting.
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    // strconv's shortest 'g' (what %v uses) decides with precision 6, unlike JSON's 21.
    if !(-4..6).contains(&exponent) {
        let mut out = format!("{sign}{}", &digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        out.push_str(&format!("e{exponent_sign}{:02}", exponent.abs()));
        return out;
    }
    if exponent < 0 {
        let zeros = "0".repeat((-exponent - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let integer_digits = exponent as usize + 1;
    if digits.len() <= integer_digits {
        format!(
            "{sign}{digits}{}",
            "0".repeat(integer_digits - digits.len())
        )
    } else {
        format!(
            "{sign}{}.{}",
            &digits[..integer_digits],
            &digits[integer_digits..]
        )
    }
}

/// Go's `%v` of a JSON number as the apiserver decodes it (`int64` when it fits, else `float64`).
pub(crate) fn number(value: &serde_json::Number) -> String {
    match value.as_i64() {
        Some(integer) => integer.to_string(),
        None => float(value.as_f64().unwrap_or(f64::NAN)),
    }
}

/// A field error's bad value as `ErrorBody` prints it in kube-apiserver 1.33.
pub(crate) fn bad_value(value: &Value) -> String {
    match value {
        // `ErrorBody` replaces a nil value by the string "null" before quoting it.
        Value::Null => quote("null"),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number_value) => number(number_value),
        Value::String(text) => quote(text),
        Value::Array(_) | Value::Object(_) => go_syntax(value),
    }
}

/// Go's `%#v` of an unstructured value (`map[string]interface {}{...}`, `[]interface {}{...}`).
pub(crate) fn go_syntax(value: &Value) -> String {
    match value {
        Value::Null => "interface {}(nil)".to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number_value) => number(number_value),
        Value::String(text) => quote(text),
        Value::Array(items) => {
            let rendered: Vec<String> = items.iter().map(go_syntax).collect();
            format!("[]interface {{}}{{{}}}", rendered.join(", "))
        }
        Value::Object(map) => {
            // serde_json's map is ordered by key, which is also the order Go's fmt prints.
            let rendered: Vec<String> = map
                .iter()
                .map(|(key, item)| format!("{}:{}", quote(key), go_syntax(item)))
                .collect();
            format!("map[string]interface {{}}{{{}}}", rendered.join(", "))
        }
    }
}

/// Go's `json.Marshal` of a value (used for enum values in "supported values").
pub(crate) fn json(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_like_go_percent_v() {
        let cases = [
            (3.0, "3"),
            (3.5, "3.5"),
            (0.25, "0.25"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1e20, "1e+20"),
            (-2.5, "-2.5"),
        ];
        for (value, expected) in cases {
            assert_eq!(float(value), expected, "{value}");
        }
    }

    #[test]
    fn composite_values_print_like_go_sharp_v() {
        assert_eq!(
            go_syntax(&json!({"type": "Ready", "n": 1})),
            r#"map[string]interface {}{"n":1, "type":"Ready"}"#
        );
        assert_eq!(
            go_syntax(&json!(["a", 2, null])),
            r#"[]interface {}{"a", 2, interface {}(nil)}"#
        );
        assert_eq!(bad_value(&json!(null)), r#""null""#);
        assert_eq!(quote("a\"b\n"), r#""a\"b\n""#);
    }
}
