//! Deadlines met by bookings: a booked `FOLLOW_UP` meets the case's follow-up
//! due date, a booked `COORDINATION_MEETING` the SIP's 21-day deadline. The
//! case page, the caseload and `followUpsDue` show the meeting and whether it
//! is in time; the meetings of a whole page of cases come in one statement.

use std::collections::HashMap;

use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::appointment::{self, AppointmentKind, AppointmentStatus};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::types::AppointmentStatus as Status;
use crate::{
    error::AppResult,
    graphql::{
        node::{GlobalId, NodeKind},
        scalars::Date,
    },
};

/// The coming follow-up and coordination meetings of cases (proposed or
/// booked, not over yet), by case id, earliest first: one statement.
pub async fn upcoming_meetings(
    db: &DatabaseConnection,
    case_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<appointment::Model>>> {
    let rows = appointment::Entity::find()
        .filter(appointment::Column::CaseId.is_in(case_ids.iter().copied()))
        .filter(appointment::Column::Kind.is_in([
            AppointmentKind::FollowUp,
            AppointmentKind::CoordinationMeeting,
        ]))
        .filter(
            appointment::Column::Status
                .is_in([AppointmentStatus::Proposed, AppointmentStatus::Booked]),
        )
        .filter(appointment::Column::EndsAt.gt(Utc::now()))
        .order_by_asc(appointment::Column::StartsAt)
        .all(db)
        .await?;
    let mut grouped: HashMap<Uuid, Vec<appointment::Model>> = HashMap::new();
    for row in rows {
        grouped.entry(row.case_id).or_default().push(row);
    }
    Ok(grouped)
}

/// A meeting booked to meet a deadline.
#[derive(SimpleObject)]
pub struct ScheduledMeeting {
    /// The appointment (read it with `node` for participants and answers).
    pub appointment_id: ID,
    /// Proposed or booked.
    pub status: Status,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// When it ends.
    pub ends_at: DateTime<Utc>,
    /// The day it is due by.
    pub due_on: Date,
    /// Whether it takes place on or before that day (municipality's time).
    pub in_time: bool,
}

/// The first of `meetings` of `kind`, measured against `due_on`.
pub fn next_meeting(
    meetings: &[appointment::Model],
    kind: AppointmentKind,
    due_on: NaiveDate,
    zone: Tz,
) -> Option<ScheduledMeeting> {
    meetings
        .iter()
        .find(|m| m.kind == kind)
        .map(|m| ScheduledMeeting {
            appointment_id: GlobalId::encode(NodeKind::Appointment, m.id),
            status: m.status.into(),
            starts_at: m.starts_at,
            ends_at: m.ends_at,
            due_on: Date(due_on),
            in_time: m.starts_at.with_timezone(&zone).date_naive() <= due_on,
        })
}
