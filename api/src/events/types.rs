//! GraphQL types of the viewer's event stream, notifications and contact settings.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use entity::{contact_setting, push_device, user_event};

use super::quiet::format_clock;
use crate::{
    error::AppError,
    graphql::{
        ContextExt,
        node::{GlobalId, NodeKind},
    },
    identity::types::User,
    messaging::types::{Message, message_cursor},
};

/// What an event or notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::user_event::UserEventKind")]
pub enum ViewerEventKind {
    /// A new message in a conversation the viewer takes part in.
    MessageAdded,
    /// Someone read the viewer's messages (a read receipt).
    MessagesRead,
    /// A goal the viewer can see was created or changed by someone else.
    GoalChanged,
    /// The viewer was invited to an appointment.
    AppointmentInvited,
    /// An appointment the viewer takes part in was cancelled.
    AppointmentCancelled,
    /// A participant answered the viewer's invitation.
    AppointmentAnswered,
    /// An appointment the viewer takes part in moved; answer it again.
    AppointmentChanged,
    /// A proposed appointment the viewer takes part in is booked: every
    /// required participant accepted.
    AppointmentBooked,
    /// An appointment the viewer takes part in starts soon.
    AppointmentReminder,
}

/// Encodes a position in the viewer's event stream.
pub fn event_cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("event:{seq}"))
}

/// Decodes an event cursor; `BAD_USER_INPUT` on `field` otherwise.
pub fn decode_event_cursor(cursor: &str, field: &str) -> Result<i64, AppError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.strip_prefix("event:").and_then(|n| n.parse().ok()))
        .filter(|n: &i64| *n >= 0)
        .ok_or_else(|| AppError::bad_input(&[field], "not a valid cursor"))
}

/// Encodes a notification's place in the feed (notify time, sequence number).
pub fn notification_cursor(event: &user_event::Model) -> String {
    let at = event.notify_at.unwrap_or(event.created_at);
    URL_SAFE_NO_PAD.encode(format!(
        "notification:{}:{}",
        at.timestamp_micros(),
        event.seq
    ))
}

/// Decodes a notification cursor; `BAD_USER_INPUT` on `after` otherwise.
pub fn decode_notification_cursor(cursor: &str) -> Result<(DateTime<Utc>, i64), AppError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| {
            let rest = t.strip_prefix("notification:")?;
            let (micros, seq) = rest.split_once(':')?;
            Some((
                DateTime::from_timestamp_micros(micros.parse().ok()?)?,
                seq.parse().ok()?,
            ))
        })
        .ok_or_else(|| AppError::bad_input(&["after"], "not a valid cursor"))
}

/// The appointment an appointment event is about.
fn appointment_of(event: &user_event::Model) -> Option<ID> {
    use user_event::UserEventKind as K;
    matches!(
        event.kind,
        K::AppointmentInvited
            | K::AppointmentCancelled
            | K::AppointmentAnswered
            | K::AppointmentChanged
            | K::AppointmentBooked
            | K::AppointmentReminder
    )
    .then_some(event.subject_id)
    .flatten()
    .map(|id| GlobalId::encode(NodeKind::Appointment, id))
}

async fn load_user(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> Result<Option<User>> {
    let Some(id) = id else { return Ok(None) };
    Ok(ctx
        .user_loader()
        .load_one(id)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map(User))
}

/// Something that concerns the viewer, delivered live on `viewerEvents` and
/// replayable from its cursor.
pub struct ViewerEvent {
    pub model: user_event::Model,
    /// The message, when the event is about one the viewer may still read.
    pub message: Option<Message>,
}

/// Something that concerns the viewer, delivered live on `viewerEvents` and
/// replayable from its cursor.
#[Object]
impl ViewerEvent {
    /// Pass as `after` to `viewerEvents` to continue after this event.
    async fn cursor(&self) -> String {
        event_cursor(self.model.seq)
    }

    /// What happened.
    async fn kind(&self) -> ViewerEventKind {
        self.model.kind.into()
    }

    /// When it happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// Urgent help from a family member.
    async fn urgent(&self) -> bool {
        self.model.urgent
    }

    /// Delivered to the viewer as partner caseworker covering for an away colleague.
    async fn covering(&self) -> bool {
        self.model.covering
    }

    /// The conversation it concerns.
    async fn conversation_id(&self) -> Option<ID> {
        self.model
            .conversation_id
            .map(|id| GlobalId::encode(NodeKind::Conversation, id))
    }

    /// The new message (`MESSAGE_ADDED`).
    async fn message(&self) -> Option<&Message> {
        self.message.as_ref()
    }

    /// The goal created or changed (`GOAL_CHANGED`).
    async fn goal_id(&self) -> Option<ID> {
        (self.model.kind == user_event::UserEventKind::GoalChanged)
            .then_some(self.model.subject_id)
            .flatten()
            .map(|id| GlobalId::encode(NodeKind::Goal, id))
    }

    /// The appointment (`APPOINTMENT_*`).
    async fn appointment_id(&self) -> Option<ID> {
        appointment_of(&self.model)
    }

    /// The case it concerns.
    async fn case_id(&self) -> Option<ID> {
        self.model
            .case_id
            .map(|id| GlobalId::encode(NodeKind::Case, id))
    }

    /// For a read receipt: the cursor of the last message read.
    async fn read_up_to(&self) -> Option<String> {
        self.model.up_to_seq.map(message_cursor)
    }

    /// Who caused it (the author, the reader).
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        load_user(ctx, self.model.actor_id).await
    }
}

/// An entry of the viewer's notifications feed. It says what happened and
/// links to it, never the message text.
pub struct Notification(pub user_event::Model);

/// An entry of the viewer's notifications feed. It says what happened and
/// links to it, never the message text.
#[Object]
impl Notification {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Notification, self.0.id)
    }

    /// What happened.
    async fn kind(&self) -> ViewerEventKind {
        self.0.kind.into()
    }

    /// A short text to show, without any message content.
    async fn title(&self) -> &'static str {
        match (self.0.kind, self.0.urgent, self.0.covering) {
            (_, true, _) => "Urgent: a family member needs help now",
            (user_event::UserEventKind::MessageAdded, false, true) => {
                "New message (you are covering for a colleague)"
            }
            (user_event::UserEventKind::MessageAdded, false, false) => "You have a new message",
            (user_event::UserEventKind::MessagesRead, false, _) => "Your message was read",
            (user_event::UserEventKind::GoalChanged, false, _) => "A goal was updated",
            (user_event::UserEventKind::AppointmentInvited, false, _) => {
                "You are invited to an appointment"
            }
            (user_event::UserEventKind::AppointmentCancelled, false, _) => {
                "An appointment was cancelled"
            }
            (user_event::UserEventKind::AppointmentAnswered, false, _) => {
                "Someone answered your invitation"
            }
            (user_event::UserEventKind::AppointmentChanged, false, _) => {
                "An appointment moved: please answer again"
            }
            (user_event::UserEventKind::AppointmentBooked, false, _) => "An appointment is booked",
            (user_event::UserEventKind::AppointmentReminder, false, _) => {
                "Reminder: you have an appointment soon"
            }
        }
    }

    /// Urgent help from a family member.
    async fn urgent(&self) -> bool {
        self.0.urgent
    }

    /// When it was notified (after the viewer's quiet hours, if it came during them).
    async fn notified_at(&self) -> DateTime<Utc> {
        self.0.notify_at.unwrap_or(self.0.created_at)
    }

    /// When the event happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Whether the viewer marked it read.
    async fn read(&self) -> bool {
        self.0.notification_read_at.is_some()
    }

    /// The conversation to open.
    async fn conversation_id(&self) -> Option<ID> {
        self.0
            .conversation_id
            .map(|id| GlobalId::encode(NodeKind::Conversation, id))
    }

    /// The goal to show (`GOAL_CHANGED`).
    async fn goal_id(&self) -> Option<ID> {
        (self.0.kind == user_event::UserEventKind::GoalChanged)
            .then_some(self.0.subject_id)
            .flatten()
            .map(|id| GlobalId::encode(NodeKind::Goal, id))
    }

    /// The appointment to show (`APPOINTMENT_*`).
    async fn appointment_id(&self) -> Option<ID> {
        appointment_of(&self.0)
    }

    /// The message to show.
    async fn message_id(&self) -> Option<ID> {
        self.0
            .message_id
            .map(|id| GlobalId::encode(NodeKind::Message, id))
    }

    /// Who caused it.
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        load_user(ctx, self.0.actor_id).await
    }
}

crate::connection_type!(
    NotificationConnection,
    NotificationEdge,
    Notification,
    "A page of the viewer's notifications, newest first.",
    "One notification with its cursor."
);

/// Daily quiet hours, in the user's time zone.
#[derive(SimpleObject)]
pub struct QuietHoursSetting {
    /// Start, `HH:MM` (24-hour).
    pub start: String,
    /// End, `HH:MM`; before the start means the next morning (21:00–08:00).
    pub end: String,
    /// IANA time zone, e.g. `Europe/Stockholm`.
    pub time_zone: String,
}

/// A staff member's away period, as the families they work with see it.
#[derive(SimpleObject)]
pub struct AwayPeriod {
    /// From when (null: already).
    pub from: Option<DateTime<Utc>>,
    /// Until when.
    pub until: DateTime<Utc>,
    /// A short note for the families ("Back on Monday; Jonas covers").
    pub note: Option<String>,
}

impl AwayPeriod {
    /// The away period of settings, if one is set and not over at `now`.
    pub fn of(settings: &contact_setting::Model, now: DateTime<Utc>) -> Option<AwayPeriod> {
        let until = settings.away_until.filter(|u| *u > now)?;
        Some(AwayPeriod {
            from: settings.away_from,
            until,
            note: settings.away_note.clone(),
        })
    }
}

/// How the viewer wants to be contacted.
pub struct ContactSettings {
    pub model: contact_setting::Model,
    /// The tenant's time zone, used when the user set none.
    pub default_zone: String,
}

/// How the viewer wants to be contacted.
#[Object]
impl ContactSettings {
    /// Quiet hours: notifications are held until they end (messages still
    /// arrive; the sender sees the notification is held). Null when unset.
    async fn quiet_hours(&self) -> Option<QuietHoursSetting> {
        let start = u32::try_from(self.model.quiet_start_minute?).ok()?;
        let end = u32::try_from(self.model.quiet_end_minute?).ok()?;
        Some(QuietHoursSetting {
            start: format_clock(start),
            end: format_clock(end),
            time_zone: self
                .model
                .time_zone
                .clone()
                .unwrap_or_else(|| self.default_zone.clone()),
        })
    }

    /// Whether others see when the viewer has read their messages (otherwise
    /// they see them delivered).
    async fn send_read_receipts(&self) -> bool {
        self.model.send_read_receipts
    }

    /// The viewer's away period (staff), if one is set and not over.
    async fn away(&self) -> Option<AwayPeriod> {
        AwayPeriod::of(&self.model, Utc::now())
    }
}

/// The platform of a push device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PushPlatform {
    /// An iPhone or iPad.
    Ios,
    /// An Android phone.
    Android,
    /// A browser (Web Push).
    Web,
}

impl PushPlatform {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PushPlatform::Ios => "IOS",
            PushPlatform::Android => "ANDROID",
            PushPlatform::Web => "WEB",
        }
    }

    fn parse(stored: &str) -> PushPlatform {
        match stored {
            "IOS" => PushPlatform::Ios,
            "ANDROID" => PushPlatform::Android,
            _ => PushPlatform::Web,
        }
    }
}

/// A device registered for push notifications.
pub struct PushDevice(pub push_device::Model);

/// A device registered for push notifications. Pushes carry no message
/// content, only that something new is waiting.
#[Object]
impl PushDevice {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::PushDevice, self.0.id)
    }

    /// The platform.
    async fn platform(&self) -> PushPlatform {
        PushPlatform::parse(&self.0.platform)
    }

    /// When it was registered.
    async fn registered_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Whether pushes still go to it.
    async fn active(&self) -> bool {
        self.0.revoked_at.is_none()
    }
}
