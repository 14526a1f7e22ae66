use sea_orm::entity::prelude::*;

/// What a user is in the system; what they may see of a case also depends on
/// their relation to that case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Role {
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    #[sea_orm(string_value = "TEAM_LEAD")]
    TeamLead,
    #[sea_orm(string_value = "CASEWORKER")]
    Caseworker,
    #[sea_orm(string_value = "FAMILY_THERAPIST")]
    FamilyTherapist,
    #[sea_orm(string_value = "AGENCY_PROFESSIONAL")]
    AgencyProfessional,
    #[sea_orm(string_value = "GUARDIAN")]
    Guardian,
    #[sea_orm(string_value = "YOUNG_PERSON")]
    YoungPerson,
    #[sea_orm(string_value = "NETWORK_MEMBER")]
    NetworkMember,
}

/// A person who can sign in. Table name avoids the reserved word `user`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_account")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub organisation_id: Option<Uuid>,
    /// Normalised to lower case; unique across the installation.
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// argon2id PHC string; `None` until an invitation is accepted.
    pub password_hash: Option<String>,
    /// OIDC issuer of a linked external identity (national e-ID broker).
    pub external_issuer: Option<String>,
    /// OIDC subject at `external_issuer`.
    pub external_subject: Option<String>,
    pub created_at: DateTimeUtc,
    pub disabled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::tenant::Entity",
        from = "Column::TenantId",
        to = "super::tenant::Column::Id"
    )]
    Tenant,
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OrganisationId",
        to = "super::organisation::Column::Id"
    )]
    Organisation,
}

impl Related<super::tenant::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenant.def()
    }
}

impl Related<super::organisation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organisation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
