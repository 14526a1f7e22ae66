//! Scheduling under load: `suggestSlots` for eight people over three weeks and
//! `checkAvailability` for the same eight, through real HTTP against the
//! release server, after seeding a year of meetings, weekly commitments and
//! external calendar busy time for each of them straight into the database.
//! See `bench/README.md` for how to run it and what it measured.

use std::{path::PathBuf, time::Instant};

use anyhow::{Context, bail};
use chrono::{Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Stockholm;
use clap::Parser;
use entity::{
    appointment::{self, AppointmentKind, AppointmentStatus, LocationKind},
    appointment_participant::{self, Response},
    calendar_feed, commitment, external_busy, user_account,
};
use sea_orm::{ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use bench::{Api, Server, ServerOptions, Summary, pin_to_cpus, summarise};

/// Slot suggestions and clash checks for eight people with full calendars.
#[derive(Parser, Debug)]
#[command(name = "scheduling")]
struct Args {
    /// Use a running server at this base URL (http://host:port) instead of
    /// starting one; it must have the demo data and `--server-database-url`.
    #[arg(long, requires = "server_database_url")]
    url: Option<String>,
    /// With `--url`: the database that server uses (the bench seeds it).
    #[arg(long)]
    server_database_url: Option<String>,
    /// The release `api` binary to start (default: $CARGO_TARGET_DIR/release/api or target/release/api).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// A PostgreSQL URL the bench may create a database with; a fresh database
    /// is created for the run and dropped afterwards. Without it: SQLite.
    #[arg(long)]
    database_url: Option<String>,
    /// Meetings per person per weekday, over a year (half past, half ahead).
    #[arg(long, default_value_t = 4)]
    per_day: u32,
    /// External calendar busy blocks per person per weekday.
    #[arg(long, default_value_t = 1)]
    external_per_day: u32,
    /// Requests measured per operation (after 20 warm-up requests).
    #[arg(long, default_value_t = 300)]
    requests: usize,
    /// Days searched by `suggestSlots`.
    #[arg(long, default_value_t = 21)]
    days: i64,
    /// CPUs for the server (`taskset -c`), when taskset exists.
    #[arg(long, default_value = "0")]
    server_cpus: String,
    /// CPUs for this load generator (`taskset -c`), when taskset exists.
    #[arg(long, default_value = "1")]
    client_cpus: String,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// The eight people: everyone who may be invited to the demo's Nilsson case
/// meetings (staff on the case, the family members with a login, and the two
/// agencies with an APPOINTMENTS consent).
const PEOPLE: [&str; 8] = [
    "caseworker@exempelby.example",
    "partner@exempelby.example",
    "therapist@exempelby.example",
    "teamlead@exempelby.example",
    "guardian@exempelby.example",
    "young@exempelby.example",
    "teacher@exempelby.example",
    "bup@exempelby.example",
];
const NILSSON_CASE: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000);
const PASSWORD: &str = "demo-password-2026";

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    pin_to_cpus(std::process::id(), &args.client_cpus);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?
        .block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    if args.requests == 0 || args.days < 1 || args.days > 92 {
        bail!("--requests must be at least 1 and --days 1 to 92");
    }
    let backend = match (&args.server_database_url, &args.database_url) {
        (Some(url), _) | (None, Some(url)) if url.starts_with("postgres") => "postgresql",
        _ => "sqlite",
    };
    eprintln!("starting the server ({backend})…");
    let mut server = Server::start(&ServerOptions {
        url: args.url.clone(),
        server_bin: args.server_bin.clone(),
        database_url: args.database_url.clone(),
        server_cpus: args.server_cpus.clone(),
        ..ServerOptions::default()
    })
    .await?;
    if args.url.is_some() {
        server.database_url = args.server_database_url.clone();
    }
    let result = bench(&args, &server, backend).await;
    server.stop().await;
    result
}

/// Seeds a year of weekday meetings (`per_day` each, at staggered times),
/// two weekly commitments and an external feed for every person; returns the
/// busy intervals each person has in the searched window.
async fn seed(db: &DatabaseConnection, people: &[Uuid], args: &Args) -> anyhow::Result<usize> {
    let tenant = api::demo::DEMO_TENANT_ID;
    let now = Utc::now();
    let today = now.with_timezone(&Stockholm).date_naive();
    let at = |day: chrono::NaiveDate, minutes: u32| {
        let time =
            NaiveTime::from_num_seconds_from_midnight_opt(minutes * 60, 0).unwrap_or_default();
        Stockholm
            .from_local_datetime(&day.and_time(time))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now)
    };
    let weekdays: Vec<chrono::NaiveDate> = (-182..183)
        .map(|d| today + Duration::days(d))
        .filter(|d| !matches!(chrono::Datelike::weekday(d), Weekday::Sat | Weekday::Sun))
        .collect();
    let mut appointments = Vec::new();
    let mut participants = Vec::new();
    let mut blocks = Vec::new();
    let mut feeds = Vec::new();
    let mut commitments = Vec::new();
    for (n, person) in people.iter().enumerate() {
        let feed = Uuid::now_v7();
        feeds.push(calendar_feed::ActiveModel {
            id: Set(feed),
            tenant_id: Set(tenant),
            user_id: Set(Some(*person)),
            organisation_id: Set(None),
            name: Set("Bench calendar".to_owned()),
            url: Set("https://calendar.invalid/bench.ics".to_owned()),
            created_by: Set(*person),
            created_at: Set(now),
            next_fetch_at: Set(now + Duration::days(3650)),
            last_attempt_at: Set(Some(now)),
            last_success_at: Set(Some(now)),
            last_error: Set(None),
            busy_count: Set(0),
        });
        for (k, (title, start, end)) in [
            ("Work", 7 * 60 + 30, 8 * 60 + 15),
            ("Gym", 17 * 60, 18 * 60),
        ]
        .into_iter()
        .enumerate()
        {
            commitments.push(commitment::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tenant),
                owner_id: Set(*person),
                title: Set(format!("{title} {n}-{k}")),
                category: Set(None),
                starts_at: Set(at(today - Duration::days(30), start)),
                ends_at: Set(at(today - Duration::days(30), end)),
                weekdays: Set(Some("MON,TUE,WED,THU,FRI".to_owned())),
                repeat_until: Set(Some(today + Duration::days(365))),
                except_dates: Set(None),
                time_zone: Set("Europe/Stockholm".to_owned()),
                created_at: Set(now),
            });
        }
        for (d, day) in weekdays.iter().enumerate() {
            for m in 0..args.per_day {
                // 45-minute meetings from 08:30, staggered per person and day.
                let start = 8 * 60 + 30 + m * 120 + ((n + d) % 4) as u32 * 15;
                let id = Uuid::now_v7();
                let (starts_at, ends_at) = (at(*day, start), at(*day, start + 45));
                appointments.push(appointment::ActiveModel {
                    id: Set(id),
                    tenant_id: Set(tenant),
                    case_id: Set(NILSSON_CASE),
                    kind: Set(AppointmentKind::Other),
                    title: Set(format!("Bench {n}-{d}-{m}")),
                    starts_at: Set(starts_at),
                    ends_at: Set(ends_at),
                    location_kind: Set(LocationKind::Video),
                    location: Set(Some("https://meet.invalid".to_owned())),
                    organiser_id: Set(*person),
                    status: Set(AppointmentStatus::Booked),
                    cancel_reason: Set(None),
                    override_reason: Set(None),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    reminded_at: Set(Some(now)),
                });
                participants.push(appointment_participant::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    appointment_id: Set(id),
                    user_id: Set(Some(*person)),
                    organisation_id: Set(None),
                    required: Set(true),
                    response: Set(Response::Accepted),
                    response_reason: Set(None),
                    responded_at: Set(Some(now)),
                    late_decline: Set(false),
                    counter_starts_at: Set(None),
                    counter_ends_at: Set(None),
                    attendance: Set(None),
                    starts_at: Set(Some(starts_at)),
                    ends_at: Set(Some(ends_at)),
                });
            }
            for e in 0..args.external_per_day {
                let start = 12 * 60 + e * 30 + ((n + d) % 3) as u32 * 10;
                blocks.push(external_busy::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    feed_id: Set(feed),
                    starts_at: Set(at(*day, start)),
                    ends_at: Set(at(*day, start + 25)),
                });
            }
        }
    }
    eprintln!(
        "seeding {} appointments, {} commitments, {} external blocks…",
        appointments.len(),
        commitments.len(),
        blocks.len()
    );
    calendar_feed::Entity::insert_many(feeds).exec(db).await?;
    commitment::Entity::insert_many(commitments)
        .exec(db)
        .await?;
    for chunk in appointments.chunks(500) {
        appointment::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    for chunk in participants.chunks(500) {
        appointment_participant::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    for chunk in blocks.chunks(500) {
        external_busy::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    // Per person in the searched window: meetings, two commitments and the
    // external blocks on each weekday.
    let window_weekdays = (0..args.days)
        .map(|d| today + Duration::days(d))
        .filter(|d| !matches!(chrono::Datelike::weekday(d), Weekday::Sat | Weekday::Sun))
        .count();
    Ok(window_weekdays * (args.per_day as usize + 2 + args.external_per_day as usize))
}

async fn measure(
    api: &Api,
    token: &str,
    query: &str,
    variables: &Value,
    requests: usize,
) -> anyhow::Result<(Summary, f64, Value)> {
    let mut last = Value::Null;
    for _ in 0..20 {
        last = api.call(Some(token), query, variables.clone()).await?;
    }
    let mut micros = Vec::with_capacity(requests);
    let started = Instant::now();
    for _ in 0..requests {
        let one = Instant::now();
        last = api.call(Some(token), query, variables.clone()).await?;
        micros.push(one.elapsed().as_micros() as u64);
    }
    let per_second = requests as f64 / started.elapsed().as_secs_f64();
    Ok((summarise(micros), per_second, last))
}

async fn bench(args: &Args, server: &Server, backend: &str) -> anyhow::Result<()> {
    let api = Api {
        http: reqwest::Client::builder().build()?,
        url: format!("{}/graphql", server.base),
    };
    let database_url = server
        .database_url
        .clone()
        .context("the bench seeds the server's own database")?;
    let db = Database::connect(database_url.as_str())
        .await
        .context("connect to the server's database")?;
    let mut people = Vec::new();
    for email in PEOPLE {
        let user = user_account::Entity::find()
            .filter(user_account::Column::Email.eq(email))
            .one(&db)
            .await?
            .with_context(|| format!("demo account {email}"))?;
        people.push(user.id);
    }
    let busy_per_person = seed(&db, &people, args).await?;
    bench::analyze(&db)
        .await
        .context("analyze the seeded tables")?;
    db.close().await.ok();
    let token = api.login(PEOPLE[0], PASSWORD, "scheduling bench").await?;
    let global = |kind: &str, id: Uuid| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
    };
    let case_id = global("Case", NILSSON_CASE);
    let from = Utc::now() + Duration::days(1);
    let participants: Vec<Value> = people
        .iter()
        .enumerate()
        .map(|(n, p)| json!({ "userId": global("User", *p), "required": n < 6 }))
        .collect();
    let suggest = json!({ "input": {
        "caseId": case_id, "participants": participants, "durationMinutes": 60, "count": 5,
        "from": from.to_rfc3339(), "to": (from + Duration::days(args.days)).to_rfc3339(),
    } });
    const SUGGEST: &str = "query($input: SuggestSlotsInput!) { suggestSlots(input: $input) {
        slots { startsAt optionalParticipantsFree } obstacles { reason shareOfWindow } userErrors { code message } } }";
    let check_at = from + Duration::days(2);
    let check = json!({ "input": {
        "caseId": case_id, "participants": participants, "kind": "NETWORK_MEETING",
        "startsAt": check_at.to_rfc3339(), "endsAt": (check_at + Duration::hours(3)).to_rfc3339(),
    } });
    const CHECK: &str = "query($input: CheckAvailabilityInput!) { checkAvailability(input: $input) {
        availability { free conflicts { reason participant { id } } } userErrors { code message } } }";
    eprintln!("measuring {} requests of each…", args.requests);
    let (slots, slots_rate, slots_body) =
        measure(&api, &token, SUGGEST, &suggest, args.requests).await?;
    let found = slots_body["suggestSlots"]["slots"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    if !slots_body["suggestSlots"]["userErrors"]
        .as_array()
        .is_some_and(Vec::is_empty)
    {
        bail!("suggestSlots refused the input: {slots_body}");
    }
    let (checks, checks_rate, check_body) =
        measure(&api, &token, CHECK, &check, args.requests).await?;
    let conflicts = check_body["checkAvailability"]["availability"]["conflicts"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();

    println!(
        "scheduling bench on {backend}: 8 people, {busy_per_person} busy intervals each in {} days ({} meetings/weekday for a year, 2 weekly commitments, {} external block(s)/weekday)",
        args.days, args.per_day, args.external_per_day
    );
    println!(
        "| operation | requests | p50 ms | p99 ms | max ms | requests/s (one client) | result |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| suggestSlots (8 people, 60 min, {} days) | {} | {:.2} | {:.2} | {:.2} | {:.0} | {found} slots |",
        args.days, slots.count, slots.p50, slots.p99, slots.max, slots_rate
    );
    println!(
        "| checkAvailability (8 people, 3 h) | {} | {:.2} | {:.2} | {:.2} | {:.0} | {conflicts} conflicts |",
        checks.count, checks.p50, checks.p99, checks.max, checks_rate
    );
    if let Some(path) = &args.json {
        let report = json!({
            "backend": backend,
            "busy_intervals_per_person": busy_per_person,
            "suggest_slots": { "p50_ms": slots.p50, "p99_ms": slots.p99, "max_ms": slots.max, "per_second": slots_rate, "slots": found },
            "check_availability": { "p50_ms": checks.p50, "p99_ms": checks.p99, "max_ms": checks.max, "per_second": checks_rate, "conflicts": conflicts },
        });
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("write {}", path.display()))?;
    }
    Ok(())
}
