//! The request limits that need the parsed and validated document, applied
//! inside the engine so that they hold over HTTP and over WebSocket alike:
//!
//! - the gate's document checks (query size, aliases; `crate::gate`), which
//!   over HTTP already ran before parsing and here cover WebSocket
//!   operations and persisted queries;
//! - no control characters in text (`gate::check_text_input`): a string
//!   anywhere in the variables or the document's arguments holding one
//!   (U+0000 above all, which PostgreSQL refuses) is answered with
//!   `BAD_USER_INPUT` and the path of the value (`extensions.field`) before
//!   anything runs, as the engine answers other malformed input (status
//!   200 over HTTP, a `next` message over WebSocket);
//! - at most one sign-in field (`login`, `refreshSession`, …) per document,
//!   each counted against the client address's sign-in limit;
//! - the points budget: a request costs its query complexity, taken from the
//!   viewer's bucket (tenant and user; anonymous requests by address)
//!   before anything runs.
//!
//! Refusals are errors without a path and without data, with
//! `extensions.code` (and `retryAfter` in seconds for `RATE_LIMITED`); the
//! HTTP handler answers them with a status (429 and `Retry-After` for rate
//! limits), the WebSocket with an `error` message.
//!
//! It also counts subscription deliveries for the metrics.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use async_graphql::{
    ErrorExtensionValues, Request, Response, ServerError, ServerResult, ValidationResult,
    Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
        NextSubscribe, NextValidation,
    },
    futures_util::stream::BoxStream,
    parser::types::{ExecutableDocument, OperationType, Selection},
};
use futures_util::StreamExt;

use super::{AppState, RequestMeta};
use crate::{
    auth::Viewer,
    error::code,
    gate,
    limits::{Buckets, BudgetKey},
    metrics::Metrics,
};

/// Installs the limits.
pub struct RequestLimits;

impl ExtensionFactory for RequestLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestLimitsExtension::default())
    }
}

/// The state of one request (or one WebSocket operation).
#[derive(Default)]
struct RequestLimitsExtension {
    /// The operation the client asked for by name.
    operation_name: Mutex<Option<String>>,
    /// Sign-in fields in the document (0 or 1 once it passed).
    sign_in_fields: AtomicUsize,
    /// The root field of a subscription operation, for the delivery count.
    subscription_field: Arc<Mutex<Option<String>>>,
}

/// A `RATE_LIMITED` refusal.
fn rate_limited(message: String, retry_after: u64) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code::RATE_LIMITED);
    extensions.set("retryAfter", retry_after);
    error.extensions = Some(extensions);
    error
}

/// The root field of the subscription operation the request runs, if it is one.
fn subscription_root_field(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<String> {
    let operation = match operation_name {
        Some(name) => document
            .operations
            .iter()
            .find(|(n, _)| n.is_some_and(|n| n.as_str() == name))?,
        None => document.operations.iter().next()?,
    }
    .1;
    if operation.node.ty != OperationType::Subscription {
        return None;
    }
    operation
        .node
        .selection_set
        .node
        .items
        .iter()
        .find_map(|selection| match &selection.node {
            Selection::Field(field) => Some(field.node.name.node.to_string()),
            _ => None,
        })
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestLimitsExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if let Ok(mut name) = self.operation_name.lock() {
            name.clone_from(&request.operation_name);
        }
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        gate::check_query_size(query).map_err(gate::Refusal::into_server_error)?;
        let document = next.run(ctx, query, variables).await?;
        gate::check_text_input(&document, variables)
            .map_err(gate::RefusedText::into_server_error)?;
        gate::check_aliases(&document).map_err(gate::Refusal::into_server_error)?;
        let sign_ins =
            gate::check_sign_in_fields(&document).map_err(gate::Refusal::into_server_error)?;
        self.sign_in_fields.store(sign_ins, Ordering::SeqCst);
        let operation_name = self.operation_name.lock().ok().and_then(|n| n.clone());
        if let Some(field) = subscription_root_field(&document, operation_name.as_deref())
            && let Ok(mut slot) = self.subscription_field.lock()
        {
            *slot = Some(field);
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let Some(state) = ctx.data_opt::<AppState>() else {
            return Ok(result);
        };
        let address = ctx
            .data_opt::<RequestMeta>()
            .and_then(|meta| meta.client_address);
        let budget = match ctx.data_opt::<Viewer>() {
            Some(Viewer::Signed(principal)) => BudgetKey::User {
                tenant: principal.tenant_id,
                user: principal.user_id,
            },
            _ => BudgetKey::Address(address),
        };
        let now = Instant::now();
        let cost = u64::try_from(result.complexity).unwrap_or(u64::MAX).max(1);
        charge(&state.limits.points, &budget, cost, now, |seconds| {
            format!(
                "This request costs {cost} points and the budget has too few left; \
                 try again in {seconds} seconds."
            )
        })?;
        let attempts = self.sign_in_fields.load(Ordering::SeqCst) as u64;
        if attempts > 0 {
            charge(
                &state.limits.sign_in,
                &BudgetKey::Address(address),
                attempts,
                now,
                |seconds| {
                    format!(
                        "Too many sign-in attempts from this address; try again in {seconds} seconds."
                    )
                },
            )?;
        }
        Ok(result)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let stream = next.run(ctx, stream);
        // Subscriptions run over WebSocket, whose connection data holds the metrics.
        let Some(metrics) = ctx.data_opt::<Arc<Metrics>>().cloned() else {
            return stream;
        };
        let field = self.subscription_field.clone();
        stream
            .inspect(move |response| {
                // An event carries data; refusals and errors do not count.
                if matches!(response.data, async_graphql::Value::Null) {
                    return;
                }
                if let Ok(field) = field.lock()
                    && let Some(name) = field.as_deref()
                {
                    metrics.count_delivery(name);
                }
            })
            .boxed()
    }
}

/// Takes `cost` from `key`'s bucket, or refuses with `RATE_LIMITED`.
fn charge(
    buckets: &Buckets,
    key: &BudgetKey,
    cost: u64,
    now: Instant,
    message: impl FnOnce(u64) -> String,
) -> Result<(), Vec<ServerError>> {
    buckets
        .take(key, cost, now)
        .map_err(|seconds| vec![rate_limited(message(seconds), seconds)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_subscription_field_is_that_of_the_chosen_operation() {
        let document = parse(
            "query Q { viewer { role } } subscription S { live: messageAdded(conversationId: \"x\") { body } }",
        );
        assert_eq!(
            subscription_root_field(&document, Some("S")).as_deref(),
            Some("messageAdded")
        );
        assert_eq!(subscription_root_field(&document, Some("Q")), None);
        assert_eq!(
            subscription_root_field(&parse("subscription { viewerEvents { __typename } }"), None)
                .as_deref(),
            Some("viewerEvents")
        );
    }
}
