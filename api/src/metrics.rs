//! Metrics in the Prometheus text format at `GET /metrics`: GraphQL requests
//! and their latency by operation name and outcome, live WebSocket
//! connections, events delivered to subscribers by subscription field, the
//! database pool, and the push outbox's depth. Labels never
//! carry message bodies, tokens or names; operation names come from clients,
//! so only well-formed ones are kept, and only the first [`MAX_OPERATIONS`]
//! distinct ones (the rest count as `other`) so a client cannot grow memory.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use entity::push_delivery::{self, PushState};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

/// Distinct operation names kept as labels.
pub const MAX_OPERATIONS: usize = 200;

/// Labels of a GraphQL request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The operation name (`anonymous`, `other` when not kept).
    pub operation: String,
    /// `ok`, `error` (errors in the response) or `refused` (by the gate).
    pub outcome: String,
}

/// Labels of a subscription delivery.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// The subscription's root field (`messageAdded`, `viewerEvents`): a
    /// field of the schema, so the label values are few.
    pub subscription: String,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 4 s.
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 4.0,
    ])
}

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram, fn() -> Histogram>,
    websockets: Gauge,
    deliveries: Family<DeliveryLabels, Counter>,
    pool_size: Gauge,
    pool_idle: Gauge,
    push_outbox: Gauge,
    statements: Counter,
    statement_source: Option<crate::db::StatementCounter>,
    operations: Mutex<HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let websockets = Gauge::default();
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        let pool_size = Gauge::default();
        let pool_idle = Gauge::default();
        let push_outbox = Gauge::default();
        registry.register(
            "graphql_requests",
            "GraphQL requests over HTTP by operation name and outcome",
            requests.clone(),
        );
        registry.register(
            "graphql_request_duration_seconds",
            "Time to answer a GraphQL request over HTTP",
            latency.clone(),
        );
        registry.register(
            "websocket_connections",
            "Open GraphQL WebSocket connections",
            websockets.clone(),
        );
        registry.register(
            "graphql_subscription_deliveries",
            "Events sent to WebSocket subscribers by subscription field",
            deliveries.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database connections open in the pool",
            pool_size.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections in the pool",
            pool_idle.clone(),
        );
        registry.register(
            "push_outbox_pending",
            "Push deliveries waiting to be sent",
            push_outbox.clone(),
        );
        let statements = Counter::default();
        registry.register(
            "db_statements",
            "SQL statements this process has run (requests, workers and this scrape)",
            statements.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            websockets,
            deliveries,
            pool_size,
            pool_idle,
            push_outbox,
            statements,
            statement_source: None,
            operations: Mutex::new(HashSet::new()),
        }
    }

    /// Reports the statements `counter` sees as `db_statements_total`.
    pub fn with_statement_counter(mut self, counter: crate::db::StatementCounter) -> Self {
        self.statement_source = Some(counter);
        self
    }

    /// The label for a client-given operation name.
    pub fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return "anonymous".to_owned();
        };
        let well_formed = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !well_formed {
            return "other".to_owned();
        }
        let Ok(mut known) = self.operations.lock() else {
            return "other".to_owned();
        };
        if known.contains(name) || known.len() < MAX_OPERATIONS {
            known.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".to_owned()
        }
    }

    /// Counts a GraphQL request.
    pub fn observe_request(&self, operation: Option<&str>, outcome: &str, elapsed: Duration) {
        let labels = RequestLabels {
            operation: self.operation_label(operation),
            outcome: outcome.to_owned(),
        };
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts an event sent to a subscriber of `subscription` (a root field
    /// of the schema's subscription type; anything else counts as `other`).
    pub fn count_delivery(&self, subscription: &str) {
        let well_formed = !subscription.is_empty()
            && subscription.len() <= 64
            && subscription.chars().all(|c| c.is_ascii_alphanumeric());
        let subscription = if well_formed { subscription } else { "other" };
        self.deliveries
            .get_or_create(&DeliveryLabels {
                subscription: subscription.to_owned(),
            })
            .inc();
    }

    /// A WebSocket connection opened; it counts until the guard is dropped.
    pub fn websocket_opened(self: &Arc<Self>) -> WebSocketGuard {
        self.websockets.inc();
        WebSocketGuard(self.clone())
    }

    /// The text exposition, with the pool and the outbox read now.
    pub async fn render(&self, db: &DatabaseConnection) -> String {
        let (size, idle) = pool_use(db);
        self.pool_size.set(size);
        self.pool_idle.set(idle);
        if let Ok(pending) = push_delivery::Entity::find()
            .filter(push_delivery::Column::State.eq(PushState::Pending))
            .count(db)
            .await
        {
            self.push_outbox
                .set(i64::try_from(pending).unwrap_or(i64::MAX));
        }
        if let Some(source) = &self.statement_source {
            let (now, reported) = (source.get(), self.statements.get());
            if now > reported {
                self.statements.inc_by(now - reported);
            }
        }
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

/// Counts an open WebSocket connection until dropped.
pub struct WebSocketGuard(Arc<Metrics>);

impl Drop for WebSocketGuard {
    fn drop(&mut self) {
        self.0.websockets.dec();
    }
}

/// (open, idle) connections of the pool.
fn pool_use(db: &DatabaseConnection) -> (i64, i64) {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                i64::from(pool.size()),
                i64::try_from(pool.num_idle()).unwrap_or(0),
            )
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (
                i64::from(pool.size()),
                i64::try_from(pool.num_idle()).unwrap_or(0),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_kept_only_when_well_formed_and_few() {
        let metrics = Metrics::new();
        assert_eq!(metrics.operation_label(None), "anonymous");
        assert_eq!(metrics.operation_label(Some("HomeScreen")), "HomeScreen");
        assert_eq!(metrics.operation_label(Some("a b\"c")), "other");
        assert_eq!(metrics.operation_label(Some(&"x".repeat(65))), "other");
        for n in 0..MAX_OPERATIONS {
            metrics.operation_label(Some(&format!("Op{n}")));
        }
        assert_eq!(metrics.operation_label(Some("OneTooMany")), "other");
        assert_eq!(metrics.operation_label(Some("HomeScreen")), "HomeScreen");
    }

    #[test]
    fn requests_show_in_the_text_exposition() {
        let metrics = Metrics::new();
        metrics.observe_request(Some("HomeScreen"), "ok", Duration::from_millis(3));
        metrics.count_delivery("messageAdded");
        metrics.count_delivery("messageAdded");
        let mut text = String::new();
        encode(&mut text, &metrics.registry).unwrap_or_default();
        assert!(
            text.contains(r#"graphql_requests_total{operation="HomeScreen",outcome="ok"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"graphql_subscription_deliveries_total{subscription="messageAdded"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains("graphql_request_duration_seconds_bucket"),
            "{text}"
        );
    }
}
