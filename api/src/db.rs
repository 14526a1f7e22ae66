//! Opening the database: embedded SQLite by default, PostgreSQL in production.

use std::{path::Path, time::Duration};

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

use crate::config::Config;

/// The default SQLite file inside DATA_DIR.
pub const SQLITE_FILE_NAME: &str = "app.db";

/// The database URL to use: DATABASE_URL, or a SQLite file under DATA_DIR.
pub fn database_url(config: &Config) -> anyhow::Result<String> {
    match &config.database_url {
        Some(url) if url.trim().is_empty() => anyhow::bail!("DATABASE_URL is set but empty"),
        Some(url) => {
            if !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
            {
                anyhow::bail!("DATABASE_URL must start with sqlite:, postgres:// or postgresql://");
            }
            Ok(url.clone())
        }
        None => {
            ensure_writable_dir(&config.data_dir)?;
            let path = config.data_dir.join(SQLITE_FILE_NAME);
            Ok(format!("sqlite://{}?mode=rwc", path.display()))
        }
    }
}

/// Creates DATA_DIR if missing and checks that files can be written in it.
pub fn ensure_writable_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("DATA_DIR {} cannot be created", dir.display()))?;
    let probe = dir.join(".write-probe");
    std::fs::write(&probe, b"ok")
        .with_context(|| format!("DATA_DIR {} is not writable", dir.display()))?;
    // Failing to remove the probe is harmless.
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Opens a connection pool.
///
/// SQLite is opened for a server: WAL journal (readers do not block the writer),
/// `synchronous = FULL` (a commit is fsynced before it is acknowledged, so it
/// survives `kill -9` and, on a disk that honours fsync, power loss), foreign keys
/// enforced, and a busy timeout instead of immediate `SQLITE_BUSY` errors.
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    Ok(connect_counting(config).await?.0)
}

/// Counts SQL statements executed through a connection (for tests that prove a
/// query costs a constant number of statements, and for metrics).
#[derive(Debug, Clone, Default)]
pub struct StatementCounter(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl StatementCounter {
    /// Statements executed so far.
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Opens a connection pool that counts its statements (see `connect`).
pub async fn connect_counting(
    config: &Config,
) -> anyhow::Result<(DatabaseConnection, StatementCounter)> {
    let url = database_url(config)?;
    let is_sqlite = url.starts_with("sqlite:");
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(
            config
                .database_max_connections
                .unwrap_or(if is_sqlite { 1 } else { 10 }),
        )
        .min_connections(if is_sqlite { 1 } else { 0 })
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                // 64 MiB of page cache (the default is 2 MiB): a municipality's
                // hot pages stay in the process instead of being re-read.
                .pragma("cache_size", "-65536")
        });
    let mut db = Database::connect(options)
        .await
        .map_err(|e| anyhow::anyhow!(one_line(&e.to_string())))
        .context("DATABASE_URL: cannot open the database")?;
    db.execute_unprepared("SELECT 1")
        .await
        .map_err(|e| anyhow::anyhow!(one_line(&e.to_string())))
        .context("DATABASE_URL: the database does not answer")?;
    let counter = StatementCounter::default();
    let count = counter.0.clone();
    db.set_metric_callback(move |_info| {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    Ok((db, counter))
}

/// A database URL with its database name replaced by `name`, keeping the
/// query string (tests and benchmarks create a database per run this way).
pub fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .map_err(|e| anyhow::anyhow!(one_line(&e.to_string())))
        .context("applying migrations failed")
}

/// Whether the database answers and every migration is applied (for `/readyz`).
pub async fn readiness(db: &DatabaseConnection) -> Result<(), &'static str> {
    db.execute_unprepared("SELECT 1")
        .await
        .map_err(|_| "database unreachable")?;
    let pending = Migrator::get_pending_migrations_read_only(db)
        .await
        .map_err(|_| "migration status unknown")?;
    if pending.is_empty() {
        Ok(())
    } else {
        Err("migrations pending")
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
