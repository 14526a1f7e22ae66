use sea_orm::entity::prelude::*;

/// One change of a goal: which field, from what, to what, by whom, why.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "goal_change")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub goal_id: Uuid,
    pub changed_by: Uuid,
    pub changed_at: DateTimeUtc,
    /// `CREATED`, `TITLE`, `DESCRIPTION`, `STATUS`, `OWNER`, `TARGET_DATE`, `VISIBILITY`, `HORIZON`.
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
