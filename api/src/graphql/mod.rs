//! Schema assembly: the roots merge each capability's query and mutation objects.

pub mod access_changes;
pub mod loaders;
pub mod node;
pub mod pagination;
pub mod request_limits;
pub mod scalars;
pub mod telemetry;
pub mod user_error;
pub mod viewer_extension;

use std::sync::Arc;

use async_graphql::{Context, MergedObject, MergedSubscription, Schema, dataloader::DataLoader};
use sea_orm::DatabaseConnection;

use crate::{
    audit::AuditQuery,
    auth::{TokenKeys, Viewer},
    case::{CaseMutation, CaseQuery},
    events::{EventsMutation, EventsQuery, EventsSubscription},
    goal::{GoalMutation, GoalQuery},
    identity::{IdentityMutation, IdentityQuery},
    messaging::{MessagingMutation, MessagingQuery, MessagingSubscription},
    plan::PlanMutation,
    scheduling::{
        FeedsMutation, FeedsQuery, PhoneCalendarMutation, PhoneCalendarQuery, RulesMutation,
        RulesQuery, SchedulingMutation, SchedulingQuery,
    },
};

pub use node::{GlobalId, Node, NodeQuery};
pub use user_error::{UserError, UserErrorCode};

/// Longest accepted selection depth; deep enough for every screen of the app.
pub const MAX_DEPTH: usize = 15;
/// Highest accepted query complexity (one point per field by default).
pub const MAX_COMPLEXITY: usize = 1000;

/// What every resolver may use: the database and the token keys.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub keys: Arc<TokenKeys>,
    /// The external identity provider, when configured.
    pub oidc: Option<Arc<crate::auth::oidc::OidcVerifier>>,
    /// Live fan-out of new messages and events (across processes through
    /// PostgreSQL `NOTIFY`).
    pub hub: Arc<crate::events::hub::Hub>,
    /// Where push notifications go.
    pub push: Arc<crate::events::push::PushConfig>,
    /// How external calendar feeds are fetched.
    pub feeds: Arc<crate::scheduling::feeds::FeedConfig>,
    /// Whether introspection and "did you mean" suggestions are on.
    pub introspection: bool,
    /// The points budgets and the sign-in limit (in this process's memory).
    pub limits: Arc<crate::limits::RateLimits>,
    /// Sessions and cases' access facts kept between requests.
    pub access_cache: Arc<crate::auth::access_cache::AccessCache>,
}

impl AppState {
    /// The viewer a bearer token stands for (see `auth::viewer::resolve_viewer`).
    pub async fn viewer(
        &self,
        token: Option<&str>,
    ) -> crate::error::AppResult<crate::auth::Viewer> {
        crate::auth::viewer::resolve_viewer(&self.db, &self.keys, token, &self.access_cache).await
    }
}

/// Facts about the HTTP request or WebSocket connection a resolver may need.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// The id returned in `x-request-id` and logged with every line of the request.
    pub request_id: String,
    /// The client's `User-Agent`, used to label a new session's device.
    pub user_agent: Option<String>,
    /// The client's address, for throttling sign-in attempts.
    pub client_address: Option<std::net::IpAddr>,
}

/// The query root.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    NodeQuery,
    IdentityQuery,
    AuditQuery,
    CaseQuery,
    GoalQuery,
    MessagingQuery,
    EventsQuery,
    SchedulingQuery,
    RulesQuery,
    FeedsQuery,
    PhoneCalendarQuery,
);

/// The mutation root.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    IdentityMutation,
    CaseMutation,
    PlanMutation,
    GoalMutation,
    MessagingMutation,
    EventsMutation,
    SchedulingMutation,
    RulesMutation,
    FeedsMutation,
    PhoneCalendarMutation,
);

/// The subscription root.
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(MessagingSubscription, EventsSubscription);

/// The executable schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Builds the schema; without state it can only be printed (`export-schema`).
pub fn build_schema(state: Option<AppState>) -> AppSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .extension(telemetry::OperationName)
    .extension(access_changes::AccessChanges)
    .extension(viewer_extension::ResolveConnectionViewer)
    .extension(request_limits::RequestLimits);
    if state.as_ref().is_some_and(|s| !s.introspection) {
        builder = builder.disable_introspection().disable_suggestions();
    }
    if let Some(state) = state {
        builder = builder
            .data(loaders::organisation_loader(state.db.clone()))
            .data(loaders::user_loader(state.db.clone()))
            .data(loaders::family_members_loader(state.db.clone()))
            .data(loaders::goal_steps_loader(state.db.clone()))
            .data(loaders::goal_progress_loader(state.db.clone()))
            .data(loaders::goal_changes_loader(state.db.clone()))
            .data(loaders::goal_ratings_loader(state.db.clone()))
            .data(loaders::read_position_loader(state.db.clone()))
            .data(loaders::contact_setting_loader(state.db.clone()))
            .data(loaders::receipt_loader(state.db.clone()))
            .data(state);
    }
    builder.finish()
}

/// The SDL of the schema, exactly as `api export-schema` prints it and
/// `schema.graphql` holds it.
pub fn export_sdl() -> String {
    build_schema(None).sdl()
}

/// Context accessors shared by resolvers.
pub trait ContextExt {
    /// The application state.
    fn state(&self) -> &AppState;
    /// Who is asking; anonymous when the request carried no token.
    fn viewer(&self) -> &Viewer;
    /// Request facts (id, user agent).
    fn request_meta(&self) -> RequestMeta;
    /// The organisation loader.
    fn organisation_loader(&self) -> &DataLoader<loaders::OrganisationLoader>;
    /// The user loader.
    fn user_loader(&self) -> &DataLoader<loaders::UserLoader>;
    /// Any registered loader.
    fn loader<L: Send + Sync + 'static>(&self) -> &DataLoader<L>;
}

static ANONYMOUS: Viewer = Viewer::Anonymous;

impl ContextExt for Context<'_> {
    #[allow(clippy::expect_used)]
    fn state(&self) -> &AppState {
        // Inserted by `build_schema` for every executable schema; only the
        // export-only schema lacks it, and that one never executes.
        self.data::<AppState>()
            .expect("AppState is in the schema data")
    }

    fn viewer(&self) -> &Viewer {
        self.data_opt::<Viewer>().unwrap_or(&ANONYMOUS)
    }

    fn request_meta(&self) -> RequestMeta {
        self.data_opt::<RequestMeta>().cloned().unwrap_or_default()
    }

    #[allow(clippy::expect_used)]
    fn organisation_loader(&self) -> &DataLoader<loaders::OrganisationLoader> {
        self.data::<DataLoader<loaders::OrganisationLoader>>()
            .expect("loaders are in the schema data")
    }

    #[allow(clippy::expect_used)]
    fn loader<L: Send + Sync + 'static>(&self) -> &DataLoader<L> {
        self.data::<DataLoader<L>>()
            .expect("loaders are in the schema data")
    }

    #[allow(clippy::expect_used)]
    fn user_loader(&self) -> &DataLoader<loaders::UserLoader> {
        self.data::<DataLoader<loaders::UserLoader>>()
            .expect("loaders are in the schema data")
    }
}
