//! Invitations: staff by admins, family members by caseworkers; single use,
//! expiring, revocable, throttled; and the bootstrap command.

use integration_tests::{
    Backend, TestApp, TestDatabase, api_binary, first_error_code, global_id, on_both_backends,
    open_family_case, process, tokens_of,
};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

on_both_backends!(
    an_admin_invites_a_caseworker_who_accepts_once_and_is_signed_in,
    a_caseworker_invites_a_guardian_but_a_guardian_cannot_invite,
    bad_invitations_get_user_errors_and_create_nothing,
    revoked_expired_and_unknown_codes_are_refused_alike_and_throttled,
    bootstrap_creates_a_tenant_whose_first_admin_accepts_the_printed_code,
);

const INVITE_STAFF: &str = "mutation($input: InviteStaffInput!) { inviteStaff(input: $input) {
    invitation { id email role status expiresAt } code userErrors { code field message } } }";
const INVITE_FAMILY: &str =
    "mutation($input: InviteFamilyMemberInput!) { inviteFamilyMember(input: $input) {
    invitation { id role status displayName } code userErrors { code field } } }";
const ACCEPT: &str = "mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) {
    tokens { accessToken refreshToken } viewer { role user { displayName } } userErrors { code field } } }";
const SOCIAL_SERVICES: u128 = 0x0193_0000_0000_7000_8000_0000_0001_0001;
const SCHOOL: u128 = 0x0193_0000_0000_7000_8000_0000_0001_0002;

fn organisation(id: u128) -> String {
    global_id("Organisation", uuid::Uuid::from_u128(id))
}

async fn accept(app: &TestApp, code: &str, password: &str) -> Value {
    app.graphql(
        ACCEPT,
        json!({ "input": { "code": code, "password": password, "deviceLabel": "new phone" } }),
    )
    .await
}

async fn an_admin_invites_a_caseworker_who_accepts_once_and_is_signed_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@exempelby.example").await;

    let body = app
        .graphql_as(
            &admin.access,
            INVITE_STAFF,
            json!({ "input": {
            "email": "New.Worker@Exempelby.example", "displayName": "Nils Ny",
            "role": "CASEWORKER", "organisationId": organisation(SOCIAL_SERVICES) } }),
        )
        .await;
    let payload = &body["data"]["inviteStaff"];
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    assert_eq!(
        payload["invitation"]["email"],
        "new.worker@exempelby.example"
    );
    assert_eq!(payload["invitation"]["status"], "PENDING");
    let code = payload["code"]
        .as_str()
        .expect("a one-time code")
        .to_owned();
    assert!(code.len() >= 43, "256 bits of entropy");

    let accepted = accept(&app, &code, "correct horse battery staple").await;
    let signed_in = tokens_of(&accepted["data"]["acceptInvitation"]).expect("signed in");
    assert_eq!(
        accepted["data"]["acceptInvitation"]["viewer"],
        json!({ "role": "CASEWORKER", "user": { "displayName": "Nils Ny" } })
    );
    assert_eq!(app.role_or_error(&signed_in.access).await, "CASEWORKER");
    let again = accept(&app, &code, "correct horse battery staple").await;
    assert_eq!(
        again["data"]["acceptInvitation"]["userErrors"][0]["code"], "INVALID_INVITATION",
        "single use"
    );
    let login = app
        .login_with(
            "new.worker@exempelby.example",
            "correct horse battery staple",
            "x",
        )
        .await;
    assert!(tokens_of(&login["data"]["login"]).is_some(), "{login}");
    let invitation_id = payload["invitation"]["id"].clone();
    let seen = app
        .graphql_as(
            &admin.access,
            "query($id: ID!) { node(id: $id) { ... on Invitation { status } } }",
            json!({ "id": invitation_id }),
        )
        .await;
    assert_eq!(seen["data"]["node"]["status"], "ACCEPTED");
    app.stop().await;
}

async fn a_caseworker_invites_a_guardian_but_a_guardian_cannot_invite(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let caseworker = app.sign_in("caseworker@exempelby.example").await;
    let guardian = app.sign_in("guardian@exempelby.example").await;
    let (case_id, parent, _) = open_family_case(&app, &caseworker.access, "Förälder").await;
    let input = json!({ "input": { "familyMemberId": parent, "email": "parent@family.example" } });

    let refused = app
        .graphql_as(&guardian.access, INVITE_FAMILY, input.clone())
        .await;
    assert_eq!(first_error_code(&refused), Some("FORBIDDEN"));
    let staff_by_caseworker = app
        .graphql_as(
            &caseworker.access,
            INVITE_STAFF,
            json!({ "input": {
            "email": "x@exempelby.example", "displayName": "X", "role": "ADMIN",
            "organisationId": organisation(SOCIAL_SERVICES) } }),
        )
        .await;
    assert_eq!(first_error_code(&staff_by_caseworker), Some("FORBIDDEN"));

    let body = app
        .graphql_as(&caseworker.access, INVITE_FAMILY, input.clone())
        .await;
    assert_eq!(
        body["data"]["inviteFamilyMember"]["invitation"]["role"], "GUARDIAN",
        "{body}"
    );
    assert_eq!(
        body["data"]["inviteFamilyMember"]["invitation"]["displayName"],
        "Parent Förälder"
    );
    let code = body["data"]["inviteFamilyMember"]["code"]
        .as_str()
        .expect("a code")
        .to_owned();
    let accepted = accept(&app, &code, "our family password").await;
    assert_eq!(
        accepted["data"]["acceptInvitation"]["viewer"]["role"],
        "GUARDIAN"
    );
    // The new login belongs to the family: the parent sees the case.
    let token = accepted["data"]["acceptInvitation"]["tokens"]["accessToken"]
        .as_str()
        .unwrap();
    let mine = app
        .graphql_as(token, "{ myCases { id viewerRelation } }", json!({}))
        .await;
    assert_eq!(
        mine["data"]["myCases"],
        json!([{ "id": case_id, "viewerRelation": "GUARDIAN" }])
    );
    // A member with a login cannot be invited again; someone not on the case cannot invite.
    let again = app
        .graphql_as(&caseworker.access, INVITE_FAMILY, input.clone())
        .await;
    assert_eq!(
        again["data"]["inviteFamilyMember"]["userErrors"][0]["code"],
        "INVALID_VALUE"
    );
    let lena = app.sign_in("caseworker2@exempelby.example").await;
    let outsider = app.graphql_as(&lena.access, INVITE_FAMILY, input).await;
    assert_eq!(first_error_code(&outsider), Some("NOT_FOUND"));
    app.stop().await;
}

async fn bad_invitations_get_user_errors_and_create_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@exempelby.example").await;
    let cases = [
        (
            json!({ "email": "not-an-address", "displayName": "A", "role": "CASEWORKER", "organisationId": organisation(SOCIAL_SERVICES) }),
            "INVALID_FORMAT",
            "email",
        ),
        (
            json!({ "email": "a@exempelby.example", "displayName": "  ", "role": "CASEWORKER", "organisationId": organisation(SOCIAL_SERVICES) }),
            "REQUIRED",
            "displayName",
        ),
        (
            json!({ "email": "a@exempelby.example", "displayName": "A", "role": "AGENCY_PROFESSIONAL", "organisationId": organisation(SOCIAL_SERVICES) }),
            "INVALID_VALUE",
            "organisationId",
        ),
        (
            json!({ "email": "a@exempelby.example", "displayName": "A", "role": "CASEWORKER", "organisationId": organisation(SCHOOL) }),
            "INVALID_VALUE",
            "organisationId",
        ),
        (
            json!({ "email": "caseworker@exempelby.example", "displayName": "A", "role": "CASEWORKER", "organisationId": organisation(SOCIAL_SERVICES) }),
            "EMAIL_TAKEN",
            "email",
        ),
        (
            json!({ "email": "a@exempelby.example", "displayName": "A", "role": "CASEWORKER", "organisationId": organisation(SOCIAL_SERVICES), "expiresInDays": 90 }),
            "INVALID_VALUE",
            "expiresInDays",
        ),
        // An organisation of another tenant is as good as none.
        (
            json!({ "email": "a@exempelby.example", "displayName": "A", "role": "CASEWORKER", "organisationId": organisation(0x0193_0000_0000_7000_8000_0000_0002_0001) }),
            "INVALID_VALUE",
            "organisationId",
        ),
    ];
    for (input, code, field) in cases {
        let body = app
            .graphql_as(&admin.access, INVITE_STAFF, json!({ "input": input }))
            .await;
        let payload = &body["data"]["inviteStaff"];
        assert_eq!(payload["userErrors"][0]["code"], code, "{input}: {body}");
        assert_eq!(
            payload["userErrors"][0]["field"],
            json!(["input", field]),
            "{input}"
        );
        assert_eq!(payload["code"], Value::Null);
    }
    let trail = app
        .graphql_as(
            &admin.access,
            "{ auditTrail(first: 50) { edges { node { action } } } }",
            json!({}),
        )
        .await;
    let created = trail["data"]["auditTrail"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["action"] == "INVITATION_CREATED")
        .count();
    assert_eq!(created, 0, "nothing was created");
    app.stop().await;
}

async fn revoked_expired_and_unknown_codes_are_refused_alike_and_throttled(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let caseworker = app.sign_in("caseworker@exempelby.example").await;
    let (_, parent, child) = open_family_case(&app, &caseworker.access, "Koder").await;
    let mut codes = Vec::new();
    for (member, email) in [
        (parent, "revoked@family.example"),
        (child, "expired@family.example"),
    ] {
        let body = app
            .graphql_as(
                &caseworker.access,
                INVITE_FAMILY,
                json!({ "input": { "familyMemberId": member, "email": email } }),
            )
            .await;
        let payload = &body["data"]["inviteFamilyMember"];
        codes.push((
            payload["invitation"]["id"].clone(),
            payload["code"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
                .to_owned(),
        ));
    }
    let revoked = app
        .graphql_as(&caseworker.access, "mutation($input: RevokeInvitationInput!) { revokeInvitation(input: $input) { invitation { status } userErrors { code } } }", json!({ "input": { "invitationId": codes[0].0 } }))
        .await;
    assert_eq!(
        revoked["data"]["revokeInvitation"]["invitation"]["status"],
        "REVOKED"
    );
    // Let the second invitation run out.
    let backend = app.db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "UPDATE invitation SET expires_at = NOW() - INTERVAL '1 minute' WHERE email = 'expired@family.example'"
        }
        _ => {
            "UPDATE invitation SET expires_at = '2020-01-01T00:00:00+00:00' WHERE email = 'expired@family.example'"
        }
    };
    app.db
        .execute_raw(Statement::from_string(backend, sql))
        .await
        .unwrap();

    for code in [codes[0].1.as_str(), codes[1].1.as_str(), "made-up-code"] {
        let body = accept(&app, code, "a long enough password").await;
        assert_eq!(
            body["data"]["acceptInvitation"]["userErrors"],
            json!([{ "code": "INVALID_INVITATION", "field": ["input", "code"] }]),
            "{code}"
        );
    }
    // Guessing codes from one address is throttled (10 failures lock it).
    for _ in 0..7 {
        accept(&app, "another-guess", "a long enough password").await;
    }
    let locked = accept(&app, "yet-another-guess", "a long enough password").await;
    assert_eq!(first_error_code(&locked), Some("RATE_LIMITED"), "{locked}");
    app.stop().await;
}

async fn bootstrap_creates_a_tenant_whose_first_admin_accepts_the_printed_code(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let mut envs = vec![(
        "DATA_DIR".to_owned(),
        database.data_dir.display().to_string(),
    )];
    if let Some(url) = &database.database_url {
        envs.push(("DATABASE_URL".to_owned(), url.clone()));
    }
    let env_refs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    let finished = process::run(
        api_binary!(),
        &[
            "bootstrap",
            "--tenant",
            "Nyby kommun",
            "--admin-email",
            "admin@nyby.example",
        ],
        &env_refs,
    )
    .await;

    assert!(finished.status.success(), "{}", finished.stderr);
    let code = finished.stdout.trim().to_owned();
    assert!(
        code.len() >= 43,
        "the code is printed: {:?}",
        finished.stdout
    );
    assert!(
        !finished.stderr.contains(&code),
        "the code is not in the log"
    );
    let again = process::run(
        api_binary!(),
        &[
            "bootstrap",
            "--tenant",
            "Nyby kommun",
            "--admin-email",
            "admin@nyby.example",
        ],
        &env_refs,
    )
    .await;
    assert!(
        !again.status.success(),
        "a second bootstrap for the same admin fails"
    );
    assert_eq!(again.stderr.lines().count(), 1, "{}", again.stderr);

    let server = process::ServerProcess::start(api_binary!(), &[], &env_refs).await;
    let client = reqwest::Client::new();
    let body: Value = client
        .post(server.graphql_url())
        .json(&json!({ "query": ACCEPT, "variables": { "input": { "code": code, "password": "first admin password" } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["data"]["acceptInvitation"]["viewer"]["role"], "ADMIN",
        "{body}"
    );
    let token = body["data"]["acceptInvitation"]["tokens"]["accessToken"]
        .as_str()
        .unwrap();
    let tenant: Value = client
        .post(server.graphql_url())
        .bearer_auth(token)
        .json(&json!({ "query": "{ viewer { tenant { name timeZone } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        tenant["data"]["viewer"]["tenant"],
        json!({ "name": "Nyby kommun", "timeZone": "Europe/Stockholm" })
    );
    server.kill_9().await;
}
