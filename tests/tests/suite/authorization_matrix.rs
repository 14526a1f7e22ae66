//! The authorization matrix: every role, reading its own and others' objects, in
//! its own tenant and in another. Every new operation adds its rows here.

use api::demo::{DEMO_TENANT_ID, OTHER_TENANT_ID};
use integration_tests::{Backend, TestApp, global_id, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    node_visibility_follows_the_policy_for_every_role,
    operations_are_allowed_only_to_the_roles_the_policy_names,
);

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

/// Whether a response is a refusal (`FORBIDDEN`, or `NOT_FOUND` for what the
/// viewer may not even see) rather than data.
fn outcome(body: &Value, payload: &str) -> &'static str {
    match body["errors"][0]["extensions"]["code"].as_str() {
        Some("FORBIDDEN") | Some("NOT_FOUND") => "refused",
        Some(other) => panic!("unexpected error {other}: {body}"),
        None if body["data"][payload]["userErrors"] == json!([]) => "allowed",
        None if body["data"][payload]["edges"].is_array() => "allowed",
        None => panic!("neither allowed nor refused: {body}"),
    }
}

/// (operation, role) → allowed or refused, in the viewer's own tenant and
/// against another tenant's objects.
async fn operations_are_allowed_only_to_the_roles_the_policy_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.login("admin@exempelby.example").await;
    let own_org = global_id(
        "Organisation",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0001_0001),
    );
    // Objects to act on: an invitation by the admin, a family account of this
    // tenant, and an account of another tenant.
    let invitation = app
        .graphql_as(&admin, "mutation($input: InviteStaffInput!) { inviteStaff(input: $input) { invitation { id } } }",
            json!({ "input": { "email": "matrix@exempelby.example", "displayName": "M", "role": "CASEWORKER", "organisationId": own_org } }))
        .await["data"]["inviteStaff"]["invitation"]["id"]
        .clone();
    let guardian2 = app.login("guardian2@exempelby.example").await;
    let own_tenant_family_user = app
        .graphql_as(&guardian2, "{ viewer { user { id } } }", json!({}))
        .await["data"]["viewer"]["user"]["id"]
        .clone();
    let grannby = app.login("caseworker@grannby.example").await;
    let other_tenant_user = app
        .graphql_as(&grannby, "{ viewer { user { id } } }", json!({}))
        .await["data"]["viewer"]["user"]["id"]
        .clone();

    // Admin last: its successful deactivation must not change the earlier rows.
    let mut accounts: Vec<&(&str, &str, bool)> =
        ACCOUNTS.iter().filter(|a| a.1 != "ADMIN").collect();
    accounts.push(&ACCOUNTS[0]);
    for (n, (email, role, _)) in accounts.iter().enumerate() {
        let token = app.login(email).await;
        let expect = |operation: &str, allowed: bool, body: &Value, payload: &str| {
            assert_eq!(
                outcome(body, payload),
                if allowed { "allowed" } else { "refused" },
                "{role} {operation}: {body}"
            );
        };
        let is = |r: &str| *role == r;

        let body = app
            .graphql_as(
                &token,
                "{ auditTrail(first: 1) { edges { cursor } } }",
                json!({}),
            )
            .await;
        expect("auditTrail (own tenant)", is("ADMIN"), &body, "auditTrail");

        let body = app
            .graphql_as(&token, "mutation($input: InviteStaffInput!) { inviteStaff(input: $input) { userErrors { code } } }",
                json!({ "input": { "email": format!("staff{n}@exempelby.example"), "displayName": "S", "role": "CASEWORKER", "organisationId": own_org } }))
            .await;
        expect("inviteStaff", is("ADMIN"), &body, "inviteStaff");

        let body = app
            .graphql_as(&token, "mutation($input: InviteFamilyMemberInput!) { inviteFamilyMember(input: $input) { userErrors { code } } }",
                json!({ "input": { "email": format!("family{n}@family.example"), "displayName": "F", "role": "GUARDIAN" } }))
            .await;
        expect(
            "inviteFamilyMember",
            is("CASEWORKER") || is("TEAM_LEAD"),
            &body,
            "inviteFamilyMember",
        );

        let body = app
            .graphql_as(&token, "mutation($input: RevokeInvitationInput!) { revokeInvitation(input: $input) { userErrors { code } } }",
                json!({ "input": { "invitationId": invitation } }))
            .await;
        expect(
            "revokeInvitation (someone else's invitation)",
            is("ADMIN"),
            &body,
            "revokeInvitation",
        );

        const DEACTIVATE: &str = "mutation($input: DeactivateUserInput!) { deactivateUser(input: $input) { userErrors { code } } }";
        let body = app
            .graphql_as(
                &token,
                DEACTIVATE,
                json!({ "input": { "userId": other_tenant_user } }),
            )
            .await;
        expect(
            "deactivateUser (another tenant)",
            false,
            &body,
            "deactivateUser",
        );
        let body = app
            .graphql_as(
                &token,
                DEACTIVATE,
                json!({ "input": { "userId": own_tenant_family_user } }),
            )
            .await;
        expect(
            "deactivateUser (own tenant)",
            is("ADMIN"),
            &body,
            "deactivateUser",
        );
    }
    app.stop().await;
}
