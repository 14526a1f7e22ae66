use sea_orm::entity::prelude::*;

/// Busy time a person entered: school, work, an appointment at another agency.
/// Only its owner reads the title and category; everyone else sees busy.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "commitment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub owner_id: Uuid,
    pub title: String,
    pub category: Option<String>,
    /// The (first) occurrence.
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// Comma-separated weekdays (`MON,TUE,…`) of a weekly series; null: one-off.
    pub weekdays: Option<String>,
    /// The last date of a weekly series (inclusive).
    pub repeat_until: Option<Date>,
    /// Comma-separated dates (`YYYY-MM-DD`) the series skips.
    pub except_dates: Option<String>,
    /// The zone whose wall-clock time the series keeps.
    pub time_zone: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
