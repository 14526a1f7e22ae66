//! `kill -9` in the middle of a busy conversation: phones keep retrying until
//! the server acknowledges, the server comes back on the same data, and in the
//! end every message is there exactly once, in the order each author sent it.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use integration_tests::{
    Backend, TestDatabase, api_binary, global_id, on_both_backends, process::ServerProcess,
};
use serde_json::{Value, json};
use tokio::sync::watch;

on_both_backends!(every_message_survives_repeated_kill_9_exactly_once_and_in_send_order);

/// Messages per author; two authors send at the same time.
const MESSAGES_PER_AUTHOR: usize = 500;
/// The server is killed each time this many more sends were acknowledged.
const RESTART_EVERY: usize = 200;
/// How often one send is tried before the test gives up.
const MAX_ATTEMPTS: usize = 1000;

const SEND: &str = "mutation($input: SendMessageInput!) { sendMessage(input: $input) {
    message { sequence } userErrors { code message } } }";
const MESSAGES: &str =
    "query($id: ID!, $after: String) { messages(conversationId: $id, first: 100, after: $after) {
    edges { node { sequence body clientMessageId } } pageInfo { hasNextPage endCursor } } }";

fn nilsson_case() -> String {
    global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000),
    )
}

fn server_env(database: &TestDatabase) -> Vec<(&'static str, String)> {
    let mut envs = vec![("DATA_DIR", database.data_dir.display().to_string())];
    if let Some(url) = &database.database_url {
        envs.push(("DATABASE_URL", url.clone()));
    }
    envs
}

fn as_refs<'a>(envs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    envs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// One author's phone: a client id and a body per message.
struct Author {
    name: &'static str,
    token: String,
}

impl Author {
    fn client_id(&self, n: usize) -> String {
        format!("{}-{n:04}", self.name)
    }

    fn body(&self, n: usize) -> String {
        format!("{} says {n}", self.name)
    }
}

/// Sends one message like a phone with an outbox: a refused connection, a
/// reset, a 5xx or an `INTERNAL` error means "try again shortly", possibly at
/// the restarted server's new address. Returns the acknowledged sequence number.
async fn send_until_acknowledged(
    client: &reqwest::Client,
    server_url: &watch::Receiver<String>,
    token: &str,
    conversation: &str,
    client_id: &str,
    body: &str,
) -> i64 {
    let request = json!({
        "query": SEND,
        "variables": { "input": { "conversationId": conversation, "clientMessageId": client_id, "body": body } },
    });
    let mut last_answer = String::from("no answer yet");
    for _ in 0..MAX_ATTEMPTS {
        let url = server_url.borrow().clone();
        let answer = client
            .post(&url)
            .bearer_auth(token)
            .json(&request)
            .send()
            .await;
        match answer {
            Ok(response) if response.status().is_success() => {
                // The body can still be cut off by the kill.
                if let Ok(answer) = response.json::<Value>().await {
                    if let Some(seq) = answer["data"]["sendMessage"]["message"]["sequence"].as_i64()
                    {
                        return seq;
                    }
                    assert_eq!(
                        integration_tests::first_error_code(&answer),
                        Some("INTERNAL"),
                        "only a server-side failure is retried: {answer}"
                    );
                    last_answer = answer.to_string();
                }
            }
            Ok(response) => {
                assert!(
                    response.status().is_server_error(),
                    "unexpected status {}",
                    response.status()
                );
                last_answer = response.status().to_string();
            }
            Err(error) => last_answer = error.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{client_id} was never acknowledged; last answer: {last_answer}");
}

/// Every message of the conversation as `token` sees it, in order.
async fn read_all(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    conversation: &str,
) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = Value::Null;
    loop {
        let page: Value = client
            .post(url)
            .bearer_auth(token)
            .json(
                &json!({ "query": MESSAGES, "variables": { "id": conversation, "after": after } }),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let connection = &page["data"]["messages"];
        let edges = connection["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{page}"));
        all.extend(edges.iter().map(|e| e["node"].clone()));
        if connection["pageInfo"]["hasNextPage"] != true {
            return all;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
}

async fn every_message_survives_repeated_kill_9_exactly_once_and_in_send_order(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let envs = server_env(&database);
    let mut server = ServerProcess::start(api_binary!(), &["--demo"], &as_refs(&envs)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let url = server.graphql_url();
    let anna = Author {
        name: "anna",
        token: integration_tests::login(&client, &url, "caseworker@exempelby.example").await,
    };
    let sara = Author {
        name: "sara",
        token: integration_tests::login(&client, &url, "guardian@exempelby.example").await,
    };
    let started: Value = client
        .post(&url)
        .bearer_auth(&anna.token)
        .json(&json!({
            "query": "mutation($input: StartConversationInput!) { startConversation(input: $input) { conversation { id } } }",
            "variables": { "input": { "caseId": nilsson_case(), "kind": "FAMILY" } },
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conversation = started["data"]["startConversation"]["conversation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{started}"))
        .to_owned();

    // Two phones send at once, each its messages one after the other.
    let (url_sender, url_receiver) = watch::channel(url);
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let authors = [Arc::new(anna), Arc::new(sara)];
    let phones: Vec<_> = authors
        .iter()
        .map(|author| {
            let (author, client, server_url, conversation, acknowledged) = (
                author.clone(),
                client.clone(),
                url_receiver.clone(),
                conversation.clone(),
                acknowledged.clone(),
            );
            tokio::spawn(async move {
                for n in 0..MESSAGES_PER_AUTHOR {
                    send_until_acknowledged(
                        &client,
                        &server_url,
                        &author.token,
                        &conversation,
                        &author.client_id(n),
                        &author.body(n),
                    )
                    .await;
                    acknowledged.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    // Meanwhile the server dies without warning, again and again.
    let total = MESSAGES_PER_AUTHOR * authors.len();
    let mut restarts = 0;
    let began = std::time::Instant::now();
    for threshold in (RESTART_EVERY..total).step_by(RESTART_EVERY) {
        while acknowledged.load(Ordering::SeqCst) < threshold {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        server.kill_9().await;
        let killed = std::time::Instant::now();
        server = ServerProcess::start(api_binary!(), &[], &as_refs(&envs)).await;
        url_sender.send_replace(server.graphql_url());
        restarts += 1;
        eprintln!(
            "restart {restarts} after {threshold} acknowledged sends ({:?} since the start) took {:?}",
            began.elapsed(),
            killed.elapsed()
        );
    }
    for phone in phones {
        phone.await.unwrap();
    }
    assert_eq!(restarts, 4);

    let url = server.graphql_url();
    for author in &authors {
        let seen = read_all(&client, &url, &author.token, &conversation).await;
        let sequences: Vec<i64> = seen
            .iter()
            .map(|m| m["sequence"].as_i64().unwrap())
            .collect();
        assert_eq!(
            sequences,
            (1..=total as i64).collect::<Vec<_>>(),
            "{total} messages, numbered without gap or repeat"
        );
        // The client message id is shown to its author only.
        let own: Vec<(&str, &str)> = seen
            .iter()
            .filter_map(|m| Some((m["clientMessageId"].as_str()?, m["body"].as_str()?)))
            .collect();
        let sent: Vec<(String, String)> = (0..MESSAGES_PER_AUTHOR)
            .map(|n| (author.client_id(n), author.body(n)))
            .collect();
        assert_eq!(
            own.len(),
            MESSAGES_PER_AUTHOR,
            "{}: none lost or doubled",
            author.name
        );
        assert!(
            own.iter()
                .zip(&sent)
                .all(|((id, body), (sent_id, sent_body))| id == sent_id && body == sent_body),
            "{}: each message once, in the order sent",
            author.name
        );
    }
    server.kill_9().await;
}
