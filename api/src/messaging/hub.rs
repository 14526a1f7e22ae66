//! In-process fan-out of new messages: one broadcast channel per conversation,
//! created when someone subscribes and dropped when nobody listens any more
//! (no global channel that every subscriber filters).

use std::{collections::HashMap, sync::Mutex};

use tokio::sync::broadcast;
use uuid::Uuid;

/// How many undelivered events a slow subscriber may lag behind before it
/// catches up from the database instead.
const CHANNEL_CAPACITY: usize = 256;

/// A new message in a conversation: its id and sequence number.
#[derive(Debug, Clone, Copy)]
pub struct MessageEvent {
    pub message_id: Uuid,
    pub seq: i64,
}

/// The per-conversation channels of this server process.
#[derive(Default)]
pub struct MessageHub {
    channels: Mutex<HashMap<Uuid, broadcast::Sender<MessageEvent>>>,
}

impl MessageHub {
    /// Listens to a conversation, creating its channel on demand.
    pub fn subscribe(&self, conversation_id: Uuid) -> broadcast::Receiver<MessageEvent> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels
            .entry(conversation_id)
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// Announces a new message; drops the conversation's channel when nobody
    /// listens any more.
    pub fn publish(&self, conversation_id: Uuid, event: MessageEvent) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = channels.get(&conversation_id)
            && sender.send(event).is_err()
        {
            channels.remove(&conversation_id);
        }
    }

    /// How many conversations have a live channel (for metrics and tests).
    pub fn open_channels(&self) -> usize {
        self.channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_exist_while_someone_listens() {
        let hub = MessageHub::default();
        let conversation = Uuid::now_v7();
        let mut rx = hub.subscribe(conversation);
        hub.publish(
            conversation,
            MessageEvent {
                message_id: Uuid::now_v7(),
                seq: 1,
            },
        );
        assert_eq!(rx.try_recv().map(|e| e.seq).ok(), Some(1));
        drop(rx);
        hub.publish(
            conversation,
            MessageEvent {
                message_id: Uuid::now_v7(),
                seq: 2,
            },
        );
        assert_eq!(hub.open_channels(), 0, "dropped when idle");
        // Nobody listening to another conversation: nothing is created.
        hub.publish(
            Uuid::now_v7(),
            MessageEvent {
                message_id: Uuid::now_v7(),
                seq: 1,
            },
        );
        assert_eq!(hub.open_channels(), 0);
    }
}
