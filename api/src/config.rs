//! Configuration: one struct, read from environment variables, each also a flag.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The command line of the `api` binary.
#[derive(Debug, Parser)]
#[command(
    name = "api",
    version,
    about = "GraphQL API for child and family social services"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What the binary does; `serve` when none is given.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP and WebSocket server (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) to standard output.
    ExportSchema,
    /// Load the demo municipality (idempotent) and exit.
    SeedDemo,
    /// Create a tenant and an invitation for its first admin; prints the
    /// one-time invitation code.
    Bootstrap(BootstrapArgs),
    /// Check the audit trail's hash chains; exits non-zero if one is broken.
    VerifyAudit,
}

/// Options of `bootstrap`.
#[derive(Debug, Clone, Args)]
pub struct BootstrapArgs {
    /// The municipality's name, e.g. "Exempelby kommun".
    #[arg(long)]
    pub tenant: String,
    /// The first admin's e-mail address.
    #[arg(long)]
    pub admin_email: String,
    /// The first admin's display name.
    #[arg(long, default_value = "Administrator")]
    pub admin_name: String,
    /// The tenant's IANA time zone.
    #[arg(long, default_value = "Europe/Stockholm")]
    pub time_zone: String,
}

/// Options of `serve`.
#[derive(Debug, Default, Clone, Args)]
pub struct ServeArgs {
    /// Load the demo municipality before serving (idempotent).
    #[arg(long, env = "DEMO", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    pub demo: bool,
    /// Do not apply pending migrations at start; fail readiness instead.
    #[arg(long, env = "NO_MIGRATE", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    pub no_migrate: bool,
}

/// Development or production: production refuses unsafe defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    /// Generated signing key, GraphiQL on.
    Development,
    /// Signing key must be given, GraphiQL off unless asked for.
    Production,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Every setting of the server. Each field is an environment variable and a flag.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// `development` or `production`.
    #[arg(
        long,
        env = "APP_ENV",
        value_enum,
        default_value = "development",
        global = true
    )]
    pub app_env: Environment,
    /// Database URL: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    /// Default: a SQLite file `app.db` under DATA_DIR.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Maximum pooled database connections (default: 1 for SQLite, 10 for PostgreSQL).
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", global = true, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_max_connections: Option<u32>,
    /// Folder for the SQLite database and the development signing key; created if missing.
    #[arg(long, env = "DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port (the chosen address is logged).
    #[arg(
        long,
        env = "BIND_ADDR",
        default_value = "127.0.0.1:8000",
        global = true
    )]
    pub bind_addr: SocketAddr,
    /// `text` or `json`.
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
    /// Serve GraphiQL on `GET /graphql` (default: on in development, off in production).
    #[arg(long, env = "GRAPHIQL", global = true, value_parser = clap::builder::BoolishValueParser::new())]
    pub graphiql: Option<bool>,
    /// Base64 of a 32-byte Ed25519 seed that signs access tokens. Required in
    /// production; in development it is generated once and kept in DATA_DIR.
    #[arg(long, env = "TOKEN_SIGNING_KEY", global = true, hide_env_values = true)]
    pub token_signing_key: Option<String>,
    /// Base64url Ed25519 public keys (the JWKS `x`) of previous signing keys,
    /// comma-separated: tokens they signed stay valid until they expire.
    #[arg(
        long,
        env = "TOKEN_PREVIOUS_PUBLIC_KEYS",
        value_delimiter = ',',
        global = true
    )]
    pub token_previous_public_keys: Vec<String>,
    /// The `iss` and `aud` of access tokens.
    #[arg(
        long,
        env = "TOKEN_ISSUER",
        default_value = "family-services-api",
        global = true
    )]
    pub token_issuer: String,
    /// The OpenID Connect issuer of the e-ID broker (enables `loginWithIdToken`).
    #[arg(long, env = "OIDC_ISSUER", global = true)]
    pub oidc_issuer: Option<String>,
    /// This application's client id at the OIDC issuer (the ID tokens' audience).
    #[arg(long, env = "OIDC_CLIENT_ID", global = true)]
    pub oidc_client_id: Option<String>,
    /// The issuer's JWKS URL (default: from its `/.well-known/openid-configuration`).
    #[arg(long, env = "OIDC_JWKS_URL", global = true)]
    pub oidc_jwks_url: Option<String>,
    /// Seconds to let in-flight requests finish after SIGTERM or Ctrl-C.
    #[arg(
        long,
        env = "SHUTDOWN_GRACE_SECONDS",
        default_value = "10",
        global = true
    )]
    pub shutdown_grace_seconds: u64,
    /// The push gateway URL that push notifications are POSTed to (devices
    /// registering without an endpoint of their own use it).
    #[arg(long, env = "PUSH_GATEWAY_URL", global = true)]
    pub push_gateway_url: Option<String>,
    /// URL prefixes a device's own push endpoint may start with (e.g. Web
    /// Push services), comma-separated.
    #[arg(
        long,
        env = "PUSH_ALLOWED_ENDPOINTS",
        value_delimiter = ',',
        global = true
    )]
    pub push_allowed_endpoints: Vec<String>,
    /// Attempts before a push delivery is given up.
    #[arg(long, env = "PUSH_MAX_ATTEMPTS", default_value = "8", global = true)]
    pub push_max_attempts: i32,
    /// Milliseconds before the first retry of a failed push; each further retry waits twice as long.
    #[arg(
        long,
        env = "PUSH_RETRY_BASE_MS",
        default_value = "1000",
        global = true
    )]
    pub push_retry_base_ms: u64,
    /// Minutes between scheduled fetches of each external calendar feed.
    #[arg(
        long,
        env = "CALENDAR_FEED_REFRESH_MINUTES",
        default_value = "30",
        global = true
    )]
    pub calendar_feed_refresh_minutes: u64,
    /// Whether calendar feeds may be fetched over plain http and from
    /// private, loopback and link-local addresses (default: in development
    /// only; production fetches only public https).
    #[arg(long, env = "CALENDAR_FEED_ALLOW_PRIVATE", global = true)]
    pub calendar_feed_allow_private: Option<bool>,
    /// Seconds between the calendar fetcher's looks for feeds that are due.
    #[arg(
        long,
        env = "CALENDAR_FEED_POLL_SECONDS",
        default_value = "30",
        global = true
    )]
    pub calendar_feed_poll_seconds: u64,
    /// Hours before an appointment that its participants are reminded (0: no reminders).
    #[arg(
        long,
        env = "APPOINTMENT_REMINDER_HOURS",
        default_value = "24",
        global = true
    )]
    pub appointment_reminder_hours: u64,
    /// Seconds between the reminder worker's looks for appointments to remind of.
    #[arg(
        long,
        env = "APPOINTMENT_REMINDER_POLL_SECONDS",
        default_value = "60",
        global = true
    )]
    pub appointment_reminder_poll_seconds: u64,
    /// Whether the schema answers introspection and "did you mean"
    /// suggestions (default: in development only).
    #[arg(long, env = "INTROSPECTION", global = true)]
    pub introspection: Option<bool>,
    /// A bearer token `GET /metrics` requires (default: none, open to
    /// whoever reaches the port — keep it on an internal network).
    #[arg(long, env = "METRICS_TOKEN", global = true)]
    pub metrics_token: Option<String>,
    /// A JSON file of sha256 → query text: when set, only these documents
    /// run (trusted documents); otherwise any query, with automatic
    /// persisted queries.
    #[arg(long, env = "TRUSTED_DOCUMENTS", global = true)]
    pub trusted_documents: Option<PathBuf>,
    /// Points in each user's budget (anonymous requests: per client
    /// address); a request costs its query complexity (at most 1000).
    #[arg(long, env = "RATE_LIMIT_POINTS", default_value = "2000", global = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_points: u32,
    /// Points given back to each budget per second.
    #[arg(long, env = "RATE_LIMIT_REFILL_PER_SECOND", default_value = "200", global = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_refill_per_second: u32,
    /// Sign-in fields (`login`, `loginWithIdToken`, `refreshSession`,
    /// `acceptInvitation`) accepted per client address per minute.
    #[arg(long, env = "RATE_LIMIT_SIGN_INS_PER_MINUTE", default_value = "30", global = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_sign_ins_per_minute: u32,
    /// How long sessions and cases' access facts read for one request may
    /// serve the next ones, in seconds, at most (0 turns this off). Any
    /// access change voids them at once, in every process.
    #[arg(long, env = "ACCESS_CACHE_SECONDS", default_value = "60", global = true, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub access_cache_seconds: u64,
    /// An OpenTelemetry collector to send traces to over OTLP/HTTP
    /// (protobuf), e.g. `http://127.0.0.1:4318` (default: none, no traces).
    /// Spans carry what the logs carry: method, path, operation name,
    /// outcome, status and duration; never variables, bodies, tokens or names.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", global = true)]
    pub otel_exporter_otlp_endpoint: Option<String>,
    /// The service name the traces carry.
    #[arg(
        long,
        env = "OTEL_SERVICE_NAME",
        default_value = "family-services-api",
        global = true
    )]
    pub otel_service_name: String,
}

impl Config {
    /// When appointment reminders go out; `None` when turned off.
    pub fn reminders(&self) -> Option<crate::scheduling::reminders::ReminderConfig> {
        (self.appointment_reminder_hours > 0).then(|| {
            crate::scheduling::reminders::ReminderConfig {
                lead: chrono::Duration::hours(
                    i64::try_from(self.appointment_reminder_hours.min(24 * 14)).unwrap_or(24),
                ),
                poll: std::time::Duration::from_secs(self.appointment_reminder_poll_seconds.max(1)),
            }
        })
    }

    /// How calendar feeds are fetched.
    pub fn feeds(&self) -> crate::scheduling::feeds::FeedConfig {
        crate::scheduling::feeds::FeedConfig {
            refresh: std::time::Duration::from_secs(self.calendar_feed_refresh_minutes.max(1) * 60),
            allow_private: self
                .calendar_feed_allow_private
                .unwrap_or(self.app_env == Environment::Development),
            poll: std::time::Duration::from_secs(self.calendar_feed_poll_seconds.max(1)),
            ..Default::default()
        }
    }

    /// The OIDC settings, when an issuer is configured.
    pub fn oidc(&self) -> anyhow::Result<Option<crate::auth::oidc::OidcConfig>> {
        let Some(issuer) = self.oidc_issuer.as_ref().filter(|i| !i.trim().is_empty()) else {
            return Ok(None);
        };
        let client_id = self
            .oidc_client_id
            .clone()
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| anyhow::anyhow!("OIDC_CLIENT_ID is required when OIDC_ISSUER is set"))?;
        Ok(Some(crate::auth::oidc::OidcConfig {
            issuer: issuer.trim().to_owned(),
            client_id,
            jwks_url: self.oidc_jwks_url.clone().filter(|u| !u.trim().is_empty()),
        }))
    }

    /// The rate limits of this process.
    pub fn rate_limits(&self) -> crate::limits::RateLimits {
        crate::limits::RateLimits::new(
            self.rate_limit_points,
            self.rate_limit_refill_per_second,
            self.rate_limit_sign_ins_per_minute,
        )
    }

    /// Whether introspection and suggestions are on, after the environment's default.
    pub fn introspection_enabled(&self) -> bool {
        self.introspection
            .unwrap_or(self.app_env == Environment::Development)
    }

    /// Whether GraphiQL is served, after applying the environment's default.
    pub fn graphiql_enabled(&self) -> bool {
        self.graphiql
            .unwrap_or(self.app_env == Environment::Development)
    }

    /// A configuration for tests and embedding: SQLite under `data_dir`, port 0.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            app_env: Environment::Development,
            database_url: None,
            database_max_connections: None,
            data_dir: data_dir.into(),
            bind_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log_format: LogFormat::Text,
            graphiql: None,
            token_signing_key: None,
            token_previous_public_keys: Vec::new(),
            token_issuer: "family-services-api".to_owned(),
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_jwks_url: None,
            shutdown_grace_seconds: 10,
            push_gateway_url: None,
            push_allowed_endpoints: Vec::new(),
            push_max_attempts: 8,
            push_retry_base_ms: 1000,
            calendar_feed_refresh_minutes: 30,
            calendar_feed_allow_private: None,
            calendar_feed_poll_seconds: 30,
            appointment_reminder_hours: 24,
            appointment_reminder_poll_seconds: 60,
            introspection: None,
            metrics_token: None,
            trusted_documents: None,
            rate_limit_points: 2000,
            rate_limit_refill_per_second: 200,
            rate_limit_sign_ins_per_minute: 30,
            access_cache_seconds: 60,
            otel_exporter_otlp_endpoint: None,
            otel_service_name: "family-services-api".to_owned(),
        }
    }
}
