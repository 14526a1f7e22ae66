//! Conversations and messages: idempotent sends from flaky phones, order and
//! catch-up by cursor, who may read what, withdrawing and editing.

use integration_tests::{Backend, TestApp, first_error_code, global_id, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    a_retried_send_returns_the_original_and_concurrent_retries_make_one_message,
    messages_come_in_order_and_a_phone_catches_up_from_its_cursor,
    conversations_are_visible_by_kind_participants_and_consent,
    a_withdrawn_message_stays_in_the_record_and_edits_keep_the_text_fresh,
    a_subscriber_gets_the_backlog_then_live_messages_without_gap_or_duplicate,
    live_delivery_stops_when_the_consent_is_withdrawn,
);

fn nilsson_case() -> String {
    global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000),
    )
}

const START: &str = "mutation($input: StartConversationInput!) { startConversation(input: $input) {
    conversation { id kind familyParticipants { displayName } } userErrors { code field } } }";
const SEND: &str = "mutation($input: SendMessageInput!) { sendMessage(input: $input) {
    message { id sequence body clientMessageId } userErrors { code field } } }";
const MESSAGES: &str = "query($id: ID!, $first: Int!, $after: String) { messages(conversationId: $id, first: $first, after: $after) {
    edges { cursor node { sequence body withdrawn author { displayName } } } pageInfo { hasNextPage endCursor } } }";

async fn start(app: &TestApp, token: &str, kind: &str) -> Value {
    let body = app
        .graphql_as(
            token,
            START,
            json!({ "input": { "caseId": nilsson_case(), "kind": kind } }),
        )
        .await;
    body["data"]["startConversation"]["conversation"]["id"].clone()
}

async fn send(
    app: &TestApp,
    token: &str,
    conversation: &Value,
    client_id: &str,
    text: &str,
) -> Value {
    app.graphql_as(
        token,
        SEND,
        json!({ "input": { "conversationId": conversation, "clientMessageId": client_id, "body": text } }),
    )
    .await
}

async fn count(app: &TestApp, token: &str, conversation: &Value) -> usize {
    app.graphql_as(token, MESSAGES, json!({ "id": conversation, "first": 100 }))
        .await["data"]["messages"]["edges"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(usize::MAX)
}

async fn a_retried_send_returns_the_original_and_concurrent_retries_make_one_message(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;
    let conversation = start(&app, &anna, "FAMILY").await;

    let first = send(
        &app,
        &sara,
        &conversation,
        "phone-1",
        "Can we move Thursday?",
    )
    .await;
    let retry = send(
        &app,
        &sara,
        &conversation,
        "phone-1",
        "Can we move Thursday?",
    )
    .await;
    assert_eq!(
        first["data"]["sendMessage"]["message"]["id"],
        retry["data"]["sendMessage"]["message"]["id"],
        "{retry}"
    );
    assert_eq!(
        first["data"]["sendMessage"]["message"]["clientMessageId"],
        "phone-1"
    );
    let conflict = send(&app, &sara, &conversation, "phone-1", "Something else").await;
    assert_eq!(first_error_code(&conflict), Some("CONFLICT"));
    assert_eq!(count(&app, &anna, &conversation).await, 1);

    let empty = send(&app, &sara, &conversation, "phone-2", "   ").await;
    assert_eq!(
        empty["data"]["sendMessage"]["userErrors"],
        json!([{ "code": "REQUIRED", "field": ["input", "body"] }])
    );
    let long = send(&app, &sara, &conversation, "phone-3", &"x".repeat(4001)).await;
    assert_eq!(
        long["data"]["sendMessage"]["userErrors"][0]["code"],
        "TOO_LONG"
    );

    // Ten retries of one send at once (an outbox flushing on a flaky network).
    let sends: Vec<_> = (0..10)
        .map(|_| send(&app, &sara, &conversation, "phone-4", "Running late"))
        .collect();
    let answers = futures_util::future::join_all(sends).await;
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .map(|a| {
            a["data"]["sendMessage"]["message"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{a}"))
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one message for ten retries");
    assert_eq!(count(&app, &anna, &conversation).await, 2);
    app.stop().await;
}

async fn messages_come_in_order_and_a_phone_catches_up_from_its_cursor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;
    let conversation = start(&app, &anna, "FAMILY").await;
    for n in 1..=5 {
        let token = if n % 2 == 0 { &anna } else { &sara };
        send(
            &app,
            token,
            &conversation,
            &format!("m{n}"),
            &format!("Message {n}"),
        )
        .await;
    }
    let page = app
        .graphql_as(&sara, MESSAGES, json!({ "id": conversation, "first": 2 }))
        .await;
    let seen: Vec<i64> = page["data"]["messages"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(seen, [1, 2]);
    assert_eq!(page["data"]["messages"]["pageInfo"]["hasNextPage"], true);
    // The phone goes offline with cursor 2; two more arrive meanwhile.
    let cursor = page["data"]["messages"]["pageInfo"]["endCursor"].clone();
    send(&app, &anna, &conversation, "m6", "Message 6").await;
    let rest = app
        .graphql_as(
            &sara,
            MESSAGES,
            json!({ "id": conversation, "first": 50, "after": cursor }),
        )
        .await;
    let bodies: Vec<&str> = rest["data"]["messages"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        ["Message 3", "Message 4", "Message 5", "Message 6"],
        "no gap, no duplicate"
    );
    let bad = app
        .graphql_as(
            &sara,
            MESSAGES,
            json!({ "id": conversation, "first": 5, "after": "nonsense" }),
        )
        .await;
    assert_eq!(first_error_code(&bad), Some("BAD_USER_INPUT"));
    app.stop().await;
}

async fn conversations_are_visible_by_kind_participants_and_consent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;
    let elias = app.login("young@exempelby.example").await;
    let birgitta = app.login("network@exempelby.example").await;
    let teacher = app.login("teacher@exempelby.example").await;
    let bup = app.login("bup@exempelby.example").await;
    let lena = app.login("caseworker2@exempelby.example").await;

    let family = start(&app, &anna, "FAMILY").await;
    let private = start(&app, &anna, "YOUNG_PERSON").await;
    let care_team = start(&app, &anna, "CARE_TEAM").await;
    let by_guardian = app
        .graphql_as(
            &sara,
            START,
            json!({ "input": { "caseId": nilsson_case(), "kind": "FAMILY" } }),
        )
        .await;
    assert_eq!(first_error_code(&by_guardian), Some("FORBIDDEN"));

    let can_read = |token: String, conversation: Value| {
        let app = &app;
        async move {
            let body = app
                .graphql_as(&token, MESSAGES, json!({ "id": conversation, "first": 5 }))
                .await;
            match first_error_code(&body) {
                None => true,
                Some("NOT_FOUND") => false,
                other => panic!("unexpected {other:?}: {body}"),
            }
        }
    };
    // (who, family conversation, young person's, care team)
    let rows = [
        ("primary caseworker", &anna, true, true, true),
        ("guardian", &sara, true, false, false),
        ("young person", &elias, false, true, false),
        ("network member", &birgitta, false, false, false),
        (
            "school without MESSAGES consent",
            &teacher,
            false,
            false,
            false,
        ),
        (
            "child psychiatry with MESSAGES consent",
            &bup,
            false,
            false,
            true,
        ),
        ("caseworker not on the case", &lena, false, false, false),
    ];
    for (who, token, in_family, in_private, in_care_team) in rows {
        assert_eq!(
            can_read(token.clone(), family.clone()).await,
            in_family,
            "{who}: family conversation"
        );
        assert_eq!(
            can_read(token.clone(), private.clone()).await,
            in_private,
            "{who}: young person's conversation"
        );
        assert_eq!(
            can_read(token.clone(), care_team.clone()).await,
            in_care_team,
            "{who}: care-team conversation"
        );
    }
    let by_guardian = send(&app, &sara, &private, "x1", "Let me in").await;
    assert_eq!(first_error_code(&by_guardian), Some("NOT_FOUND"));
    let listed = app
        .graphql_as(
            &sara,
            "query($id: ID!) { case(id: $id) { conversations { kind } } }",
            json!({ "id": nilsson_case() }),
        )
        .await;
    // The demo's family conversation and this test's; never the young
    // person's or the care team's.
    let kinds = listed["data"]["case"]["conversations"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(kinds.len() >= 2, "{listed}");
    assert!(kinds.iter().all(|c| c["kind"] == "FAMILY"), "{listed}");
    app.stop().await;
}

async fn a_withdrawn_message_stays_in_the_record_and_edits_keep_the_text_fresh(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;
    let karin = app.login("therapist@exempelby.example").await;
    let conversation = start(&app, &anna, "FAMILY").await;
    let sent = send(&app, &sara, &conversation, "w1", "I am so angry today").await;
    let id = sent["data"]["sendMessage"]["message"]["id"].clone();

    let by_other = app
        .graphql_as(&anna, "mutation($input: WithdrawMessageInput!) { withdrawMessage(input: $input) { message { withdrawn } } }", json!({ "input": { "messageId": id } }))
        .await;
    assert_eq!(first_error_code(&by_other), Some("FORBIDDEN"));
    let withdrawn = app
        .graphql_as(&sara, "mutation($input: WithdrawMessageInput!) { withdrawMessage(input: $input) { message { withdrawn body } } }", json!({ "input": { "messageId": id } }))
        .await;
    assert_eq!(
        withdrawn["data"]["withdrawMessage"]["message"]["withdrawn"], true,
        "{withdrawn}"
    );

    let read = |token: String| {
        let app = &app;
        let conversation = conversation.clone();
        async move {
            app.graphql_as(&token, MESSAGES, json!({ "id": conversation, "first": 5 }))
                .await["data"]["messages"]["edges"][0]["node"]
                .clone()
        }
    };
    assert_eq!(
        read(anna.clone()).await["body"],
        "I am so angry today",
        "the record keeps it for the caseworker"
    );
    // Reading a withdrawn original is audited.
    let admin = app.login("admin@exempelby.example").await;
    let trail = app
        .graphql_as(
            &admin,
            "{ auditTrail(first: 20) { edges { node { action subjectId } } } }",
            json!({}),
        )
        .await;
    assert!(
        trail["data"]["auditTrail"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |e| e["node"]["action"] == "WITHDRAWN_MESSAGE_READ" && e["node"]["subjectId"] == id
            ),
        "{trail}"
    );
    assert_eq!(
        read(karin.clone()).await["body"],
        Value::Null,
        "others see it withdrawn"
    );
    assert_eq!(read(karin).await["withdrawn"], true);

    let second = send(&app, &sara, &conversation, "w2", "See you Thursday").await;
    let second_id = second["data"]["sendMessage"]["message"]["id"].clone();
    let edited = app
        .graphql_as(&sara, "mutation($input: EditMessageInput!) { editMessage(input: $input) { message { body editedAt } userErrors { code } } }", json!({ "input": { "messageId": second_id, "body": "See you Friday" } }))
        .await;
    assert_eq!(
        edited["data"]["editMessage"]["message"]["body"], "See you Friday",
        "{edited}"
    );
    assert!(edited["data"]["editMessage"]["message"]["editedAt"].is_string());
    app.stop().await;
}

async fn subscribe(
    app: &TestApp,
    token: &str,
    conversation: &Value,
    after: Option<&Value>,
) -> integration_tests::WsClient {
    let mut ws = app.websocket("graphql-transport-ws").await;
    ws.send(json!({ "type": "connection_init", "payload": { "accessToken": token } }))
        .await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    ws.send(json!({ "id": "live", "type": "subscribe", "payload": {
        "query": "subscription($id: ID!, $after: String) { messageAdded(conversationId: $id, after: $after) { sequence body } }",
        "variables": { "id": conversation, "after": after },
    } }))
    .await;
    ws
}

async fn next_body(ws: &mut integration_tests::WsClient) -> Value {
    let message = ws.next().await.expect("a message");
    assert_eq!(message["type"], "next", "{message}");
    message["payload"]["data"]["messageAdded"].clone()
}

async fn a_subscriber_gets_the_backlog_then_live_messages_without_gap_or_duplicate(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;
    let conversation = start(&app, &anna, "FAMILY").await;
    send(&app, &anna, &conversation, "s1", "One").await;
    send(&app, &anna, &conversation, "s2", "Two").await;
    let page = app
        .graphql_as(&sara, MESSAGES, json!({ "id": conversation, "first": 1 }))
        .await;
    let cursor = page["data"]["messages"]["edges"][0]["cursor"].clone();

    // The phone has message 1; it subscribes from there.
    let mut ws = subscribe(&app, &sara, &conversation, Some(&cursor)).await;
    assert_eq!(
        next_body(&mut ws).await,
        json!({ "sequence": 2, "body": "Two" })
    );
    send(&app, &anna, &conversation, "s3", "Three").await;
    assert_eq!(
        next_body(&mut ws).await,
        json!({ "sequence": 3, "body": "Three" })
    );
    // A retried send is not delivered twice.
    send(&app, &anna, &conversation, "s3", "Three").await;
    send(&app, &sara, &conversation, "s4", "Four").await;
    assert_eq!(
        next_body(&mut ws).await,
        json!({ "sequence": 4, "body": "Four" })
    );
    app.stop().await;
}

async fn live_delivery_stops_when_the_consent_is_withdrawn(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;
    let bup = app.login("bup@exempelby.example").await;
    let conversation = start(&app, &anna, "CARE_TEAM").await;
    // Subscribing with the conversation's latest cursor: a message sent while
    // the subscription starts is delivered from the backlog.
    let latest = app
        .graphql_as(
            &bup,
            "query($id: ID!) { node(id: $id) { ... on Conversation { latestCursor } } }",
            json!({ "id": conversation }),
        )
        .await["data"]["node"]["latestCursor"]
        .clone();
    let mut ws = subscribe(&app, &bup, &conversation, Some(&latest)).await;
    send(&app, &anna, &conversation, "c1", "Before").await;
    assert_eq!(next_body(&mut ws).await["body"], "Before");

    let consents = app
        .graphql_as(
            &sara,
            "query($id: ID!) { case(id: $id) { consents { id organisation { name } } } }",
            json!({ "id": nilsson_case() }),
        )
        .await;
    let bup_consent = consents["data"]["case"]["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["organisation"]["name"] == "BUP Exempelby")
        .unwrap()["id"]
        .clone();
    app.graphql_as(&sara, "mutation($input: WithdrawConsentInput!) { withdrawConsent(input: $input) { consent { active } } }", json!({ "input": { "consentId": bup_consent } }))
        .await;
    send(&app, &anna, &conversation, "c2", "After the withdrawal").await;

    let end = ws.next().await.expect("the stream ends");
    assert_eq!(
        end,
        json!({ "id": "live", "type": "complete" }),
        "nothing more is delivered"
    );
    // Signing out ends a running subscription too.
    let family = start(&app, &anna, "FAMILY").await;
    let start_cursor = app
        .graphql_as(
            &sara,
            "query($id: ID!) { node(id: $id) { ... on Conversation { latestCursor } } }",
            json!({ "id": family }),
        )
        .await["data"]["node"]["latestCursor"]
        .clone();
    let mut sara_ws = subscribe(&app, &sara, &family, Some(&start_cursor)).await;
    send(&app, &anna, &family, "c3", "Hello").await;
    assert_eq!(
        next_body(&mut sara_ws).await["body"],
        "Hello",
        "the subscription is live"
    );
    app.graphql_as(
        &sara,
        "mutation { logout { endedSessionCount } }",
        json!({}),
    )
    .await;
    send(&app, &anna, &family, "c4", "Are you there?").await;
    assert_eq!(
        sara_ws.next().await.expect("the stream ends"),
        json!({ "id": "live", "type": "complete" })
    );
    let sara = app.login("guardian@exempelby.example").await;
    // And a guardian cannot subscribe to a conversation she is not in.
    let private = start(&app, &anna, "YOUNG_PERSON").await;
    let mut refused = subscribe(&app, &sara, &private, None).await;
    let answer = refused.next().await.unwrap();
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{answer}"
    );
    app.stop().await;
}
