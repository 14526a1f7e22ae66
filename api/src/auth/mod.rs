//! Identity machinery: tokens, passwords, the `Viewer` of a request and the policy
//! (who may do what). Every resolver asks `policy` before it reads or writes.

pub mod access_cache;
pub mod case_policy;
pub mod oidc;
pub mod password;
pub mod policy;
pub mod throttle;
pub mod token;
pub mod viewer;

pub use policy::Policy;
pub use token::TokenKeys;
pub use viewer::{Principal, Viewer};
