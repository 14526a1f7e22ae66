//! `Application`: the server, built from a `Config`, bound to its port, ready to run.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use poem::{
    EndpointExt, Response, Server,
    endpoint::BoxEndpoint,
    listener::{Acceptor, Listener, TcpAcceptor, TcpListener},
};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::watch;

use crate::{
    auth::{TokenKeys, oidc::OidcVerifier},
    config::{Config, ServeArgs},
    db, demo,
    events::{self, hub::Hub, push::PushConfig},
    graphql::{AppState, build_schema},
    server::{RouteState, routes},
};

/// A built server: database open and migrated, port bound, not yet serving.
pub struct Application {
    local_addr: SocketAddr,
    acceptor: TcpAcceptor,
    endpoint: BoxEndpoint<'static, Response>,
    shutdown: watch::Sender<bool>,
    grace: Duration,
    db: DatabaseConnection,
    statements: db::StatementCounter,
}

/// Asks a running `Application` to shut down gracefully.
#[derive(Clone)]
pub struct ShutdownHandle(watch::Sender<bool>);

impl ShutdownHandle {
    /// Starts the graceful shutdown: stop accepting, finish in-flight requests,
    /// close WebSockets with a close frame.
    pub fn shutdown(&self) {
        let _ = self.0.send(true);
    }
}

impl Application {
    /// Opens the database, applies migrations (unless `--no-migrate`), seeds the
    /// demo data when asked, loads the signing key and binds the port.
    pub async fn build(config: &Config, serve: &ServeArgs) -> anyhow::Result<Self> {
        let (db, statements) = db::connect_counting(config).await?;
        if !serve.no_migrate {
            db::migrate(&db).await?;
        }
        if serve.demo {
            let report = demo::seed(&db).await.context("loading the demo data")?;
            tracing::info!(?report, "demo data loaded");
        }
        let keys = Arc::new(TokenKeys::load(config)?);
        let oidc = match config.oidc()? {
            Some(oidc) => Some(Arc::new(OidcVerifier::new(oidc)?)),
            None => None,
        };
        let hub = Arc::new(Hub::for_backend(db.get_database_backend()));
        let push = PushConfig {
            gateway_url: config.push_gateway_url.clone(),
            allowed_endpoints: config.push_allowed_endpoints.clone(),
            max_attempts: config.push_max_attempts.max(1),
            retry_base: Duration::from_millis(config.push_retry_base_ms),
            poll_interval: Duration::from_secs(60),
        };
        let state = AppState {
            db: db.clone(),
            keys,
            oidc,
            hub: hub.clone(),
            push: Arc::new(push.clone()),
            feeds: Arc::new(config.feeds()),
            introspection: config.introspection_enabled(),
            limits: Arc::new(config.rate_limits()),
            access_cache: Arc::new(crate::auth::access_cache::AccessCache::new(
                hub.clone(),
                std::time::Duration::from_secs(config.access_cache_seconds),
            )),
        };
        let persisted = match &config.trusted_documents {
            Some(path) => {
                let manifest = std::fs::read_to_string(path).with_context(|| {
                    format!("TRUSTED_DOCUMENTS: cannot read {}", path.display())
                })?;
                crate::persisted::PersistedQueries::trusted(&manifest)?
            }
            None => crate::persisted::PersistedQueries::automatic(),
        };
        let schema = build_schema(Some(state.clone()));
        let acceptor = TcpListener::bind(config.bind_addr)
            .into_acceptor()
            .await
            .with_context(|| format!("BIND_ADDR {} cannot be bound", config.bind_addr))?;
        let local_addr = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().copied())
            .context("BIND_ADDR: the bound address is unknown")?;
        let (shutdown, shutting_down) = watch::channel(false);
        // Background work that ends with the server: cross-process fan-out
        // (PostgreSQL) and the push outbox.
        if db.get_database_backend() == DatabaseBackend::Postgres {
            tokio::spawn(events::listener::run(
                db.clone(),
                hub.clone(),
                shutting_down.clone(),
            ));
        }
        tokio::spawn(events::push::run_worker(
            db.clone(),
            hub.clone(),
            push,
            shutting_down.clone(),
        ));
        if let Some(reminders) = config.reminders() {
            tokio::spawn(crate::scheduling::reminders::run_worker(
                db.clone(),
                hub.clone(),
                reminders,
                shutting_down.clone(),
            ));
        }
        tokio::spawn(crate::scheduling::feeds::run_worker(
            db.clone(),
            config.feeds(),
            shutting_down.clone(),
        ));
        let endpoint = routes(RouteState {
            schema,
            state,
            graphiql: config.graphiql_enabled(),
            shutting_down,
            metrics: Arc::new(
                crate::metrics::Metrics::new().with_statement_counter(statements.clone()),
            ),
            metrics_token: config.metrics_token.clone().filter(|t| !t.is_empty()),
            persisted: Arc::new(persisted),
        })
        .map_to_response()
        .boxed();
        Ok(Application {
            local_addr,
            acceptor,
            endpoint,
            shutdown,
            grace: Duration::from_secs(config.shutdown_grace_seconds),
            db,
            statements,
        })
    }

    /// The address the server listens on (the real port when BIND_ADDR asked for 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The database connection the server uses.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The count of SQL statements the server has executed.
    pub fn statement_counter(&self) -> db::StatementCounter {
        self.statements.clone()
    }

    /// A handle that stops the server gracefully.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown.clone())
    }

    /// Serves until SIGTERM or Ctrl-C (or a `ShutdownHandle`), then shuts down
    /// gracefully.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(os_shutdown_signal()).await
    }

    /// Serves until `signal` completes or a `ShutdownHandle` fires.
    pub async fn run_until(self, signal: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        tracing::info!(address = %self.local_addr, "listening on http://{}/graphql", self.local_addr);
        let sender = self.shutdown.clone();
        let mut requested = self.shutdown.subscribe();
        let stop = async move {
            tokio::select! {
                () = signal => {}
                _ = requested.wait_for(|down| *down) => {}
            }
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = sender.send(true);
        };
        let endpoint = self.endpoint;
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(endpoint, stop, Some(self.grace))
            .await
            .context("the server stopped with an error")?;
        self.db.close().await.ok();
        tracing::info!("stopped");
        Ok(())
    }
}

async fn os_shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
