//! Scheduling logic: commitments, busy time, clash checks and bookings.
//! Bookings lock their participants' `schedule_lock` rows (in id order)
//! before checking for clashes, so two bookings racing for the same people
//! at the same time cannot both succeed.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use entity::{
    appointment::{self, AppointmentKind, AppointmentStatus, LocationKind},
    appointment_participant::{self, Response},
    calendar_feed, commitment,
    deviation::{self, DeviationKind},
    external_busy, user_account,
    user_event::UserEventKind,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
    TransactionTrait,
};
use uuid::Uuid;

use super::{
    routine::{self, RuleQuery},
    timeline::{BlockReason, Interval, WeeklyRule},
};
use crate::{
    auth::{
        Principal,
        case_policy::{Category, manages_goals},
    },
    case::service::{CaseView, ReadAudit, case},
    error::{AppError, AppResult},
    events::{
        self,
        hub::Hub,
        service::{NewEvent, Notify},
    },
    graphql::{RequestMeta, UserError, UserErrorCode},
};

/// Longest appointment or commitment.
pub const MAX_DURATION: Duration = Duration::hours(24);
/// How long before the start a decline still counts as in time.
pub const NOTICE: Duration = Duration::hours(24);
const MAX_TITLE_CHARS: usize = 200;
const MAX_TEXT_CHARS: usize = 2000;

/// Why a time is not free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictReason {
    Appointment,
    Commitment,
    ExternalCalendar,
    /// A routine or closed day (see [`BlockReason`]).
    Rule(BlockReason),
}

/// Busy time of one person that clashes with a proposed time.
#[derive(Debug, Clone)]
pub struct Conflict {
    /// Whose time it is; `None` for a rule about the meeting as a whole
    /// (notice, meeting days, daily cap, closed day) or an organisation's.
    pub user_id: Option<Uuid>,
    /// The organisation taking part without a named person whose time it is.
    pub organisation_id: Option<Uuid>,
    pub interval: Interval,
    pub reason: ConflictReason,
    /// What it is; only for what the viewer may see (their own commitments,
    /// appointments of cases they are part of, the rules).
    pub detail: Option<String>,
}

/// One busy interval of a person (or of an organisation taking part without
/// a named person), with what the viewer may know about it.
struct Busy {
    /// The user's id, or the organisation's when `organisation` is set.
    user_id: Uuid,
    organisation: bool,
    interval: Interval,
    reason: ConflictReason,
    /// The appointment's case, or the commitment's owner.
    case_id: Option<Uuid>,
    label: String,
}

/// Parses `MON,TUE,…`.
pub fn parse_weekdays(stored: &str) -> Vec<Weekday> {
    stored
        .split(',')
        .filter_map(|d| match d.trim() {
            "MON" => Some(Weekday::Mon),
            "TUE" => Some(Weekday::Tue),
            "WED" => Some(Weekday::Wed),
            "THU" => Some(Weekday::Thu),
            "FRI" => Some(Weekday::Fri),
            "SAT" => Some(Weekday::Sat),
            "SUN" => Some(Weekday::Sun),
            _ => None,
        })
        .collect()
}

/// Stores weekdays as `MON,TUE,…`.
pub fn weekdays_to_stored(days: &[Weekday]) -> String {
    days.iter()
        .map(|d| d.to_string().to_uppercase())
        .collect::<Vec<_>>()
        .join(",")
}

/// The occurrences of a commitment within `window`.
pub fn commitment_occurrences(row: &commitment::Model, window: Interval) -> Vec<Interval> {
    let first = Interval {
        start: row.starts_at,
        end: row.ends_at,
    };
    match row.weekdays.as_deref() {
        None => {
            if first.overlaps(&window) {
                vec![first]
            } else {
                Vec::new()
            }
        }
        Some(days) => WeeklyRule {
            first_start: row.starts_at,
            duration: row.ends_at - row.starts_at,
            weekdays: parse_weekdays(days),
            until: row.repeat_until,
            except: row
                .except_dates
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter_map(|d| d.trim().parse::<NaiveDate>().ok())
                .collect(),
            zone: row.time_zone.parse::<Tz>().unwrap_or(chrono_tz::UTC),
        }
        .occurrences(window),
    }
}

/// Who a meeting is for: people, and organisations taking part without a
/// named person yet.
#[derive(Debug, Clone, Copy)]
pub struct People<'a> {
    pub users: &'a [Uuid],
    pub organisations: &'a [Uuid],
    /// The users' accounts (for their organisations), loaded once.
    pub accounts: &'a [user_account::Model],
}

/// The accounts of `users` in the case's tenant (one statement).
async fn accounts_of<C: ConnectionTrait>(
    db: &C,
    view: &CaseView,
    users: &[Uuid],
) -> AppResult<Vec<user_account::Model>> {
    Ok(user_account::Entity::find()
        .filter(user_account::Column::Id.is_in(users.iter().copied()))
        .filter(user_account::Column::TenantId.eq(view.model.tenant_id))
        .all(db)
        .await?)
}

/// Everyone's busy time in `window`: their appointments (not cancelled, not
/// declined; `exclude` left out, for a reschedule), their commitments and
/// their external calendars; an organisation's appointments and calendars.
async fn busy_of<C: ConnectionTrait>(
    db: &C,
    people: People<'_>,
    window: Interval,
    exclude: Option<Uuid>,
) -> AppResult<Vec<Busy>> {
    let users = people.users;
    let mut busy = Vec::new();
    // One statement: the participations of these people and organisations in
    // appointments that overlap the window (not declined, not cancelled).
    // Only the columns needed, read by position: a busy person has hundreds
    // of rows here and naming every column of both tables per row showed up
    // as the largest cost in profiles.
    // (user, organisation, appointment, case, title, start, end)
    type Taking = (
        Option<Uuid>,
        Option<Uuid>,
        Uuid,
        Uuid,
        String,
        DateTime<Utc>,
        DateTime<Utc>,
    );
    let taking_part: Vec<Taking> = appointment_participant::Entity::find()
        .select_only()
        .column(appointment_participant::Column::UserId)
        .column(appointment_participant::Column::OrganisationId)
        .column(appointment::Column::Id)
        .column(appointment::Column::CaseId)
        .column(appointment::Column::Title)
        .column(appointment::Column::StartsAt)
        .column(appointment::Column::EndsAt)
        .inner_join(appointment::Entity)
        .filter(if people.organisations.is_empty() {
            Condition::all()
                .add(appointment_participant::Column::UserId.is_in(users.iter().copied()))
        } else {
            Condition::any()
                .add(appointment_participant::Column::UserId.is_in(users.iter().copied()))
                .add(
                    appointment_participant::Column::OrganisationId
                        .is_in(people.organisations.iter().copied()),
                )
        })
        // The participant's copy of the time: one index range per person
        // (an appointment lasts at most MAX_DURATION).
        .filter(appointment_participant::Column::StartsAt.lt(window.end))
        .filter(appointment_participant::Column::StartsAt.gt(window.start - MAX_DURATION))
        .filter(appointment_participant::Column::EndsAt.gt(window.start))
        .filter(appointment_participant::Column::Response.ne(Response::Declined))
        .filter(
            appointment::Column::Status
                .is_in([AppointmentStatus::Proposed, AppointmentStatus::Booked]),
        )
        .into_tuple()
        .all(db)
        .await?;
    for (user, organisation, id, case_id, title, start, end) in taking_part {
        let owner = match (user, organisation) {
            (Some(user), _) => Some((user, false)),
            (None, Some(org)) => Some((org, true)),
            (None, None) => None,
        };
        let Some((user_id, organisation)) = owner else {
            continue;
        };
        if Some(id) == exclude {
            continue;
        }
        busy.push(Busy {
            user_id,
            organisation,
            interval: Interval { start, end },
            reason: ConflictReason::Appointment,
            case_id: Some(case_id),
            label: title,
        });
    }
    let commitments = commitment::Entity::find()
        .filter(commitment::Column::OwnerId.is_in(users.iter().copied()))
        .filter(commitment::Column::StartsAt.lt(window.end))
        .all(db)
        .await?;
    for row in &commitments {
        for interval in commitment_occurrences(row, window) {
            busy.push(Busy {
                user_id: row.owner_id,
                organisation: false,
                interval,
                reason: ConflictReason::Commitment,
                case_id: None,
                label: match &row.category {
                    Some(category) => format!("{} ({category})", row.title),
                    None => row.title.clone(),
                },
            });
        }
    }
    busy.extend(external_busy_of(db, people, window).await?);
    Ok(busy)
}

/// Busy time from external calendar feeds: a person's own feeds and their
/// organisation's (three statements, whatever the number of people).
async fn external_busy_of<C: ConnectionTrait>(
    db: &C,
    people: People<'_>,
    window: Interval,
) -> AppResult<Vec<Busy>> {
    let users = people.users;
    let organisation_of: HashMap<Uuid, Uuid> = people
        .accounts
        .iter()
        .filter_map(|u| Some((u.id, u.organisation_id?)))
        .collect();
    // One statement: the feeds' busy blocks in the window, with their owner.
    type Block = (
        Uuid,
        Option<Uuid>,
        Option<Uuid>,
        String,
        DateTime<Utc>,
        DateTime<Utc>,
    );
    let blocks: Vec<Block> = external_busy::Entity::find()
        .select_only()
        .column(external_busy::Column::FeedId)
        .column(calendar_feed::Column::UserId)
        .column(calendar_feed::Column::OrganisationId)
        .column(calendar_feed::Column::Name)
        .column(external_busy::Column::StartsAt)
        .column(external_busy::Column::EndsAt)
        .inner_join(calendar_feed::Entity)
        .filter(
            Condition::any()
                .add(calendar_feed::Column::UserId.is_in(users.iter().copied()))
                .add(
                    calendar_feed::Column::OrganisationId.is_in(
                        organisation_of
                            .values()
                            .chain(people.organisations)
                            .copied(),
                    ),
                ),
        )
        .filter(external_busy::Column::StartsAt.lt(window.end))
        .filter(external_busy::Column::EndsAt.gt(window.start))
        .into_tuple()
        .all(db)
        .await?;
    let mut busy = Vec::new();
    for (_, feed_user, feed_organisation, name, start, end) in blocks {
        let owners: Vec<(Uuid, bool)> = match (feed_user, feed_organisation) {
            (Some(user), _) => vec![(user, false)],
            (None, Some(organisation)) => users
                .iter()
                .filter(|u| organisation_of.get(u) == Some(&organisation))
                .map(|u| (*u, false))
                .chain(
                    people
                        .organisations
                        .contains(&organisation)
                        .then_some((organisation, true)),
                )
                .collect(),
            (None, None) => Vec::new(),
        };
        for (owner, organisation) in owners {
            busy.push(Busy {
                user_id: owner,
                organisation,
                interval: Interval { start, end },
                reason: ConflictReason::ExternalCalendar,
                case_id: None,
                label: name.clone(),
            });
        }
    }
    Ok(busy)
}

/// Who may be invited to a case's meetings.
struct Invitable {
    /// The family members with a login, the staff on the case, and
    /// professionals with a live `APPOINTMENTS` consent (named, or the users of
    /// the consenting organisation).
    users: HashSet<Uuid>,
    /// Organisations with a live `APPOINTMENTS` consent, invited before a
    /// person is named.
    organisations: HashSet<Uuid>,
}

async fn invitable(db: &DatabaseConnection, view: &CaseView) -> AppResult<Invitable> {
    let mut users = HashSet::new();
    let Some(facts) = view.bundle.facts.get(&view.model.id) else {
        return Ok(Invitable {
            users,
            organisations: HashSet::new(),
        });
    };
    users.insert(facts.primary_caseworker_id);
    users.extend(facts.partner_caseworker_id);
    users.extend(facts.therapist_ids.iter().copied());
    users.extend(facts.team_lead_id);
    users.extend(facts.members.iter().map(|m| m.user_id));
    let now = Utc::now();
    let live: Vec<_> = facts
        .consents
        .iter()
        .filter(|c| c.live_at(now) && c.categories.contains(Category::Appointments))
        .collect();
    users.extend(live.iter().filter_map(|c| c.user_id));
    let organisations: HashSet<Uuid> = live.iter().map(|c| c.organisation_id).collect();
    let whole: Vec<Uuid> = live
        .iter()
        .filter(|c| c.user_id.is_none())
        .map(|c| c.organisation_id)
        .collect();
    if !whole.is_empty() {
        users.extend(
            user_account::Entity::find()
                .filter(user_account::Column::OrganisationId.is_in(whole))
                .filter(user_account::Column::TenantId.eq(view.model.tenant_id))
                .all(db)
                .await?
                .into_iter()
                .map(|u| u.id),
        );
    }
    Ok(Invitable {
        users,
        organisations,
    })
}

/// A proposed time and who must come.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub case_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// (user, required)
    pub participants: Vec<(Uuid, bool)>,
    /// (organisation without a named person yet, required)
    pub organisations: Vec<(Uuid, bool)>,
    /// An appointment being moved: its own time does not clash.
    pub exclude: Option<Uuid>,
    /// The kind of meeting (for the weekdays it may be held on).
    pub kind: Option<AppointmentKind>,
}

/// `INVALID_VALUE` on `endsAt` unless the span ends after it starts and
/// lasts at most 24 hours (longer busy time repeats weekly instead).
fn check_span(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<UserError> {
    if end <= start {
        return Some(UserError::on_field(
            UserErrorCode::InvalidValue,
            "endsAt",
            "The end must be after the start.",
        ));
    }
    (end - start > MAX_DURATION).then(|| {
        UserError::on_field(
            UserErrorCode::InvalidValue,
            "endsAt",
            "It can last at most 24 hours (repeat it weekly for longer).",
        )
    })
}

/// Checks a proposal's input: a time in the future, longer than nothing and
/// at most 24 hours, and participants of the case. Returns the case.
async fn validate(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    read_audit: &ReadAudit,
    proposal: &Proposal,
) -> AppResult<Result<CaseView, UserError>> {
    let view = case(db, principal, meta, read_audit, proposal.case_id).await?;
    if !manages_goals(view.access.relation) {
        return Err(AppError::Forbidden);
    }
    validate_on(db, view, proposal).await
}

/// [`validate`] once the case is loaded and the viewer may plan on it.
async fn validate_on(
    db: &DatabaseConnection,
    view: CaseView,
    proposal: &Proposal,
) -> AppResult<Result<CaseView, UserError>> {
    if let Some(problem) = check_span(proposal.starts_at, proposal.ends_at) {
        return Ok(Err(problem));
    }
    if proposal.starts_at < Utc::now() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "startsAt",
            "Choose a time in the future.",
        )));
    }
    if proposal.participants.is_empty() && proposal.organisations.is_empty() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::Required,
            "participants",
            "Invite at least one participant.",
        )));
    }
    let allowed = invitable(db, &view).await?;
    if proposal
        .participants
        .iter()
        .any(|(user, _)| !allowed.users.contains(user))
        || proposal
            .organisations
            .iter()
            .any(|(org, _)| !allowed.organisations.contains(org))
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "participants",
            "Invite only people who take part in this case.",
        )));
    }
    Ok(Ok(view))
}

/// The routines' blocks for a meeting, given the participants' busy time
/// (for the travel buffer around their other meetings).
async fn rule_blocks<C: ConnectionTrait>(
    db: &C,
    query: &RuleQuery<'_>,
    busy: &[Busy],
) -> AppResult<Vec<routine::RuleBlock>> {
    let rules = routine::load(db, query).await?;
    let appointments: Vec<(Uuid, Interval)> = busy
        .iter()
        .filter(|b| b.reason == ConflictReason::Appointment)
        .map(|b| (b.user_id, b.interval))
        .collect();
    Ok(routine::blocks(&rules, query.window, &appointments))
}

/// Everyone's busy time and every rule's block overlapping `window`,
/// labelled for the viewer (details only where they may see them), by start.
async fn busy_in<C: ConnectionTrait>(
    db: &C,
    principal: &Principal,
    view: &CaseView,
    people: People<'_>,
    window: Interval,
    kind: Option<AppointmentKind>,
    exclude: Option<Uuid>,
) -> AppResult<Vec<Conflict>> {
    // Busy time around the window too, for the travel buffer.
    let around = Interval {
        start: window.start - Duration::hours(24),
        end: window.end + Duration::hours(24),
    };
    let busy = busy_of(db, people, around, exclude).await?;
    let query = RuleQuery {
        tenant_id: view.model.tenant_id,
        zone: view.zone,
        organiser_organisation: principal.organisation_id,
        accounts: people.accounts,
        case_id: view.model.id,
        kind,
        window,
        exclude,
    };
    let rules = rule_blocks(db, &query, &busy).await?;
    let mut conflicts: Vec<Conflict> = busy
        .into_iter()
        .filter(|b| b.interval.overlaps(&window))
        .map(|b| {
            let visible = match b.reason {
                ConflictReason::Commitment | ConflictReason::ExternalCalendar => {
                    b.user_id == principal.user_id
                }
                ConflictReason::Appointment => b.case_id == Some(view.model.id),
                ConflictReason::Rule(_) => true,
            };
            Conflict {
                user_id: (!b.organisation).then_some(b.user_id),
                organisation_id: b.organisation.then_some(b.user_id),
                interval: b.interval,
                reason: b.reason,
                detail: visible.then_some(b.label),
            }
        })
        .collect();
    conflicts.extend(
        rules
            .into_iter()
            .filter(|r| r.interval.overlaps(&window))
            .map(|r| Conflict {
                user_id: r.user_id,
                organisation_id: None,
                interval: r.interval,
                reason: ConflictReason::Rule(r.reason),
                detail: Some(r.detail),
            }),
    );
    conflicts.sort_by_key(|c| (c.interval.start, c.user_id, c.organisation_id));
    Ok(conflicts)
}

/// The clashes of a proposal, labelled for the viewer.
async fn conflicts_of<C: ConnectionTrait>(
    db: &C,
    principal: &Principal,
    view: &CaseView,
    proposal: &Proposal,
) -> AppResult<Vec<Conflict>> {
    let users: Vec<Uuid> = proposal.participants.iter().map(|(u, _)| *u).collect();
    let organisations: Vec<Uuid> = proposal.organisations.iter().map(|(o, _)| *o).collect();
    let proposed = Interval {
        start: proposal.starts_at,
        end: proposal.ends_at,
    };
    let accounts = accounts_of(db, view, &users).await?;
    busy_in(
        db,
        principal,
        view,
        People {
            users: &users,
            organisations: &organisations,
            accounts: &accounts,
        },
        proposed,
        proposal.kind,
        proposal.exclude,
    )
    .await
}

/// Longest window of the merged calendar view.
pub const MAX_CALENDAR_DAYS: i64 = 31;

/// The participants' busy time in a window, for planning (staff on the
/// case): each period with whose and why, details only where the viewer may
/// see them, and the union of everything.
pub async fn calendar(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    read_audit: &ReadAudit,
    case_id: Uuid,
    users: &[Uuid],
    window: Interval,
) -> AppResult<Result<(Vec<Conflict>, Vec<Interval>), UserError>> {
    let view = case(db, principal, meta, read_audit, case_id).await?;
    if !manages_goals(view.access.relation) {
        return Err(AppError::Forbidden);
    }
    if window.end <= window.start || window.end - window.start > Duration::days(MAX_CALENDAR_DAYS) {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "to",
            "Show at most 31 days, ending after the start.",
        )));
    }
    let allowed = invitable(db, &view).await?;
    if users.is_empty() || users.iter().any(|u| !allowed.users.contains(u)) {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "participants",
            "Choose one or more people who take part in this case.",
        )));
    }
    let accounts = accounts_of(db, &view, users).await?;
    let people = People {
        users,
        organisations: &[],
        accounts: &accounts,
    };
    let busy = busy_in(db, principal, &view, people, window, None, None).await?;
    let merged = super::timeline::merge(
        busy.iter()
            .filter_map(|b| b.interval.intersection(&window))
            .collect(),
    );
    Ok(Ok((busy, merged)))
}

/// Every clash of a proposed time: which participant, when, and why.
pub async fn check_availability(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    read_audit: &ReadAudit,
    proposal: &Proposal,
) -> AppResult<Result<Vec<Conflict>, UserError>> {
    let view = match validate(db, principal, meta, read_audit, proposal).await? {
        Ok(view) => view,
        Err(problem) => return Ok(Err(problem)),
    };
    Ok(Ok(conflicts_of(db, principal, &view, proposal).await?))
}

/// A request for suggested times.
#[derive(Debug, Clone)]
pub struct SlotSearch {
    pub case_id: Uuid,
    /// (user, required)
    pub participants: Vec<(Uuid, bool)>,
    pub window: Interval,
    pub duration: Duration,
    pub count: usize,
    pub preferred: Vec<Interval>,
    /// The kind of meeting (for the weekdays it may be held on).
    pub kind: Option<AppointmentKind>,
    /// (organisation without a named person yet, required)
    pub organisations: Vec<(Uuid, bool)>,
}

impl SlotSearch {
    /// Everyone, people first: a slot's optional participants and an
    /// obstacle's participant are indices into this list.
    pub fn everyone(&self) -> Vec<(Uuid, bool)> {
        self.participants
            .iter()
            .chain(&self.organisations)
            .copied()
            .collect()
    }
}

/// Why no time fits: a required participant's busy time or a rule, the one
/// that rules out the largest share of the window first.
#[derive(Debug, Clone)]
pub struct Obstacle {
    pub user_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub reason: Option<BlockReason>,
    pub share: f64,
}

/// Ranked free times, or why there are none.
pub enum Suggestions {
    Slots(Vec<super::timeline::Slot>),
    NoneFit(Vec<Obstacle>),
    Invalid(UserError),
}

/// Suggests times when every required participant is free (staff on the
/// case), preferring times when more optional participants can come and
/// that fall in the preferred periods. Only times after now count.
pub async fn suggest_slots(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    read_audit: &ReadAudit,
    search: &SlotSearch,
) -> AppResult<Suggestions> {
    use super::timeline::{Candidate, SlotRequest, suggest};
    // Authorise before looking at the input.
    let view = case(db, principal, meta, read_audit, search.case_id).await?;
    if !manages_goals(view.access.relation) {
        return Err(AppError::Forbidden);
    }
    let now = Utc::now();
    if search.window.end <= now {
        return Ok(Suggestions::Invalid(UserError::on_field(
            UserErrorCode::InvalidValue,
            "to",
            "Search a window that is not over yet.",
        )));
    }
    if search.window.end - search.window.start > Duration::days(92) {
        return Ok(Suggestions::Invalid(UserError::on_field(
            UserErrorCode::InvalidValue,
            "to",
            "Search at most three months at a time.",
        )));
    }
    if search.duration <= Duration::zero() || search.duration > MAX_DURATION {
        return Ok(Suggestions::Invalid(UserError::on_field(
            UserErrorCode::InvalidValue,
            "durationMinutes",
            "A meeting lasts more than 0 minutes and at most 24 hours.",
        )));
    }
    if search.count == 0 || search.count > 20 {
        return Ok(Suggestions::Invalid(UserError::on_field(
            UserErrorCode::InvalidValue,
            "count",
            "Ask for 1 to 20 suggestions.",
        )));
    }
    // Validated as a proposal of the first possible time.
    let window = Interval {
        start: search.window.start.max(now),
        end: search.window.end,
    };
    let probe = Proposal {
        case_id: search.case_id,
        starts_at: window.start + Duration::minutes(1),
        ends_at: window.start + Duration::minutes(1) + search.duration,
        participants: search.participants.clone(),
        organisations: search.organisations.clone(),
        exclude: None,
        kind: search.kind,
    };
    let view = match validate_on(db, view, &probe).await? {
        Ok(view) => view,
        Err(problem) => return Ok(Suggestions::Invalid(problem)),
    };
    let users: Vec<Uuid> = search.participants.iter().map(|(u, _)| *u).collect();
    let organisations: Vec<Uuid> = search.organisations.iter().map(|(o, _)| *o).collect();
    let around = Interval {
        start: window.start - Duration::hours(24),
        end: window.end + Duration::hours(24),
    };
    let accounts = accounts_of(db, &view, &users).await?;
    let people = People {
        users: &users,
        organisations: &organisations,
        accounts: &accounts,
    };
    let entries = busy_of(db, people, around, None).await?;
    let query = RuleQuery {
        tenant_id: view.model.tenant_id,
        zone: view.zone,
        organiser_organisation: principal.organisation_id,
        accounts: &accounts,
        case_id: view.model.id,
        kind: search.kind,
        window,
        exclude: None,
    };
    let rules = rule_blocks(db, &query, &entries).await?;
    let mut busy: HashMap<Uuid, Vec<Interval>> = HashMap::new();
    for entry in entries {
        busy.entry(entry.user_id).or_default().push(entry.interval);
    }
    // A rule about the meeting or a required person rules a time out; one
    // about an optional person only makes them busy then.
    let everyone = search.everyone();
    let optional: HashSet<Uuid> = everyone
        .iter()
        .filter(|(_, required)| !required)
        .map(|(u, _)| *u)
        .collect();
    let mut blocked = Vec::new();
    for rule in rules {
        match rule.user_id {
            Some(user) if optional.contains(&user) => {
                busy.entry(user).or_default().push(rule.interval)
            }
            _ => blocked.push((rule.reason, rule.interval)),
        }
    }
    let candidates: Vec<Candidate> = everyone
        .iter()
        .enumerate()
        .map(|(n, (user, required))| Candidate {
            id: n as u64,
            required: *required,
            busy: busy.remove(user).unwrap_or_default(),
        })
        .collect();
    let request = SlotRequest {
        window,
        duration: search.duration,
        step: Duration::minutes(15),
        count: search.count,
        preferred: search.preferred.clone(),
        blocked,
    };
    Ok(match suggest(&candidates, &request) {
        Ok(slots) => Suggestions::Slots(slots),
        Err(reasons) => Suggestions::NoneFit(
            reasons
                .into_iter()
                .map(|r| Obstacle {
                    user_id: r
                        .participant
                        .and_then(|n| search.participants.get(n as usize))
                        .map(|(u, _)| *u),
                    organisation_id: r
                        .participant
                        .and_then(|n| (n as usize).checked_sub(search.participants.len()))
                        .and_then(|n| search.organisations.get(n))
                        .map(|(o, _)| *o),
                    reason: r.reason,
                    share: r.blocked_share,
                })
                .collect(),
        ),
    })
}

/// What to book besides the time.
#[derive(Debug, Clone)]
pub struct Booking {
    pub kind: AppointmentKind,
    pub title: String,
    pub location_kind: LocationKind,
    pub location: Option<String>,
    /// Book despite clashes (staff), with the reason recorded.
    pub override_reason: Option<String>,
    /// Only propose the time: `PROPOSED` until every required participant
    /// has accepted, then `BOOKED`.
    pub propose: bool,
}

/// The outcome of a booking attempt.
pub enum Booked {
    Done(appointment::Model),
    Clash(Vec<Conflict>),
    Invalid(UserError),
}

/// Locks the participants' schedule rows, in id order, in the transaction.
async fn lock_schedules<C: ConnectionTrait>(txn: &C, users: &[Uuid]) -> AppResult<()> {
    let mut users = users.to_vec();
    users.sort();
    users.dedup();
    let backend = txn.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "INSERT INTO schedule_lock (user_id, bookings) VALUES ($1, 1) \
             ON CONFLICT (user_id) DO UPDATE SET bookings = schedule_lock.bookings + 1"
        }
        _ => {
            "INSERT INTO schedule_lock (user_id, bookings) VALUES (?, 1) \
             ON CONFLICT (user_id) DO UPDATE SET bookings = schedule_lock.bookings + 1"
        }
    };
    for user in users {
        txn.execute_raw(Statement::from_sql_and_values(backend, sql, [user.into()]))
            .await?;
    }
    Ok(())
}

/// Books an appointment: refused with the clashes unless a staff member
/// overrides them with a written reason (recorded as a deviation).
pub async fn schedule(
    db: &DatabaseConnection,
    hub: &Hub,
    principal: &Principal,
    meta: &RequestMeta,
    proposal: &Proposal,
    booking: Booking,
) -> AppResult<Booked> {
    let view = match validate(db, principal, meta, &ReadAudit::default(), proposal).await? {
        Ok(view) => view,
        Err(problem) => return Ok(Booked::Invalid(problem)),
    };
    let title = booking.title.trim().to_owned();
    if let Some(problem) = UserError::check_text(
        "title",
        &title,
        MAX_TITLE_CHARS,
        "Give the appointment a title.",
    ) {
        return Ok(Booked::Invalid(problem));
    }
    let override_reason = booking
        .override_reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if override_reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_TEXT_CHARS)
    {
        return Ok(Booked::Invalid(UserError::on_field(
            UserErrorCode::TooLong,
            "overrideReason",
            "Use at most 2000 characters.",
        )));
    }
    let location = booking
        .location
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty());
    if booking.location_kind != LocationKind::FamilyHome && location.is_none() {
        return Ok(Booked::Invalid(UserError::on_field(
            UserErrorCode::Required,
            "location",
            "Give the address or the video link.",
        )));
    }
    let mut participants = proposal.participants.clone();
    if !participants.iter().any(|(u, _)| *u == principal.user_id) {
        participants.push((principal.user_id, true));
    }
    // Organisations' time is locked like a person's (ids never collide).
    let users: Vec<Uuid> = participants
        .iter()
        .chain(&proposal.organisations)
        .map(|(u, _)| *u)
        .collect();
    let now = Utc::now();
    let txn = db.begin().await?;
    lock_schedules(&txn, &users).await?;
    // Checked again under the locks: a booking that won the race is seen.
    let conflicts = conflicts_of(&txn, principal, &view, proposal).await?;
    if !conflicts.is_empty() && override_reason.is_none() {
        txn.rollback().await?;
        return Ok(Booked::Clash(conflicts));
    }
    let created = appointment::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(principal.tenant_id),
        case_id: Set(view.model.id),
        kind: Set(booking.kind),
        title: Set(title),
        starts_at: Set(proposal.starts_at),
        ends_at: Set(proposal.ends_at),
        location_kind: Set(booking.location_kind),
        location: Set(location),
        organiser_id: Set(principal.user_id),
        status: Set(if booking.propose {
            AppointmentStatus::Proposed
        } else {
            AppointmentStatus::Booked
        }),
        cancel_reason: Set(None),
        override_reason: Set(if conflicts.is_empty() {
            None
        } else {
            override_reason
        }),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        reminded_at: Set(None),
    }
    .insert(&txn)
    .await?;
    if !conflicts.is_empty() {
        record_deviation(
            &txn,
            principal,
            &created,
            DeviationKind::ClashOverride,
            principal.user_id,
            created.override_reason.clone(),
            now,
        )
        .await?;
    }
    // The organiser has accepted; organisations invited before a person is
    // named have nobody to answer yet.
    let rows = participants
        .iter()
        .map(|(user, required)| (Some(*user), None, *required))
        .chain(
            proposal
                .organisations
                .iter()
                .map(|(org, required)| (None, Some(*org), *required)),
        )
        .map(|(user_id, organisation_id, required)| {
            let organiser = user_id == Some(principal.user_id);
            appointment_participant::ActiveModel {
                id: Set(Uuid::now_v7()),
                appointment_id: Set(created.id),
                user_id: Set(user_id),
                organisation_id: Set(organisation_id),
                required: Set(required),
                response: Set(if organiser {
                    Response::Accepted
                } else {
                    Response::Pending
                }),
                response_reason: Set(None),
                responded_at: Set(organiser.then_some(now)),
                late_decline: Set(false),
                counter_starts_at: Set(None),
                counter_ends_at: Set(None),
                attendance: Set(None),
                starts_at: Set(Some(created.starts_at)),
                ends_at: Set(Some(created.ends_at)),
            }
        });
    appointment_participant::Entity::insert_many(rows)
        .exec(&txn)
        .await?;
    let invited = proposal
        .participants
        .iter()
        .filter(|(user, _)| *user != principal.user_id)
        .map(|(user, _)| {
            appointment_event(
                &created,
                principal,
                *user,
                UserEventKind::AppointmentInvited,
                Notify::RespectingQuietHours,
            )
        })
        .collect();
    events::service::commit_with_events(txn, hub, principal.tenant_id, invited, now).await?;
    Ok(Booked::Done(created))
}

/// A new time for an appointment: given, or a participant's counter-proposal.
#[derive(Debug, Clone, Copy)]
pub enum NewTime {
    At(DateTime<Utc>, DateTime<Utc>),
    CounterProposalOf(Uuid),
}

/// Moves an appointment (staff on the case): everyone is checked again
/// (refused with the clashes unless overridden with a reason) and asked
/// again — every answer but the mover's goes back to pending.
pub async fn reschedule(
    db: &DatabaseConnection,
    hub: &Hub,
    principal: &Principal,
    meta: &RequestMeta,
    appointment_id: Uuid,
    new_time: Option<NewTime>,
    override_reason: Option<String>,
) -> AppResult<Booked> {
    let (row, view) = appointment(db, principal, meta, appointment_id).await?;
    let Some(view) = view.filter(|v| manages_goals(v.access.relation)) else {
        return Err(AppError::Forbidden);
    };
    let Some(new_time) = new_time else {
        return Ok(Booked::Invalid(UserError::on_field(
            UserErrorCode::ExactlyOneRequired,
            "counterProposalOf",
            "Give a new start and end, or whose counter-proposal to take.",
        )));
    };
    if matches!(
        row.status,
        AppointmentStatus::Cancelled | AppointmentStatus::Fulfilled
    ) {
        return Ok(Booked::Invalid(UserError::on_field(
            UserErrorCode::InvalidValue,
            "appointmentId",
            "A cancelled or held appointment cannot move.",
        )));
    }
    let participants = participants_of(db, &[row.id])
        .await?
        .remove(&row.id)
        .unwrap_or_default();
    let (starts_at, ends_at) = match new_time {
        NewTime::At(start, end) => (start, end),
        NewTime::CounterProposalOf(user) => {
            match participants
                .iter()
                .find(|p| p.user_id == Some(user))
                .and_then(|p| p.counter_starts_at.zip(p.counter_ends_at))
            {
                Some(times) => times,
                None => {
                    return Ok(Booked::Invalid(UserError::on_field(
                        UserErrorCode::InvalidValue,
                        "counterProposalOf",
                        "This participant has not proposed another time.",
                    )));
                }
            }
        }
    };
    let proposal = Proposal {
        case_id: view.model.id,
        starts_at,
        ends_at,
        participants: participants
            .iter()
            .filter_map(|p| p.user_id.map(|u| (u, p.required)))
            .collect(),
        organisations: participants
            .iter()
            .filter(|p| p.user_id.is_none())
            .filter_map(|p| p.organisation_id.map(|o| (o, p.required)))
            .collect(),
        exclude: Some(row.id),
        kind: Some(row.kind),
    };
    if let Err(problem) = validate(db, principal, meta, &ReadAudit::default(), &proposal).await? {
        return Ok(Booked::Invalid(problem));
    }
    let override_reason = override_reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let users: Vec<Uuid> = proposal
        .participants
        .iter()
        .chain(&proposal.organisations)
        .map(|(u, _)| *u)
        .collect();
    let now = Utc::now();
    let txn = db.begin().await?;
    lock_schedules(&txn, &users).await?;
    let conflicts = conflicts_of(&txn, principal, &view, &proposal).await?;
    if !conflicts.is_empty() && override_reason.is_none() {
        txn.rollback().await?;
        return Ok(Booked::Clash(conflicts));
    }
    let mut active = row.clone().into_active_model();
    active.starts_at = Set(starts_at);
    // A moved appointment is reminded of again at its new time.
    active.reminded_at = Set(None);
    active.ends_at = Set(ends_at);
    if !conflicts.is_empty() {
        active.override_reason = Set(override_reason);
    }
    active.version = Set(row.version + 1);
    active.updated_at = Set(now);
    let moved = active.update(&txn).await?;
    if !conflicts.is_empty() {
        record_deviation(
            &txn,
            principal,
            &moved,
            DeviationKind::ClashOverride,
            principal.user_id,
            moved.override_reason.clone(),
            now,
        )
        .await?;
    }
    appointment_participant::Entity::update_many()
        .col_expr(
            appointment_participant::Column::StartsAt,
            sea_orm::sea_query::Expr::value(Some(moved.starts_at)),
        )
        .col_expr(
            appointment_participant::Column::EndsAt,
            sea_orm::sea_query::Expr::value(Some(moved.ends_at)),
        )
        .filter(appointment_participant::Column::AppointmentId.eq(row.id))
        .exec(&txn)
        .await?;
    appointment_participant::Entity::update_many()
        .col_expr(
            appointment_participant::Column::Response,
            sea_orm::sea_query::Expr::value(Response::Pending),
        )
        .col_expr(
            appointment_participant::Column::RespondedAt,
            sea_orm::sea_query::Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            appointment_participant::Column::CounterStartsAt,
            sea_orm::sea_query::Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            appointment_participant::Column::CounterEndsAt,
            sea_orm::sea_query::Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            appointment_participant::Column::LateDecline,
            sea_orm::sea_query::Expr::value(false),
        )
        .filter(appointment_participant::Column::AppointmentId.eq(row.id))
        .filter(appointment_participant::Column::UserId.ne(principal.user_id))
        .exec(&txn)
        .await?;
    let told = users
        .iter()
        .filter(|user| **user != principal.user_id)
        .map(|user| {
            appointment_event(
                &moved,
                principal,
                *user,
                UserEventKind::AppointmentChanged,
                Notify::RespectingQuietHours,
            )
        })
        .collect();
    events::service::commit_with_events(txn, hub, principal.tenant_id, told, now).await?;
    Ok(Booked::Done(moved))
}

/// Records a deviation in the caller's transaction, with the person's
/// organisation for statistics by agency.
#[allow(clippy::too_many_arguments)]
async fn record_deviation<C: ConnectionTrait>(
    txn: &C,
    principal: &Principal,
    appointment: &appointment::Model,
    kind: DeviationKind,
    user_id: Uuid,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let organisation_id = user_account::Entity::find_by_id(user_id)
        .one(txn)
        .await?
        .and_then(|u| u.organisation_id);
    deviation::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(appointment.tenant_id),
        case_id: Set(appointment.case_id),
        appointment_id: Set(appointment.id),
        kind: Set(kind),
        user_id: Set(Some(user_id)),
        organisation_id: Set(organisation_id),
        reason: Set(reason),
        recorded_by: Set(principal.user_id),
        created_at: Set(now),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// How a participant attended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attendance {
    Attended,
    AbsentWithNotice,
    NoShow,
}

impl Attendance {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Attendance::Attended => "ATTENDED",
            Attendance::AbsentWithNotice => "ABSENT_WITH_NOTICE",
            Attendance::NoShow => "NO_SHOW",
        }
    }
}

/// Records attendance after the end (staff on the case): the appointment is
/// then fulfilled, and every no-show is a deviation.
pub async fn record_attendance(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    appointment_id: Uuid,
    entries: Vec<(Uuid, Attendance)>,
) -> AppResult<Result<appointment::Model, UserError>> {
    let (row, view) = appointment(db, principal, meta, appointment_id).await?;
    if !view.is_some_and(|v| manages_goals(v.access.relation)) {
        return Err(AppError::Forbidden);
    }
    let now = Utc::now();
    if row.ends_at > now || row.status == AppointmentStatus::Cancelled {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "appointmentId",
            "Attendance is recorded after the appointment has ended (and not for a cancelled one).",
        )));
    }
    let participants = participants_of(db, &[row.id])
        .await?
        .remove(&row.id)
        .unwrap_or_default();
    if entries.is_empty()
        || entries
            .iter()
            .any(|(user, _)| !participants.iter().any(|p| p.user_id == Some(*user)))
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "attendance",
            "Record attendance for participants of this appointment.",
        )));
    }
    let txn = db.begin().await?;
    for (user, attendance) in &entries {
        appointment_participant::Entity::update_many()
            .col_expr(
                appointment_participant::Column::Attendance,
                sea_orm::sea_query::Expr::value(attendance.as_str()),
            )
            .filter(appointment_participant::Column::AppointmentId.eq(row.id))
            .filter(appointment_participant::Column::UserId.eq(*user))
            .exec(&txn)
            .await?;
        if *attendance == Attendance::NoShow {
            record_deviation(
                &txn,
                principal,
                &row,
                DeviationKind::NoShow,
                *user,
                None,
                now,
            )
            .await?;
        }
    }
    let mut active = row.clone().into_active_model();
    active.status = Set(AppointmentStatus::Fulfilled);
    active.version = Set(row.version + 1);
    active.updated_at = Set(now);
    let fulfilled = active.update(&txn).await?;
    txn.commit().await?;
    Ok(Ok(fulfilled))
}

/// Which deviations to list.
#[derive(Debug, Clone, Default)]
pub struct DeviationFilter {
    pub organisation_id: Option<Uuid>,
    pub kind: Option<DeviationKind>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// A page of the tenant's deviations, newest first (team leads): up to
/// `first + 1` rows after the `after` id (ids are time-ordered), and the page
/// size, for `pagination::page`.
pub async fn deviations(
    db: &DatabaseConnection,
    principal: &Principal,
    filter: &DeviationFilter,
    first: i32,
    after: Option<Uuid>,
) -> AppResult<(Vec<deviation::Model>, u64)> {
    use crate::auth::policy::{Action, Policy};
    Policy::ensure_allowed(principal, Action::ReadDeviations)?;
    let limit = crate::graphql::pagination::page_size(first)?;
    let mut query = deviation::Entity::find()
        .filter(deviation::Column::TenantId.eq(principal.tenant_id))
        .order_by_desc(deviation::Column::Id)
        .limit(limit + 1);
    if let Some(organisation) = filter.organisation_id {
        query = query.filter(deviation::Column::OrganisationId.eq(organisation));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(deviation::Column::Kind.eq(kind));
    }
    if let Some(from) = filter.from {
        query = query.filter(deviation::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(deviation::Column::CreatedAt.lt(to));
    }
    if let Some(after) = after {
        query = query.filter(deviation::Column::Id.lt(after));
    }
    Ok((query.all(db).await?, limit))
}

/// An event about an appointment for one user.
fn appointment_event(
    appointment: &appointment::Model,
    principal: &Principal,
    user: Uuid,
    kind: UserEventKind,
    notify: Notify,
) -> NewEvent {
    NewEvent {
        case_id: Some(appointment.case_id),
        subject_id: Some(appointment.id),
        actor_id: Some(principal.user_id),
        notify,
        ..NewEvent::new(user, kind)
    }
}

/// An appointment the viewer may see: a participant, or on a case whose
/// appointments the viewer sees.
pub async fn appointment(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    id: Uuid,
) -> AppResult<(appointment::Model, Option<CaseView>)> {
    let row = appointment::Entity::find_by_id(id)
        .filter(appointment::Column::TenantId.eq(principal.tenant_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("appointment"))?;
    let participant = appointment_participant::Entity::find()
        .filter(appointment_participant::Column::AppointmentId.eq(id))
        .filter(appointment_participant::Column::UserId.eq(principal.user_id))
        .one(db)
        .await?
        .is_some();
    let view = case(db, principal, meta, &ReadAudit::default(), row.case_id)
        .await
        .ok()
        .filter(|v| v.access.categories.contains(Category::Appointments));
    if view.is_none() && !participant {
        return Err(AppError::NotFound("appointment"));
    }
    Ok((row, view))
}

/// The participants of appointments, by appointment.
pub async fn participants_of(
    db: &DatabaseConnection,
    appointments: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<appointment_participant::Model>>> {
    let mut out: HashMap<Uuid, Vec<appointment_participant::Model>> = HashMap::new();
    for row in appointment_participant::Entity::find()
        .filter(appointment_participant::Column::AppointmentId.is_in(appointments.iter().copied()))
        .order_by_asc(appointment_participant::Column::Id)
        .all(db)
        .await?
    {
        out.entry(row.appointment_id).or_default().push(row);
    }
    Ok(out)
}

/// The answer to an invitation.
#[derive(Debug, Clone)]
pub struct Answer {
    pub response: Response,
    pub reason: Option<String>,
    pub counter: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// Answers an invitation (the viewer's own participation). A decline needs a
/// reason and may propose another time; one closer to the start than the
/// notice period is marked late.
pub async fn respond(
    db: &DatabaseConnection,
    hub: &Hub,
    principal: &Principal,
    meta: &RequestMeta,
    appointment_id: Uuid,
    answer: Answer,
) -> AppResult<Result<appointment::Model, UserError>> {
    let (row, _) = appointment(db, principal, meta, appointment_id).await?;
    let mine = appointment_participant::Entity::find()
        .filter(appointment_participant::Column::AppointmentId.eq(appointment_id))
        .filter(appointment_participant::Column::UserId.eq(principal.user_id))
        .one(db)
        .await?
        .ok_or(AppError::Forbidden)?;
    if matches!(
        row.status,
        AppointmentStatus::Cancelled | AppointmentStatus::Fulfilled
    ) || row.ends_at < Utc::now()
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "appointmentId",
            "This appointment is over or cancelled.",
        )));
    }
    let reason = answer
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if answer.response == Response::Pending {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "response",
            "Accept, decline or answer tentatively.",
        )));
    }
    if answer.response == Response::Declined && reason.is_none() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::Required,
            "reason",
            "Say why you cannot come, so the time can be offered to someone else.",
        )));
    }
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_TEXT_CHARS)
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::TooLong,
            "reason",
            "Use at most 2000 characters.",
        )));
    }
    if let Some((start, end)) = answer.counter {
        if answer.response != Response::Declined {
            return Ok(Err(UserError::on_field(
                UserErrorCode::InvalidValue,
                "proposedStartsAt",
                "Propose another time when declining.",
            )));
        }
        if end <= start || end - start > MAX_DURATION || start < Utc::now() {
            return Ok(Err(UserError::on_field(
                UserErrorCode::InvalidValue,
                "proposedStartsAt",
                "Propose a future time that ends after it starts and lasts at most 24 hours.",
            )));
        }
    }
    let now = Utc::now();
    let late = answer.response == Response::Declined && row.starts_at - now < NOTICE;
    let declined = answer.response == Response::Declined;
    let txn = db.begin().await?;
    // Lock the appointment, so that of two last acceptances arriving together
    // the second sees the first and books the proposed time.
    appointment::Entity::update_many()
        .col_expr(
            appointment::Column::Version,
            sea_orm::sea_query::Expr::col(appointment::Column::Version),
        )
        .filter(appointment::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    let mut active = mine.into_active_model();
    active.response = Set(answer.response);
    active.response_reason = Set(reason);
    active.responded_at = Set(Some(now));
    active.late_decline = Set(late);
    active.counter_starts_at = Set(answer.counter.map(|c| c.0));
    active.counter_ends_at = Set(answer.counter.map(|c| c.1));
    let answered = active.update(&txn).await?;
    if late {
        record_deviation(
            &txn,
            principal,
            &row,
            DeviationKind::LateDecline,
            principal.user_id,
            answered.response_reason,
            now,
        )
        .await?;
    }
    // A proposed time is booked once every required participant accepted:
    // everyone hears of it.
    let mut events = Vec::new();
    let mut row = row;
    if row.status == AppointmentStatus::Proposed && answer.response == Response::Accepted {
        let everyone = appointment_participant::Entity::find()
            .filter(appointment_participant::Column::AppointmentId.eq(row.id))
            .all(&txn)
            .await?;
        let all_accepted = everyone
            .iter()
            .filter(|p| p.required && p.user_id.is_some())
            .all(|p| p.response == Response::Accepted);
        if all_accepted {
            let mut booked = row.clone().into_active_model();
            booked.status = Set(AppointmentStatus::Booked);
            booked.version = Set(row.version + 1);
            booked.updated_at = Set(now);
            row = booked.update(&txn).await?;
            events.extend(
                everyone
                    .iter()
                    .filter_map(|p| p.user_id)
                    .filter(|u| *u != principal.user_id)
                    .map(|u| {
                        appointment_event(
                            &row,
                            principal,
                            u,
                            UserEventKind::AppointmentBooked,
                            Notify::RespectingQuietHours,
                        )
                    }),
            );
        }
    }
    // The organiser hears of every answer; a decline notifies them.
    if row.organiser_id != principal.user_id {
        let notify = if declined {
            Notify::RespectingQuietHours
        } else {
            Notify::No
        };
        events.push(appointment_event(
            &row,
            principal,
            row.organiser_id,
            UserEventKind::AppointmentAnswered,
            notify,
        ));
    }
    events::service::commit_with_events(txn, hub, principal.tenant_id, events, now).await?;
    Ok(Ok(row))
}

/// Cancels an appointment (staff on the case), with a reason.
pub async fn cancel(
    db: &DatabaseConnection,
    hub: &Hub,
    principal: &Principal,
    meta: &RequestMeta,
    appointment_id: Uuid,
    reason: &str,
) -> AppResult<Result<appointment::Model, UserError>> {
    let (row, view) = appointment(db, principal, meta, appointment_id).await?;
    if !view.is_some_and(|v| manages_goals(v.access.relation)) {
        return Err(AppError::Forbidden);
    }
    if let Some(problem) = UserError::check_text(
        "reason",
        reason,
        MAX_TEXT_CHARS,
        "Say why the appointment is cancelled.",
    ) {
        return Ok(Err(problem));
    }
    if row.status == AppointmentStatus::Cancelled || row.status == AppointmentStatus::Fulfilled {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "appointmentId",
            "This appointment is already cancelled or over.",
        )));
    }
    let now = Utc::now();
    let participants = participants_of(db, &[row.id])
        .await?
        .remove(&row.id)
        .unwrap_or_default();
    let txn = db.begin().await?;
    let mut active = row.into_active_model();
    active.status = Set(AppointmentStatus::Cancelled);
    active.cancel_reason = Set(Some(reason.trim().to_owned()));
    active.version = Set(active.version.as_ref() + 1);
    active.updated_at = Set(now);
    let cancelled = active.update(&txn).await?;
    let told = participants
        .iter()
        .filter_map(|p| p.user_id)
        .filter(|user| *user != principal.user_id)
        .map(|user| {
            appointment_event(
                &cancelled,
                principal,
                user,
                UserEventKind::AppointmentCancelled,
                Notify::RespectingQuietHours,
            )
        })
        .collect();
    events::service::commit_with_events(txn, hub, principal.tenant_id, told, now).await?;
    Ok(Ok(cancelled))
}

/// The viewer's own appointments between two times (as a participant), by start.
pub async fn my_appointments(
    db: &DatabaseConnection,
    principal: &Principal,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<appointment::Model>> {
    Ok(
        appointments_of_user(db, principal.tenant_id, principal.user_id, from, to)
            .await?
            .into_iter()
            .map(|(a, _)| a)
            .collect(),
    )
}

/// A user's appointments overlapping a range, with their own participation,
/// by start (one statement).
pub async fn appointments_of_user(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<(appointment::Model, appointment_participant::Model)>> {
    Ok(appointment_participant::Entity::find()
        .find_also_related(appointment::Entity)
        .filter(appointment_participant::Column::UserId.eq(user_id))
        .filter(appointment::Column::TenantId.eq(tenant_id))
        .filter(appointment::Column::StartsAt.lt(to))
        .filter(appointment::Column::EndsAt.gt(from))
        .order_by_asc(appointment::Column::StartsAt)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(p, a)| Some((a?, p)))
        .collect())
}

/// The appointments of a case between two times (staff and anyone who sees
/// the case's appointments), by start.
pub async fn appointments_of_case(
    db: &DatabaseConnection,
    view: &CaseView,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<appointment::Model>> {
    view.require(Category::Appointments)?;
    Ok(appointment::Entity::find()
        .filter(appointment::Column::CaseId.eq(view.model.id))
        .filter(appointment::Column::StartsAt.lt(to))
        .filter(appointment::Column::EndsAt.gt(from))
        .order_by_asc(appointment::Column::StartsAt)
        .all(db)
        .await?)
}

/// A commitment to enter.
#[derive(Debug, Clone)]
pub struct NewCommitment {
    pub title: String,
    pub category: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub weekdays: Vec<Weekday>,
    pub repeat_until: Option<NaiveDate>,
    pub except_dates: Vec<NaiveDate>,
    pub time_zone: Option<String>,
}

/// Enters busy time for the viewer: one-off, or weekly on the given days.
pub async fn create_commitment(
    db: &DatabaseConnection,
    principal: &Principal,
    new: NewCommitment,
) -> AppResult<Result<commitment::Model, UserError>> {
    if let Some(problem) =
        UserError::check_text("title", &new.title, MAX_TITLE_CHARS, "Give it a title.")
    {
        return Ok(Err(problem));
    }
    if let Some(problem) = check_span(new.starts_at, new.ends_at) {
        return Ok(Err(problem));
    }
    if new.weekdays.is_empty() && (new.repeat_until.is_some() || !new.except_dates.is_empty()) {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "weekdays",
            "Choose the weekdays it repeats on.",
        )));
    }
    let zone: Tz = match new.time_zone.as_deref().map(str::trim) {
        Some(name) => match name.parse() {
            Ok(zone) => zone,
            Err(_) => {
                return Ok(Err(UserError::on_field(
                    UserErrorCode::InvalidValue,
                    "timeZone",
                    "Give an IANA time zone such as Europe/Stockholm.",
                )));
            }
        },
        None => crate::case::service::tenant_zone(db, principal.tenant_id).await?,
    };
    if new
        .repeat_until
        .is_some_and(|until| until < new.starts_at.with_timezone(&zone).date_naive())
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "repeatUntil",
            "The series must end on or after its first day.",
        )));
    }
    let category = new
        .category
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if category.as_ref().is_some_and(|c| c.chars().count() > 64) {
        return Ok(Err(UserError::on_field(
            UserErrorCode::TooLong,
            "category",
            "Use at most 64 characters.",
        )));
    }
    let except = new
        .except_dates
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(",");
    Ok(Ok(commitment::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(principal.tenant_id),
        owner_id: Set(principal.user_id),
        title: Set(new.title.trim().to_owned()),
        category: Set(category),
        starts_at: Set(new.starts_at),
        ends_at: Set(new.ends_at),
        weekdays: Set((!new.weekdays.is_empty()).then(|| weekdays_to_stored(&new.weekdays))),
        repeat_until: Set(new.repeat_until),
        except_dates: Set((!except.is_empty()).then_some(except)),
        time_zone: Set(zone.name().to_owned()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?))
}

/// The viewer's own commitments, oldest first.
pub async fn my_commitments(
    db: &DatabaseConnection,
    principal: &Principal,
) -> AppResult<Vec<commitment::Model>> {
    Ok(commitment::Entity::find()
        .filter(commitment::Column::OwnerId.eq(principal.user_id))
        .order_by_asc(commitment::Column::StartsAt)
        .all(db)
        .await?)
}

/// Removes one of the viewer's commitments; `NOT_FOUND` for anyone else's.
pub async fn delete_commitment(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<commitment::Model> {
    let row = commitment::Entity::find_by_id(id)
        .filter(commitment::Column::OwnerId.eq(principal.user_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("commitment"))?;
    commitment::Entity::delete_by_id(id).exec(db).await?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_round_trip() {
        let days = vec![Weekday::Mon, Weekday::Wed, Weekday::Fri];
        assert_eq!(weekdays_to_stored(&days), "MON,WED,FRI");
        assert_eq!(parse_weekdays("MON,WED,FRI"), days);
    }
}
