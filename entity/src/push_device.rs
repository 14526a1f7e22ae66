use sea_orm::entity::prelude::*;

/// A phone registered for push notifications.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "push_device")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    /// `IOS`, `ANDROID` or `WEB`.
    pub platform: String,
    /// The push gateway's token for the device.
    pub token: String,
    /// The gateway URL deliveries are POSTed to.
    pub endpoint: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
