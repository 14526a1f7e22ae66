//! Database migrations. Append-only: a migration that has landed is never edited;
//! a change is a new migration whose name says what it does.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_tenants_organisations_users_sessions;

/// Every migration, in the order it is applied.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(
            m20261122_000001_create_tenants_organisations_users_sessions::Migration,
        )]
    }
}
