//! `messageAdded`: live delivery of a conversation's new messages over WebSocket.

use std::collections::VecDeque;

use async_graphql::{Context, ID, Result, Subscription};
use futures_util::{Stream, stream};
use sea_orm::EntityTrait;
use tokio::sync::broadcast::{Receiver, error::RecvError};

use super::{
    hub::MessageEvent,
    service,
    types::{Message, decode_message_cursor},
};
use crate::{
    auth::Principal,
    case::service::ReadAudit,
    graphql::{
        AppState, ContextExt, RequestMeta,
        node::{GlobalId, NodeKind},
    },
};

/// Subscriptions.
#[derive(Default)]
pub struct MessagingSubscription;

struct Delivery {
    state: AppState,
    principal: Principal,
    meta: RequestMeta,
    conversation_id: uuid::Uuid,
    backlog: VecDeque<entity::message::Model>,
    live: Receiver<MessageEvent>,
    last_seq: i64,
    sees_record: bool,
}

impl Delivery {
    /// The next message to deliver, or `None` when the stream ends: the session
    /// and the access to the conversation are re-checked before every live
    /// message, so a sign-out, a withdrawn consent or a closed case stops the
    /// flow at once.
    async fn next(mut self) -> Option<(Message, Self)> {
        loop {
            if let Some(model) = self.backlog.pop_front() {
                self.last_seq = model.seq;
                let message = Message {
                    model,
                    sees_record: self.sees_record,
                    viewer_id: self.principal.user_id,
                };
                return Some((message, self));
            }
            match self.live.recv().await {
                Ok(event) if event.seq <= self.last_seq => continue,
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    let db = &self.state.db;
                    // Signed out or deactivated meanwhile: the stream ends.
                    if !crate::auth::viewer::session_is_live(db, &self.principal)
                        .await
                        .ok()?
                    {
                        return None;
                    }
                    let view = service::conversation(
                        db,
                        &self.principal,
                        &self.meta,
                        &ReadAudit::default(),
                        self.conversation_id,
                    )
                    .await
                    .ok()?;
                    self.sees_record = view.case.access.relation.works_the_case();
                    // Read from the database after the last delivered message:
                    // covers lagging and any message that raced the subscription.
                    let (rows, _) =
                        service::messages(db, self.conversation_id, Some(self.last_seq), 100)
                            .await
                            .ok()?;
                    self.backlog.extend(rows);
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

/// The subscription root: live events over WebSocket (`/graphql/ws`,
/// `graphql-transport-ws`, access token in `connection_init`).
#[Subscription(name = "Subscription")]
impl MessagingSubscription {
    /// New messages of a conversation as they are sent. With `after` (the cursor
    /// of the last message the phone has), the messages since then come first,
    /// then the live ones: no gap and no duplicate.
    async fn message_added(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conversation.")] conversation_id: ID,
        #[graphql(desc = "Deliver the messages after this cursor first.")] after: Option<String>,
    ) -> Result<impl Stream<Item = Message>> {
        let principal = ctx.viewer().principal()?.clone();
        let id = GlobalId::expect(
            &conversation_id,
            NodeKind::Conversation,
            &["conversationId"],
        )?;
        let state = ctx.state().clone();
        let meta = ctx.request_meta();
        let view =
            service::conversation(&state.db, &principal, &meta, &ReadAudit::default(), id).await?;
        // Listen first, then read the backlog: a message sent in between is in
        // one or the other, and duplicates are skipped by sequence number.
        let live = state.hub.subscribe(id);
        let after = after.as_deref().map(decode_message_cursor).transpose()?;
        let last_seq = match after {
            Some(seq) => seq,
            None => entity::conversation::Entity::find_by_id(id)
                .one(&state.db)
                .await
                .map_err(crate::error::AppError::from)?
                .map(|c| c.last_seq)
                .unwrap_or_default(),
        };
        let (backlog, _) = service::messages(&state.db, id, Some(last_seq), 100).await?;
        let delivery = Delivery {
            state,
            principal,
            meta,
            conversation_id: id,
            backlog: backlog.into(),
            live,
            last_seq,
            sees_record: view.case.access.relation.works_the_case(),
        };
        Ok(stream::unfold(delivery, Delivery::next))
    }
}
