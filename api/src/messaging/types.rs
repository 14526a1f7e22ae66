//! GraphQL types of conversations and messages.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use entity::{conversation, message};
use sea_orm::EntityTrait;

use super::service;
use crate::{
    case::service::CaseView,
    error::AppError,
    graphql::{
        ContextExt,
        loaders::ReadPositionLoader,
        node::{GlobalId, NodeKind},
    },
    identity::types::User,
};

/// Who a conversation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::conversation::ConversationKind")]
pub enum ConversationKind {
    /// The family members taking part and the staff on the case.
    Family,
    /// A young person and their caseworkers, private from the guardians.
    YoungPerson,
    /// Staff and professionals with a `MESSAGES` consent.
    CareTeam,
}

/// Encodes a message's position in its conversation as a cursor.
pub fn message_cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("seq:{seq}"))
}

/// Decodes a message cursor; `BAD_USER_INPUT` on `after` otherwise.
pub fn decode_message_cursor(cursor: &str) -> Result<i64, AppError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.strip_prefix("seq:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| AppError::bad_input(&["after"], "not a valid cursor"))
}

/// A conversation on a case.
pub struct Conversation {
    pub model: conversation::Model,
    pub case: Arc<CaseView>,
}

/// A conversation on a case.
#[Object]
impl Conversation {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Conversation, self.model.id)
    }

    /// Who it is for.
    async fn kind(&self) -> ConversationKind {
        self.model.kind.into()
    }

    /// An optional title.
    async fn title(&self) -> Option<&str> {
        self.model.title.as_deref()
    }

    /// The case.
    async fn case_id(&self) -> ID {
        GlobalId::encode(NodeKind::Case, self.model.case_id)
    }

    /// The family members taking part (staff on the case always do).
    async fn family_participants(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let ids: Vec<uuid::Uuid> = entity::conversation_participant::Entity::find()
            .filter(entity::conversation_participant::Column::ConversationId.eq(self.model.id))
            .all(&ctx.state().db)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .map(|p| p.user_id)
            .collect();
        let users = ctx
            .user_loader()
            .load_many(ids)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(users.into_values().map(User).collect())
    }

    /// The cursor of the newest message: pass it as `after` to wait for newer ones.
    async fn latest_cursor(&self) -> String {
        message_cursor(self.model.last_seq)
    }

    /// Messages the viewer has not read yet (their own count as read).
    async fn unread_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let viewer = ctx.viewer().principal()?.user_id;
        let read = ctx
            .loader::<ReadPositionLoader>()
            .load_one((self.model.id, viewer))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .unwrap_or(0);
        Ok((self.model.last_seq - read).max(0))
    }

    /// The cursor of the last message the viewer has read; null when none.
    async fn read_up_to(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let viewer = ctx.viewer().principal()?.user_id;
        Ok(ctx
            .loader::<ReadPositionLoader>()
            .load_one((self.model.id, viewer))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map(message_cursor))
    }
}

/// Where a sent message stands for one of the people who get it.
pub struct MessageReceipt(pub service::Receipt);

/// Where a sent message stands for one of the people who get it: delivered
/// (it is in their conversation and stream), read (unless they turned read
/// receipts off), and whether their notification waits for their quiet hours.
#[Object]
impl MessageReceipt {
    /// Who gets it.
    async fn recipient(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(ctx
            .user_loader()
            .load_one(self.0.user_id)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map(User))
    }

    /// `DELIVERED` or `READ`.
    async fn status(&self) -> DeliveryStatus {
        if self.0.read_at.is_some() {
            DeliveryStatus::Read
        } else {
            DeliveryStatus::Delivered
        }
    }

    /// When they read it; null when not yet (or they do not send read receipts).
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }

    /// Set when their notification is held until their quiet hours end.
    async fn notification_held_until(&self) -> Option<DateTime<Utc>> {
        self.0.notification_held_until
    }

    /// A partner caseworker getting it because the primary caseworker is away.
    async fn covering(&self) -> bool {
        self.0.covering
    }
}

/// How far a message got with one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DeliveryStatus {
    /// Stored and in the recipient's conversation; not known to be read.
    Delivered,
    /// The recipient read it.
    Read,
}

/// A message.
pub struct Message {
    pub model: message::Model,
    /// Whether the viewer may see withdrawn originals (staff working the case).
    pub sees_record: bool,
    pub viewer_id: uuid::Uuid,
}

/// A message in a conversation. Withdrawn messages stay, without their text
/// for everyone but the author and the staff keeping the record.
#[Object]
impl Message {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Message, self.model.id)
    }

    /// The cursor of this message in its conversation.
    async fn cursor(&self) -> String {
        message_cursor(self.model.seq)
    }

    /// The position in the conversation (1, 2, 3, …).
    async fn sequence(&self) -> i64 {
        self.model.seq
    }

    /// The client message id the author's phone sent.
    async fn client_message_id(&self) -> Option<&str> {
        (self.model.author_id == self.viewer_id).then_some(self.model.client_message_id.as_str())
    }

    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User(
            ctx.user_loader()
                .load_one(self.model.author_id)
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?
                .ok_or_else(|| AppError::Internal("a message's author is missing".into()))?,
        ))
    }

    /// The text; null when withdrawn (except for the author and the staff
    /// keeping the record, whose reading of a withdrawn original is audited).
    async fn body(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let withdrawn = self.model.withdrawn_at.is_some();
        let author = self.model.author_id == self.viewer_id;
        if withdrawn && !author {
            if !self.sees_record {
                return Ok(None);
            }
            let principal = ctx.viewer().principal()?;
            let conversation = entity::conversation::Entity::find_by_id(self.model.conversation_id)
                .one(&ctx.state().db)
                .await
                .map_err(AppError::from)?;
            let mut entry = crate::audit::AuditEntry::new(
                crate::audit::AuditAction::WithdrawnMessageRead,
                Some(principal.tenant_id),
            )
            .actor(principal.user_id)
            .subject("Message", self.model.id)
            .request(&ctx.request_meta().request_id);
            if let Some(conversation) = conversation {
                entry = entry.case(conversation.case_id);
            }
            crate::audit::append(&ctx.state().db, entry).await?;
        }
        Ok(Some(self.model.body.as_str()))
    }

    /// Whether the author withdrew it.
    async fn withdrawn(&self) -> bool {
        self.model.withdrawn_at.is_some()
    }

    /// When it was sent.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// When it was last edited; null if never.
    async fn edited_at(&self) -> Option<DateTime<Utc>> {
        self.model.edited_at
    }

    /// Sent as urgent help ("I need help now").
    async fn urgent(&self) -> bool {
        self.model.urgent
    }

    /// For the author only (empty for anyone else): who gets the message,
    /// whether they read it, and whether their notification waits for their
    /// quiet hours.
    async fn receipts(&self, ctx: &Context<'_>) -> Result<Vec<MessageReceipt>> {
        if self.model.author_id != self.viewer_id {
            return Ok(Vec::new());
        }
        Ok(ctx
            .loader::<crate::graphql::loaders::ReceiptLoader>()
            .load_one(service::MessageKey::from(&self.model))
            .await
            .map_err(|e| AppError::Internal(e.message()))?
            .unwrap_or_default()
            .into_iter()
            .map(MessageReceipt)
            .collect())
    }

    /// The message it answers.
    async fn reply_to_id(&self) -> Option<ID> {
        self.model
            .reply_to_id
            .map(|id| GlobalId::encode(NodeKind::Message, id))
    }
}

crate::connection_type!(
    MessageConnection,
    MessageEdge,
    Message,
    "A page of a conversation's messages, oldest first.",
    "One message with its cursor."
);
