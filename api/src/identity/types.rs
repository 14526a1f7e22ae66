//! GraphQL types of the identity capability.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{organisation, session, tenant, user_account};
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

/// The result of `login`.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// The new session's tokens; null when there are user errors.
    pub tokens: Option<AuthTokens>,
    /// The signed-in user; null when there are user errors.
    pub viewer: Option<Viewer>,
    /// Problems the user can fix; empty on success.
    pub user_errors: Vec<UserError>,
}
