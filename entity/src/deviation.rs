use sea_orm::entity::prelude::*;

/// What went wrong in the cooperation around an appointment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum DeviationKind {
    /// Did not come and did not say so.
    #[sea_orm(string_value = "NO_SHOW")]
    NoShow,
    /// Declined closer to the start than the notice period.
    #[sea_orm(string_value = "LATE_DECLINE")]
    LateDecline,
    /// Booked or moved despite clashes, with a reason.
    #[sea_orm(string_value = "CLASH_OVERRIDE")]
    ClashOverride,
}

/// A deviation the cooperation leadership follows up.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deviation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub case_id: Uuid,
    pub appointment_id: Uuid,
    pub kind: DeviationKind,
    /// Whose deviation it is (the participant; the organiser for an override).
    pub user_id: Option<Uuid>,
    /// Their organisation, for statistics by agency.
    pub organisation_id: Option<Uuid>,
    pub reason: Option<String>,
    pub recorded_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
