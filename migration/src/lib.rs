//! Database migrations. Append-only: a migration that has landed is never edited;
//! a change is a new migration whose name says what it does.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_tenants_organisations_users_sessions;
mod m20261122_000002_create_auth_throttle_and_invitations;
mod m20261122_000003_create_audit_trail;
mod m20261122_000004_create_families_teams_cases_consents;
mod m20261122_000005_create_goals_steps_progress_follow_ups;
mod m20261122_000006_create_conversations_and_messages;
mod m20261123_000007_create_read_state_events_contact_settings_push;
mod m20261123_000008_create_appointments_and_commitments;
mod m20261123_000009_create_deviations;
mod m20261123_000010_create_routines_closed_days_calendar_feeds;

/// Every migration, in the order it is applied.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_tenants_organisations_users_sessions::Migration),
            Box::new(m20261122_000002_create_auth_throttle_and_invitations::Migration),
            Box::new(m20261122_000003_create_audit_trail::Migration),
            Box::new(m20261122_000004_create_families_teams_cases_consents::Migration),
            Box::new(m20261122_000005_create_goals_steps_progress_follow_ups::Migration),
            Box::new(m20261122_000006_create_conversations_and_messages::Migration),
            Box::new(m20261123_000007_create_read_state_events_contact_settings_push::Migration),
            Box::new(m20261123_000008_create_appointments_and_commitments::Migration),
            Box::new(m20261123_000009_create_deviations::Migration),
            Box::new(m20261123_000010_create_routines_closed_days_calendar_feeds::Migration),
        ]
    }
}
