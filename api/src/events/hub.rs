//! Live fan-out within this server process: one broadcast channel per topic (a
//! conversation, or one user's event stream), created when someone subscribes
//! and dropped when nobody listens any more — no global channel that every
//! subscriber filters. A channel only carries "something new up to sequence
//! number N"; subscribers read the rows themselves, so a lost or lagging
//! signal delays a delivery but never loses or doubles one.
//!
//! Across server processes (PostgreSQL), announcements travel as `NOTIFY` on
//! one channel, sent in the writing transaction (delivered at commit); every
//! process's listener republishes them here. With SQLite (one process) they are
//! published here right after the commit.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::error::AppResult;

/// How many undelivered signals a slow subscriber may lag behind before it
/// catches up from the database instead.
const CHANNEL_CAPACITY: usize = 256;

/// The PostgreSQL `NOTIFY` channel every server process listens on.
pub const NOTIFY_CHANNEL: &str = "family_api_events";

/// PostgreSQL refuses `NOTIFY` payloads of 8000 bytes or more: announcements
/// are sent in chunks of this many.
const ANNOUNCEMENTS_PER_NOTIFY: usize = 80;

/// What a channel is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// New messages of a conversation (`messageAdded`).
    Conversation(Uuid),
    /// New events of one user's stream (`viewerEvents`).
    User(Uuid),
    /// New rows in the push outbox (wakes the push workers).
    PushOutbox,
}

/// "Topic has something new, up to sequence number `seq`."
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announcement {
    pub topic: Topic,
    pub seq: i64,
}

/// What a channel carries: the newest sequence number and, for a
/// conversation, the new message itself when the publisher has it (so that
/// a thousand subscribers do not each read it from the database).
#[derive(Debug, Clone)]
pub struct Signal {
    pub seq: i64,
    pub message: Option<Arc<entity::message::Model>>,
}

/// The `NOTIFY` payload that says "access may have changed" (a consent
/// withdrawn, a case closed, a sign-out).
const ACCESS_CHANGED: &str = "access";

impl Announcement {
    /// The text form used in `NOTIFY` payloads: `c:<uuid>:<seq>` or `u:<uuid>:<seq>`.
    pub fn encode(&self) -> String {
        let (prefix, id) = match self.topic {
            Topic::Conversation(id) => ('c', id),
            Topic::User(id) => ('u', id),
            Topic::PushOutbox => ('p', Uuid::nil()),
        };
        format!("{prefix}:{id}:{}", self.seq)
    }

    /// Parses one encoded announcement; `None` for anything else (such as
    /// the access-changed marker).
    pub fn decode(text: &str) -> Option<Announcement> {
        let mut parts = text.splitn(3, ':');
        let prefix = parts.next()?;
        let id: Uuid = parts.next()?.parse().ok()?;
        let seq: i64 = parts.next()?.parse().ok()?;
        let topic = match prefix {
            "c" => Topic::Conversation(id),
            "u" => Topic::User(id),
            "p" => Topic::PushOutbox,
            _ => return None,
        };
        Some(Announcement { topic, seq })
    }
}

/// The per-topic channels of this server process.
#[derive(Default)]
pub struct Hub {
    channels: Mutex<HashMap<Topic, broadcast::Sender<Signal>>>,
    /// Bumped whenever access may have changed; subscriptions re-check the
    /// viewer's session and access when it moved since their last check.
    access_epoch: AtomicU64,
    /// Wakes this process's push worker.
    outbox: tokio::sync::Notify,
    /// PostgreSQL: announcements go through `NOTIFY` (see the module docs).
    through_postgres: bool,
    /// Whether access changes made anywhere reach this hub: always with
    /// SQLite (one process), while the `NOTIFY` listener is connected with
    /// PostgreSQL.
    hearing: AtomicBool,
}

impl Hub {
    /// A hub for a database: PostgreSQL announces through `NOTIFY`.
    pub fn for_backend(backend: DatabaseBackend) -> Hub {
        Hub {
            channels: Mutex::default(),
            access_epoch: AtomicU64::new(0),
            outbox: tokio::sync::Notify::new(),
            through_postgres: backend == DatabaseBackend::Postgres,
            hearing: AtomicBool::new(backend != DatabaseBackend::Postgres),
        }
    }

    /// Listens to a topic, creating its channel on demand.
    pub fn subscribe(&self, topic: Topic) -> broadcast::Receiver<Signal> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels
            .entry(topic)
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// Signals a topic's subscribers in this process; drops the channel when
    /// nobody listens any more.
    pub fn publish(&self, announcement: Announcement) {
        if announcement.topic == Topic::PushOutbox {
            self.outbox.notify_one();
            return;
        }
        self.send(
            announcement.topic,
            Signal {
                seq: announcement.seq,
                message: None,
            },
        );
    }

    /// Signals a conversation's subscribers in this process with the new
    /// message itself.
    pub fn publish_message(&self, message: Arc<entity::message::Model>) {
        self.send(
            Topic::Conversation(message.conversation_id),
            Signal {
                seq: message.seq,
                message: Some(message),
            },
        );
    }

    fn send(&self, topic: Topic, signal: Signal) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = channels.get(&topic)
            && sender.send(signal).is_err()
        {
            channels.remove(&topic);
        }
    }

    /// Resolves when new pushes were queued (in any process, on PostgreSQL).
    pub async fn outbox_filled(&self) {
        self.outbox.notified().await;
    }

    /// Whether anyone in this process listens to a topic.
    pub fn has_listeners(&self, topic: Topic) -> bool {
        self.channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&topic)
    }

    /// The current access epoch (see `bump_access_epoch`).
    pub fn access_epoch(&self) -> u64 {
        self.access_epoch.load(Ordering::SeqCst)
    }

    /// Whether every access change, in any process, moves this hub's epoch
    /// (what makes it safe to keep access facts between requests).
    pub fn hears_access_changes(&self) -> bool {
        self.hearing.load(Ordering::SeqCst)
    }

    /// Records whether the `NOTIFY` listener is connected; either way the
    /// epoch moves, since announcements may have been missed.
    pub fn set_hearing(&self, hearing: bool) {
        if self.through_postgres {
            self.hearing.store(hearing, Ordering::SeqCst);
        }
        self.bump_access_epoch();
    }

    /// Says that access may have changed in this process: every subscription
    /// re-checks before its next delivery.
    pub fn bump_access_epoch(&self) {
        self.access_epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// Says that access may have changed, in every server process (after the
    /// change committed): here at once, elsewhere through `NOTIFY`.
    pub async fn access_changed<C: ConnectionTrait>(&self, db: &C) {
        self.bump_access_epoch();
        if self.through_postgres {
            let sent = db
                .execute_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [NOTIFY_CHANNEL.into(), ACCESS_CHANGED.into()],
                ))
                .await;
            if let Err(error) = sent {
                // Other processes still re-check within the recheck interval.
                tracing::warn!(%error, "could not announce an access change");
            }
        }
    }

    /// Wakes every subscriber to re-read the database (after the `NOTIFY`
    /// listener reconnected, when announcements may have been missed).
    pub fn wake_all(&self) {
        self.bump_access_epoch();
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels.retain(|_, sender| {
            sender
                .send(Signal {
                    seq: i64::MAX,
                    message: None,
                })
                .is_ok()
        });
    }

    /// How many topics have a live channel (for metrics and tests).
    pub fn open_channels(&self) -> usize {
        self.channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Call inside the writing transaction, just before its commit: on
    /// PostgreSQL this sends the `NOTIFY`s, which are delivered at commit (and
    /// never if it rolls back).
    pub async fn announce_in<C: ConnectionTrait>(
        &self,
        txn: &C,
        announcements: &[Announcement],
    ) -> AppResult<()> {
        if !self.through_postgres {
            return Ok(());
        }
        for chunk in announcements.chunks(ANNOUNCEMENTS_PER_NOTIFY) {
            let payload = chunk
                .iter()
                .map(Announcement::encode)
                .collect::<Vec<_>>()
                .join(";");
            txn.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [NOTIFY_CHANNEL.into(), payload.into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// Call after the commit: with SQLite, publishes in this process.
    pub fn announce_committed(&self, announcements: &[Announcement]) {
        if self.through_postgres {
            return;
        }
        for announcement in announcements {
            self.publish(*announcement);
        }
    }

    /// Call after a message's commit: with SQLite, hands the message itself
    /// to the conversation's subscribers in this process.
    pub fn announce_message_committed(&self, message: &entity::message::Model) {
        if !self.through_postgres {
            self.publish_message(Arc::new(message.clone()));
        }
    }

    /// The announcements of one `NOTIFY` payload; an access-changed marker
    /// bumps the access epoch.
    pub fn decode_payload(&self, payload: &str) -> Vec<Announcement> {
        if payload == ACCESS_CHANGED {
            self.bump_access_epoch();
            return Vec::new();
        }
        payload
            .split(';')
            .filter_map(Announcement::decode)
            .collect()
    }

    /// Publishes the announcements of one `NOTIFY` payload as they are.
    pub fn publish_payload(&self, payload: &str) {
        for announcement in self.decode_payload(payload) {
            self.publish(announcement);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_exist_while_someone_listens() {
        let hub = Hub::default();
        let topic = Topic::Conversation(Uuid::now_v7());
        let mut rx = hub.subscribe(topic);
        hub.publish(Announcement { topic, seq: 1 });
        assert_eq!(rx.try_recv().ok().map(|s| s.seq), Some(1));
        drop(rx);
        hub.publish(Announcement { topic, seq: 2 });
        assert_eq!(hub.open_channels(), 0, "dropped when idle");
        // Nobody listening to another topic: nothing is created.
        hub.publish(Announcement {
            topic: Topic::User(Uuid::now_v7()),
            seq: 1,
        });
        assert_eq!(hub.open_channels(), 0);
    }

    #[test]
    fn announcements_survive_the_notify_payload_round_trip() {
        let hub = Hub::default();
        let user = Topic::User(Uuid::now_v7());
        let conversation = Topic::Conversation(Uuid::now_v7());
        let mut user_rx = hub.subscribe(user);
        let mut conversation_rx = hub.subscribe(conversation);
        let payload = [
            Announcement {
                topic: user,
                seq: 7,
            },
            Announcement {
                topic: conversation,
                seq: 42,
            },
        ]
        .iter()
        .map(Announcement::encode)
        .collect::<Vec<_>>()
        .join(";");
        hub.publish_payload(&format!("{payload};garbage;x:y:z"));
        assert_eq!(user_rx.try_recv().ok().map(|s| s.seq), Some(7));
        assert_eq!(conversation_rx.try_recv().ok().map(|s| s.seq), Some(42));
        let before = hub.access_epoch();
        hub.publish_payload("access");
        assert_eq!(hub.access_epoch(), before + 1);
    }
}
