use sea_orm::entity::prelude::*;

/// What a person is in a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum MemberKind {
    #[sea_orm(string_value = "GUARDIAN")]
    Guardian,
    #[sea_orm(string_value = "CHILD")]
    Child,
    #[sea_orm(string_value = "NETWORK_MEMBER")]
    NetworkMember,
}

/// How a network member is related to the family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum NetworkRelation {
    #[sea_orm(string_value = "RELATIVE")]
    Relative,
    #[sea_orm(string_value = "FRIEND")]
    Friend,
    #[sea_orm(string_value = "FOSTER_FAMILY")]
    FosterFamily,
    #[sea_orm(string_value = "SUPPORT_FAMILY")]
    SupportFamily,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// A person in a family. No national identity number is stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "family_member")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub family_id: Uuid,
    pub tenant_id: Uuid,
    pub kind: MemberKind,
    pub display_name: String,
    /// For children: the age is derived from it.
    pub date_of_birth: Option<Date>,
    pub network_relation: Option<NetworkRelation>,
    /// The person's login, if they have one (guardian, young person, network member).
    pub user_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
