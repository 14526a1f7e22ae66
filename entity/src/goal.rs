use sea_orm::entity::prelude::*;

/// Short- or long-term.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Horizon {
    #[sea_orm(string_value = "SHORT_TERM")]
    ShortTerm,
    #[sea_orm(string_value = "LONG_TERM")]
    LongTerm,
}

/// Who owns a goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum GoalOwner {
    #[sea_orm(string_value = "FAMILY")]
    Family,
    #[sea_orm(string_value = "CASEWORKER")]
    Caseworker,
    #[sea_orm(string_value = "AGENCY")]
    Agency,
    #[sea_orm(string_value = "SHARED")]
    Shared,
}

/// Where a goal stands in its life cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum GoalStatus {
    #[sea_orm(string_value = "PROPOSED")]
    Proposed,
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "ON_HOLD")]
    OnHold,
    #[sea_orm(string_value = "ACHIEVED")]
    Achieved,
    #[sea_orm(string_value = "NOT_ACHIEVED")]
    NotAchieved,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// Who may see a goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum GoalVisibility {
    /// The whole family and the staff on the case.
    #[sea_orm(string_value = "FAMILY")]
    Family,
    /// The young person and the staff, not the guardians.
    #[sea_orm(string_value = "YOUNG_PERSON")]
    YoungPerson,
    /// Also professionals with a `GOALS` consent.
    #[sea_orm(string_value = "CARE_TEAM")]
    CareTeam,
}

/// A goal of a case, in the family's words.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "goal")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub tenant_id: Uuid,
    pub title: String,
    pub description: String,
    pub horizon: Horizon,
    /// The child the goal concerns.
    pub child_member_id: Option<Uuid>,
    pub owner: GoalOwner,
    pub owner_organisation_id: Option<Uuid>,
    pub target_date: Option<Date>,
    pub status: GoalStatus,
    pub visibility: GoalVisibility,
    pub proposed_by: Uuid,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
