//! GraphQL types of appointments, commitments and clashes.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{appointment, appointment_participant, commitment};

use super::{
    service::{self, Conflict as ServiceConflict, ConflictReason as ServiceReason},
    timeline::BlockReason,
};
use crate::{
    error::AppError,
    graphql::{
        ContextExt,
        node::{GlobalId, NodeKind},
        scalars::Date,
    },
    identity::types::{Organisation, User},
};

/// What kind of meeting an appointment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::appointment::AppointmentKind")]
pub enum AppointmentKind {
    /// The first conversation with the child and family.
    StartConversation,
    /// A follow-up review of the case.
    FollowUp,
    /// A meeting with the family's network.
    NetworkMeeting,
    /// A coordinated individual plan (SIP) meeting.
    CoordinationMeeting,
    /// A visit to the family's home.
    HomeVisit,
    /// A conversation with the child.
    ChildConversation,
    /// A treatment session.
    Treatment,
    /// Anything else.
    Other,
}

/// Where an appointment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::appointment::AppointmentStatus")]
pub enum AppointmentStatus {
    /// Suggested, not yet booked.
    Proposed,
    /// Booked.
    Booked,
    /// Held.
    Fulfilled,
    /// Cancelled, with a reason.
    Cancelled,
}

/// Where it takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::appointment::LocationKind")]
pub enum LocationKind {
    /// An address.
    Address,
    /// A video meeting link.
    Video,
    /// The family's home.
    FamilyHome,
}

/// A participant's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::appointment_participant::Response")]
pub enum ResponseStatus {
    /// Not answered yet.
    Pending,
    /// Will come.
    Accepted,
    /// May come.
    Tentative,
    /// Cannot come (with a reason).
    Declined,
}

/// How a participant attended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AttendanceStatus {
    /// Came.
    Attended,
    /// Did not come, and said so in advance.
    AbsentWithNotice,
    /// Did not come and did not say so (a deviation).
    NoShow,
}

impl From<AttendanceStatus> for service::Attendance {
    fn from(status: AttendanceStatus) -> Self {
        match status {
            AttendanceStatus::Attended => service::Attendance::Attended,
            AttendanceStatus::AbsentWithNotice => service::Attendance::AbsentWithNotice,
            AttendanceStatus::NoShow => service::Attendance::NoShow,
        }
    }
}

/// What kind of deviation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::deviation::DeviationKind")]
pub enum DeviationKind {
    /// Did not come and did not say so.
    NoShow,
    /// Declined closer to the start than the notice period.
    LateDecline,
    /// Booked or moved despite clashes, with a reason.
    ClashOverride,
}

/// A deviation in the cooperation around an appointment, for the team
/// lead's follow-up.
pub struct Deviation(pub entity::deviation::Model);

/// A deviation in the cooperation around an appointment, for the team
/// lead's follow-up.
#[Object]
impl Deviation {
    /// What happened.
    async fn kind(&self) -> DeviationKind {
        self.0.kind.into()
    }

    /// The appointment.
    async fn appointment_id(&self) -> ID {
        GlobalId::encode(NodeKind::Appointment, self.0.appointment_id)
    }

    /// The case.
    async fn case_id(&self) -> ID {
        GlobalId::encode(NodeKind::Case, self.0.case_id)
    }

    /// Whose deviation it is.
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match self.0.user_id {
            Some(id) => user(ctx, id).await,
            None => Ok(None),
        }
    }

    /// Their organisation (agency).
    async fn organisation(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::identity::types::Organisation>> {
        let Some(id) = self.0.organisation_id else {
            return Ok(None);
        };
        Ok(ctx
            .organisation_loader()
            .load_one(id)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map(crate::identity::types::Organisation))
    }

    /// The reason given (the decline's or the override's).
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    /// When it was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

crate::connection_type!(
    DeviationConnection,
    DeviationEdge,
    Deviation,
    "A page of deviations, newest first.",
    "One deviation with its cursor."
);

/// Why a proposed time is not free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ConflictReason {
    /// Another appointment in the system.
    Appointment,
    /// A commitment the person entered (school, work, another agency).
    Commitment,
    /// An event in an external calendar feed of the person or their organisation.
    ExternalCalendar,
    /// Outside the working hours of the participant's organisation.
    OutsideWorkingHours,
    /// This kind of meeting is held on other weekdays.
    Routine,
    /// Too close to another meeting of the participant (travel buffer).
    Buffer,
    /// Too soon: within the organisation's minimum notice.
    Notice,
    /// The child already has the most meetings allowed that day.
    DailyCap,
    /// A closed day (public holiday).
    ClosedDay,
}

impl From<ServiceReason> for ConflictReason {
    fn from(reason: ServiceReason) -> Self {
        match reason {
            ServiceReason::Appointment => ConflictReason::Appointment,
            ServiceReason::Commitment => ConflictReason::Commitment,
            ServiceReason::ExternalCalendar => ConflictReason::ExternalCalendar,
            ServiceReason::Rule(BlockReason::OutsideWorkingHours) => {
                ConflictReason::OutsideWorkingHours
            }
            ServiceReason::Rule(BlockReason::Routine) => ConflictReason::Routine,
            ServiceReason::Rule(BlockReason::Buffer) => ConflictReason::Buffer,
            ServiceReason::Rule(BlockReason::Notice) => ConflictReason::Notice,
            ServiceReason::Rule(BlockReason::DailyCap) => ConflictReason::DailyCap,
            ServiceReason::Rule(BlockReason::ClosedDay) => ConflictReason::ClosedDay,
        }
    }
}

async fn organisation(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> Result<Option<Organisation>> {
    let Some(id) = id else {
        return Ok(None);
    };
    Ok(ctx
        .organisation_loader()
        .load_one(id)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map(Organisation))
}

async fn user(ctx: &Context<'_>, id: uuid::Uuid) -> Result<Option<User>> {
    Ok(ctx
        .user_loader()
        .load_one(id)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map(User))
}

/// Busy time of a participant, or a period a rule rules out.
pub struct Conflict(pub ServiceConflict);

/// Busy time of a participant, or a period a rule rules out: in a clash
/// check, what clashes with the proposed time; in a planning calendar, what
/// fills the window. Others' commitments and appointments show only as busy.
#[Object]
impl Conflict {
    /// Whose time it is; null for a rule about the meeting as a whole
    /// (notice, meeting days, daily cap, closed day) or an organisation's.
    async fn participant(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match self.0.user_id {
            Some(id) => user(ctx, id).await,
            None => Ok(None),
        }
    }

    /// The organisation (taking part without a named person) whose time it is.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.0.organisation_id).await
    }

    /// When the busy time starts.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.interval.start
    }

    /// When it ends.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.interval.end
    }

    /// Why the time is not free.
    async fn reason(&self) -> ConflictReason {
        self.0.reason.into()
    }

    /// What it is, only where the viewer may know (their own commitment or
    /// feed, an appointment of the same case, the rule); null means "busy".
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
}

/// Whether a proposed time is free for everyone.
#[derive(SimpleObject)]
pub struct Availability {
    /// True when nobody has a clash.
    pub free: bool,
    /// Every clash, by start.
    pub conflicts: Vec<Conflict>,
}

/// Someone invited to an appointment and their answer.
pub struct AppointmentParticipant {
    pub model: appointment_participant::Model,
    /// Whether the viewer may read reasons (staff on the case, the person).
    pub sees_reasons: bool,
}

/// Someone invited to an appointment and their answer.
#[Object]
impl AppointmentParticipant {
    /// The person; null for an organisation without a named person yet.
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match self.model.user_id {
            Some(id) => user(ctx, id).await,
            None => Ok(None),
        }
    }

    /// The organisation invited before it named who comes; null for a person.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(
            ctx,
            self.model
                .organisation_id
                .filter(|_| self.model.user_id.is_none()),
        )
        .await
    }

    /// Whether the appointment needs them.
    async fn required(&self) -> bool {
        self.model.required
    }

    /// Their answer.
    async fn response(&self) -> ResponseStatus {
        self.model.response.into()
    }

    /// Why they declined (for the organiser, staff on the case and themselves).
    async fn reason(&self) -> Option<&str> {
        self.sees_reasons
            .then_some(self.model.response_reason.as_deref())
            .flatten()
    }

    /// When they answered.
    async fn responded_at(&self) -> Option<DateTime<Utc>> {
        self.model.responded_at
    }

    /// Declined closer to the start than the notice period.
    async fn late_decline(&self) -> bool {
        self.model.late_decline
    }

    /// How they attended (recorded after the end).
    async fn attendance(&self) -> Option<AttendanceStatus> {
        match self.model.attendance.as_deref() {
            Some("ATTENDED") => Some(AttendanceStatus::Attended),
            Some("ABSENT_WITH_NOTICE") => Some(AttendanceStatus::AbsentWithNotice),
            Some("NO_SHOW") => Some(AttendanceStatus::NoShow),
            _ => None,
        }
    }

    /// Another time they proposed when declining: start.
    async fn proposed_starts_at(&self) -> Option<DateTime<Utc>> {
        self.model.counter_starts_at
    }

    /// Another time they proposed when declining: end.
    async fn proposed_ends_at(&self) -> Option<DateTime<Utc>> {
        self.model.counter_ends_at
    }
}

/// A meeting on a case.
pub struct Appointment {
    pub model: appointment::Model,
    pub participants: Vec<appointment_participant::Model>,
    /// Whether the viewer works with the case's appointments (staff).
    pub staff_view: bool,
    pub viewer_id: uuid::Uuid,
}

/// A meeting on a case.
#[Object]
impl Appointment {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Appointment, self.model.id)
    }

    /// The case.
    async fn case_id(&self) -> ID {
        GlobalId::encode(NodeKind::Case, self.model.case_id)
    }

    /// What kind of meeting.
    async fn kind(&self) -> AppointmentKind {
        self.model.kind.into()
    }

    /// The title.
    async fn title(&self) -> &str {
        &self.model.title
    }

    /// When it starts.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.model.starts_at
    }

    /// When it ends.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.model.ends_at
    }

    /// Where: the kind of place.
    async fn location_kind(&self) -> LocationKind {
        self.model.location_kind.into()
    }

    /// Where: the address or video link (null for the family's home).
    async fn location(&self) -> Option<&str> {
        self.model.location.as_deref()
    }

    /// Where it stands.
    async fn status(&self) -> AppointmentStatus {
        self.model.status.into()
    }

    /// Why it was cancelled.
    async fn cancel_reason(&self) -> Option<&str> {
        self.model.cancel_reason.as_deref()
    }

    /// Why it was booked despite clashes (staff only): a recorded deviation.
    async fn override_reason(&self) -> Option<&str> {
        self.staff_view
            .then_some(self.model.override_reason.as_deref())
            .flatten()
    }

    /// Who organised it.
    async fn organiser(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user(ctx, self.model.organiser_id).await
    }

    /// Who is invited, with their answers.
    async fn participants(&self) -> Vec<AppointmentParticipant> {
        self.participants
            .iter()
            .map(|p| AppointmentParticipant {
                model: p.clone(),
                sees_reasons: self.staff_view || p.user_id == Some(self.viewer_id),
            })
            .collect()
    }
}

impl Appointment {
    /// Loads the participants of a list of appointments in one query.
    pub async fn many(
        ctx: &Context<'_>,
        rows: Vec<appointment::Model>,
        staff_view: impl Fn(&appointment::Model) -> bool,
    ) -> Result<Vec<Appointment>> {
        Self::build(ctx, rows, staff_view, true).await
    }

    /// For a field that returns the list itself (`ctx` is that field's):
    /// loads the participants, in one query, only when the query asks for
    /// them.
    pub async fn list(
        ctx: &Context<'_>,
        rows: Vec<appointment::Model>,
        staff_view: impl Fn(&appointment::Model) -> bool,
    ) -> Result<Vec<Appointment>> {
        let asked = ctx.look_ahead().field("participants").exists();
        Self::build(ctx, rows, staff_view, asked).await
    }

    async fn build(
        ctx: &Context<'_>,
        rows: Vec<appointment::Model>,
        staff_view: impl Fn(&appointment::Model) -> bool,
        with_participants: bool,
    ) -> Result<Vec<Appointment>> {
        let principal = ctx.viewer().principal()?;
        let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
        let mut participants = if with_participants && !ids.is_empty() {
            service::participants_of(&ctx.state().db, &ids).await?
        } else {
            Default::default()
        };
        Ok(rows
            .into_iter()
            .map(|model| Appointment {
                participants: participants.remove(&model.id).unwrap_or_default(),
                staff_view: staff_view(&model),
                viewer_id: principal.user_id,
                model,
            })
            .collect())
    }
}

/// Busy time the viewer entered. Only its owner sees this; others see busy.
pub struct Commitment(pub commitment::Model);

/// Busy time the viewer entered (school, work, another agency). Only its
/// owner sees it; everyone else sees busy.
#[Object]
impl Commitment {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Commitment, self.0.id)
    }

    /// The title.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// An optional category (e.g. "child psychiatry").
    async fn category(&self) -> Option<&str> {
        self.0.category.as_deref()
    }

    /// When the (first) occurrence starts.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }

    /// When the (first) occurrence ends.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }

    /// The weekdays a weekly series repeats on (`MON`…`SUN`); empty: one-off.
    async fn weekdays(&self) -> Vec<String> {
        self.0
            .weekdays
            .as_deref()
            .map(|d| d.split(',').map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The last day of the series.
    async fn repeat_until(&self) -> Option<Date> {
        self.0.repeat_until.map(Date)
    }

    /// Days the series skips.
    async fn except_dates(&self) -> Vec<Date> {
        self.0
            .except_dates
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter_map(|d| d.trim().parse().ok())
            .map(Date)
            .collect()
    }

    /// The time zone whose wall-clock time the series keeps.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
}
