//! The server answers GraphQL, serves GraphiQL and health checks, and reports
//! errors with codes and request ids but without internals.

use integration_tests::{Backend, TestApp, first_error_code, on_both_backends};
use serde_json::json;

on_both_backends!(
    graphql_answers_typename_with_a_request_id_header,
    graphiql_is_served_on_get,
    healthz_and_readyz_report_a_healthy_server,
    readyz_fails_and_errors_stay_opaque_when_the_database_is_unreachable,
    syntax_errors_and_unknown_fields_are_bad_user_input,
);

async fn graphql_answers_typename_with_a_request_id_header(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.post_graphql(None, "{ __typename }", json!({})).await;

    assert_eq!(response.status(), 200);
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("an x-request-id header");
    assert_eq!(request_id.len(), 36, "a UUID request id");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "data": { "__typename": "Query" } }));
    app.stop().await;
}

async fn graphiql_is_served_on_get(backend: Backend) {
    let app = TestApp::spawn(backend.clone()).await;
    let page = app.client.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("graphiql"), "GraphiQL page: {html:.200}");
    assert!(
        html.contains("/graphql/ws"),
        "GraphiQL knows the subscription endpoint"
    );
    app.stop().await;

    let app = TestApp::spawn_with(backend, |config| config.graphiql = Some(false)).await;
    let page = app.client.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(page.status(), 404, "GraphiQL can be switched off");
    app.stop().await;
}

async fn healthz_and_readyz_report_a_healthy_server(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();

    assert_eq!(health.status(), 200);
    assert_eq!(ready.status(), 200);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    app.stop().await;
}

async fn readyz_fails_and_errors_stay_opaque_when_the_database_is_unreachable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.login("caseworker@exempelby.example").await;

    // The outage: the server's connection pool is closed under it.
    app.db.clone().close().await.unwrap();

    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "the process is alive");
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "not ready without a database");
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["reason"], "database unreachable");

    let response = app
        .post_graphql(Some(&token), "{ viewer { role } }", json!({}))
        .await;
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(first_error_code(&body), Some("INTERNAL"));
    assert_eq!(body["errors"][0]["message"], "internal error");
    assert_eq!(
        body["errors"][0]["extensions"]["requestId"], request_id,
        "the client can quote the request id to support"
    );
    let text = body.to_string().to_lowercase();
    for internal in ["pool", "sql", "database", "connection"] {
        assert!(!text.contains(internal), "no internals leak: {body}");
    }
}

async fn syntax_errors_and_unknown_fields_are_bad_user_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let syntax = app.graphql("{ viewer { ", json!({})).await;
    let unknown = app.graphql("{ viewerr { role } }", json!({})).await;

    assert_eq!(first_error_code(&syntax), Some("BAD_USER_INPUT"));
    assert_eq!(first_error_code(&unknown), Some("BAD_USER_INPUT"));
    app.stop().await;
}
