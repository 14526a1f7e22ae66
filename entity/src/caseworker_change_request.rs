use sea_orm::entity::prelude::*;

/// Where a request for another caseworker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RequestStatus {
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "GRANTED")]
    Granted,
    #[sea_orm(string_value = "DECLINED")]
    Declined,
}

/// A family member's request for another caseworker, answered by the team lead.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "caseworker_change_request")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub tenant_id: Uuid,
    pub requested_by: Uuid,
    pub reason: String,
    pub status: RequestStatus,
    pub created_at: DateTimeUtc,
    pub answered_by: Option<Uuid>,
    pub answer: Option<String>,
    pub answered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
