use sea_orm::entity::prelude::*;

/// Who coordinates with an organisation on the family's behalf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CoordinatedBy {
    #[sea_orm(string_value = "FAMILY")]
    Family,
    #[sea_orm(string_value = "CASEWORKER")]
    Caseworker,
}

/// An intervention of a coordinated plan: what, by which organisation, from when.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_intervention")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub plan_id: Uuid,
    pub description: String,
    pub responsible_organisation_id: Uuid,
    pub starts_on: Date,
    pub coordinated_by: CoordinatedBy,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
