//! The server as a process: durability across `kill -9`, graceful shutdown,
//! start-up errors, migrations and the demo data commands.

use integration_tests::{
    Backend, TestDatabase, api_binary, on_both_backends,
    process::{self, ServerProcess},
};
use serde_json::{Value, json};

on_both_backends!(
    a_session_acknowledged_before_kill_9_is_there_after_restart,
    readyz_reports_pending_migrations_when_started_without_migrating,
    seed_demo_is_idempotent,
);

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

async fn a_session_acknowledged_before_kill_9_is_there_after_restart(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let envs = server_env(&database);
    let server = ServerProcess::start(api_binary!(), &["--demo"], &as_refs(&envs)).await;
    let client = reqwest::Client::new();

    // The mutation returns: the session it created is acknowledged...
    let token = integration_tests::login(
        &client,
        &server.graphql_url(),
        "caseworker@exempelby.example",
    )
    .await;
    // ...and the process dies at once, without any chance to flush.
    server.kill_9().await;

    let restarted = ServerProcess::start(api_binary!(), &[], &as_refs(&envs)).await;
    let body: Value = client
        .post(restarted.graphql_url())
        .bearer_auth(&token)
        .json(&json!({ "query": "{ viewer { role sessions { current } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["data"]["viewer"],
        json!({ "role": "CASEWORKER", "sessions": [{ "current": true }] }),
        "the session (and the signing key) survived: {body}"
    );
    restarted.kill_9().await;
}

async fn readyz_reports_pending_migrations_when_started_without_migrating(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let envs = server_env(&database);
    let server = ServerProcess::start(api_binary!(), &["--no-migrate"], &as_refs(&envs)).await;

    let ready = reqwest::get(format!("http://{}/readyz", server.addr))
        .await
        .unwrap();

    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["reason"], "migrations pending");
    server.kill_9().await;

    let migrated = process::run(api_binary!(), &["migrate"], &as_refs(&envs)).await;
    assert!(migrated.status.success(), "{}", migrated.stderr);
    let server = ServerProcess::start(api_binary!(), &["--no-migrate"], &as_refs(&envs)).await;
    let ready = reqwest::get(format!("http://{}/readyz", server.addr))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200, "ready once `migrate` has run");
    server.kill_9().await;
}

async fn seed_demo_is_idempotent(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let envs = server_env(&database);

    let first = process::run(api_binary!(), &["seed-demo"], &as_refs(&envs)).await;
    let second = process::run(api_binary!(), &["seed-demo"], &as_refs(&envs)).await;

    assert!(first.status.success(), "{}", first.stderr);
    assert!(second.status.success(), "{}", second.stderr);
    assert!(
        first
            .stderr
            .contains("2 tenants, 6 organisations, 15 accounts, 40 cases created"),
        "{}",
        first.stderr
    );
    assert!(
        second
            .stderr
            .contains("0 tenants, 0 organisations, 0 accounts, 0 cases created"),
        "{}",
        second.stderr
    );
}

#[tokio::test]
async fn sigterm_closes_websockets_cleanly_and_exits_zero() {
    let database = TestDatabase::create(&Backend::Sqlite).await;
    let envs = server_env(&database);
    let server = ServerProcess::start(api_binary!(), &[], &as_refs(&envs)).await;
    let mut ws = integration_tests::WsClient::connect(
        &format!("ws://{}/graphql/ws", server.addr),
        "graphql-transport-ws",
    )
    .await;
    ws.send(json!({ "type": "connection_init" })).await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");

    let status = server.terminate().await;

    let (code, reason) = ws
        .next()
        .await
        .expect_err("the socket is closed")
        .expect("with a close frame");
    assert_eq!((code, reason.as_str()), (1001, "server shutting down"));
    assert!(status.success(), "exit status {status}");
}

/// Each bad setting stops the process with one line that names the variable.
#[tokio::test]
async fn invalid_configuration_stops_with_one_line_naming_the_variable() {
    let not_a_dir = std::env::temp_dir().join(format!("family-api-file-{}", uuid::Uuid::now_v7()));
    std::fs::write(&not_a_dir, b"a file, not a folder").unwrap();
    let under_a_file = not_a_dir.join("data").display().to_string();
    let scratch = std::env::temp_dir().join(format!("family-api-cfg-{}", uuid::Uuid::now_v7()));
    let scratch = scratch.display().to_string();

    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("DATA_DIR", under_a_file.as_str())], "DATA_DIR"),
        (
            vec![
                ("DATA_DIR", scratch.as_str()),
                ("DATABASE_URL", "mysql://localhost/x"),
            ],
            "DATABASE_URL",
        ),
        (
            vec![
                ("DATA_DIR", scratch.as_str()),
                ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
            ],
            "DATABASE_URL",
        ),
        (
            vec![
                ("DATA_DIR", scratch.as_str()),
                ("BIND_ADDR", "not-an-address"),
            ],
            "BIND_ADDR",
        ),
        (
            vec![("DATA_DIR", scratch.as_str()), ("LOG_FORMAT", "xml")],
            "LOG_FORMAT",
        ),
        (
            vec![
                ("DATA_DIR", scratch.as_str()),
                ("APP_ENV", "production"),
                ("BIND_ADDR", "127.0.0.1:0"),
            ],
            "TOKEN_SIGNING_KEY",
        ),
        (
            vec![
                ("DATA_DIR", scratch.as_str()),
                ("TOKEN_SIGNING_KEY", "c2hvcnQ="),
                ("BIND_ADDR", "127.0.0.1:0"),
            ],
            "TOKEN_SIGNING_KEY",
        ),
    ];
    for (envs, variable) in cases {
        let finished = process::run(api_binary!(), &["serve"], &envs).await;
        assert!(
            !finished.status.success(),
            "{variable}: the process must fail"
        );
        let lines: Vec<&str> = finished.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "{variable}: one line, got {:?}",
            finished.stderr
        );
        assert!(
            lines[0].contains(variable),
            "{variable} named in {:?}",
            lines[0]
        );
        assert!(
            !finished.stderr.contains("panicked"),
            "no panic: {}",
            finished.stderr
        );
    }
    let _ = std::fs::remove_file(&not_a_dir);
    let _ = std::fs::remove_dir_all(&scratch);
}
