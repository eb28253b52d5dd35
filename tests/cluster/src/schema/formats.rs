//! String formats and `pattern` regular expressions as the apiserver's OpenAPI validator checks them.
//!
//! The apiserver strips every `format` that is not in its supported list before validating
//! (`StripUnsupportedFormatsPostProcess`), so `int32`, `int64`, `float` and `double` constrain
//! nothing beyond `type`. Patterns are Go RE2 expressions; the `regex` crate speaks nearly the same
//! dialect, except that Go's `\d`, `\w`, `\s` and `\b` are ASCII-only, which [`go_pattern`]
//! rewrites.

use std::net::Ipv6Addr;
use std::sync::LazyLock;

use regex::Regex;

/// Formats the apiserver keeps (names compared without dashes, like go-openapi does).
const SUPPORTED: &[&str] = &[
    "bsonobjectid",
    "uri",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "cidr",
    "mac",
    "uuid",
    "uuid3",
    "uuid4",
    "uuid5",
    "isbn",
    "isbn10",
    "isbn13",
    "creditcard",
    "ssn",
    "hexcolor",
    "rgbcolor",
    "byte",
    "password",
    "date",
    "duration",
    "datetime",
];

/// The format the validator will enforce, or `None` when the apiserver strips it.
pub(crate) fn supported(format: &str) -> Option<String> {
    let normalized = format.replace('-', "");
    SUPPORTED
        .contains(&normalized.as_str())
        .then(|| format.to_string())
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern)
        .unwrap_or_else(|error| panic!("built-in pattern {pattern} is invalid: {error}"))
}

static DATE_TIME_CLOCK: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$")
});
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
});
static UUID3: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
});
static UUID4: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$")
});
static UUID5: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$")
});
static HOSTNAME: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$",
    )
});
static BASE64: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$")
});
static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^\s*(?:[+-]?\s?[0-9]+(?:\.[0-9]+)?\s*(?:ns|us|µs|ms|s|sec|secs|m|min|mins|h|hr|hrs|hour|hours|d|day|days|w|wk|wks|week|weeks)\s*)+$",
    )
});
static MAC: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(?:[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){7}|[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){19}|[0-9A-Fa-f]{4}(?:\.[0-9A-Fa-f]{4}){2}|[0-9A-Fa-f]{4}(?:\.[0-9A-Fa-f]{4}){3}|[0-9A-Fa-f]{4}(?:\.[0-9A-Fa-f]{4}){9})$",
    )
});
static HEX_COLOR: LazyLock<Regex> = LazyLock::new(|| regex(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"));
static RGB_COLOR: LazyLock<Regex> = LazyLock::new(|| {
    let channel = r"\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*";
    regex(&format!(r"^rgb\({channel},{channel},{channel}\)$"))
});
static SSN: LazyLock<Regex> = LazyLock::new(|| regex(r"^\d{3}[- ]?\d{2}[- ]?\d{4}$"));
static BSON_OBJECT_ID: LazyLock<Regex> = LazyLock::new(|| regex(r"^[0-9a-fA-F]{24}$"));
static URI_SCHEME: LazyLock<Regex> = LazyLock::new(|| regex(r"^[A-Za-z][A-Za-z0-9+.-]*:"));

/// Whether `value` satisfies a supported `format` (go-openapi's strfmt checks).
pub(crate) fn satisfies(format: &str, value: &str) -> bool {
    match format.replace('-', "").as_str() {
        "datetime" => is_date_time(value),
        "date" => is_date(value),
        "duration" => DURATION.is_match(value),
        "byte" => BASE64.is_match(value),
        "uuid" => UUID.is_match(value),
        "uuid3" => UUID3.is_match(value),
        "uuid4" => UUID4.is_match(value),
        "uuid5" => UUID5.is_match(value),
        "hostname" => {
            HOSTNAME.is_match(value)
                && value.len() <= 255
                && value.split('.').all(|label| label.len() <= 63)
        }
        "ipv4" => is_ipv4(value),
        "ipv6" => value.contains(':') && value.parse::<Ipv6Addr>().is_ok(),
        "cidr" => is_cidr(value),
        "mac" => MAC.is_match(value),
        "hexcolor" => HEX_COLOR.is_match(value),
        "rgbcolor" => RGB_COLOR.is_match(value),
        "ssn" => SSN.is_match(value),
        "bsonobjectid" => BSON_OBJECT_ID.is_match(value),
        "email" => is_email(value),
        "uri" => is_request_uri(value),
        // isbn, isbn10, isbn13, creditcard and password are accepted unchecked (a documented divergence).
        _ => true,
    }
}

/// strfmt's `IsDateTime`: an RFC 3339 full date, `T`, a clock with seconds and a zone.
fn is_date_time(value: &str) -> bool {
    if value.len() < 4 {
        return false;
    }
    let lower = value.to_lowercase();
    let mut parts = lower.split('t');
    let (Some(date), Some(clock)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !is_date(date) {
        return false;
    }
    let Some(captures) = DATE_TIME_CLOCK.captures(clock) else {
        return false;
    };
    &captures[1] <= "23" && &captures[2] <= "59" && &captures[3] <= "59"
}

/// Go's `time.Parse("2006-01-02", value)`.
fn is_date(value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        value
            .get(range)
            .filter(|part| part.bytes().all(|b| b.is_ascii_digit()))?
            .parse()
            .ok()
    };
    let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day)
}

/// `netutils.ParseIPSloppy` plus a dot: leading zeros are tolerated.
fn is_ipv4(value: &str) -> bool {
    let octets: Vec<&str> = value.split('.').collect();
    octets.len() == 4
        && octets.iter().all(|octet| {
            !octet.is_empty()
                && octet.len() <= 3
                && octet.bytes().all(|b| b.is_ascii_digit())
                && octet.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

fn is_cidr(value: &str) -> bool {
    let Some((address, prefix)) = value.split_once('/') else {
        return false;
    };
    let Ok(prefix) = prefix.parse::<u8>() else {
        return false;
    };
    if is_ipv4(address) {
        prefix <= 32
    } else {
        address.parse::<Ipv6Addr>().is_ok() && prefix <= 128
    }
}

fn is_email(value: &str) -> bool {
    let address = value
        .rsplit_once('<')
        .map_or(value, |(_, rest)| rest.trim_end_matches('>'))
        .trim();
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !address.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// Go's `url.ParseRequestURI`: an absolute URI or an absolute path, no control characters.
fn is_request_uri(value: &str) -> bool {
    if value.chars().any(|c| c.is_ascii_control()) {
        return false;
    }
    if value.starts_with('/') {
        return true;
    }
    if !URI_SCHEME.is_match(value) {
        return false;
    }
    match value.split_once("://") {
        Some((_, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            !authority.contains(' ')
        }
        None => true,
    }
}

/// Rewrites a Go RE2 pattern for the `regex` crate: Go's Perl classes and `\b` are ASCII-only.
pub(crate) fn go_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let replacement = match (in_class, next) {
                    (false, 'd') => Some("[0-9]"),
                    (false, 'D') => Some("[^0-9]"),
                    (false, 'w') => Some("[0-9A-Za-z_]"),
                    (false, 'W') => Some("[^0-9A-Za-z_]"),
                    (false, 's') => Some(r"[\t\n\f\r ]"),
                    (false, 'S') => Some(r"[^\t\n\f\r ]"),
                    (false, 'b') => Some(r"(?-u:\b)"),
                    (false, 'B') => Some(r"(?-u:\B)"),
                    (true, 'd') => Some("0-9"),
                    (true, 'w') => Some("0-9A-Za-z_"),
                    (true, 's') => Some(r"\t\n\f\r "),
                    _ => None,
                };
                match replacement {
                    Some(text) => out.push_str(text),
                    None => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A `]` right after `[` or `[^` is a literal member, not the end of the class.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str(r"\]");
                    chars.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            // `regex` treats a `[` inside a class as a nested class; Go treats it as a literal.
            '[' if in_class => out.push_str(r"\["),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_time_needs_a_zone_and_a_real_date() {
        for (value, ok) in [
            ("2024-02-29T10:00:00Z", true),
            ("2024-02-29T10:00:00.123+02:00", true),
            ("2023-02-29T10:00:00Z", false),
            ("2024-01-01T10:00:00", false),
            ("yesterday", false),
        ] {
            assert_eq!(satisfies("date-time", value), ok, "{value}");
        }
    }

    #[test]
    fn perl_classes_are_ascii_only_like_go() {
        let digits = Regex::new(&go_pattern(r"^\d+$")).expect("pattern compiles");
        assert!(digits.is_match("123"));
        assert!(!digits.is_match("١٢٣"));
        let class = Regex::new(&go_pattern(r"^[\w.-]+$")).expect("pattern compiles");
        assert!(class.is_match("a_b.c-d"));
        assert!(!class.is_match("é"));
    }

    #[test]
    fn numeric_formats_are_stripped_like_the_apiserver() {
        assert_eq!(supported("int32"), None);
        assert_eq!(supported("int64"), None);
        assert_eq!(supported("date-time").as_deref(), Some("date-time"));
    }
}
