//! GraphQL over WebSocket at `/graphql/ws`: `graphql-transport-ws` and the legacy
//! `graphql-ws` subprotocol, with the access token in `connection_init`.

use integration_tests::{Backend, TestApp, on_both_backends};
use serde_json::json;

on_both_backends!(
    graphql_transport_ws_authenticates_in_connection_init_and_runs_operations,
    legacy_graphql_ws_runs_operations,
    an_invalid_token_in_connection_init_closes_the_connection,
    signing_out_takes_effect_on_an_open_websocket_at_once,
);

async fn graphql_transport_ws_authenticates_in_connection_init_and_runs_operations(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let token = app.login("young@exempelby.example").await;
    let mut ws = app.websocket("graphql-transport-ws").await;

    ws.send(json!({ "type": "connection_init", "payload": { "accessToken": token } }))
        .await;
    assert_eq!(
        ws.next().await.unwrap(),
        json!({ "type": "connection_ack" })
    );
    ws.send(json!({
        "id": "1",
        "type": "subscribe",
        "payload": { "query": "{ viewer { role user { displayName } } }" },
    }))
    .await;

    assert_eq!(
        ws.next().await.unwrap(),
        json!({
            "id": "1",
            "type": "next",
            "payload": { "data": { "viewer": { "role": "YOUNG_PERSON", "user": { "displayName": "Elias Nilsson" } } } },
        })
    );
    assert_eq!(
        ws.next().await.unwrap(),
        json!({ "id": "1", "type": "complete" })
    );

    // The same connection without a token would be anonymous.
    let mut anonymous = app.websocket("graphql-transport-ws").await;
    anonymous
        .send(json!({ "type": "connection_init", "payload": {} }))
        .await;
    assert_eq!(anonymous.next().await.unwrap()["type"], "connection_ack");
    anonymous
        .send(json!({ "id": "a", "type": "subscribe", "payload": { "query": "{ viewer { role } }" } }))
        .await;
    let answer = anonymous.next().await.unwrap();
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    app.stop().await;
}

async fn legacy_graphql_ws_runs_operations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.login("guardian@exempelby.example").await;
    let mut ws = app.websocket("graphql-ws").await;

    ws.send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    ws.send(json!({ "id": "7", "type": "start", "payload": { "query": "{ viewer { role } }" } }))
        .await;

    let mut data = None;
    loop {
        let message = ws.next().await.unwrap();
        match message["type"].as_str() {
            Some("ka") => continue,
            Some("data") => data = Some(message["payload"].clone()),
            Some("complete") => break,
            other => panic!("unexpected message {other:?}: {message}"),
        }
    }
    assert_eq!(
        data,
        Some(json!({ "data": { "viewer": { "role": "GUARDIAN" } } }))
    );
    app.stop().await;
}

async fn an_invalid_token_in_connection_init_closes_the_connection(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut ws = app.websocket("graphql-transport-ws").await;

    ws.send(json!({ "type": "connection_init", "payload": { "accessToken": "forged" } }))
        .await;

    let (code, reason) = ws
        .next()
        .await
        .expect_err("the server closes the connection")
        .expect("with a close frame");
    assert_eq!(code, 1002);
    assert!(reason.contains("expired or revoked"), "{reason}");
    app.stop().await;
}

async fn signing_out_takes_effect_on_an_open_websocket_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.sign_in("guardian@exempelby.example").await;
    let mut ws = app.websocket("graphql-transport-ws").await;
    ws.send(json!({ "type": "connection_init", "payload": { "accessToken": tokens.access } }))
        .await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    let ask =
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ viewer { role } }" } });
    ws.send(ask.clone()).await;
    assert_eq!(
        ws.next().await.unwrap()["payload"]["data"]["viewer"]["role"],
        "GUARDIAN"
    );
    assert_eq!(ws.next().await.unwrap()["type"], "complete");

    app.graphql_as(
        &tokens.access,
        "mutation { logout { endedSessionCount } }",
        json!({}),
    )
    .await;

    let mut again = ask;
    again["id"] = json!("2");
    ws.send(again).await;
    let answer = ws.next().await.unwrap();
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{answer}"
    );
    app.stop().await;
}
