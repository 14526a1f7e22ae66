//! The request gate in front of GraphQL over HTTP: JSON POSTs only, no
//! operations by GET, one operation per request, bounded bodies, query texts
//! and aliases; introspection and suggestions off in production. And the
//! limits inside the engine, over HTTP and WebSocket: a points budget per
//! user, one sign-in field per document and a sign-in limit per address.

use integration_tests::{Backend, TestApp, WsClient, global_id, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    a_user_who_spends_the_points_budget_is_refused_while_others_are_answered,
    a_document_may_hold_one_sign_in_and_sign_ins_are_limited_per_address,
    websocket_operations_get_the_same_document_checks_and_the_socket_stays_usable,
    only_single_json_posts_of_bounded_size_reach_graphql,
    production_answers_no_introspection_and_no_suggestions,
    metrics_count_requests_by_operation_and_open_websockets,
    persisted_queries_are_learned_by_hash_and_trusted_documents_allow_only_theirs,
    every_plain_list_returns_at_most_first_up_to_its_maximum,
);

const LOGIN: &str = r#"mutation { login(input: { email: "admin@exempelby.example", password: "demo-password-2026" }) { tokens { accessToken } } }"#;
const TWO_LOGINS: &str = r#"mutation {
    a: login(input: { email: "admin@exempelby.example", password: "demo-password-2026" }) { tokens { accessToken } }
    b: login(input: { email: "admin@exempelby.example", password: "wrong" }) { tokens { accessToken } } }"#;

/// A query of about 60 points (ten aliases of six fields).
fn expensive_query() -> String {
    let aliases = (0..10)
        .map(|n| format!("v{n}: viewer {{ role user {{ id displayName }} tenant {{ name }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    format!("{{ {aliases} }}")
}

/// A WebSocket signed in with `token` (anonymous without one).
async fn signed_in_socket(app: &TestApp, token: Option<&str>) -> WsClient {
    let mut socket = app.websocket("graphql-transport-ws").await;
    let payload = token.map_or(json!({}), |t| json!({ "accessToken": t }));
    socket
        .send(json!({ "type": "connection_init", "payload": payload }))
        .await;
    assert_eq!(socket.next().await.unwrap()["type"], "connection_ack");
    socket
}

/// Sends `query` as operation `id` and returns the first answer.
async fn ws_operation(socket: &mut WsClient, id: &str, query: &str) -> Value {
    socket
        .send(json!({ "id": id, "type": "subscribe", "payload": { "query": query } }))
        .await;
    socket.next().await.unwrap()
}

/// The code of an `error` message for operation `id`.
fn ws_error_code(message: &Value, id: &str) -> String {
    assert_eq!(
        (message["type"].as_str(), message["id"].as_str()),
        (Some("error"), Some(id)),
        "{message}"
    );
    message["payload"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Status, `Retry-After` header and body of a POST.
async fn post_with_headers(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
) -> (u16, Option<u64>, Value) {
    let response = app.post_graphql(token, query, json!({})).await;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (status, retry_after, response.json().await.unwrap())
}

async fn a_user_who_spends_the_points_budget_is_refused_while_others_are_answered(
    backend: Backend,
) {
    // A small budget refilling slowly: a refused request stays refused for
    // tens of seconds, so nothing here depends on how fast the machine is.
    let app = TestApp::spawn_with(backend, |config| {
        config.rate_limit_points = 150;
        config.rate_limit_refill_per_second = 1;
    })
    .await;
    let anna = app.login("caseworker@exempelby.example").await;
    let grannby = app.login("caseworker@grannby.example").await;
    let query = expensive_query();

    // Anna spends her budget: after a couple of answers she is refused,
    // before anything runs, with when to come back.
    let mut refusal = None;
    for _ in 0..10 {
        let (status, retry_after, body) = post_with_headers(&app, Some(&anna), &query).await;
        if status == 200 {
            assert!(body["errors"].is_null(), "{body}");
            continue;
        }
        refusal = Some((status, retry_after, body));
        break;
    }
    let (status, retry_after, body) = refusal.expect("the budget runs out");
    assert_eq!(status, 429, "{body}");
    assert_eq!(first_code(&body), "RATE_LIMITED", "{body}");
    assert!(body["data"].is_null(), "nothing ran: {body}");
    let seconds = body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap_or_default();
    assert!(seconds >= 1, "{body}");
    assert_eq!(retry_after, Some(seconds), "the Retry-After header");
    assert!(body["errors"][0]["extensions"]["requestId"].is_string());

    // At the same instant a user of another tenant is answered in full.
    let (status, _, body) = post_with_headers(&app, Some(&grannby), &query).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["errors"].is_null(), "{body}");
    assert!(body["data"]["v9"]["user"]["id"].is_string(), "{body}");

    // The budget is the user's, whatever the transport.
    let mut socket = signed_in_socket(&app, Some(&anna)).await;
    let answer = ws_operation(&mut socket, "1", &query).await;
    assert_eq!(ws_error_code(&answer, "1"), "RATE_LIMITED");
    assert!(answer["payload"][0]["extensions"]["retryAfter"].as_u64() >= Some(1));
    app.stop().await;
}

async fn a_document_may_hold_one_sign_in_and_sign_ins_are_limited_per_address(backend: Backend) {
    // Two sign-in fields a minute from one address: one more comes back
    // only after 30 seconds.
    let app = TestApp::spawn_with(backend, |config| {
        config.rate_limit_sign_ins_per_minute = 2;
    })
    .await;
    let admin = app.login("admin@exempelby.example").await;
    let before = sessions(&app, &admin).await;

    // Two logins under aliases are refused as a whole: nothing runs.
    let response = app.post_graphql(None, TWO_LOGINS, json!({})).await;
    assert_eq!(
        refused(response).await,
        (400, "TOO_MANY_SIGN_IN_FIELDS".to_owned())
    );
    assert_eq!(sessions(&app, &admin).await, before, "no session began");

    // The second sign-in field from this address runs (a refresh with an
    // unknown token: refused by the resolver, but an attempt all the same).
    let body = app
        .graphql(
            r#"mutation { refreshSession(input: { refreshToken: "not-a-token" }) { tokens { accessToken } } }"#,
            json!({}),
        )
        .await;
    assert_ne!(first_code(&body), "RATE_LIMITED", "{body}");

    // The third is refused before it runs, over HTTP and over WebSocket.
    let (status, retry_after, body) = post_with_headers(&app, None, LOGIN).await;
    assert_eq!(
        (status, first_code(&body)),
        (429, "RATE_LIMITED".to_owned()),
        "{body}"
    );
    assert!(retry_after >= Some(1), "{retry_after:?}");
    assert!(
        body["errors"][0]["extensions"]["retryAfter"].as_u64() >= Some(1),
        "{body}"
    );
    let mut socket = signed_in_socket(&app, None).await;
    let answer = ws_operation(&mut socket, "login", LOGIN).await;
    assert_eq!(ws_error_code(&answer, "login"), "RATE_LIMITED");
    assert_eq!(sessions(&app, &admin).await, before, "no session began");
    app.stop().await;
}

async fn websocket_operations_get_the_same_document_checks_and_the_socket_stays_usable(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let admin = app.login("admin@exempelby.example").await;
    let before = sessions(&app, &admin).await;
    let mut socket = signed_in_socket(&app, Some(&admin)).await;

    let aliases = (0..31)
        .map(|n| format!("a{n}: viewer {{ role }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let answer = ws_operation(&mut socket, "aliases", &format!("{{ {aliases} }}")).await;
    assert_eq!(ws_error_code(&answer, "aliases"), "TOO_MANY_ALIASES");

    let long = format!("{{ viewer {{ role }} {} }}", " ".repeat(20 * 1024));
    let answer = ws_operation(&mut socket, "long", &long).await;
    assert_eq!(ws_error_code(&answer, "long"), "QUERY_TOO_LARGE");

    let answer = ws_operation(&mut socket, "logins", TWO_LOGINS).await;
    assert_eq!(ws_error_code(&answer, "logins"), "TOO_MANY_SIGN_IN_FIELDS");
    assert_eq!(sessions(&app, &admin).await, before, "no session began");

    // The socket still answers, and no stray `complete` of a refused
    // operation comes first.
    let answer = ws_operation(&mut socket, "ok", "{ viewer { role } }").await;
    assert_eq!(
        answer,
        json!({ "id": "ok", "type": "next", "payload": { "data": { "viewer": { "role": "ADMIN" } } } })
    );
    assert_eq!(
        socket.next().await.unwrap(),
        json!({ "id": "ok", "type": "complete" })
    );
    app.stop().await;
}

fn nilsson_case() -> String {
    global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000),
    )
}

fn first_code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn refused(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

async fn sessions(app: &TestApp, token: &str) -> usize {
    app.graphql_as(token, "{ viewer { sessions { id } } }", json!({}))
        .await["data"]["viewer"]["sessions"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default()
}

async fn only_single_json_posts_of_bounded_size_reach_graphql(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.login("admin@exempelby.example").await;
    let before = sessions(&app, &admin).await;
    let url = app.url("/graphql");
    let body = json!({ "query": LOGIN }).to_string();

    // A mutation in a text/plain or form POST (what a cross-site form can
    // send) is refused and does nothing.
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = app
            .client
            .post(&url)
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            refused(response).await,
            (415, "UNSUPPORTED_MEDIA_TYPE".to_owned()),
            "{content_type}"
        );
    }
    // Operations by GET are refused (GraphiQL itself is still served).
    for query in ["%7B__typename%7D", "mutation%20%7Blogout%7Bok%7D%7D"] {
        let response = app
            .client
            .get(format!("{url}?query={query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["allow"], "POST");
        assert_eq!(
            refused(response).await,
            (405, "METHOD_NOT_ALLOWED".to_owned())
        );
    }
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 200);
    // A batch of 200 logins is refused as a whole.
    let batch: Vec<Value> = (0..200).map(|_| json!({ "query": LOGIN })).collect();
    let response = app.client.post(&url).json(&batch).send().await.unwrap();
    assert_eq!(
        refused(response).await,
        (400, "BATCH_NOT_SUPPORTED".to_owned())
    );
    assert_eq!(sessions(&app, &admin).await, before, "nothing was executed");

    // Oversized bodies and query texts, too many aliases.
    let padding = " ".repeat(70 * 1024);
    let response = app
        .client
        .post(&url)
        .json(&json!({ "query": format!("{{ __typename {padding} }}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused(response).await,
        (413, "PAYLOAD_TOO_LARGE".to_owned())
    );
    let response = app
        .client
        .post(&url)
        .json(&json!({ "query": format!("{{ __typename {} }}", " ".repeat(20 * 1024)) }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused(response).await, (413, "QUERY_TOO_LARGE".to_owned()));
    let aliases = (0..31)
        .map(|n| format!("a{n}: viewer {{ user {{ id }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let response = app
        .client
        .post(&url)
        .bearer_auth(&admin)
        .json(&json!({ "query": format!("{{ {aliases} }}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused(response).await,
        (400, "TOO_MANY_ALIASES".to_owned())
    );
    // What the apps send still passes.
    let body = app
        .graphql_as(
            &admin,
            "{ a: viewer { user { id } } b: viewer { tenant { name } } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    app.stop().await;
}

async fn production_answers_no_introspection_and_no_suggestions(backend: Backend) {
    let production = TestApp::spawn_with(backend.clone(), |config| {
        config.app_env = api::config::Environment::Production;
        config.token_signing_key = Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned());
    })
    .await;
    let development = TestApp::spawn(backend).await;
    const INTROSPECT: &str = "{ __schema { queryType { name } } }";
    const TYPO: &str = "{ viewr { user { id } } }";
    let body = production.graphql(INTROSPECT, json!({})).await;
    // The engine answers introspection with nothing at all.
    assert!(body["data"]["__schema"].is_null(), "{body}");
    let body = production.graphql(TYPO, json!({})).await;
    let message = body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!message.contains("Did you mean"), "{message}");

    let body = development.graphql(INTROSPECT, json!({})).await;
    assert_eq!(
        body["data"]["__schema"]["queryType"]["name"], "Query",
        "{body}"
    );
    let body = development.graphql(TYPO, json!({})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Did you mean"),
        "{body}"
    );
    production.stop().await;
    development.stop().await;
}

async fn metrics_text(app: &TestApp, token: Option<&str>) -> (u16, String) {
    let mut request = app.client.get(app.url("/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn metrics_count_requests_by_operation_and_open_websockets(backend: Backend) {
    let app = TestApp::spawn(backend.clone()).await;
    let admin = app.login("admin@exempelby.example").await;
    for _ in 0..2 {
        app.graphql_as(&admin, "query Home { viewer { user { id } } }", json!({}))
            .await;
    }
    app.client
        .post(app.url("/graphql"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    let mut socket = app.websocket("graphql-transport-ws").await;
    socket
        .send(json!({ "type": "connection_init", "payload": { "accessToken": admin } }))
        .await;
    assert_eq!(socket.next().await.unwrap()["type"], "connection_ack");

    let (status, text) = metrics_text(&app, None).await;
    assert_eq!(status, 200);
    assert!(
        text.contains(r#"graphql_requests_total{operation="Home",outcome="ok"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"graphql_requests_total{operation="anonymous",outcome="refused"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"graphql_request_duration_seconds_count{operation="Home",outcome="ok"} 2"#),
        "{text}"
    );
    assert!(text.contains("websocket_connections 1"), "{text}");
    assert!(text.contains("db_pool_connections "), "{text}");
    assert!(text.contains("push_outbox_pending 0"), "{text}");
    assert!(
        !text.contains("exempelby") && !text.contains(&admin),
        "no names or tokens: {text}"
    );
    drop(socket);
    let mut closed = false;
    for _ in 0..50 {
        if metrics_text(&app, None)
            .await
            .1
            .contains("websocket_connections 0")
        {
            closed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(closed, "the closed socket is no longer counted");

    // A subscriber gets the message sent after its cursor: one delivery.
    let anna = app.login("caseworker@exempelby.example").await;
    let conversation = app
        .graphql_as(
            &anna,
            "mutation($input: StartConversationInput!) { startConversation(input: $input) { conversation { id } } }",
            json!({ "input": { "caseId": nilsson_case(), "kind": "FAMILY" } }),
        )
        .await["data"]["startConversation"]["conversation"]["id"]
        .clone();
    for (key, text) in [("m1", "One"), ("m2", "Two")] {
        let body = app
            .graphql_as(
                &anna,
                "mutation($input: SendMessageInput!) { sendMessage(input: $input) { userErrors { code } } }",
                json!({ "input": { "conversationId": conversation, "clientMessageId": key, "body": text } }),
            )
            .await;
        assert_eq!(
            body["data"]["sendMessage"]["userErrors"],
            json!([]),
            "{body}"
        );
    }
    let first = app
        .graphql_as(
            &anna,
            "query($id: ID!) { messages(conversationId: $id, first: 1) { edges { cursor } } }",
            json!({ "id": conversation }),
        )
        .await;
    let cursor = first["data"]["messages"]["edges"][0]["cursor"].clone();
    let mut subscriber = signed_in_socket(&app, Some(&anna)).await;
    subscriber
        .send(json!({ "id": "live", "type": "subscribe", "payload": {
            "query": "subscription($id: ID!, $after: String) { messageAdded(conversationId: $id, after: $after) { body } }",
            "variables": { "id": conversation, "after": cursor },
        } }))
        .await;
    let delivery = subscriber.next().await.unwrap();
    assert_eq!(
        delivery["payload"]["data"]["messageAdded"]["body"], "Two",
        "{delivery}"
    );
    let text = metrics_text(&app, None).await.1;
    assert!(
        text.contains(r#"graphql_subscription_deliveries_total{subscription="messageAdded"} 1"#),
        "{text}"
    );
    drop(subscriber);
    app.stop().await;

    // With a metrics token, only its bearer reads them.
    let guarded = TestApp::spawn_with(backend, |config| {
        config.metrics_token = Some("scrape-secret".to_owned());
    })
    .await;
    assert_eq!(metrics_text(&guarded, None).await.0, 401);
    assert_eq!(metrics_text(&guarded, Some("wrong")).await.0, 401);
    assert_eq!(metrics_text(&guarded, Some("scrape-secret")).await.0, 200);
    guarded.stop().await;
}

async fn persisted_queries_are_learned_by_hash_and_trusted_documents_allow_only_theirs(
    backend: Backend,
) {
    use api::persisted::sha256_hex;
    let app = TestApp::spawn(backend.clone()).await;
    let url = app.url("/graphql");
    let text = "query Ping { __typename }";
    let hash = sha256_hex(text);
    let post = |body: Value| {
        let request = app.client.post(&url).json(&body);
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let persisted = |hash: &str| json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    // Unknown hash: the Apollo answer, then the client registers the text.
    let (status, body) = post(json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(
        (status, body["errors"][0]["message"].as_str()),
        (200, Some("PersistedQueryNotFound")),
        "{body}"
    );
    let (_, body) = post(json!({ "query": text, "extensions": persisted(&hash) })).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    let (_, body) = post(json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    let (status, body) =
        post(json!({ "query": "{ __typename }", "extensions": persisted(&hash) })).await;
    assert_eq!(
        (status, body["errors"][0]["extensions"]["code"].as_str()),
        (400, Some("BAD_REQUEST"))
    );
    app.stop().await;

    // Trusted documents: only the manifest's operations run.
    let manifest = std::env::temp_dir().join(format!("trusted-{}.json", uuid::Uuid::now_v7()));
    std::fs::write(&manifest, json!({ hash.clone(): text }).to_string()).unwrap();
    let path = manifest.clone();
    let trusted = TestApp::spawn_with(backend, move |config| {
        config.trusted_documents = Some(path);
    })
    .await;
    let url = trusted.url("/graphql");
    let post = |body: Value| {
        let request = trusted.client.post(&url).json(&body);
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (_, body) = post(json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(body["data"]["__typename"], "Query", "by hash: {body}");
    let (_, body) = post(json!({ "query": text })).await;
    assert_eq!(body["data"]["__typename"], "Query", "by text: {body}");
    for other in [
        json!({ "query": "{ __typename }" }),
        json!({ "query": LOGIN }),
    ] {
        let (status, body) = post(other).await;
        assert_eq!(
            (status, body["errors"][0]["extensions"]["code"].as_str()),
            (400, Some("UNTRUSTED_DOCUMENT")),
            "{body}"
        );
    }
    trusted.stop().await;
    let _ = std::fs::remove_file(manifest);
}

/// Lists that are not connections take `first` too: at most that many items,
/// bounded by a maximum (500; 100 for lists of cases), the maximum when left out.
async fn every_plain_list_returns_at_most_first_up_to_its_maximum(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sara = app.login("guardian@exempelby.example").await;
    let all = app.graphql_as(&sara, "{ myGoals { id } }", json!({})).await;
    let goals = all["data"]["myGoals"].as_array().unwrap().len();
    assert!(goals >= 2, "the demo family has goals: {all}");
    let one = app
        .graphql_as(&sara, "{ myGoals(first: 1) { id } }", json!({}))
        .await;
    assert_eq!(
        one["data"]["myGoals"],
        json!([all["data"]["myGoals"][0]]),
        "{one}"
    );

    for (query, max) in [
        ("{ myGoals(first: 0) { id } }", 500),
        ("{ myGoals(first: 501) { id } }", 500),
        ("{ myCases(first: 101) { id } }", 100),
        ("{ myCommitments(first: 501) { id } }", 500),
        ("{ calendarSubscriptions(first: -1) { id } }", 500),
    ] {
        let refused = app.graphql_as(&sara, query, json!({})).await;
        let error = &refused["errors"][0];
        assert_eq!(
            error["extensions"]["code"], "BAD_USER_INPUT",
            "{query}: {refused}"
        );
        assert_eq!(
            error["extensions"]["field"],
            json!(["first"]),
            "{query}: {refused}"
        );
        assert_eq!(
            error["message"],
            format!("first must be between 1 and {max}"),
            "{query}: {refused}"
        );
    }
    let cases = app
        .graphql_as(&sara, "{ myCases(first: 100) { id } }", json!({}))
        .await;
    assert!(
        cases["data"]["myCases"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "{cases}"
    );
    app.stop().await;
}
