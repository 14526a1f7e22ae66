//! Scheduling queries and mutations.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc, Weekday};

use super::{
    service::{self, Answer, Booked, Booking, NewCommitment, Proposal},
    timeline::Interval,
    types::{
        Appointment, AppointmentKind, AttendanceStatus, Availability, Commitment, Conflict,
        ConflictReason, Deviation, DeviationConnection, DeviationKind, LocationKind,
    },
};
use crate::{
    auth::case_policy::manages_goals,
    case::{query::read_audit, service::case},
    error::AppError,
    graphql::{
        ContextExt, UserError, UserErrorCode,
        node::{GlobalId, NodeKind},
        pagination,
        scalars::Date,
    },
};

use crate::graphql::pagination::{MAX_LIST_SIZE, list_size};
/// Longest span `myAppointments` and `appointments` accept.
const MAX_RANGE_DAYS: i64 = 366;

/// A person, or an organisation without a named person yet, to invite (give
/// exactly one of `userId` and `organisationId`).
#[derive(Debug, InputObject)]
pub struct ParticipantInput {
    /// The user (a family member with a login, staff on the case, or a
    /// professional with an `APPOINTMENTS` consent).
    pub user_id: Option<ID>,
    /// An organisation with an `APPOINTMENTS` consent on the case, before it
    /// names who comes; its calendar feeds and meetings count as its busy time.
    pub organisation_id: Option<ID>,
    /// Whether the meeting needs them (default true).
    #[graphql(default = true)]
    pub required: bool,
}

/// A proposed time.
#[derive(Debug, InputObject)]
pub struct CheckAvailabilityInput {
    /// The case.
    pub case_id: ID,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End (after the start, at most 24 hours later).
    pub ends_at: DateTime<Utc>,
    /// Who would come.
    pub participants: Vec<ParticipantInput>,
    /// An appointment being moved (its own time does not count as busy).
    pub appointment_id: Option<ID>,
    /// The kind of meeting: some are held on certain weekdays only.
    pub kind: Option<AppointmentKind>,
}

/// The result of `checkAvailability`.
#[derive(SimpleObject)]
pub struct CheckAvailabilityPayload {
    /// The clashes; null when there are user errors.
    pub availability: Option<Availability>,
    /// Problems the user can fix.
    pub user_errors: Vec<UserError>,
}

/// Where an appointment takes place.
#[derive(Debug, InputObject)]
pub struct LocationInput {
    /// The kind of place.
    pub kind: LocationKind,
    /// The address or video link (not needed for the family's home).
    pub text: Option<String>,
}

/// Booking an appointment.
#[derive(Debug, InputObject)]
pub struct ScheduleAppointmentInput {
    /// The case.
    pub case_id: ID,
    /// What kind of meeting.
    pub kind: AppointmentKind,
    /// A title.
    pub title: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End (after the start, at most 24 hours later).
    pub ends_at: DateTime<Utc>,
    /// Where.
    pub location: LocationInput,
    /// Who is invited (the organiser takes part too).
    pub participants: Vec<ParticipantInput>,
    /// Book despite clashes, with the reason (recorded as a deviation).
    pub override_reason: Option<String>,
    /// Only propose the time: the appointment is `PROPOSED` until every
    /// required participant has accepted, then `BOOKED` (default: book now).
    #[graphql(default)]
    pub propose: bool,
}

/// The result of a booking.
#[derive(SimpleObject)]
pub struct AppointmentPayload {
    /// The appointment; null when there are user errors.
    pub appointment: Option<Appointment>,
    /// With a `CLASH` user error: every clash.
    pub conflicts: Vec<Conflict>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// Moving an appointment: to a given time, or to the time a participant
/// proposed when declining (give exactly one).
#[derive(Debug, InputObject)]
pub struct RescheduleAppointmentInput {
    /// The appointment.
    pub appointment_id: ID,
    /// New start.
    pub starts_at: Option<DateTime<Utc>>,
    /// New end.
    pub ends_at: Option<DateTime<Utc>>,
    /// Take the time this participant (a user) proposed.
    pub counter_proposal_of: Option<ID>,
    /// Move despite clashes, with the reason (recorded as a deviation).
    pub override_reason: Option<String>,
}

/// One participant's attendance.
#[derive(Debug, InputObject)]
pub struct AttendanceInput {
    /// The participant (a user).
    pub user_id: ID,
    /// How they attended.
    pub attendance: AttendanceStatus,
}

/// Recording attendance after an appointment.
#[derive(Debug, InputObject)]
pub struct RecordAttendanceInput {
    /// The appointment (ended).
    pub appointment_id: ID,
    /// Attendance per participant.
    pub attendance: Vec<AttendanceInput>,
}

/// Which deviations to list.
#[derive(Debug, Default, InputObject)]
pub struct DeviationFilterInput {
    /// Only this organisation's (agency's).
    pub organisation_id: Option<ID>,
    /// Only this kind.
    pub kind: Option<DeviationKind>,
    /// Recorded at or after.
    pub from: Option<DateTime<Utc>>,
    /// Recorded before.
    pub to: Option<DateTime<Utc>>,
}

/// An answer to an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Reply {
    /// Will come.
    Accept,
    /// May come.
    Tentative,
    /// Cannot come: give a reason, and perhaps another time.
    Decline,
}

/// Answering an invitation.
#[derive(Debug, InputObject)]
pub struct RespondToAppointmentInput {
    /// The appointment.
    pub appointment_id: ID,
    /// The answer.
    pub reply: Reply,
    /// Why (required when declining).
    pub reason: Option<String>,
    /// Another time that would suit (declining only): start.
    pub proposed_starts_at: Option<DateTime<Utc>>,
    /// Another time that would suit: end.
    pub proposed_ends_at: Option<DateTime<Utc>>,
}

/// Cancelling an appointment.
#[derive(Debug, InputObject)]
pub struct CancelAppointmentInput {
    /// The appointment.
    pub appointment_id: ID,
    /// Why.
    pub reason: String,
}

/// Entering busy time.
#[derive(Debug, InputObject)]
pub struct CreateCommitmentInput {
    /// A title only the viewer sees ("School", "Work", "BUP").
    pub title: String,
    /// An optional category only the viewer sees.
    pub category: Option<String>,
    /// Start of the (first) occurrence.
    pub starts_at: DateTime<Utc>,
    /// End of the (first) occurrence (at most 24 hours after the start).
    pub ends_at: DateTime<Utc>,
    /// For a weekly series: the weekdays (`MON`…`SUN`); leave out for a one-off.
    pub weekdays: Option<Vec<WeekdayInput>>,
    /// The last day of the series (inclusive).
    pub repeat_until: Option<Date>,
    /// Days the series skips (holidays).
    pub except_dates: Option<Vec<Date>>,
    /// The zone whose wall-clock time the series keeps; default the municipality's.
    pub time_zone: Option<String>,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "Weekday")]
pub enum WeekdayInput {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl From<WeekdayInput> for Weekday {
    fn from(day: WeekdayInput) -> Self {
        match day {
            WeekdayInput::Mon => Weekday::Mon,
            WeekdayInput::Tue => Weekday::Tue,
            WeekdayInput::Wed => Weekday::Wed,
            WeekdayInput::Thu => Weekday::Thu,
            WeekdayInput::Fri => Weekday::Fri,
            WeekdayInput::Sat => Weekday::Sat,
            WeekdayInput::Sun => Weekday::Sun,
        }
    }
}

/// A period.
#[derive(Debug, InputObject)]
pub struct PeriodInput {
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
}

/// Finding times.
#[derive(Debug, InputObject)]
pub struct SuggestSlotsInput {
    /// The case.
    pub case_id: ID,
    /// Who should come (required or optional).
    pub participants: Vec<ParticipantInput>,
    /// Length of the meeting in minutes (1–1440).
    pub duration_minutes: i32,
    /// Search from (times before now are skipped).
    pub from: DateTime<Utc>,
    /// Search until (at most three months after `from`).
    pub to: DateTime<Utc>,
    /// How many suggestions (1–20).
    #[graphql(default = 5)]
    pub count: i32,
    /// Periods the family prefers (e.g. afternoons after school).
    pub preferred: Option<Vec<PeriodInput>>,
    /// The kind of meeting: some are held on certain weekdays only.
    pub kind: Option<AppointmentKind>,
}

/// A suggested time.
#[derive(SimpleObject)]
pub struct SuggestedSlot {
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// The optional participants (users, or organisations without a named
    /// person) who are free then.
    pub optional_participants_free: Vec<ID>,
    /// Whether it lies within the preferred periods.
    pub in_preferred_time: bool,
}

/// What rules out the window when nothing fits.
#[derive(SimpleObject)]
pub struct SlotObstacle {
    /// The required participant whose busy time is meant (null: a rule, an
    /// organisation, or a window too short for the meeting).
    pub participant_id: Option<ID>,
    /// The required organisation (without a named person) whose busy time is meant.
    pub organisation_id: Option<ID>,
    /// The rule that is meant (working hours, meeting days, notice, buffer,
    /// daily cap, closed day); null: a participant's busy time, or a window
    /// too short for the meeting.
    pub reason: Option<ConflictReason>,
    /// The share of possible start times it rules out (0–1).
    pub share_of_window: f64,
}

/// The result of `suggestSlots`.
#[derive(SimpleObject)]
pub struct SuggestSlotsPayload {
    /// The suggestions, best first.
    pub slots: Vec<SuggestedSlot>,
    /// When nothing fits: what rules out most of the window, largest first,
    /// so the caseworker knows whom to call.
    pub obstacles: Vec<SlotObstacle>,
    /// Problems the user can fix.
    pub user_errors: Vec<UserError>,
}

/// The people and the window of a planning calendar.
#[derive(Debug, InputObject)]
pub struct CalendarInput {
    /// The case the meeting is about (the people must take part in it).
    pub case_id: ID,
    /// Whose busy time to show.
    pub participants: Vec<ID>,
    /// From.
    pub from: DateTime<Utc>,
    /// To (at most 31 days after `from`).
    pub to: DateTime<Utc>,
}

/// A period.
#[derive(SimpleObject)]
pub struct Period {
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
}

/// Busy time for planning.
#[derive(SimpleObject)]
pub struct PlanningCalendar {
    /// Every busy period and rule block, by start: whose, why, and details
    /// only where the viewer may see them.
    pub busy: Vec<Conflict>,
    /// The union of all of them within the window: when at least one person
    /// is busy or a rule rules the time out.
    pub merged_busy: Vec<Period>,
}

/// The result of `calendar`.
#[derive(SimpleObject)]
pub struct CalendarPayload {
    /// The calendar; null when there are user errors.
    pub calendar: Option<PlanningCalendar>,
    /// Problems the user can fix.
    pub user_errors: Vec<UserError>,
}

/// Removing a commitment.
#[derive(Debug, InputObject)]
pub struct DeleteCommitmentInput {
    /// The commitment.
    pub commitment_id: ID,
}

/// The result of a commitment mutation.
#[derive(SimpleObject)]
pub struct CommitmentPayload {
    /// The commitment; null when there are user errors.
    pub commitment: Option<Commitment>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// People and organisations, (id, required) each.
type Invitees = (Vec<(uuid::Uuid, bool)>, Vec<(uuid::Uuid, bool)>);

fn participants(input: &[ParticipantInput]) -> Result<Invitees, AppError> {
    let path = &["input", "participants"];
    let mut users = Vec::new();
    let mut organisations = Vec::new();
    for p in input {
        match (&p.user_id, &p.organisation_id) {
            (Some(user), None) => {
                users.push((GlobalId::expect(user, NodeKind::User, path)?, p.required));
            }
            (None, Some(org)) => organisations.push((
                GlobalId::expect(org, NodeKind::Organisation, path)?,
                p.required,
            )),
            _ => {
                return Err(AppError::bad_input(
                    path,
                    "give exactly one of userId and organisationId per participant",
                ));
            }
        }
    }
    Ok((users, organisations))
}

fn check_range(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), AppError> {
    if to <= from || to - from > chrono::Duration::days(MAX_RANGE_DAYS) {
        return Err(AppError::bad_input(
            &["to"],
            "`to` must be after `from`, at most 366 days later",
        ));
    }
    Ok(())
}

/// The payload of a mutation that changes one appointment or has a user error.
async fn answered_payload(
    ctx: &Context<'_>,
    outcome: Result<entity::appointment::Model, UserError>,
) -> Result<AppointmentPayload> {
    Ok(match outcome {
        Ok(model) => AppointmentPayload {
            appointment: Some(one(ctx, model).await?),
            conflicts: Vec::new(),
            user_errors: Vec::new(),
        },
        Err(problem) => AppointmentPayload {
            appointment: None,
            conflicts: Vec::new(),
            user_errors: vec![problem],
        },
    })
}

async fn booked_payload(ctx: &Context<'_>, outcome: Booked) -> Result<AppointmentPayload> {
    Ok(match outcome {
        Booked::Done(model) => AppointmentPayload {
            appointment: Some(one(ctx, model).await?),
            conflicts: Vec::new(),
            user_errors: Vec::new(),
        },
        Booked::Clash(conflicts) => AppointmentPayload {
            appointment: None,
            user_errors: vec![UserError {
                code: UserErrorCode::Clash,
                message: format!(
                    "The time clashes with {} busy period(s) of the participants.",
                    conflicts.len()
                ),
                field: Some(vec!["input".into(), "startsAt".into()]),
            }],
            conflicts: conflicts.into_iter().map(Conflict).collect(),
        },
        Booked::Invalid(problem) => AppointmentPayload {
            appointment: None,
            conflicts: Vec::new(),
            user_errors: vec![problem],
        },
    })
}

async fn one(ctx: &Context<'_>, model: entity::appointment::Model) -> Result<Appointment> {
    let principal = ctx.viewer().principal()?;
    let db = &ctx.state().db;
    let staff = case(
        db,
        principal,
        &ctx.request_meta(),
        &read_audit(ctx),
        model.case_id,
    )
    .await
    .map(|v| manages_goals(v.access.relation))
    .unwrap_or(false);
    Ok(Appointment::many(ctx, vec![model], |_| staff)
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal("an appointment went missing".into()))?)
}

/// Scheduling queries.
#[derive(Default)]
pub struct SchedulingQuery;

#[Object]
impl SchedulingQuery {
    /// The viewer's own appointments (as a participant) overlapping a range,
    /// by start, with everyone's answers.
    async fn my_appointments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "From.")] from: DateTime<Utc>,
        #[graphql(desc = "To (at most 366 days after `from`).")] to: DateTime<Utc>,
        #[graphql(desc = "At most this many (1 to 500; 500 when left out).")] first: Option<i32>,
    ) -> Result<Vec<Appointment>> {
        let limit = list_size(first, MAX_LIST_SIZE)?;
        let principal = ctx.viewer().principal()?;
        check_range(from, to)?;
        let mut rows = service::my_appointments(&ctx.state().db, principal, from, to).await?;
        rows.truncate(limit);
        let me = principal.user_id;
        Appointment::list(ctx, rows, |a| a.organiser_id == me).await
    }

    /// The appointments of a case overlapping a range, by start (for those
    /// who see the case's appointments).
    async fn appointments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case.")] case_id: ID,
        #[graphql(desc = "From.")] from: DateTime<Utc>,
        #[graphql(desc = "To (at most 366 days after `from`).")] to: DateTime<Utc>,
        #[graphql(desc = "At most this many (1 to 500; 500 when left out).")] first: Option<i32>,
    ) -> Result<Vec<Appointment>> {
        let limit = list_size(first, MAX_LIST_SIZE)?;
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(&case_id, NodeKind::Case, &["caseId"])?;
        check_range(from, to)?;
        let db = &ctx.state().db;
        let view = case(db, principal, &ctx.request_meta(), &read_audit(ctx), id).await?;
        let mut rows = service::appointments_of_case(db, &view, from, to).await?;
        rows.truncate(limit);
        let staff = manages_goals(view.access.relation);
        Appointment::list(ctx, rows, |_| staff).await
    }

    /// Every clash of a proposed time (staff on the case): which participant,
    /// when, and why; others' details show only as busy. Changes nothing.
    async fn check_availability(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The proposed time.")] input: CheckAvailabilityInput,
    ) -> Result<CheckAvailabilityPayload> {
        let principal = ctx.viewer().principal()?;
        let invitees = participants(&input.participants)?;
        let proposal = Proposal {
            case_id: GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            participants: invitees.0,
            organisations: invitees.1,
            exclude: input
                .appointment_id
                .as_ref()
                .map(|id| GlobalId::expect(id, NodeKind::Appointment, &["input", "appointmentId"]))
                .transpose()?,
            kind: input.kind.map(Into::into),
        };
        let outcome = service::check_availability(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            &read_audit(ctx),
            &proposal,
        )
        .await?;
        Ok(match outcome {
            Ok(conflicts) => CheckAvailabilityPayload {
                availability: Some(Availability {
                    free: conflicts.is_empty(),
                    conflicts: conflicts.into_iter().map(Conflict).collect(),
                }),
                user_errors: Vec::new(),
            },
            Err(problem) => CheckAvailabilityPayload {
                availability: None,
                user_errors: vec![problem],
            },
        })
    }

    /// The merged busy time of several people for planning (staff on the
    /// case): appointments, commitments, external calendars and the routines,
    /// with others' details shown only as busy.
    async fn calendar(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Whose calendar and when.")] input: CalendarInput,
    ) -> Result<CalendarPayload> {
        let principal = ctx.viewer().principal()?;
        let case_id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let users = input
            .participants
            .iter()
            .map(|id| GlobalId::expect(id, NodeKind::User, &["input", "participants"]))
            .collect::<Result<Vec<_>, _>>()?;
        let window = Interval {
            start: input.from,
            end: input.to,
        };
        let outcome = service::calendar(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            &read_audit(ctx),
            case_id,
            &users,
            window,
        )
        .await?;
        Ok(match outcome {
            Ok((busy, merged)) => CalendarPayload {
                calendar: Some(PlanningCalendar {
                    busy: busy.into_iter().map(Conflict).collect(),
                    merged_busy: merged
                        .into_iter()
                        .map(|i| Period {
                            starts_at: i.start,
                            ends_at: i.end,
                        })
                        .collect(),
                }),
                user_errors: Vec::new(),
            },
            Err(problem) => CalendarPayload {
                calendar: None,
                user_errors: vec![problem],
            },
        })
    }

    /// Ranked times when every required participant is free (staff on the
    /// case): more optional participants first, then the preferred periods,
    /// then the earliest; never overlapping each other. When nothing fits,
    /// `obstacles` says whose busy time rules out most of the window.
    async fn suggest_slots(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to find.")] input: SuggestSlotsInput,
    ) -> Result<SuggestSlotsPayload> {
        let principal = ctx.viewer().principal()?;
        let invitees = participants(&input.participants)?;
        let search = service::SlotSearch {
            case_id: GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?,
            participants: invitees.0,
            organisations: invitees.1,
            window: Interval {
                start: input.from,
                end: input.to,
            },
            duration: chrono::Duration::minutes(i64::from(input.duration_minutes)),
            count: usize::try_from(input.count).unwrap_or(0),
            preferred: input
                .preferred
                .unwrap_or_default()
                .into_iter()
                .map(|p| Interval {
                    start: p.starts_at,
                    end: p.ends_at,
                })
                .collect(),
            kind: input.kind.map(Into::into),
        };
        let outcome = service::suggest_slots(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            &read_audit(ctx),
            &search,
        )
        .await?;
        // A slot's optional participants are indices into people, then organisations.
        let people: Vec<ID> = search
            .participants
            .iter()
            .map(|(u, _)| GlobalId::encode(NodeKind::User, *u))
            .chain(
                search
                    .organisations
                    .iter()
                    .map(|(o, _)| GlobalId::encode(NodeKind::Organisation, *o)),
            )
            .collect();
        Ok(match outcome {
            service::Suggestions::Slots(slots) => SuggestSlotsPayload {
                slots: slots
                    .into_iter()
                    .map(|slot| SuggestedSlot {
                        starts_at: slot.interval.start,
                        ends_at: slot.interval.end,
                        optional_participants_free: slot
                            .optional_available
                            .iter()
                            .filter_map(|n| people.get(*n as usize).cloned())
                            .collect(),
                        in_preferred_time: slot.in_preferred_time,
                    })
                    .collect(),
                obstacles: Vec::new(),
                user_errors: Vec::new(),
            },
            service::Suggestions::NoneFit(obstacles) => SuggestSlotsPayload {
                slots: Vec::new(),
                obstacles: obstacles
                    .into_iter()
                    .map(|o| SlotObstacle {
                        participant_id: o.user_id.map(|u| GlobalId::encode(NodeKind::User, u)),
                        organisation_id: o
                            .organisation_id
                            .map(|u| GlobalId::encode(NodeKind::Organisation, u)),
                        reason: o.reason.map(|r| service::ConflictReason::Rule(r).into()),
                        share_of_window: o.share,
                    })
                    .collect(),
                user_errors: Vec::new(),
            },
            service::Suggestions::Invalid(problem) => SuggestSlotsPayload {
                slots: Vec::new(),
                obstacles: Vec::new(),
                user_errors: vec![problem],
            },
        })
    }

    /// Deviations of the municipality (team leads): no-shows, late declines
    /// and clash overrides, newest first, by organisation and kind — the
    /// cooperation follow-up.
    async fn deviations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which ones.")] filter: Option<DeviationFilterInput>,
        #[graphql(desc = "How many (1–100).")] first: i32,
        #[graphql(desc = "Only those after this cursor.")] after: Option<String>,
    ) -> Result<DeviationConnection> {
        let principal = ctx.viewer().principal()?;
        let filter = filter.unwrap_or_default();
        let service_filter = service::DeviationFilter {
            organisation_id: filter
                .organisation_id
                .as_ref()
                .map(|id| {
                    GlobalId::expect(id, NodeKind::Organisation, &["filter", "organisationId"])
                })
                .transpose()?,
            kind: filter.kind.map(Into::into),
            from: filter.from,
            to: filter.to,
        };
        let after = after
            .as_deref()
            .map(pagination::decode_cursor)
            .transpose()?;
        let (rows, limit) =
            service::deviations(&ctx.state().db, principal, &service_filter, first, after).await?;
        Ok(DeviationConnection::new(pagination::page(
            rows,
            limit,
            |row| row.id,
            Deviation,
        )))
    }

    /// The viewer's own commitments (busy time they entered).
    async fn my_commitments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (1 to 500; 500 when left out).")] first: Option<i32>,
    ) -> Result<Vec<Commitment>> {
        let limit = list_size(first, MAX_LIST_SIZE)?;
        let principal = ctx.viewer().principal()?;
        Ok(service::my_commitments(&ctx.state().db, principal)
            .await?
            .into_iter()
            .take(limit)
            .map(Commitment)
            .collect())
    }
}

/// Scheduling mutations.
#[derive(Default)]
pub struct SchedulingMutation;

#[Object]
impl SchedulingMutation {
    /// Books an appointment (staff on the case). A time with clashes is
    /// refused (`CLASH`, with the conflicts) unless `overrideReason` is given;
    /// two bookings racing for the same people cannot both succeed.
    async fn schedule_appointment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The appointment.")] input: ScheduleAppointmentInput,
    ) -> Result<AppointmentPayload> {
        let principal = ctx.viewer().principal()?;
        let invitees = participants(&input.participants)?;
        let proposal = Proposal {
            case_id: GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            participants: invitees.0,
            organisations: invitees.1,
            exclude: None,
            kind: Some(input.kind.into()),
        };
        let booking = Booking {
            kind: input.kind.into(),
            title: input.title,
            location_kind: input.location.kind.into(),
            location: input.location.text,
            override_reason: input.override_reason,
            propose: input.propose,
        };
        let outcome = service::schedule(
            &ctx.state().db,
            &ctx.state().hub,
            principal,
            &ctx.request_meta(),
            &proposal,
            booking,
        )
        .await?;
        booked_payload(ctx, outcome).await
    }

    /// Moves an appointment (staff on the case) to a new time or to a
    /// participant's counter-proposal: everyone is checked again (`CLASH`
    /// unless overridden with a reason) and asked again.
    async fn reschedule_appointment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The appointment and its new time.")] input: RescheduleAppointmentInput,
    ) -> Result<AppointmentPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(
            &input.appointment_id,
            NodeKind::Appointment,
            &["input", "appointmentId"],
        )?;
        let new_time = match (input.starts_at, input.ends_at, &input.counter_proposal_of) {
            (Some(start), Some(end), None) => Some(service::NewTime::At(start, end)),
            (None, None, Some(user)) => Some(service::NewTime::CounterProposalOf(
                GlobalId::expect(user, NodeKind::User, &["input", "counterProposalOf"])?,
            )),
            // Refused after the authorization check, in the service.
            _ => None,
        };
        let outcome = service::reschedule(
            &ctx.state().db,
            &ctx.state().hub,
            principal,
            &ctx.request_meta(),
            id,
            new_time,
            input.override_reason,
        )
        .await?;
        booked_payload(ctx, outcome).await
    }

    /// Records attendance after the end (staff on the case): the appointment
    /// is fulfilled, and each `NO_SHOW` becomes a deviation.
    async fn record_attendance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The appointment and who came.")] input: RecordAttendanceInput,
    ) -> Result<AppointmentPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(
            &input.appointment_id,
            NodeKind::Appointment,
            &["input", "appointmentId"],
        )?;
        let mut entries = Vec::with_capacity(input.attendance.len());
        for entry in &input.attendance {
            entries.push((
                GlobalId::expect(&entry.user_id, NodeKind::User, &["input", "attendance"])?,
                entry.attendance.into(),
            ));
        }
        let outcome = service::record_attendance(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            id,
            entries,
        )
        .await?;
        answered_payload(ctx, outcome).await
    }

    /// Answers an invitation: accept, tentative, or decline with a reason
    /// (and perhaps another time). A decline later than the notice period
    /// (24 hours) before the start is marked late.
    async fn respond_to_appointment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The answer.")] input: RespondToAppointmentInput,
    ) -> Result<AppointmentPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(
            &input.appointment_id,
            NodeKind::Appointment,
            &["input", "appointmentId"],
        )?;
        let counter = match (input.proposed_starts_at, input.proposed_ends_at) {
            (Some(start), Some(end)) => Some((start, end)),
            (None, None) => None,
            _ => {
                return Ok(AppointmentPayload {
                    appointment: None,
                    conflicts: Vec::new(),
                    user_errors: vec![UserError::on_field(
                        UserErrorCode::ExactlyOneRequired,
                        "proposedEndsAt",
                        "Give both the start and the end of the other time.",
                    )],
                });
            }
        };
        let answer = Answer {
            response: match input.reply {
                Reply::Accept => entity::appointment_participant::Response::Accepted,
                Reply::Tentative => entity::appointment_participant::Response::Tentative,
                Reply::Decline => entity::appointment_participant::Response::Declined,
            },
            reason: input.reason,
            counter,
        };
        let outcome = service::respond(
            &ctx.state().db,
            &ctx.state().hub,
            principal,
            &ctx.request_meta(),
            id,
            answer,
        )
        .await?;
        answered_payload(ctx, outcome).await
    }

    /// Cancels an appointment (staff on the case), with a reason.
    async fn cancel_appointment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The appointment and why.")] input: CancelAppointmentInput,
    ) -> Result<AppointmentPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(
            &input.appointment_id,
            NodeKind::Appointment,
            &["input", "appointmentId"],
        )?;
        let outcome = service::cancel(
            &ctx.state().db,
            &ctx.state().hub,
            principal,
            &ctx.request_meta(),
            id,
            &input.reason,
        )
        .await?;
        answered_payload(ctx, outcome).await
    }

    /// Enters busy time for the viewer (one-off or weekly): it counts in every
    /// clash check, and others see only that the viewer is busy.
    async fn create_commitment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The commitment.")] input: CreateCommitmentInput,
    ) -> Result<CommitmentPayload> {
        let principal = ctx.viewer().principal()?;
        let new = NewCommitment {
            title: input.title,
            category: input.category,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            weekdays: input
                .weekdays
                .unwrap_or_default()
                .into_iter()
                .map(Weekday::from)
                .collect(),
            repeat_until: input.repeat_until.map(|d| d.0),
            except_dates: input
                .except_dates
                .unwrap_or_default()
                .into_iter()
                .map(|d| d.0)
                .collect(),
            time_zone: input.time_zone,
        };
        Ok(
            match service::create_commitment(&ctx.state().db, principal, new).await? {
                Ok(model) => CommitmentPayload {
                    commitment: Some(Commitment(model)),
                    user_errors: Vec::new(),
                },
                Err(problem) => CommitmentPayload {
                    commitment: None,
                    user_errors: vec![problem],
                },
            },
        )
    }

    /// Removes one of the viewer's commitments.
    async fn delete_commitment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The commitment.")] input: DeleteCommitmentInput,
    ) -> Result<CommitmentPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(
            &input.commitment_id,
            NodeKind::Commitment,
            &["input", "commitmentId"],
        )?;
        let model = service::delete_commitment(&ctx.state().db, principal, id).await?;
        Ok(CommitmentPayload {
            commitment: Some(Commitment(model)),
            user_errors: Vec::new(),
        })
    }
}
