//! `viewerEvents`: one live stream per user of everything that concerns them.

use std::{collections::HashMap, collections::VecDeque, time::Instant};

use async_graphql::{Context, Result, Subscription};
use futures_util::{Stream, stream};
use tokio::sync::broadcast::{Receiver, error::RecvError};
use uuid::Uuid;

use super::{
    hub::{Signal, Topic},
    service,
    types::{ViewerEvent, decode_event_cursor},
};
use crate::{
    auth::Principal,
    case::service::ReadAudit,
    graphql::{AppState, ContextExt, RequestMeta},
    messaging::{
        service as messaging,
        subscription::{consents_of, recheck_at},
        types::Message,
    },
};

/// How many events a replay reads at a time.
const REPLAY_BATCH: u64 = 100;

/// Subscriptions of the viewer's own stream.
#[derive(Default)]
pub struct EventsSubscription;

struct Delivery {
    state: AppState,
    principal: Principal,
    meta: RequestMeta,
    backlog: VecDeque<entity::user_event::Model>,
    live: Receiver<Signal>,
    last_seq: i64,
    /// Access decisions per conversation (whether the viewer may use it, and
    /// sees the record), valid while the access epoch stays that of
    /// `checked`, each until its own re-check time.
    access: HashMap<Uuid, (Option<bool>, Instant)>,
    /// The access epoch of the last session check, and when it must be
    /// checked again anyway.
    checked: Option<(u64, Instant)>,
    session_expires: chrono::DateTime<chrono::Utc>,
}

impl Delivery {
    /// Drops the cached decisions and re-checks the session when something
    /// that could change access happened (or the last check is old). `None`
    /// when the session is gone: the stream ends.
    async fn refresh_access(&mut self) -> Option<()> {
        let epoch = self.state.hub.access_epoch();
        if let Some((checked_epoch, until)) = self.checked
            && checked_epoch == epoch
            && Instant::now() < until
        {
            return Some(());
        }
        self.session_expires =
            crate::auth::viewer::session_live_until(&self.state.db, &self.principal)
                .await
                .ok()??;
        self.access.clear();
        self.checked = Some((epoch, recheck_at(self.session_expires, &[])));
        Some(())
    }

    /// Whether the viewer may use a conversation (and sees its record); `None`
    /// when not.
    async fn conversation_access(&mut self, conversation_id: Uuid) -> Option<bool> {
        if let Some((decision, until)) = self.access.get(&conversation_id)
            && Instant::now() < *until
        {
            return *decision;
        }
        let view = messaging::conversation(
            &self.state.db,
            &self.principal,
            &self.meta,
            &ReadAudit::default(),
            conversation_id,
        )
        .await
        .ok();
        let until = match &view {
            Some(view) => recheck_at(self.session_expires, &consents_of(view)),
            None => recheck_at(self.session_expires, &[]),
        };
        let decision = view.map(|view| view.case.access.relation.works_the_case());
        self.access.insert(conversation_id, (decision, until));
        decision
    }

    /// The next event to deliver, or `None` when the stream ends. The session
    /// and the access to an event's conversation are re-checked whenever
    /// something that could change them happened: a sign-out ends the stream,
    /// and events of a conversation the viewer may no longer use (a withdrawn
    /// consent, a closed case) are skipped, also on replay.
    async fn next(mut self) -> Option<(ViewerEvent, Self)> {
        loop {
            if let Some(model) = self.backlog.pop_front() {
                self.last_seq = model.seq;
                let message = match model.conversation_id {
                    Some(conversation_id) => {
                        self.refresh_access().await?;
                        let Some(sees_record) = self.conversation_access(conversation_id).await
                        else {
                            continue;
                        };
                        match model.message_id {
                            Some(id) => messaging::message_in(&self.state.db, conversation_id, id)
                                .await
                                .ok()?
                                .map(|model| Message {
                                    model,
                                    sees_record,
                                    viewer_id: self.principal.user_id,
                                }),
                            None => None,
                        }
                    }
                    None => None,
                };
                return Some((ViewerEvent { model, message }, self));
            }
            match self.live.recv().await {
                Ok(signal) if signal.seq <= self.last_seq => continue,
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    self.refresh_access().await?;
                    let rows = service::events_after(
                        &self.state.db,
                        self.principal.user_id,
                        self.last_seq,
                        REPLAY_BATCH,
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

/// The subscription root's events part.
#[Subscription]
impl EventsSubscription {
    /// Everything that concerns the viewer as it happens: new messages in
    /// their conversations, read receipts. With `after` (the cursor of the
    /// last event the phone has), the events since then come first, then the
    /// live ones: no gap and no duplicate.
    async fn viewer_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Deliver the events after this cursor first.")] after: Option<String>,
    ) -> Result<impl Stream<Item = ViewerEvent>> {
        let principal = ctx.viewer().principal()?.clone();
        let state = ctx.state().clone();
        let meta = ctx.request_meta();
        let after = after
            .as_deref()
            .map(|c| decode_event_cursor(c, "after"))
            .transpose()?;
        // Listen first, then read the backlog: an event committed in between
        // is in one or the other, and duplicates are skipped by sequence number.
        let live = state.hub.subscribe(Topic::User(principal.user_id));
        let last_seq = match after {
            Some(seq) => seq,
            None => service::last_event_seq(&state.db, principal.user_id).await?,
        };
        let backlog =
            service::events_after(&state.db, principal.user_id, last_seq, REPLAY_BATCH).await?;
        // A long replay continues from the database on the next signal; make
        // sure there is one when the first batch was full.
        let full = backlog.len() as u64 == REPLAY_BATCH;
        let delivery = Delivery {
            state,
            principal,
            meta,
            backlog: backlog.into(),
            live,
            last_seq,
            access: HashMap::new(),
            checked: None,
            session_expires: chrono::Utc::now(),
        };
        if full {
            delivery.state.hub.publish(super::hub::Announcement {
                topic: Topic::User(delivery.principal.user_id),
                seq: i64::MAX,
            });
        }
        Ok(stream::unfold(delivery, Delivery::next))
    }
}
