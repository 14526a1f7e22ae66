//! Reminders before appointments: a worker finds booked appointments that
//! start within the reminder lead time and sends every participant who has
//! not declined an `APPOINTMENT_REMINDER` event (a notification that waits
//! for the end of their quiet hours). Each appointment is claimed with a
//! conditional update, so several server processes never remind twice; a
//! moved appointment is reminded of again at its new time.

use std::{sync::Arc, time::Duration as StdDuration};

use chrono::{Duration, Utc};
use entity::{
    appointment::{self, AppointmentStatus},
    appointment_participant::{self, Response},
    user_event::UserEventKind,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait, sea_query::Expr,
};
use tokio::sync::watch;

use crate::{
    error::AppResult,
    events::{
        self,
        hub::Hub,
        service::{NewEvent, Notify},
    },
};

/// When reminders go out.
#[derive(Debug, Clone)]
pub struct ReminderConfig {
    /// How long before the start.
    pub lead: Duration,
    /// How often the worker looks for appointments to remind of.
    pub poll: StdDuration,
}

/// Appointments reminded of per pass (the rest wait for the next pass).
const BATCH: u64 = 200;

/// One pass: reminds of every booked appointment that starts within the lead
/// time and has not been reminded of. Returns how many were.
pub async fn remind_due(
    db: &DatabaseConnection,
    hub: &Hub,
    config: &ReminderConfig,
) -> AppResult<usize> {
    let now = Utc::now();
    let due = appointment::Entity::find()
        .filter(appointment::Column::Status.eq(AppointmentStatus::Booked))
        .filter(appointment::Column::RemindedAt.is_null())
        .filter(appointment::Column::StartsAt.gt(now))
        .filter(appointment::Column::StartsAt.lte(now + config.lead))
        .order_by_asc(appointment::Column::StartsAt)
        .limit(BATCH)
        .all(db)
        .await?;
    let mut reminded = 0;
    for meeting in due {
        let txn = db.begin().await?;
        let claimed = appointment::Entity::update_many()
            .col_expr(appointment::Column::RemindedAt, Expr::value(now))
            .filter(appointment::Column::Id.eq(meeting.id))
            .filter(appointment::Column::RemindedAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            txn.rollback().await?;
            continue;
        }
        let people = appointment_participant::Entity::find()
            .filter(appointment_participant::Column::AppointmentId.eq(meeting.id))
            .filter(appointment_participant::Column::Response.ne(Response::Declined))
            .all(&txn)
            .await?;
        let reminders = people
            .iter()
            .filter_map(|p| p.user_id)
            .map(|user| NewEvent {
                case_id: Some(meeting.case_id),
                subject_id: Some(meeting.id),
                notify: Notify::RespectingQuietHours,
                ..NewEvent::new(user, UserEventKind::AppointmentReminder)
            })
            .collect();
        events::service::commit_with_events(txn, hub, meeting.tenant_id, reminders, now).await?;
        reminded += 1;
    }
    Ok(reminded)
}

/// Runs the reminder worker until `shutdown` turns true (first pass after
/// one poll interval).
pub async fn run_worker(
    db: DatabaseConnection,
    hub: Arc<Hub>,
    config: ReminderConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|down| *down) => return,
            () = tokio::time::sleep(config.poll) => {}
        }
        if let Err(error) = remind_due(&db, &hub, &config).await {
            tracing::warn!(error = %error.message(), "appointment reminder pass failed");
        }
    }
}
