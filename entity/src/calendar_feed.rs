use sea_orm::entity::prelude::*;

/// An external iCalendar feed whose events count as busy time for a person
/// or for everyone in an organisation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_feed")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Whose busy time it is (exactly one of user and organisation is set).
    pub user_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub name: String,
    pub url: String,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    /// When the fetcher next fetches it.
    pub next_fetch_at: DateTimeUtc,
    pub last_attempt_at: Option<DateTimeUtc>,
    /// When the busy time now held was fetched (the last good copy).
    pub last_success_at: Option<DateTimeUtc>,
    /// Why the last attempt failed, readable; null after a success.
    pub last_error: Option<String>,
    /// Busy periods held from the last good copy.
    pub busy_count: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
