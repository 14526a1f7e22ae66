//! Records the GraphQL operation name on the request's tracing span, and
//! conceals (and logs) database errors that reached a response without
//! passing through `AppError` (`error::conceal_database_errors`).

use std::sync::Arc;

use async_graphql::{
    Response, ServerResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextSubscribe,
    },
    futures_util::stream::BoxStream,
    parser::types::{DocumentOperations, ExecutableDocument},
};
use futures_util::StreamExt;

use crate::error::conceal_database_errors;

/// Puts the operation's name into the `operation` field of the request span
/// (`anonymous` for an unnamed operation). Only the name: never variables.
/// Also conceals database errors in every response (queries and mutations
/// over HTTP and WebSocket, and each subscription event) as `INTERNAL`.
pub struct OperationName;

impl ExtensionFactory for OperationName {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationNameExtension)
    }
}

struct OperationNameExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for OperationNameExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let name = match &document.operations {
            DocumentOperations::Single(_) => Some("anonymous".to_owned()),
            DocumentOperations::Multiple(operations) if operations.len() == 1 => {
                operations.keys().next().map(|name| name.to_string())
            }
            DocumentOperations::Multiple(_) => None,
        };
        if let Some(name) = name {
            tracing::Span::current().record("operation", name.as_str());
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(name) = operation_name {
            tracing::Span::current().record("operation", name);
        }
        let mut response = next.run(ctx, operation_name).await;
        conceal_database_errors(&mut response.errors);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream)
            .map(|mut response| {
                conceal_database_errors(&mut response.errors);
                response
            })
            .boxed()
    }
}
