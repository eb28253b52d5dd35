//! Time helpers: Go-style durations (the annotation syntax) and Kubernetes timestamps.

use std::time::Duration;

pub use jiff::Timestamp;

/// Formats a timestamp the way kube-apiserver serializes `metav1.Time` (whole seconds, UTC).
pub fn format_time(time: Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses an RFC 3339 timestamp as found in object metadata and status.
pub fn parse_time(text: &str) -> Option<Timestamp> {
    text.parse().ok()
}

/// Reads an RFC 3339 timestamp at `pointer` in `object`.
pub fn time_at(object: &serde_json::Value, pointer: &str) -> Option<Timestamp> {
    object.pointer(pointer)?.as_str().and_then(parse_time)
}

/// Adds a std duration to a timestamp (saturating at the far future).
pub fn add(time: Timestamp, duration: Duration) -> Timestamp {
    let span = jiff::SignedDuration::try_from(duration).unwrap_or(jiff::SignedDuration::MAX);
    time.saturating_add(span).unwrap_or(Timestamp::MAX)
}

/// Parses a Go `time.ParseDuration` string such as `2s`, `1m30s`, `250ms` or `0`.
///
/// Go's syntax is used because the annotations are written by people used to `kubectl` flags.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() || text.starts_with('-') {
        return Err(format!(
            "invalid duration {text:?}: expected e.g. \"2s\" or \"1m30s\""
        ));
    }
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("invalid duration {text:?}: missing unit"))?;
        let number: f64 = rest[..number_end]
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: bad number"))?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            unit => return Err(format!("invalid duration {text:?}: unknown unit {unit:?}")),
        };
        total += number * seconds_per_unit;
        rest = &rest[unit_end..];
    }
    Ok(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn malformed_durations_are_rejected_with_the_text() {
        assert!(parse_duration("2").unwrap_err().contains("\"2\""));
        assert!(parse_duration("2 seconds").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn timestamps_are_whole_seconds_in_utc() {
        let time: Timestamp = "2026-01-02T03:04:05.678Z".parse().unwrap();
        assert_eq!(format_time(time), "2026-01-02T03:04:05Z");
        assert_eq!(
            parse_time("2026-01-02T03:04:05Z").unwrap().as_second(),
            time.as_second()
        );
    }
}
