use sea_orm::entity::prelude::*;

/// A signed-in device. The refresh token itself is never stored, only its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    /// SHA-256 of the current refresh token.
    pub refresh_token_hash: String,
    /// How many times the refresh token was rotated; part of the token.
    pub refresh_generation: i64,
    /// When the refresh token was last rotated (start of the retry grace window).
    pub rotated_at: Option<DateTimeUtc>,
    /// What the device said it is (User-Agent), shortened; shown in the session list.
    pub device_label: Option<String>,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    /// Why the session ended: `LOGOUT`, `LOGOUT_EVERYWHERE`, `REVOKED`,
    /// `REFRESH_TOKEN_REUSE`, `PASSWORD_CHANGED`, `DEACTIVATED`.
    pub revoked_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user_account::Entity",
        from = "Column::UserId",
        to = "super::user_account::Column::Id"
    )]
    UserAccount,
}

impl Related<super::user_account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::UserAccount.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
