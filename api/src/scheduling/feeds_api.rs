//! External calendar feeds over GraphQL: a person registers their own feed
//! (a work calendar), an organisation's admins or team leads register the
//! organisation's (a clinic's booking system). Its events count as busy time
//! in every clash check and slot search; only its owner sees the feed itself.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{calendar_feed, organisation};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::feeds;
use crate::{
    auth::{
        Principal,
        policy::{Action, Policy},
    },
    error::{AppError, AppResult},
    graphql::{
        AppState, ContextExt, UserError, UserErrorCode,
        node::{GlobalId, NodeKind},
    },
};

use crate::graphql::pagination::{MAX_LIST_SIZE, list_size};
const MAX_NAME_CHARS: usize = 200;
const MAX_URL_CHARS: usize = 2000;

/// An external iCalendar feed whose events count as busy time.
pub struct CalendarFeed {
    pub model: calendar_feed::Model,
    /// Seconds between scheduled fetches (to tell whether the copy is stale).
    pub refresh_seconds: i64,
}

/// An external iCalendar (RFC 5545) feed whose events count as busy time for
/// a person or for everyone in an organisation. Seen only by those who manage it.
#[Object]
impl CalendarFeed {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::CalendarFeed, self.model.id)
    }

    /// A name for the feed ("Work calendar").
    async fn name(&self) -> &str {
        &self.model.name
    }

    /// The address it is fetched from.
    async fn url(&self) -> &str {
        &self.model.url
    }

    /// The organisation whose busy time it is; null for a person's own feed.
    async fn organisation_id(&self) -> Option<ID> {
        self.model
            .organisation_id
            .map(|id| GlobalId::encode(NodeKind::Organisation, id))
    }

    /// When the busy time now held was fetched (the last good copy).
    async fn last_success_at(&self) -> Option<DateTime<Utc>> {
        self.model.last_success_at
    }

    /// How old the last good copy is, in seconds.
    async fn age_seconds(&self) -> Option<i64> {
        self.model
            .last_success_at
            .map(|at| (Utc::now() - at).num_seconds().max(0))
    }

    /// Whether the last good copy is older than two scheduled fetches (the
    /// calendar has not been reachable for a while).
    async fn stale(&self) -> bool {
        self.model
            .last_success_at
            .is_none_or(|at| (Utc::now() - at).num_seconds() > 2 * self.refresh_seconds)
    }

    /// When the last fetch was tried.
    async fn last_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.model.last_attempt_at
    }

    /// Why the last fetch failed; null when it succeeded.
    async fn last_error(&self) -> Option<&str> {
        self.model.last_error.as_deref()
    }

    /// When it is fetched next.
    async fn next_fetch_at(&self) -> DateTime<Utc> {
        self.model.next_fetch_at
    }

    /// Busy periods held from the last good copy.
    async fn busy_count(&self) -> i32 {
        self.model.busy_count
    }
}

impl CalendarFeed {
    fn new(model: calendar_feed::Model, state: &AppState) -> Self {
        CalendarFeed {
            model,
            refresh_seconds: i64::try_from(state.feeds.refresh.as_secs()).unwrap_or(1800),
        }
    }
}

/// Registering a feed.
#[derive(Debug, InputObject)]
pub struct RegisterCalendarFeedInput {
    /// A name for it.
    pub name: String,
    /// The feed's address (`https://` or `webcal://`).
    pub url: String,
    /// Register it for this organisation (admins, its team leads); leave out
    /// for the viewer's own calendar.
    pub organisation_id: Option<ID>,
}

/// Naming a feed.
#[derive(Debug, InputObject)]
pub struct CalendarFeedInput {
    /// The feed.
    pub feed_id: ID,
}

/// The result of a feed mutation.
#[derive(SimpleObject)]
pub struct CalendarFeedPayload {
    /// The feed (as it was, after removing it); null when there are user errors.
    pub feed: Option<CalendarFeed>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

fn manage(model: &calendar_feed::Model) -> Action {
    Action::ManageCalendarFeed {
        tenant_id: model.tenant_id,
        user_id: model.user_id,
        organisation_id: model.organisation_id,
    }
}

/// A feed the viewer manages, or `NOT_FOUND`.
pub async fn managed_feed(
    db: &sea_orm::DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<calendar_feed::Model> {
    calendar_feed::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|f| Policy::can(principal, manage(f)))
        .ok_or(AppError::NotFound("calendar feed"))
}

/// The node for a feed id.
pub async fn node(state: &AppState, principal: &Principal, id: Uuid) -> AppResult<CalendarFeed> {
    Ok(CalendarFeed::new(
        managed_feed(&state.db, principal, id).await?,
        state,
    ))
}

fn feed_id(input: &CalendarFeedInput) -> Result<Uuid, AppError> {
    GlobalId::expect(&input.feed_id, NodeKind::CalendarFeed, &["input", "feedId"])
}

/// Calendar feeds: queries.
#[derive(Default)]
pub struct FeedsQuery;

#[Object]
impl FeedsQuery {
    /// The viewer's own calendar feeds, or an organisation's (admins, its
    /// team leads), oldest first.
    async fn calendar_feeds(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An organisation; leave out for the viewer's own feeds.")]
        organisation_id: Option<ID>,
        #[graphql(desc = "At most this many (1 to 500; 500 when left out).")] first: Option<i32>,
    ) -> Result<Vec<CalendarFeed>> {
        let limit = list_size(first, MAX_LIST_SIZE)?;
        let principal = ctx.viewer().principal()?;
        let state = ctx.state();
        let organisation = organisation_id
            .map(|id| GlobalId::expect(&id, NodeKind::Organisation, &["organisationId"]))
            .transpose()?;
        Policy::ensure_allowed(
            principal,
            Action::ManageCalendarFeed {
                tenant_id: principal.tenant_id,
                user_id: organisation.is_none().then_some(principal.user_id),
                organisation_id: organisation,
            },
        )?;
        let mut query = calendar_feed::Entity::find()
            .filter(calendar_feed::Column::TenantId.eq(principal.tenant_id));
        query = match organisation {
            Some(id) => query.filter(calendar_feed::Column::OrganisationId.eq(id)),
            None => query.filter(calendar_feed::Column::UserId.eq(principal.user_id)),
        };
        Ok(query
            .order_by_asc(calendar_feed::Column::Id)
            .limit(u64::try_from(limit).unwrap_or(0))
            .all(&state.db)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .map(|m| CalendarFeed::new(m, state))
            .collect())
    }
}

/// Calendar feeds: mutations.
#[derive(Default)]
pub struct FeedsMutation;

#[Object]
impl FeedsMutation {
    /// Registers an external calendar feed. It is fetched at once: an
    /// address that cannot be fetched or is not a calendar is a user error
    /// on `url`, and nothing is stored.
    async fn register_calendar_feed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The feed.")] input: RegisterCalendarFeedInput,
    ) -> Result<CalendarFeedPayload> {
        let principal = ctx.viewer().principal()?;
        let state = ctx.state();
        let organisation = match &input.organisation_id {
            Some(id) => Some(
                organisation::Entity::find_by_id(GlobalId::expect(
                    id,
                    NodeKind::Organisation,
                    &["input", "organisationId"],
                )?)
                .filter(organisation::Column::TenantId.eq(principal.tenant_id))
                .one(&state.db)
                .await
                .map_err(AppError::from)?
                .ok_or(AppError::NotFound("organisation"))?
                .id,
            ),
            None => None,
        };
        let user = organisation.is_none().then_some(principal.user_id);
        Policy::ensure_allowed(
            principal,
            Action::ManageCalendarFeed {
                tenant_id: principal.tenant_id,
                user_id: user,
                organisation_id: organisation,
            },
        )?;
        let refuse = |problem| {
            Ok(CalendarFeedPayload {
                feed: None,
                user_errors: vec![problem],
            })
        };
        let name = input.name.trim().to_owned();
        if let Some(problem) =
            UserError::check_text("name", &name, MAX_NAME_CHARS, "Name the calendar.")
        {
            return refuse(problem);
        }
        let url = input.url.trim().to_owned();
        if let Some(problem) =
            UserError::check_text("url", &url, MAX_URL_CHARS, "Give the calendar's address.")
        {
            return refuse(problem);
        }
        let client = feeds::client(&state.feeds);
        let blocks = match feeds::try_first_fetch(
            &state.db,
            &state.feeds,
            &client,
            principal.tenant_id,
            &url,
        )
        .await?
        {
            Ok(blocks) => blocks,
            Err(reason) => {
                return refuse(UserError::on_field(
                    UserErrorCode::InvalidValue,
                    "url",
                    reason,
                ));
            }
        };
        let now = Utc::now();
        let model = calendar_feed::Model {
            id: Uuid::now_v7(),
            tenant_id: principal.tenant_id,
            user_id: user,
            organisation_id: organisation,
            name,
            url,
            created_by: principal.user_id,
            created_at: now,
            next_fetch_at: now,
            last_attempt_at: None,
            last_success_at: None,
            last_error: None,
            busy_count: 0,
        };
        let saved = feeds::create(&state.db, &state.feeds, model, blocks).await?;
        Ok(CalendarFeedPayload {
            feed: Some(CalendarFeed::new(saved, state)),
            user_errors: Vec::new(),
        })
    }

    /// Fetches a feed now. When the calendar cannot be reached or is not a
    /// calendar, the last good copy stays in use and `lastError` says why.
    async fn refresh_calendar_feed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The feed.")] input: CalendarFeedInput,
    ) -> Result<CalendarFeedPayload> {
        let principal = ctx.viewer().principal()?;
        let state = ctx.state();
        let feed = managed_feed(&state.db, principal, feed_id(&input)?).await?;
        let client = feeds::client(&state.feeds);
        let saved = feeds::refresh(&state.db, &state.feeds, &client, &feed).await?;
        Ok(CalendarFeedPayload {
            feed: Some(CalendarFeed::new(saved, state)),
            user_errors: Vec::new(),
        })
    }

    /// Removes a feed and the busy time it brought.
    async fn remove_calendar_feed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The feed.")] input: CalendarFeedInput,
    ) -> Result<CalendarFeedPayload> {
        let principal = ctx.viewer().principal()?;
        let state = ctx.state();
        let feed = managed_feed(&state.db, principal, feed_id(&input)?).await?;
        feeds::remove(&state.db, feed.id).await?;
        Ok(CalendarFeedPayload {
            feed: Some(CalendarFeed::new(feed, state)),
            user_errors: Vec::new(),
        })
    }
}
