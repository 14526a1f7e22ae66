//! The audit trail: append-only, hash-chained, holding no case content.

pub mod query;
pub mod service;
pub mod types;

pub use query::AuditQuery;
pub use service::{AuditAction, AuditEntry, append};
