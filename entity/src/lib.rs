//! sea-orm entities: one module per table, no logic.

pub mod audit_chain_head;
pub mod audit_event;
pub mod auth_throttle;
pub mod care_case;
pub mod case_assignment;
pub mod case_focus_child;
pub mod case_therapist;
pub mod caseworker_change_request;
pub mod consent;
pub mod coordinated_plan;
pub mod family;
pub mod family_member;
pub mod follow_up;
pub mod follow_up_rating;
pub mod goal;
pub mod goal_change;
pub mod goal_progress;
pub mod goal_step;
pub mod invitation;
pub mod organisation;
pub mod plan_intervention;
pub mod session;
pub mod team;
pub mod team_membership;
pub mod tenant;
pub mod user_account;
