//! The authorization matrix: every role, reading its own and others' objects, in
//! its own tenant and in another. Every new operation adds its rows here.

use api::demo::{DEMO_TENANT_ID, OTHER_TENANT_ID};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use integration_tests::{Backend, TestApp, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(node_visibility_follows_the_policy_for_every_role);

/// Every demo account: (e-mail, role, staff?).
const ACCOUNTS: &[(&str, &str, bool)] = &[
    ("admin@exempelby.example", "ADMIN", true),
    ("teamlead@exempelby.example", "TEAM_LEAD", true),
    ("caseworker@exempelby.example", "CASEWORKER", true),
    ("therapist@exempelby.example", "FAMILY_THERAPIST", true),
    ("teacher@exempelby.example", "AGENCY_PROFESSIONAL", true),
    ("guardian@exempelby.example", "GUARDIAN", false),
    ("young@exempelby.example", "YOUNG_PERSON", false),
    ("network@exempelby.example", "NETWORK_MEMBER", false),
];

fn global_id(kind: &str, uuid: uuid::Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{uuid}"))
}

async fn node(app: &TestApp, token: &str, id: &str) -> Value {
    app.graphql_as(
        token,
        "query($id: ID!) { node(id: $id) { __typename id } }",
        json!({ "id": id }),
    )
    .await
}

fn visible(body: &Value) -> bool {
    if body["data"]["node"].is_object() {
        return true;
    }
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "a refusal looks like absence: {body}"
    );
    false
}

async fn node_visibility_follows_the_policy_for_every_role(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let own_tenant = global_id("Tenant", DEMO_TENANT_ID);
    let other_tenant = global_id("Tenant", OTHER_TENANT_ID);

    // Ids and a session of the people the matrix reads about.
    let mut ids = Vec::new();
    for (email, _, _) in ACCOUNTS {
        let token = app.login(email).await;
        let me = app
            .graphql_as(
                &token,
                "{ viewer { user { id } sessions { id } } }",
                json!({}),
            )
            .await;
        ids.push((
            token,
            me["data"]["viewer"]["user"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
            me["data"]["viewer"]["sessions"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        ));
    }
    let other_tenant_token = app.login("caseworker@grannby.example").await;
    let other_tenant_user = app
        .graphql_as(&other_tenant_token, "{ viewer { user { id } } }", json!({}))
        .await["data"]["viewer"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    for (i, (email, role, staff)) in ACCOUNTS.iter().enumerate() {
        let (token, own_user, own_session) = &ids[i];
        let row = |what: &str| format!("{role} ({email}) reading {what}");

        assert!(
            visible(&node(&app, token, &own_tenant).await),
            "{}",
            row("own tenant")
        );
        assert!(
            !visible(&node(&app, token, &other_tenant).await),
            "{}",
            row("other tenant")
        );
        assert!(
            visible(&node(&app, token, own_user).await),
            "{}",
            row("own user")
        );
        assert!(
            visible(&node(&app, token, own_session).await),
            "{}",
            row("own session")
        );
        assert!(
            !visible(&node(&app, token, &other_tenant_user).await),
            "{}",
            row("a user of another tenant")
        );

        for (j, (other_email, other_role, other_staff)) in ACCOUNTS.iter().enumerate() {
            if i == j {
                continue;
            }
            let (_, other_user, other_session) = &ids[j];
            // Staff see colleagues; admins see every account of their tenant.
            let expected = (*staff && *other_staff) || *role == "ADMIN";
            assert_eq!(
                visible(&node(&app, token, other_user).await),
                expected,
                "{}",
                row(&format!("the user {other_role} ({other_email})"))
            );
            assert!(
                !visible(&node(&app, token, other_session).await),
                "{}",
                row(&format!("a session of {other_role}"))
            );
        }
    }

    // Another tenant's staff sees none of this tenant.
    for (_, user, session) in &ids {
        assert!(!visible(&node(&app, &other_tenant_token, user).await));
        assert!(!visible(&node(&app, &other_tenant_token, session).await));
    }
    assert!(!visible(
        &node(&app, &other_tenant_token, &own_tenant).await
    ));
    app.stop().await;
}
