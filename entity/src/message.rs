use sea_orm::entity::prelude::*;

/// A message in a conversation. Never deleted: withdrawn ones are kept.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "message")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub conversation_id: Uuid,
    /// Position in the conversation, assigned in the inserting transaction.
    pub seq: i64,
    pub author_id: Uuid,
    /// The id the phone generated; a retry with it returns this message.
    pub client_message_id: String,
    pub body: String,
    pub reply_to_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub edited_at: Option<DateTimeUtc>,
    pub withdrawn_at: Option<DateTimeUtc>,
    /// Sent as urgent help by a guardian or young person.
    pub urgent: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
