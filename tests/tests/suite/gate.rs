//! The request gate in front of GraphQL over HTTP: JSON POSTs only, no
//! operations by GET, one operation per request, bounded bodies, query texts
//! and aliases; introspection and suggestions off in production.

use integration_tests::{Backend, TestApp, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    only_single_json_posts_of_bounded_size_reach_graphql,
    production_answers_no_introspection_and_no_suggestions,
    metrics_count_requests_by_operation_and_open_websockets,
    persisted_queries_are_learned_by_hash_and_trusted_documents_allow_only_theirs,
);

const LOGIN: &str = r#"mutation { login(input: { email: "admin@exempelby.example", password: "demo-password-2026" }) { tokens { accessToken } } }"#;

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
