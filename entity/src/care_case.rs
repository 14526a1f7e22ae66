use sea_orm::entity::prelude::*;

/// What kind of case it is; fixes the follow-up cadence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum CaseType {
    /// Compensation and support only: follow-up every 3 months.
    #[sea_orm(string_value = "SUPPORT")]
    Support,
    /// A child-professional investigation with measures: follow-up every 6 weeks.
    #[sea_orm(string_value = "INVESTIGATION")]
    Investigation,
}

/// Where a case stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum CaseStatus {
    #[sea_orm(string_value = "OPEN")]
    Open,
    #[sea_orm(string_value = "CLOSED")]
    Closed,
    #[sea_orm(string_value = "TRANSFERRED_TO_ADULT_SERVICES")]
    TransferredToAdultServices,
}

/// A case: one family in one tenant. (`case` is a reserved word in SQL.)
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_case")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub family_id: Uuid,
    pub team_id: Uuid,
    pub case_type: CaseType,
    pub status: CaseStatus,
    pub opened_on: Date,
    pub start_conversation_on: Option<Date>,
    pub last_follow_up_at: Option<DateTimeUtc>,
    /// Derived: the cadence start plus the cadence, in the tenant's time zone.
    pub next_follow_up_due: Date,
    pub primary_caseworker_id: Uuid,
    pub partner_caseworker_id: Option<Uuid>,
    /// Whether the young person may give consents themselves.
    pub young_person_may_consent: bool,
    pub closed_at: Option<DateTimeUtc>,
    /// Why it was closed, or the handover note to adult services.
    pub closing_note: Option<String>,
    /// Optimistic-concurrency version, incremented on every change.
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
