//! Appointments that never clash: busy time from appointments and personal
//! commitments, clash checks, bookings that cannot race, answers.

pub mod mutation;
pub mod routine;
pub mod rules_api;
pub mod service;
pub mod timeline;
pub mod types;

pub use mutation::{SchedulingMutation, SchedulingQuery};
pub use rules_api::{RulesMutation, RulesQuery};
