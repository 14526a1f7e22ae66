use sea_orm::entity::prelude::*;

/// The 1–5 attainment rating of one goal at one follow-up review.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "follow_up_rating")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub follow_up_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub goal_id: Uuid,
    pub rating: i16,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
