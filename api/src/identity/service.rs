//! Identity logic: sign-in, sessions and reading identity objects through the policy.

use chrono::Utc;
use entity::{organisation, session, tenant, user_account};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::{
    auth::{
        Principal, TokenKeys,
        password::{self, MAX_PASSWORD_CHARS},
        policy::{Policy, Resource},
        token::{self, SESSION_LIFETIME},
    },
    error::{AppError, AppResult},
    graphql::{UserError, UserErrorCode},
};

/// Longest device label kept for a session.
pub const MAX_DEVICE_LABEL_CHARS: usize = 200;
/// Longest e-mail address accepted (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// A session just created by `login`.
pub struct SignedIn {
    pub principal: Principal,
    pub access_token: String,
    pub access_token_expires_at: chrono::DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: chrono::DateTime<Utc>,
}

/// Normalises an e-mail address for lookup and storage.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Signs a user in with e-mail and password and opens a session for the device.
///
/// An unknown account, a wrong password and an account without a password all
/// give the same `INVALID_CREDENTIALS` user error after the same amount of work
/// (one argon2 verification), so neither the answer nor its timing reveals
/// whether an account exists.
pub async fn login(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    email: &str,
    password: &str,
    device_label: Option<&str>,
) -> AppResult<Result<SignedIn, UserError>> {
    let email = normalise_email(email);
    if email.is_empty() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::Required,
            "email",
            "Enter your e-mail address.",
        )));
    }
    if email.chars().count() > MAX_EMAIL_CHARS || password.chars().count() > MAX_PASSWORD_CHARS {
        return Ok(Err(invalid_credentials()));
    }
    let account = user_account::Entity::find()
        .filter(user_account::Column::Email.eq(email.as_str()))
        .one(db)
        .await?;
    let stored = account.as_ref().and_then(|a| a.password_hash.clone());
    let candidate = password.to_owned();
    let verified = tokio::task::spawn_blocking(move || {
        password::verify_password(&candidate, stored.as_deref())
    })
    .await
    .map_err(|e| AppError::Internal(format!("password verification task failed: {e}")))?;
    let account = match account {
        Some(account) if verified && account.disabled_at.is_none() => account,
        _ => return Ok(Err(invalid_credentials())),
    };

    let now = Utc::now();
    let refresh_token = token::new_refresh_token();
    let session = session::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(account.id),
        tenant_id: Set(account.tenant_id),
        refresh_token_hash: Set(token::hash_refresh_token(&refresh_token)),
        device_label: Set(device_label
            .map(shorten_device_label)
            .filter(|l| !l.is_empty())),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + SESSION_LIFETIME),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    let (access_token, access_token_expires_at) = keys
        .issue_access_token(account.id, account.tenant_id, session.id, now)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Ok(SignedIn {
        principal: Principal {
            user_id: account.id,
            tenant_id: account.tenant_id,
            organisation_id: account.organisation_id,
            role: account.role,
            session_id: session.id,
        },
        access_token,
        access_token_expires_at,
        refresh_token,
        refresh_token_expires_at: session.expires_at,
    }))
}

fn invalid_credentials() -> UserError {
    UserError::general(
        UserErrorCode::InvalidCredentials,
        "The e-mail address or the password is wrong.",
    )
}

fn shorten_device_label(label: &str) -> String {
    label
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_DEVICE_LABEL_CHARS)
        .collect()
}

/// A tenant the principal may read.
pub async fn tenant(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<tenant::Model> {
    Policy::ensure_read(principal, Resource::Tenant { id }, "tenant")?;
    tenant::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("tenant"))
}

/// An organisation the principal may read.
pub async fn organisation(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<organisation::Model> {
    let row = organisation::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("organisation"))?;
    Policy::ensure_read(
        principal,
        Resource::Organisation {
            tenant_id: row.tenant_id,
        },
        "organisation",
    )?;
    Ok(row)
}

/// A user the principal may read.
pub async fn user(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<user_account::Model> {
    let row = user_account::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    Policy::ensure_read(
        principal,
        Resource::User {
            id: row.id,
            tenant_id: row.tenant_id,
            role: row.role,
        },
        "user",
    )?;
    Ok(row)
}

/// A session the principal may read (only their own).
pub async fn session(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<session::Model> {
    let row = session::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("session"))?;
    Policy::ensure_read(
        principal,
        Resource::Session {
            user_id: row.user_id,
        },
        "session",
    )?;
    Ok(row)
}

/// The principal's live (not revoked, not expired) sessions, newest first.
pub async fn live_sessions(
    db: &DatabaseConnection,
    principal: &Principal,
) -> AppResult<Vec<session::Model>> {
    Policy::ensure_read(
        principal,
        Resource::Session {
            user_id: principal.user_id,
        },
        "session",
    )?;
    Ok(session::Entity::find()
        .filter(session::Column::UserId.eq(principal.user_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(session::Column::CreatedAt)
        .all(db)
        .await?)
}
