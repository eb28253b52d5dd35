//! Text the plugin's views share: kubectl-style ages, durations and aligned tables (pure, so
//! every view that uses them is unit-tested).

use std::fmt::Write as _;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

pub use crate::rollout::health::elapsed;

/// An age as kubectl prints it: `45s`, `12m`, `5h`, `3d`.
pub fn age(since: &Time, now: &Time) -> String {
    let seconds = elapsed(since, now).as_secs();
    match seconds {
        0..120 => format!("{seconds}s"),
        120..7200 => format!("{}m", seconds / 60),
        7200..172_800 => format!("{}h", seconds / 3600),
        _ => format!("{}d", seconds / 86_400),
    }
}

/// A duration to the second, its two largest units: `45s`, `2m5s`, `1h30m`, `2d3h`.
pub fn duration(span: Duration) -> String {
    let seconds = span.as_secs();
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60);
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{minutes}m{}s", seconds % 60),
        3600..86_400 => format!("{}h{minutes}m", seconds / 3600),
        _ => format!("{days}d{hours}h"),
    }
}

/// Rows as kubectl prints them: each column as wide as its widest cell, three spaces apart, the
/// last column unpadded, every line after `indent` and without trailing spaces.
pub fn table(rows: &[Vec<String>], indent: &str) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (index, cell) in row.iter().enumerate() {
            let width = cell.chars().count();
            match widths.get_mut(index) {
                Some(widest) => *widest = (*widest).max(width),
                None => widths.push(width),
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = indent.to_owned();
        for (index, cell) in row.iter().enumerate() {
            if index + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}   ", width = widths[index]);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> Time {
        Time(text.parse().expect("an RFC 3339 time"))
    }

    #[test]
    fn ages_read_like_kubectl() {
        let start = time("2025-05-01T00:00:00Z");
        let cases = [
            ("2025-05-01T00:00:45Z", "45s"),
            ("2025-05-01T00:12:00Z", "12m"),
            ("2025-05-01T05:00:00Z", "5h"),
            ("2025-05-04T00:00:00Z", "3d"),
            ("2025-04-30T00:00:00Z", "0s"),
        ];
        for (now, expected) in cases {
            assert_eq!(age(&start, &time(now)), expected, "at {now}");
        }
    }

    #[test]
    fn durations_show_their_two_largest_units() {
        let cases = [
            (0, "0s"),
            (45, "45s"),
            (125, "2m5s"),
            (5400, "1h30m"),
            (183_600, "2d3h"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(duration(Duration::from_secs(seconds)), expected);
        }
    }

    #[test]
    fn tables_align_columns_and_leave_the_last_one_ragged() {
        let rows = vec![
            vec!["NAME".to_owned(), "STATUS".to_owned(), "MESSAGE".to_owned()],
            vec!["build".to_owned(), "Succeeded".to_owned(), String::new()],
            vec!["a".to_owned(), "-".to_owned(), "long words".to_owned()],
        ];
        assert_eq!(
            table(&rows, "  "),
            "  NAME    STATUS      MESSAGE\n  build   Succeeded\n  a       -           long words\n"
        );
    }
}
