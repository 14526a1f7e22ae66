//! HTTP routes: GraphQL over POST, GraphiQL, GraphQL over WebSocket, health checks,
//! and the request span that gives every request an id.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use async_graphql::{ErrorExtensionValues, Response as GqlResponse, Value, http::GraphiQLSource};
use async_graphql_poem::{GraphQLProtocol, GraphQLWebSocket};
use futures_util::{SinkExt, StreamExt};
use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler,
    http::{HeaderValue, StatusCode, header},
    web::{
        Data, Html, Json,
        websocket::{Message, WebSocket},
    },
};
use serde_json::json;
use tokio::sync::watch;
use tracing::{Instrument, field};
use uuid::Uuid;

use crate::{
    auth::viewer::{Viewer, bearer_token},
    db,
    error::{AppError, code},
    graphql::{AppSchema, AppState, RequestMeta, viewer_extension::ConnectionToken},
};

/// The response header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// How long a WebSocket may stay silent before the server closes it.
const WS_KEEPALIVE: Duration = Duration::from_secs(60);

/// The request id of the request being served (set by `request_span`).
#[derive(Debug, Clone)]
struct RequestId(String);

/// Everything the routes need.
#[derive(Clone)]
pub struct RouteState {
    pub schema: AppSchema,
    pub state: AppState,
    pub graphiql: bool,
    /// Becomes `true` when the server starts shutting down.
    pub shutting_down: watch::Receiver<bool>,
    /// What `GET /metrics` reports.
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    /// The bearer token `GET /metrics` requires, if any.
    pub metrics_token: Option<String>,
    /// Automatic persisted queries, or the trusted documents.
    pub persisted: std::sync::Arc<crate::persisted::PersistedQueries>,
}

/// Builds the application's routes.
pub fn routes(route_state: RouteState) -> impl Endpoint {
    Route::new()
        .at("/graphql", get(graphiql).post(graphql_http))
        .at("/graphql/ws", get(graphql_ws))
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/.well-known/jwks.json", get(jwks))
        .at("/calendar/:file", get(phone_calendar))
        .at("/metrics", get(metrics))
        .data(route_state)
        .around(request_span)
}

/// One span per request with its id, method, path, GraphQL operation name,
/// status, outcome and duration. Never logs bodies, variables or tokens.
async fn request_span<E: Endpoint>(endpoint: E, mut request: Request) -> poem::Result<Response> {
    let request_id = Uuid::now_v7().to_string();
    // A phone calendar's path is its secret: never logged.
    let path = match request.uri().path() {
        p if p.starts_with("/calendar/") => "/calendar/{token}.ics",
        p => p,
    };
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        path = %path,
        operation = field::Empty,
        outcome = field::Empty,
        status = field::Empty,
        duration_us = field::Empty,
    );
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    let started = Instant::now();
    let result = endpoint.call(request).instrument(span.clone()).await;
    let mut response = match result {
        Ok(output) => output.into_response(),
        Err(error) => error.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    span.record("status", response.status().as_u16());
    span.record(
        "duration_us",
        u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    );
    span.in_scope(|| tracing::info!("request finished"));
    Ok(response)
}

/// Prometheus metrics (with `METRICS_TOKEN`, only for that bearer token).
#[handler]
async fn metrics(Data(route_state): Data<&RouteState>, request: &Request) -> Response {
    if let Some(expected) = &route_state.metrics_token {
        let given = bearer_token(
            request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok()),
        );
        let matches = given.is_some_and(|g| {
            use subtle::ConstantTimeEq;
            g.as_bytes().ct_eq(expected.as_bytes()).into()
        });
        if !matches {
            return (
                StatusCode::UNAUTHORIZED,
                "Give the metrics token as a bearer token",
            )
                .into_response();
        }
    }
    Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(route_state.metrics.render(&route_state.state.db).await)
}

/// A user's phone calendar (`/calendar/<token>.ics`): 404 for an unknown or
/// revoked token, without saying which.
#[handler]
async fn phone_calendar(
    Data(route_state): Data<&RouteState>,
    poem::web::Path(file): poem::web::Path<String>,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "Not found").into_response();
    let Some(token) = file.strip_suffix(".ics") else {
        return not_found();
    };
    match crate::scheduling::phone_calendar::feed_for_token(&route_state.state.db, token).await {
        Ok(Some(text)) => Response::builder()
            .content_type("text/calendar; charset=utf-8")
            .header(header::CACHE_CONTROL, "private, max-age=900")
            .body(text),
        Ok(None) => not_found(),
        Err(error) => {
            tracing::error!(error = %error.message(), "phone calendar failed");
            (StatusCode::SERVICE_UNAVAILABLE, "Try again later").into_response()
        }
    }
}

#[handler]
fn graphiql(Data(route_state): Data<&RouteState>, request: &Request) -> Response {
    if let Some(refusal) = crate::gate::refuse_get_operation(request.uri().query().unwrap_or("")) {
        return refusal.into_response(&request_id_of(request));
    }
    if !route_state.graphiql {
        return (
            StatusCode::NOT_FOUND,
            "GraphiQL is turned off (GRAPHIQL=false)",
        )
            .into_response();
    }
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("Family services API")
            .finish(),
    )
    .into_response()
}

/// The request id `request_span` gave this request.
fn request_id_of(request: &Request) -> String {
    request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone())
        .unwrap_or_default()
}

#[handler]
async fn graphql_http(
    Data(route_state): Data<&RouteState>,
    request: &Request,
    body: poem::Body,
) -> Response {
    let started = std::time::Instant::now();
    let request_id = request_id_of(request);
    let span = tracing::Span::current();
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let checked = crate::gate::read_post(content_type, body).await.and_then(
        |(mut gql_request, operation)| {
            route_state.persisted.resolve(&mut gql_request)?;
            Ok((gql_request, operation))
        },
    );
    let (gql_request, operation) = match checked {
        Ok(checked) => checked,
        Err(refusal) => {
            span.record("outcome", "refused");
            route_state
                .metrics
                .observe_request(None, "refused", started.elapsed());
            return refusal.into_response(&request_id);
        }
    };

    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let state = &route_state.state;
    let viewer = match state.viewer(bearer_token(authorization)).await {
        Ok(viewer) => viewer,
        Err(error) => {
            let response = GqlResponse::from_errors(vec![
                async_graphql::Error::from(error).into_server_error(Default::default()),
            ]);
            route_state
                .metrics
                .observe_request(operation.as_deref(), "error", started.elapsed());
            return Json(finish_response(response, &request_id)).into_response();
        }
    };
    let meta = RequestMeta {
        request_id: request_id.clone(),
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        client_address: client_address(request),
    };
    let response = route_state
        .schema
        .execute(
            gql_request
                .data(viewer)
                .data(meta)
                .data(std::sync::Arc::new(
                    crate::case::service::ReadAudit::default(),
                )),
        )
        .await;
    let mut response = finish_response(response, &request_id);
    if let Some(refusal) = crate::gate::engine_refusal(&response) {
        // Refused before it ran (a limit checked inside the engine): the
        // status says so, and a rate limit says when to come back.
        span.record("outcome", "refused");
        route_state
            .metrics
            .observe_request(operation.as_deref(), "refused", started.elapsed());
        if let Some(extensions) = response
            .errors
            .first_mut()
            .and_then(|e| e.extensions.as_mut())
        {
            extensions.set("requestId", request_id.as_str());
        }
        let mut answer = (refusal.status, Json(response)).into_response();
        if let Some(seconds) = refusal.retry_after {
            answer
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        return answer;
    }
    let outcome = if response.errors.is_empty() {
        "ok"
    } else {
        "error"
    };
    span.record("outcome", outcome);
    route_state
        .metrics
        .observe_request(operation.as_deref(), outcome, started.elapsed());
    Json(response).into_response()
}

/// Gives every error an `extensions.code` and INTERNAL errors the request id.
/// Errors raised by the GraphQL engine itself (syntax, validation, unknown
/// fields, argument coercion) are the client's to fix: `BAD_USER_INPUT`.
pub fn finish_response(mut response: GqlResponse, request_id: &str) -> GqlResponse {
    for error in &mut response.errors {
        let extensions = error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        let code = match extensions.get("code") {
            Some(Value::String(code)) => code.clone(),
            _ => {
                extensions.set("code", code::BAD_USER_INPUT);
                code::BAD_USER_INPUT.to_owned()
            }
        };
        if code == code::INTERNAL {
            extensions.set("requestId", request_id);
        }
    }
    response
}

#[handler]
async fn graphql_ws(
    Data(route_state): Data<&RouteState>,
    request: &Request,
    protocol: GraphQLProtocol,
    websocket: WebSocket,
) -> impl IntoResponse {
    let route_state = route_state.clone();
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone())
        .unwrap_or_default();
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let client_address = client_address(request);
    websocket
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .config(websocket_config())
        .on_upgrade(move |socket| {
            let span = tracing::info_span!("websocket", request_id = %request_id);
            async move {
                let _open = route_state.metrics.websocket_opened();
                let state = route_state.state.clone();
                let mut shutting_down = route_state.shutting_down.clone();
                let (mut sink, stream) = socket.split();
                // Ending the incoming stream at shutdown ends the GraphQL session;
                // the close frame is sent below.
                let shutdown = async move {
                    let _ = shutting_down.wait_for(|down| *down).await;
                };
                let stream = stream.take_until(shutdown);
                let meta = RequestMeta {
                    request_id,
                    user_agent,
                    client_address,
                };
                let connection_metrics = route_state.metrics.clone();
                // Operations refused before they ran go out as the
                // protocol's `error` message (with no `complete` after it).
                let mut refused = HashSet::new();
                let sink_with_refusals = (&mut sink).with_flat_map(move |message: Message| {
                    futures_util::stream::iter(refusals_as_errors(message, &mut refused).map(Ok))
                });
                GraphQLWebSocket::new_with_pair(
                    sink_with_refusals,
                    stream,
                    route_state.schema.clone(),
                    protocol,
                )
                .keepalive_timeout(WS_KEEPALIVE)
                .on_connection_init(move |payload| async move {
                    let token = connection_init_token(&payload);
                    let viewer = state
                        .viewer(token.as_deref())
                        .await
                        .map_err(async_graphql::Error::from)?;
                    if viewer == Viewer::InvalidToken {
                        return Err(AppError::Unauthenticated(
                            "the access token is expired or revoked",
                        )
                        .into());
                    }
                    // The token, not the viewer, stays with the connection:
                    // each operation resolves its viewer afresh.
                    let mut data = async_graphql::Data::default();
                    data.insert(ConnectionToken(token));
                    data.insert(meta);
                    // Subscriptions count their deliveries (`request_limits`).
                    data.insert(connection_metrics);
                    Ok(data)
                })
                .serve()
                .await;
                if *route_state.shutting_down.borrow() {
                    let _ = sink
                        .send(Message::close_with(1001u16, "server shutting down"))
                        .await;
                }
                let _ = sink.close().await;
                tracing::info!("websocket closed");
            }
            .instrument(span)
        })
}

/// An outgoing WebSocket message, with a `next` that refuses an operation
/// before it ran turned into an `error` (and the `complete` after it dropped).
fn refusals_as_errors(message: Message, refused: &mut HashSet<String>) -> Option<Message> {
    let Message::Text(text) = &message else {
        return Some(message);
    };
    if !refused.is_empty() && text.contains(r#""type":"complete""#) {
        let id = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .filter(|v| v["type"] == "complete")
            .and_then(|v| v["id"].as_str().map(str::to_owned));
        if id.is_some_and(|id| refused.remove(&id)) {
            return None;
        }
    }
    match crate::gate::websocket_refusal(text) {
        Some((id, error)) => {
            refused.insert(id);
            Some(Message::Text(error))
        }
        None => Some(message),
    }
}

/// Small buffers per WebSocket: a phone's GraphQL messages are small, and a
/// server holds thousands of idle sockets (the 128 KiB defaults cost about
/// 200 KiB per connection). Incoming messages are capped at 64 KiB.
fn websocket_config() -> poem::web::websocket::WebSocketConfig {
    poem::web::websocket::WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
}

/// The client's address as the server sees it (the peer of the TCP connection).
fn client_address(request: &Request) -> Option<std::net::IpAddr> {
    request.remote_addr().as_socket_addr().map(|addr| addr.ip())
}

/// The access token from a `connection_init` payload: `{"accessToken": "…"}` or
/// `{"Authorization": "Bearer …"}` (either case).
fn connection_init_token(payload: &serde_json::Value) -> Option<String> {
    if let Some(token) = payload.get("accessToken").and_then(|v| v.as_str()) {
        return Some(token.to_owned());
    }
    let header = payload
        .get("Authorization")
        .or_else(|| payload.get("authorization"))
        .and_then(|v| v.as_str());
    bearer_token(header).map(str::to_owned)
}

/// The public keys that verify access tokens (RFC 7517), for other services.
#[handler]
fn jwks(Data(route_state): Data<&RouteState>) -> Response {
    let mut response = Json(route_state.state.keys.jwks().clone()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

#[handler]
fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

#[handler]
async fn readyz(Data(route_state): Data<&RouteState>) -> Response {
    match db::readiness(&route_state.state.db).await {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(reason) => {
            tracing::warn!(reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": reason })),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_websocket_operation_gets_an_error_and_no_complete() {
        let mut refused = HashSet::new();
        let refusal = json!({ "type": "next", "id": "1", "payload": { "data": null, "errors": [
            { "message": "no", "extensions": { "code": "TOO_MANY_ALIASES" } }] } });
        let text = |m: Option<Message>| match m {
            Some(Message::Text(text)) => serde_json::from_str::<serde_json::Value>(&text).ok(),
            _ => None,
        };
        let error = text(refusals_as_errors(
            Message::Text(refusal.to_string()),
            &mut refused,
        ));
        assert_eq!(
            error.map(|e| (
                e["type"].clone(),
                e["payload"][0]["extensions"]["code"].clone()
            )),
            Some((json!("error"), json!("TOO_MANY_ALIASES")))
        );
        let complete =
            |id: &str| Message::Text(json!({ "type": "complete", "id": id }).to_string());
        assert!(refusals_as_errors(complete("1"), &mut refused).is_none());
        assert!(refusals_as_errors(complete("2"), &mut refused).is_some());
        let answer = json!({ "type": "next", "id": "3", "payload": { "data": { "a": 1 } } });
        assert_eq!(
            text(refusals_as_errors(
                Message::Text(answer.to_string()),
                &mut refused
            )),
            Some(answer)
        );
    }

    #[test]
    fn connection_init_accepts_access_token_or_authorization_header() {
        assert_eq!(
            connection_init_token(&json!({"accessToken": "abc"})).as_deref(),
            Some("abc")
        );
        assert_eq!(
            connection_init_token(&json!({"Authorization": "Bearer abc"})).as_deref(),
            Some("abc")
        );
        assert_eq!(connection_init_token(&json!({})), None);
    }

    #[test]
    fn engine_errors_get_bad_user_input_and_internal_errors_the_request_id() {
        let response = GqlResponse::from_errors(vec![
            async_graphql::ServerError::new("Unknown field \"x\"", None),
            async_graphql::Error::from(AppError::Internal("boom".into()))
                .into_server_error(Default::default()),
        ]);
        let response = finish_response(response, "req-1");
        let codes: Vec<_> = response
            .errors
            .iter()
            .map(|e| e.extensions.as_ref().and_then(|x| x.get("code")).cloned())
            .collect();
        assert_eq!(
            codes,
            vec![
                Some(Value::from("BAD_USER_INPUT")),
                Some(Value::from("INTERNAL"))
            ]
        );
        let request_id = response.errors[1]
            .extensions
            .as_ref()
            .and_then(|x| x.get("requestId"))
            .cloned();
        assert_eq!(request_id, Some(Value::from("req-1")));
        assert_eq!(response.errors[1].message, "internal error");
    }
}
