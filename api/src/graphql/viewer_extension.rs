//! Resolves the viewer of every operation sent over a WebSocket afresh.
//!
//! A WebSocket connection authenticates once, in `connection_init`, but may live
//! for hours. The token is kept with the connection and the session is looked up
//! again for each operation, so a logout, a revoked session or a deactivated
//! account takes effect on open connections at once, as it does over HTTP.

use std::sync::Arc;

use async_graphql::{
    Request, ServerResult,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest},
};

use super::AppState;

/// The access token a WebSocket connection presented in `connection_init`.
#[derive(Debug, Clone)]
pub struct ConnectionToken(pub Option<String>);

/// Installs the per-operation viewer resolution.
pub struct ResolveConnectionViewer;

impl ExtensionFactory for ResolveConnectionViewer {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ResolveConnectionViewerExtension)
    }
}

struct ResolveConnectionViewerExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for ResolveConnectionViewerExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        // Only WebSocket connections carry a `ConnectionToken`; HTTP requests
        // come with their viewer already resolved.
        let (Some(ConnectionToken(token)), Some(state)) = (
            ctx.session_data
                .get(&std::any::TypeId::of::<ConnectionToken>())
                .and_then(|d| d.downcast_ref::<ConnectionToken>()),
            ctx.data_opt::<AppState>(),
        ) else {
            return next.run(ctx, request).await;
        };
        let viewer = state
            .viewer(token.as_deref())
            .await
            .map_err(|e| async_graphql::Error::from(e).into_server_error(Default::default()))?;
        let read_audit = std::sync::Arc::new(crate::case::service::ReadAudit::default());
        next.run(ctx, request.data(viewer).data(read_audit)).await
    }
}
