//! Appending to and verifying the hash-chained audit trail.
//!
//! Each tenant has its own chain (events without a tenant, such as a failed
//! sign-in for an unknown account, go to the chain with the nil id). An entry's
//! hash covers the previous entry's hash and every field of the entry, so any
//! change, removal or insertion breaks the chain, which `api verify-audit` detects.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use entity::{audit_chain_head, audit_event};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder, QuerySelect,
    Set, TransactionSession, TransactionTrait, sea_query::OnConflict,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// The `prev_hash` of a chain's first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    LoginSucceeded,
    LoginFailed,
    LoginRateLimited,
    ExternalLoginSucceeded,
    ExternalLoginFailed,
    RefreshTokenReuseDetected,
    Logout,
    LogoutEverywhere,
    SessionRevoked,
    PasswordChanged,
    InvitationCreated,
    InvitationRevoked,
    InvitationAccepted,
    UserDeactivated,
    TenantBootstrapped,
    CaseRead,
    CaseOpened,
    CaseUpdated,
    CaseClosed,
    CaseTransferredToAdultServices,
    CaseHandedOver,
    PartnerCaseworkerSet,
    FamilyMemberAdded,
    ConsentGranted,
    ConsentWithdrawn,
    CaseworkerChangeRequested,
    CaseworkerChangeAnswered,
    CoordinatedPlanStarted,
    CoordinatorChosen,
    PlanInterventionAdded,
    CoordinationMeetingRecorded,
    FamilyTherapistsSet,
    GoalCreated,
    GoalChanged,
    GoalProgressAdded,
    FollowUpRecorded,
    SafetyAssessmentRecorded,
    FamilyStrengthAdded,
    UrgentHelpSent,
    WithdrawnMessageRead,
}

impl AuditAction {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::LoginSucceeded => "LOGIN_SUCCEEDED",
            AuditAction::LoginFailed => "LOGIN_FAILED",
            AuditAction::LoginRateLimited => "LOGIN_RATE_LIMITED",
            AuditAction::ExternalLoginSucceeded => "EXTERNAL_LOGIN_SUCCEEDED",
            AuditAction::ExternalLoginFailed => "EXTERNAL_LOGIN_FAILED",
            AuditAction::RefreshTokenReuseDetected => "REFRESH_TOKEN_REUSE_DETECTED",
            AuditAction::Logout => "LOGOUT",
            AuditAction::LogoutEverywhere => "LOGOUT_EVERYWHERE",
            AuditAction::SessionRevoked => "SESSION_REVOKED",
            AuditAction::PasswordChanged => "PASSWORD_CHANGED",
            AuditAction::InvitationCreated => "INVITATION_CREATED",
            AuditAction::InvitationRevoked => "INVITATION_REVOKED",
            AuditAction::InvitationAccepted => "INVITATION_ACCEPTED",
            AuditAction::UserDeactivated => "USER_DEACTIVATED",
            AuditAction::TenantBootstrapped => "TENANT_BOOTSTRAPPED",
            AuditAction::CaseRead => "CASE_READ",
            AuditAction::CaseOpened => "CASE_OPENED",
            AuditAction::CaseUpdated => "CASE_UPDATED",
            AuditAction::CaseClosed => "CASE_CLOSED",
            AuditAction::CaseTransferredToAdultServices => "CASE_TRANSFERRED_TO_ADULT_SERVICES",
            AuditAction::CaseHandedOver => "CASE_HANDED_OVER",
            AuditAction::PartnerCaseworkerSet => "PARTNER_CASEWORKER_SET",
            AuditAction::FamilyMemberAdded => "FAMILY_MEMBER_ADDED",
            AuditAction::ConsentGranted => "CONSENT_GRANTED",
            AuditAction::ConsentWithdrawn => "CONSENT_WITHDRAWN",
            AuditAction::CaseworkerChangeRequested => "CASEWORKER_CHANGE_REQUESTED",
            AuditAction::CaseworkerChangeAnswered => "CASEWORKER_CHANGE_ANSWERED",
            AuditAction::CoordinatedPlanStarted => "COORDINATED_PLAN_STARTED",
            AuditAction::CoordinatorChosen => "COORDINATOR_CHOSEN",
            AuditAction::PlanInterventionAdded => "PLAN_INTERVENTION_ADDED",
            AuditAction::CoordinationMeetingRecorded => "COORDINATION_MEETING_RECORDED",
            AuditAction::FamilyTherapistsSet => "FAMILY_THERAPISTS_SET",
            AuditAction::GoalCreated => "GOAL_CREATED",
            AuditAction::GoalChanged => "GOAL_CHANGED",
            AuditAction::GoalProgressAdded => "GOAL_PROGRESS_ADDED",
            AuditAction::FollowUpRecorded => "FOLLOW_UP_RECORDED",
            AuditAction::SafetyAssessmentRecorded => "SAFETY_ASSESSMENT_RECORDED",
            AuditAction::FamilyStrengthAdded => "FAMILY_STRENGTH_ADDED",
            AuditAction::UrgentHelpSent => "URGENT_HELP_SENT",
            AuditAction::WithdrawnMessageRead => "WITHDRAWN_MESSAGE_READ",
        }
    }
}

/// One event to append.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub tenant_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub action: Option<AuditAction>,
    pub subject_type: Option<&'static str>,
    pub subject_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub detail: Option<&'static str>,
}

impl AuditEntry {
    /// An entry for `action` in `tenant_id`'s chain.
    pub fn new(action: AuditAction, tenant_id: Option<Uuid>) -> Self {
        AuditEntry {
            action: Some(action),
            tenant_id,
            ..Default::default()
        }
    }

    /// Who acted.
    pub fn actor(mut self, user_id: Uuid) -> Self {
        self.actor_user_id = Some(user_id);
        self
    }

    /// What was acted on.
    pub fn subject(mut self, kind: &'static str, id: Uuid) -> Self {
        self.subject_type = Some(kind);
        self.subject_id = Some(id);
        self
    }

    /// The request that caused it.
    pub fn request(mut self, request_id: &str) -> Self {
        if !request_id.is_empty() {
            self.request_id = Some(request_id.chars().take(64).collect());
        }
        self
    }

    /// The case it concerns.
    pub fn case(mut self, case_id: Uuid) -> Self {
        self.case_id = Some(case_id);
        self
    }

    /// A short reason code.
    pub fn detail(mut self, detail: &'static str) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// Appends an entry. Use inside the transaction of the change it records, so the
/// change and its audit row commit together (or neither does). Concurrent
/// appends to one chain are serialised by locking the chain head.
pub async fn append<C>(db: &C, entry: AuditEntry) -> AppResult<()>
where
    C: ConnectionTrait + TransactionTrait,
{
    append_many(db, vec![entry]).await
}

/// Appends entries of one tenant's chain with a constant number of statements
/// (one chain-head lock, one multi-row insert, one head update), e.g. the reads
/// of a page of cases.
pub async fn append_many<C>(db: &C, entries: Vec<AuditEntry>) -> AppResult<()>
where
    C: ConnectionTrait + TransactionTrait,
{
    let Some(first) = entries.first() else {
        return Ok(());
    };
    let chain_id = first.tenant_id.unwrap_or(Uuid::nil());
    if entries
        .iter()
        .any(|e| e.tenant_id.unwrap_or(Uuid::nil()) != chain_id)
    {
        return Err(AppError::Internal(
            "audit entries of one batch must share a chain".into(),
        ));
    }
    let txn = db.begin().await?;
    audit_chain_head::Entity::insert(audit_chain_head::ActiveModel {
        chain_id: Set(chain_id),
        last_seq: Set(0),
        last_hash: Set(GENESIS_HASH.to_owned()),
    })
    .on_conflict(
        OnConflict::column(audit_chain_head::Column::ChainId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let head = audit_chain_head::Entity::find_by_id(chain_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal("audit chain head vanished".into()))?;

    // Stored with microsecond precision on every backend, so the hash
    // recomputed from a read row matches.
    let occurred_at = Utc::now().trunc_subsecs(6);
    let mut prev_hash = head.last_hash.clone();
    let mut seq = head.last_seq;
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        let action = entry
            .action
            .ok_or_else(|| AppError::Internal("audit entry without an action".into()))?;
        seq += 1;
        let mut event = audit_event::Model {
            id: Uuid::now_v7(),
            chain_id,
            seq,
            tenant_id: entry.tenant_id,
            occurred_at,
            actor_user_id: entry.actor_user_id,
            action: action.as_str().to_owned(),
            subject_type: entry.subject_type.map(str::to_owned),
            subject_id: entry.subject_id,
            case_id: entry.case_id,
            request_id: entry.request_id,
            detail: entry.detail.map(str::to_owned),
            prev_hash: prev_hash.clone(),
            hash: String::new(),
        };
        event.hash = entry_hash(&event);
        prev_hash = event.hash.clone();
        rows.push(audit_event::ActiveModel::from(event));
    }
    audit_event::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await?;
    audit_chain_head::ActiveModel {
        chain_id: Set(chain_id),
        last_seq: Set(seq),
        last_hash: Set(prev_hash),
    }
    .update(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

fn opt<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The hash of an entry: SHA-256 over the previous hash and every field.
pub fn entry_hash(event: &audit_event::Model) -> String {
    let canonical = [
        event.prev_hash.clone(),
        event.id.to_string(),
        event.chain_id.to_string(),
        event.seq.to_string(),
        opt(&event.tenant_id),
        timestamp(&event.occurred_at),
        opt(&event.actor_user_id),
        event.action.clone(),
        opt(&event.subject_type),
        opt(&event.subject_id),
        opt(&event.case_id),
        opt(&event.request_id),
        opt(&event.detail),
    ]
    .join("\u{1f}");
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The result of checking every chain.
#[derive(Debug, Default)]
pub struct VerifyReport {
    pub chains: usize,
    pub events: usize,
    pub problems: Vec<String>,
}

/// Recomputes every chain and compares it with the stored hashes and heads.
pub async fn verify(db: &DatabaseConnection) -> anyhow::Result<VerifyReport> {
    let mut report = VerifyReport::default();
    let heads = audit_chain_head::Entity::find().all(db).await?;
    report.chains = heads.len();
    for head in heads {
        let mut expected_prev = GENESIS_HASH.to_owned();
        let mut expected_seq = 1;
        // Keyset pages keep memory flat on long chains.
        let mut after_seq = 0i64;
        loop {
            use sea_orm::{ColumnTrait, QueryFilter};
            let page = audit_event::Entity::find()
                .filter(audit_event::Column::ChainId.eq(head.chain_id))
                .filter(audit_event::Column::Seq.gt(after_seq))
                .order_by_asc(audit_event::Column::Seq)
                .limit(1000)
                .all(db)
                .await?;
            if page.is_empty() {
                break;
            }
            for event in &page {
                report.events += 1;
                if event.seq != expected_seq {
                    report.problems.push(format!(
                        "chain {}: entry {} missing (found {} next)",
                        head.chain_id, expected_seq, event.seq
                    ));
                }
                if event.prev_hash != expected_prev {
                    report.problems.push(format!(
                        "chain {}: entry {} does not follow its predecessor",
                        head.chain_id, event.seq
                    ));
                }
                if entry_hash(event) != event.hash {
                    report.problems.push(format!(
                        "chain {}: entry {} was altered",
                        head.chain_id, event.seq
                    ));
                }
                expected_prev = event.hash.clone();
                expected_seq = event.seq + 1;
                after_seq = event.seq;
            }
        }
        if head.last_seq != expected_seq - 1 || head.last_hash != expected_prev {
            report.problems.push(format!(
                "chain {}: entries after {} are missing",
                head.chain_id,
                expected_seq - 1
            ));
        }
    }
    Ok(report)
}
