use sea_orm::entity::prelude::*;

/// How the child took part in a meeting or plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum ChildParticipation {
    #[sea_orm(string_value = "PRESENT")]
    Present,
    #[sea_orm(string_value = "VIEWS_BROUGHT_BY_PARENT")]
    ViewsBroughtByParent,
    #[sea_orm(string_value = "VIEWS_BROUGHT_BY_FOSTER_FAMILY")]
    ViewsBroughtByFosterFamily,
    #[sea_orm(string_value = "WRITTEN_VIEWS")]
    WrittenViews,
    #[sea_orm(string_value = "DID_NOT_TAKE_PART")]
    DidNotTakePart,
}

/// Why an organisation was chosen to coordinate a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum CoordinatorReason {
    #[sea_orm(string_value = "FAMILY_TRUST")]
    FamilyTrust,
    #[sea_orm(string_value = "MOST_INTERVENTIONS")]
    MostInterventions,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// A coordinated individual plan (SIP) of a case.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coordinated_plan")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub tenant_id: Uuid,
    pub initiating_organisation_id: Uuid,
    pub initiated_on: Date,
    pub meeting_held_on: Option<Date>,
    pub child_participation: Option<ChildParticipation>,
    pub child_non_participation_reason: Option<String>,
    pub coordinator_organisation_id: Option<Uuid>,
    pub coordinator_reason: Option<CoordinatorReason>,
    pub coordinator_reason_text: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
