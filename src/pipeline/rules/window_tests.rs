//! Deployment windows: cron syntax, time zones, DST gaps and overlaps, and error messages.

use jiff::Timestamp;

use super::window::{WindowState, time_zone, window_state};
use super::*;
use crate::api::common::DurationString;
use crate::api::pipeline::DeploymentWindow;

fn window(cron: &str, duration: &str, zone: &str) -> DeploymentWindow {
    DeploymentWindow {
        cron: cron.into(),
        duration: DurationString::new(duration),
        time_zone: zone.into(),
    }
}

fn at(instant: &str) -> Timestamp {
    instant.parse().expect("an RFC 3339 instant")
}

/// `Some(opening)` when inside (the latest opening, as RFC 3339 with offset), `None` outside.
fn opened(state: &WindowState) -> Option<String> {
    match state {
        WindowState::Open { opened, .. } => {
            Some(opened.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
        }
        WindowState::Closed { .. } => None,
    }
}

fn next(state: &WindowState) -> Option<String> {
    match state {
        WindowState::Closed { next: Some(next) } => {
            Some(next.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
        }
        _ => None,
    }
}

/// Behaviour, cron, duration, zone, now, and the latest opening when inside.
type WindowCase = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

#[test]
fn windows_open_at_cron_times_and_last_their_duration() {
    let cases: &[WindowCase] = &[
        (
            "a weekday morning is inside a MON-FRI window",
            "0 9 * * MON-FRI",
            "8h",
            "UTC",
            "2026-12-09T10:30:00Z",
            Some("2026-12-09T09:00:00+00:00"),
        ),
        (
            "the opening minute itself is inside",
            "0 9 * * MON-FRI",
            "8h",
            "UTC",
            "2026-12-09T09:00:00Z",
            Some("2026-12-09T09:00:00+00:00"),
        ),
        (
            "the closing instant is outside (windows are half-open)",
            "0 9 * * MON-FRI",
            "8h",
            "UTC",
            "2026-12-09T17:00:00Z",
            None,
        ),
        (
            "a second before closing is inside",
            "0 9 * * MON-FRI",
            "8h",
            "UTC",
            "2026-12-09T16:59:59Z",
            Some("2026-12-09T09:00:00+00:00"),
        ),
        (
            "a Saturday is outside a MON-FRI window",
            "0 9 * * MON-FRI",
            "8h",
            "UTC",
            "2026-12-12T10:00:00Z",
            None,
        ),
        (
            "weekday names are case-insensitive",
            "0 9 * * mon-fri",
            "8h",
            "UTC",
            "2026-12-09T10:00:00Z",
            Some("2026-12-09T09:00:00+00:00"),
        ),
        (
            "numbers name weekdays with 0 for Sunday",
            "0 9 * * 0",
            "2h",
            "UTC",
            "2026-12-13T10:00:00Z",
            Some("2026-12-13T09:00:00+00:00"),
        ),
        (
            "7 is Sunday too",
            "0 9 * * 7",
            "2h",
            "UTC",
            "2026-12-13T10:00:00Z",
            Some("2026-12-13T09:00:00+00:00"),
        ),
        (
            "lists pick single weekdays",
            "0 9 * * TUE,THU",
            "1h",
            "UTC",
            "2026-12-10T09:30:00Z",
            Some("2026-12-10T09:00:00+00:00"),
        ),
        (
            "a weekday missing from the list is outside",
            "0 9 * * TUE,THU",
            "1h",
            "UTC",
            "2026-12-09T09:30:00Z",
            None,
        ),
        (
            "steps open every 15 minutes",
            "*/15 * * * *",
            "5m",
            "UTC",
            "2026-12-09T10:47:00Z",
            Some("2026-12-09T10:45:00+00:00"),
        ),
        (
            "between two stepped openings is outside",
            "*/15 * * * *",
            "5m",
            "UTC",
            "2026-12-09T10:52:00Z",
            None,
        ),
        (
            "ranges with steps open on every other hour",
            "0 8-18/2 * * *",
            "30m",
            "UTC",
            "2026-12-09T14:10:00Z",
            Some("2026-12-09T14:00:00+00:00"),
        ),
        (
            "an odd hour is outside an every-other-hour range",
            "0 8-18/2 * * *",
            "30m",
            "UTC",
            "2026-12-09T15:10:00Z",
            None,
        ),
        (
            "month names restrict the month",
            "0 0 1 JAN,JUL *",
            "24h",
            "UTC",
            "2026-07-01T12:00:00Z",
            Some("2026-07-01T00:00:00+00:00"),
        ),
        (
            "a window crosses midnight into the next day",
            "0 22 * * FRI",
            "4h",
            "UTC",
            "2026-12-12T01:00:00Z",
            Some("2026-12-11T22:00:00+00:00"),
        ),
        (
            "a window longer than the gap between openings reports the latest opening",
            "0 * * * *",
            "3h",
            "UTC",
            "2026-12-09T10:20:00Z",
            Some("2026-12-09T10:00:00+00:00"),
        ),
        (
            "the zone decides the wall clock: 09:00 in Berlin is 08:00 UTC in winter",
            "0 9 * * *",
            "1h",
            "Europe/Berlin",
            "2026-12-09T08:30:00Z",
            Some("2026-12-09T09:00:00+01:00"),
        ),
        (
            "the same instant is outside a UTC 09:00 window",
            "0 9 * * *",
            "1h",
            "UTC",
            "2026-12-09T08:30:00Z",
            None,
        ),
        (
            "summer time moves the opening: 09:00 in Berlin is 07:00 UTC in July",
            "0 9 * * *",
            "1h",
            "Europe/Berlin",
            "2026-07-08T07:30:00Z",
            Some("2026-07-08T09:00:00+02:00"),
        ),
        (
            "zones ahead of UTC open on their own date",
            "0 0 * * MON",
            "2h",
            "Asia/Tokyo",
            "2026-12-06T15:30:00Z",
            Some("2026-12-07T00:00:00+09:00"),
        ),
        (
            "day of month OR day of week when both are restricted (Vixie cron)",
            "0 9 13 * FRI",
            "1h",
            "UTC",
            "2026-12-11T09:30:00Z",
            Some("2026-12-11T09:00:00+00:00"),
        ),
        (
            "the duration is elapsed time across the spring-forward change",
            "0 0 * * *",
            "4h",
            "Europe/Berlin",
            // 2026-03-29 04:30 CEST = 02:30 UTC: 3.5 real hours after midnight CET.
            "2026-03-29T02:30:00Z",
            Some("2026-03-29T00:00:00+01:00"),
        ),
        (
            "and closes four real hours later, at 05:00 on the wall clock",
            "0 0 * * *",
            "4h",
            "Europe/Berlin",
            "2026-03-29T03:00:00Z",
            None,
        ),
    ];
    for (behaviour, cron, duration, zone, now, expected) in cases {
        let state = window_state(&window(cron, duration, zone), at(now))
            .unwrap_or_else(|error| panic!("{behaviour}: {error}"));
        assert_eq!(
            opened(&state).as_deref(),
            *expected,
            "{behaviour}: {cron} ({duration}, {zone}) at {now}: {state:?}"
        );
    }
}

#[test]
fn a_fixed_time_the_clock_skips_opens_at_the_first_instant_after_the_gap() {
    // Berlin skips 02:00–03:00 on 2026-03-29.
    let skipped = window("30 2 * * *", "1h", "Europe/Berlin");
    let state = window_state(&skipped, at("2026-03-29T01:10:00Z")).unwrap();
    assert_eq!(
        opened(&state).as_deref(),
        Some("2026-03-29T03:00:00+02:00"),
        "{state:?}"
    );
    // Still one window a day: the next morning opens at 02:30 again.
    let state = window_state(&skipped, at("2026-03-29T02:10:00Z")).unwrap();
    assert_eq!(next(&state).as_deref(), Some("2026-03-30T02:30:00+02:00"));
}

#[test]
fn a_fixed_time_the_clock_passes_twice_opens_the_window_once() {
    // Berlin passes 02:00–03:00 twice on 2026-10-25: first at +02:00, then at +01:00.
    let repeated = window("30 2 * * *", "15m", "Europe/Berlin");
    let first_pass = window_state(&repeated, at("2026-10-25T00:35:00Z")).unwrap();
    assert_eq!(
        opened(&first_pass).as_deref(),
        Some("2026-10-25T02:30:00+02:00"),
        "{first_pass:?}"
    );
    let second_pass = window_state(&repeated, at("2026-10-25T01:35:00Z")).unwrap();
    assert_eq!(opened(&second_pass), None, "{second_pass:?}");
    assert_eq!(
        next(&second_pass).as_deref(),
        Some("2026-10-26T02:30:00+01:00")
    );
}

#[test]
fn an_hourly_window_opens_on_both_passes_of_a_repeated_hour() {
    let hourly = window("0 * * * *", "10m", "Europe/Berlin");
    for (now, expected) in [
        ("2026-10-25T00:05:00Z", "2026-10-25T02:00:00+02:00"),
        ("2026-10-25T01:05:00Z", "2026-10-25T02:00:00+01:00"),
    ] {
        let state = window_state(&hourly, at(now)).unwrap();
        assert_eq!(
            opened(&state).as_deref(),
            Some(expected),
            "{now}: {state:?}"
        );
    }
}

#[test]
fn messages_name_the_window_and_the_next_opening() {
    let berlin = window("0 9 * * MON-THU", "8h", "Europe/Berlin");
    // Friday 2026-12-04 10:00 in Berlin; the next opening is Monday the 7th.
    let outside = window::evaluate("business-hours", &berlin, at("2026-12-04T09:00:00Z"));
    assert_eq!(
        outside,
        RuleOutcome {
            passed: false,
            message: "rule business-hours: outside the window 0 9 * * MON-THU (8h, Europe/Berlin); next opens 2026-12-07T09:00:00+01:00".into(),
        }
    );
    let inside = window::evaluate("business-hours", &berlin, at("2026-12-07T09:30:00Z"));
    assert_eq!(
        inside,
        RuleOutcome {
            passed: true,
            message: "rule business-hours: inside the window 0 9 * * MON-THU (8h, Europe/Berlin), opened 2026-12-07T09:00:00+01:00 and closing 2026-12-07T17:00:00+01:00".into(),
        }
    );
}

#[test]
fn a_pattern_that_never_matches_is_outside_with_no_next_opening() {
    let never = window("0 0 30 2 *", "1h", "UTC");
    let outcome = window::evaluate("leap", &never, at("2026-12-04T09:00:00Z"));
    assert!(!outcome.passed);
    assert!(
        outcome
            .message
            .ends_with("the pattern opens no window within a year"),
        "{}",
        outcome.message
    );
}

#[test]
fn invalid_windows_fail_naming_the_field_and_the_fix() {
    let cases: &[(&str, DeploymentWindow, &[&str])] = &[
        (
            "six fields (seconds) are refused",
            window("0 0 9 * * MON", "1h", "UTC"),
            &[
                "deploymentWindow.cron \"0 0 9 * * MON\"",
                "five-field",
                "e.g. `0 9 * * MON-FRI`",
            ],
        ),
        (
            "four fields are refused",
            window("0 9 * *", "1h", "UTC"),
            &["deploymentWindow.cron", "five-field"],
        ),
        (
            "an unknown weekday name is refused",
            window("0 9 * * MOON", "1h", "UTC"),
            &["deploymentWindow.cron \"0 9 * * MOON\""],
        ),
        (
            "an hour out of range is refused",
            window("0 25 * * *", "1h", "UTC"),
            &["deploymentWindow.cron \"0 25 * * *\""],
        ),
        (
            "an unknown zone is refused",
            window("0 9 * * *", "1h", "Mars/Olympus_Mons"),
            &[
                "deploymentWindow.timeZone \"Mars/Olympus_Mons\"",
                "IANA",
                "Europe/Berlin",
            ],
        ),
        (
            "a zone abbreviation is not a zone name",
            window("0 9 * * *", "1h", "CEST"),
            &["deploymentWindow.timeZone \"CEST\""],
        ),
        (
            "a zero duration never opens",
            window("0 9 * * *", "0s", "UTC"),
            &["deploymentWindow.duration", "is zero", "`8h`"],
        ),
        (
            "a duration that is not a Go duration is refused",
            window("0 9 * * *", "8 hours", "UTC"),
            &["deploymentWindow.duration", "invalid duration"],
        ),
    ];
    for (behaviour, invalid, fragments) in cases {
        let outcome = window::evaluate("window", invalid, at("2026-12-04T09:00:00Z"));
        assert!(!outcome.passed, "{behaviour}");
        assert!(outcome.message.starts_with("rule window: "), "{behaviour}");
        for fragment in *fragments {
            assert!(
                outcome.message.contains(fragment),
                "{behaviour}: {:?} lacks {fragment:?}",
                outcome.message
            );
        }
    }
}

#[test]
fn the_bundled_time_zone_database_knows_zones_without_a_system_copy() {
    let bundled = jiff::tz::TimeZoneDatabase::bundled();
    for zone in ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"] {
        assert!(
            bundled.get(zone).is_ok(),
            "{zone} missing from the bundled database"
        );
    }
    assert!(time_zone("Europe/Berlin").is_ok());
}
