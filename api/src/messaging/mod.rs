//! Informal contact: conversations on a case and their messages.

pub mod mutation;
pub mod service;
pub mod types;

pub use mutation::{MessagingMutation, MessagingQuery};
