//! DataLoaders: batch the lookups that nested fields make, so a list of N objects
//! costs one query per level, not N.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{organisation, user_account};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Loads organisations by id.
pub struct OrganisationLoader {
    db: DatabaseConnection,
}

/// A loader for organisations, batching lookups made in one tick.
pub fn organisation_loader(db: DatabaseConnection) -> DataLoader<OrganisationLoader> {
    DataLoader::new(OrganisationLoader { db }, tokio::spawn)
}

impl Loader<Uuid> for OrganisationLoader {
    type Value = organisation::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = organisation::Entity::find()
            .filter(organisation::Column::Id.is_in(keys.iter().copied()))
            .all(&self.db)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// Loads users by id.
pub struct UserLoader {
    db: DatabaseConnection,
}

/// A loader for users, batching lookups made in one tick.
pub fn user_loader(db: DatabaseConnection) -> DataLoader<UserLoader> {
    DataLoader::new(UserLoader { db }, tokio::spawn)
}

impl Loader<Uuid> for UserLoader {
    type Value = user_account::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = user_account::Entity::find()
            .filter(user_account::Column::Id.is_in(keys.iter().copied()))
            .all(&self.db)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}
