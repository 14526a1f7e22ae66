use sea_orm::entity::prelude::*;

/// What kind of meeting an appointment is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum AppointmentKind {
    #[sea_orm(string_value = "START_CONVERSATION")]
    StartConversation,
    #[sea_orm(string_value = "FOLLOW_UP")]
    FollowUp,
    #[sea_orm(string_value = "NETWORK_MEETING")]
    NetworkMeeting,
    #[sea_orm(string_value = "COORDINATION_MEETING")]
    CoordinationMeeting,
    #[sea_orm(string_value = "HOME_VISIT")]
    HomeVisit,
    #[sea_orm(string_value = "CHILD_CONVERSATION")]
    ChildConversation,
    #[sea_orm(string_value = "TREATMENT")]
    Treatment,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// Where an appointment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum AppointmentStatus {
    #[sea_orm(string_value = "PROPOSED")]
    Proposed,
    #[sea_orm(string_value = "BOOKED")]
    Booked,
    #[sea_orm(string_value = "FULFILLED")]
    Fulfilled,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// Where it takes place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum LocationKind {
    #[sea_orm(string_value = "ADDRESS")]
    Address,
    #[sea_orm(string_value = "VIDEO")]
    Video,
    #[sea_orm(string_value = "FAMILY_HOME")]
    FamilyHome,
}

/// A meeting on a case.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub case_id: Uuid,
    pub kind: AppointmentKind,
    pub title: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub location_kind: LocationKind,
    /// The address or the video link; null for the family's home.
    pub location: Option<String>,
    pub organiser_id: Uuid,
    pub status: AppointmentStatus,
    pub cancel_reason: Option<String>,
    /// Why it was booked despite clashes (a deviation).
    pub override_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When the reminder before it went out (null: not yet, or moved since).
    pub reminded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
