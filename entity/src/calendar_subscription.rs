use sea_orm::entity::prelude::*;

/// A secret address at which a user's phone calendar app reads their
/// appointments. Only the token's hash is stored; revoking it ends access.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_subscription")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    /// Hex SHA-256 of the secret token in the address.
    pub token_hash: String,
    /// Show the appointments' titles and places (default: discreet "Appointment").
    pub full_titles: bool,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
