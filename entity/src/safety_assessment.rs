use sea_orm::entity::prelude::*;

/// Whose view an assessment is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Perspective {
    #[sea_orm(string_value = "FAMILY")]
    Family,
    #[sea_orm(string_value = "YOUNG_PERSON")]
    YoungPerson,
    #[sea_orm(string_value = "CASEWORKER")]
    Caseworker,
    #[sea_orm(string_value = "NETWORK")]
    Network,
    #[sea_orm(string_value = "AGENCY")]
    Agency,
}

/// A Signs of Safety assessment: what we are worried about, what is working
/// well, what needs to happen (one item per line), and the 0–10 scale.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "safety_assessment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub tenant_id: Uuid,
    pub assessed_on: Date,
    pub perspective: Perspective,
    pub worries: String,
    pub working_well: String,
    pub needs_to_happen: String,
    pub scale: i16,
    pub recorded_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
