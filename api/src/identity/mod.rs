//! Identity: tenants, organisations, users, sign-in and sessions.

pub mod mutation;
pub mod query;
pub mod service;
pub mod types;

pub use mutation::IdentityMutation;
pub use query::IdentityQuery;
