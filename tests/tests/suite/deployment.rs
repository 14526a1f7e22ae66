//! Several stateless API processes behind a load balancer on one database:
//! a session begun on one process is used, refreshed and ended on another.

use integration_tests::{
    Backend, DEMO_PASSWORD, TestDatabase, api_binary, first_error_code, on_both_backends,
    process::ServerProcess,
};
use serde_json::{Value, json};

on_both_backends!(a_session_begun_on_one_process_works_on_another);

/// The same key in every process, as a deployment gives them.
const SIGNING_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

async fn call(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = client
        .post(url)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

/// Two processes on PostgreSQL; SQLite is one process by design, where the
/// same flow runs on one.
async fn a_session_begun_on_one_process_works_on_another(backend: Backend) {
    let postgres = matches!(backend, Backend::Postgres { .. });
    let database = TestDatabase::create(&backend).await;
    // Each process has its own data folder: only the database and the key are shared.
    let mut envs = vec![("TOKEN_SIGNING_KEY", SIGNING_KEY.to_owned())];
    if let Some(url) = &database.database_url {
        envs.push(("DATABASE_URL", url.clone()));
    }
    let first_dir = database.data_dir.join("first");
    let second_dir = database.data_dir.join("second");
    let with_dir = |dir: &std::path::Path| {
        let mut all = envs.clone();
        all.push(("DATA_DIR", dir.display().to_string()));
        all
    };
    let first_envs = with_dir(&first_dir);
    let refs: Vec<(&str, &str)> = first_envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let first = ServerProcess::start(api_binary!(), &["--demo"], &refs).await;
    let second_envs = with_dir(&second_dir);
    let refs: Vec<(&str, &str)> = second_envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let second = if postgres {
        Some(ServerProcess::start(api_binary!(), &[], &refs).await)
    } else {
        None
    };
    let one = first.graphql_url();
    let other = second.as_ref().unwrap_or(&first).graphql_url();
    let client = reqwest::Client::new();

    let login = call(&client, &one,  None,
        "mutation($input: LoginInput!) { login(input: $input) { tokens { accessToken refreshToken } userErrors { code } } }",
        json!({ "input": { "email": "guardian@exempelby.example", "password": DEMO_PASSWORD } })).await;
    let access = login["data"]["login"]["tokens"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = login["data"]["login"]["tokens"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    const VIEWER: &str = "{ viewer { user { displayName } } }";
    let body = call(&client, &other, Some(&access), VIEWER, json!({})).await;
    assert_eq!(
        body["data"]["viewer"]["user"]["displayName"], "Sara Nilsson",
        "{body}"
    );

    // Refreshed on the other process; the new token works on the first.
    const REFRESH: &str = "mutation($input: RefreshSessionInput!) { refreshSession(input: $input) {
        tokens { accessToken refreshToken } userErrors { code } } }";
    let body = call(
        &client,
        &other,
        None,
        REFRESH,
        json!({ "input": { "refreshToken": refresh } }),
    )
    .await;
    let renewed = body["data"]["refreshSession"]["tokens"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = call(&client, &one, Some(&renewed), VIEWER, json!({})).await;
    assert_eq!(
        body["data"]["viewer"]["user"]["displayName"], "Sara Nilsson",
        "{body}"
    );
    // Used on the other process too, which now keeps the session in memory.
    for _ in 0..2 {
        let body = call(&client, &other, Some(&renewed), VIEWER, json!({})).await;
        assert_eq!(
            body["data"]["viewer"]["user"]["displayName"], "Sara Nilsson",
            "{body}"
        );
    }

    // Signing out on the first ends the session on the other as soon as the
    // announcement arrives there (PostgreSQL `NOTIFY`, sent before the first
    // answers; with SQLite, one process, at once): the kept session is void.
    let body = call(
        &client,
        &one,
        Some(&renewed),
        "mutation { logout { endedSessionCount } }",
        json!({}),
    )
    .await;
    assert_eq!(body["data"]["logout"]["endedSessionCount"], 1, "{body}");
    let mut body = Value::Null;
    for attempt in 0..100 {
        body = call(&client, &other, Some(&renewed), VIEWER, json!({})).await;
        if first_error_code(&body) == Some("UNAUTHENTICATED") {
            println!("signed out on the other process at attempt {attempt}");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(first_error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    drop(second);
    drop(first);
}
