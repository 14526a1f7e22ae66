use sea_orm::entity::prelude::*;

/// A family's consent that an organisation (or one of its people) may see some
/// categories of a case, for a period. Withdrawn consents are kept.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub tenant_id: Uuid,
    pub organisation_id: Uuid,
    /// Only this professional of the organisation, when set.
    pub user_id: Option<Uuid>,
    /// Comma-separated categories: `GOALS`, `APPOINTMENTS`, `MESSAGES`, `CASE_DETAILS`.
    pub categories: String,
    pub valid_from: DateTimeUtc,
    pub valid_until: Option<DateTimeUtc>,
    pub granted_by: Uuid,
    pub granted_at: DateTimeUtc,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub withdrawn_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
