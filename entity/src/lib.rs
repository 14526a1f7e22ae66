//! sea-orm entities: one module per table, no logic.

pub mod audit_chain_head;
pub mod audit_event;
pub mod auth_throttle;
pub mod invitation;
pub mod organisation;
pub mod session;
pub mod tenant;
pub mod user_account;
