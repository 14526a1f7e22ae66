//! GraphQL types of conversations and messages.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use entity::{conversation, message};

use crate::{
    case::service::CaseView,
    error::AppError,
    graphql::{
        ContextExt,
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
    /// keeping the record).
    async fn body(&self) -> Option<&str> {
        let hidden = self.model.withdrawn_at.is_some()
            && !self.sees_record
            && self.model.author_id != self.viewer_id;
        (!hidden).then_some(self.model.body.as_str())
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
