//! Helpers of the integration suite: a real server per test, on its own database,
//! on SQLite and (when `TEST_POSTGRES_URL` is set) on PostgreSQL.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

pub mod process;
pub mod stub;

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use api::{Application, Config, ServeArgs, ShutdownHandle};
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};
use uuid::Uuid;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = api::demo::DEMO_PASSWORD;

/// Which database a test runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres { admin_url: String },
}

impl Backend {
    /// PostgreSQL when `TEST_POSTGRES_URL` is set. Under CI (`CI=true`) a missing
    /// URL is an error: the PostgreSQL half of the suite is never skipped silently.
    pub fn postgres() -> Option<Backend> {
        match std::env::var("TEST_POSTGRES_URL") {
            Ok(url) if !url.trim().is_empty() => Some(Backend::Postgres { admin_url: url }),
            _ => {
                assert!(
                    std::env::var("CI").map(|v| v != "true").unwrap_or(true),
                    "CI=true but TEST_POSTGRES_URL is not set"
                );
                eprintln!("TEST_POSTGRES_URL not set: PostgreSQL variant skipped");
                None
            }
        }
    }
}

/// Runs each listed `async fn name(backend: Backend)` once on SQLite (module
/// `sqlite`) and once on PostgreSQL (module `postgres`).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(backend) = $crate::Backend::postgres() {
                        super::$name(backend).await
                    }
                }
            )*
        }
    };
}

/// A fresh, empty database for one test: a temporary folder (SQLite) or a
/// uniquely named PostgreSQL database, removed when dropped.
pub struct TestDatabase {
    /// DATA_DIR for the server (also holds the SQLite file and the signing key).
    pub data_dir: PathBuf,
    /// DATABASE_URL for PostgreSQL; `None` means the default SQLite file.
    pub database_url: Option<String>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// Creates the database.
    pub async fn create(backend: &Backend) -> TestDatabase {
        let data_dir = std::env::temp_dir().join(format!("family-api-test-{}", Uuid::now_v7()));
        std::fs::create_dir_all(&data_dir).expect("create the test data folder");
        match backend {
            Backend::Sqlite => TestDatabase {
                data_dir,
                database_url: None,
                postgres: None,
            },
            Backend::Postgres { admin_url } => {
                let name = format!("test_{}", Uuid::now_v7().simple());
                let admin = Database::connect(admin_url.as_str())
                    .await
                    .expect("connect to TEST_POSTGRES_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create the test database");
                admin.close().await.ok();
                TestDatabase {
                    data_dir,
                    database_url: Some(api::db::with_database_name(admin_url, &name)),
                    postgres: Some((admin_url.clone(), name)),
                }
            }
        }
    }

    /// A server configuration using this database, on a free port.
    pub fn config(&self) -> Config {
        let mut config = Config::for_data_dir(&self.data_dir);
        config.database_url = self.database_url.clone();
        config
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop runs inside the test's runtime: do the async clean-up on a
            // thread with a runtime of its own.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime for clean-up");
                runtime.block_on(async move {
                    if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                        admin.close().await.ok();
                    }
                });
            })
            .join();
        }
    }
}

/// A running server (in this process) with the demo data, and a client for it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    /// The server's own connection pool (to simulate an outage by closing it).
    pub db: DatabaseConnection,
    pub database: TestDatabase,
    /// SQL statements the server executed so far.
    pub statements: api::db::StatementCounter,
    shutdown: ShutdownHandle,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// Starts a server with the demo data on a fresh database.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts a server with the demo data, after `adjust` has changed its config.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let database = TestDatabase::create(&backend).await;
        let mut config = database.config();
        adjust(&mut config);
        let serve = ServeArgs {
            demo: true,
            no_migrate: false,
        };
        let app = Application::build(&config, &serve)
            .await
            .expect("the server starts");
        let addr = app.local_addr();
        let db = app.db().clone();
        let statements = app.statement_counter();
        let shutdown = app.shutdown_handle();
        let server = tokio::spawn(app.run_until(std::future::pending()));
        TestApp {
            addr,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
            db,
            database,
            statements,
            shutdown,
            server: Some(server),
        }
    }

    /// `http://addr/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs a GraphQL operation and returns the whole response.
    pub async fn post_graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the server answers")
    }

    /// POSTs a GraphQL operation anonymously and returns the JSON body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.post_graphql(None, query, variables)
            .await
            .json()
            .await
            .expect("a JSON body")
    }

    /// POSTs a GraphQL operation with an access token and returns the JSON body.
    pub async fn graphql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        self.post_graphql(Some(token), query, variables)
            .await
            .json()
            .await
            .expect("a JSON body")
    }

    /// The SQL statements one request costs, and its body: the fewest over five
    /// runs. The counter sees every statement of the server, so a background
    /// task's statement (the push worker waking after a write) or a DataLoader
    /// batch that a slow moment splits in two can land in one run; not in all.
    pub async fn statements_for(&self, token: &str, query: &str, variables: Value) -> (u64, Value) {
        let mut fewest = u64::MAX;
        let mut body = Value::Null;
        for _ in 0..5 {
            let before = self.statements.get();
            body = self.graphql_as(token, query, variables.clone()).await;
            fewest = fewest.min(self.statements.get() - before);
        }
        (fewest, body)
    }

    /// Signs in as a demo account and returns the access token.
    pub async fn login(&self, email: &str) -> String {
        login(&self.client, &self.url("/graphql"), email).await
    }

    /// Opens a GraphQL WebSocket with the given subprotocol.
    pub async fn websocket(&self, subprotocol: &str) -> WsClient {
        WsClient::connect(&format!("ws://{}/graphql/ws", self.addr), subprotocol).await
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        self.shutdown.shutdown();
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("the server task ends")
                .expect("the server stops cleanly");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.shutdown();
    }
}

/// Signs in as `email` with the demo password; returns the access token.
pub async fn login(client: &reqwest::Client, graphql_url: &str, email: &str) -> String {
    let body: Value = client
        .post(graphql_url)
        .json(&json!({
            "query": "mutation($input: LoginInput!) { login(input: $input) { tokens { accessToken } userErrors { code message } } }",
            "variables": { "input": { "email": email, "password": DEMO_PASSWORD } },
        }))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("a JSON body");
    body["data"]["login"]["tokens"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("login as {email} failed: {body}"))
        .to_owned()
}

/// The `extensions.code` of the first error of a GraphQL response.
pub fn first_error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// A GraphQL-over-WebSocket client speaking raw JSON messages.
pub struct WsClient {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl WsClient {
    /// Connects with `Sec-WebSocket-Protocol: subprotocol`.
    pub async fn connect(url: &str, subprotocol: &str) -> WsClient {
        let mut request = url.into_client_request().expect("a WebSocket URL");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            subprotocol.parse().expect("a header value"),
        );
        let (stream, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the WebSocket handshake succeeds");
        assert_eq!(
            response
                .headers()
                .get("Sec-WebSocket-Protocol")
                .and_then(|v| v.to_str().ok()),
            Some(subprotocol),
            "the server agrees on the subprotocol"
        );
        WsClient { stream }
    }

    /// Sends one JSON message.
    pub async fn send(&mut self, message: Value) {
        self.stream
            .send(tungstenite::Message::text(message.to_string()))
            .await
            .expect("the message is sent");
    }

    /// The next frame: `Ok(json)` for a text message, `Err(close frame)` when the
    /// server closed the connection. Pings are skipped. Times out after 10 s.
    pub async fn next(&mut self) -> Result<Value, Option<(u16, String)>> {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .expect("a WebSocket frame within 10 s");
            match frame {
                Some(Ok(tungstenite::Message::Text(text))) => {
                    return Ok(serde_json::from_str(&text).expect("JSON text"));
                }
                Some(Ok(tungstenite::Message::Close(frame))) => {
                    return Err(frame.map(|f| (u16::from(f.code), f.reason.to_string())));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(None),
            }
        }
    }
}

impl WsClient {
    /// The next text frame if one comes within `wait`; `None` otherwise (for
    /// asserting that nothing is delivered).
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?;
            match frame {
                Some(Ok(tungstenite::Message::Text(text))) => {
                    return Some(serde_json::from_str(&text).expect("JSON text"));
                }
                Some(Ok(tungstenite::Message::Close(_))) | Some(Err(_)) | None => return None,
                Some(Ok(_)) => continue,
            }
        }
    }
}

/// A signed-in session as the tests see it.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    /// Signs in with an explicit password; returns the whole `login` payload.
    pub async fn login_with(&self, email: &str, password: &str, device: &str) -> Value {
        self.graphql(
            "mutation($input: LoginInput!) { login(input: $input) {
                tokens { accessToken refreshToken }
                userErrors { code message field } } }",
            json!({ "input": { "email": email, "password": password, "deviceLabel": device } }),
        )
        .await
    }

    /// Signs in as a demo account; returns both tokens.
    pub async fn sign_in(&self, email: &str) -> Tokens {
        let body = self.login_with(email, DEMO_PASSWORD, "test device").await;
        tokens_of(&body["data"]["login"])
            .unwrap_or_else(|| panic!("login as {email} failed: {body}"))
    }

    /// Calls `refreshSession`; returns the whole response.
    pub async fn refresh(&self, refresh_token: &str) -> Value {
        self.graphql(
            "mutation($input: RefreshSessionInput!) { refreshSession(input: $input) {
                tokens { accessToken refreshToken } userErrors { code } } }",
            json!({ "input": { "refreshToken": refresh_token } }),
        )
        .await
    }

    /// The viewer's role with this token, or the error code.
    pub async fn role_or_error(&self, access_token: &str) -> String {
        let body = self
            .graphql_as(access_token, "{ viewer { role } }", json!({}))
            .await;
        body["data"]["viewer"]["role"]
            .as_str()
            .or_else(|| first_error_code(&body))
            .unwrap_or("?")
            .to_owned()
    }

    /// The global id of the signed-in user.
    pub async fn user_id(&self, access_token: &str) -> String {
        let body = self
            .graphql_as(access_token, "{ viewer { user { id } } }", json!({}))
            .await;
        body["data"]["viewer"]["user"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no viewer: {body}"))
            .to_owned()
    }
}

/// The tokens in a sign-in payload (`login`, `refreshSession`, `acceptInvitation`).
pub fn tokens_of(payload: &Value) -> Option<Tokens> {
    Some(Tokens {
        access: payload["tokens"]["accessToken"].as_str()?.to_owned(),
        refresh: payload["tokens"]["refreshToken"].as_str()?.to_owned(),
    })
}

/// The global id of an object, as the server encodes it.
pub fn global_id(kind: &str, uuid: Uuid) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{uuid}"))
}

/// A tiny HTTP server on `listener` (bind it on loopback first, so the routes
/// can name its address) answering GET `path` with a JSON body: a stand-in for
/// external services such as an OIDC issuer's discovery document and JWKS.
/// Aborting the returned handle takes it down.
pub fn serve_json(
    listener: tokio::net::TcpListener,
    routes: Vec<(String, Value)>,
) -> JoinHandle<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let routes = routes.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, body) = match routes.iter().find(|(p, _)| *p == path) {
                    Some((_, body)) => ("200 OK", body.to_string()),
                    None => ("404 Not Found", "{}".to_owned()),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    })
}

/// A new family's case opened by `token` (a caseworker): returns the case id
/// and the ids of its guardian and child, who have no logins yet.
pub async fn open_family_case(
    app: &TestApp,
    token: &str,
    family_name: &str,
) -> (String, String, String) {
    let body = app
        .graphql_as(
            token,
            "mutation($input: OpenCaseInput!) { openCase(input: $input) {
                case { id family { members { id kind } } } userErrors { code message } } }",
            json!({ "input": {
                "caseType": "SUPPORT",
                "familyName": family_name,
                "members": [
                    { "kind": "GUARDIAN", "displayName": format!("Parent {family_name}") },
                    { "kind": "CHILD", "displayName": format!("Child {family_name}"), "dateOfBirth": "2013-06-01", "focusChild": true },
                ],
            } }),
        )
        .await;
    let case = &body["data"]["openCase"]["case"];
    let members = case["family"]["members"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let id_of = |kind: &str| {
        members
            .iter()
            .find(|m| m["kind"] == kind)
            .map(|m| m["id"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    (
        case["id"].as_str().unwrap_or_default().to_owned(),
        id_of("GUARDIAN"),
        id_of("CHILD"),
    )
}

/// Asserts that a request's cost in SQL statements does not grow with the number
/// of items it returns: `large` (with `extra_items` more items than `small`) may
/// exceed `small` by at most 2 statements of noise (a split DataLoader batch on a
/// loaded machine), far below the one statement per item a query per item adds.
pub fn assert_cost_does_not_grow(small: u64, large: u64, extra_items: usize, what: &str) {
    assert!(
        extra_items > 2 * 2,
        "{what}: too few extra items ({extra_items}) to tell a query per item from noise"
    );
    assert!(
        large <= small + 2,
        "{what}: {small} statements, then {large} with {extra_items} more items"
    );
}
