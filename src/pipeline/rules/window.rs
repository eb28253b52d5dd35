//! Deployment-window rules: a rule passes while `now` is inside a window that a cron time opened
//! and that lasts `duration`.
//!
//! # Contract
//! - `cron` has exactly five fields — minute, hour, day of month, month, day of week — read as
//!   Vixie cron reads them: `*`, lists (`1,15`), ranges (`9-17`), steps (`*/15`, `9-17/2`), month
//!   and weekday names (`JAN`, `MON-FRI`, any case), `0` or `7` for Sunday, and day of month OR
//!   day of week when both are restricted. The `croner` crate parses it and also accepts its
//!   extensions (`L`, `W`, `#`, `+` and `@daily`-style nicknames); seconds and years are refused.
//! - The pattern is read on the wall clock of `timeZone` (an IANA name). The time-zone
//!   database is compiled into the binary (jiff's `tzdb-bundle-always`), so an image without
//!   `/usr/share/zoneinfo` reads zones too; a system database, where present, is preferred.
//! - The window opened at cron time `t` is open on `[t, t + duration)`, `duration` being
//!   elapsed time: an 8h window opened at 20:00 before a clock change closes eight real hours
//!   later, at 05:00 or 03:00 on the wall clock.
//!
//! # Daylight saving time
//! Opening times follow the Open Cron Pattern Specification, as `croner` implements it:
//! - a fixed time that the clock skips (02:30 when clocks jump from 02:00 to 03:00) opens the
//!   window at the first instant after the gap (03:00);
//! - a fixed time that the clock passes twice (02:30 when clocks fall back from 03:00 to 02:00)
//!   opens the window once, at the first pass;
//! - patterns with a wildcard or step in the hour field open at every real matching instant.
//!
//! # Errors
//! A pattern that does not parse, an unknown zone or an unusable duration fails the rule with a
//! message naming the field and the fix.
//!
//! # Cost
//! Every answer comes from forward searches of `croner` (bounded by its own search limit,
//! about a year of wall-clock seconds); a pattern that never matches (`0 0 30 2 *`) is
//! outside with no next opening.

use std::time::Duration;

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

use super::RuleOutcome;
use crate::api::pipeline::DeploymentWindow;

/// Openings walked forward from the first one inside a window to find the latest.
const MAX_OPENINGS_WALKED: usize = 1000;

/// Whether `now` is inside the window.
#[derive(Clone, Debug, PartialEq)]
pub enum WindowState {
    /// Inside the window opened at `opened` (the latest opening at or before now), which
    /// closes at `closes` unless a later opening keeps it open.
    Open {
        /// When the window opened.
        opened: Zoned,
        /// When it closes.
        closes: Zoned,
    },
    /// Outside any window.
    Closed {
        /// The next opening, if the pattern has one within `croner`'s search limit.
        next: Option<Zoned>,
    },
}

/// Why a window cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// The cron pattern does not parse.
    #[error(
        "deploymentWindow.cron {cron:?} is not a five-field cron pattern ({reason}): write minute hour day-of-month month day-of-week, e.g. `0 9 * * MON-FRI`"
    )]
    Cron {
        /// The pattern.
        cron: String,
        /// What the parser said.
        reason: String,
    },
    /// The zone is not in the time-zone database.
    #[error(
        "deploymentWindow.timeZone {zone:?} is not an IANA time zone: use a name such as `Europe/Berlin`, `America/New_York` or `UTC`"
    )]
    TimeZone {
        /// The zone name.
        zone: String,
    },
    /// The duration is not a positive duration.
    #[error("deploymentWindow.duration {reason}: write a positive duration such as `8h` or `90m`")]
    Duration {
        /// What is wrong.
        reason: String,
    },
}

/// Judges the deployment-window rule `rule` at `now`.
pub fn evaluate(rule: &str, window: &DeploymentWindow, now: Timestamp) -> RuleOutcome {
    let described = format!(
        "the window {} ({}, {})",
        window.cron.trim(),
        window.duration.0,
        window.time_zone
    );
    match window_state(window, now) {
        Ok(WindowState::Open { opened, closes }) => RuleOutcome::pass(
            rule,
            format!(
                "inside {described}, opened {} and closing {}",
                wall_clock(&opened),
                wall_clock(&closes)
            ),
        ),
        Ok(WindowState::Closed { next: Some(next) }) => RuleOutcome::fail(
            rule,
            format!("outside {described}; next opens {}", wall_clock(&next)),
        ),
        Ok(WindowState::Closed { next: None }) => RuleOutcome::fail(
            rule,
            format!("outside {described}; the pattern opens no window within a year"),
        ),
        Err(error) => RuleOutcome::fail(rule, error),
    }
}

/// Whether `now` is inside `window`, and when it opened or next opens.
///
/// # Errors
/// [`WindowError`] naming the field to fix.
pub fn window_state(window: &DeploymentWindow, now: Timestamp) -> Result<WindowState, WindowError> {
    let cron = parse_cron(&window.cron)?;
    let zone = time_zone(&window.time_zone)?;
    let duration = window_duration(window)?;
    let now = now.to_zoned(zone);

    // The window is open iff some opening t has now - duration < t <= now; a forward search from
    // now - duration finds the earliest such t (only forward searches: they carry the DST rules).
    let earliest_start = now
        .checked_sub(duration)
        .map_err(|error| WindowError::Duration {
            reason: format!(
                "{:?} reaches outside the calendar: {error}",
                window.duration.0
            ),
        })?;
    let first = cron.find_next_occurrence(&earliest_start, false).ok();
    match first {
        Some(first) if first.timestamp() <= now.timestamp() => {
            let mut opened = first;
            for _ in 0..MAX_OPENINGS_WALKED {
                match cron.find_next_occurrence(&opened, false) {
                    Ok(next) if next.timestamp() <= now.timestamp() => opened = next,
                    _ => break,
                }
            }
            let closes = opened
                .checked_add(duration)
                .unwrap_or_else(|_| opened.clone());
            Ok(WindowState::Open { opened, closes })
        }
        _ => Ok(WindowState::Closed {
            next: cron.find_next_occurrence(&now, false).ok(),
        }),
    }
}

/// Parses a five-field cron pattern.
///
/// # Errors
/// [`WindowError::Cron`].
pub fn parse_cron(pattern: &str) -> Result<Cron, WindowError> {
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(pattern)
        .map_err(|error| WindowError::Cron {
            cron: pattern.to_owned(),
            reason: error.to_string().trim_end_matches('.').to_owned(),
        })
}

/// Looks an IANA zone up in the system's database, else the bundled one.
///
/// # Errors
/// [`WindowError::TimeZone`].
pub fn time_zone(name: &str) -> Result<TimeZone, WindowError> {
    jiff::tz::db().get(name).map_err(|_| WindowError::TimeZone {
        zone: name.to_owned(),
    })
}

fn window_duration(window: &DeploymentWindow) -> Result<SignedDuration, WindowError> {
    let duration = window
        .duration
        .to_duration()
        .map_err(|reason| WindowError::Duration { reason })?;
    if duration == Duration::ZERO {
        return Err(WindowError::Duration {
            reason: format!("{:?} is zero, so the window never opens", window.duration.0),
        });
    }
    SignedDuration::try_from(duration).map_err(|error| WindowError::Duration {
        reason: format!("{:?} is too long: {error}", window.duration.0),
    })
}

/// A zoned time as RFC 3339 with its offset, without the zone name the message already gives.
fn wall_clock(time: &Zoned) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}
