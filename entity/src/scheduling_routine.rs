use sea_orm::entity::prelude::*;

/// How an organisation books meetings: when, on which days per kind, with how
/// much notice and travel buffer, and how many a child may have in one day.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scheduling_routine")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: Uuid,
    pub tenant_id: Uuid,
    /// Working spans per weekday, `MON 08:00-12:00,MON 13:00-16:30,TUE …`,
    /// in the tenant's time zone; empty: no working-hours rule.
    pub working_hours: String,
    /// Weekdays per meeting kind, `COORDINATION_MEETING=FRI;NETWORK_MEETING=TUE,THU`;
    /// a kind not listed may be held on any working day.
    pub meeting_days: String,
    pub minimum_notice_minutes: i32,
    pub buffer_minutes: i32,
    /// Meetings per child (case) per local day; null: no cap.
    pub daily_cap_per_child: Option<i32>,
    pub updated_by: Uuid,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
