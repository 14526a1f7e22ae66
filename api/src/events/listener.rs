//! PostgreSQL: every server process listens on one `NOTIFY` channel and
//! republishes what it hears to its own hub, so a message sent through one
//! process reaches subscribers connected to another.

use std::{sync::Arc, time::Duration};

use sea_orm::{DatabaseConnection, sqlx::postgres::PgListener};
use tokio::sync::watch;

use super::hub::{Announcement, Hub, NOTIFY_CHANNEL, Topic};

/// Publishes one announcement here. A new message that someone in this
/// process listens to is read once and handed to all its subscribers.
async fn publish(db: &DatabaseConnection, hub: &Hub, announcement: Announcement) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    if let Topic::Conversation(conversation_id) = announcement.topic
        && hub.has_listeners(announcement.topic)
    {
        let row = entity::message::Entity::find()
            .filter(entity::message::Column::ConversationId.eq(conversation_id))
            .filter(entity::message::Column::Seq.eq(announcement.seq))
            .one(db)
            .await;
        if let Ok(Some(row)) = row {
            hub.publish_message(Arc::new(row));
            return;
        }
    }
    hub.publish(announcement);
}

/// Listens until `shutdown` turns true, reconnecting after failures. It holds
/// one connection of the pool while it runs. After every (re)connection all
/// subscribers are woken to re-read the database, since announcements may
/// have been missed meanwhile.
pub async fn run(db: DatabaseConnection, hub: Arc<Hub>, mut shutdown: watch::Receiver<bool>) {
    let pool = db.get_postgres_connection_pool().clone();
    loop {
        let listening = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(NOTIFY_CHANNEL).await?;
            hub.wake_all();
            loop {
                match listener.try_recv().await? {
                    Some(notification) => {
                        for announcement in hub.decode_payload(notification.payload()) {
                            publish(&db, &hub, announcement).await;
                        }
                    }
                    // The connection was lost and re-established.
                    None => hub.wake_all(),
                }
            }
            #[allow(unreachable_code)]
            Ok::<(), sea_orm::sqlx::Error>(())
        };
        tokio::select! {
            _ = shutdown.wait_for(|down| *down) => return,
            outcome = listening => {
                if let Err(error) = outcome {
                    tracing::warn!(%error, "NOTIFY listener failed; reconnecting");
                }
            }
        }
        tokio::select! {
            _ = shutdown.wait_for(|down| *down) => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
