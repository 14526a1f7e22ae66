use sea_orm::entity::prelude::*;

/// One entry of the append-only, hash-chained audit trail. Holds no case content.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The chain: the tenant's id, or the nil id for events without a tenant
    /// (a failed sign-in for an unknown account).
    pub chain_id: Uuid,
    /// Position in the chain, from 1.
    pub seq: i64,
    pub tenant_id: Option<Uuid>,
    pub occurred_at: DateTimeUtc,
    pub actor_user_id: Option<Uuid>,
    /// What happened, e.g. `LOGIN_SUCCEEDED`, `CASE_READ`.
    pub action: String,
    /// Type of the object acted on, e.g. `User`, `Session`, `Case`.
    pub subject_type: Option<String>,
    pub subject_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub request_id: Option<String>,
    /// A short machine-readable detail (a reason code); never personal data.
    pub detail: Option<String>,
    /// `hash` of the previous entry of the chain (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 over `prev_hash` and this entry's fields.
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
