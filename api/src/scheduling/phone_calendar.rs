//! Calendars on the phone: each user can create secret, revocable addresses
//! (`GET /calendar/<token>.ics`) at which their phone's calendar app reads
//! their appointments. A phone calendar may be seen by others, so titles are
//! discreet by default ("Appointment", no place, no agency); the user can opt
//! into full titles. Only the token's hash is stored.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use entity::{
    appointment::{self, AppointmentStatus},
    appointment_participant::{self, Response},
    calendar_subscription, user_account,
};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use super::service::appointments_of_user;
use crate::{
    auth::{
        Principal,
        token::{hash_secret, new_secret},
    },
    error::{AppError, AppResult},
    graphql::{
        ContextExt, UserError,
        node::{GlobalId, NodeKind},
    },
};

use crate::graphql::pagination::{MAX_LIST_SIZE, list_size};
/// How far back and ahead the phone calendar reaches.
const PAST_DAYS: i64 = 30;
const AHEAD_DAYS: i64 = 365;
/// How often calendar apps are asked to refresh.
const REFRESH: Duration = Duration::hours(1);
/// Most live addresses per user (one per device, with room to spare).
const MAX_PER_USER: usize = 10;

/// The path of a subscription's address.
pub fn path(token: &str) -> String {
    format!("/calendar/{token}.ics")
}

/// Renders a user's appointments as an iCalendar feed. Discreet unless
/// `full_titles`: every event is titled "Appointment", without place or
/// description. Cancelled appointments stay, marked cancelled, so calendar
/// apps take them away; ones the user declined are left out.
pub fn render(
    appointments: &[(appointment::Model, appointment_participant::Model)],
    full_titles: bool,
    now: DateTime<Utc>,
) -> String {
    let mut calendar = Calendar::new();
    calendar.name(if full_titles {
        "Family services appointments"
    } else {
        "Appointments"
    });
    calendar.ttl(&REFRESH);
    for (a, me) in appointments {
        if me.response == Response::Declined {
            continue;
        }
        let mut event = Event::new();
        event
            .uid(&format!("{}@family-services", a.id))
            .timestamp(now)
            .starts(a.starts_at)
            .ends(a.ends_at)
            .add_property("SEQUENCE", a.version.to_string());
        if full_titles {
            event.summary(&a.title);
            if let Some(place) = &a.location {
                event.location(place);
            }
        } else {
            event.summary("Appointment");
        }
        event.status(if a.status == AppointmentStatus::Cancelled {
            EventStatus::Cancelled
        } else if me.response == Response::Tentative {
            EventStatus::Tentative
        } else {
            EventStatus::Confirmed
        });
        calendar.push(event.done());
    }
    calendar.done().to_string()
}

/// The feed behind a token, or `None` for an unknown or revoked token or a
/// deactivated account (the same answer for each).
pub async fn feed_for_token(db: &DatabaseConnection, token: &str) -> AppResult<Option<String>> {
    let Some(subscription) = calendar_subscription::Entity::find()
        .filter(calendar_subscription::Column::TokenHash.eq(hash_secret(token)))
        .filter(calendar_subscription::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let live = user_account::Entity::find_by_id(subscription.user_id)
        .one(db)
        .await?
        .is_some_and(|u| u.disabled_at.is_none());
    if !live {
        return Ok(None);
    }
    let now = Utc::now();
    let appointments = appointments_of_user(
        db,
        subscription.tenant_id,
        subscription.user_id,
        now - Duration::days(PAST_DAYS),
        now + Duration::days(AHEAD_DAYS),
    )
    .await?;
    let text = render(&appointments, subscription.full_titles, now);
    let mut used = subscription.into_active_model();
    used.last_used_at = Set(Some(now));
    used.update(db).await?;
    Ok(Some(text))
}

/// A secret address of the viewer's phone calendar (without the secret).
pub struct CalendarSubscription(pub calendar_subscription::Model);

/// A secret address of the viewer's phone calendar (without the secret).
#[Object]
impl CalendarSubscription {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::CalendarSubscription, self.0.id)
    }

    /// Whether titles and places are shown (otherwise "Appointment").
    async fn full_titles(&self) -> bool {
        self.0.full_titles
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When a calendar app last read it.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
}

impl From<calendar_subscription::Model> for CalendarSubscription {
    fn from(model: calendar_subscription::Model) -> Self {
        CalendarSubscription(model)
    }
}

/// Creating a phone calendar address.
#[derive(Debug, InputObject)]
pub struct CreateCalendarSubscriptionInput {
    /// Show titles and places instead of a discreet "Appointment" (others
    /// may see a phone's calendar).
    #[graphql(default)]
    pub full_titles: bool,
}

/// The result of `createCalendarSubscription`.
#[derive(SimpleObject)]
pub struct CreateCalendarSubscriptionPayload {
    /// The new address's record; null when there are user errors.
    pub subscription: Option<CalendarSubscription>,
    /// The secret path to give the phone's calendar app, after the API's
    /// base address (`/calendar/<token>.ics`). Shown only now: keep it secret.
    pub path: Option<String>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// Revoking a phone calendar address.
#[derive(Debug, InputObject)]
pub struct RevokeCalendarSubscriptionInput {
    /// The address's record.
    pub subscription_id: ID,
}

/// The result of `revokeCalendarSubscription`.
#[derive(SimpleObject)]
pub struct RevokeCalendarSubscriptionPayload {
    /// The revoked address's record.
    pub subscription: Option<CalendarSubscription>,
    /// Problems the user can fix.
    pub user_errors: Vec<UserError>,
}

/// The viewer's own live subscription, or `NOT_FOUND`.
pub async fn own_subscription(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<calendar_subscription::Model> {
    calendar_subscription::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|s| s.user_id == principal.user_id && s.revoked_at.is_none())
        .ok_or(AppError::NotFound("calendar subscription"))
}

async fn live_of(
    db: &DatabaseConnection,
    principal: &Principal,
) -> AppResult<Vec<calendar_subscription::Model>> {
    Ok(calendar_subscription::Entity::find()
        .filter(calendar_subscription::Column::UserId.eq(principal.user_id))
        .filter(calendar_subscription::Column::RevokedAt.is_null())
        .order_by_asc(calendar_subscription::Column::Id)
        .all(db)
        .await?)
}

/// Phone calendars: queries.
#[derive(Default)]
pub struct PhoneCalendarQuery;

#[Object]
impl PhoneCalendarQuery {
    /// The viewer's live phone calendar addresses (without their secrets).
    async fn calendar_subscriptions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (1 to 500; 500 when left out).")] first: Option<i32>,
    ) -> Result<Vec<CalendarSubscription>> {
        let limit = list_size(first, MAX_LIST_SIZE)?;
        let principal = ctx.viewer().principal()?;
        Ok(live_of(&ctx.state().db, principal)
            .await?
            .into_iter()
            .take(limit)
            .map(Into::into)
            .collect())
    }
}

/// Phone calendars: mutations.
#[derive(Default)]
pub struct PhoneCalendarMutation;

#[Object]
impl PhoneCalendarMutation {
    /// Creates a secret address at which the viewer's phone calendar reads
    /// their appointments (a year ahead, a month back; refreshed hourly).
    async fn create_calendar_subscription(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Discreet or full titles.")] input: CreateCalendarSubscriptionInput,
    ) -> Result<CreateCalendarSubscriptionPayload> {
        let principal = ctx.viewer().principal()?;
        let db = &ctx.state().db;
        if live_of(db, principal).await?.len() >= MAX_PER_USER {
            return Ok(CreateCalendarSubscriptionPayload {
                subscription: None,
                path: None,
                user_errors: vec![UserError {
                    code: crate::graphql::UserErrorCode::InvalidValue,
                    message: "Revoke an address you no longer use first (at most 10).".into(),
                    field: None,
                }],
            });
        }
        let token = new_secret();
        let saved = calendar_subscription::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(principal.tenant_id),
            user_id: Set(principal.user_id),
            token_hash: Set(hash_secret(&token)),
            full_titles: Set(input.full_titles),
            created_at: Set(Utc::now()),
            last_used_at: Set(None),
            revoked_at: Set(None),
        }
        .insert(db)
        .await
        .map_err(AppError::from)?;
        Ok(CreateCalendarSubscriptionPayload {
            subscription: Some(saved.into()),
            path: Some(path(&token)),
            user_errors: Vec::new(),
        })
    }

    /// Revokes a phone calendar address: its calendar stops at once.
    async fn revoke_calendar_subscription(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The address.")] input: RevokeCalendarSubscriptionInput,
    ) -> Result<RevokeCalendarSubscriptionPayload> {
        let principal = ctx.viewer().principal()?;
        let db = &ctx.state().db;
        let id = GlobalId::expect(
            &input.subscription_id,
            NodeKind::CalendarSubscription,
            &["input", "subscriptionId"],
        )?;
        let mut revoked = own_subscription(db, principal, id)
            .await?
            .into_active_model();
        revoked.revoked_at = Set(Some(Utc::now()));
        let saved = revoked.update(db).await.map_err(AppError::from)?;
        Ok(RevokeCalendarSubscriptionPayload {
            subscription: Some(saved.into()),
            user_errors: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use entity::appointment::{AppointmentKind, LocationKind};

    use super::*;

    fn sample(
        status: AppointmentStatus,
        response: Response,
    ) -> (appointment::Model, appointment_participant::Model) {
        let start = DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let id = Uuid::now_v7();
        (
            appointment::Model {
                id,
                tenant_id: Uuid::nil(),
                case_id: Uuid::nil(),
                kind: AppointmentKind::Treatment,
                title: "BUP: therapy for Elias".into(),
                starts_at: start,
                ends_at: start + Duration::hours(1),
                location_kind: LocationKind::Address,
                location: Some("BUP Exempelby, Storgatan 1".into()),
                organiser_id: Uuid::nil(),
                status,
                cancel_reason: None,
                override_reason: None,
                version: 2,
                created_at: start,
                updated_at: start,
                reminded_at: None,
            },
            appointment_participant::Model {
                id: Uuid::now_v7(),
                appointment_id: id,
                user_id: Some(Uuid::nil()),
                organisation_id: None,
                required: true,
                response,
                response_reason: None,
                responded_at: None,
                late_decline: false,
                counter_starts_at: None,
                counter_ends_at: None,
                attendance: None,
                starts_at: Some(start),
                ends_at: Some(start + Duration::hours(1)),
            },
        )
    }

    #[test]
    fn discreet_by_default_and_full_titles_on_request() {
        let rows = vec![
            sample(AppointmentStatus::Booked, Response::Accepted),
            sample(AppointmentStatus::Cancelled, Response::Accepted),
            sample(AppointmentStatus::Booked, Response::Declined),
        ];
        let discreet = render(&rows, false, Utc::now());
        assert_eq!(discreet.matches("BEGIN:VEVENT").count(), 2, "{discreet}");
        assert_eq!(discreet.matches("SUMMARY:Appointment").count(), 2);
        assert!(!discreet.contains("BUP"), "{discreet}");
        assert!(!discreet.contains("LOCATION"), "{discreet}");
        assert!(discreet.contains("STATUS:CANCELLED"));
        assert!(discreet.contains("DTSTART:20261201T090000Z"), "{discreet}");
        assert!(
            discreet.contains("REFRESH-INTERVAL;VALUE=DURATION:PT3600S"),
            "{discreet}"
        );
        let full = render(&rows, true, Utc::now());
        assert!(full.contains("SUMMARY:BUP: therapy for Elias"), "{full}");
        assert!(full.contains("LOCATION:BUP Exempelby"), "{full}");
    }
}
