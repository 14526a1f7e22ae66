//! The `Viewer`: who is making this request, resolved once per request (HTTP) or
//! per connection (WebSocket `connection_init`).

use chrono::Utc;
use entity::{session, user_account, user_account::Role};
use sea_orm::{DatabaseConnection, EntityTrait};
use uuid::Uuid;

use super::{
    TokenKeys,
    access_cache::{AccessCache, CachedSession},
};
use crate::error::{AppError, AppResult};

/// A signed-in user, as far as authorization needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub organisation_id: Option<Uuid>,
    pub role: Role,
    pub session_id: Uuid,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// No token was presented.
    Anonymous,
    /// A token was presented but is not valid (expired, revoked, forged).
    InvalidToken,
    /// A valid token of a live session of an enabled account.
    Signed(Principal),
}

impl Viewer {
    /// The signed-in principal, or `UNAUTHENTICATED`.
    pub fn principal(&self) -> AppResult<&Principal> {
        match self {
            Viewer::Signed(principal) => Ok(principal),
            Viewer::Anonymous => Err(AppError::Unauthenticated("sign in first")),
            Viewer::InvalidToken => Err(AppError::Unauthenticated(
                "the access token is expired or revoked: refresh the session or sign in again",
            )),
        }
    }
}

/// Extracts the token from an `Authorization: Bearer …` header value.
pub fn bearer_token(header: Option<&str>) -> Option<&str> {
    let value = header?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Resolves a bearer token to a `Viewer`. A session read since the last access
/// change is taken from `cache`; otherwise it is looked up, so revoking it
/// (logout, reuse detection), which moves the access epoch, takes effect at
/// once (see `access_cache`).
pub async fn resolve_viewer(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    token: Option<&str>,
    cache: &AccessCache,
) -> AppResult<Viewer> {
    let Some(token) = token else {
        return Ok(Viewer::Anonymous);
    };
    let Some(claims) = keys.verify_access_token(token) else {
        return Ok(Viewer::InvalidToken);
    };
    let matches_claims = |principal: &Principal| {
        principal.user_id == claims.sub && principal.tenant_id == claims.tid
    };
    if let Some(kept) = cache.session(claims.sid) {
        return Ok(
            if matches_claims(&kept.principal) && kept.expires_at > Utc::now() {
                Viewer::Signed(kept.principal)
            } else {
                Viewer::InvalidToken
            },
        );
    }
    let stamp = cache.stamp();
    let found = session::Entity::find_by_id(claims.sid)
        .find_also_related(user_account::Entity)
        .one(db)
        .await?;
    let Some((session, Some(user))) = found else {
        return Ok(Viewer::InvalidToken);
    };
    let live = session.revoked_at.is_none()
        && session.expires_at > Utc::now()
        && user.disabled_at.is_none();
    if !live {
        return Ok(Viewer::InvalidToken);
    }
    let principal = Principal {
        user_id: user.id,
        tenant_id: user.tenant_id,
        organisation_id: user.organisation_id,
        role: user.role,
        session_id: session.id,
    };
    if let Some(stamp) = stamp {
        cache.keep_session(
            stamp,
            CachedSession {
                principal: principal.clone(),
                expires_at: session.expires_at,
            },
        );
    }
    if !matches_claims(&principal) {
        return Ok(Viewer::InvalidToken);
    }
    Ok(Viewer::Signed(principal))
}

/// Until when the principal's session is live (it expires then, unless it is
/// revoked or the account deactivated first); `None` when it is not live.
pub async fn session_live_until(
    db: &DatabaseConnection,
    principal: &Principal,
) -> AppResult<Option<chrono::DateTime<Utc>>> {
    let found = session::Entity::find_by_id(principal.session_id)
        .find_also_related(user_account::Entity)
        .one(db)
        .await?;
    Ok(match found {
        Some((session, Some(user)))
            if session.revoked_at.is_none()
                && session.expires_at > Utc::now()
                && user.disabled_at.is_none() =>
        {
            Some(session.expires_at)
        }
        _ => None,
    })
}

/// Whether the principal's session is still live (not revoked or expired, the
/// account not deactivated): long-lived streams check it before every delivery.
pub async fn session_is_live(db: &DatabaseConnection, principal: &Principal) -> AppResult<bool> {
    let found = session::Entity::find_by_id(principal.session_id)
        .find_also_related(user_account::Entity)
        .one(db)
        .await?;
    Ok(matches!(
        found,
        Some((session, Some(user)))
            if session.revoked_at.is_none()
                && session.expires_at > Utc::now()
                && user.disabled_at.is_none()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_case_insensitively_and_trimmed() {
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer_token(Some("Basic abc")), None);
        assert_eq!(bearer_token(Some("Bearer ")), None);
        assert_eq!(bearer_token(None), None);
    }
}
