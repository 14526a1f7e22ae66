use sea_orm::entity::prelude::*;

/// A user's contact settings; no row means the defaults.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_setting")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// IANA time zone of the quiet hours; null: the tenant's.
    pub time_zone: Option<String>,
    /// Quiet hours start, minutes after local midnight.
    pub quiet_start_minute: Option<i32>,
    /// Quiet hours end, minutes after local midnight.
    pub quiet_end_minute: Option<i32>,
    pub send_read_receipts: bool,
    pub away_from: Option<DateTimeUtc>,
    pub away_until: Option<DateTimeUtc>,
    pub away_note: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
