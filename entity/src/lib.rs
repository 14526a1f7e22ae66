//! sea-orm entities: one module per table, no logic.

pub mod organisation;
pub mod session;
pub mod tenant;
pub mod user_account;
