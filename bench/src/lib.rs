//! What the load generators share: starting the release server on a fresh
//! SQLite or PostgreSQL database (pinned to its own CPUs), a GraphQL client,
//! process memory, and percentiles.

use std::{
    path::PathBuf,
    process::Stdio,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

pub mod municipality;

use anyhow::{Context, anyhow, bail};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// How to get the server under test.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Use a running server at this base URL instead of starting one.
    pub url: Option<String>,
    /// With `url`: the server's process id, to report its memory.
    pub server_pid: Option<u32>,
    /// The release `api` binary to start (default: $CARGO_TARGET_DIR/release/api or target/release/api).
    pub server_bin: Option<PathBuf>,
    /// A PostgreSQL URL the bench may create a database with (fresh for the
    /// run, dropped afterwards); without it: SQLite in a temporary folder.
    pub database_url: Option<String>,
    /// CPUs for the server (`taskset -c`), when taskset exists.
    pub server_cpus: String,
}

/// Whether a program can be run.
pub fn have(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Pins a process (all its threads) to CPUs with `taskset`, when it exists.
pub fn pin_to_cpus(pid: u32, cpus: &str) {
    if have("taskset") {
        let _ = std::process::Command::new("taskset")
            .args(["-a", "-p", "-c", cpus, &pid.to_string()])
            .stdout(Stdio::null())
            .status();
    }
}

/// Raises the soft limit on open files of `pid` to its hard limit (`prlimit`),
/// and returns the soft limit in force afterwards.
pub fn raise_open_files(pid: u32) -> Option<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut numbers = line
        .split_whitespace()
        .filter_map(|w| w.parse::<u64>().ok());
    let (soft, hard) = (numbers.next()?, numbers.next().unwrap_or(u64::MAX));
    if soft < hard && have("prlimit") {
        let _ = std::process::Command::new("prlimit")
            .args([
                "--pid",
                &pid.to_string(),
                &format!("--nofile={hard}:{hard}"),
            ])
            .status();
        return Some(hard);
    }
    Some(soft)
}

/// VmRSS of a process, in MiB.
pub fn rss_mib(pid: Option<u32>) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Microseconds since the Unix epoch.
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_default()
}

/// The server under test: started here (and cleaned up) or given by `--url`.
pub struct Server {
    /// `http://host:port`.
    pub base: String,
    /// The server's process id (for its memory).
    pub pid: Option<u32>,
    /// The database it runs on (when started here), for seeding directly.
    pub database_url: Option<String>,
    child: Option<Child>,
    data_dir: Option<PathBuf>,
    /// (admin URL, database name) of the database created for this run.
    postgres: Option<(String, String)>,
}

impl Server {
    /// Starts the server (or takes the running one given by `url`).
    pub async fn start(args: &ServerOptions) -> anyhow::Result<Server> {
        if let Some(url) = &args.url {
            return Ok(Server {
                base: url.trim_end_matches('/').to_owned(),
                pid: args.server_pid,
                database_url: None,
                child: None,
                data_dir: None,
                postgres: None,
            });
        }
        let bin = match &args.server_bin {
            Some(bin) => bin.clone(),
            None => std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("target"))
                .join("release/api"),
        };
        if !bin.exists() {
            bail!(
                "{} not found: build it with `cargo build --release -p api`",
                bin.display()
            );
        }
        let run_id = uuid::Uuid::now_v7().simple().to_string();
        let data_dir = std::env::temp_dir().join(format!("api-bench-{run_id}"));
        std::fs::create_dir_all(&data_dir).context("create the data folder")?;
        let mut server = Server {
            base: String::new(),
            pid: None,
            database_url: Some(format!(
                "sqlite://{}?mode=rwc",
                data_dir.join(api::db::SQLITE_FILE_NAME).display()
            )),
            child: None,
            data_dir: Some(data_dir.clone()),
            postgres: None,
        };
        let mut database_url = None;
        if let Some(admin_url) = &args.database_url {
            let name = format!("bench_{run_id}");
            let admin = Database::connect(admin_url.as_str())
                .await
                .context("connect to --database-url")?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .context("create the benchmark database")?;
            admin.close().await.ok();
            database_url = Some(api::db::with_database_name(admin_url, &name));
            server.database_url = database_url.clone();
            server.postgres = Some((admin_url.clone(), name));
        }
        let mut command = if have("taskset") {
            let mut command = Command::new("taskset");
            command.args(["-c", &args.server_cpus]).arg(&bin);
            command
        } else {
            Command::new(&bin)
        };
        for name in [
            "DATABASE_URL",
            "DATABASE_MAX_CONNECTIONS",
            "APP_ENV",
            "RUST_LOG",
        ] {
            command.env_remove(name);
        }
        command
            .args(["serve", "--demo"])
            .env("DATA_DIR", &data_dir)
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("LOG_FORMAT", "json")
            // The load comes from one address and a few hundred accounts at
            // rates far above any person's: the per-user points budget and
            // the sign-ins per address would refuse it (they are tested in
            // the suite, not measured here).
            .env("RATE_LIMIT_POINTS", "1000000")
            .env("RATE_LIMIT_REFILL_PER_SECOND", "1000000")
            .env("RATE_LIMIT_SIGN_INS_PER_MINUTE", "1000000")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(url) = &database_url {
            command.env("DATABASE_URL", url);
        }
        let mut child = command.spawn().context("start the server")?;
        // taskset execs the server: same process id.
        server.pid = child.id();
        let stderr = child.stderr.take().context("the server's stderr")?;
        server.child = Some(child);
        let mut lines = BufReader::new(stderr).lines();
        let address = tokio::time::timeout(Duration::from_secs(120), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(entry) = serde_json::from_str::<Value>(&line)
                    && let Some(address) = entry["fields"]["address"].as_str()
                {
                    return Ok(address.to_owned());
                }
                if !line.starts_with('{') {
                    eprintln!("server: {line}");
                }
            }
            Err(anyhow!("the server exited before listening"))
        })
        .await
        .context("the server listens within 120 s")??;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        if let Some(pid) = server.pid {
            raise_open_files(pid);
        }
        server.base = format!("http://{address}");
        Ok(server)
    }

    /// Stops the server and removes its database.
    pub async fn stop(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
        if let Some((admin_url, name)) = self.postgres.take()
            && let Ok(admin) = Database::connect(admin_url.as_str()).await
        {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
            admin.close().await.ok();
        }
        if let Some(dir) = self.data_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A GraphQL client for one server.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub url: String,
}

impl Api {
    /// Runs an operation; GraphQL errors become an error.
    pub async fn call(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let body: Value = request.send().await?.json().await?;
        if body["errors"].is_array() {
            bail!("GraphQL error: {}", body["errors"]);
        }
        Ok(body["data"].clone())
    }

    /// Signs in and returns the access token.
    pub async fn login(&self, email: &str, password: &str, device: &str) -> anyhow::Result<String> {
        let data = self
            .call(
                None,
                "mutation($input: LoginInput!) { login(input: $input) { tokens { accessToken } userErrors { code message } } }",
                json!({ "input": { "email": email, "password": password, "deviceLabel": device } }),
            )
            .await?;
        data["login"]["tokens"]["accessToken"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("login as {email} failed: {data}"))
    }

    /// Starts a family conversation; returns its id and latest cursor.
    pub async fn start_conversation(
        &self,
        token: &str,
        case_id: &str,
    ) -> anyhow::Result<(String, String)> {
        let data = self
            .call(
                Some(token),
                "mutation($input: StartConversationInput!) { startConversation(input: $input) {
                    conversation { id latestCursor } userErrors { code message } } }",
                json!({ "input": { "caseId": case_id, "kind": "FAMILY", "title": "Benchmark" } }),
            )
            .await?;
        let conversation = &data["startConversation"]["conversation"];
        match (
            conversation["id"].as_str(),
            conversation["latestCursor"].as_str(),
        ) {
            (Some(id), Some(cursor)) => Ok((id.to_owned(), cursor.to_owned())),
            _ => bail!("startConversation failed: {data}"),
        }
    }

    /// Sends a message.
    pub async fn send(
        &self,
        token: &str,
        conversation: &str,
        client_id: &str,
        body: &str,
    ) -> anyhow::Result<()> {
        let data = self
            .call(
                Some(token),
                "mutation($input: SendMessageInput!) { sendMessage(input: $input) {
                    message { sequence } userErrors { code message } } }",
                json!({ "input": { "conversationId": conversation, "clientMessageId": client_id, "body": body } }),
            )
            .await?;
        if data["sendMessage"]["message"]["sequence"].is_i64() {
            Ok(())
        } else {
            bail!("sendMessage failed: {data}")
        }
    }
}

/// Percentiles of a set of durations in microseconds, reported in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub count: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

/// Percentiles of durations given in microseconds.
pub fn summarise(mut micros: Vec<u64>) -> Summary {
    micros.sort_unstable();
    let at = |p: f64| -> f64 {
        if micros.is_empty() {
            return f64::NAN;
        }
        let index = ((micros.len() - 1) as f64 * p).round() as usize;
        micros[index] as f64 / 1000.0
    };
    Summary {
        count: micros.len(),
        p50: at(0.50),
        p99: at(0.99),
        max: at(1.0),
    }
}

/// What a closed-loop run measured.
#[derive(Debug, Clone)]
pub struct Load {
    pub requests: usize,
    pub errors: usize,
    pub seconds: f64,
    pub per_second: f64,
    pub latency: Summary,
    /// The first failed request's answer, if any.
    pub first_error: Option<String>,
}

/// `connections` clients, each sending the next request as soon as the last
/// one is answered (or, with `per_second`, when its share of that rate is
/// due), for `duration`; `request(n)` gives the n-th request's token, query
/// and variables. A request counts as an error unless it is answered 200 with
/// `data` and no `errors`.
pub async fn closed_loop<F>(
    http: &reqwest::Client,
    url: &str,
    connections: usize,
    duration: Duration,
    per_second: Option<f64>,
    request: F,
) -> Load
where
    F: Fn(usize) -> (String, &'static str, Value) + Send + Sync + 'static,
{
    let request = std::sync::Arc::new(request);
    let started = std::time::Instant::now();
    let deadline = started + duration;
    let workers = (0..connections).map(|worker| {
        let (http, url, request) = (http.clone(), url.to_owned(), request.clone());
        tokio::spawn(async move {
            let (mut latencies, mut errors, mut first_error) = (Vec::new(), 0usize, None);
            let mut n = worker;
            let interval = per_second
                .filter(|rate| *rate > 0.0)
                .map(|rate| Duration::from_secs_f64(connections as f64 / rate));
            let mut due = started;
            while std::time::Instant::now() < deadline {
                if let Some(interval) = interval {
                    due += interval;
                    tokio::time::sleep_until(due.into()).await;
                }
                let (token, query, variables) = request(n);
                n += connections;
                let began = std::time::Instant::now();
                let answer = http
                    .post(&url)
                    .bearer_auth(token)
                    .json(&json!({ "query": query, "variables": variables }))
                    .send()
                    .await;
                let ok = match answer {
                    Ok(response) if response.status().is_success() => {
                        match response.json::<Value>().await {
                            Ok(body) if body["errors"].is_null() && body["data"].is_object() => {
                                Ok(())
                            }
                            Ok(body) => Err(body.to_string()),
                            Err(error) => Err(error.to_string()),
                        }
                    }
                    Ok(response) => Err(format!("HTTP {}", response.status())),
                    Err(error) => Err(error.to_string()),
                };
                match ok {
                    Ok(()) => latencies.push(began.elapsed().as_micros() as u64),
                    Err(error) => {
                        errors += 1;
                        first_error.get_or_insert(error);
                    }
                }
            }
            (latencies, errors, first_error)
        })
    });
    let (mut all, mut errors, mut first_error) = (Vec::new(), 0, None);
    for (latencies, failed, error) in futures_util::future::join_all(workers)
        .await
        .into_iter()
        .flatten()
    {
        all.extend(latencies);
        errors += failed;
        if first_error.is_none() {
            first_error = error;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    Load {
        requests: all.len(),
        errors,
        seconds,
        per_second: all.len() as f64 / seconds,
        latency: summarise(all),
        first_error,
    }
}

/// The server's `db_statements_total` (from `GET /metrics`).
pub async fn statements_so_far(http: &reqwest::Client, base: &str) -> anyhow::Result<u64> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    text.lines()
        .find_map(|line| line.strip_prefix("db_statements_total "))
        .and_then(|n| n.trim().parse().ok())
        .context("GET /metrics has no db_statements_total")
}

/// Fresh planner statistics after seeding, as a database that has been
/// running has them (on PostgreSQL autovacuum would gather them within
/// minutes). On SQLite only `sqlite_stat1` is kept: the bundled build has
/// STAT4, and with `sqlite_stat4` filled every statement whose plan could
/// depend on a bound value is prepared again on each run (a quarter of the
/// server's time in a profile); the server itself never runs `ANALYZE`.
pub async fn analyze(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait;
    db.execute_unprepared("ANALYZE").await?;
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        db.execute_unprepared("DELETE FROM sqlite_stat4").await?;
        db.execute_unprepared("ANALYZE sqlite_schema").await?;
    }
    Ok(())
}
