//! The integration suite: one binary (fast to link), one module per capability.
//! Every test starts a real server and talks HTTP or WebSocket to it.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod audit;
mod authorization_matrix;
mod calendars;
mod cases;
mod crash;
mod deployment;
mod foundation;
mod gate;
mod goals;
mod identity;
mod invitations;
mod lifecycle;
mod messaging;
mod notifications;
mod oidc;
mod performance;
mod plans;
mod routines;
mod scheduling;
mod schema;
mod sessions;
mod text_input;
mod tokens;
mod tracing_export;
mod websocket;
