//! Throttling of sign-in attempts, per account name and per client address.
//!
//! Failures are counted in the database (shared by every server instance) in a
//! window; after a few failures answers slow down, and past the limit the key is
//! locked for a while (`RATE_LIMITED` with a retry-after). Keys are built from the
//! name that was *typed*, whether or not such an account exists, so a lock never
//! reveals that an account exists.

use std::{net::IpAddr, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Utc};
use entity::auth_throttle;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, QuerySelect, Set, TransactionSession,
    TransactionTrait, sea_query::OnConflict,
};

use crate::error::{AppError, AppResult};

/// How many failures, in what window, lock a key for how long.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleRule {
    pub max_failures: i32,
    pub window: Duration,
    pub lock: Duration,
}

/// Per account name: 5 failures in 15 minutes lock it for 15 minutes.
pub const PER_ACCOUNT: ThrottleRule = ThrottleRule {
    max_failures: 5,
    window: Duration::minutes(15),
    lock: Duration::minutes(15),
};

/// Per client address: 20 failures in 15 minutes lock it for 15 minutes.
pub const PER_ADDRESS: ThrottleRule = ThrottleRule {
    max_failures: 20,
    window: Duration::minutes(15),
    lock: Duration::minutes(15),
};

/// The throttle key of an account name (as typed, normalised).
pub fn account_key(scope: &str, name: &str) -> String {
    format!(
        "{scope}:account:{}",
        name.chars().take(256).collect::<String>()
    )
}

/// The throttle key of a client address.
pub fn address_key(scope: &str, address: Option<IpAddr>) -> Option<String> {
    address.map(|a| format!("{scope}:address:{a}"))
}

/// `RATE_LIMITED` if any of the keys is locked now.
pub async fn ensure_not_locked<C: ConnectionTrait>(db: &C, keys: &[String]) -> AppResult<()> {
    let now = Utc::now();
    for key in keys {
        if let Some(row) = auth_throttle::Entity::find_by_id(key.clone())
            .one(db)
            .await?
            && let Some(until) = row.locked_until
            && until > now
        {
            return Err(rate_limited(until, now));
        }
    }
    Ok(())
}

fn rate_limited(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    AppError::RateLimited {
        retry_after_seconds: (until - now).num_seconds().max(1) as u64,
    }
}

/// Counts a failure for `key`; returns the failures now counted in the window.
pub async fn record_failure<C>(db: &C, key: &str, rule: ThrottleRule) -> AppResult<i32>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = Utc::now();
    let txn = db.begin().await?;
    auth_throttle::Entity::insert(auth_throttle::ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(0),
        window_started_at: Set(now),
        locked_until: Set(None),
    })
    .on_conflict(
        OnConflict::column(auth_throttle::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let row = auth_throttle::Entity::find_by_id(key.to_owned())
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal("throttle row vanished".into()))?;
    let (failures, window_started_at) = if now - row.window_started_at > rule.window {
        (1, now)
    } else {
        (row.failures + 1, row.window_started_at)
    };
    let locked_until = (failures >= rule.max_failures).then(|| now + rule.lock);
    let mut active: auth_throttle::ActiveModel = row.into();
    active.failures = Set(if locked_until.is_some() { 0 } else { failures });
    active.window_started_at = Set(window_started_at);
    if locked_until.is_some() {
        active.locked_until = Set(locked_until);
    }
    active.update(&txn).await?;
    txn.commit().await?;
    Ok(failures)
}

/// Forgets the failures of `key` (after a successful sign-in).
pub async fn reset<C: ConnectionTrait>(db: &C, key: &str) -> AppResult<()> {
    auth_throttle::Entity::delete_by_id(key.to_owned())
        .exec(db)
        .await?;
    Ok(())
}

/// How long to hold back the answer after the `failures`-th failure: nothing
/// for the first two, then 250 ms more per failure, at most 2 s.
pub fn slowdown(failures: i32) -> StdDuration {
    let steps = u64::try_from(failures.saturating_sub(2)).unwrap_or(0);
    StdDuration::from_millis((steps * 250).min(2000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_slow_down_gradually_and_are_capped() {
        assert_eq!(slowdown(1), StdDuration::ZERO);
        assert_eq!(slowdown(2), StdDuration::ZERO);
        assert_eq!(slowdown(3), StdDuration::from_millis(250));
        assert_eq!(slowdown(50), StdDuration::from_secs(2));
    }
}
