//! Identity logic: sign-in, sessions, passwords, invitations and accounts. Every
//! function takes the database and the acting principal (or request facts)
//! explicitly, asks the policy, and records what it did in the audit trail in
//! the same transaction as the change.

use chrono::{DateTime, Duration, Utc};
use entity::{
    audit_event, family_member, invitation, organisation, organisation::OrganisationKind, session,
    tenant, user_account, user_account::Role,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    audit::{self, AuditAction, AuditEntry},
    auth::{
        Principal, TokenKeys,
        oidc::OidcVerifier,
        password::{self, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS},
        policy::{Action, Policy, Resource, is_staff},
        throttle::{self, PER_ACCOUNT, PER_ADDRESS, ThrottleRule},
        token::{SESSION_LIFETIME, hash_secret, new_secret},
    },
    error::{AppError, AppResult},
    graphql::{RequestMeta, UserError, UserErrorCode},
};

/// Longest device label kept for a session.
pub const MAX_DEVICE_LABEL_CHARS: usize = 200;
/// Longest e-mail address accepted (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest display name accepted.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;
/// How long a phone may retry a refresh whose answer it lost and get the same
/// new refresh token instead of tripping reuse detection.
pub const REFRESH_RETRY_GRACE: Duration = Duration::seconds(30);
/// Default and longest validity of an invitation.
pub const DEFAULT_INVITATION_DAYS: i32 = 7;
pub const MAX_INVITATION_DAYS: i32 = 30;
/// Redeeming invitation codes: 10 failures per address in 15 minutes lock it.
pub const INVITATION_PER_ADDRESS: ThrottleRule = ThrottleRule {
    max_failures: 10,
    window: Duration::minutes(15),
    lock: Duration::minutes(15),
};

/// Tokens of a new or refreshed session.
pub struct Issued {
    pub principal: Principal,
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
}

/// Normalises an e-mail address for lookup and storage.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
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

fn principal_of(account: &user_account::Model, session_id: Uuid) -> Principal {
    Principal {
        user_id: account.id,
        tenant_id: account.tenant_id,
        organisation_id: account.organisation_id,
        role: account.role,
        session_id,
    }
}

fn issue(
    keys: &TokenKeys,
    account: &user_account::Model,
    session: &session::Model,
    now: DateTime<Utc>,
) -> AppResult<Issued> {
    let (access_token, access_token_expires_at) = keys
        .issue_access_token(account.id, account.tenant_id, session.id, now)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Issued {
        principal: principal_of(account, session.id),
        access_token,
        access_token_expires_at,
        refresh_token: keys.refresh_token(session.id, session.refresh_generation),
        refresh_token_expires_at: session.expires_at,
    })
}

/// Opens a session for `account` inside `txn` and returns its tokens.
async fn open_session(
    txn: &DatabaseTransaction,
    keys: &TokenKeys,
    account: &user_account::Model,
    device_label: Option<&str>,
) -> AppResult<Issued> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    let session = session::ActiveModel {
        id: Set(id),
        user_id: Set(account.id),
        tenant_id: Set(account.tenant_id),
        refresh_token_hash: Set(hash_secret(&keys.refresh_token(id, 0))),
        refresh_generation: Set(0),
        rotated_at: Set(None),
        device_label: Set(device_label
            .map(shorten_device_label)
            .filter(|l| !l.is_empty())),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + SESSION_LIFETIME),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    }
    .insert(txn)
    .await?;
    issue(keys, account, &session, now)
}

/// Signs a user in with e-mail and password and opens a session for the device.
///
/// An unknown account, a wrong password and a deactivated account all give the
/// same `INVALID_CREDENTIALS` user error after the same work (one argon2
/// verification, the same throttle and audit writes), so neither the answer nor
/// its timing reveals whether an account exists. Repeated failures per typed
/// account name and per client address slow down and then lock (`RATE_LIMITED`).
pub async fn login(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    meta: &RequestMeta,
    email: &str,
    password: &str,
    device_label: Option<&str>,
) -> AppResult<Result<Issued, UserError>> {
    let email = normalise_email(email);
    if email.is_empty() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::Required,
            "email",
            "Enter your e-mail address.",
        )));
    }
    // The address goes into lookups, throttle keys and the audit trail;
    // PostgreSQL refuses U+0000 in any of them. The engine refuses such text
    // before any resolver runs (`gate::check_text_input`); this keeps the
    // service safe whoever calls it.
    if crate::gate::refused_control_character(&email).is_some() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidFormat,
            "email",
            "An e-mail address cannot contain control characters.",
        )));
    }
    let account_key = throttle::account_key("login", &email);
    let address_key = throttle::address_key("login", meta.client_address);
    let keys_to_check: Vec<String> = std::iter::once(account_key.clone())
        .chain(address_key.clone())
        .collect();
    let account = if email.chars().count() > MAX_EMAIL_CHARS {
        None
    } else {
        user_account::Entity::find()
            .filter(user_account::Column::Email.eq(email.as_str()))
            .one(db)
            .await?
    };
    if let Err(limited) = throttle::ensure_not_locked(db, &keys_to_check).await {
        audit::append(
            db,
            AuditEntry::new(
                AuditAction::LoginRateLimited,
                account.as_ref().map(|a| a.tenant_id),
            )
            .request(&meta.request_id),
        )
        .await?;
        return Err(limited);
    }

    let too_long = password.chars().count() > MAX_PASSWORD_CHARS;
    let stored = account.as_ref().and_then(|a| a.password_hash.clone());
    let verified = password::verify_password_async(
        if too_long {
            String::new()
        } else {
            password.to_owned()
        },
        stored,
    )
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
        && !too_long;

    match account {
        Some(account) if verified && account.disabled_at.is_none() => {
            throttle::reset(db, &account_key).await?;
            let txn = db.begin().await?;
            let issued = open_session(&txn, keys, &account, device_label).await?;
            audit::append(
                &txn,
                AuditEntry::new(AuditAction::LoginSucceeded, Some(account.tenant_id))
                    .actor(account.id)
                    .subject("Session", issued.principal.session_id)
                    .request(&meta.request_id),
            )
            .await?;
            txn.commit().await?;
            Ok(Ok(issued))
        }
        account => {
            let detail = match &account {
                None => "UNKNOWN_ACCOUNT",
                Some(a) if a.disabled_at.is_some() => "DEACTIVATED",
                Some(a) if a.password_hash.is_none() => "NO_PASSWORD",
                Some(_) => "WRONG_PASSWORD",
            };
            let mut failures = throttle::record_failure(db, &account_key, PER_ACCOUNT).await?;
            if let Some(address_key) = &address_key {
                failures =
                    failures.max(throttle::record_failure(db, address_key, PER_ADDRESS).await?);
            }
            let mut entry = AuditEntry::new(
                AuditAction::LoginFailed,
                account.as_ref().map(|a| a.tenant_id),
            )
            .request(&meta.request_id)
            .detail(detail);
            if let Some(account) = &account {
                entry = entry.subject("User", account.id);
            }
            audit::append(db, entry).await?;
            tokio::time::sleep(throttle::slowdown(failures)).await;
            Ok(Err(invalid_credentials()))
        }
    }
}

/// Exchanges a refresh token for a new pair, rotating the refresh token.
///
/// - The current token: a new generation is issued and the session extended.
/// - The previous token within `REFRESH_RETRY_GRACE` of its rotation: the same
///   new refresh token again (a phone retrying after a lost response).
/// - Any older token: reuse detected, the whole session is revoked.
pub async fn refresh_session(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    meta: &RequestMeta,
    refresh_token: &str,
) -> AppResult<Issued> {
    let refused = || AppError::Unauthenticated("the refresh token is not valid: sign in again");
    let (session_id, generation) = keys
        .parse_refresh_token(refresh_token)
        .ok_or_else(refused)?;
    let now = Utc::now();
    let txn = db.begin().await?;
    let Some(session) = session::Entity::find_by_id(session_id)
        .lock_exclusive()
        .one(&txn)
        .await?
    else {
        return Err(refused());
    };
    let account = user_account::Entity::find_by_id(session.user_id)
        .one(&txn)
        .await?
        .ok_or_else(refused)?;
    if session.revoked_at.is_some() || session.expires_at <= now || account.disabled_at.is_some() {
        return Err(refused());
    }
    let current = session.refresh_generation;
    if generation == current && hash_secret(refresh_token) == session.refresh_token_hash {
        let next = current + 1;
        let mut active = session.clone().into_active_model();
        active.refresh_generation = Set(next);
        active.refresh_token_hash = Set(hash_secret(&keys.refresh_token(session.id, next)));
        active.rotated_at = Set(Some(now));
        active.last_seen_at = Set(now);
        active.expires_at = Set(now + SESSION_LIFETIME);
        let updated = active.update(&txn).await?;
        txn.commit().await?;
        return issue(keys, &account, &updated, now);
    }
    let within_grace = session
        .rotated_at
        .is_some_and(|rotated| now - rotated <= REFRESH_RETRY_GRACE);
    if generation == current - 1 && within_grace {
        txn.commit().await?;
        return issue(keys, &account, &session, now);
    }
    if generation < current {
        let mut active = session.clone().into_active_model();
        active.revoked_at = Set(Some(now));
        active.revoked_reason = Set(Some("REFRESH_TOKEN_REUSE".to_owned()));
        active.update(&txn).await?;
        audit::append(
            &txn,
            AuditEntry::new(
                AuditAction::RefreshTokenReuseDetected,
                Some(session.tenant_id),
            )
            .subject("Session", session.id)
            .request(&meta.request_id),
        )
        .await?;
        txn.commit().await?;
        tracing::warn!("refresh token reuse detected: session revoked");
    }
    Err(refused())
}

/// Revokes live sessions of `user_id` (all, or all but `keep`); returns how many.
async fn revoke_sessions<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    only: Option<Uuid>,
    keep: Option<Uuid>,
    reason: &str,
) -> AppResult<u64> {
    let mut update = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(only) = only {
        update = update.filter(session::Column::Id.eq(only));
    }
    if let Some(keep) = keep {
        update = update.filter(session::Column::Id.ne(keep));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// Ends the viewer's current session.
pub async fn logout(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
) -> AppResult<u64> {
    let txn = db.begin().await?;
    let count = revoke_sessions(
        &txn,
        principal.user_id,
        Some(principal.session_id),
        None,
        "LOGOUT",
    )
    .await?;
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::Logout, Some(principal.tenant_id))
            .actor(principal.user_id)
            .subject("Session", principal.session_id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(count)
}

/// Ends every session of the viewer, on every device, this one included.
pub async fn logout_everywhere(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
) -> AppResult<u64> {
    let txn = db.begin().await?;
    let count = revoke_sessions(&txn, principal.user_id, None, None, "LOGOUT_EVERYWHERE").await?;
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::LogoutEverywhere, Some(principal.tenant_id))
            .actor(principal.user_id)
            .subject("User", principal.user_id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(count)
}

/// Ends one of the viewer's own sessions (e.g. a lost phone).
pub async fn revoke_session(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    session_id: Uuid,
) -> AppResult<session::Model> {
    let existing = session(db, principal, session_id).await?;
    let txn = db.begin().await?;
    revoke_sessions(&txn, principal.user_id, Some(existing.id), None, "REVOKED").await?;
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::SessionRevoked, Some(principal.tenant_id))
            .actor(principal.user_id)
            .subject("Session", existing.id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    session::Entity::find_by_id(existing.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("session"))
}

/// Checks a new password: length limits, and not the e-mail address.
pub fn validate_new_password(field: &str, password: &str, email: &str) -> Result<(), UserError> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(UserError::on_field(
            UserErrorCode::TooShort,
            field,
            format!("Use at least {MIN_PASSWORD_CHARS} characters."),
        ));
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(UserError::on_field(
            UserErrorCode::TooLong,
            field,
            format!("Use at most {MAX_PASSWORD_CHARS} characters."),
        ));
    }
    if normalise_email(password) == normalise_email(email) {
        return Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            field,
            "The password must not be your e-mail address.",
        ));
    }
    Ok(())
}

/// Changes the viewer's password after checking the current one; every other
/// session of the user ends (this device stays signed in). Returns how many
/// sessions ended.
pub async fn change_password(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    current_password: &str,
    new_password: &str,
) -> AppResult<Result<u64, UserError>> {
    let account = user_account::Entity::find_by_id(principal.user_id)
        .one(db)
        .await?
        .ok_or(AppError::Unauthenticated("sign in first"))?;
    let account_key = throttle::account_key("login", &account.email);
    throttle::ensure_not_locked(db, std::slice::from_ref(&account_key)).await?;
    let verified = current_password.chars().count() <= MAX_PASSWORD_CHARS
        && password::verify_password_async(
            current_password.to_owned(),
            account.password_hash.clone(),
        )
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    if !verified {
        throttle::record_failure(db, &account_key, PER_ACCOUNT).await?;
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidCredentials,
            "currentPassword",
            "The current password is wrong.",
        )));
    }
    if let Err(problem) = validate_new_password("newPassword", new_password, &account.email) {
        return Ok(Err(problem));
    }
    let hash = password::hash_password_async(new_password.to_owned())
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let txn = db.begin().await?;
    let mut active = account.clone().into_active_model();
    active.password_hash = Set(Some(hash));
    active.update(&txn).await?;
    let ended = revoke_sessions(
        &txn,
        account.id,
        None,
        Some(principal.session_id),
        "PASSWORD_CHANGED",
    )
    .await?;
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::PasswordChanged, Some(account.tenant_id))
            .actor(account.id)
            .subject("User", account.id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(ended))
}

/// Who an invitation is for.
pub struct NewInvitation {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub organisation_id: Option<Uuid>,
    /// For family invitations: the family member the account is for.
    pub family_member_id: Option<Uuid>,
    pub expires_in_days: Option<i32>,
}

/// Whether the invitation is for staff or for a family member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationKind {
    Staff,
    FamilyMember,
}

fn validate_email(email: &str) -> Result<(), UserError> {
    if email.is_empty() {
        return Err(UserError::on_field(
            UserErrorCode::Required,
            "email",
            "Enter an e-mail address.",
        ));
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(UserError::on_field(
            UserErrorCode::TooLong,
            "email",
            format!("Use at most {MAX_EMAIL_CHARS} characters."),
        ));
    }
    let well_formed = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace);
    if !well_formed {
        return Err(UserError::on_field(
            UserErrorCode::InvalidFormat,
            "email",
            "This is not an e-mail address.",
        ));
    }
    Ok(())
}

fn validate_display_name(name: &str) -> Result<(), UserError> {
    if name.is_empty() {
        return Err(UserError::on_field(
            UserErrorCode::Required,
            "displayName",
            "Enter a name.",
        ));
    }
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(UserError::on_field(
            UserErrorCode::TooLong,
            "displayName",
            format!("Use at most {MAX_DISPLAY_NAME_CHARS} characters."),
        ));
    }
    Ok(())
}

/// Creates an invitation; returns it with the one-time code (shown once, stored
/// only as a hash). Staff invitations are for admins; family invitations for
/// caseworkers and team leads.
pub async fn invite(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    kind: InvitationKind,
    new: NewInvitation,
) -> AppResult<Result<(invitation::Model, String), UserError>> {
    let tenant_id = principal.tenant_id;
    match kind {
        InvitationKind::Staff => {
            Policy::ensure_allowed(principal, Action::InviteStaff { tenant_id })?
        }
        InvitationKind::FamilyMember => {
            Policy::ensure_allowed(principal, Action::InviteFamilyMember { tenant_id })?
        }
    }
    let email = normalise_email(&new.email);
    let display_name = new.display_name.trim().to_owned();
    if let Err(problem) = validate_email(&email).and_then(|()| validate_display_name(&display_name))
    {
        return Ok(Err(problem));
    }
    let role_fits = match kind {
        InvitationKind::Staff => is_staff(new.role),
        InvitationKind::FamilyMember => !is_staff(new.role),
    };
    if !role_fits {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "role",
            match kind {
                InvitationKind::Staff => "Invite family members with inviteFamilyMember.",
                InvitationKind::FamilyMember => "Staff are invited by an admin with inviteStaff.",
            },
        )));
    }
    let organisation_id = match kind {
        InvitationKind::FamilyMember => None,
        InvitationKind::Staff => {
            let Some(id) = new.organisation_id else {
                return Ok(Err(UserError::on_field(
                    UserErrorCode::Required,
                    "organisationId",
                    "Choose the organisation the person works for.",
                )));
            };
            let found = organisation::Entity::find_by_id(id)
                .one(db)
                .await?
                .filter(|org| org.tenant_id == tenant_id);
            let Some(org) = found else {
                return Ok(Err(UserError::on_field(
                    UserErrorCode::InvalidValue,
                    "organisationId",
                    "No such organisation in your municipality.",
                )));
            };
            let social_services = org.kind == OrganisationKind::SocialServices;
            let agency_role = new.role == Role::AgencyProfessional;
            if social_services == agency_role {
                return Ok(Err(UserError::on_field(
                    UserErrorCode::InvalidValue,
                    "organisationId",
                    if agency_role {
                        "Agency professionals belong to an organisation other than social services."
                    } else {
                        "This role belongs to the social services organisation."
                    },
                )));
            }
            Some(org.id)
        }
    };
    let days = new.expires_in_days.unwrap_or(DEFAULT_INVITATION_DAYS);
    if !(1..=MAX_INVITATION_DAYS).contains(&days) {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "expiresInDays",
            format!("Choose between 1 and {MAX_INVITATION_DAYS} days."),
        )));
    }
    if email_taken(db, &email).await? {
        return Ok(Err(UserError::on_field(
            UserErrorCode::EmailTaken,
            "email",
            "An account with this e-mail address exists already.",
        )));
    }
    let code = new_secret();
    let now = Utc::now();
    let txn = db.begin().await?;
    let created = invitation::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        email: Set(email),
        display_name: Set(display_name),
        role: Set(new.role),
        organisation_id: Set(organisation_id),
        family_member_id: Set(new.family_member_id),
        code_hash: Set(hash_secret(&code)),
        invited_by: Set(Some(principal.user_id)),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(i64::from(days))),
        accepted_at: Set(None),
        accepted_user_id: Set(None),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::InvitationCreated, Some(tenant_id))
            .actor(principal.user_id)
            .subject("Invitation", created.id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok((created, code)))
}

async fn email_taken<C: ConnectionTrait>(db: &C, email: &str) -> AppResult<bool> {
    Ok(user_account::Entity::find()
        .filter(user_account::Column::Email.eq(email))
        .one(db)
        .await?
        .is_some())
}

/// Revokes an unused invitation (its creator or an admin of the tenant).
pub async fn revoke_invitation(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    id: Uuid,
) -> AppResult<Result<invitation::Model, UserError>> {
    let found = invitation(db, principal, id).await?;
    Policy::ensure_allowed(
        principal,
        Action::RevokeInvitation {
            tenant_id: found.tenant_id,
            invited_by: found.invited_by,
        },
    )?;
    if found.accepted_at.is_some() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "invitationId",
            "This invitation was accepted already.",
        )));
    }
    if found.revoked_at.is_some() {
        return Ok(Ok(found));
    }
    let txn = db.begin().await?;
    let mut active = found.into_active_model();
    active.revoked_at = Set(Some(Utc::now()));
    let updated = active.update(&txn).await?;
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::InvitationRevoked, Some(updated.tenant_id))
            .actor(principal.user_id)
            .subject("Invitation", updated.id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(updated))
}

/// How a new account will sign in.
pub enum Credential {
    /// A password, checked and hashed here.
    Password(String),
    /// An external identity, already verified (issuer and subject of an ID token).
    External { issuer: String, subject: String },
}

/// Redeems an invitation code: creates the account with the chosen password (or
/// linked external identity) and signs it in. Any unusable code (unknown, used,
/// revoked, expired) gets the same `INVALID_INVITATION`; failures are throttled
/// per client address.
pub async fn accept_invitation(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    meta: &RequestMeta,
    code: &str,
    credential: Credential,
    device_label: Option<&str>,
) -> AppResult<Result<Issued, UserError>> {
    let address_key = throttle::address_key("invitation", meta.client_address);
    if let Some(key) = &address_key {
        throttle::ensure_not_locked(db, std::slice::from_ref(key)).await?;
    }
    let now = Utc::now();
    let found = invitation::Entity::find()
        .filter(invitation::Column::CodeHash.eq(hash_secret(code.trim())))
        .one(db)
        .await?
        .filter(|inv| {
            inv.accepted_at.is_none() && inv.revoked_at.is_none() && inv.expires_at > now
        });
    let Some(found) = found else {
        if let Some(key) = &address_key {
            throttle::record_failure(db, key, INVITATION_PER_ADDRESS).await?;
        }
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidInvitation,
            "code",
            "This invitation code is not valid. It may have expired or been used already.",
        )));
    };
    if let Credential::Password(new_password) = &credential
        && let Err(problem) = validate_new_password("password", new_password, &found.email)
    {
        return Ok(Err(problem));
    }
    if let Credential::External { issuer, subject } = &credential
        && user_account::Entity::find()
            .filter(user_account::Column::ExternalIssuer.eq(issuer.as_str()))
            .filter(user_account::Column::ExternalSubject.eq(subject.as_str()))
            .one(db)
            .await?
            .is_some()
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::EmailTaken,
            "idToken",
            "This e-ID is linked to another account already.",
        )));
    }
    if email_taken(db, &found.email).await? {
        return Ok(Err(UserError::on_field(
            UserErrorCode::EmailTaken,
            "code",
            "An account with this invitation's e-mail address exists already.",
        )));
    }
    let (password_hash, external_issuer, external_subject) = match credential {
        Credential::Password(new_password) => (
            Some(
                password::hash_password_async(new_password)
                    .await
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            ),
            None,
            None,
        ),
        Credential::External { issuer, subject } => (None, Some(issuer), Some(subject)),
    };
    let txn = db.begin().await?;
    let user_id = Uuid::now_v7();
    // Claim the invitation first: of two concurrent redemptions only one
    // matches `accepted_at IS NULL`.
    let claimed = invitation::Entity::update_many()
        .col_expr(invitation::Column::AcceptedAt, Expr::value(now))
        .col_expr(invitation::Column::AcceptedUserId, Expr::value(user_id))
        .filter(invitation::Column::Id.eq(found.id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if claimed != 1 {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidInvitation,
            "code",
            "This invitation code is not valid. It may have expired or been used already.",
        )));
    }
    let account = user_account::ActiveModel {
        id: Set(user_id),
        tenant_id: Set(found.tenant_id),
        organisation_id: Set(found.organisation_id),
        email: Set(found.email.clone()),
        display_name: Set(found.display_name.clone()),
        role: Set(found.role),
        password_hash: Set(password_hash),
        external_issuer: Set(external_issuer),
        external_subject: Set(external_subject),
        created_at: Set(now),
        disabled_at: Set(None),
    }
    .insert(&txn)
    .await?;
    if let Some(member_id) = found.family_member_id {
        // The member may have got a login meanwhile (another invitation).
        let linked = family_member::Entity::update_many()
            .col_expr(family_member::Column::UserId, Expr::value(account.id))
            .filter(family_member::Column::Id.eq(member_id))
            .filter(family_member::Column::UserId.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        if linked != 1 {
            return Ok(Err(UserError::on_field(
                UserErrorCode::InvalidInvitation,
                "code",
                "This invitation code is not valid. It may have expired or been used already.",
            )));
        }
    }
    let issued = open_session(&txn, keys, &account, device_label).await?;
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::InvitationAccepted, Some(account.tenant_id))
            .actor(account.id)
            .subject("Invitation", found.id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(issued))
}

/// Signs in the account linked to the subject of a verified ID token.
/// A refused token, an unlinked identity and a deactivated account are told
/// apart for the user (they need different help), but all are throttled per
/// client address and audited.
pub async fn login_with_id_token(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    oidc: Option<&OidcVerifier>,
    meta: &RequestMeta,
    id_token: &str,
    nonce: &str,
    device_label: Option<&str>,
) -> AppResult<Result<Issued, UserError>> {
    let oidc = oidc.ok_or_else(|| {
        AppError::bad_input(&["input", "idToken"], "sign-in with e-ID is not configured")
    })?;
    let address_key = throttle::address_key("external-login", meta.client_address);
    if let Some(key) = &address_key {
        throttle::ensure_not_locked(db, std::slice::from_ref(key)).await?;
    }
    let refuse = |detail: &'static str, problem: UserError| async move {
        if let Some(key) = &address_key {
            throttle::record_failure(db, key, PER_ADDRESS).await?;
        }
        audit::append(
            db,
            AuditEntry::new(AuditAction::ExternalLoginFailed, None)
                .request(&meta.request_id)
                .detail(detail),
        )
        .await?;
        Ok::<_, AppError>(Err(problem))
    };
    let claims = match oidc.verify(id_token, nonce).await {
        Ok(claims) => claims,
        Err(refusal) => {
            tracing::info!(?refusal, "ID token refused");
            return refuse(
                "INVALID_ID_TOKEN",
                UserError::on_field(
                    UserErrorCode::InvalidCredentials,
                    "idToken",
                    "The e-ID sign-in could not be verified. Try again.",
                ),
            )
            .await;
        }
    };
    let account = user_account::Entity::find()
        .filter(user_account::Column::ExternalIssuer.eq(claims.iss.as_str()))
        .filter(user_account::Column::ExternalSubject.eq(claims.sub.as_str()))
        .one(db)
        .await?;
    let Some(account) = account.filter(|a| a.disabled_at.is_none()) else {
        return refuse(
            "NOT_LINKED",
            UserError::on_field(
                UserErrorCode::ExternalIdentityNotLinked,
                "idToken",
                "No account uses this e-ID. Accept your invitation first.",
            ),
        )
        .await;
    };
    let txn = db.begin().await?;
    let issued = open_session(&txn, keys, &account, device_label).await?;
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::ExternalLoginSucceeded, Some(account.tenant_id))
            .actor(account.id)
            .subject("Session", issued.principal.session_id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(issued))
}

/// Verifies an ID token for linking it to a new account (`acceptInvitation`).
pub async fn verify_id_token_for_link(
    oidc: Option<&OidcVerifier>,
    id_token: &str,
    nonce: &str,
) -> AppResult<Result<Credential, UserError>> {
    let oidc = oidc.ok_or_else(|| {
        AppError::bad_input(&["input", "idToken"], "sign-in with e-ID is not configured")
    })?;
    Ok(match oidc.verify(id_token, nonce).await {
        Ok(claims) => Ok(Credential::External {
            issuer: claims.iss,
            subject: claims.sub,
        }),
        Err(_) => Err(UserError::on_field(
            UserErrorCode::InvalidCredentials,
            "idToken",
            "The e-ID sign-in could not be verified. Try again.",
        )),
    })
}

/// Deactivates an account (admins of its tenant, not themselves). Its sessions
/// end at once: the next request with a still-valid access token is refused.
pub async fn deactivate_user(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    user_id: Uuid,
) -> AppResult<user_account::Model> {
    let target = user(db, principal, user_id).await?;
    Policy::ensure_allowed(
        principal,
        Action::DeactivateUser {
            tenant_id: target.tenant_id,
            user_id: target.id,
        },
    )?;
    if target.disabled_at.is_some() {
        return Ok(target);
    }
    let txn = db.begin().await?;
    let mut active = target.clone().into_active_model();
    active.disabled_at = Set(Some(Utc::now()));
    let updated = active.update(&txn).await?;
    revoke_sessions(&txn, target.id, None, None, "DEACTIVATED").await?;
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::UserDeactivated, Some(target.tenant_id))
            .actor(principal.user_id)
            .subject("User", target.id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Creates a tenant and an invitation for its first admin; returns the code.
pub async fn bootstrap(
    db: &DatabaseConnection,
    tenant_name: &str,
    time_zone: &str,
    admin_email: &str,
    admin_name: &str,
) -> anyhow::Result<(tenant::Model, String)> {
    let tenant_name = tenant_name.trim();
    anyhow::ensure!(!tenant_name.is_empty(), "--tenant must not be empty");
    anyhow::ensure!(
        time_zone.parse::<chrono_tz::Tz>().is_ok(),
        "--time-zone {time_zone} is not an IANA time zone (e.g. Europe/Stockholm)"
    );
    let email = normalise_email(admin_email);
    validate_email(&email).map_err(|e| anyhow::anyhow!("--admin-email: {}", e.message))?;
    validate_display_name(admin_name.trim())
        .map_err(|e| anyhow::anyhow!("--admin-name: {}", e.message))?;
    let taken = email_taken(db, &email)
        .await
        .map_err(|e| anyhow::anyhow!("checking the e-mail address: {}", e.message()))?;
    anyhow::ensure!(
        !taken,
        "--admin-email: an account with this e-mail address exists already"
    );
    let existing = tenant::Entity::find()
        .filter(tenant::Column::Name.eq(tenant_name))
        .one(db)
        .await?;
    anyhow::ensure!(
        existing.is_none(),
        "--tenant: a tenant named \"{tenant_name}\" exists already"
    );
    let now = Utc::now();
    let code = new_secret();
    let txn = db.begin().await?;
    let tenant = tenant::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(tenant_name.to_owned()),
        time_zone: Set(time_zone.to_owned()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let social_services = organisation::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.id),
        name: Set(format!("{tenant_name} social services")),
        kind: Set(OrganisationKind::SocialServices),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let invitation = invitation::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.id),
        email: Set(email),
        display_name: Set(admin_name.trim().to_owned()),
        role: Set(Role::Admin),
        organisation_id: Set(Some(social_services.id)),
        family_member_id: Set(None),
        code_hash: Set(hash_secret(&code)),
        invited_by: Set(None),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(i64::from(DEFAULT_INVITATION_DAYS))),
        accepted_at: Set(None),
        accepted_user_id: Set(None),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::TenantBootstrapped, Some(tenant.id))
            .subject("Invitation", invitation.id),
    )
    .await
    .map_err(|e| anyhow::anyhow!("writing the audit trail: {}", e.message()))?;
    txn.commit().await?;
    Ok((tenant, code))
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

/// An invitation the principal may read (its creator, or an admin).
pub async fn invitation(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<invitation::Model> {
    let row = invitation::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("invitation"))?;
    Policy::ensure_read(
        principal,
        Resource::Invitation {
            tenant_id: row.tenant_id,
            invited_by: row.invited_by,
        },
        "invitation",
    )?;
    Ok(row)
}

/// An audit entry the principal may read (admins of its tenant).
pub async fn audit_event(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<audit_event::Model> {
    let row = audit_event::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("audit event"))?;
    let tenant_id = row.tenant_id.ok_or(AppError::NotFound("audit event"))?;
    Policy::ensure_read(principal, Resource::AuditEvent { tenant_id }, "audit event")?;
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
        .limit(100)
        .all(db)
        .await?)
}
