//! Read state, read receipts, quiet hours, away periods with partner cover,
//! urgent help, the notifications feed, push deliveries through the outbox,
//! the `viewerEvents` stream with replay, and live delivery across two
//! server processes on one PostgreSQL.

use std::{sync::Mutex, time::Duration};

use chrono::{Timelike, Utc};
use integration_tests::{
    Backend, TestApp, TestDatabase, WsClient, api_binary, assert_cost_does_not_grow,
    first_error_code, global_id, on_both_backends,
    process::ServerProcess,
    stub::{Answer, Stub},
};
use serde_json::{Value, json};

on_both_backends!(
    unread_counts_follow_reads_and_receipts_respect_the_readers_choice,
    quiet_hours_hold_notifications_and_the_sender_sees_it,
    an_away_caseworker_is_covered_by_the_partner,
    urgent_help_reaches_caseworkers_and_the_team_lead_at_once_and_is_audited,
    viewer_events_replay_from_a_cursor_then_go_live_without_gap_or_duplicate,
    push_notifications_are_retried_until_delivered_and_carry_no_content,
    live_messages_cross_server_processes,
    goal_changes_reach_whoever_may_see_the_goal,
    a_withdrawn_consent_stops_events_even_on_replay,
    the_unread_count_costs_the_same_for_few_or_many_conversations,
    the_demo_has_an_away_caseworker_whose_partner_covers,
);

fn nilsson_case() -> String {
    global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000),
    )
}

const ANNA: &str = "caseworker@exempelby.example";
const JOHAN: &str = "partner@exempelby.example";
const MARIA: &str = "teamlead@exempelby.example";
const SARA: &str = "guardian@exempelby.example";
const ELIAS: &str = "young@exempelby.example";

async fn start(app: &TestApp, token: &str, kind: &str) -> String {
    let body = app
        .graphql_as(
            token,
            "mutation($input: StartConversationInput!) { startConversation(input: $input) {
                conversation { id } userErrors { code } } }",
            json!({ "input": { "caseId": nilsson_case(), "kind": kind } }),
        )
        .await;
    body["data"]["startConversation"]["conversation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

const SEND: &str = "mutation($input: SendMessageInput!) { sendMessage(input: $input) {
    message { id cursor sequence urgent } userErrors { code field message } } }";

async fn send_as(
    app: &TestApp,
    token: &str,
    conversation: &str,
    client_id: &str,
    text: &str,
    urgent: bool,
) -> Value {
    let body = app
        .graphql_as(
            token,
            SEND,
            json!({ "input": { "conversationId": conversation, "clientMessageId": client_id,
                "body": text, "urgent": urgent } }),
        )
        .await;
    body["data"]["sendMessage"].clone()
}

async fn send(
    app: &TestApp,
    token: &str,
    conversation: &str,
    client_id: &str,
    text: &str,
) -> Value {
    let payload = send_as(app, token, conversation, client_id, text, false).await;
    assert!(payload["message"].is_object(), "{payload}");
    payload["message"].clone()
}

async fn unread(app: &TestApp, token: &str) -> i64 {
    let body = app
        .graphql_as(token, "{ viewer { unreadMessageCount } }", json!({}))
        .await;
    body["data"]["viewer"]["unreadMessageCount"]
        .as_i64()
        .unwrap_or_else(|| panic!("{body}"))
}

async fn conversation_unread(app: &TestApp, token: &str, conversation: &str) -> i64 {
    let body = app
        .graphql_as(
            token,
            "query($id: ID!) { node(id: $id) { ... on Conversation { unreadCount } } }",
            json!({ "id": conversation }),
        )
        .await;
    body["data"]["node"]["unreadCount"]
        .as_i64()
        .unwrap_or_else(|| panic!("{body}"))
}

async fn receipts(app: &TestApp, token: &str, message: &Value) -> Vec<Value> {
    let body = app
        .graphql_as(
            token,
            "query($id: ID!) { node(id: $id) { ... on Message { receipts {
                recipient { displayName } status readAt notificationHeldUntil covering } } } }",
            json!({ "id": message["id"] }),
        )
        .await;
    body["data"]["node"]["receipts"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone()
}

fn receipt_of<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter()
        .find(|r| r["recipient"]["displayName"] == name)
        .unwrap_or_else(|| panic!("no receipt for {name}: {list:?}"))
}

const MARK_READ: &str =
    "mutation($input: MarkConversationReadInput!) { markConversationRead(input: $input) {
    conversation { unreadCount readUpTo } userErrors { code field } } }";

async fn unread_counts_follow_reads_and_receipts_respect_the_readers_choice(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let before = unread(&app, &sara).await;
    let conversation = start(&app, &anna, "FAMILY").await;
    let first = send(&app, &anna, &conversation, "u1", "One").await;
    let second = send(&app, &anna, &conversation, "u2", "Two").await;
    let third = send(&app, &anna, &conversation, "u3", "Three").await;

    assert_eq!(unread(&app, &sara).await, before + 3);
    assert_eq!(conversation_unread(&app, &sara, &conversation).await, 3);
    assert_eq!(
        conversation_unread(&app, &anna, &conversation).await,
        0,
        "the author's own messages are read"
    );

    // Sara reads up to the second message.
    let read = app
        .graphql_as(
            &sara,
            MARK_READ,
            json!({ "input": { "conversationId": conversation, "upTo": second["cursor"] } }),
        )
        .await;
    assert_eq!(
        read["data"]["markConversationRead"]["conversation"],
        json!({ "unreadCount": 1, "readUpTo": second["cursor"] }),
        "{read}"
    );
    assert_eq!(unread(&app, &sara).await, before + 1);
    let list = receipts(&app, &anna, &first).await;
    assert_eq!(receipt_of(&list, "Sara Nilsson")["status"], "READ");
    let list = receipts(&app, &anna, &third).await;
    assert_eq!(receipt_of(&list, "Sara Nilsson")["status"], "DELIVERED");
    // Only the author sees receipts.
    assert_eq!(receipts(&app, &sara, &third).await, Vec::<Value>::new());

    // Sara turns read receipts off, then reads everything: Anna sees
    // the last message delivered, not read.
    let off = app
        .graphql_as(
            &sara,
            "mutation { updateContactSettings(input: { sendReadReceipts: false }) {
                contactSettings { sendReadReceipts } userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        off["data"]["updateContactSettings"]["contactSettings"]["sendReadReceipts"],
        false
    );
    app.graphql_as(
        &sara,
        MARK_READ,
        json!({ "input": { "conversationId": conversation } }),
    )
    .await;
    assert_eq!(unread(&app, &sara).await, before);
    let list = receipts(&app, &anna, &third).await;
    assert_eq!(receipt_of(&list, "Sara Nilsson")["status"], "DELIVERED");
    assert!(receipt_of(&list, "Sara Nilsson")["readAt"].is_null());

    // Bad input changes nothing.
    let garbage = app
        .graphql_as(
            &sara,
            MARK_READ,
            json!({ "input": { "conversationId": conversation, "upTo": "nonsense" } }),
        )
        .await;
    assert_eq!(first_error_code(&garbage), Some("BAD_USER_INPUT"));
    let beyond = app
        .graphql_as(
            &sara,
            MARK_READ,
            json!({ "input": { "conversationId": conversation,
                "upTo": base64_cursor("seq:99") } }),
        )
        .await;
    assert_eq!(
        beyond["data"]["markConversationRead"]["userErrors"][0],
        json!({ "code": "INVALID_VALUE", "field": ["input", "upTo"] })
    );
    app.stop().await;
}

fn base64_cursor(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// Quiet hours around now, in UTC: (start, end) as `HH:MM`.
fn quiet_hours_around_now() -> (String, String) {
    let now = Utc::now();
    let minute = now.hour() * 60 + now.minute();
    let clock = |m: u32| format!("{:02}:{:02}", (m / 60) % 24, m % 60);
    (
        clock((minute + 1440 - 60) % 1440),
        clock((minute + 60) % 1440),
    )
}

async fn set_quiet_hours_now(app: &TestApp, token: &str) {
    let (start, end) = quiet_hours_around_now();
    let body = app
        .graphql_as(
            token,
            "mutation($input: UpdateContactSettingsInput!) { updateContactSettings(input: $input) {
                contactSettings { quietHours { start end timeZone } } userErrors { code } } }",
            json!({ "input": { "quietHours": { "start": start, "end": end, "timeZone": "UTC" } } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateContactSettings"]["contactSettings"]["quietHours"],
        json!({ "start": start, "end": end, "timeZone": "UTC" }),
        "{body}"
    );
}

async fn notifications(app: &TestApp, token: &str) -> Vec<Value> {
    let body = app
        .graphql_as(
            token,
            "{ notifications(first: 50) { edges { node { id kind title urgent read messageId
                actor { displayName } } } } viewer { unreadNotificationCount } }",
            json!({}),
        )
        .await;
    body["data"]["notifications"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn about(list: &[Value], message: &Value) -> Option<Value> {
    list.iter()
        .find(|n| n["messageId"] == message["id"])
        .cloned()
}

async fn quiet_hours_hold_notifications_and_the_sender_sees_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let conversation = start(&app, &anna, "FAMILY").await;

    // Bad settings are refused with the field at fault.
    for (quiet, field) in [
        (json!({ "start": "25:00", "end": "08:00" }), "start"),
        (json!({ "start": "21:00", "end": "8" }), "end"),
        (json!({ "start": "21:00", "end": "21:00" }), "end"),
        (
            json!({ "start": "21:00", "end": "08:00", "timeZone": "Mars/Olympus" }),
            "timeZone",
        ),
    ] {
        let body = app
            .graphql_as(
                &sara,
                "mutation($input: UpdateContactSettingsInput!) { updateContactSettings(input: $input) {
                    contactSettings { quietHours { start } } userErrors { code field } } }",
                json!({ "input": { "quietHours": quiet } }),
            )
            .await;
        let payload = &body["data"]["updateContactSettings"];
        assert!(payload["contactSettings"].is_null(), "{body}");
        assert_eq!(
            payload["userErrors"][0]["field"],
            json!(["input", "quietHours", field])
        );
    }
    let settings = app
        .graphql_as(
            &sara,
            "{ viewer { contactSettings { quietHours { start } } } }",
            json!({}),
        )
        .await;
    assert!(
        settings["data"]["viewer"]["contactSettings"]["quietHours"].is_null(),
        "nothing was changed: {settings}"
    );

    // Outside quiet hours, a message notifies at once; the feed has no text.
    let daytime = send(&app, &anna, &conversation, "q1", "See you on Tuesday").await;
    let feed = notifications(&app, &sara).await;
    let entry = about(&feed, &daytime).expect("notified at once");
    assert_eq!(entry["kind"], "MESSAGE_ADDED");
    assert_eq!(entry["title"], "You have a new message");
    assert_eq!(entry["actor"]["displayName"], "Anna Berg");
    assert!(!entry.to_string().contains("Tuesday"), "no message content");

    // During quiet hours the message still arrives, but the notification waits.
    set_quiet_hours_now(&app, &sara).await;
    let late = send(&app, &anna, &conversation, "q2", "A late question").await;
    let list = receipts(&app, &anna, &late).await;
    let held = receipt_of(&list, "Sara Nilsson")["notificationHeldUntil"]
        .as_str()
        .expect("the sender sees the notification is held")
        .to_owned();
    let held = chrono::DateTime::parse_from_rfc3339(&held).unwrap();
    assert!(held > Utc::now() + chrono::Duration::minutes(50));
    assert!(about(&notifications(&app, &sara).await, &late).is_none());
    assert_eq!(conversation_unread(&app, &sara, &conversation).await, 2);

    // Marking notifications read.
    let marked = app
        .graphql_as(
            &sara,
            "mutation($input: MarkNotificationsReadInput!) { markNotificationsRead(input: $input) {
                unreadNotificationCount userErrors { code } } }",
            json!({ "input": { "notificationIds": [entry["id"]] } }),
        )
        .await;
    assert_eq!(
        marked["data"]["markNotificationsRead"]["unreadNotificationCount"], 0,
        "{marked}"
    );
    let feed = notifications(&app, &sara).await;
    assert_eq!(about(&feed, &daytime).unwrap()["read"], true);
    // Someone else's notification cannot be marked.
    let other = app
        .graphql_as(
            &anna,
            "mutation($input: MarkNotificationsReadInput!) { markNotificationsRead(input: $input) {
                unreadNotificationCount } }",
            json!({ "input": { "notificationIds": [entry["id"]] } }),
        )
        .await;
    assert_eq!(first_error_code(&other), Some("NOT_FOUND"));
    app.stop().await;
}

async fn an_away_caseworker_is_covered_by_the_partner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let johan = app.login(JOHAN).await;
    let sara = app.login(SARA).await;
    let conversation = start(&app, &anna, "FAMILY").await;

    // Normally the partner hears of the family's messages without a notification.
    let ordinary = send(&app, &sara, &conversation, "a1", "Hello Anna").await;
    assert!(about(&notifications(&app, &anna).await, &ordinary).is_some());
    assert!(about(&notifications(&app, &johan).await, &ordinary).is_none());

    let until = (Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let away = app
        .graphql_as(
            &anna,
            "mutation($input: SetAwayPeriodInput!) { setAwayPeriod(input: $input) {
                contactSettings { away { until note } } userErrors { code field } } }",
            json!({ "input": { "until": until, "note": "Back on Thursday; Johan covers" } }),
        )
        .await;
    assert_eq!(
        away["data"]["setAwayPeriod"]["contactSettings"]["away"]["note"],
        "Back on Thursday; Johan covers",
        "{away}"
    );
    // The family sees it.
    let seen = app
        .graphql_as(
            &sara,
            "query($id: ID!) { case(id: $id) { primaryCaseworker { displayName away { note } } } }",
            json!({ "id": nilsson_case() }),
        )
        .await;
    assert_eq!(
        seen["data"]["case"]["primaryCaseworker"]["away"]["note"], "Back on Thursday; Johan covers",
        "{seen}"
    );

    let covered = send(&app, &sara, &conversation, "a2", "Is anyone there?").await;
    let johans = notifications(&app, &johan).await;
    let entry = about(&johans, &covered).expect("the partner is notified");
    assert_eq!(
        entry["title"],
        "New message (you are covering for a colleague)"
    );
    assert!(about(&notifications(&app, &anna).await, &covered).is_none());
    let list = receipts(&app, &sara, &covered).await;
    assert_eq!(receipt_of(&list, "Johan Ek")["covering"], true);
    // The partner can answer.
    send(
        &app,
        &johan,
        &conversation,
        "a3",
        "Johan here, Anna is away",
    )
    .await;

    // Bad input, and family members cannot mark themselves away.
    let past = app
        .graphql_as(
            &anna,
            "mutation($input: SetAwayPeriodInput!) { setAwayPeriod(input: $input) {
                userErrors { code field } } }",
            json!({ "input": { "until": "2020-01-01T00:00:00Z" } }),
        )
        .await;
    assert_eq!(
        past["data"]["setAwayPeriod"]["userErrors"][0],
        json!({ "code": "INVALID_VALUE", "field": ["input", "until"] })
    );
    let family = app
        .graphql_as(
            &sara,
            "mutation($input: SetAwayPeriodInput!) { setAwayPeriod(input: $input) {
                userErrors { code } } }",
            json!({ "input": { "until": until } }),
        )
        .await;
    assert_eq!(first_error_code(&family), Some("FORBIDDEN"));

    // Back again: Anna is notified, Johan is not.
    let back = app
        .graphql_as(
            &anna,
            "mutation { endAwayPeriod { contactSettings { away { until } } } }",
            json!({}),
        )
        .await;
    assert!(back["data"]["endAwayPeriod"]["contactSettings"]["away"].is_null());
    let after = send(&app, &sara, &conversation, "a4", "Welcome back").await;
    assert!(about(&notifications(&app, &anna).await, &after).is_some());
    assert!(about(&notifications(&app, &johan).await, &after).is_none());
    app.stop().await;
}

async fn urgent_help_reaches_caseworkers_and_the_team_lead_at_once_and_is_audited(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let johan = app.login(JOHAN).await;
    let maria = app.login(MARIA).await;
    let elias = app.login(ELIAS).await;
    let conversation = start(&app, &anna, "YOUNG_PERSON").await;
    // Anna has quiet hours now and is away: urgent help reaches her anyway.
    set_quiet_hours_now(&app, &anna).await;
    app.graphql_as(
        &anna,
        "mutation($input: SetAwayPeriodInput!) { setAwayPeriod(input: $input) { userErrors { code } } }",
        json!({ "input": { "until": (Utc::now() + chrono::Duration::days(1)).to_rfc3339() } }),
    )
    .await;

    let payload = send_as(&app, &elias, &conversation, "h1", "I need help now", true).await;
    let message = payload["message"].clone();
    assert_eq!(message["urgent"], true, "{payload}");
    for (token, who) in [
        (&anna, "primary"),
        (&johan, "partner"),
        (&maria, "team lead"),
    ] {
        let entry = about(&notifications(&app, token).await, &message)
            .unwrap_or_else(|| panic!("the {who} is notified at once"));
        assert_eq!(entry["urgent"], true);
        assert_eq!(entry["title"], "Urgent: a family member needs help now");
    }

    // Staff cannot send urgent help; nothing is sent.
    let staff = send_as(&app, &anna, &conversation, "h2", "Urgent?", true).await;
    assert!(staff["message"].is_null());
    assert_eq!(
        staff["userErrors"][0]["field"],
        json!(["input", "urgent"]),
        "{staff}"
    );

    // It is in the audit trail.
    let admin = app.login("admin@exempelby.example").await;
    let trail = app
        .graphql_as(
            &admin,
            "{ auditTrail(first: 20) { edges { node { action subjectId } } } }",
            json!({}),
        )
        .await;
    let audited = trail["data"]["auditTrail"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| {
            e["node"]["action"] == "URGENT_HELP_SENT" && e["node"]["subjectId"] == message["id"]
        });
    assert!(audited, "{trail}");
    app.stop().await;
}

async fn connect(app_addr: &str, token: &str) -> WsClient {
    let mut ws = WsClient::connect(
        &format!("ws://{app_addr}/graphql/ws"),
        "graphql-transport-ws",
    )
    .await;
    ws.send(json!({ "type": "connection_init", "payload": { "accessToken": token } }))
        .await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    ws
}

const EVENTS: &str = "subscription($after: String) { viewerEvents(after: $after) {
    cursor kind conversationId goalId readUpTo message { sequence body } actor { displayName } } }";

async fn subscribe_events(ws: &mut WsClient, after: Option<&str>) {
    ws.send(json!({ "id": "events", "type": "subscribe", "payload": {
        "query": EVENTS, "variables": { "after": after } } }))
        .await;
}

async fn next_event(ws: &mut WsClient) -> Value {
    let frame = ws.next().await.expect("an event");
    assert_eq!(frame["type"], "next", "{frame}");
    frame["payload"]["data"]["viewerEvents"].clone()
}

async fn viewer_events_replay_from_a_cursor_then_go_live_without_gap_or_duplicate(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let conversation = start(&app, &anna, "FAMILY").await;
    let addr = app.addr.to_string();

    let mut phone = connect(&addr, &sara).await;
    subscribe_events(&mut phone, None).await;
    // Give the subscription a moment to be set up before the first send.
    tokio::time::sleep(Duration::from_millis(200)).await;
    send(&app, &anna, &conversation, "e1", "One").await;
    let first = next_event(&mut phone).await;
    assert_eq!(first["kind"], "MESSAGE_ADDED");
    assert_eq!(first["message"], json!({ "sequence": 1, "body": "One" }));
    assert_eq!(first["conversationId"], conversation);
    let cursor = first["cursor"].as_str().unwrap().to_owned();
    drop(phone);

    // Offline: two messages arrive meanwhile.
    send(&app, &anna, &conversation, "e2", "Two").await;
    send(&app, &anna, &conversation, "e3", "Three").await;

    let mut phone = connect(&addr, &sara).await;
    subscribe_events(&mut phone, Some(&cursor)).await;
    assert_eq!(next_event(&mut phone).await["message"]["body"], "Two");
    assert_eq!(next_event(&mut phone).await["message"]["body"], "Three");
    send(&app, &anna, &conversation, "e4", "Four").await;
    // A retried send makes no second event.
    send(&app, &anna, &conversation, "e4", "Four").await;
    send(&app, &anna, &conversation, "e5", "Five").await;
    assert_eq!(next_event(&mut phone).await["message"]["body"], "Four");
    assert_eq!(next_event(&mut phone).await["message"]["body"], "Five");

    // Anna's stream shows Sara's read receipt.
    let mut desk = connect(&addr, &anna).await;
    subscribe_events(&mut desk, None).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.graphql_as(
        &sara,
        MARK_READ,
        json!({ "input": { "conversationId": conversation } }),
    )
    .await;
    let receipt = next_event(&mut desk).await;
    assert_eq!(receipt["kind"], "MESSAGES_READ");
    assert_eq!(receipt["actor"]["displayName"], "Sara Nilsson");
    assert_eq!(receipt["readUpTo"], base64_cursor("seq:5"));

    // A bad cursor is a clear error.
    let mut bad = connect(&addr, &sara).await;
    subscribe_events(&mut bad, Some("garbage")).await;
    let frame = bad.next().await.unwrap();
    assert!(frame["payload"]["data"].is_null(), "{frame}");
    assert_eq!(
        frame["payload"]["errors"][0]["extensions"],
        json!({ "code": "BAD_USER_INPUT", "field": ["after"] })
    );
    app.stop().await;
}

/// A push gateway on loopback: answers with the given statuses in turn (then
/// 200), and records every body it receives.
struct Gateway {
    url: String,
    stub: Stub,
}

async fn gateway(statuses: Vec<u16>) -> Gateway {
    let statuses = Mutex::new(statuses.into_iter());
    let stub =
        Stub::start(move |_| Answer::status(statuses.lock().unwrap().next().unwrap_or(200))).await;
    Gateway {
        url: format!("{}/push", stub.base),
        stub,
    }
}

impl Gateway {
    fn received(&self) -> Vec<Value> {
        self.stub
            .requests()
            .iter()
            .map(|r| serde_json::from_str(&r.body).unwrap_or(Value::Null))
            .collect()
    }

    async fn wait_for(&self, count: usize) -> Vec<Value> {
        for _ in 0..100 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the gateway got {:?}, expected {count} pushes",
            self.received()
        );
    }
}

async fn push_notifications_are_retried_until_delivered_and_carry_no_content(backend: Backend) {
    // The gateway fails twice, then accepts.
    let gateway = gateway(vec![503, 500]).await;
    let url = gateway.url.clone();
    let app = TestApp::spawn_with(backend, |config| {
        config.push_gateway_url = Some(url);
        config.push_retry_base_ms = 100;
    })
    .await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let conversation = start(&app, &anna, "FAMILY").await;

    const REGISTER: &str =
        "mutation($input: RegisterPushDeviceInput!) { registerPushDevice(input: $input) {
        device { id platform active } userErrors { code field } } }";
    let registered = app
        .graphql_as(
            &sara,
            REGISTER,
            json!({ "input": { "platform": "ANDROID", "token": "sara-phone-token" } }),
        )
        .await;
    let device = registered["data"]["registerPushDevice"]["device"].clone();
    assert_eq!(device["platform"], "ANDROID", "{registered}");
    // Registering again returns the same device.
    let again = app
        .graphql_as(
            &sara,
            REGISTER,
            json!({ "input": { "platform": "ANDROID", "token": "sara-phone-token" } }),
        )
        .await;
    assert_eq!(
        again["data"]["registerPushDevice"]["device"]["id"],
        device["id"]
    );
    // An endpoint the server does not deliver to is refused.
    let elsewhere = app
        .graphql_as(
            &sara,
            REGISTER,
            json!({ "input": { "platform": "WEB", "token": "t", "endpoint": "http://169.254.169.254/" } }),
        )
        .await;
    assert_eq!(
        elsewhere["data"]["registerPushDevice"]["userErrors"][0]["field"],
        json!(["input", "endpoint"])
    );

    send(
        &app,
        &anna,
        &conversation,
        "p1",
        "The secret details of the meeting",
    )
    .await;
    let received = gateway.wait_for(3).await;
    assert_eq!(received.len(), 3, "two failures, then one delivery");
    for body in &received {
        assert_eq!(body["token"], "sara-phone-token");
        assert_eq!(body["notification"]["title"], "You have a new message");
        assert!(!body.to_string().contains("secret"), "no content: {body}");
    }
    // Delivered: no more attempts.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(gateway.received().len(), 3);

    // After unregistering, nothing more is pushed.
    let gone = app
        .graphql_as(
            &sara,
            "mutation($input: UnregisterPushDeviceInput!) { unregisterPushDevice(input: $input) {
                device { active } } }",
            json!({ "input": { "deviceId": device["id"] } }),
        )
        .await;
    assert_eq!(
        gone["data"]["unregisterPushDevice"]["device"]["active"],
        false
    );
    send(&app, &anna, &conversation, "p2", "Another").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(gateway.received().len(), 3);
    app.stop().await;
}

fn server_env(database: &TestDatabase) -> Vec<(&'static str, String)> {
    let mut envs = vec![("DATA_DIR", database.data_dir.display().to_string())];
    if let Some(url) = &database.database_url {
        envs.push(("DATABASE_URL", url.clone()));
    }
    envs
}

/// Two server processes on one database: a message sent through one reaches
/// a subscriber connected to the other (PostgreSQL `LISTEN/NOTIFY`). SQLite
/// is one process by design; there the test runs the same flow on one.
async fn live_messages_cross_server_processes(backend: Backend) {
    let postgres = matches!(backend, Backend::Postgres { .. });
    let database = TestDatabase::create(&backend).await;
    let envs = server_env(&database);
    let refs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let first = ServerProcess::start(api_binary!(), &["--demo"], &refs).await;
    let second = if postgres {
        Some(ServerProcess::start(api_binary!(), &[], &refs).await)
    } else {
        None
    };
    let sender_url = first.graphql_url();
    let listener_addr = second.as_ref().unwrap_or(&first).addr.to_string();
    let client = reqwest::Client::new();
    let anna = integration_tests::login(&client, &sender_url, ANNA).await;
    let sara = integration_tests::login(&client, &sender_url, SARA).await;
    let post = |token: String, query: &'static str, variables: Value| {
        let client = client.clone();
        let url = sender_url.clone();
        async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": query, "variables": variables }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let started = post(
        anna.clone(),
        "mutation($input: StartConversationInput!) { startConversation(input: $input) { conversation { id } } }",
        json!({ "input": { "caseId": nilsson_case(), "kind": "FAMILY" } }),
    )
    .await;
    let conversation = started["data"]["startConversation"]["conversation"]["id"].clone();

    // Sara listens on the other process, to the conversation and her stream.
    let mut ws = connect(&listener_addr, &sara).await;
    ws.send(json!({ "id": "m", "type": "subscribe", "payload": {
        "query": "subscription($id: ID!) { messageAdded(conversationId: $id) { body } }",
        "variables": { "id": conversation } } }))
        .await;
    subscribe_events(&mut ws, None).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    for n in 1..=3 {
        let sent = post(
            anna.clone(),
            SEND,
            json!({ "input": { "conversationId": conversation, "clientMessageId": format!("x{n}"),
                "body": format!("Across {n}"), "urgent": false } }),
        )
        .await;
        assert!(sent["data"]["sendMessage"]["message"].is_object(), "{sent}");
    }
    let mut bodies = Vec::new();
    let mut events = 0;
    while bodies.len() < 3 || events < 3 {
        let frame = ws.next().await.expect("a frame");
        assert_eq!(frame["type"], "next", "{frame}");
        match frame["id"].as_str() {
            Some("m") => bodies.push(frame["payload"]["data"]["messageAdded"]["body"].clone()),
            _ => events += 1,
        }
    }
    assert_eq!(
        bodies,
        vec![json!("Across 1"), json!("Across 2"), json!("Across 3")]
    );
    first.kill_9().await;
    if let Some(second) = second {
        second.kill_9().await;
    }
}

async fn create_goal(app: &TestApp, token: &str, title: &str, visibility: &str) -> Value {
    let body = app
        .graphql_as(
            token,
            "mutation($input: CreateGoalInput!) { createGoal(input: $input) { goal { id } userErrors { code field } } }",
            json!({ "input": { "caseId": nilsson_case(), "title": title, "description": "In our words",
                "horizon": "SHORT_TERM", "owner": "SHARED", "visibility": visibility, "activate": true,
                "childId": global_id("FamilyMember", uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0003_0000_0002)) } }),
        )
        .await;
    body["data"]["createGoal"]["goal"]
        .as_object()
        .map(|g| g["id"].clone())
        .unwrap_or_else(|| panic!("{body}"))
}

fn about_goal(list: &[Value], goal: &Value) -> Option<Value> {
    list.iter().find(|n| n["goalId"] == *goal).cloned()
}

async fn goal_notifications(app: &TestApp, token: &str) -> Vec<Value> {
    let body = app
        .graphql_as(
            token,
            "{ notifications(first: 50) { edges { node { kind title goalId actor { displayName } } } } }",
            json!({}),
        )
        .await;
    body["data"]["notifications"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn goal_changes_reach_whoever_may_see_the_goal(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let elias = app.login(ELIAS).await;
    let addr = app.addr.to_string();
    let mut desk = connect(&addr, &anna).await;
    subscribe_events(&mut desk, None).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let shared = create_goal(&app, &anna, "Sleep before ten", "FAMILY").await;
    let private = create_goal(&app, &anna, "Talk about school", "YOUNG_PERSON").await;
    let entry = about_goal(&goal_notifications(&app, &sara).await, &shared)
        .expect("the guardian hears of it");
    assert_eq!(entry["kind"], "GOAL_CHANGED");
    assert_eq!(entry["title"], "A goal was updated");
    assert_eq!(entry["actor"]["displayName"], "Anna Berg");
    assert!(
        about_goal(&goal_notifications(&app, &sara).await, &private).is_none(),
        "a young person's own goal is private from the guardian"
    );
    assert!(about_goal(&goal_notifications(&app, &elias).await, &private).is_some());

    // The family adds progress: the caseworker is notified and sees it live.
    let progress = app
        .graphql_as(
            &sara,
            "mutation($input: AddGoalProgressInput!) { addGoalProgress(input: $input) { userErrors { code } } }",
            json!({ "input": { "goalId": shared, "note": "Three nights in a row", "rating": 3 } }),
        )
        .await;
    assert_eq!(
        progress["data"]["addGoalProgress"]["userErrors"],
        json!([]),
        "{progress}"
    );
    let event = next_event(&mut desk).await;
    assert_eq!(event["kind"], "GOAL_CHANGED");
    assert_eq!(event["actor"]["displayName"], "Sara Nilsson");
    assert!(about_goal(&goal_notifications(&app, &anna).await, &shared).is_some());
    app.stop().await;
}

async fn a_withdrawn_consent_stops_events_even_on_replay(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let bup = app.login("bup@exempelby.example").await;
    let care_team = start(&app, &anna, "CARE_TEAM").await;
    let addr = app.addr.to_string();

    let mut clinic = connect(&addr, &bup).await;
    subscribe_events(&mut clinic, None).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    send(&app, &anna, &care_team, "w1", "Before").await;
    let first = next_event(&mut clinic).await;
    assert_eq!(first["message"]["body"], "Before");
    let cursor = first["cursor"].as_str().unwrap().to_owned();
    drop(clinic);

    // While the clinic is offline: a message, then the family withdraws consent.
    send(&app, &anna, &care_team, "w2", "Sent while the consent held").await;
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
    app.graphql_as(
        &sara,
        "mutation($input: WithdrawConsentInput!) { withdrawConsent(input: $input) { consent { active } } }",
        json!({ "input": { "consentId": bup_consent } }),
    )
    .await;
    send(&app, &anna, &care_team, "w3", "After").await;

    // Replaying from the cursor delivers nothing about the conversation.
    let mut clinic = connect(&addr, &bup).await;
    subscribe_events(&mut clinic, Some(&cursor)).await;
    let frame = clinic.next_within(Duration::from_millis(1500)).await;
    assert!(frame.is_none(), "nothing is delivered: {frame:?}");
    app.stop().await;
}

async fn the_unread_count_costs_the_same_for_few_or_many_conversations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    const HOME: &str = "{ viewer { unreadMessageCount unreadNotificationCount } }";
    let first = start(&app, &anna, "FAMILY").await;
    send(&app, &anna, &first, "s1", "One").await;
    let (few, body) = app.statements_for(&sara, HOME, json!({})).await;
    let base = body["data"]["viewer"]["unreadMessageCount"]
        .as_i64()
        .unwrap();
    for n in 0..4 {
        let conversation = start(&app, &anna, "FAMILY").await;
        send(&app, &anna, &conversation, &format!("m{n}"), "Hello").await;
        send(&app, &anna, &conversation, &format!("n{n}"), "Again").await;
    }
    let (many, body) = app.statements_for(&sara, HOME, json!({})).await;
    assert_eq!(
        body["data"]["viewer"]["unreadMessageCount"]
            .as_i64()
            .unwrap(),
        base + 8
    );
    println!("home-screen unread counts: {few} SQL statements with 1 conversation, {many} with 5");
    assert_cost_does_not_grow(few, many, 8, "unread counts");
    assert!(
        many <= 4,
        "a home screen's unread counts cost at most 4 statements: {many}"
    );
    app.stop().await;
}

async fn the_demo_has_an_away_caseworker_whose_partner_covers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mikael = app.login("caseworker3@exempelby.example").await;
    let body = app
        .graphql_as(
            &mikael,
            "{ cases(first: 100) { edges { node { primaryCaseworker { displayName away { until note } }
                partnerCaseworker { displayName } } } } }",
            json!({}),
        )
        .await;
    let covered = body["data"]["cases"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|e| {
            let case = &e["node"];
            case["primaryCaseworker"]["displayName"] == "Lena Åberg"
                && case["primaryCaseworker"]["away"]["note"].is_string()
                && case["partnerCaseworker"]["displayName"] == "Mikael Strand"
        })
        .count();
    assert!(covered > 0, "{body}");
    app.stop().await;
}
