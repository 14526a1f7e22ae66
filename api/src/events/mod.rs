//! Each user's event stream (`viewerEvents`), the notifications feed built
//! from it, contact settings (quiet hours, read receipts, away periods), push
//! notifications through an outbox, and the live fan-out hub (with PostgreSQL
//! `LISTEN/NOTIFY` across server processes).

pub mod hub;
pub mod listener;
pub mod mutation;
pub mod push;
pub mod quiet;
pub mod service;
pub mod subscription;
pub mod types;

pub use mutation::{EventsMutation, EventsQuery};
pub use subscription::EventsSubscription;
