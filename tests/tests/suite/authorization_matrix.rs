//! The authorization matrix: every role, reading its own and others' objects, in
//! its own tenant and in another. Every new operation adds its rows here.

use api::demo::{DEMO_TENANT_ID, OTHER_TENANT_ID};
use integration_tests::{Backend, TestApp, global_id, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    node_visibility_follows_the_policy_for_every_role,
    operations_are_allowed_only_to_the_roles_the_policy_names,
    case_operations_follow_the_viewers_relation_to_the_case,
    conversations_follow_the_viewers_relation_over_http_and_websocket,
    contact_settings_notifications_and_devices_belong_to_their_user,
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

    // Ida Nilsson, a child of the demo case Anna works, has no login yet.
    let ida = global_id(
        "FamilyMember",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0003_0000_0003),
    );
    // Admin last: its successful deactivation must not change the earlier rows.
    let mut accounts: Vec<&(&str, &str, bool)> =
        ACCOUNTS.iter().filter(|a| a.1 != "ADMIN").collect();
    accounts.push(&ACCOUNTS[0]);
    for (n, (email, role, staff)) in accounts.iter().enumerate() {
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
                json!({ "input": { "email": format!("family{n}@family.example"), "familyMemberId": ida } }))
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

        // Closed days: staff read them, admins add and remove them.
        let date = format!("2031-01-{:02}", n + 10);
        let body = app
            .graphql_as(&token, "mutation($input: AddClosedDayInput!) { addClosedDay(input: $input) { userErrors { code } } }",
                json!({ "input": { "date": date, "name": "Matrix day" } }))
            .await;
        expect("addClosedDay", is("ADMIN"), &body, "addClosedDay");
        let body = app
            .graphql_as(&token, "mutation($input: RemoveClosedDayInput!) { removeClosedDay(input: $input) { userErrors { code } } }",
                json!({ "input": { "date": date } }))
            .await;
        expect("removeClosedDay", is("ADMIN"), &body, "removeClosedDay");
        let body = app
            .graphql_as(
                &token,
                "{ closedDays(from: \"2031-01-01\", to: \"2031-12-31\") { date } }",
                json!({}),
            )
            .await;
        assert_eq!(
            body["errors"].is_null(),
            *staff,
            "{role} closedDays: {body}"
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

/// Every relation to the demo Nilsson case, and what it may do there. Probes
/// change nothing: an allowed mutation gets a user error for its deliberately
/// bad input; a refused one `FORBIDDEN` (or `NOT_FOUND`, when the viewer may
/// not even see the case).
async fn case_operations_follow_the_viewers_relation_to_the_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let case = global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000),
    );
    let school = global_id(
        "Organisation",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0001_0002),
    );
    let anna = app.login("caseworker@exempelby.example").await;
    let anna_id = app
        .graphql_as(&anna, "{ viewer { user { id } } }", json!({}))
        .await["data"]["viewer"]["user"]["id"]
        .clone();

    // (who, relation, sees, categories, works the case, hands over, consents)
    type Row<'a> = (&'a str, &'a str, bool, &'a [&'a str], bool, bool, bool);
    let rows: &[Row] = &[
        (
            "caseworker@exempelby.example",
            "primary caseworker",
            true,
            &["GOALS", "APPOINTMENTS", "MESSAGES", "CASE_DETAILS"],
            true,
            true,
            false,
        ),
        (
            "partner@exempelby.example",
            "partner caseworker",
            true,
            &["GOALS", "APPOINTMENTS", "MESSAGES", "CASE_DETAILS"],
            true,
            false,
            false,
        ),
        (
            "therapist@exempelby.example",
            "family therapist",
            true,
            &["GOALS", "APPOINTMENTS", "MESSAGES", "CASE_DETAILS"],
            false,
            false,
            false,
        ),
        (
            "teamlead@exempelby.example",
            "team lead of the team",
            true,
            &["GOALS", "APPOINTMENTS", "MESSAGES", "CASE_DETAILS"],
            true,
            true,
            false,
        ),
        (
            "teamlead2@exempelby.example",
            "team lead of another team",
            false,
            &[],
            false,
            false,
            false,
        ),
        (
            "caseworker2@exempelby.example",
            "caseworker not on the case",
            false,
            &[],
            false,
            false,
            false,
        ),
        (
            "guardian@exempelby.example",
            "guardian of this case",
            true,
            &["GOALS", "APPOINTMENTS", "MESSAGES", "CASE_DETAILS"],
            false,
            false,
            true,
        ),
        (
            "guardian2@exempelby.example",
            "guardian of another case",
            false,
            &[],
            false,
            false,
            false,
        ),
        (
            "young@exempelby.example",
            "young person (may consent)",
            true,
            &["GOALS", "APPOINTMENTS", "MESSAGES", "CASE_DETAILS"],
            false,
            false,
            true,
        ),
        (
            "network@exempelby.example",
            "network member",
            true,
            &[],
            false,
            false,
            false,
        ),
        (
            "teacher@exempelby.example",
            "school, consent for goals and appointments",
            true,
            &["GOALS", "APPOINTMENTS"],
            false,
            false,
            false,
        ),
        (
            "bup@exempelby.example",
            "child psychiatry, consent incl. messages",
            true,
            &["GOALS", "APPOINTMENTS", "MESSAGES"],
            false,
            false,
            false,
        ),
        (
            "admin@exempelby.example",
            "admin (no case content)",
            false,
            &[],
            false,
            false,
            false,
        ),
        (
            "caseworker@grannby.example",
            "caseworker of another tenant",
            false,
            &[],
            false,
            false,
            false,
        ),
    ];
    // Goals to probe: one for the care team, one private to the young person.
    let goal_input = |title: &str, visibility: &str| {
        json!({ "input": { "caseId": case, "title": title, "description": "d", "horizon": "SHORT_TERM",
                           "owner": "SHARED", "visibility": visibility, "activate": true } })
    };
    const CREATE_GOAL: &str = "mutation($input: CreateGoalInput!) { createGoal(input: $input) { goal { id } userErrors { code } } }";
    let care_team_goal = app
        .graphql_as(
            &anna,
            CREATE_GOAL,
            goal_input("Care team goal", "CARE_TEAM"),
        )
        .await["data"]["createGoal"]["goal"]["id"]
        .clone();
    let private_goal = app
        .graphql_as(
            &anna,
            CREATE_GOAL,
            goal_input("Private goal", "YOUNG_PERSON"),
        )
        .await["data"]["createGoal"]["goal"]["id"]
        .clone();
    // A family conversation (staff and the guardians take part).
    let family_conversation = app
        .graphql_as(&anna, "mutation($input: StartConversationInput!) { startConversation(input: $input) { conversation { id } } }",
            json!({ "input": { "caseId": case, "kind": "FAMILY" } }))
        .await["data"]["startConversation"]["conversation"]["id"]
        .clone();
    let refused = |body: &Value| {
        matches!(
            body["errors"][0]["extensions"]["code"].as_str(),
            Some("FORBIDDEN") | Some("NOT_FOUND")
        )
    };
    for (email, relation, sees, categories, works, hands_over, consents) in rows {
        let token = app.login(email).await;
        let row = |what: &str| format!("{relation} ({email}): {what}");

        let read = app
            .graphql_as(
                &token,
                "query($id: ID!) { case(id: $id) { viewerCategories } }",
                json!({ "id": case }),
            )
            .await;
        if *sees {
            assert_eq!(
                read["data"]["case"]["viewerCategories"],
                json!(categories),
                "{}",
                row("categories")
            );
        } else {
            assert_eq!(
                read["errors"][0]["extensions"]["code"],
                "NOT_FOUND",
                "{}",
                row("read")
            );
        }
        let listed = app
            .graphql_as(
                &token,
                "{ cases(first: 100) { edges { node { id } } } }",
                json!({}),
            )
            .await;
        let in_list = listed["data"]["cases"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]["id"] == case);
        assert_eq!(in_list, *sees, "{}", row("listed"));

        let family_asks =
            *email == "guardian@exempelby.example" || *email == "young@exempelby.example";
        let manages_goals = [
            "caseworker@exempelby.example",
            "partner@exempelby.example",
            "therapist@exempelby.example",
            "teamlead@exempelby.example",
        ]
        .contains(email);
        let sees_care_team_goal = manages_goals
            || family_asks
            || ["teacher@exempelby.example", "bup@exempelby.example"].contains(email);
        let sees_private_goal = manages_goals || *email == "young@exempelby.example";
        let private = app
            .graphql_as(
                &token,
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": private_goal }),
            )
            .await;
        assert_eq!(
            private["data"]["node"].is_object(),
            sees_private_goal,
            "{}",
            row("the young person's private goal")
        );
        let in_family_conversation = manages_goals || *email == "guardian@exempelby.example";
        let probes: [(&str, &str, Value, &str, bool); 19] = [
            (
                "startConversation",
                "mutation($input: StartConversationInput!) { startConversation(input: $input) { userErrors { code } } }",
                json!({ "caseId": case, "kind": "CARE_TEAM", "title": "t".repeat(201) }),
                "TOO_LONG",
                manages_goals,
            ),
            (
                "sendMessage",
                "mutation($input: SendMessageInput!) { sendMessage(input: $input) { userErrors { code } } }",
                json!({ "conversationId": family_conversation, "clientMessageId": format!("matrix-{email}"), "body": " " }),
                "REQUIRED",
                in_family_conversation,
            ),
            (
                "updateGoal",
                "mutation($input: UpdateGoalInput!) { updateGoal(input: $input) { userErrors { code } } }",
                json!({ "goalId": care_team_goal, "version": -1, "title": "x" }),
                "STALE_VERSION",
                manages_goals,
            ),
            (
                "recordSafetyAssessment",
                "mutation($input: RecordSafetyAssessmentInput!) { recordSafetyAssessment(input: $input) { userErrors { code } } }",
                json!({ "caseId": case, "assessedOn": "2026-01-01", "perspective": "FAMILY", "worries": [], "workingWell": [], "needsToHappen": [], "scale": 11 }),
                "INVALID_VALUE",
                manages_goals,
            ),
            (
                "addFamilyStrength",
                "mutation($input: AddFamilyStrengthInput!) { addFamilyStrength(input: $input) { userErrors { code } } }",
                json!({ "caseId": case, "description": "" }),
                "REQUIRED",
                manages_goals || family_asks,
            ),
            (
                "createGoal",
                CREATE_GOAL,
                json!({ "caseId": case, "title": "", "description": "d", "horizon": "SHORT_TERM", "owner": "FAMILY" }),
                "REQUIRED",
                manages_goals || family_asks,
            ),
            (
                "changeGoalStatus",
                "mutation($input: ChangeGoalStatusInput!) { changeGoalStatus(input: $input) { userErrors { code } } }",
                json!({ "goalId": care_team_goal, "status": "ON_HOLD", "reason": "" }),
                "REQUIRED",
                manages_goals,
            ),
            (
                "addGoalStep",
                "mutation($input: AddGoalStepInput!) { addGoalStep(input: $input) { userErrors { code } } }",
                json!({ "goalId": care_team_goal, "description": "", "userId": anna_id }),
                "REQUIRED",
                manages_goals,
            ),
            (
                "addGoalProgress",
                "mutation($input: AddGoalProgressInput!) { addGoalProgress(input: $input) { userErrors { code } } }",
                json!({ "goalId": care_team_goal, "note": "" }),
                "REQUIRED",
                sees_care_team_goal,
            ),
            (
                "recordFollowUp",
                "mutation($input: RecordFollowUpInput!) { recordFollowUp(input: $input) { userErrors { code } } }",
                json!({ "caseId": case, "heldOn": chrono::Utc::now().date_naive().pred_opt().unwrap().to_string(), "participants": [], "ratings": [] }),
                "REQUIRED",
                *works,
            ),
            (
                "setFamilyTherapists",
                "mutation($input: SetFamilyTherapistsInput!) { setFamilyTherapists(input: $input) { userErrors { code } } }",
                json!({ "caseId": case, "therapistIds": [anna_id] }),
                "INVALID_VALUE",
                *hands_over,
            ),
            (
                "startCoordinatedPlan",
                "mutation($input: StartCoordinatedPlanInput!) { startCoordinatedPlan(input: $input) { userErrors { code } } }",
                json!({ "caseId": case, "initiatingOrganisationId": school, "initiatedOn": "2099-01-01" }),
                "INVALID_VALUE",
                *works,
            ),
            (
                "updateCase",
                "mutation($input: UpdateCaseInput!) { updateCase(input: $input) { userErrors { code } } }",
                json!({ "caseId": case, "version": -1 }),
                "STALE_VERSION",
                *works,
            ),
            (
                "closeCase",
                "mutation($input: CloseCaseInput!) { closeCase(input: $input) { userErrors { code } } }",
                json!({ "caseId": case, "reason": "" }),
                "REQUIRED",
                *works,
            ),
            (
                "handOverCase",
                "mutation($input: HandOverCaseInput!) { handOverCase(input: $input) { userErrors { code } } }",
                json!({ "caseId": case, "toCaseworkerId": anna_id, "handoverNote": "" }),
                "REQUIRED",
                *hands_over,
            ),
            (
                "setPartnerCaseworker",
                "mutation($input: SetPartnerCaseworkerInput!) { setPartnerCaseworker(input: $input) { userErrors { code } } }",
                json!({ "caseId": case, "partnerCaseworkerId": anna_id }),
                "INVALID_VALUE",
                *hands_over,
            ),
            (
                "addFamilyMember",
                "mutation($input: AddFamilyMemberInput!) { addFamilyMember(input: $input) { userErrors { code } } }",
                json!({ "caseId": case, "member": { "kind": "CHILD", "displayName": "X", "dateOfBirth": "2099-01-01" } }),
                "INVALID_VALUE",
                *works,
            ),
            (
                "requestCaseworkerChange",
                "mutation($input: RequestCaseworkerChangeInput!) { requestCaseworkerChange(input: $input) { userErrors { code } } }",
                json!({ "caseId": case, "reason": "" }),
                "REQUIRED",
                family_asks,
            ),
            (
                "grantConsent",
                "mutation($input: GrantConsentInput!) { grantConsent(input: $input) { userErrors { code } } }",
                json!({ "caseId": case, "organisationId": school, "categories": [] }),
                "REQUIRED",
                *consents,
            ),
        ];
        for (operation, query, input, user_error, allowed) in probes {
            let body = app
                .graphql_as(&token, query, json!({ "input": input }))
                .await;
            if allowed {
                assert_eq!(
                    body["data"][operation]["userErrors"][0]["code"],
                    user_error,
                    "{}",
                    row(&format!("{operation} allowed: {body}"))
                );
            } else {
                assert!(
                    refused(&body),
                    "{}",
                    row(&format!("{operation} refused: {body}"))
                );
            }
        }
    }
    app.stop().await;
}

/// Every relation to the demo Nilsson case × each kind of conversation:
/// reading, sending, marking read, and subscribing over WebSocket. Allowed
/// probes get a user error for deliberately bad input (nothing changes);
/// refused ones `NOT_FOUND`, as if the conversation did not exist.
async fn conversations_follow_the_viewers_relation_over_http_and_websocket(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let case = global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000),
    );
    let anna = app.login("caseworker@exempelby.example").await;
    let mut conversations = Vec::new();
    for kind in ["FAMILY", "YOUNG_PERSON", "CARE_TEAM"] {
        let id = app
            .graphql_as(&anna, "mutation($input: StartConversationInput!) { startConversation(input: $input) { conversation { id } } }",
                json!({ "input": { "caseId": case, "kind": kind } }))
            .await["data"]["startConversation"]["conversation"]["id"]
            .clone();
        app.graphql_as(&anna, "mutation($input: SendMessageInput!) { sendMessage(input: $input) { userErrors { code } } }",
            json!({ "input": { "conversationId": id, "clientMessageId": format!("matrix-{kind}"), "body": "Hello" } }))
            .await;
        conversations.push((kind, id));
    }
    use base64::Engine;
    let from_start = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("seq:0");
    let beyond = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("seq:99");
    // (who, relation, family conversation, young person's, care team)
    let rows: &[(&str, &str, bool, bool, bool)] = &[
        (
            "caseworker@exempelby.example",
            "primary caseworker",
            true,
            true,
            true,
        ),
        (
            "partner@exempelby.example",
            "partner caseworker",
            true,
            true,
            true,
        ),
        (
            "therapist@exempelby.example",
            "family therapist",
            true,
            false,
            true,
        ),
        (
            "teamlead@exempelby.example",
            "team lead of the team",
            true,
            true,
            true,
        ),
        (
            "teamlead2@exempelby.example",
            "team lead of another team",
            false,
            false,
            false,
        ),
        (
            "caseworker2@exempelby.example",
            "caseworker not on the case",
            false,
            false,
            false,
        ),
        (
            "guardian@exempelby.example",
            "guardian of the case",
            true,
            false,
            false,
        ),
        (
            "guardian2@exempelby.example",
            "guardian of another case",
            false,
            false,
            false,
        ),
        (
            "young@exempelby.example",
            "young person",
            false,
            true,
            false,
        ),
        (
            "network@exempelby.example",
            "network member",
            false,
            false,
            false,
        ),
        (
            "teacher@exempelby.example",
            "school without MESSAGES consent",
            false,
            false,
            false,
        ),
        (
            "bup@exempelby.example",
            "child psychiatry with MESSAGES consent",
            false,
            false,
            true,
        ),
        ("admin@exempelby.example", "admin", false, false, false),
        (
            "caseworker@grannby.example",
            "caseworker of another tenant",
            false,
            false,
            false,
        ),
    ];
    for (email, relation, family, private, care_team) in rows {
        let token = app.login(email).await;
        for ((kind, conversation), allowed) in
            conversations.iter().zip([family, private, care_team])
        {
            let row = |what: &str| format!("{relation} ({email}), {kind} conversation: {what}");
            let read = app
                .graphql_as(&token, "query($id: ID!) { messages(conversationId: $id, first: 5) { edges { node { body } } } }",
                    json!({ "id": conversation }))
                .await;
            let marked = app
                .graphql_as(&token, "mutation($input: MarkConversationReadInput!) { markConversationRead(input: $input) { userErrors { code } } }",
                    json!({ "input": { "conversationId": conversation, "upTo": beyond } }))
                .await;
            let sent = app
                .graphql_as(&token, "mutation($input: SendMessageInput!) { sendMessage(input: $input) { userErrors { code } } }",
                    json!({ "input": { "conversationId": conversation, "clientMessageId": format!("probe-{kind}"), "body": "" } }))
                .await;
            let mut ws = app.websocket("graphql-transport-ws").await;
            ws.send(json!({ "type": "connection_init", "payload": { "accessToken": token } }))
                .await;
            assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
            ws.send(json!({ "id": "s", "type": "subscribe", "payload": {
                "query": "subscription($id: ID!, $after: String) { messageAdded(conversationId: $id, after: $after) { body } }",
                "variables": { "id": conversation, "after": from_start } } })).await;
            let frame = ws.next().await.unwrap();
            if *allowed {
                assert_eq!(
                    read["data"]["messages"]["edges"][0]["node"]["body"],
                    "Hello",
                    "{}",
                    row(&format!("read {read}"))
                );
                assert_eq!(
                    marked["data"]["markConversationRead"]["userErrors"][0]["code"],
                    "INVALID_VALUE",
                    "{}",
                    row(&format!("mark read {marked}"))
                );
                assert_eq!(
                    sent["data"]["sendMessage"]["userErrors"][0]["code"],
                    "REQUIRED",
                    "{}",
                    row(&format!("send {sent}"))
                );
                assert_eq!(
                    frame["payload"]["data"]["messageAdded"]["body"],
                    "Hello",
                    "{}",
                    row(&format!("subscribe {frame}"))
                );
            } else {
                for (what, body) in [("read", &read), ("mark read", &marked), ("send", &sent)] {
                    assert_eq!(
                        body["errors"][0]["extensions"]["code"],
                        "NOT_FOUND",
                        "{}",
                        row(&format!("{what} {body}"))
                    );
                }
                assert_eq!(
                    frame["payload"]["errors"][0]["extensions"]["code"],
                    "NOT_FOUND",
                    "{}",
                    row(&format!("subscribe {frame}"))
                );
            }
        }
    }
    app.stop().await;
}

/// Contact settings, notifications and push devices are the signed-in user's
/// own: every role may manage its own, nobody reaches anyone else's (in this
/// tenant or another), and only the staff families write to may mark
/// themselves away.
async fn contact_settings_notifications_and_devices_belong_to_their_user(backend: Backend) {
    let gateway = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway_url = format!("http://{}/push", gateway.local_addr().unwrap());
    let url = gateway_url.clone();
    let app = TestApp::spawn_with(backend, |config| config.push_gateway_url = Some(url)).await;
    // Someone's notification and device to try to reach: Sara's.
    let anna = app.login("caseworker@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;
    let case = global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000),
    );
    let conversation = app
        .graphql_as(&anna, "mutation($input: StartConversationInput!) { startConversation(input: $input) { conversation { id } } }",
            json!({ "input": { "caseId": case, "kind": "FAMILY" } }))
        .await["data"]["startConversation"]["conversation"]["id"]
        .clone();
    app.graphql_as(&anna, "mutation($input: SendMessageInput!) { sendMessage(input: $input) { userErrors { code } } }",
        json!({ "input": { "conversationId": conversation, "clientMessageId": "m1", "body": "Hello" } }))
        .await;
    let saras_notification = app
        .graphql_as(
            &sara,
            "{ notifications(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await["data"]["notifications"]["edges"][0]["node"]["id"]
        .clone();
    assert!(saras_notification.is_string());
    let saras_device = app
        .graphql_as(&sara, "mutation($input: RegisterPushDeviceInput!) { registerPushDevice(input: $input) { device { id } } }",
            json!({ "input": { "platform": "IOS", "token": "saras-token" } }))
        .await["data"]["registerPushDevice"]["device"]["id"]
        .clone();
    assert!(saras_device.is_string());

    let mut accounts: Vec<(&str, &str)> = ACCOUNTS.iter().map(|(e, r, _)| (*e, *r)).collect();
    accounts.push(("caseworker@grannby.example", "CASEWORKER (another tenant)"));
    for (email, role) in accounts {
        let token = app.login(email).await;
        let row = |what: &str| format!("{role} ({email}): {what}");
        let own_feed = app
            .graphql_as(&token, "{ notifications(first: 5) { edges { cursor } } viewer { unreadMessageCount unreadNotificationCount contactSettings { sendReadReceipts } pushDevices { id } } }", json!({}))
            .await;
        assert!(
            own_feed["errors"].is_null(),
            "{}",
            row(&format!("own feed and settings {own_feed}"))
        );
        let settings = app
            .graphql_as(&token, "mutation($input: UpdateContactSettingsInput!) { updateContactSettings(input: $input) { userErrors { code } } }",
                json!({ "input": { "quietHours": { "start": "nine", "end": "08:00" } } }))
            .await;
        assert_eq!(
            settings["data"]["updateContactSettings"]["userErrors"][0]["code"],
            "INVALID_FORMAT",
            "{}",
            row("updateContactSettings")
        );
        let away = app
            .graphql_as(&token, "mutation($input: SetAwayPeriodInput!) { setAwayPeriod(input: $input) { userErrors { code } } }",
                json!({ "input": { "until": "2020-01-01T00:00:00Z" } }))
            .await;
        let may_be_away = ["CASEWORKER", "TEAM_LEAD", "FAMILY_THERAPIST"].contains(&role)
            || role.starts_with("CASEWORKER");
        if may_be_away {
            assert_eq!(
                away["data"]["setAwayPeriod"]["userErrors"][0]["code"],
                "INVALID_VALUE",
                "{}",
                row("setAwayPeriod")
            );
        } else {
            assert_eq!(
                away["errors"][0]["extensions"]["code"],
                "FORBIDDEN",
                "{}",
                row(&format!("setAwayPeriod {away}"))
            );
        }
        let device = app
            .graphql_as(&token, "mutation($input: RegisterPushDeviceInput!) { registerPushDevice(input: $input) { userErrors { code } } }",
                json!({ "input": { "platform": "ANDROID", "token": " " } }))
            .await;
        assert_eq!(
            device["data"]["registerPushDevice"]["userErrors"][0]["code"],
            "INVALID_VALUE",
            "{}",
            row("registerPushDevice")
        );
        if email == "guardian@exempelby.example" {
            continue;
        }
        // Sara's notification and device are out of reach.
        let node = app
            .graphql_as(
                &token,
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": saras_notification }),
            )
            .await;
        assert_eq!(
            node["errors"][0]["extensions"]["code"],
            "NOT_FOUND",
            "{}",
            row("someone's notification")
        );
        let node = app
            .graphql_as(
                &token,
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": saras_device }),
            )
            .await;
        assert_eq!(
            node["errors"][0]["extensions"]["code"],
            "NOT_FOUND",
            "{}",
            row("someone's device")
        );
        let mark = app
            .graphql_as(&token, "mutation($input: MarkNotificationsReadInput!) { markNotificationsRead(input: $input) { unreadNotificationCount } }",
                json!({ "input": { "notificationIds": [saras_notification] } }))
            .await;
        assert_eq!(
            mark["errors"][0]["extensions"]["code"],
            "NOT_FOUND",
            "{}",
            row("markNotificationsRead of someone's")
        );
        let unregister = app
            .graphql_as(&token, "mutation($input: UnregisterPushDeviceInput!) { unregisterPushDevice(input: $input) { device { active } } }",
                json!({ "input": { "deviceId": saras_device } }))
            .await;
        assert_eq!(
            unregister["errors"][0]["extensions"]["code"],
            "NOT_FOUND",
            "{}",
            row("unregisterPushDevice of someone's")
        );
    }
    // Sara's notification is still unread, her device still registered.
    let mine = app
        .graphql_as(
            &sara,
            "{ viewer { unreadNotificationCount pushDevices { id } } }",
            json!({}),
        )
        .await;
    assert!(
        mine["data"]["viewer"]["unreadNotificationCount"]
            .as_u64()
            .unwrap()
            >= 1,
        "{mine}"
    );
    assert_eq!(
        mine["data"]["viewer"]["pushDevices"],
        json!([{ "id": saras_device }])
    );
    drop(gateway);
    app.stop().await;
}
