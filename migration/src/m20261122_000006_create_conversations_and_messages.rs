use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Conversation::Table)
                    .col(pk_uuid(Conversation::Id))
                    .col(uuid(Conversation::CaseId))
                    .col(uuid(Conversation::TenantId))
                    .col(string_len(Conversation::Kind, 16))
                    .col(string_null(Conversation::Title))
                    // The last message's sequence number: each message takes the
                    // next one in its inserting transaction.
                    .col(big_integer(Conversation::LastSeq))
                    .col(uuid(Conversation::CreatedBy))
                    .col(timestamp_with_time_zone(Conversation::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Conversation::Table, Conversation::CaseId)
                            .to(Case::Table, Case::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_conversation_case")
                    .table(Conversation::Table)
                    .col(Conversation::CaseId)
                    .to_owned(),
            )
            .await?;
        // The family members (logins) a conversation includes.
        manager
            .create_table(
                Table::create()
                    .table(Participant::Table)
                    .col(uuid(Participant::ConversationId))
                    .col(uuid(Participant::UserId))
                    .primary_key(
                        Index::create()
                            .col(Participant::ConversationId)
                            .col(Participant::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Participant::Table, Participant::ConversationId)
                            .to(Conversation::Table, Conversation::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_conversation_participant_user")
                    .table(Participant::Table)
                    .col(Participant::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Message::Table)
                    .col(pk_uuid(Message::Id))
                    .col(uuid(Message::ConversationId))
                    .col(big_integer(Message::Seq))
                    .col(uuid(Message::AuthorId))
                    .col(string_len(Message::ClientMessageId, 100))
                    .col(text(Message::Body))
                    .col(uuid_null(Message::ReplyToId))
                    .col(timestamp_with_time_zone(Message::CreatedAt))
                    .col(timestamp_with_time_zone_null(Message::EditedAt))
                    .col(timestamp_with_time_zone_null(Message::WithdrawnAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Message::Table, Message::ConversationId)
                            .to(Conversation::Table, Conversation::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // Order and cursors within a conversation.
        manager
            .create_index(
                Index::create()
                    .name("idx_message_conversation_seq")
                    .table(Message::Table)
                    .col(Message::ConversationId)
                    .col(Message::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // A retried send (same client message id) never makes a second row.
        manager
            .create_index(
                Index::create()
                    .name("idx_message_author_client_id")
                    .table(Message::Table)
                    .col(Message::AuthorId)
                    .col(Message::ClientMessageId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Earlier versions of edited messages.
        manager
            .create_table(
                Table::create()
                    .table(MessageVersion::Table)
                    .col(pk_uuid(MessageVersion::Id))
                    .col(uuid(MessageVersion::MessageId))
                    .col(text(MessageVersion::Body))
                    .col(timestamp_with_time_zone(MessageVersion::ReplacedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MessageVersion::Table, MessageVersion::MessageId)
                            .to(Message::Table, Message::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_message_version_message")
                    .table(MessageVersion::Table)
                    .col(MessageVersion::MessageId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MessageVersion::Table.into_iden(),
            Message::Table.into_iden(),
            Participant::Table.into_iden(),
            Conversation::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Case {
    #[sea_orm(iden = "care_case")]
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Conversation {
    Table,
    Id,
    CaseId,
    TenantId,
    Kind,
    Title,
    LastSeq,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Participant {
    #[sea_orm(iden = "conversation_participant")]
    Table,
    ConversationId,
    UserId,
}

#[derive(DeriveIden)]
enum Message {
    Table,
    Id,
    ConversationId,
    Seq,
    AuthorId,
    ClientMessageId,
    Body,
    ReplyToId,
    CreatedAt,
    EditedAt,
    WithdrawnAt,
}

#[derive(DeriveIden)]
enum MessageVersion {
    Table,
    Id,
    MessageId,
    Body,
    ReplacedAt,
}
