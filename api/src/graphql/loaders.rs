//! DataLoaders: batch the lookups that nested fields make, so a list of N objects
//! costs one query per level, not N.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{family_member, organisation, user_account};
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

/// Declares a loader of child rows grouped by a parent id column.
macro_rules! grouped_loader {
    ($loader:ident, $constructor:ident, $entity:path, $column:expr, $key:ident, $order:expr, $doc:literal) => {
        #[doc = $doc]
        pub struct $loader {
            db: DatabaseConnection,
        }

        #[doc = $doc]
        pub fn $constructor(db: DatabaseConnection) -> DataLoader<$loader> {
            DataLoader::new($loader { db }, tokio::spawn)
        }

        impl Loader<Uuid> for $loader {
            type Value = Vec<<$entity as EntityTrait>::Model>;
            type Error = Arc<DbErr>;

            async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
                use sea_orm::QueryOrder;
                let rows = <$entity>::find()
                    .filter($column.is_in(keys.iter().copied()))
                    .order_by_asc($order)
                    .all(&self.db)
                    .await
                    .map_err(Arc::new)?;
                let mut grouped: HashMap<Uuid, Self::Value> = HashMap::new();
                for row in rows {
                    grouped.entry(row.$key).or_default().push(row);
                }
                Ok(grouped)
            }
        }
    };
}

grouped_loader!(
    GoalStepsLoader,
    goal_steps_loader,
    entity::goal_step::Entity,
    entity::goal_step::Column::GoalId,
    goal_id,
    entity::goal_step::Column::CreatedAt,
    "Loads the steps of goals, by goal id, oldest first."
);
grouped_loader!(
    GoalProgressLoader,
    goal_progress_loader,
    entity::goal_progress::Entity,
    entity::goal_progress::Column::GoalId,
    goal_id,
    entity::goal_progress::Column::CreatedAt,
    "Loads the progress entries of goals, by goal id, oldest first."
);
grouped_loader!(
    GoalChangesLoader,
    goal_changes_loader,
    entity::goal_change::Entity,
    entity::goal_change::Column::GoalId,
    goal_id,
    entity::goal_change::Column::ChangedAt,
    "Loads the change history of goals, by goal id, oldest first."
);
/// Loads goals' ratings with the day of the review that gave each, by goal
/// id, oldest review first (one statement, the ratings joined to their
/// reviews).
pub struct GoalRatingsLoader {
    db: DatabaseConnection,
}

/// A loader for goals' rating histories.
pub fn goal_ratings_loader(db: DatabaseConnection) -> DataLoader<GoalRatingsLoader> {
    DataLoader::new(GoalRatingsLoader { db }, tokio::spawn)
}

impl Loader<Uuid> for GoalRatingsLoader {
    /// (the review's day, the rating), oldest first.
    type Value = Vec<(chrono::NaiveDate, i16)>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        use entity::{follow_up, follow_up_rating};
        use sea_orm::{JoinType, QueryOrder, QuerySelect};
        let review = follow_up_rating::Entity::belongs_to(follow_up::Entity)
            .from(follow_up_rating::Column::FollowUpId)
            .to(follow_up::Column::Id)
            .into();
        let rows: Vec<(Uuid, chrono::NaiveDate, i16)> = follow_up_rating::Entity::find()
            .select_only()
            .column(follow_up_rating::Column::GoalId)
            .column(follow_up::Column::HeldOn)
            .column(follow_up_rating::Column::Rating)
            .join(JoinType::InnerJoin, review)
            .filter(follow_up_rating::Column::GoalId.is_in(keys.iter().copied()))
            .order_by_asc(follow_up::Column::HeldOn)
            .order_by_asc(follow_up_rating::Column::FollowUpId)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(Arc::new)?;
        let mut by_goal: HashMap<Uuid, Self::Value> = HashMap::new();
        for (goal_id, held_on, rating) in rows {
            by_goal.entry(goal_id).or_default().push((held_on, rating));
        }
        Ok(by_goal)
    }
}

/// Loads read positions, by (conversation id, user id).
pub struct ReadPositionLoader {
    db: DatabaseConnection,
}

/// A loader for how far users have read conversations.
pub fn read_position_loader(db: DatabaseConnection) -> DataLoader<ReadPositionLoader> {
    DataLoader::new(ReadPositionLoader { db }, tokio::spawn)
}

impl Loader<(Uuid, Uuid)> for ReadPositionLoader {
    type Value = i64;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[(Uuid, Uuid)],
    ) -> Result<HashMap<(Uuid, Uuid), Self::Value>, Self::Error> {
        use entity::conversation_read;
        let rows = conversation_read::Entity::find()
            .filter(conversation_read::Column::ConversationId.is_in(keys.iter().map(|k| k.0)))
            .filter(conversation_read::Column::UserId.is_in(keys.iter().map(|k| k.1)))
            .all(&self.db)
            .await
            .map_err(Arc::new)?;
        Ok(rows
            .into_iter()
            .map(|row| ((row.conversation_id, row.user_id), row.last_read_seq))
            .filter(|(key, _)| keys.contains(key))
            .collect())
    }
}

/// Loads contact settings (quiet hours, away periods), by user id.
pub struct ContactSettingLoader {
    db: DatabaseConnection,
}

/// A loader for users' contact settings.
pub fn contact_setting_loader(db: DatabaseConnection) -> DataLoader<ContactSettingLoader> {
    DataLoader::new(ContactSettingLoader { db }, tokio::spawn)
}

impl Loader<Uuid> for ContactSettingLoader {
    type Value = entity::contact_setting::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = entity::contact_setting::Entity::find()
            .filter(entity::contact_setting::Column::UserId.is_in(keys.iter().copied()))
            .all(&self.db)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.user_id, row)).collect())
    }
}

/// Loads the receipts of sent messages (the author's view), by message.
pub struct ReceiptLoader {
    db: DatabaseConnection,
}

/// A loader for message receipts: a page of messages costs a fixed number
/// of statements.
pub fn receipt_loader(db: DatabaseConnection) -> DataLoader<ReceiptLoader> {
    DataLoader::new(ReceiptLoader { db }, tokio::spawn)
}

impl Loader<crate::messaging::service::MessageKey> for ReceiptLoader {
    type Value = Vec<crate::messaging::service::Receipt>;
    type Error = Arc<crate::error::AppError>;

    async fn load(
        &self,
        keys: &[crate::messaging::service::MessageKey],
    ) -> Result<HashMap<crate::messaging::service::MessageKey, Self::Value>, Self::Error> {
        let mut by_id = crate::messaging::service::receipts_of(&self.db, keys)
            .await
            .map_err(Arc::new)?;
        Ok(keys
            .iter()
            .map(|m| (*m, by_id.remove(&m.id).unwrap_or_default()))
            .collect())
    }
}
