//! GraphQL types of the audit trail.

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::audit_event;

use crate::{
    error::AppError,
    graphql::{ContextExt, node::GlobalId, node::NodeKind},
    identity::types::User,
};

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AuditAction {
    /// A successful sign-in with e-mail and password.
    LoginSucceeded,
    /// A failed sign-in (wrong password, unknown or deactivated account).
    LoginFailed,
    /// A sign-in refused because of too many failures.
    LoginRateLimited,
    /// A successful sign-in through the external identity provider.
    ExternalLoginSucceeded,
    /// A refused sign-in through the external identity provider.
    ExternalLoginFailed,
    /// An already-used refresh token was presented; the session was ended.
    RefreshTokenReuseDetected,
    /// A device signed out.
    Logout,
    /// A user signed out on every device.
    LogoutEverywhere,
    /// A user ended one of their sessions.
    SessionRevoked,
    /// A user changed their password.
    PasswordChanged,
    /// An invitation was created.
    InvitationCreated,
    /// An invitation was revoked before use.
    InvitationRevoked,
    /// An invitation was accepted and an account created.
    InvitationAccepted,
    /// An account was deactivated.
    UserDeactivated,
    /// The tenant and its first admin were created.
    TenantBootstrapped,
    /// A member of staff read a case.
    CaseRead,
    /// A case was opened.
    CaseOpened,
    /// A case's details were changed.
    CaseUpdated,
    /// A case was closed.
    CaseClosed,
    /// A case was transferred to adult services with a handover.
    CaseTransferredToAdultServices,
    /// A case was handed over to another primary caseworker.
    CaseHandedOver,
    /// The partner caseworker of a case was set or removed.
    PartnerCaseworkerSet,
    /// A person was added to a family.
    FamilyMemberAdded,
    /// A family gave a consent.
    ConsentGranted,
    /// A consent was withdrawn.
    ConsentWithdrawn,
    /// A family member asked for another caseworker.
    CaseworkerChangeRequested,
    /// The team lead answered a request for another caseworker.
    CaseworkerChangeAnswered,
    /// A coordinated individual plan (SIP) was started.
    CoordinatedPlanStarted,
    /// The coordinating organisation of a plan was chosen.
    CoordinatorChosen,
    /// An intervention was added to a plan.
    PlanInterventionAdded,
    /// A plan's coordination meeting was recorded.
    CoordinationMeetingRecorded,
    /// The family therapists of a case were set.
    FamilyTherapistsSet,
    /// A goal was created or proposed.
    GoalCreated,
    /// A goal, or one of its steps, was changed.
    GoalChanged,
    /// Progress was added to a goal.
    GoalProgressAdded,
    /// A follow-up review was recorded.
    FollowUpRecorded,
    /// A Signs of Safety assessment was recorded.
    SafetyAssessmentRecorded,
    /// A strength or resource of the family was recorded.
    FamilyStrengthAdded,
    /// A guardian or young person sent a message marked urgent ("I need help now").
    UrgentHelpSent,
    /// Staff keeping the record read the original of a withdrawn message.
    WithdrawnMessageRead,
    /// An action this version of the schema does not know yet.
    Other,
}

impl AuditAction {
    fn from_stored(action: &str) -> Self {
        use crate::audit::service::AuditAction as A;
        let all = [
            (A::LoginSucceeded, AuditAction::LoginSucceeded),
            (A::LoginFailed, AuditAction::LoginFailed),
            (A::LoginRateLimited, AuditAction::LoginRateLimited),
            (
                A::ExternalLoginSucceeded,
                AuditAction::ExternalLoginSucceeded,
            ),
            (A::ExternalLoginFailed, AuditAction::ExternalLoginFailed),
            (
                A::RefreshTokenReuseDetected,
                AuditAction::RefreshTokenReuseDetected,
            ),
            (A::Logout, AuditAction::Logout),
            (A::LogoutEverywhere, AuditAction::LogoutEverywhere),
            (A::SessionRevoked, AuditAction::SessionRevoked),
            (A::PasswordChanged, AuditAction::PasswordChanged),
            (A::InvitationCreated, AuditAction::InvitationCreated),
            (A::InvitationRevoked, AuditAction::InvitationRevoked),
            (A::InvitationAccepted, AuditAction::InvitationAccepted),
            (A::UserDeactivated, AuditAction::UserDeactivated),
            (A::TenantBootstrapped, AuditAction::TenantBootstrapped),
            (A::CaseRead, AuditAction::CaseRead),
            (A::CaseOpened, AuditAction::CaseOpened),
            (A::CaseUpdated, AuditAction::CaseUpdated),
            (A::CaseClosed, AuditAction::CaseClosed),
            (
                A::CaseTransferredToAdultServices,
                AuditAction::CaseTransferredToAdultServices,
            ),
            (A::CaseHandedOver, AuditAction::CaseHandedOver),
            (A::PartnerCaseworkerSet, AuditAction::PartnerCaseworkerSet),
            (A::FamilyMemberAdded, AuditAction::FamilyMemberAdded),
            (A::ConsentGranted, AuditAction::ConsentGranted),
            (A::ConsentWithdrawn, AuditAction::ConsentWithdrawn),
            (
                A::CaseworkerChangeRequested,
                AuditAction::CaseworkerChangeRequested,
            ),
            (
                A::CaseworkerChangeAnswered,
                AuditAction::CaseworkerChangeAnswered,
            ),
            (
                A::CoordinatedPlanStarted,
                AuditAction::CoordinatedPlanStarted,
            ),
            (A::CoordinatorChosen, AuditAction::CoordinatorChosen),
            (A::PlanInterventionAdded, AuditAction::PlanInterventionAdded),
            (
                A::CoordinationMeetingRecorded,
                AuditAction::CoordinationMeetingRecorded,
            ),
            (A::FamilyTherapistsSet, AuditAction::FamilyTherapistsSet),
            (A::GoalCreated, AuditAction::GoalCreated),
            (A::GoalChanged, AuditAction::GoalChanged),
            (A::GoalProgressAdded, AuditAction::GoalProgressAdded),
            (A::FollowUpRecorded, AuditAction::FollowUpRecorded),
            (
                A::SafetyAssessmentRecorded,
                AuditAction::SafetyAssessmentRecorded,
            ),
            (A::FamilyStrengthAdded, AuditAction::FamilyStrengthAdded),
            (A::UrgentHelpSent, AuditAction::UrgentHelpSent),
            (A::WithdrawnMessageRead, AuditAction::WithdrawnMessageRead),
        ];
        all.iter()
            .find(|(stored, _)| stored.as_str() == action)
            .map(|(_, exposed)| *exposed)
            .unwrap_or(AuditAction::Other)
    }
}

/// One entry of the tenant's audit trail: who did what, when, to which object.
/// It never holds case content.
pub struct AuditEvent(pub audit_event::Model);

/// One entry of the tenant's audit trail: who did what, when, to which object.
/// It never holds case content.
#[Object]
impl AuditEvent {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::AuditEvent, self.0.id)
    }

    /// When it happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    /// What happened.
    async fn action(&self) -> AuditAction {
        AuditAction::from_stored(&self.0.action)
    }

    /// Who did it; null when nobody was signed in (e.g. a failed sign-in).
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.actor_user_id else {
            return Ok(None);
        };
        let user = ctx
            .user_loader()
            .load_one(id)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(user.map(User))
    }

    /// The type of the object acted on (`User`, `Session`, `Invitation`, …).
    async fn subject_type(&self) -> Option<&str> {
        self.0.subject_type.as_deref()
    }

    /// The id of the object acted on, as a global id.
    async fn subject_id(&self) -> Option<ID> {
        let kind = NodeKind::from_prefix(self.0.subject_type.as_deref()?)?;
        Some(GlobalId::encode(kind, self.0.subject_id?))
    }

    /// The request that caused it (the `x-request-id` the client saw).
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// A short reason code, e.g. `WRONG_PASSWORD` or `UNKNOWN_ACCOUNT`.
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
}

crate::connection_type!(
    AuditEventConnection,
    AuditEventEdge,
    AuditEvent,
    "A page of the audit trail, newest first.",
    "One audit entry with its cursor."
);
