//! What requests read again and again to decide access — the viewer's
//! session and the access facts of a case (its team, family, consents, …) —
//! kept in this process's memory between requests.
//!
//! An entry is used only while all of these hold:
//!
//! - the hub's access epoch is the one it was read under. Every mutation not
//!   known to leave access alone (`graphql::access_changes`) moves the epoch
//!   after it commits: in this process at once, in the others through
//!   PostgreSQL `NOTIFY`. An entry is stamped with the epoch read *before* its
//!   rows were, so a change committed while they were read voids it too;
//! - on PostgreSQL, this process's `NOTIFY` listener is connected (otherwise
//!   changes made through other processes could go unheard);
//! - it is younger than `ACCESS_CACHE_SECONDS` (60 by default): a backstop for
//!   writes that announce nothing (another program writing to the database).
//!
//! Only the *facts* are kept; decisions are taken afresh on every request,
//! against the current time (consents that run out, sessions that expire).
//! Case content is never kept, and only query operations use the case
//! entries: a mutation reads everything from the database, so its own
//! changes and its payload are never judged on older facts.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::viewer::Principal;
use crate::events::hub::Hub;

/// Above this many entries in one map, expired ones are dropped; if that is
/// not enough, the map is emptied (it refills from the database).
const MAX_ENTRIES: usize = 100_000;

/// A session as the request gate needs it.
#[derive(Debug, Clone)]
pub struct CachedSession {
    pub principal: Principal,
    pub expires_at: DateTime<Utc>,
}

/// The session and case-access caches of one server process.
pub struct AccessCache {
    hub: Arc<Hub>,
    ttl: Duration,
    sessions: Stamped<Uuid, CachedSession>,
    cases: Stamped<Uuid, Arc<crate::case::service::CasePart>>,
}

impl AccessCache {
    /// A cache whose entries live at most `ttl` (zero turns it off).
    pub fn new(hub: Arc<Hub>, ttl: Duration) -> AccessCache {
        AccessCache {
            hub,
            ttl,
            sessions: Stamped::default(),
            cases: Stamped::default(),
        }
    }

    /// The stamp to give entries read from now on, or `None` when nothing may
    /// be kept (turned off, or PostgreSQL announcements are not being heard).
    pub fn stamp(&self) -> Option<u64> {
        (!self.ttl.is_zero() && self.hub.hears_access_changes()).then(|| self.hub.access_epoch())
    }

    /// A session, if kept and still valid.
    pub fn session(&self, id: Uuid) -> Option<CachedSession> {
        self.sessions.get(&id, self.valid_for())
    }

    /// Keeps a session read under `stamp`.
    pub fn keep_session(&self, stamp: u64, session: CachedSession) {
        self.sessions.put(
            session.principal.session_id,
            session,
            stamp,
            self.valid_for(),
        );
    }

    /// A case's access facts, if kept and still valid.
    pub fn case(&self, id: Uuid) -> Option<Arc<crate::case::service::CasePart>> {
        self.cases.get(&id, self.valid_for())
    }

    /// Keeps a case's access facts read under `stamp`.
    pub fn keep_case(&self, stamp: u64, id: Uuid, part: Arc<crate::case::service::CasePart>) {
        self.cases.put(id, part, stamp, self.valid_for());
    }

    /// What a kept entry must match to be used now: the current epoch, and
    /// the earliest time it may have been kept.
    fn valid_for(&self) -> Option<(u64, Instant)> {
        let epoch = self.stamp()?;
        let oldest = Instant::now().checked_sub(self.ttl)?;
        Some((epoch, oldest))
    }
}

/// A map whose entries carry the epoch and time they were read at.
struct Stamped<K, V>(Mutex<HashMap<K, (u64, Instant, V)>>);

impl<K, V> Default for Stamped<K, V> {
    fn default() -> Self {
        Stamped(Mutex::new(HashMap::new()))
    }
}

impl<K: Eq + Hash, V: Clone> Stamped<K, V> {
    fn get(&self, key: &K, valid_for: Option<(u64, Instant)>) -> Option<V> {
        let (epoch, oldest) = valid_for?;
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (stamp, kept_at, value) = map.get(key)?;
        (*stamp == epoch && *kept_at > oldest).then(|| value.clone())
    }

    fn put(&self, key: K, value: V, stamp: u64, valid_for: Option<(u64, Instant)>) {
        let Some((epoch, oldest)) = valid_for else {
            return;
        };
        if stamp != epoch {
            // Read before a change: never valid.
            return;
        }
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, (stamp, kept_at, _)| *stamp == epoch && *kept_at > oldest);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(key, (stamp, Instant::now(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::user_account::Role;

    fn session(id: Uuid) -> CachedSession {
        CachedSession {
            principal: Principal {
                user_id: Uuid::now_v7(),
                tenant_id: Uuid::now_v7(),
                organisation_id: None,
                role: Role::Guardian,
                session_id: id,
            },
            expires_at: Utc::now() + chrono::Duration::hours(1),
        }
    }

    fn cache(ttl: Duration) -> (Arc<Hub>, AccessCache) {
        let hub = Arc::new(Hub::for_backend(sea_orm::DatabaseBackend::Sqlite));
        (hub.clone(), AccessCache::new(hub, ttl))
    }

    #[test]
    fn an_entry_is_used_until_the_access_epoch_moves() {
        let (hub, cache) = cache(Duration::from_secs(60));
        let id = Uuid::now_v7();
        let stamp = cache.stamp().unwrap();
        cache.keep_session(stamp, session(id));
        assert!(cache.session(id).is_some());
        hub.bump_access_epoch();
        assert!(cache.session(id).is_none(), "voided by the access change");
    }

    #[test]
    fn an_entry_read_before_a_change_is_never_kept() {
        let (hub, cache) = cache(Duration::from_secs(60));
        let id = Uuid::now_v7();
        let stamp = cache.stamp().unwrap();
        hub.bump_access_epoch(); // committed while the rows were being read
        cache.keep_session(stamp, session(id));
        assert!(cache.session(id).is_none());
    }

    #[test]
    fn entries_expire_and_a_zero_lifetime_keeps_nothing() {
        let (_, cache) = cache(Duration::from_millis(20));
        let id = Uuid::now_v7();
        cache.keep_session(cache.stamp().unwrap(), session(id));
        assert!(cache.session(id).is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(cache.session(id).is_none(), "older than its lifetime");

        let (_, off) = self::cache(Duration::ZERO);
        assert!(off.stamp().is_none());
        assert!(off.session(id).is_none());
    }

    #[test]
    fn on_postgresql_nothing_is_kept_while_announcements_go_unheard() {
        let hub = Arc::new(Hub::for_backend(sea_orm::DatabaseBackend::Postgres));
        let cache = AccessCache::new(hub.clone(), Duration::from_secs(60));
        assert!(
            cache.stamp().is_none(),
            "the listener has not connected yet"
        );
        hub.set_hearing(true);
        let id = Uuid::now_v7();
        cache.keep_session(cache.stamp().unwrap(), session(id));
        assert!(cache.session(id).is_some());
        hub.set_hearing(false);
        assert!(
            cache.session(id).is_none(),
            "the listener lost its connection"
        );
    }
}
