//! The optional OpenTelemetry trace exporter: with `OTEL_EXPORTER_OTLP_ENDPOINT`
//! set, a server process sends its request spans over OTLP/HTTP to the
//! collector, named by operation and without personal data, and flushes them
//! when it stops.

use integration_tests::{
    Backend, DEMO_PASSWORD, TestDatabase, api_binary, on_both_backends,
    process::ServerProcess,
    stub::{Answer, Stub},
};
use serde_json::{Value, json};

on_both_backends!(request_spans_reach_an_opentelemetry_collector_without_personal_data);

async fn post(client: &reqwest::Client, url: &str, token: Option<&str>, body: Value) -> Value {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

async fn request_spans_reach_an_opentelemetry_collector_without_personal_data(backend: Backend) {
    let collector = Stub::start(|_| Answer::status(200)).await;
    let database = TestDatabase::create(&backend).await;
    let mut envs = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.base.clone()),
        ("DATA_DIR", database.data_dir.display().to_string()),
    ];
    if let Some(url) = &database.database_url {
        envs.push(("DATABASE_URL", url.clone()));
    }
    let refs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = ServerProcess::start(api_binary!(), &["--demo"], &refs).await;
    let url = server.graphql_url();
    let client = reqwest::Client::new();

    let login = post(&client, &url, None, json!({
        "query": "mutation SignIn($input: LoginInput!) { login(input: $input) { tokens { accessToken } } }",
        "variables": { "input": { "email": "guardian@exempelby.example", "password": DEMO_PASSWORD } },
    }))
    .await;
    let token = login["data"]["login"]["tokens"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let home = post(
        &client,
        &url,
        Some(&token),
        json!({ "query": "query HomeProbe { viewer { user { displayName } } }" }),
    )
    .await;
    assert_eq!(
        home["data"]["viewer"]["user"]["displayName"], "Sara Nilsson",
        "{home}"
    );

    // Stopping flushes the spans still queued.
    assert!(server.terminate().await.success());
    let requests = collector.requests();
    assert!(!requests.is_empty(), "the collector received nothing");
    assert!(
        requests
            .iter()
            .all(|r| r.method == "POST" && r.path == "/v1/traces"),
        "{requests:?}"
    );
    let sent: String = requests.iter().map(|r| r.body.as_str()).collect();
    for expected in [
        "family-services-api",
        "request",
        "SignIn",
        "HomeProbe",
        "/graphql",
    ] {
        assert!(sent.contains(expected), "the spans carry {expected:?}");
    }
    for secret in [
        token.as_str(),
        DEMO_PASSWORD,
        "guardian@exempelby.example",
        "Sara Nilsson",
    ] {
        assert!(!sent.contains(secret), "the spans never carry {secret:?}");
    }
}
