//! Quiet hours: a daily window in the user's time zone (it may run past
//! midnight, such as 21:00–08:00) during which notifications are held.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A daily quiet window, in minutes after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start_minute: u32,
    pub end_minute: u32,
    pub zone: Tz,
}

impl QuietHours {
    /// When the quiet hours around `now` end, or `None` when `now` is outside
    /// them. Local times that do not exist (the spring-forward gap) move to
    /// the first instant after the gap.
    pub fn held_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.start_minute == self.end_minute {
            return None;
        }
        let local = now.with_timezone(&self.zone);
        let minute = local.time().num_seconds_from_midnight_minutes();
        let today = local.date_naive();
        let end_day = if self.start_minute < self.end_minute {
            // Same-day window, such as 12:00–13:00.
            (self.start_minute <= minute && minute < self.end_minute).then_some(today)?
        } else if minute >= self.start_minute {
            // Evening part of an overnight window: ends tomorrow morning.
            today.succ_opt()?
        } else if minute < self.end_minute {
            // Morning part: ends this morning.
            today
        } else {
            return None;
        };
        Some(local_instant(self.zone, end_day, self.end_minute))
    }
}

trait MinutesOfDay {
    fn num_seconds_from_midnight_minutes(&self) -> u32;
}

impl MinutesOfDay for NaiveTime {
    fn num_seconds_from_midnight_minutes(&self) -> u32 {
        use chrono::Timelike;
        self.num_seconds_from_midnight() / 60
    }
}

/// The instant of a local wall-clock time; in a DST gap, the first instant
/// after it; when the time occurs twice, the earlier one.
fn local_instant(zone: Tz, day: NaiveDate, minute: u32) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap_or(NaiveTime::MIN);
    let mut wall = day.and_time(time);
    for _ in 0..4 {
        if let Some(instant) = zone.from_local_datetime(&wall).earliest() {
            return instant.with_timezone(&Utc);
        }
        wall += Duration::minutes(30);
    }
    // No zone has a gap longer than two hours; fall back to reading it as UTC.
    Utc.from_utc_datetime(&wall)
}

/// Parses `HH:MM` (24-hour) into minutes after midnight.
pub fn parse_clock(text: &str) -> Option<u32> {
    let (hours, minutes) = text.trim().split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let hours: u32 = hours.parse().ok()?;
    let minutes: u32 = minutes.parse().ok()?;
    (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
}

/// Formats minutes after midnight as `HH:MM`.
pub fn format_clock(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn evening_to_morning() -> QuietHours {
        QuietHours {
            start_minute: 21 * 60,
            end_minute: 8 * 60,
            zone: chrono_tz::Europe::Stockholm,
        }
    }

    #[test]
    fn an_overnight_window_holds_until_the_next_morning() {
        let quiet = evening_to_morning();
        // 22:30 local (CET, UTC+1) on 2026-11-23 → held until 08:00 on the 24th.
        assert_eq!(
            quiet.held_until(at("2026-11-23T21:30:00Z")),
            Some(at("2026-11-24T07:00:00Z"))
        );
        // 06:00 local → held until 08:00 the same morning.
        assert_eq!(
            quiet.held_until(at("2026-11-24T05:00:00Z")),
            Some(at("2026-11-24T07:00:00Z"))
        );
        // 12:00 local → not quiet.
        assert_eq!(quiet.held_until(at("2026-11-24T11:00:00Z")), None);
        // Exactly at the end → not quiet; exactly at the start → quiet.
        assert_eq!(quiet.held_until(at("2026-11-24T07:00:00Z")), None);
        assert!(quiet.held_until(at("2026-11-24T20:00:00Z")).is_some());
    }

    #[test]
    fn the_end_follows_the_clock_across_daylight_saving_changes() {
        let quiet = evening_to_morning();
        // Night of 28→29 March 2026: clocks go forward (CET→CEST) at 02:00.
        // 23:00 CET on the 28th; 08:00 CEST on the 29th is 06:00 UTC.
        assert_eq!(
            quiet.held_until(at("2026-03-28T22:00:00Z")),
            Some(at("2026-03-29T06:00:00Z"))
        );
        // Night of 24→25 October 2026: clocks go back; 08:00 CET is 07:00 UTC.
        assert_eq!(
            quiet.held_until(at("2026-10-24T20:00:00Z")),
            Some(at("2026-10-25T07:00:00Z"))
        );
    }

    #[test]
    fn an_end_inside_the_spring_gap_moves_past_it() {
        let quiet = QuietHours {
            start_minute: 60,
            end_minute: 2 * 60 + 30,
            zone: chrono_tz::Europe::Stockholm,
        };
        // 01:30 CET on 29 March; 02:30 does not exist that night → 03:00 CEST.
        assert_eq!(
            quiet.held_until(at("2026-03-29T00:30:00Z")),
            Some(at("2026-03-29T01:00:00Z"))
        );
    }

    #[test]
    fn a_daytime_window_and_an_empty_one() {
        let lunch = QuietHours {
            start_minute: 12 * 60,
            end_minute: 13 * 60,
            zone: chrono_tz::UTC,
        };
        assert_eq!(
            lunch.held_until(at("2026-11-24T12:15:00Z")),
            Some(at("2026-11-24T13:00:00Z"))
        );
        assert_eq!(lunch.held_until(at("2026-11-24T13:15:00Z")), None);
        let empty = QuietHours {
            start_minute: 600,
            end_minute: 600,
            zone: chrono_tz::UTC,
        };
        assert_eq!(empty.held_until(at("2026-11-24T10:00:00Z")), None);
    }

    #[test]
    fn clock_times_parse_strictly() {
        assert_eq!(parse_clock("21:00"), Some(1260));
        assert_eq!(parse_clock("08:05"), Some(485));
        assert_eq!(parse_clock("24:00"), None);
        assert_eq!(parse_clock("8:00"), None);
        assert_eq!(parse_clock("08:60"), None);
        assert_eq!(parse_clock("nonsense"), None);
        assert_eq!(format_clock(485), "08:05");
    }
}
