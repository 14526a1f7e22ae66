//! The benchmark suite: seeds a realistic municipality (5,000 families, 100
//! caseworkers, a year of appointments, goals and messages) into a fresh
//! server on SQLite and on PostgreSQL, and measures through real HTTP and
//! WebSocket clients on loopback, from this process pinned to another CPU
//! than the server: the family home screen, a caseworker's caseload page of
//! 50 cases, `sendMessage` throughput and fan-out (the `messaging` bench, run
//! against the same server), `suggestSlots` (the `scheduling` bench), and
//! optionally a soak of mixed load. Prints one table; `--json` writes it.
//! See `bench/README.md`.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Parser;
use futures_util::{StreamExt, stream};
use sea_orm::Database;
use serde_json::{Value, json};

use bench::{
    Api, Load, Server, ServerOptions, closed_loop,
    municipality::{self, Municipality, Scale},
    pin_to_cpus, rss_mib, statements_so_far,
};

/// The benchmark suite over a seeded municipality, on SQLite and PostgreSQL.
#[derive(Parser, Debug)]
#[command(name = "municipality")]
struct Args {
    /// The release `api` binary to start (default: $CARGO_TARGET_DIR/release/api or target/release/api).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Databases to run on, in order: `sqlite`, `postgresql`.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgresql")]
    backends: Vec<String>,
    /// A PostgreSQL URL the bench may create (and afterwards drop) a fresh database with.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    database_url: String,
    /// Families (each with a guardian who signs in, one open case, a conversation).
    #[arg(long, default_value_t = 5_000)]
    families: usize,
    /// Caseworkers (in teams of ten); each is primary on families / caseworkers cases and partner on as many.
    #[arg(long, default_value_t = 100)]
    caseworkers: usize,
    /// Messages per family over the year.
    #[arg(long, default_value_t = 52)]
    messages_per_family: usize,
    /// Appointments per family over the year (half past, half ahead).
    #[arg(long, default_value_t = 26)]
    appointments_per_family: usize,
    /// Guardians signed in for the home-screen load (spread over all families; logins are argon2-slow).
    #[arg(long, default_value_t = 200)]
    guardian_sessions: usize,
    /// Concurrent connections of the home-screen and caseload loads.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds each of the home-screen and caseload loads runs (after 2 s of warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// WebSocket subscribers in the fan-out measurement (0 skips it).
    #[arg(long, default_value_t = 2_000)]
    subscribers: usize,
    /// Families (conversations) the subscribers and messages are spread over.
    #[arg(long, default_value_t = 20)]
    fanout_families: usize,
    /// Messages per second in the fan-out measurement.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// Seconds the fan-out measurement sends.
    #[arg(long, default_value_t = 20)]
    fanout_seconds: u64,
    /// Requests per operation in the `suggestSlots` measurement (0 skips it).
    #[arg(long, default_value_t = 300)]
    scheduling_requests: usize,
    /// Seconds of mixed load after the measurements (0: no soak).
    #[arg(long, default_value_t = 0)]
    soak_seconds: u64,
    /// CPUs for the server (`taskset -c`), when taskset exists.
    #[arg(long, default_value = "0")]
    server_cpus: String,
    /// CPUs for the load generators (`taskset -c`), when taskset exists.
    #[arg(long, default_value = "1")]
    client_cpus: String,
    /// Also write the table and the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

const PASSWORD: &str = "demo-password-2026";

/// The family's home screen: unread messages, the next two weeks'
/// appointments, the active goals with their latest rating.
const HOME_SCREEN: &str = "query HomeScreen($from: DateTime!, $to: DateTime!) {
  viewer { unreadMessageCount }
  myAppointments(from: $from, to: $to) { id title kind startsAt endsAt locationKind location status }
  myGoals { id title status latestRating nextReviewDue }
}";

/// A caseworker's caseload page: 50 cases with family, children, follow-up
/// status and unread counts.
const CASELOAD: &str = "query Caseload($first: Int!) {
  cases(first: $first) {
    edges { cursor node { id status caseType nextFollowUpDue followUpOverdue followUpMeeting { inTime dueOn }
      family { name members { displayName age kind } }
      focusChildren { displayName age }
      primaryCaseworker { displayName } partnerCaseworker { displayName }
      conversations { id unreadCount } } }
    pageInfo { hasNextPage endCursor }
  }
}";

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    pin_to_cpus(std::process::id(), &args.client_cpus);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?
        .block_on(run(args))
}

/// One backend's figures, by row key.
type Figures = serde_json::Map<String, Value>;

async fn run(args: Args) -> anyhow::Result<()> {
    if args.families < args.caseworkers || args.caseworkers == 0 || args.connections == 0 {
        bail!("need at least one caseworker, as many families, and one connection");
    }
    let mut results: Vec<(String, Figures)> = Vec::new();
    for backend in &args.backends {
        let database_url = match backend.as_str() {
            "sqlite" => None,
            "postgresql" | "postgres" => Some(args.database_url.clone()),
            other => bail!("unknown backend {other}: sqlite or postgresql"),
        };
        eprintln!("== {backend}: starting the server…");
        let server = Server::start(&ServerOptions {
            server_bin: args.server_bin.clone(),
            database_url,
            server_cpus: args.server_cpus.clone(),
            ..ServerOptions::default()
        })
        .await?;
        let figures = measure(&args, &server).await;
        server.stop().await;
        results.push((backend.clone(), figures?));
    }
    let table = table(&results);
    println!(
        "\nmunicipality bench: {} families, {} caseworkers, a year of {} messages and {} appointments per family; server on CPU {}, load on CPU {}\n",
        args.families,
        args.caseworkers,
        args.messages_per_family,
        args.appointments_per_family,
        args.server_cpus,
        args.client_cpus
    );
    println!("{table}");
    if let Some(path) = &args.json {
        let document = json!({
            "date": Utc::now().to_rfc3339(),
            "arguments": format!("{args:?}"),
            "table": table,
            "backends": results.iter().map(|(b, f)| (b.clone(), Value::Object(f.clone()))).collect::<serde_json::Map<_, _>>(),
        });
        std::fs::write(path, serde_json::to_string_pretty(&document)?)
            .with_context(|| format!("write {}", path.display()))?;
    }
    Ok(())
}

/// Everything measured on one server.
async fn measure(args: &Args, server: &Server) -> anyhow::Result<Figures> {
    let mut figures = Figures::new();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(args.connections * 2)
        .build()?;
    let api = Api {
        http: http.clone(),
        url: format!("{}/graphql", server.base),
    };
    figures.insert("rss_idle_mib".into(), json!(rss_mib(server.pid)));

    eprintln!("seeding {} families…", args.families);
    let database_url = server
        .database_url
        .clone()
        .context("the bench seeds the server's own database")?;
    let db = Database::connect(database_url.as_str()).await?;
    let town = municipality::seed(
        &db,
        Scale {
            families: args.families,
            caseworkers: args.caseworkers,
            messages_per_family: args.messages_per_family,
            appointments_per_family: args.appointments_per_family,
        },
    )
    .await?;
    db.close().await.ok();
    eprintln!(
        "seeded {} rows in {:.1} s: {:?}",
        town.total_rows(),
        town.seconds,
        town.rows
    );
    figures.insert("seed_rows".into(), json!(town.total_rows()));
    figures.insert("seed_seconds".into(), json!(town.seconds));

    eprintln!(
        "signing in {} guardians and {} caseworkers…",
        args.guardian_sessions, args.caseworkers
    );
    let signing_in = Instant::now();
    let step = (args.families / args.guardian_sessions.max(1)).max(1);
    let guardian_emails: Vec<String> = town
        .guardians
        .iter()
        .step_by(step)
        .take(args.guardian_sessions)
        .cloned()
        .collect();
    let guardians = sign_in(&api, &guardian_emails).await?;
    let caseworkers = sign_in(&api, &town.caseworkers).await?;
    eprintln!("signed in in {:.1} s", signing_in.elapsed().as_secs_f64());

    // The home screen.
    let home = {
        let guardians = Arc::new(guardians.clone());
        let now = Utc::now();
        let variables = json!({ "from": now.to_rfc3339(), "to": (now + chrono::Duration::days(14)).to_rfc3339() });
        let sample = api
            .call(Some(&guardians[0]), HOME_SCREEN, variables.clone())
            .await?;
        if sample["myGoals"].as_array().is_none_or(Vec::is_empty)
            || sample["myAppointments"]
                .as_array()
                .is_none_or(Vec::is_empty)
        {
            bail!("the home screen shows no goals or appointments: {sample}");
        }
        move |n: usize| {
            (
                guardians[n % guardians.len()].clone(),
                HOME_SCREEN,
                variables.clone(),
            )
        }
    };
    let load = run_load(args, server, &http, &api, "home screen", home).await?;
    record(&mut figures, "home_screen", &load);

    // The caseload page.
    let caseload = {
        let caseworkers = Arc::new(caseworkers.clone());
        let variables = json!({ "first": 50 });
        let sample = api
            .call(Some(&caseworkers[0]), CASELOAD, variables.clone())
            .await?;
        let cases = sample["cases"]["edges"].as_array().map_or(0, Vec::len);
        if cases != 50 {
            bail!("the caseload page has {cases} cases, not 50: {sample}");
        }
        move |n: usize| {
            (
                caseworkers[n % caseworkers.len()].clone(),
                CASELOAD,
                variables.clone(),
            )
        }
    };
    let load = run_load(args, server, &http, &api, "caseload", caseload).await?;
    record(&mut figures, "caseload", &load);

    if args.subscribers > 0 {
        eprintln!(
            "fan-out: {} subscribers over {} families at {} messages/s (the messaging bench)…",
            args.subscribers, args.fanout_families, args.rate
        );
        let out = temp_json("messaging");
        run_sibling(
            "messaging",
            vec![
                "--url".into(),
                server.base.clone(),
                "--subscribers".into(),
                args.subscribers.to_string(),
                "--conversations".into(),
                args.fanout_families.to_string(),
                "--tokens".into(),
                args.fanout_families.to_string(),
                "--rate".into(),
                args.rate.to_string(),
                "--seconds".into(),
                args.fanout_seconds.to_string(),
                "--email".into(),
                town.caseworkers[0].clone(),
                "--client-cpus".into(),
                args.client_cpus.clone(),
                "--json".into(),
                out.display().to_string(),
            ],
            server.pid,
        )
        .await?;
        let report = read_json(&out)?;
        figures.insert("fanout".into(), report["figures"].clone());
    }

    if args.scheduling_requests > 0 {
        eprintln!("suggestSlots for 8 people over 3 weeks (the scheduling bench)…");
        let out = temp_json("scheduling");
        run_sibling(
            "scheduling",
            vec![
                "--url".into(),
                server.base.clone(),
                "--server-database-url".into(),
                database_url.clone(),
                "--requests".into(),
                args.scheduling_requests.to_string(),
                "--client-cpus".into(),
                args.client_cpus.clone(),
                "--json".into(),
                out.display().to_string(),
            ],
            None,
        )
        .await?;
        figures.insert("scheduling".into(), read_json(&out)?);
    }

    if args.soak_seconds > 0 {
        soak(
            args,
            server,
            &http,
            &api,
            &town,
            &guardians,
            &caseworkers,
            &mut figures,
        )
        .await?;
    }
    figures.insert("rss_end_mib".into(), json!(rss_mib(server.pid)));
    Ok(figures)
}

/// Signs in every account (two at a time: logins are deliberately slow).
async fn sign_in(api: &Api, emails: &[String]) -> anyhow::Result<Vec<String>> {
    stream::iter(emails.iter().enumerate())
        .map(|(n, email)| {
            let api = api.clone();
            async move { api.login(email, PASSWORD, &format!("bench {n}")).await }
        })
        .buffered(2)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// Warm-up, then the measured closed-loop run with the server's statement
/// count before and after (less the two scrapes' own statements).
async fn run_load<F>(
    args: &Args,
    server: &Server,
    http: &reqwest::Client,
    api: &Api,
    what: &str,
    request: F,
) -> anyhow::Result<(Load, f64)>
where
    F: Fn(usize) -> (String, &'static str, Value) + Clone + Send + Sync + 'static,
{
    eprintln!(
        "{what}: {} connections for {} s…",
        args.connections, args.seconds
    );
    closed_loop(
        http,
        &api.url,
        args.connections,
        Duration::from_secs(2),
        None,
        request.clone(),
    )
    .await;
    let before = statements_so_far(http, &server.base).await?;
    let load = closed_loop(
        http,
        &api.url,
        args.connections,
        Duration::from_secs(args.seconds),
        None,
        request,
    )
    .await;
    let after = statements_so_far(http, &server.base).await?;
    // Each scrape counts the push outbox once.
    let statements = after.saturating_sub(before + 1) as f64 / load.requests.max(1) as f64;
    if let Some(error) = &load.first_error {
        eprintln!("{what}: {} errors, the first: {error}", load.errors);
    }
    Ok((load, statements))
}

fn record(figures: &mut Figures, key: &str, (load, statements): &(Load, f64)) {
    figures.insert(
        key.into(),
        json!({
            "requests": load.requests,
            "errors": load.errors,
            "per_second": load.per_second,
            "p50_ms": load.latency.p50,
            "p99_ms": load.latency.p99,
            "max_ms": load.latency.max,
            "statements_per_request": statements,
        }),
    );
}

/// Ten minutes (or `--soak-seconds`) of mixed load at a steady rate: home
/// screens and caseloads from this process, messages to subscribers from the
/// messaging bench beside it; the server's memory sampled every minute.
#[allow(clippy::too_many_arguments)]
async fn soak(
    args: &Args,
    server: &Server,
    http: &reqwest::Client,
    api: &Api,
    town: &Municipality,
    guardians: &[String],
    caseworkers: &[String],
    figures: &mut Figures,
) -> anyhow::Result<()> {
    eprintln!("soak: {} s of mixed load…", args.soak_seconds);
    let duration = Duration::from_secs(args.soak_seconds);
    let rss_start = rss_mib(server.pid);
    let out = temp_json("soak-messaging");
    let messaging = run_sibling(
        "messaging",
        vec![
            "--url".into(),
            server.base.clone(),
            "--subscribers".into(),
            "500".into(),
            "--conversations".into(),
            "50".into(),
            "--tokens".into(),
            "10".into(),
            "--rate".into(),
            "10".into(),
            "--seconds".into(),
            args.soak_seconds.to_string(),
            "--throughput-seconds".into(),
            "5".into(),
            "--email".into(),
            town.caseworkers[1].clone(),
            "--client-cpus".into(),
            args.client_cpus.clone(),
            "--json".into(),
            out.display().to_string(),
        ],
        server.pid,
    );
    let now = Utc::now();
    let home_variables =
        json!({ "from": now.to_rfc3339(), "to": (now + chrono::Duration::days(14)).to_rfc3339() });
    let guardians = Arc::new(guardians.to_vec());
    let home = closed_loop(http, &api.url, 8, duration, Some(400.0), move |n| {
        (
            guardians[n % guardians.len()].clone(),
            HOME_SCREEN,
            home_variables.clone(),
        )
    });
    let caseworkers = Arc::new(caseworkers.to_vec());
    let caseload = closed_loop(http, &api.url, 4, duration, Some(100.0), move |n| {
        (
            caseworkers[n % caseworkers.len()].clone(),
            CASELOAD,
            json!({ "first": 50 }),
        )
    });
    let pid = server.pid;
    let sampler = tokio::spawn(async move {
        let started = Instant::now();
        let mut samples = Vec::new();
        while started.elapsed() < duration {
            tokio::time::sleep(Duration::from_secs(60).min(duration)).await;
            samples.push(rss_mib(pid));
        }
        samples
    });
    let (home, caseload, messaging) = tokio::join!(home, caseload, messaging);
    messaging?;
    let samples = sampler.await.unwrap_or_default();
    let report = read_json(&out)?;
    figures.insert(
        "soak".into(),
        json!({
            "seconds": args.soak_seconds,
            "home_screen": { "requests": home.requests, "errors": home.errors, "p99_ms": home.latency.p99, "first_error": home.first_error },
            "caseload": { "requests": caseload.requests, "errors": caseload.errors, "p99_ms": caseload.latency.p99, "first_error": caseload.first_error },
            "messaging": report["figures"].clone(),
            "rss_start_mib": rss_start,
            "rss_per_minute_mib": samples,
            "rss_end_mib": rss_mib(server.pid),
        }),
    );
    Ok(())
}

fn temp_json(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "municipality-{what}-{}.json",
        uuid::Uuid::now_v7().simple()
    ))
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let _ = std::fs::remove_file(path);
    Ok(serde_json::from_str(&text)?)
}

/// Runs another bench binary of this build (beside this one) to completion.
async fn run_sibling(name: &str, args: Vec<String>, server_pid: Option<u32>) -> anyhow::Result<()> {
    let program = std::env::current_exe()?
        .parent()
        .context("the bench's folder")?
        .join(name);
    let mut command = tokio::process::Command::new(&program);
    command.args(&args);
    if let Some(pid) = server_pid {
        command.args(["--server-pid", &pid.to_string()]);
    }
    let status = command
        .status()
        .await
        .with_context(|| format!("run {}", program.display()))?;
    if !status.success() {
        bail!("{name} bench failed: {status}");
    }
    Ok(())
}

/// The table: one row per figure, one column per database, and the target.
fn table(results: &[(String, Figures)]) -> String {
    type Row = (&'static str, &'static str, fn(&Figures) -> Option<String>);
    fn num(f: &Figures, path: &[&str]) -> Option<f64> {
        let mut value = f.get(path[0])?;
        for key in &path[1..] {
            value = value.get(key)?;
        }
        value.as_f64()
    }
    let rows: Vec<Row> = vec![
        ("seeded rows (seconds)", "", |f| {
            Some(format!(
                "{:.0} ({:.0} s)",
                num(f, &["seed_rows"])?,
                num(f, &["seed_seconds"])?
            ))
        }),
        (
            "home screen requests/s",
            "≥ 5,000 SQLite, ≥ 3,000 PG",
            |f| Some(format!("{:.0}", num(f, &["home_screen", "per_second"])?)),
        ),
        ("home screen p50 / p99 ms", "", |f| {
            Some(format!(
                "{:.2} / {:.2}",
                num(f, &["home_screen", "p50_ms"])?,
                num(f, &["home_screen", "p99_ms"])?
            ))
        }),
        ("home screen SQL statements/request", "≤ 4", |f| {
            Some(format!(
                "{:.1}",
                num(f, &["home_screen", "statements_per_request"])?
            ))
        }),
        ("home screen errors", "0", |f| {
            Some(format!("{:.0}", num(f, &["home_screen", "errors"])?))
        }),
        ("caseload (50 cases) requests/s", "≥ 1,600 PG", |f| {
            Some(format!("{:.0}", num(f, &["caseload", "per_second"])?))
        }),
        ("caseload p50 / p99 ms", "", |f| {
            Some(format!(
                "{:.2} / {:.2}",
                num(f, &["caseload", "p50_ms"])?,
                num(f, &["caseload", "p99_ms"])?
            ))
        }),
        ("caseload SQL statements/request", "≤ 4", |f| {
            Some(format!(
                "{:.1}",
                num(f, &["caseload", "statements_per_request"])?
            ))
        }),
        ("caseload errors", "0", |f| {
            Some(format!("{:.0}", num(f, &["caseload", "errors"])?))
        }),
        ("sendMessage throughput/s (4 senders)", "", |f| {
            Some(format!(
                "{:.0} (p99 {:.1} ms)",
                num(f, &["fanout", "send_throughput_per_second"])?,
                num(f, &["fanout", "send_latency_ms", "p99"])?
            ))
        }),
        ("fan-out deliveries received / expected", "all", |f| {
            Some(format!(
                "{:.0} / {:.0}",
                num(f, &["fanout", "deliveries_received"])?,
                num(f, &["fanout", "deliveries_expected"])?
            ))
        }),
        ("fan-out send-to-receipt p50 / p99 ms", "p99 ≤ 25", |f| {
            Some(format!(
                "{:.1} / {:.1}",
                num(f, &["fanout", "delivery_latency_ms", "p50"])?,
                num(f, &["fanout", "delivery_latency_ms", "p99"])?
            ))
        }),
        ("server RSS with subscribers MiB", "", |f| {
            Some(format!(
                "{:.0}",
                num(f, &["fanout", "server_rss_mib", "subscribed"])?
            ))
        }),
        ("suggestSlots p50 / p99 ms", "p99 ≤ 10", |f| {
            Some(format!(
                "{:.2} / {:.2}",
                num(f, &["scheduling", "suggest_slots", "p50_ms"])?,
                num(f, &["scheduling", "suggest_slots", "p99_ms"])?
            ))
        }),
        ("soak requests / errors", "0 errors", |f| {
            Some(format!(
                "{:.0} / {:.0}",
                num(f, &["soak", "home_screen", "requests"])?
                    + num(f, &["soak", "caseload", "requests"])?
                    + num(f, &["soak", "messaging", "messages_sent"])?,
                num(f, &["soak", "home_screen", "errors"])?
                    + num(f, &["soak", "caseload", "errors"])?
                    + num(f, &["soak", "messaging", "sends_failed"])?
            ))
        }),
        ("soak deliveries received / expected", "all", |f| {
            Some(format!(
                "{:.0} / {:.0}",
                num(f, &["soak", "messaging", "deliveries_received"])?,
                num(f, &["soak", "messaging", "deliveries_expected"])?
            ))
        }),
        ("soak server RSS start → end MiB", "flat", |f| {
            Some(format!(
                "{:.0} → {:.0}",
                num(f, &["soak", "rss_start_mib"])?,
                num(f, &["soak", "rss_end_mib"])?
            ))
        }),
    ];
    let mut out = String::from("| | ");
    out += &results
        .iter()
        .map(|(b, _)| b.as_str())
        .collect::<Vec<_>>()
        .join(" | ");
    out += " | target |\n|---|";
    out += &"---|".repeat(results.len() + 1);
    out.push('\n');
    for (label, target, cell) in rows {
        let cells: Vec<String> = results
            .iter()
            .map(|(_, f)| cell(f).unwrap_or_else(|| "–".into()))
            .collect();
        if cells.iter().all(|c| c == "–") {
            continue;
        }
        out += &format!("| {label} | {} | {target} |\n", cells.join(" | "));
    }
    out
}
