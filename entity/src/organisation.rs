use sea_orm::entity::prelude::*;

/// The kind of an agency inside a tenant's area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum OrganisationKind {
    #[sea_orm(string_value = "SOCIAL_SERVICES")]
    SocialServices,
    #[sea_orm(string_value = "SCHOOL")]
    School,
    #[sea_orm(string_value = "PRESCHOOL")]
    Preschool,
    #[sea_orm(string_value = "CHILD_PSYCHIATRY")]
    ChildPsychiatry,
    #[sea_orm(string_value = "HABILITATION")]
    Habilitation,
    #[sea_orm(string_value = "CHILD_HEALTH_CENTRE")]
    ChildHealthCentre,
    #[sea_orm(string_value = "PRIMARY_CARE")]
    PrimaryCare,
    #[sea_orm(string_value = "EDUCATIONAL_PSYCHOLOGY")]
    EducationalPsychology,
    #[sea_orm(string_value = "THERAPY")]
    Therapy,
    #[sea_orm(string_value = "DENTAL")]
    Dental,
    #[sea_orm(string_value = "POLICE")]
    Police,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// An agency (social services, school, child psychiatry, …) inside a tenant's area.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organisation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub kind: OrganisationKind,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::tenant::Entity",
        from = "Column::TenantId",
        to = "super::tenant::Column::Id"
    )]
    Tenant,
}

impl Related<super::tenant::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenant.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
