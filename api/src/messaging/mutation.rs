//! Messaging queries and mutations.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use super::{
    service,
    types::{
        Conversation, ConversationKind, Message, MessageConnection, MessageEdge,
        decode_message_cursor, message_cursor,
    },
};
use crate::{
    case::query::read_audit,
    graphql::{
        ContextExt, UserError,
        node::{GlobalId, NodeKind},
    },
};

/// Starting a conversation.
#[derive(Debug, InputObject)]
pub struct StartConversationInput {
    /// The case.
    pub case_id: ID,
    /// Who it is for.
    pub kind: ConversationKind,
    /// An optional title.
    pub title: Option<String>,
    /// For `FAMILY`: the family members (with a login) taking part; default
    /// every guardian.
    pub family_member_ids: Option<Vec<ID>>,
}

/// The result of `startConversation`.
#[derive(SimpleObject)]
pub struct ConversationPayload {
    /// The conversation; null when there are user errors.
    pub conversation: Option<Conversation>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// Sending a message.
#[derive(Debug, InputObject)]
pub struct SendMessageInput {
    /// The conversation.
    pub conversation_id: ID,
    /// An id the phone generates for this message (a UUID, say). Sending again
    /// with the same id returns the original message and creates nothing.
    pub client_message_id: String,
    /// The text (1 to 4000 characters).
    pub body: String,
    /// The message this one answers.
    pub reply_to_id: Option<ID>,
    /// Urgent help ("I need help now"; guardians and young people only): goes
    /// at once to the primary and partner caseworker and the team lead,
    /// ignoring quiet hours. It does not replace emergency services.
    #[graphql(default = false)]
    pub urgent: bool,
}

/// Marking a conversation read.
#[derive(Debug, InputObject)]
pub struct MarkConversationReadInput {
    /// The conversation.
    pub conversation_id: ID,
    /// The cursor of the last message read; default the newest.
    pub up_to: Option<String>,
}

/// Editing or withdrawing one's own message.
#[derive(Debug, InputObject)]
pub struct EditMessageInput {
    /// The message.
    pub message_id: ID,
    /// The new text.
    pub body: String,
}

/// Withdrawing one's own message.
#[derive(Debug, InputObject)]
pub struct WithdrawMessageInput {
    /// The message.
    pub message_id: ID,
}

/// The result of a message mutation.
#[derive(SimpleObject)]
pub struct MessagePayload {
    /// The message; null when there are user errors.
    pub message: Option<Message>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

fn message_of(
    ctx: &Context<'_>,
    model: entity::message::Model,
    sees_record: bool,
) -> Result<Message> {
    Ok(Message {
        model,
        sees_record,
        viewer_id: ctx.viewer().principal()?.user_id,
    })
}

async fn message_payload(
    ctx: &Context<'_>,
    outcome: Result<entity::message::Model, UserError>,
) -> Result<MessagePayload> {
    Ok(match outcome {
        Ok(model) => MessagePayload {
            message: Some(message_of(ctx, model, false)?),
            user_errors: Vec::new(),
        },
        Err(problem) => MessagePayload {
            message: None,
            user_errors: vec![problem],
        },
    })
}

/// Messaging queries.
#[derive(Default)]
pub struct MessagingQuery;

#[Object]
impl MessagingQuery {
    /// The messages of a conversation in order, after a cursor (a phone that
    /// was offline catches up with the cursor of the last message it has).
    async fn messages(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conversation.")] conversation_id: ID,
        #[graphql(desc = "How many (1–100).")] first: i32,
        #[graphql(desc = "Only messages after this cursor.")] after: Option<String>,
    ) -> Result<MessageConnection> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(
            &conversation_id,
            NodeKind::Conversation,
            &["conversationId"],
        )?;
        let db = &ctx.state().db;
        let view =
            service::conversation(db, principal, &ctx.request_meta(), &read_audit(ctx), id).await?;
        let after = after.as_deref().map(decode_message_cursor).transpose()?;
        let (rows, has_next_page) = service::messages(db, id, after, first).await?;
        let sees_record = view.case.access.relation.works_the_case();
        let edges: Vec<MessageEdge> = rows
            .into_iter()
            .map(|model| MessageEdge {
                cursor: message_cursor(model.seq),
                node: Message {
                    model,
                    sees_record,
                    viewer_id: principal.user_id,
                },
            })
            .collect();
        let page_info = async_graphql::connection::PageInfo {
            has_previous_page: false,
            has_next_page,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        Ok(MessageConnection { edges, page_info })
    }
}

/// Messaging mutations.
#[derive(Default)]
pub struct MessagingMutation;

#[Object]
impl MessagingMutation {
    /// Starts a conversation on a case (staff on the case).
    async fn start_conversation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conversation.")] input: StartConversationInput,
    ) -> Result<ConversationPayload> {
        let principal = ctx.viewer().principal()?;
        let case_id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let members = match &input.family_member_ids {
            Some(ids) => {
                let mut out = Vec::new();
                for id in ids {
                    out.push(GlobalId::expect(
                        id,
                        NodeKind::FamilyMember,
                        &["input", "familyMemberIds"],
                    )?);
                }
                Some(out)
            }
            None => None,
        };
        let db = &ctx.state().db;
        let outcome = service::start_conversation(
            db,
            principal,
            &ctx.request_meta(),
            case_id,
            input.kind.into(),
            input.title,
            members,
        )
        .await?;
        Ok(match outcome {
            Ok(model) => {
                let view = service::conversation(
                    db,
                    principal,
                    &ctx.request_meta(),
                    &read_audit(ctx),
                    model.id,
                )
                .await?;
                ConversationPayload {
                    conversation: Some(Conversation {
                        model: view.model,
                        case: Arc::new(view.case),
                    }),
                    user_errors: Vec::new(),
                }
            }
            Err(problem) => ConversationPayload {
                conversation: None,
                user_errors: vec![problem],
            },
        })
    }

    /// Sends a message. Retrying with the same `clientMessageId` returns the
    /// original message and creates nothing; the same id with another text is
    /// `CONFLICT`.
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The message.")] input: SendMessageInput,
    ) -> Result<MessagePayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(
            &input.conversation_id,
            NodeKind::Conversation,
            &["input", "conversationId"],
        )?;
        let reply_to = input
            .reply_to_id
            .as_ref()
            .map(|r| GlobalId::expect(r, NodeKind::Message, &["input", "replyToId"]))
            .transpose()?;
        let outcome = service::send_message(
            &ctx.state().db,
            &ctx.state().hub,
            principal,
            &ctx.request_meta(),
            id,
            &input.client_message_id,
            &input.body,
            reply_to,
            input.urgent,
        )
        .await?;
        message_payload(ctx, outcome).await
    }

    /// Marks a conversation read up to a message (default: the newest). The
    /// authors get a read receipt unless the viewer turned receipts off.
    async fn mark_conversation_read(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How far.")] input: MarkConversationReadInput,
    ) -> Result<ConversationPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(
            &input.conversation_id,
            NodeKind::Conversation,
            &["input", "conversationId"],
        )?;
        let up_to = input
            .up_to
            .as_deref()
            .map(|c| {
                decode_message_cursor(c).map_err(|_| {
                    crate::error::AppError::bad_input(&["input", "upTo"], "not a valid cursor")
                })
            })
            .transpose()?;
        let state = ctx.state();
        let outcome = service::mark_read(
            &state.db,
            &state.hub,
            principal,
            &ctx.request_meta(),
            id,
            up_to,
        )
        .await?;
        Ok(match outcome {
            Ok(view) => ConversationPayload {
                conversation: Some(Conversation {
                    model: view.model,
                    case: Arc::new(view.case),
                }),
                user_errors: Vec::new(),
            },
            Err(problem) => ConversationPayload {
                conversation: None,
                user_errors: vec![problem],
            },
        })
    }

    /// Edits one's own message within 15 minutes; the earlier text is kept.
    async fn edit_message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new text.")] input: EditMessageInput,
    ) -> Result<MessagePayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(
            &input.message_id,
            NodeKind::Message,
            &["input", "messageId"],
        )?;
        let outcome = service::edit_message(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            id,
            &input.body,
        )
        .await?;
        message_payload(ctx, outcome).await
    }

    /// Withdraws one's own message: it shows as withdrawn; nothing is deleted.
    async fn withdraw_message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The message.")] input: WithdrawMessageInput,
    ) -> Result<MessagePayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(
            &input.message_id,
            NodeKind::Message,
            &["input", "messageId"],
        )?;
        let row =
            service::withdraw_message(&ctx.state().db, principal, &ctx.request_meta(), id).await?;
        message_payload(ctx, Ok(row)).await
    }
}
