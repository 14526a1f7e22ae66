//! Coordinated individual plans (SIP): initiation, the 21-day meeting deadline,
//! the chosen coordinator, interventions and the child's participation.

pub mod mutation;
pub mod service;
pub mod types;

pub use mutation::PlanMutation;
