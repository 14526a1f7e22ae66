//! Follow-up cadence: when the next follow-up of a case is due. Pure functions.
//!
//! The cadence is fixed by the case type (DOMAIN.md): `SUPPORT` every 3 months,
//! `INVESTIGATION` every 6 weeks. Dates are calendar dates in the tenant's time
//! zone, so a follow-up held late in the evening counts for the local day, and
//! daylight-saving changes never shift a due date.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::care_case::{CaseStatus, CaseType};

/// The local calendar date of an instant in a time zone.
pub fn local_date(at: DateTime<Utc>, zone: Tz) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

/// The date the follow-up cadence counts from: the last follow-up, else the
/// start conversation, else the day the case was opened.
pub fn cadence_start(
    last_follow_up_at: Option<DateTime<Utc>>,
    start_conversation_on: Option<NaiveDate>,
    opened_on: NaiveDate,
    zone: Tz,
) -> NaiveDate {
    last_follow_up_at
        .map(|at| local_date(at, zone))
        .or(start_conversation_on)
        .unwrap_or(opened_on)
}

/// The day the next follow-up is due, `cadence_start` plus the cadence.
/// Three months from the 30th of November is the 28th (or 29th) of February.
pub fn next_follow_up_due(case_type: CaseType, from: NaiveDate) -> NaiveDate {
    match case_type {
        CaseType::Support => from
            .checked_add_months(Months::new(3))
            .unwrap_or(NaiveDate::MAX),
        CaseType::Investigation => from
            .checked_add_days(chrono::Days::new(42))
            .unwrap_or(NaiveDate::MAX),
    }
}

/// Whether an open case's follow-up is overdue on `today` (local date): due
/// yesterday or earlier. Closed cases are never overdue.
pub fn follow_up_overdue(status: CaseStatus, due: NaiveDate, today: NaiveDate) -> bool {
    status == CaseStatus::Open && today > due
}

/// Age in whole years on `today`.
pub fn age_on(date_of_birth: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - date_of_birth.year();
    if (today.month(), today.day()) < (date_of_birth.month(), date_of_birth.day()) {
        age -= 1;
    }
    age.max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const STOCKHOLM: Tz = chrono_tz::Europe::Stockholm;

    #[test]
    fn support_cases_are_followed_up_three_calendar_months_later() {
        assert_eq!(
            next_follow_up_due(CaseType::Support, date(2026, 1, 15)),
            date(2026, 4, 15)
        );
        // The end of a longer month clamps to the end of the shorter one.
        assert_eq!(
            next_follow_up_due(CaseType::Support, date(2026, 11, 30)),
            date(2027, 2, 28)
        );
        assert_eq!(
            next_follow_up_due(CaseType::Support, date(2027, 11, 30)),
            date(2028, 2, 29)
        );
    }

    #[test]
    fn investigations_are_followed_up_six_weeks_later_across_daylight_saving() {
        // Summer time ends on 2026-10-25 in Stockholm; the due date is still 42 days on.
        assert_eq!(
            next_follow_up_due(CaseType::Investigation, date(2026, 10, 1)),
            date(2026, 11, 12)
        );
        // Summer time starts on 2026-03-29.
        assert_eq!(
            next_follow_up_due(CaseType::Investigation, date(2026, 3, 1)),
            date(2026, 4, 12)
        );
    }

    #[test]
    fn a_late_evening_follow_up_counts_for_the_local_day() {
        // 23:30 UTC on 24 October is 01:30 on 25 October in Stockholm (UTC+2),
        // the night summer time ends.
        let late = Utc.with_ymd_and_hms(2026, 10, 24, 23, 30, 0).unwrap();
        assert_eq!(local_date(late, STOCKHOLM), date(2026, 10, 25));
        // 23:30 UTC on 28 March is 00:30 on 29 March (UTC+1), hours before summer time.
        let spring = Utc.with_ymd_and_hms(2026, 3, 28, 23, 30, 0).unwrap();
        assert_eq!(local_date(spring, STOCKHOLM), date(2026, 3, 29));
        // In winter 22:59 UTC is still the same day (23:59 local).
        let winter = Utc.with_ymd_and_hms(2026, 12, 1, 22, 59, 0).unwrap();
        assert_eq!(local_date(winter, STOCKHOLM), date(2026, 12, 1));
    }

    #[test]
    fn the_cadence_counts_from_the_last_follow_up_then_the_start_conversation_then_opening() {
        let opened = date(2026, 1, 10);
        let start = Some(date(2026, 1, 20));
        let last = Some(Utc.with_ymd_and_hms(2026, 3, 5, 9, 0, 0).unwrap());
        assert_eq!(cadence_start(None, None, opened, STOCKHOLM), opened);
        assert_eq!(
            cadence_start(None, start, opened, STOCKHOLM),
            date(2026, 1, 20)
        );
        assert_eq!(
            cadence_start(last, start, opened, STOCKHOLM),
            date(2026, 3, 5)
        );
    }

    #[test]
    fn only_open_cases_past_their_due_day_are_overdue() {
        let due = date(2026, 5, 1);
        assert!(
            !follow_up_overdue(CaseStatus::Open, due, due),
            "due today is not overdue"
        );
        assert!(follow_up_overdue(CaseStatus::Open, due, date(2026, 5, 2)));
        assert!(!follow_up_overdue(
            CaseStatus::Closed,
            due,
            date(2027, 1, 1)
        ));
    }

    #[test]
    fn ages_are_whole_years_counted_on_the_birthday() {
        assert_eq!(age_on(date(2012, 6, 15), date(2026, 6, 14)), 13);
        assert_eq!(age_on(date(2012, 6, 15), date(2026, 6, 15)), 14);
        assert_eq!(age_on(date(2012, 2, 29), date(2026, 2, 28)), 13);
    }
}
