use sea_orm::entity::prelude::*;

/// Which responsibility a person had on a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Responsibility {
    #[sea_orm(string_value = "PRIMARY_CASEWORKER")]
    PrimaryCaseworker,
    #[sea_orm(string_value = "PARTNER_CASEWORKER")]
    PartnerCaseworker,
    #[sea_orm(string_value = "FAMILY_THERAPIST")]
    FamilyTherapist,
}

/// One period of responsibility on a case; the history is never rewritten.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_assignment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub responsibility: Responsibility,
    pub user_id: Uuid,
    pub started_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    pub assigned_by: Option<Uuid>,
    /// The written handover given when this period began by a handover.
    pub handover_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
