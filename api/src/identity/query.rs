//! Identity queries.

use async_graphql::{Context, Object, Result};

use super::types::Viewer;
use crate::graphql::ContextExt;

/// `viewer`.
#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The signed-in user, their tenant and their devices. `UNAUTHENTICATED`
    /// without a valid access token.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        let principal = ctx.viewer().principal()?.clone();
        Ok(Viewer { principal })
    }
}
