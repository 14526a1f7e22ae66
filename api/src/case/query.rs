//! Case queries: `case`, `cases`, `myCases`, `caseload`.

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::{
    service::{self, CaseFilter, ReadAudit},
    types::{
        Case, CaseConnection, CaseEdge, CaseStatus, CaseType, CaseloadEntry,
        CaseworkerChangeRequest,
    },
};
use crate::{
    graphql::{
        ContextExt,
        node::{GlobalId, NodeKind},
    },
    identity::types::User,
};

use crate::graphql::pagination::{MAX_LIST_SIZE, MAX_PAGE_SIZE, list_size};
/// Which cases `cases` lists.
#[derive(Debug, Default, InputObject)]
pub struct CaseFilterInput {
    /// Only cases with one of these statuses (default: all).
    pub statuses: Option<Vec<CaseStatus>>,
    /// Only cases of this type.
    pub case_type: Option<CaseType>,
    /// Only cases where this user is primary or partner caseworker.
    pub caseworker_id: Option<ID>,
    /// Only cases whose follow-up is (true) or is not (false) overdue.
    pub follow_up_overdue: Option<bool>,
    /// Only families whose name contains this text (any case).
    pub family_name: Option<String>,
}

/// The request's read-audit record (one per request or WebSocket operation).
pub fn read_audit(ctx: &Context<'_>) -> std::sync::Arc<ReadAudit> {
    ctx.data_opt::<std::sync::Arc<ReadAudit>>()
        .cloned()
        .unwrap_or_default()
}

/// Case queries.
#[derive(Default)]
pub struct CaseQuery;

#[Object]
impl CaseQuery {
    /// One case. `NOT_FOUND` when it does not exist or the viewer may not see it.
    async fn case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case's id.")] id: ID,
    ) -> Result<Option<Case>> {
        let principal = ctx.viewer().principal()?;
        let case_id = GlobalId::expect(&id, NodeKind::Case, &["id"])?;
        let view = service::case(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            &read_audit(ctx),
            case_id,
        )
        .await?;
        Ok(Some(Case(view)))
    }

    /// The cases the viewer may see, most urgent follow-up first: for a
    /// caseworker their own, for a team lead the team's, for a professional
    /// those a family consented to share.
    async fn cases(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which cases.")] filter: Option<CaseFilterInput>,
        #[graphql(desc = "How many (1–100).")] first: i32,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
    ) -> Result<CaseConnection> {
        let principal = ctx.viewer().principal()?;
        let filter = filter.unwrap_or_default();
        let caseworker_id = match &filter.caseworker_id {
            Some(id) => Some(GlobalId::expect(
                id,
                NodeKind::User,
                &["filter", "caseworkerId"],
            )?),
            None => None,
        };
        let (views, has_next_page) = service::list_cases(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            &read_audit(ctx),
            CaseFilter {
                statuses: filter
                    .statuses
                    .map(|s| s.into_iter().map(Into::into).collect()),
                case_type: filter.case_type.map(Into::into),
                caseworker_id,
                follow_up_overdue: filter.follow_up_overdue,
                family_name: filter.family_name,
                due_by: None,
            },
            first,
            after.as_deref(),
        )
        .await?;
        let edges: Vec<CaseEdge> = views
            .into_iter()
            .map(|view| CaseEdge {
                cursor: service::encode_case_cursor(&view.model),
                node: Case(view),
            })
            .collect();
        let page_info = async_graphql::connection::PageInfo {
            has_previous_page: false,
            has_next_page,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        Ok(CaseConnection { edges, page_info })
    }

    /// For a family member: the family's cases they take part in.
    async fn my_cases(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (1 to 100; 100 when left out).")] first: Option<i32>,
    ) -> Result<Vec<Case>> {
        let limit = list_size(first, MAX_PAGE_SIZE)?;
        let principal = ctx.viewer().principal()?;
        if crate::auth::policy::is_staff(principal.role) {
            return Ok(Vec::new());
        }
        let (views, _) = service::list_cases(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            &read_audit(ctx),
            CaseFilter::default(),
            i32::try_from(limit).unwrap_or(MAX_PAGE_SIZE),
            None,
        )
        .await?;
        Ok(views.into_iter().map(Case).collect())
    }

    /// For a team lead: pending requests for another caseworker on their
    /// teams' cases, oldest first. `FORBIDDEN` for anyone else.
    async fn pending_caseworker_change_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (1 to 500; 500 when left out).")] first: Option<i32>,
    ) -> Result<Vec<CaseworkerChangeRequest>> {
        let limit = list_size(first, MAX_LIST_SIZE)?;
        let principal = ctx.viewer().principal()?;
        let rows = service::pending_change_requests(&ctx.state().db, principal).await?;
        Ok(rows
            .into_iter()
            .take(limit)
            .map(CaseworkerChangeRequest)
            .collect())
    }

    /// For a team lead: per caseworker of their team, open cases and overdue
    /// follow-ups. `FORBIDDEN` for anyone else.
    async fn caseload(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (1 to 500; 500 when left out).")] first: Option<i32>,
    ) -> Result<Vec<CaseloadEntry>> {
        let limit = list_size(first, MAX_LIST_SIZE)?;
        let principal = ctx.viewer().principal()?;
        let rows = service::caseload(&ctx.state().db, principal).await?;
        Ok(rows
            .into_iter()
            .take(limit)
            .map(|row| CaseloadEntry {
                caseworker: User(row.caseworker),
                open_cases: row.open_cases,
                overdue_follow_ups: row.overdue_follow_ups,
            })
            .collect())
    }
}
