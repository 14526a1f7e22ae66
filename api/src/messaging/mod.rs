//! Informal contact: conversations on a case and their messages.

pub mod mutation;
pub mod recipients;
pub mod service;
pub mod subscription;
pub mod types;

pub use mutation::{MessagingMutation, MessagingQuery};
pub use subscription::MessagingSubscription;
