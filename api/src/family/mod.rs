//! Families: households with guardians, children and their network. Families
//! are reached through their cases, so their GraphQL types live with the case
//! types (`case::types::{Family, FamilyMember}`); this folder holds the rules
//! for family members.

pub mod service;
