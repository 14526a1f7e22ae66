//! Messaging logic. Sends are idempotent by the phone's client message id
//! (a unique key checked in the inserting transaction); order within a
//! conversation comes from a per-conversation sequence number taken in the
//! same transaction. Nothing is hard-deleted.

use chrono::{Duration, Utc};
use entity::{
    conversation::{self, ConversationKind},
    conversation_participant,
    family_member::MemberKind,
    message, message_version,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set, SqlErr, TransactionTrait,
};
use uuid::Uuid;

use crate::{
    auth::{
        Principal,
        case_policy::{can_use_conversation, manages_goals},
    },
    case::service::{CaseView, ReadAudit, case},
    error::{AppError, AppResult},
    graphql::{RequestMeta, UserError, UserErrorCode, pagination::page_size},
};

/// Longest message accepted.
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// Longest client message id accepted.
pub const MAX_CLIENT_ID_CHARS: usize = 100;
/// How long after sending a message can still be edited.
pub const EDIT_WINDOW: Duration = Duration::minutes(15);

/// A conversation the viewer may use, with its case.
pub struct ConversationView {
    pub model: conversation::Model,
    pub case: CaseView,
}

async fn is_participant(
    db: &DatabaseConnection,
    conversation_id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    Ok(
        conversation_participant::Entity::find_by_id((conversation_id, user_id))
            .one(db)
            .await?
            .is_some(),
    )
}

/// One conversation the viewer may use; `NOT_FOUND` otherwise.
pub async fn conversation(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    read_audit: &ReadAudit,
    id: Uuid,
) -> AppResult<ConversationView> {
    let model = conversation::Entity::find_by_id(id)
        .filter(conversation::Column::TenantId.eq(principal.tenant_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("conversation"))?;
    let view = case(db, principal, meta, read_audit, model.case_id)
        .await
        .map_err(|_| AppError::NotFound("conversation"))?;
    let participant = is_participant(db, model.id, principal.user_id).await?;
    if !can_use_conversation(&view.access, model.kind, participant) {
        return Err(AppError::NotFound("conversation"));
    }
    Ok(ConversationView { model, case: view })
}

/// The conversations of a case the viewer may use, oldest first.
pub async fn conversations_of_case(
    db: &DatabaseConnection,
    principal: &Principal,
    view: &CaseView,
) -> AppResult<Vec<conversation::Model>> {
    let rows = conversation::Entity::find()
        .filter(conversation::Column::CaseId.eq(view.model.id))
        .order_by_asc(conversation::Column::CreatedAt)
        .limit(100)
        .all(db)
        .await?;
    let mine: Vec<Uuid> = conversation_participant::Entity::find()
        .filter(conversation_participant::Column::UserId.eq(principal.user_id))
        .filter(conversation_participant::Column::ConversationId.is_in(rows.iter().map(|c| c.id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.conversation_id)
        .collect();
    Ok(rows
        .into_iter()
        .filter(|c| can_use_conversation(&view.access, c.kind, mine.contains(&c.id)))
        .collect())
}

/// Starts a conversation on a case (staff on the case). Family conversations
/// include the family members with a login given (default: every guardian);
/// a young person's conversation includes the case's young person(s).
pub async fn start_conversation(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    case_id: Uuid,
    kind: ConversationKind,
    title: Option<String>,
    member_ids: Option<Vec<Uuid>>,
) -> AppResult<Result<conversation::Model, UserError>> {
    let view = case(db, principal, meta, &ReadAudit::default(), case_id).await?;
    if !manages_goals(view.access.relation) {
        return Err(AppError::Forbidden);
    }
    let members = view
        .bundle
        .members
        .get(&view.model.family_id)
        .cloned()
        .unwrap_or_default();
    let focus = view.bundle.focus.get(&case_id).cloned().unwrap_or_default();
    let participants: Vec<Uuid> = match kind {
        ConversationKind::CareTeam => Vec::new(),
        ConversationKind::YoungPerson => members
            .iter()
            .filter(|m| m.kind == MemberKind::Child && focus.contains(&m.id))
            .filter_map(|m| m.user_id)
            .collect(),
        ConversationKind::Family => match &member_ids {
            Some(ids) => {
                let mut users = Vec::new();
                for id in ids {
                    let Some(user) = members
                        .iter()
                        .find(|m| m.id == *id && m.kind != MemberKind::NetworkMember)
                        .and_then(|m| m.user_id)
                    else {
                        return Ok(Err(UserError::on_field(
                            UserErrorCode::InvalidValue,
                            "familyMemberIds",
                            "Choose family members of this case who have a login.",
                        )));
                    };
                    users.push(user);
                }
                users
            }
            None => members
                .iter()
                .filter(|m| m.kind == MemberKind::Guardian)
                .filter_map(|m| m.user_id)
                .collect(),
        },
    };
    if kind == ConversationKind::YoungPerson && participants.is_empty() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "kind",
            "No young person of this case has a login yet.",
        )));
    }
    let title = title.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if title.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Ok(Err(UserError::on_field(
            UserErrorCode::TooLong,
            "title",
            "Use at most 200 characters.",
        )));
    }
    let txn = db.begin().await?;
    let created = conversation::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        tenant_id: Set(principal.tenant_id),
        kind: Set(kind),
        title: Set(title),
        last_seq: Set(0),
        created_by: Set(principal.user_id),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    for user in participants {
        conversation_participant::ActiveModel {
            conversation_id: Set(created.id),
            user_id: Set(user),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(Ok(created))
}

/// Sends a message. The same client message id again returns the original
/// message and creates nothing; the same id with another body is `CONFLICT`.
#[allow(clippy::too_many_arguments)]
pub async fn send_message(
    db: &DatabaseConnection,
    hub: &super::hub::MessageHub,
    principal: &Principal,
    meta: &RequestMeta,
    conversation_id: Uuid,
    client_message_id: &str,
    body: &str,
    reply_to: Option<Uuid>,
) -> AppResult<Result<message::Model, UserError>> {
    let client_message_id = client_message_id.trim();
    if client_message_id.is_empty() || client_message_id.chars().count() > MAX_CLIENT_ID_CHARS {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "clientMessageId",
            format!("Give a client message id of 1 to {MAX_CLIENT_ID_CHARS} characters."),
        )));
    }
    // A retry is answered before anything else, even if access changed since.
    if let Some(existing) = existing_send(db, principal.user_id, client_message_id).await? {
        return same_send(existing, conversation_id, body);
    }
    let view = conversation(db, principal, meta, &ReadAudit::default(), conversation_id).await?;
    let text = body.trim();
    if text.is_empty() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::Required,
            "body",
            "Write a message.",
        )));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Ok(Err(UserError::on_field(
            UserErrorCode::TooLong,
            "body",
            format!("Use at most {MAX_MESSAGE_CHARS} characters."),
        )));
    }
    if let Some(reply_to) = reply_to {
        let found = message::Entity::find_by_id(reply_to)
            .one(db)
            .await?
            .is_some_and(|m| m.conversation_id == conversation_id);
        if !found {
            return Ok(Err(UserError::on_field(
                UserErrorCode::InvalidValue,
                "replyToId",
                "Reply to a message of this conversation.",
            )));
        }
    }
    let txn = db.begin().await?;
    // Lock the conversation row: the sequence number is taken in this
    // transaction, so readers never see a gap that later fills in.
    let locked = conversation::Entity::find_by_id(view.model.id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("conversation"))?;
    let seq = locked.last_seq + 1;
    let mut active = locked.into_active_model();
    active.last_seq = Set(seq);
    active.update(&txn).await?;
    let inserted = message::ActiveModel {
        id: Set(Uuid::now_v7()),
        conversation_id: Set(conversation_id),
        seq: Set(seq),
        author_id: Set(principal.user_id),
        client_message_id: Set(client_message_id.to_owned()),
        body: Set(text.to_owned()),
        reply_to_id: Set(reply_to),
        created_at: Set(Utc::now()),
        edited_at: Set(None),
        withdrawn_at: Set(None),
    }
    .insert(&txn)
    .await;
    match inserted {
        Ok(row) => {
            txn.commit().await?;
            hub.publish(
                row.conversation_id,
                super::hub::MessageEvent {
                    message_id: row.id,
                    seq: row.seq,
                },
            );
            Ok(Ok(row))
        }
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            // A concurrent retry won the race: answer with its message.
            txn.rollback().await?;
            let existing = existing_send(db, principal.user_id, client_message_id)
                .await?
                .ok_or(AppError::Database(error))?;
            same_send(existing, conversation_id, body)
        }
        Err(error) => Err(error.into()),
    }
}

async fn existing_send(
    db: &DatabaseConnection,
    author: Uuid,
    client_message_id: &str,
) -> AppResult<Option<message::Model>> {
    Ok(message::Entity::find()
        .filter(message::Column::AuthorId.eq(author))
        .filter(message::Column::ClientMessageId.eq(client_message_id))
        .one(db)
        .await?)
}

fn same_send(
    existing: message::Model,
    conversation_id: Uuid,
    body: &str,
) -> AppResult<Result<message::Model, UserError>> {
    if existing.conversation_id == conversation_id && existing.body == body.trim() {
        Ok(Ok(existing))
    } else {
        Err(AppError::Conflict(
            "this client message id was used for another message".to_owned(),
        ))
    }
}

/// A page of a conversation's messages in order, after the `after` sequence
/// number; returns the page and whether more follow.
pub async fn messages(
    db: &DatabaseConnection,
    conversation_id: Uuid,
    after: Option<i64>,
    first: i32,
) -> AppResult<(Vec<message::Model>, bool)> {
    let limit = page_size(first)?;
    let mut query = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .order_by_asc(message::Column::Seq)
        .limit(limit + 1);
    if let Some(after) = after {
        query = query.filter(message::Column::Seq.gt(after));
    }
    let mut rows = query.all(db).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

async fn own_message(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    message_id: Uuid,
) -> AppResult<message::Model> {
    let row = message::Entity::find_by_id(message_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("message"))?;
    conversation(
        db,
        principal,
        meta,
        &ReadAudit::default(),
        row.conversation_id,
    )
    .await
    .map_err(|_| AppError::NotFound("message"))?;
    if row.author_id != principal.user_id {
        return Err(AppError::Forbidden);
    }
    Ok(row)
}

/// Withdraws the viewer's own message: others see it as withdrawn; staff who
/// work the case still see the original. Nothing is deleted.
pub async fn withdraw_message(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    message_id: Uuid,
) -> AppResult<message::Model> {
    let row = own_message(db, principal, meta, message_id).await?;
    if row.withdrawn_at.is_some() {
        return Ok(row);
    }
    let mut active = row.into_active_model();
    active.withdrawn_at = Set(Some(Utc::now()));
    Ok(active.update(db).await?)
}

/// Edits the viewer's own message within 15 minutes of sending; the earlier
/// version is kept.
pub async fn edit_message(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    message_id: Uuid,
    body: &str,
) -> AppResult<Result<message::Model, UserError>> {
    let row = own_message(db, principal, meta, message_id).await?;
    let text = body.trim();
    if text.is_empty() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::Required,
            "body",
            "Write a message.",
        )));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Ok(Err(UserError::on_field(
            UserErrorCode::TooLong,
            "body",
            format!("Use at most {MAX_MESSAGE_CHARS} characters."),
        )));
    }
    if row.withdrawn_at.is_some() || Utc::now() - row.created_at > EDIT_WINDOW {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "messageId",
            "Messages can be edited for 15 minutes after sending, unless withdrawn.",
        )));
    }
    let now = Utc::now();
    let txn = db.begin().await?;
    message_version::ActiveModel {
        id: Set(Uuid::now_v7()),
        message_id: Set(row.id),
        body: Set(row.body.clone()),
        replaced_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let mut active = row.into_active_model();
    active.body = Set(text.to_owned());
    active.edited_at = Set(Some(now));
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    Ok(Ok(updated))
}
