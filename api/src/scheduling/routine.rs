//! Scheduling routines: the rules an organisation books meetings by (working
//! hours, the weekdays a kind of meeting is held, minimum notice, a travel
//! buffer, a cap on meetings per child and day) and the tenant's closed days,
//! turned into blocked periods for a clash check or a slot search.
//!
//! Whose rule applies: the organiser's organisation sets the meeting days,
//! notice, buffer and daily cap; each staff participant's own organisation
//! sets that participant's working hours and travel buffer; closed days are
//! the tenant's. Everything is in the tenant's time zone, through
//! [`super::timeline`], so daylight-saving changes are handled there.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use entity::{
    appointment::{self, AppointmentKind, AppointmentStatus},
    closed_day, scheduling_routine, user_account,
};
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{
    service::{parse_weekdays, weekdays_to_stored},
    timeline::{BlockReason, ClosedDays, Interval, WorkingHours},
};
use crate::{auth::policy::is_staff, error::AppResult};

/// One organisation's routine, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routine {
    /// Working spans `(weekday, from, to)`; empty: no working-hours rule.
    pub working_hours: Vec<(Weekday, NaiveTime, NaiveTime)>,
    /// The weekdays each listed kind of meeting may be held on.
    pub meeting_days: Vec<(AppointmentKind, Vec<Weekday>)>,
    pub minimum_notice: Duration,
    pub buffer: Duration,
    /// Meetings per child (case) per local day.
    pub daily_cap_per_child: Option<u32>,
}

impl Routine {
    /// Parses a stored routine; entries that do not parse are skipped (the
    /// mutation only stores what it validated).
    pub fn from_model(model: &scheduling_routine::Model) -> Routine {
        let working_hours = model
            .working_hours
            .split(',')
            .filter_map(|entry| {
                let (day, span) = entry.trim().split_once(' ')?;
                let (from, to) = span.split_once('-')?;
                Some((
                    *parse_weekdays(day).first()?,
                    NaiveTime::parse_from_str(from, "%H:%M").ok()?,
                    NaiveTime::parse_from_str(to, "%H:%M").ok()?,
                ))
            })
            .collect();
        let meeting_days = model
            .meeting_days
            .split(';')
            .filter_map(|entry| {
                let (kind, days) = entry.trim().split_once('=')?;
                Some((
                    AppointmentKind::try_from_value(&kind.to_owned()).ok()?,
                    parse_weekdays(days),
                ))
            })
            .collect();
        Routine {
            working_hours,
            meeting_days,
            minimum_notice: Duration::minutes(i64::from(model.minimum_notice_minutes.max(0))),
            buffer: Duration::minutes(i64::from(model.buffer_minutes.max(0))),
            daily_cap_per_child: model
                .daily_cap_per_child
                .and_then(|cap| u32::try_from(cap).ok()),
        }
    }

    /// The stored form of the working hours.
    pub fn working_hours_to_stored(&self) -> String {
        self.working_hours
            .iter()
            .map(|(day, from, to)| {
                format!(
                    "{} {}-{}",
                    weekdays_to_stored(&[*day]),
                    from.format("%H:%M"),
                    to.format("%H:%M")
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The stored form of the meeting days.
    pub fn meeting_days_to_stored(&self) -> String {
        self.meeting_days
            .iter()
            .map(|(kind, days)| format!("{}={}", kind.to_value(), weekdays_to_stored(days)))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// The weekdays a kind of meeting may be held on; `None`: any day.
    pub fn days_for(&self, kind: AppointmentKind) -> Option<&[Weekday]> {
        self.meeting_days
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, days)| days.as_slice())
    }
}

/// A period ruled out by a routine or a closed day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleBlock {
    pub reason: BlockReason,
    /// The participant it concerns (working hours, buffer); `None` for the
    /// meeting as a whole (notice, meeting days, daily cap, closed day).
    pub user_id: Option<Uuid>,
    pub interval: Interval,
    /// What the rule is, for the people planning the meeting.
    pub detail: String,
}

/// Everything the rules need for one meeting, loaded once.
#[derive(Debug, Clone)]
pub struct Rules {
    pub zone: Tz,
    /// The organiser's organisation's routine.
    pub organiser: Routine,
    /// Staff participants with their own organisation's routine.
    pub staff: Vec<(Uuid, Routine)>,
    /// The tenant's closed days in the window.
    pub closed: Vec<(NaiveDate, String)>,
    /// Meetings the case already has per local day (proposed or booked).
    pub case_meetings_per_day: HashMap<NaiveDate, u32>,
    pub kind: Option<AppointmentKind>,
    pub now: DateTime<Utc>,
}

/// What to load rules for.
pub struct RuleQuery<'a> {
    pub tenant_id: Uuid,
    /// The tenant's time zone.
    pub zone: Tz,
    pub organiser_organisation: Option<Uuid>,
    /// The participants' accounts (loaded once by the caller).
    pub accounts: &'a [user_account::Model],
    pub case_id: Uuid,
    pub kind: Option<AppointmentKind>,
    pub window: Interval,
    /// An appointment being moved: it does not count towards the daily cap.
    pub exclude: Option<Uuid>,
}

/// Loads the rules (at most three statements, whatever the number of people).
pub async fn load<C: ConnectionTrait>(db: &C, query: &RuleQuery<'_>) -> AppResult<Rules> {
    let zone = query.zone;
    let people = query.accounts;
    let mut organisations: HashSet<Uuid> = people
        .iter()
        .filter(|p| is_staff(p.role))
        .filter_map(|p| p.organisation_id)
        .collect();
    organisations.extend(query.organiser_organisation);
    let routines: HashMap<Uuid, Routine> = scheduling_routine::Entity::find()
        .filter(scheduling_routine::Column::OrganisationId.is_in(organisations))
        .filter(scheduling_routine::Column::TenantId.eq(query.tenant_id))
        .all(db)
        .await?
        .iter()
        .map(|m| (m.organisation_id, Routine::from_model(m)))
        .collect();
    let organiser = query
        .organiser_organisation
        .and_then(|o| routines.get(&o).cloned())
        .unwrap_or_default();
    let staff = people
        .iter()
        .filter(|p| is_staff(p.role))
        .filter_map(|p| Some((p.id, routines.get(&p.organisation_id?)?.clone())))
        .collect();
    let first_day = query.window.start.with_timezone(&zone).date_naive() - Duration::days(1);
    let last_day = query.window.end.with_timezone(&zone).date_naive() + Duration::days(1);
    let closed = closed_day::Entity::find()
        .filter(closed_day::Column::TenantId.eq(query.tenant_id))
        .filter(closed_day::Column::Date.between(first_day, last_day))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.date, d.name))
        .collect();
    let mut case_meetings_per_day = HashMap::new();
    if organiser.daily_cap_per_child.is_some() {
        // Whole local days around the window, so a day's count is complete.
        let day_start = query.window.start - Duration::days(1);
        let day_end = query.window.end + Duration::days(1);
        let meetings = appointment::Entity::find()
            .filter(appointment::Column::CaseId.eq(query.case_id))
            .filter(
                appointment::Column::Status
                    .is_in([AppointmentStatus::Proposed, AppointmentStatus::Booked]),
            )
            .filter(appointment::Column::StartsAt.lt(day_end))
            .filter(appointment::Column::EndsAt.gt(day_start))
            .all(db)
            .await?;
        for meeting in meetings {
            if Some(meeting.id) == query.exclude {
                continue;
            }
            let day = meeting.starts_at.with_timezone(&zone).date_naive();
            *case_meetings_per_day.entry(day).or_insert(0) += 1;
        }
    }
    Ok(Rules {
        zone,
        organiser,
        staff,
        closed,
        case_meetings_per_day,
        kind: query.kind,
        now: Utc::now(),
    })
}

fn local_days(zone: Tz, window: Interval) -> impl Iterator<Item = NaiveDate> {
    let first = window.start.with_timezone(&zone).date_naive();
    let last = window.end.with_timezone(&zone).date_naive();
    first.iter_days().take_while(move |d| *d <= last)
}

/// The whole local days among `dates`, as blocks.
fn day_blocks(
    zone: Tz,
    window: Interval,
    dates: Vec<NaiveDate>,
    reason: BlockReason,
    detail: &str,
) -> Vec<RuleBlock> {
    ClosedDays { zone, dates }
        .closed_parts(window)
        .into_iter()
        .map(|interval| RuleBlock {
            reason,
            user_id: None,
            interval,
            detail: detail.to_owned(),
        })
        .collect()
}

fn kind_label(kind: AppointmentKind) -> String {
    kind.to_value().to_lowercase().replace('_', " ")
}

fn weekday_names(days: &[Weekday]) -> String {
    days.iter()
        .map(|d| match d {
            Weekday::Mon => "Mondays",
            Weekday::Tue => "Tuesdays",
            Weekday::Wed => "Wednesdays",
            Weekday::Thu => "Thursdays",
            Weekday::Fri => "Fridays",
            Weekday::Sat => "Saturdays",
            Weekday::Sun => "Sundays",
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every period in `window` the rules rule out. `appointments` are the
/// participants' other appointments (for the travel buffer around them).
pub fn blocks(
    rules: &Rules,
    window: Interval,
    appointments: &[(Uuid, Interval)],
) -> Vec<RuleBlock> {
    let zone = rules.zone;
    let mut out = Vec::new();
    // Minimum notice: nothing starts before now + notice.
    if rules.organiser.minimum_notice > Duration::zero() {
        let notice = Interval {
            start: window.start.min(rules.now),
            end: rules.now + rules.organiser.minimum_notice,
        };
        if notice.overlaps(&window) {
            out.push(RuleBlock {
                reason: BlockReason::Notice,
                user_id: None,
                interval: notice,
                detail: format!(
                    "Book at least {} hours ahead.",
                    rules.organiser.minimum_notice.num_minutes() as f64 / 60.0
                ),
            });
        }
    }
    // The weekdays this kind of meeting is held on.
    if let Some(kind) = rules.kind
        && let Some(allowed) = rules.organiser.days_for(kind)
    {
        let other_days = local_days(zone, window)
            .filter(|d| !allowed.contains(&d.weekday()))
            .collect();
        let detail = format!(
            "A {} is held on {} only.",
            kind_label(kind),
            weekday_names(allowed)
        );
        out.extend(day_blocks(
            zone,
            window,
            other_days,
            BlockReason::Routine,
            &detail,
        ));
    }
    // Days on which the child already has the most meetings allowed.
    if let Some(cap) = rules.organiser.daily_cap_per_child {
        let full = rules
            .case_meetings_per_day
            .iter()
            .filter(|(_, n)| **n >= cap)
            .map(|(d, _)| *d)
            .collect();
        let detail = format!("The child already has {cap} meeting(s) that day.");
        out.extend(day_blocks(
            zone,
            window,
            full,
            BlockReason::DailyCap,
            &detail,
        ));
    }
    for (date, name) in &rules.closed {
        out.extend(day_blocks(
            zone,
            window,
            vec![*date],
            BlockReason::ClosedDay,
            name,
        ));
    }
    for (user, routine) in &rules.staff {
        if !routine.working_hours.is_empty() {
            let hours = WorkingHours {
                zone,
                days: routine.working_hours.clone(),
            };
            out.extend(hours.outside(window).into_iter().map(|interval| RuleBlock {
                reason: BlockReason::OutsideWorkingHours,
                user_id: Some(*user),
                interval,
                detail: "Outside working hours.".to_owned(),
            }));
        }
        if routine.buffer > Duration::zero() {
            let detail = format!(
                "{} minutes' travel between meetings.",
                routine.buffer.num_minutes()
            );
            for (_, busy) in appointments.iter().filter(|(u, _)| u == user) {
                for interval in [
                    Interval {
                        start: busy.start - routine.buffer,
                        end: busy.start,
                    },
                    Interval {
                        start: busy.end,
                        end: busy.end + routine.buffer,
                    },
                ] {
                    if interval.overlaps(&window) {
                        out.push(RuleBlock {
                            reason: BlockReason::Buffer,
                            user_id: Some(*user),
                            interval,
                            detail: detail.clone(),
                        });
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::Europe::Stockholm;

    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Stockholm
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn rules(organiser: Routine, staff: Vec<(Uuid, Routine)>) -> Rules {
        Rules {
            zone: Stockholm,
            organiser,
            staff,
            closed: Vec::new(),
            case_meetings_per_day: HashMap::new(),
            kind: Some(AppointmentKind::CoordinationMeeting),
            now: at(2026, 10, 1, 9, 0),
        }
    }

    #[test]
    fn stored_forms_round_trip() {
        let routine = Routine {
            working_hours: vec![
                (
                    Weekday::Mon,
                    NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
                    NaiveTime::from_hms_opt(16, 30, 0).unwrap_or_default(),
                ),
                (
                    Weekday::Fri,
                    NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
                    NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default(),
                ),
            ],
            meeting_days: vec![(AppointmentKind::CoordinationMeeting, vec![Weekday::Fri])],
            minimum_notice: Duration::hours(48),
            buffer: Duration::minutes(30),
            daily_cap_per_child: Some(2),
        };
        let model = scheduling_routine::Model {
            organisation_id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            working_hours: routine.working_hours_to_stored(),
            meeting_days: routine.meeting_days_to_stored(),
            minimum_notice_minutes: 48 * 60,
            buffer_minutes: 30,
            daily_cap_per_child: Some(2),
            updated_by: Uuid::nil(),
            updated_at: Utc::now(),
        };
        assert_eq!(model.working_hours, "MON 08:00-16:30,FRI 08:00-12:00");
        assert_eq!(model.meeting_days, "COORDINATION_MEETING=FRI");
        assert_eq!(Routine::from_model(&model), routine);
    }

    #[test]
    fn coordination_meetings_are_blocked_on_other_days_and_the_notice_at_the_start() {
        let organiser = Routine {
            meeting_days: vec![(AppointmentKind::CoordinationMeeting, vec![Weekday::Fri])],
            minimum_notice: Duration::hours(48),
            ..Routine::default()
        };
        // Thursday 1 October to Tuesday 6 October 2026.
        let window = Interval {
            start: at(2026, 10, 1, 0, 0),
            end: at(2026, 10, 6, 0, 0),
        };
        let found = blocks(&rules(organiser, Vec::new()), window, &[]);
        let notice: Vec<_> = found
            .iter()
            .filter(|b| b.reason == BlockReason::Notice)
            .collect();
        assert_eq!(notice.len(), 1);
        assert_eq!(notice[0].interval.end, at(2026, 10, 3, 9, 0));
        let routine: Vec<Interval> = found
            .iter()
            .filter(|b| b.reason == BlockReason::Routine)
            .map(|b| b.interval)
            .collect();
        // Thursday, then Saturday to Monday: Friday stays open.
        assert_eq!(
            routine,
            vec![
                Interval {
                    start: at(2026, 10, 1, 0, 0),
                    end: at(2026, 10, 2, 0, 0)
                },
                Interval {
                    start: at(2026, 10, 3, 0, 0),
                    end: at(2026, 10, 6, 0, 0)
                },
            ]
        );
    }

    #[test]
    fn the_buffer_surrounds_a_staff_members_other_meetings_and_hours_follow_local_time() {
        let anna = Uuid::from_u128(1);
        let own = Routine {
            working_hours: vec![(
                Weekday::Mon,
                NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
                NaiveTime::from_hms_opt(16, 0, 0).unwrap_or_default(),
            )],
            buffer: Duration::minutes(30),
            ..Routine::default()
        };
        // Monday 26 October 2026, the first day of winter time.
        let window = Interval {
            start: at(2026, 10, 26, 0, 0),
            end: at(2026, 10, 27, 0, 0),
        };
        let meeting = Interval {
            start: at(2026, 10, 26, 10, 0),
            end: at(2026, 10, 26, 11, 0),
        };
        let found = blocks(
            &rules(Routine::default(), vec![(anna, own)]),
            window,
            &[(anna, meeting)],
        );
        let buffers: Vec<Interval> = found
            .iter()
            .filter(|b| b.reason == BlockReason::Buffer)
            .map(|b| b.interval)
            .collect();
        assert_eq!(
            buffers,
            vec![
                Interval {
                    start: at(2026, 10, 26, 9, 30),
                    end: meeting.start
                },
                Interval {
                    start: meeting.end,
                    end: at(2026, 10, 26, 11, 30)
                },
            ]
        );
        let outside: Vec<Interval> = found
            .iter()
            .filter(|b| b.reason == BlockReason::OutsideWorkingHours)
            .map(|b| b.interval)
            .collect();
        assert_eq!(
            outside,
            vec![
                Interval {
                    start: window.start,
                    end: at(2026, 10, 26, 8, 0)
                },
                Interval {
                    start: at(2026, 10, 26, 16, 0),
                    end: window.end
                },
            ]
        );
        assert!(found.iter().all(|b| b.user_id == Some(anna)));
    }

    #[test]
    fn a_full_day_and_a_closed_day_block_whole_local_days() {
        let organiser = Routine {
            daily_cap_per_child: Some(1),
            ..Routine::default()
        };
        let mut rules = rules(organiser, Vec::new());
        let friday = NaiveDate::from_ymd_opt(2026, 10, 23).unwrap_or_default();
        // The Sunday the clocks go back: a 25-hour local day.
        let sunday = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap_or_default();
        rules.case_meetings_per_day.insert(friday, 1);
        rules.closed.push((sunday, "Closed".to_owned()));
        let window = Interval {
            start: at(2026, 10, 23, 0, 0),
            end: at(2026, 10, 27, 0, 0),
        };
        let found = blocks(&rules, window, &[]);
        let cap: Vec<_> = found
            .iter()
            .filter(|b| b.reason == BlockReason::DailyCap)
            .collect();
        assert_eq!(cap.len(), 1);
        assert_eq!(cap[0].interval.end, at(2026, 10, 24, 0, 0));
        let closed: Vec<_> = found
            .iter()
            .filter(|b| b.reason == BlockReason::ClosedDay)
            .collect();
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].detail, "Closed");
        assert_eq!(closed[0].interval.start, at(2026, 10, 25, 0, 0));
        assert_eq!(
            closed[0].interval.end - closed[0].interval.start,
            Duration::hours(25)
        );
    }
}
