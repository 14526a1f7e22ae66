//! Appointments that never clash: busy time from appointments and personal
//! commitments, clash checks, bookings that cannot race, answers.

pub mod deadlines;
pub mod feeds;
pub mod feeds_api;
pub mod ics;
pub mod mutation;
pub mod phone_calendar;
pub mod reminders;
pub mod routine;
pub mod rules_api;
pub mod service;
pub mod timeline;
pub mod types;

pub use feeds_api::{FeedsMutation, FeedsQuery};
pub use mutation::{SchedulingMutation, SchedulingQuery};
pub use phone_calendar::{PhoneCalendarMutation, PhoneCalendarQuery};
pub use rules_api::{RulesMutation, RulesQuery};
