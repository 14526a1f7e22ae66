//! Signing in, the viewer and its sessions.

use integration_tests::{Backend, DEMO_PASSWORD, TestApp, first_error_code, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    a_guardian_signs_in_and_sees_herself_her_tenant_and_her_device,
    wrong_password_and_unknown_account_get_the_same_answer,
    viewer_without_a_token_is_unauthenticated,
    node_and_nodes_without_a_token_are_unauthenticated,
    a_forged_or_garbled_token_is_unauthenticated,
    email_addresses_are_visible_only_to_their_owner,
);

const LOGIN: &str = "mutation($input: LoginInput!) {
  login(input: $input) {
    tokens { accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt }
    viewer { role user { displayName } }
    userErrors { code message field }
  }
}";

async fn login(app: &TestApp, email: &str, password: &str) -> Value {
    app.graphql(
        LOGIN,
        json!({ "input": { "email": email, "password": password, "deviceLabel": "Sara's phone" } }),
    )
    .await
}

async fn a_guardian_signs_in_and_sees_herself_her_tenant_and_her_device(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    // E-mail addresses are matched without regard to case or surrounding blanks.
    let body = login(&app, "  Guardian@Exempelby.example ", DEMO_PASSWORD).await;

    let payload = &body["data"]["login"];
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["viewer"]["role"], "GUARDIAN");
    assert_eq!(payload["viewer"]["user"]["displayName"], "Sara Nilsson");
    let token = payload["tokens"]["accessToken"]
        .as_str()
        .expect("an access token");
    assert!(payload["tokens"]["refreshToken"].as_str().unwrap().len() >= 43);

    let viewer = app
        .graphql_as(
            token,
            "{ viewer { role tenant { name timeZone } sessions { deviceLabel current } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        viewer["data"]["viewer"],
        json!({
            "role": "GUARDIAN",
            "tenant": { "name": "Exempelby kommun", "timeZone": "Europe/Stockholm" },
            "sessions": [{ "deviceLabel": "Sara's phone", "current": true }],
        })
    );
    app.stop().await;
}

async fn wrong_password_and_unknown_account_get_the_same_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let wrong_password = login(&app, "guardian@exempelby.example", "not-the-password").await;
    let unknown_account = login(&app, "nobody@exempelby.example", DEMO_PASSWORD).await;

    let expected = json!({
        "tokens": null,
        "viewer": null,
        "userErrors": [{
            "code": "INVALID_CREDENTIALS",
            "message": "The e-mail address or the password is wrong.",
            "field": null,
        }],
    });
    assert_eq!(wrong_password["data"]["login"], expected);
    assert_eq!(unknown_account["data"]["login"], expected);

    let empty = login(&app, "  ", DEMO_PASSWORD).await;
    assert_eq!(empty["data"]["login"]["userErrors"][0]["code"], "REQUIRED");
    assert_eq!(
        empty["data"]["login"]["userErrors"][0]["field"],
        json!(["input", "email"])
    );
    app.stop().await;
}

async fn viewer_without_a_token_is_unauthenticated(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let body = app.graphql("{ viewer { role } }", json!({})).await;

    assert_eq!(first_error_code(&body), Some("UNAUTHENTICATED"));
    assert_eq!(body["data"], Value::Null);
    app.stop().await;
}

async fn node_and_nodes_without_a_token_are_unauthenticated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.login("guardian@exempelby.example").await;
    let me = app
        .graphql_as(&token, "{ viewer { user { id } } }", json!({}))
        .await;
    let id = me["data"]["viewer"]["user"]["id"].clone();
    let signed_in = app
        .graphql_as(
            &token,
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [id.clone()] }),
        )
        .await;
    assert_eq!(
        signed_in["data"]["nodes"],
        json!([{ "id": id }]),
        "{signed_in}"
    );

    let node = app
        .graphql(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    let nodes = app
        .graphql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [id, "not-an-id"] }),
        )
        .await;

    assert_eq!(first_error_code(&node), Some("UNAUTHENTICATED"), "{node}");
    assert_eq!(first_error_code(&nodes), Some("UNAUTHENTICATED"), "{nodes}");
    assert_eq!(nodes["data"], Value::Null, "{nodes}");
    app.stop().await;
}

async fn a_forged_or_garbled_token_is_unauthenticated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let real = app.login("caseworker@exempelby.example").await;
    // Flip one character of the signature.
    let mut forged = real.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });

    for token in [forged.as_str(), "garbage", ""] {
        let body = app
            .graphql_as(token, "{ viewer { role } }", json!({}))
            .await;
        assert_eq!(first_error_code(&body), Some("UNAUTHENTICATED"), "{token}");
    }
    let body = app
        .graphql_as(&real, "{ viewer { role } }", json!({}))
        .await;
    assert_eq!(body["data"]["viewer"]["role"], "CASEWORKER");
    app.stop().await;
}

async fn email_addresses_are_visible_only_to_their_owner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let caseworker = app.login("caseworker@exempelby.example").await;
    let colleague = app.login("partner@exempelby.example").await;
    let own = app
        .graphql_as(&caseworker, "{ viewer { user { id email } } }", json!({}))
        .await;
    let id = own["data"]["viewer"]["user"]["id"].clone();
    assert_eq!(
        own["data"]["viewer"]["user"]["email"],
        "caseworker@exempelby.example"
    );

    let seen_by_colleague = app
        .graphql_as(
            &colleague,
            "query($id: ID!) { node(id: $id) { ... on User { displayName email } } }",
            json!({ "id": id }),
        )
        .await;

    assert_eq!(
        seen_by_colleague["data"]["node"],
        json!({ "displayName": "Anna Berg", "email": null })
    );
    app.stop().await;
}
