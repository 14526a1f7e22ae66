//! Messaging logic. Sends are idempotent by the phone's client message id
//! (a unique key checked in the inserting transaction); order within a
//! conversation comes from a per-conversation sequence number taken in the
//! same transaction. Nothing is hard-deleted.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use entity::{
    care_case::{self, CaseStatus},
    conversation::{self, ConversationKind},
    conversation_participant, conversation_read,
    family_member::MemberKind,
    message, message_version,
    user_account::{self, Role},
    user_event::{self, UserEventKind},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr, TransactionTrait,
};
use uuid::Uuid;

use super::recipients::{CasePeople, recipients};
use crate::{
    audit::{
        self,
        service::{AuditAction, AuditEntry},
    },
    auth::{
        Principal,
        case_policy::{
            CaseAccess, CaseRelation, Category, can_use_conversation, case_access, case_scope,
            manages_goals,
        },
    },
    case::service::{CaseView, ReadAudit, case, load_bundle},
    error::{AppError, AppResult},
    events::{
        self,
        hub::{Announcement, Hub, Topic},
        service::NewEvent,
    },
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

/// The conversations of a case the viewer may use, oldest first. Loaded
/// once for every case of the viewer's page (two statements in all).
pub async fn conversations_of_case(
    db: &DatabaseConnection,
    principal: &Principal,
    view: &CaseView,
) -> AppResult<Vec<conversation::Model>> {
    let bundle = &view.bundle;
    let all = bundle
        .conversations
        .get_or_try_init(|| {
            let case_ids: Vec<Uuid> = bundle.facts.keys().copied().collect();
            conversations_of_cases(db, case_ids, principal.user_id)
        })
        .await?;
    Ok(all
        .get(&view.model.id)
        .into_iter()
        .flatten()
        .filter(|(c, participant)| can_use_conversation(&view.access, c.kind, *participant))
        .map(|(c, _)| c.clone())
        .collect())
}

/// The conversations of cases (oldest first, at most 100 a case), each with
/// whether `user_id` takes part.
async fn conversations_of_cases(
    db: &DatabaseConnection,
    case_ids: Vec<Uuid>,
    user_id: Uuid,
) -> AppResult<HashMap<Uuid, Vec<(conversation::Model, bool)>>> {
    let rows = conversation::Entity::find()
        .filter(conversation::Column::CaseId.is_in(case_ids))
        .order_by_asc(conversation::Column::CreatedAt)
        .order_by_asc(conversation::Column::Id)
        .all(db)
        .await?;
    let mine: std::collections::HashSet<Uuid> = if rows.is_empty() {
        Default::default()
    } else {
        conversation_participant::Entity::find()
            .filter(conversation_participant::Column::UserId.eq(user_id))
            .filter(
                conversation_participant::Column::ConversationId.is_in(rows.iter().map(|c| c.id)),
            )
            .all(db)
            .await?
            .into_iter()
            .map(|p| p.conversation_id)
            .collect()
    };
    let mut by_case: HashMap<Uuid, Vec<(conversation::Model, bool)>> = HashMap::new();
    for row in rows {
        let of_case = by_case.entry(row.case_id).or_default();
        if of_case.len() < 100 {
            let participant = mine.contains(&row.id);
            of_case.push((row, participant));
        }
    }
    Ok(by_case)
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
/// `urgent` (guardians and young people only) is urgent help: it notifies the
/// primary and partner caseworker and the team lead at once, whatever their
/// quiet hours or away periods, and is audited.
#[allow(clippy::too_many_arguments)]
pub async fn send_message(
    db: &DatabaseConnection,
    hub: &Hub,
    principal: &Principal,
    meta: &RequestMeta,
    conversation_id: Uuid,
    client_message_id: &str,
    body: &str,
    reply_to: Option<Uuid>,
    urgent: bool,
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
    if urgent
        && !matches!(
            view.case.access.relation,
            CaseRelation::Guardian | CaseRelation::YoungPerson
        )
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "urgent",
            "Urgent help is for guardians and young people to send.",
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
    let now = Utc::now();
    let people = case_people(db, &view, now).await?;
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
        created_at: Set(now),
        edited_at: Set(None),
        withdrawn_at: Set(None),
        urgent: Set(urgent),
    }
    .insert(&txn)
    .await;
    let row = match inserted {
        Ok(row) => row,
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            // A concurrent retry won the race: answer with its message.
            txn.rollback().await?;
            let existing = existing_send(db, principal.user_id, client_message_id)
                .await?
                .ok_or(AppError::Database(error))?;
            return same_send(existing, conversation_id, body);
        }
        Err(error) => return Err(error.into()),
    };
    // The author has read everything up to their own message.
    set_read_state(&txn, conversation_id, principal.user_id, seq, now).await?;
    let events = recipients(view.model.kind, &people, principal.user_id, urgent)
        .into_iter()
        .map(|r| NewEvent {
            case_id: Some(view.model.case_id),
            conversation_id: Some(conversation_id),
            message_id: Some(row.id),
            actor_id: Some(principal.user_id),
            urgent,
            covering: r.covering,
            notify: r.notify,
            ..NewEvent::new(r.user_id, UserEventKind::MessageAdded)
        })
        .collect();
    let mut announcements = events::service::append(&txn, principal.tenant_id, events, now).await?;
    announcements.push(Announcement {
        topic: Topic::Conversation(conversation_id),
        seq,
    });
    if urgent {
        audit::append(
            &txn,
            AuditEntry::new(AuditAction::UrgentHelpSent, Some(principal.tenant_id))
                .actor(principal.user_id)
                .subject("Message", row.id)
                .case(view.model.case_id)
                .request(&meta.request_id),
        )
        .await?;
    }
    hub.announce_in(&txn, &announcements).await?;
    txn.commit().await?;
    // The conversation's subscribers get the message itself; the users'
    // streams a signal.
    hub.announce_message_committed(&row);
    announcements.pop();
    hub.announce_committed(&announcements);
    Ok(Ok(row))
}

/// The people of a conversation's case who may hear of its messages.
async fn case_people(
    db: &DatabaseConnection,
    view: &ConversationView,
    now: chrono::DateTime<Utc>,
) -> AppResult<CasePeople> {
    let facts = view
        .case
        .bundle
        .facts
        .get(&view.case.model.id)
        .ok_or_else(|| AppError::Internal("a case without its facts".into()))?;
    let family_participants = conversation_participant::Entity::find()
        .filter(conversation_participant::Column::ConversationId.eq(view.model.id))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.user_id)
        .collect();
    let mut consented_professionals = Vec::new();
    if view.model.kind == ConversationKind::CareTeam {
        let live: Vec<_> = facts
            .consents
            .iter()
            .filter(|c| c.live_at(now) && c.categories.contains(Category::Messages))
            .collect();
        consented_professionals.extend(live.iter().filter_map(|c| c.user_id));
        let whole_organisations: Vec<Uuid> = live
            .iter()
            .filter(|c| c.user_id.is_none())
            .map(|c| c.organisation_id)
            .collect();
        if !whole_organisations.is_empty() {
            consented_professionals.extend(
                user_account::Entity::find()
                    .filter(user_account::Column::TenantId.eq(facts.tenant_id))
                    .filter(user_account::Column::OrganisationId.is_in(whole_organisations))
                    .filter(user_account::Column::Role.eq(Role::AgencyProfessional))
                    .filter(user_account::Column::DisabledAt.is_null())
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|u| u.id),
            );
        }
    }
    let staff: Vec<Uuid> = std::iter::once(facts.primary_caseworker_id)
        .chain(facts.partner_caseworker_id)
        .collect();
    let away = events::service::away_users(db, &staff, now).await?;
    Ok(CasePeople {
        primary_caseworker: facts.primary_caseworker_id,
        partner_caseworker: facts.partner_caseworker_id,
        therapists: facts.therapist_ids.clone(),
        team_lead: facts.team_lead_id,
        family_participants,
        consented_professionals,
        away,
    })
}

/// Moves a user's read position in a conversation forward to `seq` (never back).
async fn set_read_state<C: ConnectionTrait>(
    db: &C,
    conversation_id: Uuid,
    user_id: Uuid,
    seq: i64,
    now: chrono::DateTime<Utc>,
) -> AppResult<i64> {
    let existing = conversation_read::Entity::find_by_id((conversation_id, user_id))
        .one(db)
        .await?;
    match existing {
        Some(row) if row.last_read_seq >= seq => Ok(row.last_read_seq),
        Some(row) => {
            let previous = row.last_read_seq;
            let mut active = row.into_active_model();
            active.last_read_seq = Set(seq);
            active.read_at = Set(now);
            active.update(db).await?;
            Ok(previous)
        }
        None => {
            conversation_read::ActiveModel {
                conversation_id: Set(conversation_id),
                user_id: Set(user_id),
                last_read_seq: Set(seq),
                read_at: Set(now),
            }
            .insert(db)
            .await?;
            Ok(0)
        }
    }
}

/// Marks a conversation read up to a message (default: the newest). Authors
/// of the messages newly read get a read receipt, unless the reader turned
/// receipts off (they then see the message delivered, not read).
pub async fn mark_read(
    db: &DatabaseConnection,
    hub: &Hub,
    principal: &Principal,
    meta: &RequestMeta,
    conversation_id: Uuid,
    up_to: Option<i64>,
) -> AppResult<Result<ConversationView, UserError>> {
    let view = conversation(db, principal, meta, &ReadAudit::default(), conversation_id).await?;
    let up_to = match up_to {
        Some(seq) if seq < 1 || seq > view.model.last_seq => {
            return Ok(Err(UserError::on_field(
                UserErrorCode::InvalidValue,
                "upTo",
                "Give the cursor of a message of this conversation.",
            )));
        }
        Some(seq) => seq,
        None => view.model.last_seq,
    };
    if up_to == 0 {
        return Ok(Ok(view));
    }
    let now = Utc::now();
    let sends_receipts = events::service::receipts_off(db, &[principal.user_id])
        .await?
        .is_empty();
    let txn = db.begin().await?;
    let previous = set_read_state(&txn, conversation_id, principal.user_id, up_to, now).await?;
    if sends_receipts && previous < up_to {
        let authors: Vec<Uuid> = message::Entity::find()
            .select_only()
            .column(message::Column::AuthorId)
            .distinct()
            .filter(message::Column::ConversationId.eq(conversation_id))
            .filter(message::Column::Seq.gt(previous))
            .filter(message::Column::Seq.lte(up_to))
            .filter(message::Column::AuthorId.ne(principal.user_id))
            .into_tuple()
            .all(&txn)
            .await?;
        let events = authors
            .into_iter()
            .map(|author| NewEvent {
                case_id: Some(view.model.case_id),
                conversation_id: Some(conversation_id),
                actor_id: Some(principal.user_id),
                up_to_seq: Some(up_to),
                ..NewEvent::new(author, UserEventKind::MessagesRead)
            })
            .collect();
        let announcements = events::service::append(&txn, principal.tenant_id, events, now).await?;
        hub.announce_in(&txn, &announcements).await?;
        txn.commit().await?;
        hub.announce_committed(&announcements);
    } else {
        txn.commit().await?;
    }
    Ok(Ok(view))
}

/// The viewer's read positions in the given conversations.
pub async fn read_positions(
    db: &DatabaseConnection,
    user_id: Uuid,
    conversations: &[Uuid],
) -> AppResult<HashMap<Uuid, i64>> {
    Ok(conversation_read::Entity::find()
        .filter(conversation_read::Column::UserId.eq(user_id))
        .filter(conversation_read::Column::ConversationId.is_in(conversations.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.conversation_id, r.last_read_seq))
        .collect())
}

/// Unread messages per conversation the viewer may use (only those with any).
/// A family member's conversations are those that list them; staff's are the
/// conversations of the cases they see, by the conversation policy.
pub async fn unread_counts(
    db: &DatabaseConnection,
    principal: &Principal,
) -> AppResult<HashMap<Uuid, i64>> {
    let conversations: Vec<conversation::Model> = match principal.role {
        Role::Guardian | Role::YoungPerson => {
            return family_unread_counts(db, principal).await;
        }
        Role::NetworkMember | Role::Admin => Vec::new(),
        _ => {
            let now = Utc::now();
            let cases = care_case::Entity::find()
                .filter(case_scope(principal, now))
                .filter(care_case::Column::Status.ne(CaseStatus::Closed))
                .all(db)
                .await?;
            let bundle = load_bundle(db, &cases).await?;
            let access: HashMap<Uuid, CaseAccess> = cases
                .iter()
                .filter_map(|c| {
                    Some((c.id, case_access(principal, bundle.facts.get(&c.id)?, now)?))
                })
                .collect();
            conversation::Entity::find()
                .filter(conversation::Column::CaseId.is_in(access.keys().copied()))
                .all(db)
                .await?
                .into_iter()
                .filter(|c| {
                    access
                        .get(&c.case_id)
                        .is_some_and(|a| can_use_conversation(a, c.kind, false))
                })
                .collect()
        }
    };
    let ids: Vec<Uuid> = conversations.iter().map(|c| c.id).collect();
    let read = read_positions(db, principal.user_id, &ids).await?;
    Ok(conversations
        .into_iter()
        .filter_map(|c| {
            let unread = c.last_seq - read.get(&c.id).copied().unwrap_or(0);
            (unread > 0).then_some((c.id, unread))
        })
        .collect())
}

/// A family member's unread counts in one statement (it runs on every
/// home-screen load): the conversations that list them, joined with their
/// read positions.
async fn family_unread_counts(
    db: &DatabaseConnection,
    principal: &Principal,
) -> AppResult<HashMap<Uuid, i64>> {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT c.id AS id, c.last_seq - COALESCE(r.last_read_seq, 0) AS unread \
             FROM conversation_participant p \
             JOIN conversation c ON c.id = p.conversation_id \
             LEFT JOIN conversation_read r ON r.conversation_id = p.conversation_id AND r.user_id = p.user_id \
             WHERE p.user_id = $1 AND c.tenant_id = $2"
        }
        _ => {
            "SELECT c.id AS id, c.last_seq - COALESCE(r.last_read_seq, 0) AS unread \
             FROM conversation_participant p \
             JOIN conversation c ON c.id = p.conversation_id \
             LEFT JOIN conversation_read r ON r.conversation_id = p.conversation_id AND r.user_id = p.user_id \
             WHERE p.user_id = ? AND c.tenant_id = ?"
        }
    };
    let rows = db
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [principal.user_id.into(), principal.tenant_id.into()],
        ))
        .await?;
    let mut counts = HashMap::new();
    for row in rows {
        let id: Uuid = row.try_get("", "id")?;
        let unread: i64 = row.try_get("", "unread")?;
        if unread > 0 {
            counts.insert(id, unread);
        }
    }
    Ok(counts)
}

/// A message as its receipts need it: id, conversation and sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageKey {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub seq: i64,
}

impl From<&message::Model> for MessageKey {
    fn from(m: &message::Model) -> Self {
        MessageKey {
            id: m.id,
            conversation_id: m.conversation_id,
            seq: m.seq,
        }
    }
}

/// Who of the other people hearing of each message got it, read it, or will
/// be notified later (quiet hours): the author's view of sent messages, for a
/// whole page in three statements (the receipts DataLoader calls this).
pub async fn receipts_of(
    db: &DatabaseConnection,
    messages: &[MessageKey],
) -> AppResult<HashMap<Uuid, Vec<Receipt>>> {
    let events = user_event::Entity::find()
        .filter(user_event::Column::MessageId.is_in(messages.iter().map(|m| m.id)))
        .filter(user_event::Column::Kind.eq(UserEventKind::MessageAdded))
        .order_by_asc(user_event::Column::UserId)
        .all(db)
        .await?;
    let mut users: Vec<Uuid> = events.iter().map(|e| e.user_id).collect();
    users.sort();
    users.dedup();
    let read: HashMap<(Uuid, Uuid), conversation_read::Model> = conversation_read::Entity::find()
        .filter(
            conversation_read::Column::ConversationId
                .is_in(messages.iter().map(|m| m.conversation_id)),
        )
        .filter(conversation_read::Column::UserId.is_in(users.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| ((r.conversation_id, r.user_id), r))
        .collect();
    let private = events::service::receipts_off(db, &users).await?;
    let by_id: HashMap<Uuid, &MessageKey> = messages.iter().map(|m| (m.id, m)).collect();
    let mut out: HashMap<Uuid, Vec<Receipt>> = HashMap::new();
    for event in events {
        let Some(message) = event.message_id.and_then(|id| by_id.get(&id)) else {
            continue;
        };
        let read_at = read
            .get(&(message.conversation_id, event.user_id))
            .filter(|r| r.last_read_seq >= message.seq && !private.contains(&event.user_id))
            .map(|r| r.read_at);
        out.entry(message.id).or_default().push(Receipt {
            user_id: event.user_id,
            read_at,
            notification_held_until: event.notify_at.filter(|at| *at > event.created_at),
            covering: event.covering,
        });
    }
    Ok(out)
}

/// One recipient's state of a message.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub user_id: Uuid,
    /// When they read it (null when not yet, or they do not send receipts).
    pub read_at: Option<chrono::DateTime<Utc>>,
    /// Their notification waits for the end of their quiet hours.
    pub notification_held_until: Option<chrono::DateTime<Utc>>,
    /// A partner caseworker covering for an away colleague.
    pub covering: bool,
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

/// One message of a conversation, if it is there.
pub async fn message_in(
    db: &DatabaseConnection,
    conversation_id: Uuid,
    id: Uuid,
) -> AppResult<Option<message::Model>> {
    Ok(message::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|m| m.conversation_id == conversation_id))
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
