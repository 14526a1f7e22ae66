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
/// one connection of the pool while it runs. While it is not connected the
/// hub knows it does not hear access changes (see `Hub::set_hearing`); after
/// every (re)connection all subscribers are woken to re-read the database,
/// since announcements may have been missed meanwhile.
pub async fn run(db: DatabaseConnection, hub: Arc<Hub>, mut shutdown: watch::Receiver<bool>) {
    let pool = db.get_postgres_connection_pool().clone();
    loop {
        let listening = async {
            let mut listener = PgListener::connect_with(&pool)
                .await
                .map_err(|e| e.to_string())?;
            listener
                .listen(NOTIFY_CHANNEL)
                .await
                .map_err(|e| e.to_string())?;
            hub.set_hearing(true);
            hub.wake_all();
            loop {
                match listener.try_recv().await.map_err(|e| e.to_string())? {
                    Some(notification) => {
                        for announcement in hub.decode_payload(notification.payload()) {
                            publish(&db, &hub, announcement).await;
                        }
                    }
                    // The connection was lost: connect again from scratch,
                    // so that the hub knows when it hears again.
                    None => return Err("the connection was lost".to_owned()),
                }
            }
            #[allow(unreachable_code)]
            Ok::<(), String>(())
        };
        tokio::select! {
            _ = shutdown.wait_for(|down| *down) => return,
            outcome = listening => {
                hub.set_hearing(false);
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
