//! Scheduling routines and closed days over GraphQL: staff read them; admins
//! (and an organisation's team leads, for its routine) set them.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{NaiveTime, Utc};
use entity::{closed_day, organisation, scheduling_routine};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::{mutation::WeekdayInput, routine::Routine, types::AppointmentKind};
use crate::{
    auth::policy::{Action, Policy},
    error::AppError,
    graphql::{
        ContextExt, UserError, UserErrorCode,
        node::{GlobalId, NodeKind},
        scalars::Date,
    },
};

use crate::graphql::pagination::{MAX_LIST_SIZE, list_size};
/// Longest minimum notice an organisation may set, in hours (30 days).
const MAX_NOTICE_HOURS: i32 = 720;
/// Longest travel buffer, in minutes.
const MAX_BUFFER_MINUTES: i32 = 240;
/// Highest daily cap per child.
const MAX_DAILY_CAP: i32 = 10;

/// A span of working time on a weekday, in the municipality's time zone.
#[derive(Debug, Clone, InputObject, SimpleObject)]
#[graphql(input_name = "WorkingSpanInput")]
pub struct WorkingSpan {
    /// The weekday.
    pub weekday: WeekdayInput,
    /// From, `HH:MM`.
    pub from: String,
    /// To, `HH:MM` (after `from`).
    pub to: String,
}

/// The weekdays a kind of meeting is held on.
#[derive(Debug, Clone, InputObject, SimpleObject)]
#[graphql(input_name = "MeetingDaysInput")]
pub struct MeetingDays {
    /// The kind of meeting.
    pub kind: AppointmentKind,
    /// The weekdays it may be held on.
    pub weekdays: Vec<WeekdayInput>,
}

/// How an organisation books meetings. Every clash check and slot search
/// applies it, in the municipality's time zone.
#[derive(SimpleObject)]
pub struct SchedulingRoutine {
    /// The organisation.
    pub organisation_id: ID,
    /// When its staff work; empty: any time.
    pub working_hours: Vec<WorkingSpan>,
    /// The weekdays some kinds of meeting are held on; kinds not listed may
    /// be held on any day.
    pub meeting_days: Vec<MeetingDays>,
    /// How long before its start a meeting must be booked, in hours.
    pub minimum_notice_hours: f64,
    /// Travel time kept free before and after its staff's meetings, in minutes.
    pub buffer_minutes: i32,
    /// Most meetings a child (case) may have in one day; null: no cap.
    pub daily_cap_per_child: Option<i32>,
    /// When it was last changed.
    pub updated_at: chrono::DateTime<Utc>,
}

fn weekday_input(day: chrono::Weekday) -> WeekdayInput {
    match day {
        chrono::Weekday::Mon => WeekdayInput::Mon,
        chrono::Weekday::Tue => WeekdayInput::Tue,
        chrono::Weekday::Wed => WeekdayInput::Wed,
        chrono::Weekday::Thu => WeekdayInput::Thu,
        chrono::Weekday::Fri => WeekdayInput::Fri,
        chrono::Weekday::Sat => WeekdayInput::Sat,
        chrono::Weekday::Sun => WeekdayInput::Sun,
    }
}

impl From<scheduling_routine::Model> for SchedulingRoutine {
    fn from(model: scheduling_routine::Model) -> Self {
        let routine = Routine::from_model(&model);
        SchedulingRoutine {
            organisation_id: GlobalId::encode(NodeKind::Organisation, model.organisation_id),
            working_hours: routine
                .working_hours
                .iter()
                .map(|(day, from, to)| WorkingSpan {
                    weekday: weekday_input(*day),
                    from: from.format("%H:%M").to_string(),
                    to: to.format("%H:%M").to_string(),
                })
                .collect(),
            meeting_days: routine
                .meeting_days
                .iter()
                .map(|(kind, days)| MeetingDays {
                    kind: (*kind).into(),
                    weekdays: days.iter().map(|d| weekday_input(*d)).collect(),
                })
                .collect(),
            minimum_notice_hours: f64::from(model.minimum_notice_minutes) / 60.0,
            buffer_minutes: model.buffer_minutes,
            daily_cap_per_child: model.daily_cap_per_child,
            updated_at: model.updated_at,
        }
    }
}

/// A day on which nothing is booked.
#[derive(SimpleObject)]
pub struct ClosedDay {
    /// The local date.
    pub date: Date,
    /// What it is ("Midsummer Eve").
    pub name: String,
}

impl From<closed_day::Model> for ClosedDay {
    fn from(model: closed_day::Model) -> Self {
        ClosedDay {
            date: Date(model.date),
            name: model.name,
        }
    }
}

/// Setting an organisation's routine (replaces the whole routine).
#[derive(Debug, InputObject)]
pub struct SetSchedulingRoutineInput {
    /// The organisation.
    pub organisation_id: ID,
    /// When its staff work; leave empty for no working-hours rule.
    pub working_hours: Vec<WorkingSpan>,
    /// The weekdays some kinds of meeting are held on (each kind once).
    #[graphql(default)]
    pub meeting_days: Vec<MeetingDays>,
    /// Minimum notice in hours (0–720).
    #[graphql(default)]
    pub minimum_notice_hours: i32,
    /// Travel buffer in minutes (0–240).
    #[graphql(default)]
    pub buffer_minutes: i32,
    /// Most meetings per child and day (1–10); leave out for no cap.
    pub daily_cap_per_child: Option<i32>,
}

/// The result of `setSchedulingRoutine`.
#[derive(SimpleObject)]
pub struct SchedulingRoutinePayload {
    /// The routine as stored; null when there are user errors.
    pub routine: Option<SchedulingRoutine>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// Adding a closed day.
#[derive(Debug, InputObject)]
pub struct AddClosedDayInput {
    /// The local date.
    pub date: Date,
    /// What it is.
    pub name: String,
}

/// Removing a closed day.
#[derive(Debug, InputObject)]
pub struct RemoveClosedDayInput {
    /// The local date.
    pub date: Date,
}

/// The result of a closed-day mutation.
#[derive(SimpleObject)]
pub struct ClosedDayPayload {
    /// The closed day added or removed; null when there are user errors.
    pub closed_day: Option<ClosedDay>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// Checks the input and builds the routine, or says what to fix.
fn parse_routine(input: &SetSchedulingRoutineInput) -> Result<Routine, UserError> {
    let time = |text: &str| NaiveTime::parse_from_str(text.trim(), "%H:%M").ok();
    let mut working_hours = Vec::new();
    for span in &input.working_hours {
        let (Some(from), Some(to)) = (time(&span.from), time(&span.to)) else {
            return Err(UserError::on_field(
                UserErrorCode::InvalidFormat,
                "workingHours",
                "Write times as HH:MM, e.g. 08:00.",
            ));
        };
        if to <= from {
            return Err(UserError::on_field(
                UserErrorCode::InvalidValue,
                "workingHours",
                "Each span must end after it starts.",
            ));
        }
        working_hours.push((span.weekday.into(), from, to));
    }
    let mut meeting_days: Vec<(entity::appointment::AppointmentKind, Vec<chrono::Weekday>)> =
        Vec::new();
    for entry in &input.meeting_days {
        let kind = entry.kind.into();
        if entry.weekdays.is_empty() || meeting_days.iter().any(|(k, _)| *k == kind) {
            return Err(UserError::on_field(
                UserErrorCode::InvalidValue,
                "meetingDays",
                "Give each kind of meeting once, with at least one weekday.",
            ));
        }
        meeting_days.push((kind, entry.weekdays.iter().map(|d| (*d).into()).collect()));
    }
    if !(0..=MAX_NOTICE_HOURS).contains(&input.minimum_notice_hours) {
        return Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "minimumNoticeHours",
            "Give 0 to 720 hours.",
        ));
    }
    if !(0..=MAX_BUFFER_MINUTES).contains(&input.buffer_minutes) {
        return Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "bufferMinutes",
            "Give 0 to 240 minutes.",
        ));
    }
    if input
        .daily_cap_per_child
        .is_some_and(|cap| !(1..=MAX_DAILY_CAP).contains(&cap))
    {
        return Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "dailyCapPerChild",
            "Give 1 to 10 meetings, or leave it out.",
        ));
    }
    Ok(Routine {
        working_hours,
        meeting_days,
        minimum_notice: chrono::Duration::hours(i64::from(input.minimum_notice_hours)),
        buffer: chrono::Duration::minutes(i64::from(input.buffer_minutes)),
        daily_cap_per_child: input
            .daily_cap_per_child
            .and_then(|c| u32::try_from(c).ok()),
    })
}

/// The organisation in the viewer's tenant, or `NOT_FOUND`.
async fn own_organisation(ctx: &Context<'_>, id: &ID) -> Result<organisation::Model> {
    let principal = ctx.viewer().principal()?;
    let id = GlobalId::expect(id, NodeKind::Organisation, &["organisationId"])?;
    organisation::Entity::find_by_id(id)
        .filter(organisation::Column::TenantId.eq(principal.tenant_id))
        .one(&ctx.state().db)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound("organisation").into())
}

/// Scheduling rules: queries.
#[derive(Default)]
pub struct RulesQuery;

#[Object]
impl RulesQuery {
    /// An organisation's scheduling routine (staff of the municipality);
    /// null when it has none.
    async fn scheduling_routine(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organisation.")] organisation_id: ID,
    ) -> Result<Option<SchedulingRoutine>> {
        let principal = ctx.viewer().principal()?;
        Policy::ensure_allowed(
            principal,
            Action::ReadSchedulingRules {
                tenant_id: principal.tenant_id,
            },
        )?;
        let organisation = own_organisation(ctx, &organisation_id).await?;
        Ok(scheduling_routine::Entity::find_by_id(organisation.id)
            .one(&ctx.state().db)
            .await
            .map_err(AppError::from)?
            .map(Into::into))
    }

    /// The municipality's closed days in a range of dates (staff), by date.
    async fn closed_days(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "From (inclusive).")] from: Date,
        #[graphql(desc = "To (inclusive, at most 366 days after `from`).")] to: Date,
        #[graphql(desc = "At most this many (1 to 500; 500 when left out).")] first: Option<i32>,
    ) -> Result<Vec<ClosedDay>> {
        let limit = list_size(first, MAX_LIST_SIZE)?;
        let principal = ctx.viewer().principal()?;
        Policy::ensure_allowed(
            principal,
            Action::ReadSchedulingRules {
                tenant_id: principal.tenant_id,
            },
        )?;
        if to.0 < from.0 || (to.0 - from.0).num_days() > 366 {
            return Err(AppError::bad_input(
                &["to"],
                "`to` must not be before `from`, at most 366 days later",
            )
            .into());
        }
        Ok(closed_day::Entity::find()
            .filter(closed_day::Column::TenantId.eq(principal.tenant_id))
            .filter(closed_day::Column::Date.between(from.0, to.0))
            .order_by_asc(closed_day::Column::Date)
            .limit(u64::try_from(limit).unwrap_or(0))
            .all(&ctx.state().db)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

/// Scheduling rules: mutations.
#[derive(Default)]
pub struct RulesMutation;

#[Object]
impl RulesMutation {
    /// Sets (replaces) an organisation's scheduling routine: the tenant's
    /// admins, or the organisation's team leads. Applies to every clash
    /// check and slot search from then on; existing bookings stay.
    async fn set_scheduling_routine(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The routine.")] input: SetSchedulingRoutineInput,
    ) -> Result<SchedulingRoutinePayload> {
        let principal = ctx.viewer().principal()?;
        let organisation = own_organisation(ctx, &input.organisation_id).await?;
        Policy::ensure_allowed(
            principal,
            Action::SetSchedulingRoutine {
                tenant_id: organisation.tenant_id,
                organisation_id: organisation.id,
            },
        )?;
        let routine = match parse_routine(&input) {
            Ok(routine) => routine,
            Err(problem) => {
                return Ok(SchedulingRoutinePayload {
                    routine: None,
                    user_errors: vec![problem],
                });
            }
        };
        let db = &ctx.state().db;
        let model = scheduling_routine::Model {
            organisation_id: organisation.id,
            tenant_id: organisation.tenant_id,
            working_hours: routine.working_hours_to_stored(),
            meeting_days: routine.meeting_days_to_stored(),
            minimum_notice_minutes: input.minimum_notice_hours * 60,
            buffer_minutes: input.buffer_minutes,
            daily_cap_per_child: input.daily_cap_per_child,
            updated_by: principal.user_id,
            updated_at: Utc::now(),
        };
        let exists = scheduling_routine::Entity::find_by_id(organisation.id)
            .one(db)
            .await
            .map_err(AppError::from)?
            .is_some();
        let mut active = model.into_active_model();
        let saved = if exists {
            active = active.reset_all();
            active.update(db).await.map_err(AppError::from)?
        } else {
            active.insert(db).await.map_err(AppError::from)?
        };
        Ok(SchedulingRoutinePayload {
            routine: Some(saved.into()),
            user_errors: Vec::new(),
        })
    }

    /// Adds a closed day (admins): nothing is booked or suggested on it.
    async fn add_closed_day(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day.")] input: AddClosedDayInput,
    ) -> Result<ClosedDayPayload> {
        let principal = ctx.viewer().principal()?;
        Policy::ensure_allowed(
            principal,
            Action::ManageClosedDays {
                tenant_id: principal.tenant_id,
            },
        )?;
        let name = input.name.trim().to_owned();
        let problem = match UserError::check_text("name", &name, 200, "Name the day.") {
            Some(problem) => Some(problem),
            None => closed_day::Entity::find()
                .filter(closed_day::Column::TenantId.eq(principal.tenant_id))
                .filter(closed_day::Column::Date.eq(input.date.0))
                .one(&ctx.state().db)
                .await
                .map_err(AppError::from)?
                .map(|_| {
                    UserError::on_field(
                        UserErrorCode::InvalidValue,
                        "date",
                        "This day is already closed.",
                    )
                }),
        };
        if let Some(problem) = problem {
            return Ok(ClosedDayPayload {
                closed_day: None,
                user_errors: vec![problem],
            });
        }
        let saved = closed_day::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(principal.tenant_id),
            date: Set(input.date.0),
            name: Set(name),
            created_at: Set(Utc::now()),
        }
        .insert(&ctx.state().db)
        .await
        .map_err(AppError::from)?;
        Ok(ClosedDayPayload {
            closed_day: Some(saved.into()),
            user_errors: Vec::new(),
        })
    }

    /// Removes a closed day (admins).
    async fn remove_closed_day(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day.")] input: RemoveClosedDayInput,
    ) -> Result<ClosedDayPayload> {
        let principal = ctx.viewer().principal()?;
        Policy::ensure_allowed(
            principal,
            Action::ManageClosedDays {
                tenant_id: principal.tenant_id,
            },
        )?;
        let db = &ctx.state().db;
        let Some(day) = closed_day::Entity::find()
            .filter(closed_day::Column::TenantId.eq(principal.tenant_id))
            .filter(closed_day::Column::Date.eq(input.date.0))
            .one(db)
            .await
            .map_err(AppError::from)?
        else {
            return Ok(ClosedDayPayload {
                closed_day: None,
                user_errors: vec![UserError::on_field(
                    UserErrorCode::InvalidValue,
                    "date",
                    "This day is not closed.",
                )],
            });
        };
        closed_day::Entity::delete_by_id(day.id)
            .exec(db)
            .await
            .map_err(AppError::from)?;
        Ok(ClosedDayPayload {
            closed_day: Some(day.into()),
            user_errors: Vec::new(),
        })
    }
}
