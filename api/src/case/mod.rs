//! Cases: one family in one tenant, who works it, who may see it (consent), and
//! when it must be followed up.

pub mod cadence;
pub mod mutation;
pub mod query;
pub mod service;
pub mod types;

pub use mutation::CaseMutation;
pub use query::CaseQuery;
