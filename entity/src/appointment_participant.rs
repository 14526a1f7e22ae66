use sea_orm::entity::prelude::*;

/// A participant's answer to an invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Response {
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    #[sea_orm(string_value = "TENTATIVE")]
    Tentative,
    #[sea_orm(string_value = "DECLINED")]
    Declined,
}

/// Someone invited to an appointment: a user, or an organisation without a
/// named person yet.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointment_participant")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub appointment_id: Uuid,
    pub user_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub required: bool,
    pub response: Response,
    pub response_reason: Option<String>,
    pub responded_at: Option<DateTimeUtc>,
    /// Declined closer to the start than the notice period.
    pub late_decline: bool,
    /// Another time the participant proposed when declining.
    pub counter_starts_at: Option<DateTimeUtc>,
    pub counter_ends_at: Option<DateTimeUtc>,
    pub attendance: Option<String>,
    /// The appointment's time, copied here (and moved with it) so that a
    /// person's busy time is one index range.
    pub starts_at: Option<DateTimeUtc>,
    pub ends_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::appointment::Entity",
        from = "Column::AppointmentId",
        to = "super::appointment::Column::Id"
    )]
    Appointment,
}

impl Related<super::appointment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Appointment.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
