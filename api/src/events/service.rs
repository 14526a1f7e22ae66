//! Each user's event stream: what concerns them (a new message, a read
//! receipt, …) in their own order, replayable from a cursor and delivered
//! live; events that notify also make the notifications feed and the push
//! outbox, held during the user's quiet hours (urgent ones are not).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use entity::{
    contact_setting, push_delivery, push_device,
    user_event::{self, UserEventKind},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
    sea_query::Expr,
};
use uuid::Uuid;

use super::{
    hub::{Announcement, Topic},
    quiet::QuietHours,
};
use crate::{
    auth::Principal,
    case::service::tenant_zone,
    error::{AppError, AppResult},
    graphql::pagination::page_size,
};

/// Whether and when an event notifies its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// Only in the event stream.
    No,
    /// A notification, held while the user's quiet hours last.
    RespectingQuietHours,
    /// A notification now, whatever the quiet hours (urgent help).
    Now,
}

/// An event to append to one user's stream.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub user_id: Uuid,
    pub kind: UserEventKind,
    pub case_id: Option<Uuid>,
    pub conversation_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub urgent: bool,
    pub covering: bool,
    pub up_to_seq: Option<i64>,
    pub notify: Notify,
}

impl NewEvent {
    /// An event of `kind` for `user_id` with nothing else set.
    pub fn new(user_id: Uuid, kind: UserEventKind) -> NewEvent {
        NewEvent {
            user_id,
            kind,
            case_id: None,
            conversation_id: None,
            message_id: None,
            actor_id: None,
            subject_id: None,
            urgent: false,
            covering: false,
            up_to_seq: None,
            notify: Notify::No,
        }
    }
}

/// Takes the next `count` sequence numbers of each user's stream in one
/// statement, inside the caller's transaction: returns each user's new last
/// number. The counter rows stay locked until the transaction commits (taken
/// in the order given, which callers keep sorted by user id so that two
/// transactions cannot deadlock), so events become visible in sequence order
/// and a replay never skips one.
async fn reserve_seqs<C: ConnectionTrait>(
    txn: &C,
    counts: &[(Uuid, i64)],
) -> AppResult<HashMap<Uuid, i64>> {
    let backend = txn.get_database_backend();
    let placeholders: Vec<String> = (0..counts.len())
        .map(|n| match backend {
            DatabaseBackend::Postgres => format!("(${}, ${})", 2 * n + 1, 2 * n + 2),
            _ => "(?, ?)".to_owned(),
        })
        .collect();
    let sql = format!(
        "INSERT INTO user_event_counter (user_id, last_seq) VALUES {} \
         ON CONFLICT (user_id) DO UPDATE SET last_seq = user_event_counter.last_seq + excluded.last_seq \
         RETURNING user_id, last_seq",
        placeholders.join(", ")
    );
    let values: Vec<sea_orm::Value> = counts
        .iter()
        .flat_map(|(user, count)| [(*user).into(), (*count).into()])
        .collect();
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut last = HashMap::new();
    for row in rows {
        last.insert(
            row.try_get::<Uuid>("", "user_id")?,
            row.try_get::<i64>("", "last_seq")?,
        );
    }
    if last.len() != counts.len() {
        return Err(AppError::Internal(
            "the event counters returned fewer rows than users".into(),
        ));
    }
    Ok(last)
}

/// The quiet hours of users who set them.
async fn quiet_hours_of<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    users: &[Uuid],
) -> AppResult<HashMap<Uuid, QuietHours>> {
    let settings = contact_setting::Entity::find()
        .filter(contact_setting::Column::UserId.is_in(users.iter().copied()))
        .filter(contact_setting::Column::QuietStartMinute.is_not_null())
        .all(db)
        .await?;
    if settings.is_empty() {
        return Ok(HashMap::new());
    }
    let tenant: Tz = tenant_zone(db, tenant_id).await?;
    Ok(settings
        .into_iter()
        .filter_map(|s| {
            let zone = s
                .time_zone
                .as_deref()
                .and_then(|z| z.parse::<Tz>().ok())
                .unwrap_or(tenant);
            Some((
                s.user_id,
                QuietHours {
                    start_minute: u32::try_from(s.quiet_start_minute?).ok()?,
                    end_minute: u32::try_from(s.quiet_end_minute?).ok()?,
                    zone,
                },
            ))
        })
        .collect())
}

/// Appends `events` in `txn`, commits it and announces them (with NOTIFY in
/// the transaction on PostgreSQL, in this process after the commit).
pub async fn commit_with_events(
    txn: sea_orm::DatabaseTransaction,
    hub: &super::hub::Hub,
    tenant_id: Uuid,
    events: Vec<NewEvent>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let announcements = append(&txn, tenant_id, events, now).await?;
    hub.announce_in(&txn, &announcements).await?;
    txn.commit().await?;
    hub.announce_committed(&announcements);
    Ok(())
}

/// Appends events to their users' streams inside the caller's transaction,
/// with their notifications and push deliveries; returns the announcements to
/// make (`Hub::announce_in` before the commit, `announce_committed` after).
pub async fn append<C: ConnectionTrait>(
    txn: &C,
    tenant_id: Uuid,
    events: Vec<NewEvent>,
    now: DateTime<Utc>,
) -> AppResult<Vec<Announcement>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    // Counter rows are locked in user-id order, so two transactions touching
    // the same users cannot deadlock.
    let mut by_user: BTreeMap<Uuid, Vec<NewEvent>> = BTreeMap::new();
    for event in events {
        by_user.entry(event.user_id).or_default().push(event);
    }
    let users: Vec<Uuid> = by_user.keys().copied().collect();
    let quiet = quiet_hours_of(txn, tenant_id, &users).await?;
    let devices = push_device::Entity::find()
        .filter(push_device::Column::UserId.is_in(users.iter().copied()))
        .filter(push_device::Column::RevokedAt.is_null())
        .all(txn)
        .await?;
    let mut announcements = Vec::new();
    let mut rows = Vec::new();
    let mut deliveries = Vec::new();
    let counts: Vec<(Uuid, i64)> = by_user
        .iter()
        .map(|(user, events)| (*user, events.len() as i64))
        .collect();
    let reserved = reserve_seqs(txn, &counts).await?;
    for (user_id, events) in by_user {
        let last = reserved.get(&user_id).copied().unwrap_or_default();
        let mut seq = last - events.len() as i64;
        for event in events {
            seq += 1;
            let notify_at = match event.notify {
                Notify::No => None,
                Notify::Now => Some(now),
                Notify::RespectingQuietHours => Some(
                    quiet
                        .get(&user_id)
                        .and_then(|q| q.held_until(now))
                        .unwrap_or(now),
                ),
            };
            let id = Uuid::now_v7();
            if let Some(due) = notify_at {
                for device in devices.iter().filter(|d| d.user_id == user_id) {
                    deliveries.push(push_delivery::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        device_id: Set(device.id),
                        event_id: Set(id),
                        state: Set(push_delivery::PushState::Pending),
                        due_at: Set(due),
                        attempts: Set(0),
                        last_error: Set(None),
                        created_at: Set(now),
                        delivered_at: Set(None),
                    });
                }
            }
            rows.push(user_event::ActiveModel {
                id: Set(id),
                user_id: Set(user_id),
                tenant_id: Set(tenant_id),
                seq: Set(seq),
                kind: Set(event.kind),
                case_id: Set(event.case_id),
                conversation_id: Set(event.conversation_id),
                message_id: Set(event.message_id),
                actor_id: Set(event.actor_id),
                subject_id: Set(event.subject_id),
                urgent: Set(event.urgent),
                covering: Set(event.covering),
                up_to_seq: Set(event.up_to_seq),
                created_at: Set(now),
                notify_at: Set(notify_at),
                notification_read_at: Set(None),
            });
        }
        announcements.push(Announcement {
            topic: Topic::User(user_id),
            seq: last,
        });
    }
    user_event::Entity::insert_many(rows).exec(txn).await?;
    if !deliveries.is_empty() {
        announcements.push(Announcement {
            topic: Topic::PushOutbox,
            seq: deliveries.len() as i64,
        });
        push_delivery::Entity::insert_many(deliveries)
            .exec(txn)
            .await?;
    }
    Ok(announcements)
}

/// The viewer's events after sequence number `after`, oldest first.
pub async fn events_after(
    db: &DatabaseConnection,
    user_id: Uuid,
    after: i64,
    limit: u64,
) -> AppResult<Vec<user_event::Model>> {
    Ok(user_event::Entity::find()
        .filter(user_event::Column::UserId.eq(user_id))
        .filter(user_event::Column::Seq.gt(after))
        .order_by_asc(user_event::Column::Seq)
        .limit(limit)
        .all(db)
        .await?)
}

/// The last sequence number of a user's stream (0 when empty).
pub async fn last_event_seq(db: &DatabaseConnection, user_id: Uuid) -> AppResult<i64> {
    Ok(entity::user_event_counter::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map(|c| c.last_seq)
        .unwrap_or_default())
}

/// A page of the viewer's notifications, newest first: events that notify,
/// once their time has come (after quiet hours). The cursor is the
/// (notify time, sequence number) of the last one of the previous page.
pub async fn notifications(
    db: &DatabaseConnection,
    principal: &Principal,
    first: i32,
    after: Option<(DateTime<Utc>, i64)>,
) -> AppResult<(Vec<user_event::Model>, bool)> {
    let limit = page_size(first)?;
    let mut query = user_event::Entity::find()
        .filter(user_event::Column::UserId.eq(principal.user_id))
        .filter(user_event::Column::NotifyAt.lte(Utc::now()))
        .order_by_desc(user_event::Column::NotifyAt)
        .order_by_desc(user_event::Column::Seq)
        .limit(limit + 1);
    if let Some((at, seq)) = after {
        query = query.filter(
            sea_orm::Condition::any()
                .add(user_event::Column::NotifyAt.lt(at))
                .add(
                    sea_orm::Condition::all()
                        .add(user_event::Column::NotifyAt.eq(at))
                        .add(user_event::Column::Seq.lt(seq)),
                ),
        );
    }
    let mut rows = query.all(db).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// How many of the viewer's notifications (shown so far) are unread.
pub async fn unread_notification_count(
    db: &DatabaseConnection,
    principal: &Principal,
) -> AppResult<u64> {
    Ok(user_event::Entity::find()
        .filter(user_event::Column::UserId.eq(principal.user_id))
        .filter(user_event::Column::NotifyAt.lte(Utc::now()))
        .filter(user_event::Column::NotificationReadAt.is_null())
        .count(db)
        .await?)
}

/// Marks the viewer's notifications read: the listed ones, or all shown so far.
pub async fn mark_notifications_read(
    db: &DatabaseConnection,
    principal: &Principal,
    ids: Option<Vec<Uuid>>,
) -> AppResult<()> {
    let now = Utc::now();
    let mut update = user_event::Entity::update_many()
        .col_expr(user_event::Column::NotificationReadAt, Expr::value(now))
        .filter(user_event::Column::UserId.eq(principal.user_id))
        .filter(user_event::Column::NotifyAt.lte(now))
        .filter(user_event::Column::NotificationReadAt.is_null());
    if let Some(ids) = ids {
        update = update.filter(user_event::Column::Id.is_in(ids));
    }
    update.exec(db).await?;
    Ok(())
}

/// One of the viewer's own events (`NOT_FOUND` for anyone else's).
pub async fn own_event(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<user_event::Model> {
    user_event::Entity::find_by_id(id)
        .filter(user_event::Column::UserId.eq(principal.user_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("notification"))
}

/// The viewer's contact settings, or the defaults.
pub async fn contact_settings(
    db: &DatabaseConnection,
    user_id: Uuid,
) -> AppResult<contact_setting::Model> {
    Ok(contact_setting::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .unwrap_or_else(|| default_settings(user_id)))
}

/// The settings of a user who never changed any.
pub fn default_settings(user_id: Uuid) -> contact_setting::Model {
    contact_setting::Model {
        user_id,
        time_zone: None,
        quiet_start_minute: None,
        quiet_end_minute: None,
        send_read_receipts: true,
        away_from: None,
        away_until: None,
        away_note: None,
        updated_at: DateTime::<Utc>::UNIX_EPOCH,
    }
}

/// Stores a user's contact settings (insert or replace).
pub async fn save_settings<C: ConnectionTrait>(
    db: &C,
    mut settings: contact_setting::Model,
) -> AppResult<contact_setting::Model> {
    settings.updated_at = Utc::now();
    let exists = contact_setting::Entity::find_by_id(settings.user_id)
        .one(db)
        .await?
        .is_some();
    let active: contact_setting::ActiveModel = settings.clone().into();
    let active = if exists { active.reset_all() } else { active };
    if exists {
        Ok(active.update(db).await?)
    } else {
        Ok(active.insert(db).await?)
    }
}

/// Whether an away period is in force at `now`.
pub fn away_now(settings: &contact_setting::Model, now: DateTime<Utc>) -> bool {
    match (settings.away_from, settings.away_until) {
        (from, Some(until)) => from.is_none_or(|f| f <= now) && now < until,
        _ => false,
    }
}

/// Users among `users` who are away at `now`.
pub async fn away_users<C: ConnectionTrait>(
    db: &C,
    users: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<Vec<Uuid>> {
    Ok(contact_setting::Entity::find()
        .filter(contact_setting::Column::UserId.is_in(users.iter().copied()))
        .filter(contact_setting::Column::AwayUntil.gt(now))
        .all(db)
        .await?
        .into_iter()
        .filter(|s| away_now(s, now))
        .map(|s| s.user_id)
        .collect())
}

/// Users among `users` who do not send read receipts.
pub async fn receipts_off<C: ConnectionTrait>(db: &C, users: &[Uuid]) -> AppResult<Vec<Uuid>> {
    Ok(contact_setting::Entity::find()
        .filter(contact_setting::Column::UserId.is_in(users.iter().copied()))
        .filter(contact_setting::Column::SendReadReceipts.eq(false))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.user_id)
        .collect())
}
