//! Messaging under load: many WebSocket subscribers on `messageAdded`, a
//! steady stream of `sendMessage`, the send-to-receipt latency of every
//! delivery, the server's memory, and `sendMessage` throughput on its own.
//! See `bench/README.md` for how to run it and what it measured.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use bench::{
    Api, Server, ServerOptions, Summary, now_micros, pin_to_cpus, raise_open_files, rss_mib,
    summarise,
};
use clap::Parser;
use futures_util::{SinkExt, StreamExt, stream};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

/// Messaging load test (fan-out latency, memory, send throughput).
#[derive(Parser, Debug)]
#[command(name = "messaging")]
struct Args {
    /// Use a running server at this base URL (http://host:port) instead of starting one.
    #[arg(long)]
    url: Option<String>,
    /// With `--url`: the server's process id, to report its memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The release `api` binary to start (default: $CARGO_TARGET_DIR/release/api or target/release/api).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// A PostgreSQL URL the bench may create a database with; a fresh database
    /// is created for the run and dropped afterwards. Without it: SQLite.
    #[arg(long)]
    database_url: Option<String>,
    /// WebSocket subscribers on `messageAdded`.
    #[arg(long, default_value_t = 10_000)]
    subscribers: usize,
    /// Signed-in sessions the subscribers share (logins are deliberately slow).
    #[arg(long, default_value_t = 32)]
    tokens: usize,
    /// Conversations the subscribers are spread over (and the messages too).
    #[arg(long, default_value_t = 1_000)]
    conversations: usize,
    /// Messages sent per second while measuring latency.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// How long the latency phase sends, in seconds.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Concurrent senders in the throughput phase (each in its own conversation).
    #[arg(long, default_value_t = 4)]
    senders: usize,
    /// How long the throughput phase sends, in seconds.
    #[arg(long, default_value_t = 10)]
    throughput_seconds: u64,
    /// WebSocket handshakes in flight at once while subscribing.
    #[arg(long, default_value_t = 100)]
    connect_concurrency: usize,
    /// CPUs for the server (`taskset -c`), when taskset exists.
    #[arg(long, default_value = "0")]
    server_cpus: String,
    /// CPUs for this load generator (`taskset -c`), when taskset exists.
    #[arg(long, default_value = "1")]
    client_cpus: String,
    /// The account every session signs in as (a caseworker with cases).
    #[arg(long, default_value = "caseworker@exempelby.example")]
    email: String,
    /// Its password (the demo data's).
    #[arg(long, default_value = "demo-password-2026")]
    password: String,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Before the runtime starts, so that every worker thread inherits it.
    pin_to_cpus(std::process::id(), &args.client_cpus);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    runtime.block_on(run(args))
}

/// What the subscribers saw.
#[derive(Default)]
struct Deliveries {
    /// Send-to-receipt latencies of measured messages, in microseconds.
    latencies: Mutex<Vec<u64>>,
    /// Subscribers that received the warm-up message of their conversation.
    ready: AtomicUsize,
    /// The same, per conversation (index into the conversations).
    ready_of: Mutex<HashMap<usize, usize>>,
    /// Subscriptions the server ended or refused.
    ended: AtomicUsize,
    /// Sockets closed (by the server or the network) before the end of the run.
    closed: AtomicUsize,
    first_error: Mutex<Option<String>>,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens one subscriber: handshake, `connection_init`, `subscribe`.
async fn subscribe(
    ws_url: &str,
    token: &str,
    conversation: &str,
    cursor: &str,
) -> anyhow::Result<Socket> {
    let mut request = ws_url.into_client_request()?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let init = json!({ "type": "connection_init", "payload": { "accessToken": token } });
    socket
        .send(tungstenite::Message::text(init.to_string()))
        .await?;
    loop {
        match socket.next().await {
            Some(Ok(tungstenite::Message::Text(text))) => {
                let message: Value = serde_json::from_str(&text)?;
                if message["type"] == "connection_ack" {
                    break;
                }
                bail!("expected connection_ack, got {message}");
            }
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(error.into()),
            None => bail!("closed before connection_ack"),
        }
    }
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($id: ID!, $after: String) { messageAdded(conversationId: $id, after: $after) { body } }",
        "variables": { "id": conversation, "after": cursor },
    } });
    socket
        .send(tungstenite::Message::text(subscribe.to_string()))
        .await?;
    Ok(socket)
}

/// How often a subscriber pings, as phones do: the server closes a socket it
/// has not heard from for a minute (`WS_KEEPALIVE`).
const PING_EVERY: Duration = Duration::from_secs(20);

/// Reads a subscriber's frames until the socket closes, recording deliveries.
async fn listen(mut socket: Socket, deliveries: Arc<Deliveries>, conversation: usize) {
    let mut warmed = false;
    let mut keepalive = tokio::time::interval(PING_EVERY);
    keepalive.tick().await;
    loop {
        let frame = tokio::select! {
            frame = socket.next() => frame,
            _ = keepalive.tick() => {
                let ping = json!({ "type": "ping" }).to_string();
                if socket.send(tungstenite::Message::text(ping)).await.is_err() {
                    break;
                }
                continue;
            }
        };
        let text = match frame {
            Some(Ok(tungstenite::Message::Text(text))) => text,
            Some(Ok(tungstenite::Message::Close(_))) | Some(Err(_)) | None => break,
            Some(Ok(_)) => continue,
        };
        let received = now_micros();
        let Ok(message) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        match message["type"].as_str() {
            Some("next") => {
                let body = message["payload"]["data"]["messageAdded"]["body"]
                    .as_str()
                    .unwrap_or_default();
                if body.starts_with("warmup") {
                    if !warmed {
                        warmed = true;
                        deliveries.ready.fetch_add(1, Ordering::Relaxed);
                        *deliveries
                            .ready_of
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .entry(conversation)
                            .or_default() += 1;
                    }
                } else if let Some(sent) = body
                    .strip_prefix("bench ")
                    .and_then(|rest| rest.split(' ').next())
                    .and_then(|micros| micros.parse::<u64>().ok())
                {
                    let mut latencies = deliveries
                        .latencies
                        .lock()
                        .unwrap_or_else(|p| p.into_inner());
                    latencies.push(received.saturating_sub(sent));
                } else if let Some(errors) = message["payload"]["errors"].as_array() {
                    record_error(&deliveries, &format!("{errors:?}"));
                }
            }
            Some("ping") => {
                let pong = json!({ "type": "pong" }).to_string();
                if socket.send(tungstenite::Message::text(pong)).await.is_err() {
                    break;
                }
            }
            Some("error") | Some("complete") => {
                deliveries.ended.fetch_add(1, Ordering::Relaxed);
                record_error(&deliveries, &text);
                return;
            }
            _ => {}
        }
    }
    deliveries.closed.fetch_add(1, Ordering::Relaxed);
}

fn record_error(deliveries: &Deliveries, error: &str) {
    let mut first = deliveries
        .first_error
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if first.is_none() {
        *first = Some(error.chars().take(300).collect());
    }
}

/// The throughput phase: `senders` loops, each sending one message after the
/// other to its own conversation for `seconds`.
async fn measure_throughput(
    api: &Api,
    token: &str,
    conversations: &[(String, String)],
    seconds: u64,
) -> (f64, Summary, usize) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let loops = conversations
        .iter()
        .enumerate()
        .map(|(sender, (conversation, _))| {
            let (api, token, conversation) = (api.clone(), token.to_owned(), conversation.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0;
                let mut n = 0;
                while Instant::now() < deadline {
                    let began = Instant::now();
                    let sent = api
                        .send(
                            &token,
                            &conversation,
                            &format!("throughput-{sender}-{n}"),
                            &format!("Throughput message {n} from sender {sender}"),
                        )
                        .await;
                    match sent {
                        Ok(()) => latencies.push(began.elapsed().as_micros() as u64),
                        Err(_) => failures += 1,
                    }
                    n += 1;
                }
                (latencies, failures)
            })
        });
    let mut all = Vec::new();
    let mut failures = 0;
    let finished = futures_util::future::join_all(loops).await;
    for (latencies, failed) in finished.into_iter().flatten() {
        all.extend(latencies);
        failures += failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    (all.len() as f64 / elapsed, summarise(all), failures)
}

async fn run(args: Args) -> anyhow::Result<()> {
    if args.conversations == 0 || args.tokens == 0 || args.rate == 0 {
        bail!("--conversations, --tokens and --rate must be at least 1");
    }
    let open_files = raise_open_files(std::process::id()).unwrap_or(u64::MAX);
    if (args.subscribers as u64) + 100 > open_files {
        bail!(
            "{} subscribers need about {} open files but the limit is {open_files}: raise it (ulimit -n) or use fewer --subscribers",
            args.subscribers,
            args.subscribers + 100
        );
    }
    let backend = if args.database_url.is_some() {
        "postgresql"
    } else if args.url.is_some() {
        "external"
    } else {
        "sqlite"
    };
    eprintln!("starting the server ({backend})…");
    let server = Server::start(&ServerOptions {
        url: args.url.clone(),
        server_pid: args.server_pid,
        server_bin: args.server_bin.clone(),
        database_url: args.database_url.clone(),
        server_cpus: args.server_cpus.clone(),
    })
    .await?;
    let result = bench(&args, &server, backend).await;
    server.stop().await;
    result
}

async fn bench(args: &Args, server: &Server, backend: &str) -> anyhow::Result<()> {
    let api = Api {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .build()?,
        url: format!("{}/graphql", server.base),
    };
    let ws_url = format!("{}/graphql/ws", server.base.replacen("http", "ws", 1));
    let rss_start = rss_mib(server.pid);

    eprintln!("signing in {} sessions…", args.tokens + 1);
    let tokens: Vec<String> = stream::iter(0..=args.tokens)
        .map(|n| {
            let api = api.clone();
            async move {
                api.login(&args.email, &args.password, &format!("bench {n}"))
                    .await
            }
        })
        .buffered(4)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let (sender_token, subscriber_tokens) = tokens.split_first().context("no tokens")?;

    let cases = api
        .call(
            Some(sender_token),
            "{ cases(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await?;
    let case_ids: Vec<String> = cases["cases"]["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .filter_map(|e| e["node"]["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if case_ids.is_empty() {
        bail!("{} sees no cases", args.email);
    }
    eprintln!(
        "starting {} conversations on {} cases…",
        args.conversations + args.senders,
        case_ids.len()
    );
    let started: Vec<(String, String)> = stream::iter(0..args.conversations + args.senders)
        .map(|n| {
            let (api, case_id) = (api.clone(), case_ids[n % case_ids.len()].clone());
            async move { api.start_conversation(sender_token, &case_id).await }
        })
        .buffered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let (throughput_conversations, conversations) = started.split_at(args.senders);

    eprintln!(
        "throughput: {} senders for {} s…",
        args.senders, args.throughput_seconds
    );
    let (sends_per_second, send_latency, send_failures) = measure_throughput(
        &api,
        sender_token,
        throughput_conversations,
        args.throughput_seconds,
    )
    .await;

    eprintln!("opening {} subscribers…", args.subscribers);
    let deliveries = Arc::new(Deliveries::default());
    let subscribing = Instant::now();
    let opened: Vec<anyhow::Result<()>> = stream::iter(0..args.subscribers)
        .map(|n| {
            let index = n % conversations.len();
            let (conversation, cursor) = &conversations[index];
            let token = &subscriber_tokens[n % subscriber_tokens.len()];
            let (ws_url, deliveries) = (ws_url.clone(), deliveries.clone());
            async move {
                let socket = subscribe(&ws_url, token, conversation, cursor).await;
                socket.map(|socket| {
                    tokio::spawn(listen(socket, deliveries, index));
                })
            }
        })
        .buffer_unordered(args.connect_concurrency)
        .collect()
        .await;
    let mut connect_errors = 0;
    for error in opened.iter().filter_map(|o| o.as_ref().err()) {
        connect_errors += 1;
        record_error(&deliveries, &format!("connect: {error:#}"));
    }
    let connected = args.subscribers - connect_errors;
    let subscribe_seconds = subscribing.elapsed().as_secs_f64();

    // One message per conversation; a subscriber that receives it is live.
    eprintln!("warming up ({connected} connected)…");
    stream::iter(conversations.iter().enumerate())
        .map(|(n, (conversation, _))| {
            let api = api.clone();
            async move {
                api.send(sender_token, conversation, &format!("warmup-{n}"), "warmup")
                    .await
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let warm_deadline = Instant::now() + Duration::from_secs(60);
    while deliveries.ready.load(Ordering::Relaxed) < connected && Instant::now() < warm_deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = deliveries.ready.load(Ordering::Relaxed);
    let ready_seconds = subscribing.elapsed().as_secs_f64();
    let rss_subscribed = rss_mib(server.pid);
    // Only subscribers that went live are expected to receive anything.
    let subscribers_of = deliveries
        .ready_of
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();

    let total = args.rate as u64 * args.seconds;
    eprintln!(
        "latency: {} messages/s for {} s to {ready} live subscribers…",
        args.rate, args.seconds
    );
    let expected = Arc::new(AtomicUsize::new(0));
    let send_failed = Arc::new(AtomicUsize::new(0));
    let subscribers_of = Arc::new(subscribers_of);
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sends = Vec::new();
    let sending = Instant::now();
    for n in 0..total {
        ticker.tick().await;
        let index = n as usize % conversations.len();
        let conversation = conversations[index].0.clone();
        let (api, token) = (api.clone(), sender_token.clone());
        let (expected, send_failed, subscribers_of) = (
            expected.clone(),
            send_failed.clone(),
            subscribers_of.clone(),
        );
        sends.push(tokio::spawn(async move {
            let body = format!("bench {} {n}", now_micros());
            match api
                .send(&token, &conversation, &format!("latency-{n}"), &body)
                .await
            {
                Ok(()) => {
                    let listeners = subscribers_of.get(&index).copied().unwrap_or_default();
                    expected.fetch_add(listeners, Ordering::Relaxed);
                }
                Err(_) => {
                    send_failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    futures_util::future::join_all(sends).await;
    let send_seconds = sending.elapsed().as_secs_f64();
    let expected = expected.load(Ordering::Relaxed);
    let drain_deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let delivered = deliveries
            .latencies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len();
        if delivered >= expected || Instant::now() >= drain_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rss_end = rss_mib(server.pid);
    let latencies = std::mem::take(
        &mut *deliveries
            .latencies
            .lock()
            .unwrap_or_else(|p| p.into_inner()),
    );
    let latency = summarise(latencies);

    let mib = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "n/a".into());
    let rows: Vec<(&str, String)> = vec![
        ("database", backend.to_owned()),
        ("subscribers requested", args.subscribers.to_string()),
        ("subscribers connected", connected.to_string()),
        ("subscribers live (got warm-up)", ready.to_string()),
        (
            "subscriptions ended by server",
            deliveries.ended.load(Ordering::Relaxed).to_string(),
        ),
        (
            "conversations / sessions",
            format!("{} / {}", conversations.len(), subscriber_tokens.len()),
        ),
        (
            "subscribe + warm-up time (s)",
            format!(
                "{subscribe_seconds:.1} + {:.1}",
                ready_seconds - subscribe_seconds
            ),
        ),
        (
            "messages sent (target rate/s)",
            format!("{total} ({})", args.rate),
        ),
        (
            "achieved send rate (/s)",
            format!("{:.1}", total as f64 / send_seconds),
        ),
        (
            "sends failed",
            send_failed.load(Ordering::Relaxed).to_string(),
        ),
        (
            "deliveries received / expected",
            format!("{} / {expected}", latency.count),
        ),
        ("delivery latency p50 (ms)", format!("{:.1}", latency.p50)),
        ("delivery latency p99 (ms)", format!("{:.1}", latency.p99)),
        ("delivery latency max (ms)", format!("{:.1}", latency.max)),
        ("server RSS start (MiB)", mib(rss_start)),
        ("server RSS subscribed (MiB)", mib(rss_subscribed)),
        ("server RSS end (MiB)", mib(rss_end)),
        (
            "sendMessage throughput (/s)",
            format!(
                "{sends_per_second:.1} ({} senders, {} s)",
                args.senders, args.throughput_seconds
            ),
        ),
        (
            "sendMessage latency p50 / p99 (ms)",
            format!("{:.1} / {:.1}", send_latency.p50, send_latency.p99),
        ),
        ("sendMessage failures", send_failures.to_string()),
    ];
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    println!();
    for (key, value) in &rows {
        println!("{key:<width$}  {value}");
    }
    if let Some(error) = deliveries
        .first_error
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
    {
        println!("first subscriber error: {error}");
    }
    let figures = json!({
        "subscribers_connected": connected,
        "subscribers_live": ready,
        "sockets_closed": deliveries.closed.load(Ordering::Relaxed),
        "messages_sent": total,
        "sends_failed": send_failed.load(Ordering::Relaxed),
        "deliveries_received": latency.count,
        "deliveries_expected": expected,
        "delivery_latency_ms": { "p50": latency.p50, "p99": latency.p99, "max": latency.max },
        "server_rss_mib": { "start": rss_start, "subscribed": rss_subscribed, "end": rss_end },
        "send_throughput_per_second": sends_per_second,
        "send_latency_ms": { "p50": send_latency.p50, "p99": send_latency.p99 },
    });
    if let Some(path) = &args.json {
        write_json(path, args, backend, &rows, figures)?;
    }
    Ok(())
}

fn write_json(
    path: &Path,
    args: &Args,
    backend: &str,
    rows: &[(&str, String)],
    figures: Value,
) -> anyhow::Result<()> {
    let results: serde_json::Map<String, Value> = rows
        .iter()
        .map(|(key, value)| ((*key).to_owned(), Value::String(value.clone())))
        .collect();
    let document = json!({
        "database": backend,
        "arguments": {
            "subscribers": args.subscribers,
            "tokens": args.tokens,
            "conversations": args.conversations,
            "rate": args.rate,
            "seconds": args.seconds,
            "senders": args.senders,
            "throughput_seconds": args.throughput_seconds,
            "server_cpus": args.server_cpus,
            "client_cpus": args.client_cpus,
        },
        "table": results,
        "figures": figures,
    });
    std::fs::write(path, serde_json::to_string_pretty(&document)?)
        .with_context(|| format!("write {}", path.display()))
}
