//! DataLoaders: batch the lookups that nested fields make, so a list of N objects
//! costs one query per level, not N.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{
    case_focus_child, case_therapist, family, family_member, organisation, team, user_account,
};
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

/// Declares a loader that finds rows of `$entity` by primary key.
macro_rules! by_id_loader {
    ($loader:ident, $constructor:ident, $entity:ident, $doc:literal) => {
        #[doc = $doc]
        pub struct $loader {
            db: DatabaseConnection,
        }

        #[doc = $doc]
        pub fn $constructor(db: DatabaseConnection) -> DataLoader<$loader> {
            DataLoader::new($loader { db }, tokio::spawn)
        }

        impl Loader<Uuid> for $loader {
            type Value = $entity::Model;
            type Error = Arc<DbErr>;

            async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
                let rows = $entity::Entity::find()
                    .filter($entity::Column::Id.is_in(keys.iter().copied()))
                    .all(&self.db)
                    .await
                    .map_err(Arc::new)?;
                Ok(rows.into_iter().map(|row| (row.id, row)).collect())
            }
        }
    };
}

by_id_loader!(FamilyLoader, family_loader, family, "Loads families by id.");
by_id_loader!(TeamLoader, team_loader, team, "Loads teams by id.");

/// Loads the members of families, by family id.
pub struct FamilyMembersLoader {
    db: DatabaseConnection,
}

/// Loads the members of families, by family id.
pub fn family_members_loader(db: DatabaseConnection) -> DataLoader<FamilyMembersLoader> {
    DataLoader::new(FamilyMembersLoader { db }, tokio::spawn)
}

impl Loader<Uuid> for FamilyMembersLoader {
    type Value = Vec<family_member::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        use sea_orm::QueryOrder;
        let rows = family_member::Entity::find()
            .filter(family_member::Column::FamilyId.is_in(keys.iter().copied()))
            .order_by_asc(family_member::Column::CreatedAt)
            .all(&self.db)
            .await
            .map_err(Arc::new)?;
        let mut grouped: HashMap<Uuid, Self::Value> = HashMap::new();
        for row in rows {
            grouped.entry(row.family_id).or_default().push(row);
        }
        Ok(grouped)
    }
}

/// Loads the focus children (member ids) of cases, by case id.
pub struct FocusChildrenLoader {
    db: DatabaseConnection,
}

/// Loads the focus children (member ids) of cases, by case id.
pub fn focus_children_loader(db: DatabaseConnection) -> DataLoader<FocusChildrenLoader> {
    DataLoader::new(FocusChildrenLoader { db }, tokio::spawn)
}

impl Loader<Uuid> for FocusChildrenLoader {
    type Value = Vec<Uuid>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = case_focus_child::Entity::find()
            .filter(case_focus_child::Column::CaseId.is_in(keys.iter().copied()))
            .all(&self.db)
            .await
            .map_err(Arc::new)?;
        let mut grouped: HashMap<Uuid, Self::Value> = HashMap::new();
        for row in rows {
            grouped.entry(row.case_id).or_default().push(row.member_id);
        }
        Ok(grouped)
    }
}

/// Loads the family therapists (user ids) of cases, by case id.
pub struct TherapistsLoader {
    db: DatabaseConnection,
}

/// Loads the family therapists (user ids) of cases, by case id.
pub fn therapists_loader(db: DatabaseConnection) -> DataLoader<TherapistsLoader> {
    DataLoader::new(TherapistsLoader { db }, tokio::spawn)
}

impl Loader<Uuid> for TherapistsLoader {
    type Value = Vec<Uuid>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = case_therapist::Entity::find()
            .filter(case_therapist::Column::CaseId.is_in(keys.iter().copied()))
            .all(&self.db)
            .await
            .map_err(Arc::new)?;
        let mut grouped: HashMap<Uuid, Self::Value> = HashMap::new();
        for row in rows {
            grouped.entry(row.case_id).or_default().push(row.user_id);
        }
        Ok(grouped)
    }
}
