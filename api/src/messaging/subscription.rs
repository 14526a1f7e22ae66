//! `messageAdded`: live delivery of a conversation's new messages over WebSocket.

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

use async_graphql::{Context, ID, Result, Subscription};
use futures_util::{Stream, stream};
use sea_orm::EntityTrait;
use tokio::sync::broadcast::{Receiver, error::RecvError};

use crate::events::hub::Signal;

use super::{
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

/// The longest a subscription trusts an access check when nothing that could
/// change access was announced (a safety net for changes made outside the
/// API); a random part of as much again spreads the re-checks of thousands
/// of subscriptions.
pub const ACCESS_RECHECK: Duration = Duration::from_secs(300);

/// When an access decision made now must be checked again even if no change
/// is announced: when the session expires, when a consent of the case starts
/// or ends, and at the latest after `ACCESS_RECHECK` (plus jitter).
pub fn recheck_at(
    session_expires: chrono::DateTime<chrono::Utc>,
    consents: &[crate::auth::case_policy::ConsentFacts],
) -> Instant {
    let now = chrono::Utc::now();
    let jitter = Duration::from_millis(rand::random::<u64>() % ACCESS_RECHECK.as_millis() as u64);
    let safety = Instant::now() + ACCESS_RECHECK + jitter;
    let horizon = consents
        .iter()
        .flat_map(|c| [Some(c.valid_from), c.valid_until])
        .flatten()
        .chain(std::iter::once(session_expires))
        .filter(|at| *at > now)
        .min();
    match horizon.and_then(|at| (at - now).to_std().ok()) {
        Some(wait) => safety.min(Instant::now() + wait),
        None => safety,
    }
}

/// The consents of a conversation's case, as the policy sees them.
pub fn consents_of(
    view: &service::ConversationView,
) -> Vec<crate::auth::case_policy::ConsentFacts> {
    view.case
        .bundle
        .facts
        .get(&view.case.model.id)
        .map(|f| f.consents.clone())
        .unwrap_or_default()
}

struct Delivery {
    state: AppState,
    principal: Principal,
    meta: RequestMeta,
    conversation_id: uuid::Uuid,
    backlog: VecDeque<entity::message::Model>,
    live: Receiver<Signal>,
    last_seq: i64,
    sees_record: bool,
    /// The access epoch of the last successful access check, and when it
    /// must be checked again anyway.
    checked: Option<(u64, Instant)>,
}

impl Delivery {
    /// Re-checks the session and the access to the conversation, unless
    /// nothing that could change them happened since the last check (the
    /// hub's access epoch is unchanged, and it is recent). `None` when access
    /// is gone: the stream ends.
    async fn ensure_access(&mut self) -> Option<()> {
        let epoch = self.state.hub.access_epoch();
        if let Some((checked_epoch, until)) = self.checked
            && checked_epoch == epoch
            && Instant::now() < until
        {
            return Some(());
        }
        let db = &self.state.db;
        // Signed out or deactivated meanwhile: the stream ends.
        let session_expires = crate::auth::viewer::session_live_until(db, &self.principal)
            .await
            .ok()??;
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
        self.checked = Some((epoch, recheck_at(session_expires, &consents_of(&view))));
        Some(())
    }

    /// The next message to deliver, or `None` when the stream ends: access is
    /// re-checked before every live message whenever something that could
    /// change it happened (a sign-out, a withdrawn consent, a closed case),
    /// so the flow stops at once.
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
                Ok(signal) if signal.seq <= self.last_seq => continue,
                Ok(Signal {
                    message: Some(message),
                    ..
                }) if message.seq == self.last_seq + 1 => {
                    self.ensure_access().await?;
                    // The publisher read it once for every subscriber.
                    self.backlog.push_back((*message).clone());
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    self.ensure_access().await?;
                    // Read from the database after the last delivered message:
                    // covers lagging and any message that raced the subscription.
                    let (rows, _) = service::messages(
                        &self.state.db,
                        self.conversation_id,
                        Some(self.last_seq),
                        100,
                    )
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
#[Subscription]
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
        let epoch = state.hub.access_epoch();
        let session_expires = crate::auth::viewer::session_live_until(&state.db, &principal)
            .await?
            .ok_or(crate::error::AppError::Unauthenticated(
                "the session has ended",
            ))?;
        let view =
            service::conversation(&state.db, &principal, &meta, &ReadAudit::default(), id).await?;
        // Listen first, then read the backlog: a message sent in between is in
        // one or the other, and duplicates are skipped by sequence number.
        let live = state
            .hub
            .subscribe(crate::events::hub::Topic::Conversation(id));
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
            checked: Some((epoch, recheck_at(session_expires, &consents_of(&view)))),
        };
        Ok(stream::unfold(delivery, Delivery::next))
    }
}
