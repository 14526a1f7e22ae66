//! Queries and mutations of notifications, contact settings and push devices.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{
    push,
    quiet::parse_clock,
    service,
    types::{
        ContactSettings, Notification, NotificationConnection, PushDevice, PushPlatform,
        decode_notification_cursor, notification_cursor,
    },
};
use crate::{
    auth::policy::{Action, Policy},
    case::service::tenant_zone,
    graphql::{
        ContextExt, UserError, UserErrorCode,
        node::{GlobalId, NodeKind},
    },
};

/// Longest away note.
const MAX_AWAY_NOTE_CHARS: usize = 500;

/// Notification queries.
#[derive(Default)]
pub struct EventsQuery;

#[Object]
impl EventsQuery {
    /// The viewer's notifications, newest first. Notifications that came
    /// during the viewer's quiet hours appear when the quiet hours end.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (1–100).")] first: i32,
        #[graphql(desc = "Only notifications after this cursor.")] after: Option<String>,
    ) -> Result<NotificationConnection> {
        let principal = ctx.viewer().principal()?;
        let after = after
            .as_deref()
            .map(decode_notification_cursor)
            .transpose()?;
        let (rows, has_next_page) =
            service::notifications(&ctx.state().db, principal, first, after).await?;
        let edges: Vec<(String, Notification)> = rows
            .into_iter()
            .map(|row| (notification_cursor(&row), Notification(row)))
            .collect();
        let page_info = async_graphql::connection::PageInfo {
            has_previous_page: false,
            has_next_page,
            start_cursor: edges.first().map(|e| e.0.clone()),
            end_cursor: edges.last().map(|e| e.0.clone()),
        };
        Ok(NotificationConnection::new((edges, page_info)))
    }
}

/// Daily quiet hours.
#[derive(Debug, InputObject)]
pub struct QuietHoursInput {
    /// Start, `HH:MM` (24-hour), e.g. `21:00`.
    pub start: String,
    /// End, `HH:MM`; before the start means the next morning, e.g. `08:00`.
    pub end: String,
    /// IANA time zone, e.g. `Europe/Stockholm`; default the municipality's.
    pub time_zone: Option<String>,
}

/// Changing the viewer's contact settings; fields left out stay as they are.
#[derive(Debug, InputObject)]
pub struct UpdateContactSettingsInput {
    /// New quiet hours.
    pub quiet_hours: Option<QuietHoursInput>,
    /// True to remove the quiet hours.
    pub clear_quiet_hours: Option<bool>,
    /// Whether others see when the viewer has read their messages.
    pub send_read_receipts: Option<bool>,
}

/// Marking oneself away (staff).
#[derive(Debug, InputObject)]
pub struct SetAwayPeriodInput {
    /// From when; default now.
    pub from: Option<DateTime<Utc>>,
    /// Until when (in the future, at most a year ahead).
    pub until: DateTime<Utc>,
    /// A short note the families see ("Back on Monday; Jonas covers").
    pub note: Option<String>,
}

/// The result of a contact-settings mutation.
#[derive(SimpleObject)]
pub struct ContactSettingsPayload {
    /// The settings; null when there are user errors.
    pub contact_settings: Option<ContactSettings>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// Marking notifications read.
#[derive(Debug, InputObject)]
pub struct MarkNotificationsReadInput {
    /// The notifications; leave out to mark every notification shown so far.
    pub notification_ids: Option<Vec<ID>>,
}

/// The result of `markNotificationsRead`.
#[derive(SimpleObject)]
pub struct MarkNotificationsReadPayload {
    /// Unread notifications left.
    pub unread_notification_count: u64,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// Registering a phone for push notifications.
#[derive(Debug, InputObject)]
pub struct RegisterPushDeviceInput {
    /// The platform.
    pub platform: PushPlatform,
    /// The push gateway's token for this device.
    pub token: String,
    /// The gateway URL to deliver to (a Web Push endpoint, say); it must
    /// start with one of the server's allowed push endpoints. Default: the
    /// server's push gateway.
    pub endpoint: Option<String>,
}

/// Stopping pushes to a device.
#[derive(Debug, InputObject)]
pub struct UnregisterPushDeviceInput {
    /// The device.
    pub device_id: ID,
}

/// The result of a push-device mutation.
#[derive(SimpleObject)]
pub struct PushDevicePayload {
    /// The device; null when there are user errors.
    pub device: Option<PushDevice>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

fn settings_error(code: UserErrorCode, field: &str, message: &str) -> ContactSettingsPayload {
    ContactSettingsPayload {
        contact_settings: None,
        user_errors: vec![UserError {
            code,
            message: message.to_owned(),
            field: Some(field.split('.').map(str::to_owned).collect()),
        }],
    }
}

/// Notification, settings and push mutations.
#[derive(Default)]
pub struct EventsMutation;

#[Object]
impl EventsMutation {
    /// Changes the viewer's quiet hours and read-receipt setting.
    async fn update_contact_settings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to change.")] input: UpdateContactSettingsInput,
    ) -> Result<ContactSettingsPayload> {
        let principal = ctx.viewer().principal()?;
        let db = &ctx.state().db;
        let zone = tenant_zone(db, principal.tenant_id).await?;
        let mut settings = service::contact_settings(db, principal.user_id).await?;
        if input.quiet_hours.is_some() && input.clear_quiet_hours == Some(true) {
            return Ok(settings_error(
                UserErrorCode::ExactlyOneRequired,
                "input.clearQuietHours",
                "Set quiet hours or clear them, not both.",
            ));
        }
        if let Some(quiet) = &input.quiet_hours {
            let Some(start) = parse_clock(&quiet.start) else {
                return Ok(settings_error(
                    UserErrorCode::InvalidFormat,
                    "input.quietHours.start",
                    "Give the start as HH:MM, e.g. 21:00.",
                ));
            };
            let Some(end) = parse_clock(&quiet.end) else {
                return Ok(settings_error(
                    UserErrorCode::InvalidFormat,
                    "input.quietHours.end",
                    "Give the end as HH:MM, e.g. 08:00.",
                ));
            };
            if start == end {
                return Ok(settings_error(
                    UserErrorCode::InvalidValue,
                    "input.quietHours.end",
                    "Quiet hours must end at another time than they start.",
                ));
            }
            let time_zone = match quiet.time_zone.as_deref().map(str::trim) {
                Some(name) => match name.parse::<Tz>() {
                    Ok(tz) => Some(tz.name().to_owned()),
                    Err(_) => {
                        return Ok(settings_error(
                            UserErrorCode::InvalidValue,
                            "input.quietHours.timeZone",
                            "Give an IANA time zone such as Europe/Stockholm.",
                        ));
                    }
                },
                None => None,
            };
            settings.quiet_start_minute = i32::try_from(start).ok();
            settings.quiet_end_minute = i32::try_from(end).ok();
            settings.time_zone = time_zone;
        }
        if input.clear_quiet_hours == Some(true) {
            settings.quiet_start_minute = None;
            settings.quiet_end_minute = None;
        }
        if let Some(receipts) = input.send_read_receipts {
            settings.send_read_receipts = receipts;
        }
        let saved = service::save_settings(db, settings).await?;
        Ok(ContactSettingsPayload {
            contact_settings: Some(ContactSettings {
                model: saved,
                default_zone: zone.name().to_owned(),
            }),
            user_errors: Vec::new(),
        })
    }

    /// Marks the viewer (staff) away: the families on their cases see it, and
    /// the partner caseworker is notified of the families' messages instead.
    async fn set_away_period(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The away period.")] input: SetAwayPeriodInput,
    ) -> Result<ContactSettingsPayload> {
        let principal = ctx.viewer().principal()?;
        Policy::ensure_allowed(principal, Action::SetAwayPeriod)?;
        let db = &ctx.state().db;
        let now = Utc::now();
        if input.until <= now {
            return Ok(settings_error(
                UserErrorCode::InvalidValue,
                "input.until",
                "The away period must end in the future.",
            ));
        }
        if input.until > now + chrono::Duration::days(366) {
            return Ok(settings_error(
                UserErrorCode::InvalidValue,
                "input.until",
                "An away period can last at most a year.",
            ));
        }
        if input.from.is_some_and(|from| from >= input.until) {
            return Ok(settings_error(
                UserErrorCode::InvalidValue,
                "input.from",
                "The away period must start before it ends.",
            ));
        }
        let note = input
            .note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        if note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_AWAY_NOTE_CHARS)
        {
            return Ok(settings_error(
                UserErrorCode::TooLong,
                "input.note",
                "Use at most 500 characters.",
            ));
        }
        let zone = tenant_zone(db, principal.tenant_id).await?;
        let mut settings = service::contact_settings(db, principal.user_id).await?;
        settings.away_from = input.from;
        settings.away_until = Some(input.until);
        settings.away_note = note;
        let saved = service::save_settings(db, settings).await?;
        Ok(ContactSettingsPayload {
            contact_settings: Some(ContactSettings {
                model: saved,
                default_zone: zone.name().to_owned(),
            }),
            user_errors: Vec::new(),
        })
    }

    /// Ends the viewer's away period now.
    async fn end_away_period(&self, ctx: &Context<'_>) -> Result<ContactSettingsPayload> {
        let principal = ctx.viewer().principal()?;
        let db = &ctx.state().db;
        let zone = tenant_zone(db, principal.tenant_id).await?;
        let mut settings = service::contact_settings(db, principal.user_id).await?;
        settings.away_from = None;
        settings.away_until = None;
        settings.away_note = None;
        let saved = service::save_settings(db, settings).await?;
        Ok(ContactSettingsPayload {
            contact_settings: Some(ContactSettings {
                model: saved,
                default_zone: zone.name().to_owned(),
            }),
            user_errors: Vec::new(),
        })
    }

    /// Marks notifications read.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which notifications.")] input: MarkNotificationsReadInput,
    ) -> Result<MarkNotificationsReadPayload> {
        let principal = ctx.viewer().principal()?;
        let db = &ctx.state().db;
        let ids = match &input.notification_ids {
            Some(ids) => {
                if ids.len() > 100 {
                    return Ok(MarkNotificationsReadPayload {
                        unread_notification_count: service::unread_notification_count(
                            db, principal,
                        )
                        .await?,
                        user_errors: vec![UserError::on_field(
                            UserErrorCode::InvalidValue,
                            "notificationIds",
                            "Mark at most 100 notifications at a time, or leave the list out for all.",
                        )],
                    });
                }
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let uuid = GlobalId::expect(
                        id,
                        NodeKind::Notification,
                        &["input", "notificationIds"],
                    )?;
                    service::own_event(db, principal, uuid).await?;
                    out.push(uuid);
                }
                Some(out)
            }
            None => None,
        };
        service::mark_notifications_read(db, principal, ids).await?;
        Ok(MarkNotificationsReadPayload {
            unread_notification_count: service::unread_notification_count(db, principal).await?,
            user_errors: Vec::new(),
        })
    }

    /// Registers the viewer's phone for push notifications (again: the same
    /// token returns the same device).
    async fn register_push_device(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The device.")] input: RegisterPushDeviceInput,
    ) -> Result<PushDevicePayload> {
        let principal = ctx.viewer().principal()?;
        let state = ctx.state();
        let outcome = push::register_device(
            &state.db,
            &state.push,
            principal,
            input.platform,
            &input.token,
            input.endpoint.as_deref(),
        )
        .await?;
        Ok(match outcome {
            Ok(model) => PushDevicePayload {
                device: Some(PushDevice(model)),
                user_errors: Vec::new(),
            },
            Err(problem) => PushDevicePayload {
                device: None,
                user_errors: vec![problem],
            },
        })
    }

    /// Stops pushes to one of the viewer's devices (after sign-out on it, say).
    async fn unregister_push_device(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The device.")] input: UnregisterPushDeviceInput,
    ) -> Result<PushDevicePayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(
            &input.device_id,
            NodeKind::PushDevice,
            &["input", "deviceId"],
        )?;
        let model = push::unregister_device(&ctx.state().db, principal, id).await?;
        Ok(PushDevicePayload {
            device: Some(PushDevice(model)),
            user_errors: Vec::new(),
        })
    }
}
