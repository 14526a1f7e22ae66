//! GraphQL types of the identity capability.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{invitation, organisation, session, tenant, user_account};
use uuid::Uuid;

use crate::{
    auth::Principal,
    error::AppError,
    graphql::{ContextExt, UserError, node::GlobalId, node::NodeKind},
};

/// What a user is in the system. What they may see of a case also depends on
/// their relation to that case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::user_account::Role")]
pub enum Role {
    /// Manages accounts and organisations; reads no case content.
    Admin,
    /// Leads a team of caseworkers; sees the team's caseload.
    TeamLead,
    /// A social-services caseworker, primary or partner on cases.
    Caseworker,
    /// Delivers treatment to families; may be a family's main contact.
    FamilyTherapist,
    /// A professional of another agency (school, child psychiatry, …); sees only
    /// what a family consented to share.
    AgencyProfessional,
    /// A parent or other legal guardian.
    Guardian,
    /// A young person with their own login.
    YoungPerson,
    /// A relative, friend, foster or support family member.
    NetworkMember,
}

/// The kind of an agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::organisation::OrganisationKind")]
pub enum OrganisationKind {
    /// Municipal social services.
    SocialServices,
    /// A school.
    School,
    /// A preschool.
    Preschool,
    /// Child and adolescent psychiatry (BUP).
    ChildPsychiatry,
    /// Habilitation services for children with disabilities.
    Habilitation,
    /// A child health centre (BVC).
    ChildHealthCentre,
    /// Primary health care.
    PrimaryCare,
    /// Educational-psychological services (PPR).
    EducationalPsychology,
    /// Speech, physio or occupational therapy.
    Therapy,
    /// Dental care.
    Dental,
    /// The police.
    Police,
    /// Any other agency.
    Other,
}

/// A municipality's social services: the data controller. No data crosses tenants.
pub struct Tenant(pub tenant::Model);

impl From<tenant::Model> for Tenant {
    fn from(model: tenant::Model) -> Self {
        Tenant(model)
    }
}

/// A municipality's social services: the data controller. No data crosses tenants.
#[Object]
impl Tenant {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Tenant, self.0.id)
    }

    /// The municipality's name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// IANA time zone (e.g. `Europe/Stockholm`) in which rules about days and
    /// hours are applied.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
}

/// An agency inside a tenant's area: social services, a school, child psychiatry, …
pub struct Organisation(pub organisation::Model);

impl From<organisation::Model> for Organisation {
    fn from(model: organisation::Model) -> Self {
        Organisation(model)
    }
}

/// An agency inside a tenant's area: social services, a school, child psychiatry, …
#[Object]
impl Organisation {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Organisation, self.0.id)
    }

    /// The agency's name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What kind of agency it is.
    async fn kind(&self) -> OrganisationKind {
        self.0.kind.into()
    }
}

/// A person who can sign in.
pub struct User(pub user_account::Model);

impl From<user_account::Model> for User {
    fn from(model: user_account::Model) -> Self {
        User(model)
    }
}

/// A person who can sign in.
#[Object]
impl User {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::User, self.0.id)
    }

    /// The name shown to others.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }

    /// The user's role.
    async fn role(&self) -> Role {
        self.0.role.into()
    }

    /// The sign-in e-mail address; visible to the user themself and to the
    /// tenant's admins only, null for anyone else.
    async fn email(&self, ctx: &Context<'_>) -> Option<&str> {
        let principal = ctx.viewer().principal().ok()?;
        let own = principal.user_id == self.0.id;
        let admin =
            principal.role == user_account::Role::Admin && principal.tenant_id == self.0.tenant_id;
        (own || admin).then_some(self.0.email.as_str())
    }

    /// False once the account is deactivated (it can no longer sign in).
    async fn active(&self) -> bool {
        self.0.disabled_at.is_none()
    }

    /// The agency the user works for; null for family members and network.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let Some(id) = self.0.organisation_id else {
            return Ok(None);
        };
        let loaded = ctx
            .organisation_loader()
            .load_one(id)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(loaded.map(Organisation))
    }

    /// The user's away period (staff), while one is set and not over: the
    /// families see it, and the partner caseworker covers.
    async fn away(&self, ctx: &Context<'_>) -> Result<Option<crate::events::types::AwayPeriod>> {
        let settings = ctx
            .loader::<crate::graphql::loaders::ContactSettingLoader>()
            .load_one(self.0.id)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(settings.and_then(|s| crate::events::types::AwayPeriod::of(&s, chrono::Utc::now())))
    }
}

/// A signed-in device of the viewer.
pub struct Session {
    model: session::Model,
    current_session_id: Uuid,
}

impl Session {
    /// Wraps a session row; `current_session_id` is the viewer's own session.
    pub fn new(model: session::Model, current_session_id: Uuid) -> Self {
        Session {
            model,
            current_session_id,
        }
    }
}

/// A signed-in device of the viewer.
#[Object]
impl Session {
    /// Globally unique, opaque id; pass it to `revokeSession` to sign that device out.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Session, self.model.id)
    }

    /// What the device called itself when it signed in (its User-Agent, or the
    /// label the app sent).
    async fn device_label(&self) -> Option<&str> {
        self.model.device_label.as_deref()
    }

    /// When the device signed in.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// When the session was last used to sign in or refresh.
    async fn last_seen_at(&self) -> DateTime<Utc> {
        self.model.last_seen_at
    }

    /// When the session ends unless it is refreshed.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.model.expires_at
    }

    /// When the session was ended; null while it is live.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.model.revoked_at
    }

    /// Whether this is the session making the request.
    async fn current(&self) -> bool {
        self.model.id == self.current_session_id
    }
}

/// The signed-in user and what belongs to their sign-in.
pub struct Viewer {
    pub principal: Principal,
}

/// The signed-in user and what belongs to their sign-in.
#[Object(name = "Viewer")]
impl Viewer {
    /// The signed-in user.
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        let db = &ctx.state().db;
        Ok(
            super::service::user(db, &self.principal, self.principal.user_id)
                .await?
                .into(),
        )
    }

    /// The user's role.
    async fn role(&self) -> Role {
        self.principal.role.into()
    }

    /// The municipality the user belongs to.
    async fn tenant(&self, ctx: &Context<'_>) -> Result<Tenant> {
        let db = &ctx.state().db;
        Ok(
            super::service::tenant(db, &self.principal, self.principal.tenant_id)
                .await?
                .into(),
        )
    }

    /// Unread messages in all the viewer's conversations.
    async fn unread_message_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let counts =
            crate::messaging::service::unread_counts(&ctx.state().db, &self.principal).await?;
        Ok(counts.values().sum())
    }

    /// Unread notifications shown so far.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(
            crate::events::service::unread_notification_count(&ctx.state().db, &self.principal)
                .await?,
        )
    }

    /// How the viewer wants to be contacted: quiet hours, read receipts, away period.
    async fn contact_settings(
        &self,
        ctx: &Context<'_>,
    ) -> Result<crate::events::types::ContactSettings> {
        let db = &ctx.state().db;
        let zone = crate::case::service::tenant_zone(db, self.principal.tenant_id).await?;
        Ok(crate::events::types::ContactSettings {
            model: crate::events::service::contact_settings(db, self.principal.user_id).await?,
            default_zone: zone.name().to_owned(),
        })
    }

    /// The viewer's devices registered for push notifications.
    async fn push_devices(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::events::types::PushDevice>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        Ok(entity::push_device::Entity::find()
            .filter(entity::push_device::Column::UserId.eq(self.principal.user_id))
            .filter(entity::push_device::Column::RevokedAt.is_null())
            .order_by_desc(entity::push_device::Column::CreatedAt)
            .all(&ctx.state().db)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .map(crate::events::types::PushDevice)
            .collect())
    }

    /// The devices signed in as this user (live sessions, newest first).
    async fn sessions(&self, ctx: &Context<'_>) -> Result<Vec<Session>> {
        let db = &ctx.state().db;
        let rows = super::service::live_sessions(db, &self.principal).await?;
        Ok(rows
            .into_iter()
            .map(|row| Session::new(row, self.principal.session_id))
            .collect())
    }
}

/// Credentials to sign in with.
#[derive(Debug, InputObject)]
pub struct LoginInput {
    /// The account's e-mail address (case does not matter).
    pub email: String,
    /// The account's password.
    pub password: String,
    /// A label for this device shown in the session list (e.g. "Sara's phone");
    /// defaults to the client's User-Agent.
    pub device_label: Option<String>,
}

/// The tokens of a new or refreshed session.
#[derive(Debug, SimpleObject)]
pub struct AuthTokens {
    /// Short-lived JWT to send as `Authorization: Bearer …` (and in the WebSocket
    /// `connection_init` payload as `accessToken`).
    pub access_token: String,
    /// When the access token stops working; refresh before then.
    pub access_token_expires_at: DateTime<Utc>,
    /// Long-lived, single-use token to obtain new tokens; keep it in secure storage.
    pub refresh_token: String,
    /// When the session ends unless refreshed.
    pub refresh_token_expires_at: DateTime<Utc>,
}

/// The result of a mutation that signs in (`login`, `refreshSession`,
/// `acceptInvitation`).
#[derive(SimpleObject)]
pub struct SignInPayload {
    /// The session's tokens; null when there are user errors.
    pub tokens: Option<AuthTokens>,
    /// The signed-in user; null when there are user errors.
    pub viewer: Option<Viewer>,
    /// Problems the user can fix; empty on success.
    pub user_errors: Vec<UserError>,
}

impl SignInPayload {
    /// A payload for the outcome of a sign-in.
    pub fn from_outcome(outcome: Result<super::service::Issued, UserError>) -> Self {
        match outcome {
            Ok(issued) => SignInPayload {
                tokens: Some(AuthTokens {
                    access_token: issued.access_token,
                    access_token_expires_at: issued.access_token_expires_at,
                    refresh_token: issued.refresh_token,
                    refresh_token_expires_at: issued.refresh_token_expires_at,
                }),
                viewer: Some(Viewer {
                    principal: issued.principal,
                }),
                user_errors: Vec::new(),
            },
            Err(user_error) => SignInPayload {
                tokens: None,
                viewer: None,
                user_errors: vec![user_error],
            },
        }
    }
}

/// A refresh token to exchange for a new pair.
#[derive(Debug, InputObject)]
pub struct RefreshSessionInput {
    /// The refresh token from the last sign-in or refresh. It is single-use:
    /// presenting an older one ends the session (retrying within 30 seconds after
    /// a lost response is allowed and returns the same new refresh token).
    pub refresh_token: String,
}

/// The result of `logout` and `logoutEverywhere`.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// How many sessions were ended.
    pub ended_session_count: u64,
    /// Problems the user can fix; always empty.
    pub user_errors: Vec<UserError>,
}

/// Which of the viewer's sessions to end.
#[derive(Debug, InputObject)]
pub struct RevokeSessionInput {
    /// The session's id (from `viewer.sessions`).
    pub session_id: ID,
}

/// The result of `revokeSession`.
#[derive(SimpleObject)]
pub struct RevokeSessionPayload {
    /// The ended session.
    pub session: Option<Session>,
    /// Problems the user can fix; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The current and the new password.
#[derive(Debug, InputObject)]
pub struct ChangePasswordInput {
    /// The password in use now.
    pub current_password: String,
    /// The new password: 12 to 256 characters, not the e-mail address.
    pub new_password: String,
}

/// The result of `changePassword`.
#[derive(SimpleObject)]
pub struct ChangePasswordPayload {
    /// How many other sessions were ended (this device stays signed in).
    pub ended_session_count: Option<u64>,
    /// Problems the user can fix; empty on success.
    pub user_errors: Vec<UserError>,
}

/// Staff roles an admin can invite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum StaffRole {
    /// Manages accounts and organisations.
    Admin,
    /// Leads a team of caseworkers.
    TeamLead,
    /// A social-services caseworker.
    Caseworker,
    /// A family therapist.
    FamilyTherapist,
    /// A professional of another agency.
    AgencyProfessional,
}

impl From<StaffRole> for user_account::Role {
    fn from(role: StaffRole) -> Self {
        match role {
            StaffRole::Admin => user_account::Role::Admin,
            StaffRole::TeamLead => user_account::Role::TeamLead,
            StaffRole::Caseworker => user_account::Role::Caseworker,
            StaffRole::FamilyTherapist => user_account::Role::FamilyTherapist,
            StaffRole::AgencyProfessional => user_account::Role::AgencyProfessional,
        }
    }
}

/// Whom to invite as staff.
#[derive(Debug, InputObject)]
pub struct InviteStaffInput {
    /// The e-mail address the person will sign in with.
    pub email: String,
    /// The name shown to others.
    pub display_name: String,
    /// The role the account gets.
    pub role: StaffRole,
    /// The organisation the person works for (social services for every role
    /// but `AGENCY_PROFESSIONAL`, another agency for that one).
    pub organisation_id: ID,
    /// Days until the code expires (1–30, default 7).
    pub expires_in_days: Option<i32>,
}

/// Which family member gets a login.
#[derive(Debug, InputObject)]
pub struct InviteFamilyMemberInput {
    /// The family member (of a case the inviter works). Guardians become
    /// `GUARDIAN`, children `YOUNG_PERSON`, network members `NETWORK_MEMBER`.
    pub family_member_id: ID,
    /// The e-mail address the person will sign in with.
    pub email: String,
    /// Days until the code expires (1–30, default 7).
    pub expires_in_days: Option<i32>,
}

/// The result of `inviteStaff` and `inviteFamilyMember`.
#[derive(SimpleObject)]
pub struct InvitePayload {
    /// The invitation; null when there are user errors.
    pub invitation: Option<Invitation>,
    /// The one-time code to give the person (shown only here, stored only as a
    /// hash); null when there are user errors.
    pub code: Option<String>,
    /// Problems the user can fix; empty on success.
    pub user_errors: Vec<UserError>,
}

/// Which invitation to revoke.
#[derive(Debug, InputObject)]
pub struct RevokeInvitationInput {
    /// The invitation's id.
    pub invitation_id: ID,
}

/// The result of `revokeInvitation`.
#[derive(SimpleObject)]
pub struct RevokeInvitationPayload {
    /// The revoked invitation.
    pub invitation: Option<Invitation>,
    /// Problems the user can fix; empty on success.
    pub user_errors: Vec<UserError>,
}

/// An invitation code and how the new account will sign in: a password, or an
/// e-ID (an ID token from the municipality's OIDC broker). Give exactly one.
#[derive(Debug, InputObject)]
pub struct AcceptInvitationInput {
    /// The one-time code from the invitation.
    pub code: String,
    /// The password for the new account: 12 to 256 characters.
    pub password: Option<String>,
    /// An ID token from the e-ID broker, to link that identity to the account.
    pub id_token: Option<String>,
    /// The nonce the app sent when it requested `idToken`.
    pub nonce: Option<String>,
    /// A label for this device shown in the session list.
    pub device_label: Option<String>,
}

/// An ID token from the municipality's e-ID broker.
#[derive(Debug, InputObject)]
pub struct LoginWithIdTokenInput {
    /// The ID token (a JWT signed by the broker).
    pub id_token: String,
    /// The nonce the app sent in its authentication request.
    pub nonce: String,
    /// A label for this device shown in the session list.
    pub device_label: Option<String>,
}

/// Which account to deactivate.
#[derive(Debug, InputObject)]
pub struct DeactivateUserInput {
    /// The user's id.
    pub user_id: ID,
}

/// The result of `deactivateUser`.
#[derive(SimpleObject)]
pub struct DeactivateUserPayload {
    /// The deactivated user.
    pub user: Option<User>,
    /// Problems the user can fix; empty on success.
    pub user_errors: Vec<UserError>,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum InvitationStatus {
    /// Waiting to be accepted.
    Pending,
    /// Accepted: the account exists.
    Accepted,
    /// Revoked before use.
    Revoked,
    /// Not accepted in time.
    Expired,
}

/// A one-time invitation to create an account.
pub struct Invitation(pub invitation::Model);

impl From<invitation::Model> for Invitation {
    fn from(model: invitation::Model) -> Self {
        Invitation(model)
    }
}

/// A one-time invitation to create an account.
#[Object]
impl Invitation {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Invitation, self.0.id)
    }

    /// The e-mail address the account will sign in with.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// The name the account will show.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }

    /// The role the account will have.
    async fn role(&self) -> Role {
        self.0.role.into()
    }

    /// Where the invitation stands.
    async fn status(&self) -> InvitationStatus {
        if self.0.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if self.0.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if self.0.expires_at <= Utc::now() {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        }
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the code stops working.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
}
