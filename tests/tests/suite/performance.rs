//! What the benchmark suite's screens cost in SQL statements, checked on the
//! demo data (the figures themselves come from `bench/`; here only counts,
//! which do not depend on the machine), and that the access facts kept
//! between requests to save them give way to access changes at once.

use integration_tests::{Backend, TestApp, global_id, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    a_family_home_screen_costs_at_most_four_statements,
    kept_access_facts_give_way_to_a_withdrawn_consent_at_once,
);

/// The benchmark's home screen (`bench/src/bin/municipality.rs`).
const HOME_SCREEN: &str = "query HomeScreen($from: DateTime!, $to: DateTime!) {
  viewer { unreadMessageCount }
  myAppointments(from: $from, to: $to) { id title kind startsAt endsAt locationKind location status }
  myGoals { id title status latestRating nextReviewDue }
}";

fn nilsson_case() -> String {
    global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000),
    )
}

/// Half a year either side of now: the demo family's appointments fall in it.
fn around_now() -> Value {
    let now = chrono::Utc::now();
    json!({
        "from": (now - chrono::Duration::days(180)).to_rfc3339(),
        "to": (now + chrono::Duration::days(180)).to_rfc3339(),
    })
}

async fn a_family_home_screen_costs_at_most_four_statements(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;
    // A review rates the case's active goals, so each has a latest rating.
    let goals = app
        .graphql_as(
            &anna,
            "query($id: ID!) { case(id: $id) { goals { id status } } }",
            json!({ "id": nilsson_case() }),
        )
        .await;
    let ratings: Vec<Value> = goals["data"]["case"]["goals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["status"] == "ACTIVE")
        .map(|g| json!({ "goalId": g["id"], "rating": 4 }))
        .collect();
    assert!(!ratings.is_empty(), "{goals}");
    let held_on = chrono::Utc::now()
        .date_naive()
        .pred_opt()
        .unwrap()
        .to_string();
    let review = app
        .graphql_as(
            &anna,
            "mutation($input: RecordFollowUpInput!) { recordFollowUp(input: $input) { userErrors { code field } } }",
            json!({ "input": { "caseId": nilsson_case(), "heldOn": held_on, "participants": ["Sara Nilsson", "Anna Berg"], "ratings": ratings } }),
        )
        .await;
    assert_eq!(
        review["data"]["recordFollowUp"]["userErrors"],
        json!([]),
        "{review}"
    );

    // And an appointment for the family, a few hours from now on any day.
    {
        use sea_orm::EntityTrait;
        entity::closed_day::Entity::delete_many()
            .exec(&app.db)
            .await
            .unwrap();
    }
    let sara_id = app.user_id(&sara).await;
    let starts = chrono::Utc::now() + chrono::Duration::hours(3);
    let booked = app
        .graphql_as(
            &anna,
            "mutation($input: ScheduleAppointmentInput!) { scheduleAppointment(input: $input) { appointment { id } userErrors { code } } }",
            json!({ "input": {
                "caseId": nilsson_case(), "kind": "FOLLOW_UP", "title": "Follow-up",
                "startsAt": starts.to_rfc3339(), "endsAt": (starts + chrono::Duration::hours(1)).to_rfc3339(),
                "participants": [{ "userId": sara_id }],
                "location": { "kind": "ADDRESS", "text": "Storgatan 1" } } }),
        )
        .await;
    assert!(
        booked["data"]["scheduleAppointment"]["appointment"]["id"].is_string(),
        "{booked}"
    );

    let (statements, body) = app.statements_for(&sara, HOME_SCREEN, around_now()).await;
    assert!(body["errors"].is_null(), "{body}");
    let goals = body["data"]["myGoals"].as_array().unwrap();
    assert!(!goals.is_empty(), "{body}");
    assert!(
        goals.iter().all(|g| g["latestRating"] == 4),
        "every goal shows the review's rating: {body}"
    );
    assert!(
        body["data"]["myAppointments"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "the demo family has appointments: {body}"
    );
    println!("home screen: {statements} SQL statements");
    assert!(
        statements <= 4,
        "a home screen costs at most 4 statements: {statements}"
    );
    app.stop().await;
}

async fn kept_access_facts_give_way_to_a_withdrawn_consent_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sara = app.login("guardian@exempelby.example").await;
    let bup = app.login("bup@exempelby.example").await;
    const CASE: &str = "query($id: ID!) { case(id: $id) { id goals { title } } }";
    let case = json!({ "id": nilsson_case() });
    // Read twice, so the case's access facts are kept.
    for _ in 0..2 {
        let seen = app.graphql_as(&bup, CASE, case.clone()).await;
        assert_eq!(seen["data"]["case"]["id"], nilsson_case(), "{seen}");
    }
    let consents = app
        .graphql_as(
            &sara,
            "query($id: ID!) { case(id: $id) { consents { id active organisation { name } } } }",
            case.clone(),
        )
        .await;
    let ids: Vec<Value> = consents["data"]["case"]["consents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["organisation"]["name"] == "BUP Exempelby" && c["active"] == true)
        .map(|c| c["id"].clone())
        .collect();
    assert!(!ids.is_empty(), "{consents}");
    for id in ids {
        let withdrawn = app
            .graphql_as(
                &sara,
                "mutation($input: WithdrawConsentInput!) { withdrawConsent(input: $input) { consent { active } } }",
                json!({ "input": { "consentId": id } }),
            )
            .await;
        assert_eq!(
            withdrawn["data"]["withdrawConsent"]["consent"]["active"], false,
            "{withdrawn}"
        );
    }
    // The very next request is judged on the new facts.
    let after = app.graphql_as(&bup, CASE, case).await;
    assert!(after["data"]["case"].is_null(), "{after}");
    app.stop().await;
}
