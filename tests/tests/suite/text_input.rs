//! Text the API refuses whatever the field: control characters (U+0000
//! above all, which PostgreSQL cannot store) in any string of a request are
//! answered with `BAD_USER_INPUT` and the path of the value before anything
//! runs, never with `INTERNAL` or a database's words; tab, line feed and
//! carriage return stay allowed for multi-line text.

use integration_tests::{Backend, TestApp, first_error_code, global_id, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    a_sign_in_with_a_nul_in_the_email_is_bad_user_input_over_http_and_websocket,
    a_nul_or_control_character_in_a_strength_or_goal_is_refused_and_nothing_is_stored,
    a_closed_day_named_with_a_nul_is_refused_without_database_text,
);

fn nilsson_case() -> String {
    global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000),
    )
}

/// Asserts that `body` is the refusal of text at `field`: no data, one
/// `BAD_USER_INPUT` naming the field and the character, and nothing of the
/// database in the message.
fn assert_refused_text(body: &Value, field: &[&str], character: &str) {
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(first_error_code(body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        json!(field),
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(character), "{body}");
    for internal in ["database", "Query Error", "byte sequence", "UTF8"] {
        assert!(!message.contains(internal), "{body}");
    }
}

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) {
    tokens { accessToken } userErrors { code field } } }";

async fn a_sign_in_with_a_nul_in_the_email_is_bad_user_input_over_http_and_websocket(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;

    let in_variables = app
        .graphql(
            LOGIN,
            json!({ "input": { "email": "a\u{0}b", "password": "x", "deviceLabel": "d" } }),
        )
        .await;
    assert_refused_text(&in_variables, &["$input", "email"], "U+0000");

    let inline = app
        .graphql(
            r#"mutation { login(input: { email: "a\u0000b", password: "x", deviceLabel: "d" }) { tokens { accessToken } } }"#,
            json!({}),
        )
        .await;
    assert_refused_text(&inline, &["input", "email"], "U+0000");
    assert!(inline["errors"][0]["locations"].is_array(), "{inline}");

    let in_the_address = app
        .graphql(
            LOGIN,
            json!({ "input": { "email": "admin@exempelby.example\u{1b}", "password": "x" } }),
        )
        .await;
    assert_refused_text(&in_the_address, &["$input", "email"], "U+001B");

    let mut socket = app.websocket("graphql-transport-ws").await;
    socket
        .send(json!({ "type": "connection_init", "payload": {} }))
        .await;
    assert_eq!(socket.next().await.unwrap()["type"], "connection_ack");
    socket
        .send(json!({ "id": "1", "type": "subscribe", "payload": {
            "query": LOGIN,
            "variables": { "input": { "email": "a\u{0}b", "password": "x" } } } }))
        .await;
    let answer = socket.next().await.unwrap();
    assert_eq!(answer["id"], "1", "{answer}");
    let errors = match answer["type"].as_str() {
        Some("error") => &answer["payload"],
        _ => &answer["payload"]["errors"],
    };
    assert_eq!(
        errors[0]["extensions"]["code"], "BAD_USER_INPUT",
        "{answer}"
    );

    // A clean address still signs in.
    let good = app
        .graphql(
            LOGIN,
            json!({ "input": { "email": "admin@exempelby.example", "password": integration_tests::DEMO_PASSWORD } }),
        )
        .await;
    assert!(
        good["data"]["login"]["tokens"]["accessToken"].is_string(),
        "{good}"
    );
    app.stop().await;
}

const STRENGTH: &str =
    "mutation($input: AddFamilyStrengthInput!) { addFamilyStrength(input: $input) {
    strength { description } userErrors { code field } } }";
const CREATE_GOAL: &str = "mutation($input: CreateGoalInput!) { createGoal(input: $input) {
    goal { id } userErrors { code field } } }";

/// The strengths and the goals of the Nilssons' case, as the caseworker sees them.
async fn strengths_and_goals(app: &TestApp, token: &str) -> (Value, usize) {
    let body = app
        .graphql_as(
            token,
            "query($id: ID!) { case(id: $id) { strengths { description } goals { id } } }",
            json!({ "id": nilsson_case() }),
        )
        .await;
    let goals = body["data"]["case"]["goals"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .len();
    (body["data"]["case"]["strengths"].clone(), goals)
}

async fn a_nul_or_control_character_in_a_strength_or_goal_is_refused_and_nothing_is_stored(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;
    let before = strengths_and_goals(&app, &anna).await;

    let strength = |description: &str| json!({ "input": { "caseId": nilsson_case(), "description": description } });
    let with_nul = app
        .graphql_as(&sara, STRENGTH, strength("Grandmother\u{0} helps"))
        .await;
    assert_refused_text(&with_nul, &["$input", "description"], "U+0000");
    let with_bell = app
        .graphql_as(&sara, STRENGTH, strength("Grandmother\u{7} helps"))
        .await;
    assert_refused_text(&with_bell, &["$input", "description"], "U+0007");

    let goal = |title: &str, description: &str| {
        json!({ "input": { "caseId": nilsson_case(), "title": title, "description": description,
                           "horizon": "SHORT_TERM", "owner": "SHARED" } })
    };
    let nul_title = app
        .graphql_as(
            &anna,
            CREATE_GOAL,
            goal("Sleep\u{0}", "Elias sleeps at home"),
        )
        .await;
    assert_refused_text(&nul_title, &["$input", "title"], "U+0000");
    let nul_description = app
        .graphql_as(
            &anna,
            CREATE_GOAL,
            goal("Sleep", "Elias\u{0} sleeps at home"),
        )
        .await;
    assert_refused_text(&nul_description, &["$input", "description"], "U+0000");
    let inline = app
        .graphql_as(
            &anna,
            &format!(
                r#"mutation {{ createGoal(input: {{ caseId: "{}", title: "Sleep\u0000", description: "d", horizon: SHORT_TERM, owner: SHARED }}) {{ goal {{ id }} }} }}"#,
                nilsson_case()
            ),
            json!({}),
        )
        .await;
    assert_refused_text(&inline, &["input", "title"], "U+0000");

    assert_eq!(
        strengths_and_goals(&app, &anna).await,
        before,
        "nothing is stored"
    );

    // Multi-line text keeps its line breaks and tabs.
    let multi_line = app
        .graphql_as(
            &sara,
            STRENGTH,
            strength("Grandmother helps:\r\n\tMondays and Thursdays"),
        )
        .await;
    assert_eq!(
        multi_line["data"]["addFamilyStrength"],
        json!({ "strength": { "description": "Grandmother helps:\r\n\tMondays and Thursdays" }, "userErrors": [] }),
        "{multi_line}"
    );
    app.stop().await;
}

async fn a_closed_day_named_with_a_nul_is_refused_without_database_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.login("admin@exempelby.example").await;

    let body = app
        .graphql_as(
            &admin,
            r#"mutation { addClosedDay(input: { date: "2000-01-01", name: "a\u0000b" }) { closedDay { name } userErrors { code } } }"#,
            json!({}),
        )
        .await;
    assert_refused_text(&body, &["input", "name"], "U+0000");

    let days = app
        .graphql_as(
            &admin,
            r#"{ closedDays(from: "2000-01-01", to: "2000-01-01") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(days["data"]["closedDays"], json!([]), "{days}");

    // A date no database column can hold (PostgreSQL's dates begin in
    // 4713 BC) is the client's to fix, and no database text reaches it.
    let ancient = app
        .graphql_as(
            &admin,
            r#"mutation { addClosedDay(input: { date: "-5000-01-01", name: "Ancient" }) { closedDay { name } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        first_error_code(&ancient),
        Some("BAD_USER_INPUT"),
        "{ancient}"
    );
    let message = ancient["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("YYYY-MM-DD"), "{ancient}");
    app.stop().await;
}
