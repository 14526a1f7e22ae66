use sea_orm::entity::prelude::*;

/// A step under a goal: what, by whom (a family member, a member of staff or an
/// organisation), by when, done or not.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "goal_step")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub goal_id: Uuid,
    pub description: String,
    pub assignee_member_id: Option<Uuid>,
    pub assignee_user_id: Option<Uuid>,
    pub assignee_organisation_id: Option<Uuid>,
    pub due_on: Option<Date>,
    pub done_at: Option<DateTimeUtc>,
    pub done_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
