//! GraphQL API backend for child and family social services.
//!
//! `Application::build(config)` opens the database, applies migrations and binds
//! the port; `run_until_stopped` serves until SIGTERM or Ctrl-C.

pub mod audit;
pub mod auth;
pub mod case;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod events;
pub mod family;
pub mod gate;
pub mod goal;
pub mod graphql;
pub mod identity;
pub mod limits;
pub mod messaging;
pub mod metrics;
pub mod persisted;
pub mod plan;
pub mod scheduling;
pub mod server;
pub mod startup;
pub mod telemetry;

pub use config::{Config, ServeArgs};
pub use startup::{Application, ShutdownHandle};
