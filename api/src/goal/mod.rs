//! The shared goal picture: goals, steps, progress and follow-up reviews.

pub mod mutation;
pub mod service;
pub mod types;

pub use mutation::{GoalMutation, GoalQuery};
