use sea_orm::entity::prelude::*;

/// Who a conversation is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ConversationKind {
    /// The family members taking part and the staff on the case.
    #[sea_orm(string_value = "FAMILY")]
    Family,
    /// A young person and their caseworkers, private from the guardians.
    #[sea_orm(string_value = "YOUNG_PERSON")]
    YoungPerson,
    /// Staff and professionals with a `MESSAGES` consent.
    #[sea_orm(string_value = "CARE_TEAM")]
    CareTeam,
}

/// A conversation on a case.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub tenant_id: Uuid,
    pub kind: ConversationKind,
    pub title: Option<String>,
    pub last_seq: i64,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
