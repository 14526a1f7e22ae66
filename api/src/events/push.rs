//! Push notifications: devices register a token; every notification makes a
//! row per device in the outbox (`push_delivery`), written in the same
//! transaction as the event, and a worker POSTs it to the device's gateway
//! endpoint with retries and exponential backoff. A push carries no message
//! content, only that something new is waiting.

use std::time::Duration;

use chrono::Utc;
use entity::{
    push_delivery::{self, PushState},
    push_device, user_event,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set, sea_query::Expr,
};
use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

use super::types::PushPlatform;
use crate::{
    auth::Principal,
    error::{AppError, AppResult},
    graphql::{UserError, UserErrorCode},
};

/// Longest device token accepted.
const MAX_TOKEN_CHARS: usize = 512;
/// Deliveries a worker pass takes on.
const BATCH: u64 = 50;
/// How long a claimed delivery is reserved for the process that claimed it.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// Longest wait between two attempts.
const MAX_BACKOFF_SECONDS: i64 = 3600;

/// Where pushes go, from the configuration.
#[derive(Debug, Clone, Default)]
pub struct PushConfig {
    /// The gateway devices use unless they name their own endpoint.
    pub gateway_url: Option<String>,
    /// Prefixes a device's own endpoint must start with (besides the gateway).
    pub allowed_endpoints: Vec<String>,
    /// Attempts before a delivery is given up.
    pub max_attempts: i32,
    /// The first retry waits this long; each further one twice as long.
    pub retry_base: Duration,
    /// The longest the worker sleeps without being woken.
    pub poll_interval: Duration,
}

/// Registers (or re-registers) a device of the viewer. The same token again
/// returns the existing device; a token another user registered moves to the
/// viewer (the phone changed hands and signed in anew).
pub async fn register_device(
    db: &DatabaseConnection,
    config: &PushConfig,
    principal: &Principal,
    platform: PushPlatform,
    token: &str,
    endpoint: Option<&str>,
) -> AppResult<Result<push_device::Model, UserError>> {
    let token = token.trim();
    if token.is_empty() || token.chars().count() > MAX_TOKEN_CHARS {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "token",
            format!("Give the device token (1 to {MAX_TOKEN_CHARS} characters)."),
        )));
    }
    let endpoint = match endpoint.map(str::trim) {
        Some(url) => {
            let allowed = config
                .gateway_url
                .iter()
                .chain(config.allowed_endpoints.iter())
                .any(|prefix| url.starts_with(prefix.as_str()));
            if !allowed || url.len() > 1000 {
                return Ok(Err(UserError::on_field(
                    UserErrorCode::InvalidValue,
                    "endpoint",
                    "This push endpoint is not one the server delivers to.",
                )));
            }
            url.to_owned()
        }
        None => match &config.gateway_url {
            Some(url) => url.clone(),
            None => {
                return Ok(Err(UserError::on_field(
                    UserErrorCode::InvalidValue,
                    "endpoint",
                    "This server has no push gateway configured: give the device's endpoint.",
                )));
            }
        },
    };
    let now = Utc::now();
    let existing = push_device::Entity::find()
        .filter(push_device::Column::Token.eq(token))
        .filter(push_device::Column::RevokedAt.is_null())
        .all(db)
        .await?;
    for device in existing {
        if device.user_id == principal.user_id
            && device.endpoint == endpoint
            && device.platform == platform.as_str()
        {
            return Ok(Ok(device));
        }
        // One live registration per token: an older one (another user, or
        // another endpoint) stops receiving.
        let mut active = device.into_active_model();
        active.revoked_at = Set(Some(now));
        active.update(db).await?;
    }
    Ok(Ok(push_device::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(principal.user_id),
        tenant_id: Set(principal.tenant_id),
        platform: Set(platform.as_str().to_owned()),
        token: Set(token.to_owned()),
        endpoint: Set(endpoint),
        created_at: Set(now),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?))
}

/// Stops pushes to one of the viewer's devices; `NOT_FOUND` for anyone else's.
pub async fn unregister_device(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<push_device::Model> {
    let device = push_device::Entity::find_by_id(id)
        .filter(push_device::Column::UserId.eq(principal.user_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("push device"))?;
    if device.revoked_at.is_some() {
        return Ok(device);
    }
    let mut active = device.into_active_model();
    active.revoked_at = Set(Some(Utc::now()));
    Ok(active.update(db).await?)
}

/// The wait before attempt `attempts + 1`.
pub fn backoff(config: &PushConfig, attempts: i32) -> chrono::Duration {
    let base = i64::try_from(config.retry_base.as_millis()).unwrap_or(1000);
    let factor = 1_i64 << attempts.clamp(0, 20);
    chrono::Duration::milliseconds((base * factor).min(MAX_BACKOFF_SECONDS * 1000))
}

/// Runs the outbox worker until `shutdown` turns true. It sleeps until the
/// next delivery is due, or new ones are queued (the hub wakes it), or at
/// most `poll_interval` (for leases that ran out in another process).
pub async fn run_worker(
    db: DatabaseConnection,
    hub: std::sync::Arc<super::hub::Hub>,
    config: PushConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "push worker cannot build its HTTP client");
            return;
        }
    };
    loop {
        if let Err(error) = deliver_due(&db, &config, &client).await {
            tracing::warn!(error = %error.message(), "push delivery pass failed");
        }
        let wait = match next_due(&db).await {
            Ok(Some(due)) => (due - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(config.poll_interval),
            _ => config.poll_interval,
        };
        tokio::select! {
            _ = shutdown.wait_for(|down| *down) => return,
            () = hub.outbox_filled() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// When the next pending delivery is due.
async fn next_due(db: &DatabaseConnection) -> AppResult<Option<chrono::DateTime<Utc>>> {
    Ok(push_delivery::Entity::find()
        .filter(push_delivery::Column::State.eq(PushState::Pending))
        .order_by_asc(push_delivery::Column::DueAt)
        .one(db)
        .await?
        .map(|d| d.due_at))
}

/// One pass: claims the due deliveries and attempts each.
pub async fn deliver_due(
    db: &DatabaseConnection,
    config: &PushConfig,
    client: &reqwest::Client,
) -> AppResult<usize> {
    let now = Utc::now();
    let due = push_delivery::Entity::find()
        .filter(push_delivery::Column::State.eq(PushState::Pending))
        .filter(push_delivery::Column::DueAt.lte(now))
        .order_by_asc(push_delivery::Column::DueAt)
        .limit(BATCH)
        .all(db)
        .await?;
    let mut attempted = 0;
    for delivery in due {
        // Claim it with a conditional update, so that two server processes
        // never push the same notification twice.
        let claimed = push_delivery::Entity::update_many()
            .col_expr(push_delivery::Column::DueAt, Expr::value(now + LEASE))
            .col_expr(
                push_delivery::Column::Attempts,
                Expr::value(delivery.attempts + 1),
            )
            .filter(push_delivery::Column::Id.eq(delivery.id))
            .filter(push_delivery::Column::State.eq(PushState::Pending))
            .filter(push_delivery::Column::Attempts.eq(delivery.attempts))
            .exec(db)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        attempted += 1;
        attempt(db, config, client, delivery).await?;
    }
    Ok(attempted)
}

async fn attempt(
    db: &DatabaseConnection,
    config: &PushConfig,
    client: &reqwest::Client,
    delivery: push_delivery::Model,
) -> AppResult<()> {
    let attempts = delivery.attempts + 1;
    let device = push_device::Entity::find_by_id(delivery.device_id)
        .one(db)
        .await?;
    let event = user_event::Entity::find_by_id(delivery.event_id)
        .one(db)
        .await?;
    let (Some(device), Some(event)) = (device, event) else {
        return finish(
            db,
            delivery.id,
            PushState::Abandoned,
            attempts,
            Some("gone"),
        )
        .await;
    };
    if device.revoked_at.is_some() {
        return finish(
            db,
            delivery.id,
            PushState::Abandoned,
            attempts,
            Some("device unregistered"),
        )
        .await;
    }
    // No message content: only that something is waiting, and where.
    let body = json!({
        "token": device.token,
        "platform": device.platform,
        "notification": {
            "title": if event.urgent { "Urgent: a family member needs help now" } else { "You have a new message" },
            "urgent": event.urgent,
            "notificationId": crate::graphql::GlobalId::encode(
                crate::graphql::node::NodeKind::Notification,
                event.id,
            ).to_string(),
        },
    });
    let outcome = client.post(&device.endpoint).json(&body).send().await;
    match outcome {
        Ok(response) if response.status().is_success() => {
            finish(db, delivery.id, PushState::Delivered, attempts, None).await
        }
        Ok(response) if matches!(response.status().as_u16(), 404 | 410) => {
            // The gateway says the token is dead: stop pushing to the device.
            let mut active = device.into_active_model();
            active.revoked_at = Set(Some(Utc::now()));
            active.update(db).await?;
            finish(
                db,
                delivery.id,
                PushState::Abandoned,
                attempts,
                Some("the gateway no longer knows the device"),
            )
            .await
        }
        other => {
            let error = match other {
                Ok(response) => format!("gateway answered {}", response.status().as_u16()),
                Err(_) => "gateway unreachable".to_owned(),
            };
            if attempts >= config.max_attempts {
                return finish(
                    db,
                    delivery.id,
                    PushState::Abandoned,
                    attempts,
                    Some(&error),
                )
                .await;
            }
            let mut active = push_delivery::ActiveModel {
                id: Set(delivery.id),
                ..Default::default()
            };
            active.due_at = Set(Utc::now() + backoff(config, attempts - 1));
            active.attempts = Set(attempts);
            active.last_error = Set(Some(error));
            active.update(db).await?;
            Ok(())
        }
    }
}

async fn finish(
    db: &DatabaseConnection,
    id: Uuid,
    state: PushState,
    attempts: i32,
    error: Option<&str>,
) -> AppResult<()> {
    let mut active = push_delivery::ActiveModel {
        id: Set(id),
        ..Default::default()
    };
    active.state = Set(state);
    active.attempts = Set(attempts);
    active.last_error = Set(error.map(str::to_owned));
    if state == PushState::Delivered {
        active.delivered_at = Set(Some(Utc::now()));
    }
    active.update(db).await?;
    Ok(())
}

/// How many pushes wait to be delivered (for metrics and tests).
pub async fn outbox_depth(db: &DatabaseConnection) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(push_delivery::Entity::find()
        .filter(push_delivery::Column::State.eq(PushState::Pending))
        .count(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let config = PushConfig {
            retry_base: Duration::from_secs(1),
            ..PushConfig::default()
        };
        assert_eq!(backoff(&config, 0), chrono::Duration::seconds(1));
        assert_eq!(backoff(&config, 1), chrono::Duration::seconds(2));
        assert_eq!(backoff(&config, 3), chrono::Duration::seconds(8));
        assert_eq!(backoff(&config, 30), chrono::Duration::seconds(3600));
    }
}
