//! Cases end to end: opening, reading through every relation, consent,
//! handovers, follow-up dates, caseload lists and their cost in SQL statements.

use integration_tests::{
    Backend, TestApp, assert_cost_does_not_grow, first_error_code, global_id, on_both_backends,
};
use serde_json::{Value, json};

on_both_backends!(
    a_caseworker_opens_a_case_for_a_new_family_and_sees_when_to_follow_up,
    bad_case_input_gets_user_errors_and_creates_nothing,
    the_family_sees_its_case_and_who_may_see_what,
    a_professional_sees_exactly_what_the_family_consented_to_until_it_is_withdrawn,
    a_handover_moves_responsibility_and_keeps_the_history,
    team_leads_see_their_teams_caseload_and_lists_filter_and_page,
    a_caseload_page_costs_the_same_number_of_statements_whatever_its_size,
    staff_reads_are_audited_once_per_case_per_request_and_families_see_nothing_of_others,
    stale_versions_and_closed_cases_are_refused,
    the_family_sees_who_accessed_its_case,
    a_family_asks_for_another_caseworker_and_the_team_lead_answers,
    the_primary_caseworker_sets_the_family_therapists,
);

/// The demo's first family (Nilsson): Sara (guardian), Elias (young person, focus
/// child), Birgitta (network); primary Anna, partner Johan, therapist Karin; the
/// school and child psychiatry have consents.
fn nilsson_case() -> String {
    global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000),
    )
}

fn hassan_case() -> String {
    global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0001),
    )
}

const SCHOOL: u128 = 0x0193_0000_0000_7000_8000_0000_0001_0002;
const SOCIAL_SERVICES: u128 = 0x0193_0000_0000_7000_8000_0000_0001_0001;

const CASE: &str = "query($id: ID!) { case(id: $id) {
    id status caseType viewerRelation viewerCategories version
    family { name }
    focusChildren { displayName age }
    primaryCaseworker { displayName }
    partnerCaseworker { displayName }
} }";

const OPEN: &str = "mutation($input: OpenCaseInput!) { openCase(input: $input) {
    case { id caseType status openedOn nextFollowUpDue followUpOverdue viewerRelation
           family { name members { kind displayName dateOfBirth networkRelation } }
           focusChildren { displayName }
           primaryCaseworker { displayName } team { name } }
    userErrors { code field message } } }";

async fn case_of(app: &TestApp, token: &str, id: &str) -> Value {
    app.graphql_as(token, CASE, json!({ "id": id })).await
}

async fn a_caseworker_opens_a_case_for_a_new_family_and_sees_when_to_follow_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;

    let body = app
        .graphql_as(&anna, OPEN, json!({ "input": {
            "caseType": "INVESTIGATION",
            "familyName": "Berglund",
            "openedOn": "2026-10-01",
            "members": [
                { "kind": "GUARDIAN", "displayName": "Karin Berglund" },
                { "kind": "CHILD", "displayName": "Leo Berglund", "dateOfBirth": "2015-03-02", "focusChild": true },
                { "kind": "NETWORK_MEMBER", "displayName": "Mormor", "networkRelation": "RELATIVE" },
            ],
        } }))
        .await;

    let payload = &body["data"]["openCase"];
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    let case = &payload["case"];
    assert_eq!(case["status"], "OPEN");
    assert_eq!(case["viewerRelation"], "PRIMARY_CASEWORKER");
    assert_eq!(case["openedOn"], "2026-10-01");
    // Six weeks after opening, across the end of summer time on 25 October.
    assert_eq!(case["nextFollowUpDue"], "2026-11-12");
    assert_eq!(case["primaryCaseworker"]["displayName"], "Anna Berg");
    assert_eq!(case["team"]["name"], "Team Norr");
    assert_eq!(
        case["focusChildren"],
        json!([{ "displayName": "Leo Berglund" }])
    );
    assert_eq!(case["family"]["members"].as_array().unwrap().len(), 3);
    assert_eq!(case["family"]["members"][2]["networkRelation"], "RELATIVE");
    app.stop().await;
}

async fn bad_case_input_gets_user_errors_and_creates_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let count = || async {
        app.graphql_as(
            &anna,
            "{ cases(first: 100) { edges { cursor } } }",
            json!({}),
        )
        .await["data"]["cases"]["edges"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = count().await;
    let cases = [
        (
            json!({ "caseType": "SUPPORT", "familyName": "X", "members": [{ "kind": "CHILD", "displayName": "Future", "dateOfBirth": "2099-01-01", "focusChild": true }] }),
            "INVALID_VALUE",
            json!(["input", "members", "0", "dateOfBirth"]),
        ),
        (
            json!({ "caseType": "SUPPORT", "familyName": "X", "members": [{ "kind": "GUARDIAN", "displayName": "Only a parent" }] }),
            "REQUIRED",
            json!(["input", "focusChildren"]),
        ),
        (
            json!({ "caseType": "SUPPORT", "familyName": " ", "members": [] }),
            "REQUIRED",
            json!(["input", "familyName"]),
        ),
        (
            json!({ "caseType": "SUPPORT", "familyName": "X", "openedOn": "2099-01-01", "members": [{ "kind": "CHILD", "displayName": "C", "dateOfBirth": "2015-01-01", "focusChild": true }] }),
            "INVALID_VALUE",
            json!(["input", "openedOn"]),
        ),
        // A child of another family cannot be a focus child of this one.
        (
            json!({ "caseType": "SUPPORT",
                    "familyId": global_id("Family", uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0001_0000_0000)),
                    "focusChildIds": [global_id("FamilyMember", uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0003_0000_0006))] }),
            "INVALID_VALUE",
            json!(["input", "focusChildren"]),
        ),
        // A family of another tenant is as good as none.
        (
            json!({ "caseType": "SUPPORT", "familyId": global_id("Family", uuid::Uuid::now_v7()), "focusChildIds": [] }),
            "INVALID_VALUE",
            json!(["input", "familyId"]),
        ),
    ];
    for (input, code, field) in cases {
        let body = app.graphql_as(&anna, OPEN, json!({ "input": input })).await;
        let errors = &body["data"]["openCase"]["userErrors"];
        assert_eq!(errors[0]["code"], code, "{input}: {body}");
        assert_eq!(errors[0]["field"], field, "{input}");
    }
    assert_eq!(count().await, before, "nothing was created");

    // A family member may not open cases.
    let guardian = app.login("guardian@exempelby.example").await;
    let body = app
        .graphql_as(
            &guardian,
            OPEN,
            json!({ "input": { "caseType": "SUPPORT", "familyName": "X" } }),
        )
        .await;
    assert_eq!(first_error_code(&body), Some("FORBIDDEN"));
    app.stop().await;
}

async fn the_family_sees_its_case_and_who_may_see_what(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sara = app.login("guardian@exempelby.example").await;
    let elias = app.login("young@exempelby.example").await;
    let birgitta = app.login("network@exempelby.example").await;

    let mine = app
        .graphql_as(&sara, "{ myCases { id viewerRelation family { name } consents { organisation { name } categories active } } }", json!({}))
        .await;
    let cases = mine["data"]["myCases"].as_array().unwrap();
    assert_eq!(cases.len(), 1, "{mine}");
    assert_eq!(cases[0]["id"], nilsson_case());
    assert_eq!(cases[0]["viewerRelation"], "GUARDIAN");
    let mut shared: Vec<String> = cases[0]["consents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["organisation"]["name"].as_str().unwrap().to_owned())
        .collect();
    shared.sort();
    assert_eq!(shared, ["BUP Exempelby", "Ekbackens skola"]);

    let young = case_of(&app, &elias, &nilsson_case()).await;
    assert_eq!(young["data"]["case"]["viewerRelation"], "YOUNG_PERSON");

    // The network member sees who works the case, not the case record.
    let network = app
        .graphql_as(&birgitta, "query($id: ID!) { case(id: $id) { viewerRelation primaryCaseworker { displayName } nextFollowUpDue } }", json!({ "id": nilsson_case() }))
        .await;
    assert_eq!(
        network["data"]["case"]["nextFollowUpDue"],
        Value::Null,
        "{network}"
    );
    assert_eq!(first_error_code(&network), Some("FORBIDDEN"));
    assert_eq!(
        network["errors"][0]["path"],
        json!(["case", "nextFollowUpDue"])
    );
    let network = app
        .graphql_as(&birgitta, "query($id: ID!) { case(id: $id) { viewerRelation primaryCaseworker { displayName } } }", json!({ "id": nilsson_case() }))
        .await;
    assert_eq!(network["data"]["case"]["viewerRelation"], "NETWORK_MEMBER");
    assert_eq!(
        network["data"]["case"]["primaryCaseworker"]["displayName"],
        "Anna Berg"
    );

    // Another family's case does not exist for them.
    for token in [&sara, &elias, &birgitta] {
        let other = case_of(&app, token, &hassan_case()).await;
        assert_eq!(first_error_code(&other), Some("NOT_FOUND"));
    }
    app.stop().await;
}

async fn a_professional_sees_exactly_what_the_family_consented_to_until_it_is_withdrawn(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let teacher = app.login("teacher@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;

    let seen = case_of(&app, &teacher, &nilsson_case()).await;
    assert_eq!(
        seen["data"]["case"]["viewerRelation"],
        "CONSENTED_PROFESSIONAL"
    );
    assert_eq!(
        seen["data"]["case"]["viewerCategories"],
        json!(["GOALS", "APPOINTMENTS"])
    );
    let details = app
        .graphql_as(
            &teacher,
            "query($id: ID!) { case(id: $id) { nextFollowUpDue } }",
            json!({ "id": nilsson_case() }),
        )
        .await;
    assert_eq!(
        first_error_code(&details),
        Some("FORBIDDEN"),
        "no CASE_DETAILS consent"
    );
    let consents = app
        .graphql_as(
            &teacher,
            "query($id: ID!) { case(id: $id) { consents { id } } }",
            json!({ "id": nilsson_case() }),
        )
        .await;
    assert_eq!(first_error_code(&consents), Some("FORBIDDEN"));

    // Sara withdraws the school's consent: the very next request sees nothing.
    let listed = app
        .graphql_as(
            &sara,
            "query($id: ID!) { case(id: $id) { consents { id organisation { name } } } }",
            json!({ "id": nilsson_case() }),
        )
        .await;
    let school_consent = listed["data"]["case"]["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["organisation"]["name"] == "Ekbackens skola")
        .unwrap()["id"]
        .clone();
    let withdrawn = app
        .graphql_as(&sara, "mutation($input: WithdrawConsentInput!) { withdrawConsent(input: $input) { consent { active withdrawnAt } } }", json!({ "input": { "consentId": school_consent } }))
        .await;
    assert_eq!(
        withdrawn["data"]["withdrawConsent"]["consent"]["active"], false,
        "{withdrawn}"
    );
    let after = case_of(&app, &teacher, &nilsson_case()).await;
    assert_eq!(first_error_code(&after), Some("NOT_FOUND"));

    // Sara gives a new, narrower consent; bad periods and agencies are refused.
    const GRANT: &str = "mutation($input: GrantConsentInput!) { grantConsent(input: $input) { consent { categories active } userErrors { code field } } }";
    let school = global_id("Organisation", uuid::Uuid::from_u128(SCHOOL));
    let backwards = app
        .graphql_as(&sara, GRANT, json!({ "input": { "caseId": nilsson_case(), "organisationId": school, "categories": ["GOALS"], "validFrom": "2026-12-01T00:00:00Z", "validUntil": "2026-11-01T00:00:00Z" } }))
        .await;
    assert_eq!(
        backwards["data"]["grantConsent"]["userErrors"],
        json!([{ "code": "INVALID_VALUE", "field": ["input", "validUntil"] }])
    );
    let to_social_services = app
        .graphql_as(&sara, GRANT, json!({ "input": { "caseId": nilsson_case(), "organisationId": global_id("Organisation", uuid::Uuid::from_u128(SOCIAL_SERVICES)), "categories": ["GOALS"] } }))
        .await;
    assert_eq!(
        to_social_services["data"]["grantConsent"]["userErrors"][0]["field"],
        json!(["input", "organisationId"])
    );
    let granted = app
        .graphql_as(&sara, GRANT, json!({ "input": { "caseId": nilsson_case(), "organisationId": school, "categories": ["GOALS", "CASE_DETAILS"] } }))
        .await;
    assert_eq!(
        granted["data"]["grantConsent"]["consent"]["active"], true,
        "{granted}"
    );
    let again = case_of(&app, &teacher, &nilsson_case()).await;
    assert_eq!(
        again["data"]["case"]["viewerCategories"],
        json!(["GOALS", "CASE_DETAILS"])
    );
    // Only the family consents.
    let anna = app.login("caseworker@exempelby.example").await;
    let by_caseworker = app
        .graphql_as(&anna, GRANT, json!({ "input": { "caseId": nilsson_case(), "organisationId": school, "categories": ["GOALS"] } }))
        .await;
    assert_eq!(first_error_code(&by_caseworker), Some("FORBIDDEN"));
    app.stop().await;
}

async fn a_handover_moves_responsibility_and_keeps_the_history(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let lena = app.login("caseworker2@exempelby.example").await;
    let lena_id = app.user_id(&lena).await;
    const HAND_OVER: &str = "mutation($input: HandOverCaseInput!) { handOverCase(input: $input) {
        case { primaryCaseworker { displayName } responsibilityHistory { responsibility user { displayName } endedAt handoverNote } }
        userErrors { code field } } }";

    let no_note = app
        .graphql_as(&anna, HAND_OVER, json!({ "input": { "caseId": nilsson_case(), "toCaseworkerId": lena_id, "handoverNote": "  " } }))
        .await;
    assert_eq!(
        no_note["data"]["handOverCase"]["userErrors"],
        json!([{ "code": "REQUIRED", "field": ["input", "handoverNote"] }])
    );
    let grannby = app.login("caseworker@grannby.example").await;
    let other_tenant = app.user_id(&grannby).await;
    let wrong = app
        .graphql_as(&anna, HAND_OVER, json!({ "input": { "caseId": nilsson_case(), "toCaseworkerId": other_tenant, "handoverNote": "Goals and contacts …" } }))
        .await;
    assert_eq!(
        wrong["data"]["handOverCase"]["userErrors"],
        json!([{ "code": "INVALID_VALUE", "field": ["input", "toCaseworkerId"] }])
    );

    let done = app
        .graphql_as(&anna, HAND_OVER, json!({ "input": { "caseId": nilsson_case(), "toCaseworkerId": lena_id, "handoverNote": "Goals: school attendance. Contacts: BUP every other week." } }))
        .await;
    assert_eq!(
        done["data"]["handOverCase"],
        json!({ "case": null, "userErrors": [] }),
        "Anna no longer works the case: {done}"
    );
    let lenas_view = app
        .graphql_as(&lena, "query($id: ID!) { case(id: $id) { primaryCaseworker { displayName } responsibilityHistory { responsibility user { displayName } endedAt handoverNote } } }", json!({ "id": nilsson_case() }))
        .await;
    let case = &lenas_view["data"]["case"];
    assert_eq!(
        case["primaryCaseworker"]["displayName"], "Lena Åberg",
        "{done}"
    );
    let history = case["responsibilityHistory"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["user"]["displayName"], "Anna Berg");
    assert!(history[0]["endedAt"].is_string());
    assert_eq!(history[1]["user"]["displayName"], "Lena Åberg");
    assert_eq!(
        history[1]["handoverNote"],
        "Goals: school attendance. Contacts: BUP every other week."
    );

    // The family sees its new caseworker; Anna no longer sees the case.
    let sara = app.login("guardian@exempelby.example").await;
    let family_view = case_of(&app, &sara, &nilsson_case()).await;
    assert_eq!(
        family_view["data"]["case"]["primaryCaseworker"]["displayName"],
        "Lena Åberg"
    );
    assert_eq!(
        first_error_code(&case_of(&app, &anna, &nilsson_case()).await),
        Some("NOT_FOUND")
    );
    app.stop().await;
}

const CASES: &str = "query($first: Int!, $after: String, $filter: CaseFilterInput) {
  cases(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id status nextFollowUpDue followUpOverdue followUpMeeting { inTime }
      family { name members { displayName age kind } }
      focusChildren { displayName age }
      primaryCaseworker { displayName } partnerCaseworker { displayName } team { name }
      conversations { id unreadCount } } }
    pageInfo { hasNextPage endCursor }
  }
}";

fn nodes(body: &Value) -> Vec<Value> {
    body["data"]["cases"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn team_leads_see_their_teams_caseload_and_lists_filter_and_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let lead = app.login("teamlead@exempelby.example").await;

    let page = app.graphql_as(&lead, CASES, json!({ "first": 100 })).await;
    let all = nodes(&page);
    assert_eq!(
        all.len(),
        21,
        "Team Norr owns the even-numbered demo families and the Hassans"
    );
    assert!(all.iter().all(|c| c["team"]["name"] == "Team Norr"));
    let dues: Vec<&str> = all
        .iter()
        .map(|c| c["nextFollowUpDue"].as_str().unwrap())
        .collect();
    let mut sorted = dues.clone();
    sorted.sort();
    assert_eq!(dues, sorted, "most urgent first");

    let overdue = nodes(
        &app.graphql_as(
            &lead,
            CASES,
            json!({ "first": 100, "filter": { "followUpOverdue": true } }),
        )
        .await,
    );
    assert!(!overdue.is_empty());
    assert!(
        overdue
            .iter()
            .all(|c| c["followUpOverdue"] == true && c["status"] == "OPEN")
    );
    let searched = nodes(
        &app.graphql_as(
            &lead,
            CASES,
            json!({ "first": 100, "filter": { "familyName": "nils" } }),
        )
        .await,
    );
    assert_eq!(searched.len(), 1);
    assert_eq!(searched[0]["family"]["name"], "Nilsson");

    // Paging: two pages of 12 and 9, no overlap.
    let first = app.graphql_as(&lead, CASES, json!({ "first": 12 })).await;
    assert_eq!(first["data"]["cases"]["pageInfo"]["hasNextPage"], true);
    let cursor = first["data"]["cases"]["pageInfo"]["endCursor"].clone();
    let second = app
        .graphql_as(&lead, CASES, json!({ "first": 12, "after": cursor }))
        .await;
    assert_eq!(second["data"]["cases"]["pageInfo"]["hasNextPage"], false);
    let mut ids: Vec<Value> = nodes(&first)
        .into_iter()
        .chain(nodes(&second))
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids.len(), 21);
    ids.sort_by_key(|v| v.to_string());
    ids.dedup();
    assert_eq!(ids.len(), 21);

    let caseload = app
        .graphql_as(
            &lead,
            "{ caseload { caseworker { displayName } openCases overdueFollowUps } }",
            json!({}),
        )
        .await;
    let rows = caseload["data"]["caseload"].as_array().unwrap();
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["caseworker"]["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Anna Berg", "Johan Ek"]);
    let open: u64 = rows.iter().map(|r| r["openCases"].as_u64().unwrap()).sum();
    let open_listed = all.iter().filter(|c| c["status"] == "OPEN").count() as u64;
    assert_eq!(open, open_listed);

    let anna = app.login("caseworker@exempelby.example").await;
    assert_eq!(
        first_error_code(
            &app.graphql_as(&anna, "{ caseload { openCases } }", json!({}))
                .await
        ),
        Some("FORBIDDEN")
    );
    let other_lead = app.login("teamlead2@exempelby.example").await;
    assert_eq!(
        first_error_code(&case_of(&app, &other_lead, &nilsson_case()).await),
        Some("NOT_FOUND")
    );
    app.stop().await;
}

async fn a_caseload_page_costs_the_same_number_of_statements_whatever_its_size(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let lead = app.login("teamlead@exempelby.example").await;
    // Enough cases for a page of 50 in Team Norr (21 in the demo data).
    let anna = app.login("caseworker@exempelby.example").await;
    for n in 0..35 {
        let body = app
            .graphql_as(&anna, OPEN, json!({ "input": {
                "caseType": "SUPPORT", "familyName": format!("Familj {n}"),
                "members": [
                    { "kind": "GUARDIAN", "displayName": format!("Förälder {n}") },
                    { "kind": "CHILD", "displayName": format!("Barn {n}"), "dateOfBirth": "2014-05-05", "focusChild": true },
                ],
            } }))
            .await;
        assert_eq!(body["data"]["openCase"]["userErrors"], json!([]), "{body}");
    }
    let mut costs = Vec::new();
    for first in [2, 20, 50] {
        // The fewest of three runs: a DataLoader batch that a slow moment
        // splits in two adds a statement; a query per case would add dozens.
        let (cost, body) = app
            .statements_for(&lead, CASES, json!({ "first": first }))
            .await;
        assert_eq!(nodes(&body).len(), first as usize);
        costs.push(cost);
    }
    eprintln!("SQL statements for a caseload page of 2, 20 and 50 cases: {costs:?}");
    assert_cost_does_not_grow(costs[0], costs[2], 48, "caseload page");
    assert_cost_does_not_grow(costs[0], costs[1], 18, "caseload page");
    assert!(costs[2] <= 25, "a small constant: {costs:?}");
    app.stop().await;
}

async fn staff_reads_are_audited_once_per_case_per_request_and_families_see_nothing_of_others(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    app.graphql_as(
        &anna,
        "query($id: ID!) { a: case(id: $id) { id } b: case(id: $id) { status } }",
        json!({ "id": nilsson_case() }),
    )
    .await;
    let admin = app.login("admin@exempelby.example").await;
    let trail = app
        .graphql_as(
            &admin,
            "{ auditTrail(first: 20) { edges { node { action detail actor { displayName } } } } }",
            json!({}),
        )
        .await;
    let reads: Vec<&Value> = trail["data"]["auditTrail"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["action"] == "CASE_READ")
        .collect();
    assert_eq!(
        reads.len(),
        1,
        "one entry for two reads in one request: {trail}"
    );
    assert_eq!(reads[0]["detail"], "PRIMARY_CASEWORKER");
    assert_eq!(reads[0]["actor"]["displayName"], "Anna Berg");

    // Admins read no case content; another tenant sees nothing.
    assert_eq!(
        first_error_code(&case_of(&app, &admin, &nilsson_case()).await),
        Some("NOT_FOUND")
    );
    let none = app.graphql_as(&admin, CASES, json!({ "first": 10 })).await;
    assert_eq!(nodes(&none).len(), 0);
    let grannby = app.login("caseworker@grannby.example").await;
    assert_eq!(
        first_error_code(&case_of(&app, &grannby, &nilsson_case()).await),
        Some("NOT_FOUND")
    );
    assert_eq!(
        nodes(
            &app.graphql_as(&grannby, CASES, json!({ "first": 10 }))
                .await
        )
        .len(),
        0
    );
    app.stop().await;
}

async fn stale_versions_and_closed_cases_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let johan = app.login("partner@exempelby.example").await;
    const UPDATE: &str = "mutation($input: UpdateCaseInput!) { updateCase(input: $input) { case { caseType version nextFollowUpDue } userErrors { code field } } }";
    let current = case_of(&app, &johan, &hassan_case()).await["data"]["case"]["version"]
        .as_i64()
        .unwrap();

    let updated = app
        .graphql_as(&johan, UPDATE, json!({ "input": { "caseId": hassan_case(), "version": current, "caseType": "INVESTIGATION" } }))
        .await;
    assert_eq!(
        updated["data"]["updateCase"]["case"]["caseType"], "INVESTIGATION",
        "{updated}"
    );
    let stale = app
        .graphql_as(&johan, UPDATE, json!({ "input": { "caseId": hassan_case(), "version": current, "caseType": "SUPPORT" } }))
        .await;
    assert_eq!(
        stale["data"]["updateCase"]["userErrors"],
        json!([{ "code": "STALE_VERSION", "field": ["input", "version"] }])
    );

    const TRANSFER: &str = "mutation($input: TransferToAdultServicesInput!) { transferToAdultServices(input: $input) { case { status closingNote followUpOverdue } userErrors { code field } } }";
    let no_note = app
        .graphql_as(
            &johan,
            TRANSFER,
            json!({ "input": { "caseId": hassan_case(), "handoverNote": "" } }),
        )
        .await;
    assert_eq!(
        no_note["data"]["transferToAdultServices"]["userErrors"][0]["code"],
        "REQUIRED"
    );
    let moved = app
        .graphql_as(&johan, TRANSFER, json!({ "input": { "caseId": hassan_case(), "handoverNote": "Yasmin turns 18; adult services take over the support." } }))
        .await;
    assert_eq!(
        moved["data"]["transferToAdultServices"]["case"]["status"], "TRANSFERRED_TO_ADULT_SERVICES",
        "{moved}"
    );
    assert_eq!(
        moved["data"]["transferToAdultServices"]["case"]["followUpOverdue"],
        false
    );
    let closing_again = app
        .graphql_as(&johan, "mutation($input: CloseCaseInput!) { closeCase(input: $input) { userErrors { code } } }", json!({ "input": { "caseId": hassan_case(), "reason": "again" } }))
        .await;
    assert_eq!(
        closing_again["data"]["closeCase"]["userErrors"][0]["code"],
        "INVALID_VALUE"
    );

    // A therapist works with the family but does not change the case record.
    let karin = app.login("therapist@exempelby.example").await;
    let version = case_of(&app, &karin, &nilsson_case()).await["data"]["case"]["version"]
        .as_i64()
        .unwrap();
    let refused = app
        .graphql_as(&karin, UPDATE, json!({ "input": { "caseId": nilsson_case(), "version": version, "caseType": "SUPPORT" } }))
        .await;
    assert_eq!(first_error_code(&refused), Some("FORBIDDEN"));
    app.stop().await;
}

async fn the_family_sees_who_accessed_its_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let teacher = app.login("teacher@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;
    let birgitta = app.login("network@exempelby.example").await;
    case_of(&app, &teacher, &nilsson_case()).await;

    const LOG: &str = "query($id: ID!) { case(id: $id) { accessLog(first: 5) {
        edges { node { action relation actor { displayName } occurredAt } } pageInfo { hasNextPage } } } }";
    let log = app
        .graphql_as(&sara, LOG, json!({ "id": nilsson_case() }))
        .await;
    let newest = &log["data"]["case"]["accessLog"]["edges"][0]["node"];
    assert_eq!(newest["action"], "CASE_READ", "{log}");
    assert_eq!(newest["relation"], "CONSENTED_PROFESSIONAL");
    assert_eq!(newest["actor"]["displayName"], "Lars Svensson");
    // The family's own reads are not in the log.
    let log_again = app
        .graphql_as(&sara, LOG, json!({ "id": nilsson_case() }))
        .await;
    assert_eq!(
        log_again["data"]["case"]["accessLog"]["edges"][0],
        log["data"]["case"]["accessLog"]["edges"][0]
    );

    let refused = app
        .graphql_as(&birgitta, LOG, json!({ "id": nilsson_case() }))
        .await;
    assert_eq!(first_error_code(&refused), Some("FORBIDDEN"));
    let refused = app
        .graphql_as(&teacher, LOG, json!({ "id": nilsson_case() }))
        .await;
    assert_eq!(first_error_code(&refused), Some("FORBIDDEN"));
    app.stop().await;
}

async fn a_family_asks_for_another_caseworker_and_the_team_lead_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sara = app.login("guardian@exempelby.example").await;
    let lead = app.login("teamlead@exempelby.example").await;
    const REQUEST: &str =
        "mutation($input: RequestCaseworkerChangeInput!) { requestCaseworkerChange(input: $input) {
        request { id status reason } userErrors { code field } } }";
    const ANSWER: &str = "mutation($input: AnswerCaseworkerChangeRequestInput!) { answerCaseworkerChangeRequest(input: $input) {
        request { status answer answeredBy { displayName } } userErrors { code field } } }";

    let empty = app
        .graphql_as(
            &sara,
            REQUEST,
            json!({ "input": { "caseId": nilsson_case(), "reason": " " } }),
        )
        .await;
    assert_eq!(
        empty["data"]["requestCaseworkerChange"]["userErrors"],
        json!([{ "code": "REQUIRED", "field": ["input", "reason"] }])
    );
    let asked = app
        .graphql_as(&sara, REQUEST, json!({ "input": { "caseId": nilsson_case(), "reason": "We do not trust each other any more." } }))
        .await;
    let request = asked["data"]["requestCaseworkerChange"]["request"].clone();
    assert_eq!(request["status"], "PENDING", "{asked}");
    let twice = app
        .graphql_as(
            &sara,
            REQUEST,
            json!({ "input": { "caseId": nilsson_case(), "reason": "Again." } }),
        )
        .await;
    assert_eq!(
        twice["data"]["requestCaseworkerChange"]["userErrors"][0]["code"],
        "INVALID_VALUE"
    );
    let anna = app.login("caseworker@exempelby.example").await;
    let by_staff = app
        .graphql_as(
            &anna,
            REQUEST,
            json!({ "input": { "caseId": nilsson_case(), "reason": "x" } }),
        )
        .await;
    assert_eq!(first_error_code(&by_staff), Some("FORBIDDEN"));

    let pending = app
        .graphql_as(
            &lead,
            "{ pendingCaseworkerChangeRequests { id reason requestedBy { displayName } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        pending["data"]["pendingCaseworkerChangeRequests"],
        json!([{ "id": request["id"], "reason": "We do not trust each other any more.", "requestedBy": { "displayName": "Sara Nilsson" } }])
    );
    assert_eq!(
        first_error_code(
            &app.graphql_as(
                &anna,
                "{ pendingCaseworkerChangeRequests { id } }",
                json!({})
            )
            .await
        ),
        Some("FORBIDDEN")
    );
    let other_lead = app.login("teamlead2@exempelby.example").await;
    let foreign = app
        .graphql_as(
            &other_lead,
            "{ pendingCaseworkerChangeRequests { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        foreign["data"]["pendingCaseworkerChangeRequests"],
        json!([])
    );
    let lena = app.login("caseworker2@exempelby.example").await;
    let lena_id = app.user_id(&lena).await;
    let not_theirs = app
        .graphql_as(&other_lead, ANSWER, json!({ "input": { "requestId": request["id"], "grant": true, "answer": "Yes", "newCaseworkerId": lena_id, "handoverNote": "x" } }))
        .await;
    assert_eq!(first_error_code(&not_theirs), Some("NOT_FOUND"));

    let no_note = app
        .graphql_as(&lead, ANSWER, json!({ "input": { "requestId": request["id"], "grant": true, "answer": "Yes, Lena takes over.", "newCaseworkerId": lena_id } }))
        .await;
    assert_eq!(
        no_note["data"]["answerCaseworkerChangeRequest"]["userErrors"][0]["field"],
        json!(["input", "handoverNote"])
    );
    let granted = app
        .graphql_as(&lead, ANSWER, json!({ "input": { "requestId": request["id"], "grant": true, "answer": "Yes, Lena takes over.", "newCaseworkerId": lena_id, "handoverNote": "Goals and contacts as agreed." } }))
        .await;
    assert_eq!(
        granted["data"]["answerCaseworkerChangeRequest"]["request"],
        json!({ "status": "GRANTED", "answer": "Yes, Lena takes over.", "answeredBy": { "displayName": "Maria Lind" } }),
        "{granted}"
    );
    let seen = app
        .graphql_as(&sara, "query($id: ID!) { case(id: $id) { primaryCaseworker { displayName } caseworkerChangeRequests { status answer } } }", json!({ "id": nilsson_case() }))
        .await;
    assert_eq!(
        seen["data"]["case"]["primaryCaseworker"]["displayName"],
        "Lena Åberg"
    );
    assert_eq!(
        seen["data"]["case"]["caseworkerChangeRequests"],
        json!([{ "status": "GRANTED", "answer": "Yes, Lena takes over." }])
    );
    app.stop().await;
}

async fn the_primary_caseworker_sets_the_family_therapists(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let johan = app.login("partner@exempelby.example").await;
    let karin = app.login("therapist@exempelby.example").await;
    let karin_id = app.user_id(&karin).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let anna_id = app.user_id(&anna).await;
    const SET: &str = "mutation($input: SetFamilyTherapistsInput!) { setFamilyTherapists(input: $input) {
        case { therapists { displayName } responsibilityHistory { responsibility user { displayName } endedAt } }
        userErrors { code field } } }";

    // Karin cannot see the Hassan case until she is its therapist.
    assert_eq!(
        first_error_code(&case_of(&app, &karin, &hassan_case()).await),
        Some("NOT_FOUND")
    );
    let not_a_therapist = app
        .graphql_as(
            &johan,
            SET,
            json!({ "input": { "caseId": hassan_case(), "therapistIds": [anna_id] } }),
        )
        .await;
    assert_eq!(
        not_a_therapist["data"]["setFamilyTherapists"]["userErrors"][0]["field"],
        json!(["input", "therapistIds"])
    );
    let set = app
        .graphql_as(
            &johan,
            SET,
            json!({ "input": { "caseId": hassan_case(), "therapistIds": [karin_id] } }),
        )
        .await;
    assert_eq!(
        set["data"]["setFamilyTherapists"]["case"]["therapists"],
        json!([{ "displayName": "Karin Holm" }]),
        "{set}"
    );
    assert_eq!(
        case_of(&app, &karin, &hassan_case()).await["data"]["case"]["viewerRelation"],
        "FAMILY_THERAPIST"
    );

    let cleared = app
        .graphql_as(
            &johan,
            SET,
            json!({ "input": { "caseId": hassan_case(), "therapistIds": [] } }),
        )
        .await;
    let history = cleared["data"]["setFamilyTherapists"]["case"]["responsibilityHistory"]
        .as_array()
        .unwrap()
        .clone();
    let therapist_period = history
        .iter()
        .find(|h| h["responsibility"] == "FAMILY_THERAPIST")
        .expect("kept in the history");
    assert!(therapist_period["endedAt"].is_string());
    assert_eq!(
        first_error_code(&case_of(&app, &karin, &hassan_case()).await),
        Some("NOT_FOUND")
    );
    // Only the primary caseworker or the team lead.
    let by_therapist = app
        .graphql_as(
            &karin,
            SET,
            json!({ "input": { "caseId": nilsson_case(), "therapistIds": [] } }),
        )
        .await;
    assert_eq!(first_error_code(&by_therapist), Some("FORBIDDEN"));
    app.stop().await;
}
