//! Audit queries.

use async_graphql::{Context, Object, Result};
use entity::audit_event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::types::{AuditEvent, AuditEventConnection};
use crate::{
    auth::policy::{Action, Policy},
    graphql::{
        ContextExt,
        pagination::{decode_cursor, page, page_size},
    },
};

/// `auditTrail`.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The viewer's tenant's audit trail, newest first. Admins only (`FORBIDDEN`
    /// for anyone else).
    async fn audit_trail(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many entries (1–100).")] first: i32,
        #[graphql(desc = "Return entries after (older than) this cursor.")] after: Option<String>,
    ) -> Result<AuditEventConnection> {
        let principal = ctx.viewer().principal()?;
        Policy::ensure_allowed(
            principal,
            Action::ReadAuditTrail {
                tenant_id: principal.tenant_id,
            },
        )?;
        let limit = page_size(first)?;
        let mut query = audit_event::Entity::find()
            .filter(audit_event::Column::TenantId.eq(principal.tenant_id))
            .order_by_desc(audit_event::Column::Id)
            .limit(limit + 1);
        if let Some(after) = after {
            query = query.filter(audit_event::Column::Id.lt(decode_cursor(&after)?));
        }
        let rows = query
            .all(&ctx.state().db)
            .await
            .map_err(crate::error::AppError::from)?;
        Ok(AuditEventConnection::new(page(
            rows,
            limit,
            |row| row.id,
            AuditEvent,
        )))
    }
}
